"""The grid (issue 11): a grid worker reports a dispute from the phone, settled on the spot or
passed to the township centre; the centre triages it to the village, the township or county
包案; the county's petition office registers a 包案 report as a petition case. Through the
real stack: services, views, PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from accounts.models import OrgUnit, User
from accounts.services import role_grant
from cases.choices import ClockKind, ClockStatus, IdType, Purpose
from cases.choices import EventKind as CaseEventKind
from cases.models import CaseEvent, CasePetitioner, Leadership, Petitioner
from cases.tests.factories import CategoryFactory, valid_resident_id
from mediation.grid import grid_report_register, grid_report_submit, grid_report_triage
from mediation.grid_pages import reports_listed, reports_visible, with_next_clock
from mediation.grid_rules import PartyInput, Registration, ReportInput, RiskFlags, Triage
from mediation.models import (
    DisputeClock,
    DisputeKind,
    EventKind,
    GridReport,
    MediationCase,
    MediationEvent,
    ReportPhoto,
    ReportStatus,
    Side,
)
from notifications.models import Notification
from tests.browser.helpers import small_png

GRID, OTHER_GRID, TOWNSHIP, VILLAGE = ("341122100001-G1", "341122100001-G2", "341122100",
                                       "341122100001")
YEAR = timezone.localdate().year


# --- Helpers ---------------------------------------------------------------------------------

def photo(name: str = "现场.png", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, small_png() if content is None else content,
                              content_type="image/png")


def person(n: int = 1, name: str = "张三", side: str = Side.APPLICANT) -> PartyInput:
    return PartyInput(side=side, name=name, id_number=valid_resident_id(n), phone="13800000001")


def report_input(grid_unit: OrgUnit, **changes) -> ReportInput:
    values = {
        "client_key": uuid.uuid4(), "grid": grid_unit,
        "found_at": timezone.now() - timedelta(hours=1), "kind": DisputeKind.NEIGHBOURS,
        "place": "东关社区3组李家门前", "summary": "两户因宅基地边界争吵",
        "parties": (person(1), PartyInput(side=Side.RESPONDENT, organisation="东关物业公司")),
        "settled": False,
    }
    values.update(changes)
    return ReportInput(**values)


def form_data(**changes) -> dict:
    """What the report form posts: one person and one organisation, passed to the centre."""
    data = {
        "grid": OrgUnit.objects.get(code=GRID).pk, "client_key": str(uuid.uuid4()), "found_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "kind": DisputeKind.LAND, "place": "柳树湾承包地", "summary": "两家为承包地界桩吵架",
        "outcome": "centre", "settled_how": "",
        "parties-TOTAL_FORMS": "3", "parties-INITIAL_FORMS": "0",
        "parties-MIN_NUM_FORMS": "0", "parties-MAX_NUM_FORMS": "10",
        "parties-0-side": Side.APPLICANT, "parties-0-name": "李四",
        "parties-0-id_number": valid_resident_id(7), "parties-0-phone": "13900000007",
        "parties-1-side": Side.RESPONDENT, "parties-1-organisation": "柳树村委会",
        "parties-2-side": Side.APPLICANT,
    }
    data.update(changes)
    return data


def in_english(user: User) -> User:
    user.language = "en"
    user.save(update_fields=["language"])
    return user


@pytest.fixture
def grid_unit(unit) -> OrgUnit:
    return unit(GRID)


@pytest.fixture
def passed(grid, grid_unit, mediator) -> GridReport:
    """A report passed to the township centre, with a threat."""
    return grid_report_submit(actor=grid, report=report_input(
        grid_unit, risks=RiskFlags(threat=True, threat_words="再不解决就去县里闹"))).report


@pytest.fixture
def other_township_mediator(demo_users, unit) -> User:
    user = User.objects.create_user(username="hekou-mediator", name="河口调解")
    role_grant(user=user, role=Role.MEDIATOR, unit=unit("341122101"))
    return user


@pytest.fixture
def other_grid_worker(demo_users, unit) -> User:
    user = User.objects.create_user(username="grid2", name="郑网格")
    role_grant(user=user, role=Role.GRID_WORKER, unit=unit(OTHER_GRID))
    return user


@pytest.fixture
def village_grid_worker(demo_users, unit) -> User:
    """A second grid worker who also reports from the first grid (held at its village)."""
    user = User.objects.create_user(username="grid3", name="钱网格")
    role_grant(user=user, role=Role.GRID_WORKER, unit=unit(VILLAGE))
    return user


# --- Reporting ---------------------------------------------------------------------------------

def test_a_dispute_settled_on_the_spot_starts_no_clock(grid, grid_unit, mediator):
    # when the grid worker records a dispute they settled on the spot
    done = grid_report_submit(actor=grid, report=report_input(
        grid_unit, settled=True, settled_how="双方同意以原界桩为准，当场握手"))
    # then it is numbered for the township and the year, settled, with no clock and no alert
    report = done.report
    assert done.created
    assert report.number == f"{TOWNSHIP}-WG{YEAR}-00001"
    assert report.status == ReportStatus.SETTLED
    assert report.township.code == TOWNSHIP
    assert report.settled_how == "双方同意以原界桩为准，当场握手"
    assert not DisputeClock.objects.filter(report=report).exists()
    assert list(report.events.values_list("kind", flat=True).order_by("pk")) == [
        EventKind.REPORTED, EventKind.SETTLED]
    assert not Notification.objects.filter(message="mediation.report_new").exists()


def test_a_report_passed_to_the_centre_starts_its_clocks_and_tells_the_centre(
        grid, grid_unit, mediator, village_mediator):
    # when the grid worker passes on a dispute with a photo and a threat
    report = grid_report_submit(actor=grid, report=report_input(
        grid_unit, photos=(photo(),),
        risks=RiskFlags(threat=True, threat_words="再不解决就去县里闹",
                        group_involved=True, group_size=12))).report
    # then it waits for the centre, the photo is kept under a random name, the risk recorded
    assert report.status == ReportStatus.REPORTED
    assert report.is_risky and report.threat_words == "再不解决就去县里闹"
    assert report.group_size == 12
    kept = ReportPhoto.objects.get(report=report)
    assert kept.original_name == "现场.png" and kept.size == len(small_png())
    assert kept.file.name.endswith(".png") and "现场" not in kept.file.name
    # and the acknowledgement and settlement clocks run from its arrival
    clocks = {clock.kind: clock for clock in DisputeClock.objects.filter(report=report)}
    assert set(clocks) == {ClockKind.REPORT_ACK, ClockKind.REPORT_SETTLE}
    assert all(clock.status == ClockStatus.OPEN for clock in clocks.values())
    # and the township centre's mediator is told, not the village's
    told = Notification.objects.filter(message="mediation.report_new")
    assert [(row.user_id, row.params["case_number"]) for row in told] == [
        (mediator.pk, report.number)]
    assert told[0].url == reverse("mediation:report", args=[report.pk])
    # and its parties are a person (one petitioner row) and an organisation
    sides = {party.side: party for party in report.parties.select_related("petitioner")}
    assert sides[Side.APPLICANT].petitioner.id_number == valid_resident_id(1)
    assert sides[Side.RESPONDENT].organisation == "东关物业公司"


def test_a_person_reported_again_is_the_same_petitioner(grid, grid_unit):
    # given a person in one report
    first = grid_report_submit(actor=grid, report=report_input(grid_unit)).report
    # when a second report names them by the same ID number
    second = grid_report_submit(actor=grid, report=report_input(
        grid_unit, parties=(person(1, name="张三"),))).report
    # then both name the one petitioner row, and the numbers follow on
    assert (first.parties.get(side=Side.APPLICANT).petitioner_id
            == second.parties.get().petitioner_id)
    assert Petitioner.objects.filter(name="张三").count() == 1
    assert second.number == f"{TOWNSHIP}-WG{YEAR}-00002"


def test_an_id_number_on_file_under_another_name_is_refused_at_its_party(grid, grid_unit):
    # given 张三 on file with their ID number and phone
    grid_report_submit(actor=grid, report=report_input(grid_unit))
    # when a report names someone else with 张三's ID number, and another phone
    with pytest.raises(ValidationError) as refused:
        grid_report_submit(actor=grid, report=report_input(grid_unit, parties=(
            PartyInput(side=Side.APPLICANT, name="王五"),
            PartyInput(side=Side.RESPONDENT, name="赵六", id_number=valid_resident_id(1),
                       phone="13911112222"))))
    # then it is refused at that party, and nothing is saved or changed
    assert [error.code for error in refused.value.error_list] == ["party_id:1"]
    assert GridReport.objects.count() == 1
    kept = Petitioner.objects.get(name="张三")
    assert kept.phone == "13800000001"
    assert not Petitioner.objects.filter(name__in=["王五", "赵六"]).exists()


def test_a_report_fills_in_nothing_on_a_person_on_file(grid, grid_unit):
    # given a person on file by ID number without a phone, and one by phone without an ID
    by_id = Petitioner.objects.create(name="张三", id_type=IdType.RESIDENT_ID,
                                      id_number=valid_resident_id(1))
    by_phone = Petitioner.objects.create(name="赵六", id_type=IdType.RESIDENT_ID,
                                         phone="13700000003")
    # when a report names them with what the grid worker typed: a phone, an ID number
    report = grid_report_submit(actor=grid, report=report_input(grid_unit, parties=(
        person(1, name="张三"),
        PartyInput(side=Side.RESPONDENT, name="赵六", id_number=valid_resident_id(2),
                   phone="13700000003")))).report
    # then the report names the two people on file, whose rows are as they were
    assert sorted(report.parties.values_list("petitioner_id", flat=True)) == sorted(
        [by_id.pk, by_phone.pk])
    by_id.refresh_from_db()
    by_phone.refresh_from_db()
    assert by_id.phone == "" and by_phone.id_number == ""
    assert Petitioner.objects.count() == 2


def test_the_form_keeps_what_was_typed_when_an_id_number_is_someone_elses(client, grid,
                                                                        grid_unit):
    # given 张三 on file, and the grid worker on the form in English
    grid_report_submit(actor=grid, report=report_input(grid_unit))
    client.force_login(in_english(grid))
    # when they post another name with 张三's ID number
    response = client.post(reverse("mediation:report_new"), form_data(**{
        "parties-0-name": "王五", "parties-0-id_number": valid_resident_id(1),
        "parties-0-phone": "13911112222"}))
    # then the page says so at the ID number, keeps what was typed, and shows nothing of 张三
    page = response.content.decode()
    assert response.status_code == 200
    assert "This ID number is on file under another name." in page
    assert 'href="#id_parties-0-id_number"' in page
    assert "王五" in page and "13911112222" in page
    assert "张三" not in page and "13800000001" not in page
    assert GridReport.objects.count() == 1


def test_one_person_named_twice_is_refused_at_the_second(client, grid, grid_unit):
    # given the grid worker on the form in English
    client.force_login(in_english(grid))
    # when they name 王五 twice by name and phone, and 李四 again by ID number
    response = client.post(reverse("mediation:report_new"), form_data(**{
        "parties-TOTAL_FORMS": "4",
        "parties-1-organisation": "", "parties-1-name": "王五", "parties-1-phone": "13911110000",
        "parties-2-side": Side.RESPONDENT, "parties-2-name": "王五",
        "parties-2-phone": "13911110000",
        "parties-3-side": Side.RESPONDENT, "parties-3-name": "李四",
        "parties-3-id_number": valid_resident_id(7)}))
    # then the page says so at each second naming, keeping what was typed
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("This person is already named above") == 4  # summary and field, twice
    assert 'href="#id_parties-2-name"' in page and 'href="#id_parties-3-name"' in page
    assert 'href="#id_parties-1-name"' not in page and "13911110000" in page
    # and nothing is recorded, nobody added: no report would be stuck with a party twice
    assert not GridReport.objects.exists() and not Petitioner.objects.exists()


def test_a_report_sent_again_with_its_key_is_the_same_report(grid, grid_unit, mediator):
    # given a report the server saved, whose answer the phone never got
    sent = report_input(grid_unit, photos=(photo(),))
    first = grid_report_submit(actor=grid, report=sent)
    # when the phone sends it again with the same key
    again = grid_report_submit(actor=grid, report=report_input(
        grid_unit, client_key=sent.client_key, photos=(photo(),)))
    # then it is the same report, once, with one photo, one alert and one set of clocks
    assert first.created and not again.created
    assert again.report.pk == first.report.pk
    assert GridReport.objects.count() == 1
    assert ReportPhoto.objects.count() == 1
    assert Notification.objects.filter(message="mediation.report_new").count() == 1
    assert DisputeClock.objects.count() == 2


def test_another_account_cannot_take_over_a_reports_key(grid, grid_unit, other_grid_worker,
                                                        unit):
    # given a report sent by one grid worker
    sent = report_input(grid_unit)
    grid_report_submit(actor=grid, report=sent)
    # when another account sends a report under the same key, it is refused
    with pytest.raises(PermissionDenied):
        grid_report_submit(actor=other_grid_worker, report=report_input(
            unit(OTHER_GRID), client_key=sent.client_key))


def test_a_grid_worker_reports_only_from_their_own_grids(grid, unit):
    # when the grid worker of G1 reports a dispute in G2, it is refused
    with pytest.raises(PermissionDenied):
        grid_report_submit(actor=grid, report=report_input(unit(OTHER_GRID)))
    assert not GridReport.objects.exists()


def test_a_threat_without_its_words_is_refused(grid, grid_unit):
    # when a threat is ticked with no words, and a group with no size
    with pytest.raises(ValidationError) as refused:
        grid_report_submit(actor=grid, report=report_input(
            grid_unit, risks=RiskFlags(threat=True, group_involved=True)))
    # then both problems are named, and nothing is saved
    assert {error.code for error in refused.value.error_list} == {"threat_words", "group_size"}
    assert not GridReport.objects.exists()


def test_settled_on_the_spot_must_say_how(grid, grid_unit):
    with pytest.raises(ValidationError) as refused:
        grid_report_submit(actor=grid, report=report_input(grid_unit, settled=True))
    assert [error.code for error in refused.value.error_list] == ["settled_how"]


def test_photos_are_checked_for_kind_size_and_number(grid, grid_unit):
    # a file named .png that is no image, one over 8 MB, and seven photos in all
    fake = photo("假的.png", b"not an image at all")
    huge = photo("大图.png", small_png() + b"\0" * (8 * 1024 * 1024))
    with pytest.raises(ValidationError) as refused:
        grid_report_submit(actor=grid, report=report_input(
            grid_unit, photos=(fake, huge, *(photo(f"{n}.png") for n in range(5)))))
    assert sorted(error.code for error in refused.value.error_list) == [
        "photo_count", "photo_size", "photo_type"]


def test_a_webp_and_a_jpeg_are_taken_whatever_their_names(grid, grid_unit):
    # given a JPEG the phone named without an ending and a WebP
    jpeg = photo("IMG_0001", b"\xff\xd8\xff\xe0" + b"\0" * 64)
    webp = photo("shot.webp", b"RIFF\x24\0\0\0WEBPVP8 " + b"\0" * 32)
    report = grid_report_submit(actor=grid, report=report_input(
        grid_unit, photos=(jpeg, webp))).report
    # then they are stored under their kind's ending
    assert sorted(name.rsplit(".", 1)[1] for name in
                  report.photos.values_list("file", flat=True)) == ["jpg", "webp"]


@pytest.mark.django_db(transaction=True)
def test_two_sends_of_one_report_at_once_make_one_report(demo_users, unit):
    # given the phone sends the same report on two connections at the same moment
    from cases.deadlines.rules import rules_seed
    from cases.models import DeadlineRule

    rules_seed(DeadlineRule)  # transactional tests truncate the clock rules too
    grid = User.objects.get(username="grid")
    sent = report_input(unit(GRID))
    ready = threading.Barrier(2)
    results, failures = [], []

    def send():
        try:
            ready.wait(timeout=10)
            done = grid_report_submit(actor=grid, report=sent)
            results.append((done.report.pk, done.created))
        except Exception as error:  # noqa: BLE001 - the test reports it below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then both get the one report, which one of them made
    assert failures == []
    assert len({pk for pk, _created in results}) == 1
    assert sorted(created for _pk, created in results) == [False, True]
    assert GridReport.objects.count() == 1
    assert DisputeClock.objects.count() == 2
    assert MediationEvent.objects.filter(kind=EventKind.REPORTED).count() == 1


# --- The form, with and without the phone's script -------------------------------------------

def test_the_form_without_script_records_the_report(client, grid):
    # given the grid worker on the form
    client.force_login(grid)
    assert client.get(reverse("mediation:report_new")).status_code == 200
    # when they post it as an ordinary form, with a photo
    response = client.post(reverse("mediation:report_new"), form_data(photos=photo()))
    # then the report is recorded and they land on its page
    report = GridReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("mediation:report", args=[report.pk])
    assert report.photos.count() == 1
    assert [party.organisation or party.petitioner.name for party in
            report.parties.select_related("petitioner").order_by("pk")] == ["李四", "柳树村委会"]


def test_bad_input_keeps_what_was_typed_and_says_the_photos_must_be_chosen_again(client, grid):
    # given the grid worker, in English
    client.force_login(in_english(grid))
    # when they post without the place, with a threat but no words, and a photo
    response = client.post(reverse("mediation:report_new"), form_data(
        place="", threat="on", photos=photo()))
    # then the page comes back with each problem at its field and in the summary
    page = response.content.decode()
    assert response.status_code == 200
    assert "Say where in the grid the dispute is." in page
    assert "Write down the words of the threat as they were said." in page
    assert 'href="#id_threat_words"' in page
    # and what was typed is kept, and the photos are asked for again, in so many words
    assert "两家为承包地界桩吵架" in page and "李四" in page and "柳树村委会" in page
    assert "choose them again before you send it" in page
    assert not GridReport.objects.exists()


def test_the_phones_script_gets_the_problems_as_json(client, grid):
    client.force_login(in_english(grid))
    # when the script sends a report with a threat and no words, and a bad ID number
    response = client.post(reverse("mediation:report_sync"), form_data(
        threat="on", typed_by=grid.pk, **{"parties-0-id_number": "341122198001010000"}))
    # then the answer names each field, and nothing is saved
    assert response.status_code == 400
    answer = response.json()
    fields = {error["field"] for error in answer["errors"]}
    assert {"id_threat_words", "id_parties-0-id_number"} <= fields
    assert not GridReport.objects.exists()


def test_the_phones_script_sends_a_kept_report_twice_and_gets_one(client, grid):
    client.force_login(grid)
    data = form_data(typed_by=grid.pk)
    # when the script sends a kept report, and again after losing the answer
    first = client.post(reverse("mediation:report_sync"), data)
    second = client.post(reverse("mediation:report_sync"), data)
    # then the first made it, the second was told it had arrived
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["number"] == second.json()["number"]
    assert first.json()["created"] and not second.json()["created"]
    assert GridReport.objects.count() == 1


def test_the_sync_address_asks_a_signed_out_phone_to_sign_in(client, county):
    response = client.post(reverse("mediation:report_sync"), form_data())
    assert response.status_code == 401 and response.json()["signin"]


def test_the_sync_address_refuses_a_report_typed_under_another_account(
        client, grid, village_grid_worker):
    # given a phone signed in as a second grid worker of the same grid
    client.force_login(in_english(village_grid_worker))
    # when its script sends a report kept for the first grid worker
    response = client.post(reverse("mediation:report_sync"), form_data(typed_by=grid.pk))
    # then it is refused, said why, and nothing is recorded under either account
    assert response.status_code == 409
    assert "typed under another account" in response.json()["error"]
    assert not GridReport.objects.exists()
    # and a report without an owner is refused the same way
    assert client.post(reverse("mediation:report_sync"), form_data()).status_code == 409
    # while their own goes
    response = client.post(reverse("mediation:report_sync"),
                           form_data(typed_by=village_grid_worker.pk))
    assert response.status_code == 201
    assert GridReport.objects.get().reported_by == village_grid_worker


def test_the_form_the_phone_keeps_holds_nobodys_data(client, grid, grid_unit):
    # given the grid worker signed in
    client.force_login(grid)
    village = OrgUnit.objects.get(code=VILLAGE)
    # when the service worker fetches the form it keeps for a phone without signal
    response = client.get(reverse("mediation:report_new") + "?offline=1")
    page = response.content.decode()
    # then it is the form, with no name, grid, menu or CSRF token of anyone's
    assert response.status_code == 200 and "data-offline" in page
    assert 'name="place"' in page and 'name="parties-0-name"' in page
    for personal in (grid.name, grid_unit.name, village.name,
                     "csrfmiddlewaretoken", reverse("logout"), "data-user"):
        assert personal not in page, personal
    assert "csrftoken" not in response.cookies
    assert "no-store" in response["Cache-Control"]
    # and the page the signed-in worker gets names them, as before
    page = client.get(reverse("mediation:report_new")).content.decode()
    assert grid.name in page and "csrfmiddlewaretoken" in page and "data-offline" not in page


def test_the_script_asks_who_is_signed_in_past_every_cache(client, grid, grid_unit):
    # when the phone's script asks who is signed in
    url = reverse("mediation:report_me")
    assert client.get(url).status_code == 401
    client.force_login(grid)
    response = client.get(url)
    # then it hears the account, its grid and a CSRF token, never to be kept
    answer = response.json()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert answer["user"] == grid.pk and answer["name"] == grid.name
    assert [item["id"] for item in answer["grids"]] == [grid_unit.pk]
    assert grid_unit.name in answer["grids"][0]["label"] and answer["csrf"]


def test_the_service_worker_is_served_under_mediation(client):
    response = client.get(reverse("mediation:grid_sw"))
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert reverse("mediation:grid_sw").startswith("/mediation/")
    assert '"form": "/mediation/reports/new/"' in body and "/static/mediation/grid.js" in body
    # it keeps only the empty form, and gives it only when the network fails, never on a timer
    assert '"offline": "/mediation/reports/new/?offline=1"' in body
    assert "setTimeout" not in body and "Promise.race" not in body


# --- Who sees what -----------------------------------------------------------------------------

def test_each_sees_their_own_reports(client, grid, grid_unit, mediator, other_grid_worker,
                                     other_township_mediator, supervisor, unit):
    # given a report in each of the two grids of the first village, the first with a photo
    mine = grid_report_submit(actor=grid, report=report_input(
        grid_unit, photos=(photo(),))).report
    theirs = grid_report_submit(actor=other_grid_worker,
                                report=report_input(unit(OTHER_GRID))).report
    # then the grid worker sees their grid's, the centre its township's, the other
    # township's centre nothing
    assert list(reports_visible(user=grid)) == [mine]
    assert set(reports_visible(user=mediator)) == {mine, theirs}
    assert not reports_visible(user=other_township_mediator).exists()
    # and the pages agree
    client.force_login(grid)
    listed = client.get(reverse("mediation:reports")).content.decode()
    assert mine.number in listed and theirs.number not in listed
    assert client.get(reverse("mediation:report", args=[theirs.pk])).status_code == 404
    client.force_login(other_township_mediator)
    assert mine.number not in client.get(reverse("mediation:reports")).content.decode()
    assert client.get(reverse("mediation:report", args=[mine.pk])).status_code == 404
    kept = mine.photos.get()
    assert client.get(reverse("mediation:report_photo", args=[mine.pk, kept.pk])
                      ).status_code == 404


def test_the_centres_list_puts_reports_awaiting_triage_first(client, grid, grid_unit,
                                                             mediator):
    # given a report settled on the spot after one passed to the centre
    waiting = grid_report_submit(actor=grid, report=report_input(grid_unit)).report
    settled = grid_report_submit(actor=grid, report=report_input(
        grid_unit, settled=True, settled_how="当场调解")).report
    # when the centre opens its list
    client.force_login(mediator)
    page = client.get(reverse("mediation:reports")).content.decode()
    # then the report awaiting triage comes first, marked as waiting, with its clock (a
    # working day to take it up: due soon, amber)
    assert page.index(waiting.number) < page.index(settled.number)
    assert "pd-grid-waiting" in page and "pd-due-soon" in page
    # when its acknowledgement is two days late, the list marks it overdue, in red
    DisputeClock.objects.filter(report=waiting, kind=ClockKind.REPORT_ACK).update(
        due_on=timezone.localdate() - timedelta(days=2),
        due_at=timezone.now() - timedelta(days=2))
    page = client.get(reverse("mediation:reports")).content.decode()
    assert "pd-due-overdue" in page
    # and a filter by status shows the settled one alone
    page = client.get(reverse("mediation:reports") + "?status=settled").content.decode()
    assert settled.number in page and waiting.number not in page


def test_a_photo_is_served_only_through_the_report(client, grid, grid_unit, mediator,
                                                   other_grid_worker, other_township_mediator):
    # given a report with a photo, and another report of the same grid without one
    report = grid_report_submit(actor=grid, report=report_input(
        grid_unit, photos=(photo(),))).report
    other = grid_report_submit(actor=grid, report=report_input(grid_unit)).report
    kept = report.photos.get()
    url = reverse("mediation:report_photo", args=[report.pk, kept.pk])
    # a signed-out visitor is sent to sign in; the grid worker gets the image
    assert client.get(url).status_code == 302
    client.force_login(grid)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == small_png()
    assert "private" in response["Cache-Control"]
    # and the township centre gets it too
    client.force_login(mediator)
    assert client.get(url).status_code == 200
    # but not through another report, even one the worker sees
    client.force_login(grid)
    assert client.get(reverse("mediation:report", args=[other.pk])).status_code == 200
    assert client.get(reverse("mediation:report_photo", args=[other.pk, kept.pk])
                      ).status_code == 404
    # nor by another grid's worker, nor by another township's centre
    for outsider in (other_grid_worker, other_township_mediator):
        client.force_login(outsider)
        assert client.get(url).status_code in (403, 404), outsider.username


def test_the_report_page_shows_id_numbers_masked_only(client, grid, passed, mediator,
                                                     supervisor):
    # the township centre sees the name and phone, the ID number masked, and it is logged
    client.force_login(mediator)
    page = client.get(reverse("mediation:report", args=[passed.pk])).content.decode()
    number = valid_resident_id(1)
    assert "张三" in page and "13800000001" in page
    assert number not in page and f"{number[:4]}" in page and number[-4:] in page
    assert MediationEvent.objects.filter(report=passed, kind=EventKind.VIEWED,
                                         actor=mediator).exists()
    # a supervisor over the township sees the name masked
    client.force_login(supervisor)
    page = client.get(reverse("mediation:report", args=[passed.pk])).content.decode()
    assert "张三" not in page and "张*" in page and number not in page


def test_a_grid_worker_does_not_learn_who_an_id_number_is(client, grid, grid_unit,
                                                          village_grid_worker):
    # given 张三 on file, reported by one grid worker with their ID number and phone
    grid_report_submit(actor=grid, report=report_input(grid_unit))
    # when another grid worker reports that ID number with the same name and no phone
    report = grid_report_submit(actor=village_grid_worker, report=report_input(
        grid_unit, parties=(PartyInput(side=Side.APPLICANT, name="张三",
                                       id_number=valid_resident_id(1)),))).report
    # then their report page shows the person masked: no phone or name from the file
    client.force_login(village_grid_worker)
    page = client.get(reverse("mediation:report", args=[report.pk])).content.decode()
    assert "13800000001" not in page and "张三" not in page and "张*" in page
    assert not MediationEvent.objects.filter(report=report, kind=EventKind.VIEWED).exists()


# --- The centre triages -------------------------------------------------------------------------

def test_the_centre_sends_a_report_to_the_village_committee(passed, mediator, committees):
    # when the centre sends the report to the village's committee
    report = grid_report_triage(report=passed, actor=mediator, version=passed.version,
                                to=Triage.VILLAGE, note="邻里小事，村里调")
    # then a people's mediation of the village committee holds the report's parties
    mediation = MediationCase.objects.get(report=report)
    assert mediation.committee == committees[VILLAGE]
    assert sorted((party.side, party.petitioner_id is not None, party.organisation)
                  for party in mediation.parties.all()) == [
        (Side.APPLICANT, True, ""), (Side.RESPONDENT, False, "东关物业公司")]
    # and the report is triaged: its acknowledgement met, its settlement still running
    assert report.status == ReportStatus.TO_VILLAGE and report.triaged_by == mediator
    clocks = dict(DisputeClock.objects.filter(report=report).values_list("kind", "status"))
    assert clocks == {ClockKind.REPORT_ACK: ClockStatus.MET,
                      ClockKind.REPORT_SETTLE: ClockStatus.OPEN}
    triaged = report.events.get(kind=EventKind.TRIAGED)
    assert triaged.actor == mediator and triaged.details["mediation"] == mediation.pk


def test_the_centre_sends_a_report_to_the_township_committee(passed, mediator, committees):
    report = grid_report_triage(report=passed, actor=mediator, version=passed.version,
                                to=Triage.TOWNSHIP)
    assert report.status == ReportStatus.TO_TOWNSHIP
    assert MediationCase.objects.get(report=report).committee == committees[TOWNSHIP]


def test_triage_from_a_stale_page_is_refused_with_409(client, passed, mediator, committees):
    # given the centre's page, read before a colleague triaged the report
    version = passed.version
    grid_report_triage(report=passed, actor=mediator, version=version, to=Triage.TOWNSHIP)
    # when the old page is sent, the report is not sent a second time
    client.force_login(mediator)
    response = client.post(reverse("mediation:report_triage", args=[passed.pk]),
                           {"version": version, "to": Triage.VILLAGE})
    assert response.status_code == 409
    assert MediationCase.objects.filter(report=passed).count() == 1


def test_the_report_lock_holds_the_report_row_only(passed, mediator, committees):
    # when the centre triages, the report's row is locked, not its grid's or township's
    with CaptureQueriesContext(connection) as queries:
        grid_report_triage(report=passed, actor=mediator, version=passed.version,
                           to=Triage.TOWNSHIP)
    locks = [query["sql"] for query in queries.captured_queries
             if 'FROM "mediation_gridreport"' in query["sql"] and "FOR UPDATE" in query["sql"]]
    assert locks and all(sql.endswith('FOR UPDATE OF "mediation_gridreport"') for sql in locks)


def test_only_the_centre_triages(client, grid, passed, village_mediator, committees):
    # the grid worker and the village's mediator may not triage
    for user in (grid, village_mediator):
        with pytest.raises(PermissionDenied):
            grid_report_triage(report=passed, actor=user, version=passed.version,
                               to=Triage.VILLAGE)
    client.force_login(grid)
    response = client.post(reverse("mediation:report_triage", args=[passed.pk]),
                           {"version": passed.version, "to": Triage.VILLAGE})
    assert response.status_code == 403


# --- County 包案 ---------------------------------------------------------------------------------

def test_county_baoan_becomes_a_petition_case_with_a_leader(client, passed, mediator, clerk,
                                                            leader):
    # given a township's own petition desk beside the county's office
    township_clerk = User.objects.create_user("tclerk", password="x", name="镇接待")
    role_grant(user=township_clerk, role=Role.CLERK, unit=OrgUnit.objects.get(code="341122100"))
    # when the centre sends the report to county 包案
    report = grid_report_triage(report=passed, actor=mediator, version=passed.version,
                                to=Triage.COUNTY, note="扬言到县里闹，需县级包案")
    assert report.status == ReportStatus.TO_COUNTY
    # then the county's petition office is told, and the township's desk is not (M1, M14)
    told = Notification.objects.get(message="mediation.triaged")
    assert told.user == clerk and told.params["case_number"] == report.number
    # when its clerk registers it on the page, with the leader's measures and deadline
    category = CategoryFactory(name="邻里纠纷")
    client.force_login(clerk)
    assert client.get(reverse("mediation:reports")).content.decode().count(
        reverse("mediation:report_register", args=[report.pk])) == 1
    register = reverse("mediation:report_register", args=[report.pk])
    assert client.get(register).status_code == 200
    deadline = timezone.localdate() + timedelta(days=20)
    response = client.post(register, {
        "version": report.version, "office": OrgUnit.objects.get(code="341122-D00").pk,
        "category": category.pk, "purpose": Purpose.REMEDY,
        "demands": "划清宅基地边界", "leader": leader.pk, "measures": "约谈双方，现场勘界",
        "deadline": deadline.isoformat()})
    # then a petition case is registered from the report, linked both ways
    report.refresh_from_db()
    case = report.case
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.number])
    assert report.status == ReportStatus.REGISTERED
    assert case.summary == report.summary and case.place_unit.code == VILLAGE
    assert case.has_threat and case.threat_words == "再不解决就去县里闹"
    main = CasePetitioner.objects.get(case=case, is_main=True).petitioner
    assert main.id_number == valid_resident_id(1)
    # with its responsible leader, measures and deadline
    leadership = Leadership.objects.get(case=case, is_current=True)
    assert (leadership.leader, leadership.measures, leadership.deadline) == (
        leader, "约谈双方，现场勘界", deadline)
    assert case.leader == leader and leadership.responsible == leader
    # and the case's trail says where it came from; the report's clocks are met
    came = CaseEvent.objects.get(case=case, kind=CaseEventKind.FROM_GRID_REPORT)
    assert came.details["report_number"] == report.number
    assert set(DisputeClock.objects.filter(report=report).values_list("status", flat=True)) == {
        ClockStatus.MET}
    assert report.events.filter(kind=EventKind.REGISTERED, actor=clerk).exists()


def test_a_report_naming_no_person_is_not_sent_to_county_baoan(client, grid, grid_unit,
                                                                mediator, committees):
    # given a report between two organisations
    report = grid_report_submit(actor=grid, report=report_input(grid_unit, parties=(
        PartyInput(side=Side.APPLICANT, organisation="柳树村委会"),
        PartyInput(side=Side.RESPONDENT, organisation="东关物业公司")))).report
    # when the centre sends it to county 包案, it is refused: it could never be registered
    with pytest.raises(ValidationError) as refused:
        grid_report_triage(report=report, actor=mediator, version=report.version,
                           to=Triage.COUNTY)
    assert refused.value.code == "no_person"
    report.refresh_from_db()
    assert report.status == ReportStatus.REPORTED and report.triaged_at is None
    # and on the page the message is at the choice, saying why and what to do instead
    client.force_login(in_english(mediator))
    response = client.post(reverse("mediation:report_triage", args=[report.pk]),
                           {"version": report.version, "to": Triage.COUNTY, "note": "县里包案"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "a petition case needs a petitioner" in page and "Art. 19" in page
    assert "township mediation committee" in page and "县里包案" in page
    # while the township's committee takes it
    report = grid_report_triage(report=report, actor=mediator, version=report.version,
                                to=Triage.TOWNSHIP)
    assert report.status == ReportStatus.TO_TOWNSHIP


def test_county_baoan_links_the_reports_own_people(grid, grid_unit, mediator, clerk, leader):
    # given a report naming 孙八 by name alone, and 张三 by ID number, sent to county 包案
    report = grid_report_submit(actor=grid, report=report_input(grid_unit, parties=(
        PartyInput(side=Side.APPLICANT, name="孙八"), person(1, side=Side.RESPONDENT)))).report
    report = grid_report_triage(report=report, actor=mediator, version=report.version,
                                to=Triage.COUNTY)
    on_report = set(report.parties.values_list("petitioner_id", flat=True))
    people = Petitioner.objects.count()
    # when the county's clerk registers it
    case = grid_report_register(report=report, actor=clerk, version=report.version,
                                registration=Registration(
                                    office=OrgUnit.objects.get(code="341122-D00"),
                                    category=CategoryFactory(), purpose=Purpose.REMEDY,
                                    demands="要求处理", leader=leader, measures="约谈",
                                    deadline=timezone.localdate() + timedelta(days=5)))
    # then the case's petitioners are the report's own rows: nobody is added a second time
    case_people = set(CasePetitioner.objects.filter(case=case)
                      .values_list("petitioner_id", flat=True))
    assert case_people == on_report and Petitioner.objects.count() == people
    # and the name-only main petitioner gets the report's place as address (M16)
    main = CasePetitioner.objects.get(case=case, is_main=True).petitioner
    assert main.name == "孙八" and main.address == "东关社区3组李家门前"


def test_only_the_county_petition_office_registers(passed, mediator, leader):
    report = grid_report_triage(report=passed, actor=mediator, version=passed.version,
                                to=Triage.COUNTY)
    with pytest.raises(PermissionDenied):
        grid_report_register(report=report, actor=mediator, version=report.version,
                             registration=Registration(
                                 office=OrgUnit.objects.get(code="341122-D00"),
                                 category=CategoryFactory(), purpose=Purpose.REMEDY,
                                 demands="要求处理", leader=leader, measures="约谈",
                                 deadline=timezone.localdate() + timedelta(days=5)))


def test_a_registration_refused_keeps_what_was_typed(client, passed, mediator, clerk, leader):
    # given a report sent to county 包案, and its clerk working in English
    report = grid_report_triage(report=passed, actor=mediator, version=passed.version,
                                to=Triage.COUNTY)
    client.force_login(in_english(clerk))
    # when the clerk sets the leader's deadline in the past
    response = client.post(reverse("mediation:report_register", args=[report.pk]), {
        "version": report.version, "office": OrgUnit.objects.get(code="341122-D00").pk,
        "category": CategoryFactory().pk, "purpose": Purpose.REMEDY,
        "demands": "划清宅基地边界", "leader": leader.pk, "measures": "约谈双方，现场勘界",
        "deadline": (timezone.localdate() - timedelta(days=1)).isoformat()})
    # then the page says why, keeps what was typed, and nothing is registered
    page = response.content.decode()
    assert response.status_code == 200
    assert "The deadline cannot be in the past." in page
    assert "约谈双方，现场勘界" in page and "划清宅基地边界" in page
    report.refresh_from_db()
    assert report.status == ReportStatus.TO_COUNTY and report.case is None


def test_the_list_costs_the_same_whatever_its_length(grid, grid_unit, mediator):
    def cost() -> int:
        user = User.objects.get(pk=mediator.pk)  # nothing cached from an earlier count
        with CaptureQueriesContext(connection) as queries:
            rows = list(reports_listed(user=user))
            with_next_clock(rows)
        return len(queries)

    # given one report, then four
    grid_report_submit(actor=grid, report=report_input(grid_unit))
    one = cost()
    for _n in range(3):
        grid_report_submit(actor=grid, report=report_input(grid_unit))
    # then the list's reads cost the same number of queries
    assert cost() == one
