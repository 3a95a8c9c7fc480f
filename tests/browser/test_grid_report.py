"""The grid on a phone (issue 11): a grid worker reports a dispute with a photo and a threat
at 360 px, the township centre sees it first on its list and sends it to the village's
mediation committee; a report typed without signal is kept on the phone and sent when the
connection returns, and never under another account than the one it was typed under."""

import contextlib
import re
import time

import pytest

from accounts.choices import Role
from accounts.models import OrgUnit, User
from accounts.services import role_grant
from cases.deadlines.rules import rules_seed
from cases.models import DeadlineRule
from cases.tests.factories import valid_resident_id
from mediation.demo import demo_committees_seed
from mediation.models import GridReport, MediationCase, ReportStatus
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.browser.helpers import axe_violations, sign_in, small_png, within

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
THREAT = "再不解决就去县里闹"


@pytest.fixture
def county_ready(demo_users):
    rules_seed(DeadlineRule)  # transactional tests truncate the clock rules too
    demo_committees_seed()
    return demo_users


@pytest.fixture(scope="module")
def phone_browser(browser):
    """A Chromium of these tests' own: what a service worker leaves behind (one stopped
    mid-fetch, say) stays in it, and the other browser tests never meet it."""
    own = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield own
    own.close()


@pytest.fixture
def phone(phone_browser, live_server):
    """A phone-sized window, recording what the Content Security Policy refuses."""
    context = phone_browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True,
                                        has_touch=True, base_url=live_server.url)
    mobile = context.new_page()
    mobile.set_default_timeout(15_000)
    mobile.refused = []
    mobile.on("console", lambda message: mobile.refused.append(message.text)
              if "Content Security Policy" in message.text else None)
    yield mobile
    # The service worker goes before the context does, so that none is left mid-fetch
    # while the context closes.
    context.set_offline(False)
    with contextlib.suppress(Exception):
        within(mobile, "() => navigator.serviceWorker.getRegistrations().then(all =>"
                       " Promise.all(all.map(registration => registration.unregister())))",
               seconds=10)
    context.close()


@pytest.fixture
def png(tmp_path):
    path = tmp_path / "现场照片.png"
    path.write_bytes(small_png())
    return path


