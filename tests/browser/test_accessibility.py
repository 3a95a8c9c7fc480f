"""Each main page passes axe-core's WCAG 2.1 A/AA rules with no serious or critical violation.

axe-core is vendored for these tests only (tests/browser/vendor/, see its README); it is
injected into the page after it has loaded, never served to users. The session's one
browser serves every page; each page (and language) is its own test, so that a violation
someone is fixing can be marked on that page alone (``KNOWN`` below). Users are signed in
by a session cookie, not the form: transactional tests empty the tables after each test,
so a session could not outlive it anyway, and the form costs a page load.
"""

from datetime import timedelta
from functools import cached_property

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from cases.choices import Channel, Purpose
from cases.deadlines.rules import rules_seed
from cases.models import DeadlineRule
from cases.services.leadership import case_assign_leader
from cases.services.registration import CaseIntake, PetitionerInput, case_register
from cases.services.transitions import case_route
from cases.tests.factories import CategoryFactory, demo_unit, valid_resident_id
from tests.browser.helpers import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICE, CHENGGUAN = "341122-D00", "341122100"


def describe(violations: list[dict], shown: int = 3) -> str:
    """Each violation: rule, impact and what it asks, then its first few elements and why."""
    lines = []
    for violation in violations:
        nodes = violation["nodes"]
        more = f" ({len(nodes)} elements)" if len(nodes) > shown else ""
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}{more}")
        for node in nodes[:shown]:
            target = " ".join(map(str, node["target"]))
            # failureSummary: "Fix any of the following:\n  <the check's message>"; keep the message
            why = [line.strip() for line in node.get("failureSummary", "").splitlines()[1:2]]
            lines.append(f"  {target}: {' '.join(why)}")
    return "\n".join(lines)


def _petition(*, summary: str, petitioner: int, name: str) -> CaseIntake:
    return CaseIntake(
        channel=Channel.VISIT, received_at=timezone.now() - timedelta(days=2),
        petitioners=[PetitionerInput(name=name, id_number=valid_resident_id(petitioner),
                                     address="城关镇东关社区", is_main=True)],
        purpose=Purpose.REMEDY, category=CategoryFactory(name=f"类别·{summary[:4]}"),
        summary=summary, demands="请求尽快发放补偿款", place_unit=demo_unit(CHENGGUAN))


class Scene:
    """What the pages show, made when a page first asks: a visitor's pages need no case."""

    def __init__(self, request):
        self.request = request

    @cached_property
    def users(self) -> dict:
        rules_seed(DeadlineRule)  # transactional tests truncate the statutory clock rules too
        return self.request.getfixturevalue("demo_users")

    @cached_property
    def routed(self):
        """A case routed to 城关镇, with its clocks running and the leader in charge."""
        clerk = self.users["clerk"]
        case = case_register(actor=clerk, office=demo_unit(OFFICE), intake=_petition(
            summary="征地补偿款未按期发放", petitioner=7, name="张三"))
        case = case_route(case=case, actor=clerk, lead_unit=demo_unit(CHENGGUAN))
        case_assign_leader(case=case, actor=clerk, leader=self.users["leader"],
                           measures="实地核查补偿款发放情况",
                           deadline=timezone.localdate() + timedelta(days=30),
                           responsible=self.users["head"])
        return case

    @cached_property
    def fresh(self):
        """A case just registered, still at the desk."""
        return case_register(actor=self.users["clerk"], office=demo_unit(OFFICE), intake=_petition(
            summary="小区噪声扰民", petitioner=8, name="李四"))


@pytest.fixture
def scene(request) -> Scene:
    return Scene(request)


def sign_in(page, live_server, user, language: str) -> None:
    """Put a signed-in session in the browser (the login page is checked as a page here)."""
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session,
                               "url": live_server.url}])


def _login(page, scene) -> None:
    page.goto("/accounts/login/")


def _login_failed(page, scene) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "wrong")
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_selector(".alert-danger")


def _listed(page, case) -> None:
    """Wait for the case's number to be on the page, so a list is checked with a row in it."""
    page.locator(f"a[href='/cases/{case.number}/']").first.wait_for()