def _shot(mobile, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    mobile.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _fits(mobile) -> bool:
    return mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


# Waits in the page (with a limit: within()), as the Content Security Policy forbids
# wait_for_function's eval.
_LOADED_WIDTH = """selector => new Promise(resolve => {
  const image = document.querySelector(selector);
  if (image.complete) { resolve(image.naturalWidth); return; }
  image.addEventListener("load", () => resolve(image.naturalWidth));
  image.addEventListener("error", () => resolve(0));
})"""
# The phone keeps the form once its service worker is active (it kept the empty form while
# installing). Whether it controls this very page does not matter, and need not happen: a
# page whose navigation began while the worker installed may stay uncontrolled (claim() can
# miss it), yet its reload, a navigation, is answered by the active worker all the same.
# Waiting for control instead hung CI once, and failed two runs in ten here under load.
_KEPT = """url => navigator.serviceWorker.ready.then(() => caches.match(url)).then(copy => !!copy)"""
OFFLINE_FORM = "/mediation/reports/new/?offline=1"


def _kept_by_the_phone(mobile) -> None:
    """Wait until the phone keeps the empty form (its service worker active) and has asked
    who is signed in (and remembered the account): going offline before that leaves a
    phone that knows nobody, which a fresh browser showed."""
    assert within(mobile, _KEPT, OFFLINE_FORM)
    mobile.wait_for_selector("[data-grid-pending][data-grid-checked]", state="attached")


def _fill_report(mobile, png) -> None:
    """A land dispute between a villager and the village committee, with a threat."""
    mobile.select_option("#id_kind", "land")
    mobile.fill("#id_place", "柳树湾承包地东头")
    mobile.fill("#id_summary", "李四与村委会为承包地界桩争执，李四情绪激动")
    mobile.fill("#id_parties-0-name", "李四")
    mobile.fill("#id_parties-0-id_number", valid_resident_id(7))
    mobile.fill("#id_parties-0-phone", "13900000007")
    mobile.fill("#id_parties-1-organisation", "柳树村委会")
    # the words of the threat show once the threat is ticked
    assert not mobile.locator("#id_threat_words").is_visible()
    mobile.locator("label[for=id_threat]").tap()
    mobile.fill("#id_threat_words", THREAT)
    mobile.set_input_files("#id_photos", str(png))
    mobile.wait_for_selector("[data-grid-photo-list] li")
    mobile.locator("label[for=id_outcome_1]").tap()  # pass to the township centre


def test_a_grid_worker_reports_from_a_phone_and_the_centre_triages_it(
        county_ready, phone, page, shot, png):
    # given the grid worker on the report form of their phone: Chinese, one column
    sign_in(phone, "grid")
    phone.goto("/mediation/reports/new/")
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    assert _fits(phone)
    assert axe_violations(phone) == []
    _shot(phone, "60-grid-report-form")
    # when they report a dispute with a photo and a threat, passed to the centre
    _fill_report(phone, png)
    assert _fits(phone)
    _shot(phone, "61-grid-report-filled")
    phone.locator("[data-grid-submit]").tap()
    phone.wait_for_url(re.compile(r".*/mediation/reports/\d+/$"))
    # then the report's page says it is sent, with its photo, threat and running clocks
    report = GridReport.objects.get()
    assert report.status == ReportStatus.REPORTED and report.threat_words == THREAT
    assert report.number in phone.locator("h1").inner_text()
    assert phone.locator(".alert-success").count() == 1
    phone.locator(".pd-grid-thumbs img").scroll_into_view_if_needed()  # loaded lazily
    assert within(phone, _LOADED_WIDTH, ".pd-grid-thumbs img") == 2
    assert phone.locator(".pd-due").count() == 2
    assert _fits(phone)
    assert axe_violations(phone) == []
    _shot(phone, "62-grid-report-sent")
    assert phone.refused == []

    # when the township centre's mediator opens the list at the desk
    sign_in(page, "mediator")
    page.goto("/mediation/reports/")
    # then the report is there first, awaiting triage, flagged risky, its clock running
    first = page.locator(".pd-grid-row").first
    assert first.get_attribute("data-report") == report.number
    assert first.locator(".pd-grid-risks .text-bg-danger").count() == 1
    assert first.locator(".pd-due").count() == 1
    assert axe_violations(page) == []
    shot("63-grid-centre-list")
    # when they open it and send it to the village's mediation committee
    first.locator(f"a:text('{report.number}')").click()
    page.check("#id_to_0")
    page.fill("#id_note", "邻里界桩之争，村调委会先调")
    shot("64-grid-centre-triage")
    page.click(".pd-grid-triage button[type=submit]")
    page.wait_for_selector(".alert-success")
    # then the report is with the village committee, as a mediation case
    report.refresh_from_db()
    assert report.status == ReportStatus.TO_VILLAGE
    mediation = MediationCase.objects.get(report=report)
    assert mediation.committee.unit.code == "341122100001"
    assert page.locator("[data-report-status]").get_attribute("data-report-status") == "to_village"
    assert axe_violations(page) == []
    shot("65-grid-centre-triaged")


def test_a_report_typed_without_signal_is_kept_and_sent_when_signal_returns(
        county_ready, phone, png):
    # given the grid worker has opened the form once, so the phone keeps it
    sign_in(phone, "grid")
    phone.goto("/mediation/reports/new/")
    _kept_by_the_phone(phone)
    # when the signal goes, the form still opens, and they type and send a report
    phone.context.set_offline(True)
    assert within(phone, "() => fetch('/mediation/reports/').then(() => 'reached',"
                         " () => 'no signal')") == "no signal"
    response = phone.reload()
    assert response.from_service_worker  # the copy the phone kept
    assert phone.locator("[data-grid-form][data-offline]").count() == 1
    # which names nobody itself: the account it reports for is the phone's memory of it
    kept = within(phone, "url => caches.match(url).then(copy => copy ? copy.text() : '')",
                  OFFLINE_FORM)
    assert "data-grid-form" in kept and "吴网格" not in kept
    phone.wait_for_selector("[data-grid-who]:not([hidden])")
    assert "吴网格" in phone.locator("[data-grid-who]").inner_text()
    _fill_report(phone, png)
    phone.locator("[data-grid-submit]").tap()
    # then the page says it is kept on the phone and lists it; the server has nothing yet
    phone.wait_for_selector("[data-grid-kept]")
    status = phone.locator("[data-grid-status]")
    assert status.is_visible() and "alert-warning" in status.get_attribute("class")
    assert phone.locator("#id_place").input_value() == ""  # the form is ready for the next
    assert not GridReport.objects.exists()
    assert _fits(phone)
    _shot(phone, "66-grid-offline-kept")
    # when the signal returns
    phone.context.set_offline(False)
    # then the report is sent, with its photo, and leaves the phone only then
    phone.wait_for_selector("[data-grid-sent]", timeout=30_000)
    assert phone.locator("[data-grid-kept]").count() == 0
    report = GridReport.objects.get()
    assert report.threat_words == THREAT and report.photos.count() == 1
    assert phone.locator("[data-grid-sent]").get_attribute("data-grid-sent") == report.number
    _shot(phone, "67-grid-offline-sent")
    assert phone.refused == []


def test_a_problem_is_shown_at_its_field_and_the_photo_stays_chosen(county_ready, phone, png):
    # given the grid worker has filled the report with a photo, a threat ticked, no words
    sign_in(phone, "grid")
    phone.goto("/mediation/reports/new/")
    _fill_report(phone, png)
    phone.fill("#id_threat_words", "")
    # when they send it
    phone.locator("[data-grid-submit]").tap()
    # then the problem is named on top and at the field, without leaving the page
    phone.wait_for_selector("#id_threat_words-error")
    assert phone.locator(".pd-error-summary a[href='#id_threat_words']").count() == 1
    assert phone.locator("#id_threat_words").get_attribute("aria-invalid") == "true"
    # and everything typed is still there, the photo too
    assert phone.locator("#id_parties-0-name").input_value() == "李四"
    assert phone.evaluate("document.querySelector('#id_photos').files.length") == 1
    assert not GridReport.objects.exists()
    assert _fits(phone)
    _shot(phone, "68-grid-report-problem")
    # when they add the words and send it again, it goes, with its photo
    phone.fill("#id_threat_words", THREAT)
    phone.locator("[data-grid-submit]").tap()
    phone.wait_for_url(re.compile(r".*/mediation/reports/\d+/$"))
    assert GridReport.objects.get().photos.count() == 1
    assert phone.refused == []


def _signed_in_worker(username: str, name: str, unit_code: str) -> User:
    user = User.objects.create_user(username=username, name=name)
    user.set_password("demo")
    user.save(update_fields=["password"])
    role_grant(user=user, role=Role.GRID_WORKER, unit=OrgUnit.objects.get(code=unit_code))
    return user


def test_a_report_kept_for_one_account_is_never_sent_under_another(county_ready, phone, png):
    # given a second grid worker who may also report from the first grid (held at its village)
    _signed_in_worker("grid3", "钱网格", "341122100001")
    # and the first grid worker, who opened the form once, then kept a report without signal
    sign_in(phone, "grid")
    phone.goto("/mediation/reports/new/")
    _kept_by_the_phone(phone)
    phone.context.set_offline(True)
    phone.reload()
    _fill_report(phone, png)
    phone.locator("[data-grid-submit]").tap()
    phone.wait_for_selector("[data-grid-kept]")
    # when the first is signed out, and the second signs in on the same phone
    phone.context.clear_cookies()
    phone.context.set_offline(False)
    sign_in(phone, "grid3")
    # then their list shows the report as another account's, and sends nothing
    phone.wait_for_selector("[data-grid-pending][data-grid-checked] "
                            "[data-grid-kept][data-grid-owner=other]")
    assert not GridReport.objects.exists()
    # when the signal goes and they open the form the phone keeps
    phone.context.set_offline(True)
    response = phone.goto("/mediation/reports/new/")
    # then it holds nothing of the first grid worker's, and reports for the second
    assert response.from_service_worker
    assert "吴网格" not in phone.content()
    phone.wait_for_selector("[data-grid-who]:not([hidden])")
    assert "钱网格" in phone.locator("[data-grid-who]").inner_text()
    # and when the signal returns the first worker's report still waits for them
    phone.context.set_offline(False)
    phone.wait_for_selector("[data-grid-pending][data-grid-checked]")
    assert phone.locator("[data-grid-kept][data-grid-owner=other]").count() == 1
    assert not GridReport.objects.exists()
    assert axe_violations(phone) == []
    _shot(phone, "69-grid-kept-for-another-account")
    # when the first grid worker signs in again, it is sent under their account
    sign_in(phone, "grid")
    phone.wait_for_selector("[data-grid-sent]", timeout=30_000)
    report = GridReport.objects.get()
    assert report.reported_by.username == "grid" and report.photos.count() == 1
    assert phone.refused == []


def test_a_slow_network_gets_the_servers_form_not_the_kept_one(county_ready, phone):
    # given the grid worker has opened the form once, so the phone keeps its empty form
    sign_in(phone, "grid")
    phone.goto("/mediation/reports/new/")
    _kept_by_the_phone(phone)
    # and their name has changed since, and the network is slow: five seconds for the form
    User.objects.filter(username="grid").update(name="吴网格二")
    delayed = []

    def slow(route):
        delayed.append(route.request.url)
        time.sleep(5)  # holds Playwright's dispatch, and so the answer, for as long
        route.continue_()

    phone.context.route("**/mediation/reports/new/", slow)
    # when they open the form again
    phone.reload()
    # then they wait for the server's page, as it is now: no copy is given for a slow answer
    assert delayed
    assert phone.locator("[data-grid-form][data-offline]").count() == 0
    assert "吴网格二" in phone.locator("nav").text_content()