def _case_list_filtered(page, scene) -> None:
    page.goto(f"/cases/?q=补偿款&lead_unit={scene.routed.lead_unit_id}&sort=-received")
    _listed(page, scene.routed)


def _case_page(page, scene) -> None:
    page.goto(f"/cases/{scene.routed.number}/")
    for part in ("#pd-petitioners", "#pd-h-clocks", "#pd-h-timeline"):
        page.locator(part).wait_for()
    # axe skips what is hidden: open each clock's details, as a reader would
    page.evaluate("document.querySelectorAll('details').forEach(details => details.open = true)")


def _intake(page, scene) -> None:
    page.goto("/cases/intake/")


def _intake_with_errors(page, scene) -> None:
    page.goto("/cases/intake/")
    page.fill("input[name='petitioners-0-name']", "张三")
    page.locator("#pd-intake-form button.btn-primary[name=register]").click()
    page.wait_for_selector("#pd-error-summary")


def _step_route(page, scene) -> None:
    page.goto(f"/cases/{scene.fresh.number}/steps/route/")


def _step_route_with_errors(page, scene) -> None:
    page.goto(f"/cases/{scene.fresh.number}/steps/route/")
    page.locator("#pd-step-form button.btn-primary").click()  # no unit chosen
    page.wait_for_selector("#pd-step-form .pd-error-summary")


def _unit_inbox(page, scene) -> None:
    case = scene.routed
    page.goto("/cases/unit/")
    _listed(page, case)


def _my_cases(page, scene) -> None:
    case = scene.routed
    page.goto("/cases/mine/")
    _listed(page, case)


def _routing_slip(page, scene) -> None:
    page.goto(f"/cases/{scene.routed.number}/notices/routing_slip/")


# page -> (who opens it, how, in which languages); who is None for a visitor not signed in.
# The pages once in each language; their error states, where only the messages differ, in Chinese.
BOTH, CHINESE = ("zh-hans", "en"), ("zh-hans",)
PAGES = {
    "login": (None, _login, BOTH),
    "login-failed": (None, _login_failed, CHINESE),
    "case-list-filtered": ("supervisor", _case_list_filtered, BOTH),
    "case-page": ("supervisor", _case_page, BOTH),
    "intake": ("clerk", _intake, BOTH),
    "intake-errors": ("clerk", _intake_with_errors, CHINESE),
    "step-route": ("clerk", _step_route, BOTH),
    "step-route-errors": ("clerk", _step_route_with_errors, CHINESE),
    "unit-inbox": ("handler", _unit_inbox, BOTH),
    "my-cases": ("leader", _my_cases, BOTH),
    "notice-routing-slip": ("clerk", _routing_slip, BOTH),
}
# "<page>-<zh|en>" -> the violation a lead is fixing; the test is then xfail(strict=True).
KNOWN: dict[str, str] = {}


def _cases():
    for name, (_who, _open, languages) in PAGES.items():
        for language in languages:
            key = f"{name}-{'zh' if language == 'zh-hans' else 'en'}"
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN[key])] if key in KNOWN else []
            yield pytest.param(name, language, id=key, marks=marks)


@pytest.mark.parametrize(("name", "language"), list(_cases()))
def test_the_page_has_no_serious_accessibility_violation(page, live_server, scene, name, language):
    # given the page's user, signed in and working in the language (a visitor: by the cookie)
    who, open_page, _languages = PAGES[name]
    if who is None:
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language,
                                   "url": live_server.url}])
    else:
        sign_in(page, live_server, scene.users[who], language)
    # when the page is opened (and, for some, a form sent back with errors)
    loaded = []
    page.on("response", lambda response: loaded.append(response.status)
            if response.request.is_navigation_request() else None)
    open_page(page, scene)
    assert loaded[-1] == 200 and page.evaluate("document.documentElement.lang") == language
    # then axe-core finds no serious or critical violation of WCAG 2.1 A/AA
    violations = axe_violations(page)
    assert not violations, f"{name} ({language}):\n{describe(violations)}"
