"""Dispute sweeps (矛盾纠纷排查, issue 11) through the real stack: the month's round opened
by the beat once; a grid's zero report, a village's reports and a grid that does not file,
as the township and the county see them; a late return; who may file; the early-warning
list by place and who sees what of it; the admin's round before a sensitive date; the
form's bad input. Real PostgreSQL, the real services and pages, no mocks."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit
from accounts.services import org_unit_create, role_grant
from accounts.tests.factories import UserFactory
from cases.choices import CaseStatus
from cases.deadlines.clocks import OFFICE_TZ
from cases.services.undertakings import office_today
from cases.tests.factories import CaseFactory
from mediation.models import (
    DisputeKind,
    EventKind,
    GridReport,
    MediationCase,
    MediationEvent,
    MediationKind,
    MediationSource,
    MediationStatus,
    ReportStatus,
    RoundKind,
    SweepReturn,
    SweepRound,
)
from mediation.sweeps import (
    MAX_NOTE,
    ReturnInput,
    early_warnings,
    sweep_candidates,
    sweep_overview,
    sweep_return_file,
    sweep_rounds_current,
    sweep_rounds_open,
)

pytestmark = pytest.mark.django_db

TOWNSHIP, RIVER = "341122100", "341122101"  # 城关镇, 河口镇
VILLAGE = "341122100001"  # 东关社区, whose mediator is 何调解
G1, G2 = f"{VILLAGE}-G1", f"{VILLAGE}-G2"  # 吴网格 works in G1
RIVER_GRID = f"{RIVER}001-G1"
D = date.fromisoformat


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=OFFICE_TZ)


def reported(unit, code: str, *, when: datetime, status=ReportStatus.REPORTED, **fields):
    """A grid report of the grid ``code`` as the grid's service leaves it (the factory of
    these tests: the statuses and days they need, in one INSERT)."""
    grid = unit(code)
    reporter = UserFactory()
    fields.setdefault("settled_how", "当场调解" if status == ReportStatus.SETTLED else "")
    return GridReport.objects.create(
        number=f"WG-{uuid.uuid4().hex[:10]}", client_key=uuid.uuid4(), grid=grid,
        township=unit(code[:9]), reported_by=reporter, found_at=when, received_at=when,
        kind=DisputeKind.LAND, place="村东头", summary="宅基地边界争执", status=status,
        **fields)


def threatening(unit, code: str, *, when: datetime, **fields):
    return reported(unit, code, when=when, threat=True, threat_words="不解决就去县里闹",
                    group_involved=True, group_size=12, **fields)


def user_with(role: Role, unit, code: str, **fields):
    user = UserFactory(**fields)
    role_grant(user=user, role=role, unit=unit(code))
    return user


@pytest.fixture
def march(county) -> SweepRound:
    """The round of March 2026, opened by the beat on Sunday the 1st: due Friday the 6th."""
    [round_] = sweep_rounds_open(now=at("2026-03-01", 1))
    return round_


def file(round_, unit, code, actor, *, when="2026-03-04", **filing) -> SweepReturn:
    return sweep_return_file(round_=round_, unit=unit(code), actor=actor, at=at(when),
                             filing=ReturnInput(**filing))


def rows_by_code(overview) -> dict:
    return {row.unit.code: row for group in overview.townships for row in group.rows}


# --- The beat opens the month's round ------------------------------------------------------

def test_the_beat_opens_the_month_round_once_even_when_it_runs_late(county):
    # given a second county beside the demo county
    other = org_unit_create(name="清溪县", kind=UnitKind.COUNTY, code="341123", parent=None)
    # when the beat runs on the 1st, again that day, and late on the 3rd
    first = sweep_rounds_open(now=at("2026-03-01", 0))
    again = sweep_rounds_open(now=at("2026-03-01", 23))
    late = sweep_rounds_open(now=at("2026-03-03", 8))
    # then each county got March's round once, opening on the 1st, due on the 5th working day
    assert {round_.county for round_ in first} == {county, other}
    assert again == [] and late == []
    rounds = SweepRound.objects.filter(kind=RoundKind.MONTHLY)
    assert set(rounds.values_list("county__code", "opens_on", "due_on", "created_by")) == {
        ("341122", D("2026-03-01"), D("2026-03-06"), None),
        ("341123", D("2026-03-01"), D("2026-03-06"), None)}
    assert all("2026" in name for name in rounds.values_list("name", flat=True))
    # and when the beat first runs on April 3rd (down since the 1st), April's round opens
    april = sweep_rounds_open(now=at("2026-04-03", 8))
    assert {round_.opens_on for round_ in april} == {D("2026-04-01")} and len(april) == 2


def test_the_current_round_is_the_latest_monthly_and_a_sensitive_one_until_due(
        march, mediator):
    # given March's round, April's, and a sensitive round of 3-20 to 3-25
    [april] = sweep_rounds_open(now=at("2026-04-01", 1))
    sensitive = SweepRound.objects.create(
        county=march.county, kind=RoundKind.SENSITIVE, name="两会前排查",
        opens_on=D("2026-03-20"), due_on=D("2026-03-25"), created_at=at("2026-03-19"))
    # then on 3-22 March's and the sensitive round are current, on 3-30 only March's
    assert list(sweep_rounds_current(user=mediator, today=D("2026-03-22"))) == [sensitive, march]
    assert list(sweep_rounds_current(user=mediator, today=D("2026-03-30"))) == [march]
    # and in April, April's alone: March's late returns go through March's own page
    assert list(sweep_rounds_current(user=mediator, today=D("2026-04-10"))) == [april]


# --- Returns: a zero report, a village's reports, a missing grid ---------------------------

def test_a_zero_report_and_a_village_return_and_a_missing_grid_as_township_and_county_see_it(
        march, unit, grid, village_mediator, mediator, supervisor, django_assert_num_queries):
    # given a dispute reported in G2 on 3-02
    found = reported(unit, G2, when=at("2026-03-02"))
    # when G1's grid worker files a zero report on 3-03
    zero = file(march, unit, G1, grid, when="2026-03-03", zero=True, note="走访12户，未发现")
    # and the village's mediator files the village's return with G2's report on 3-04
    village = file(march, unit, VILLAGE, village_mediator, zero=False, reports=(found.pk,))
    # then the returns are kept, the report filed in the village's return
    assert (zero.zero, zero.filed_by, zero.note) == (True, grid, "走访12户，未发现")
    found.refresh_from_db()
    assert found.sweep_return == village and not village.zero
    # and each filing is on the trail: the return's event, and one on the report
    event = MediationEvent.objects.get(kind=EventKind.SWEEP_FILED, report__isnull=True,
                                       details__unit=unit(VILLAGE).pk)
    assert event.mediation is None and event.actor == village_mediator
    assert event.details["round"] == march.pk and event.details["reports"] == [found.number]
    assert event.details["late"] is False
    assert MediationEvent.objects.filter(kind=EventKind.SWEEP_FILED, report=found).exists()
    # and the township centre sees G1 zero, the village with one report, G2 not filed
    overview = sweep_overview(round_=march, user=mediator)
    rows = rows_by_code(overview)
    assert [group.township.code for group in overview.townships] == [TOWNSHIP]
    assert rows[G1].filed.zero and rows[VILLAGE].filed.filed_reports == 1
    assert rows[G2].filed is None
    township = overview.townships[0].tally
    # 城关镇: 3 villages and communities, 6 grids
    assert (township.due, township.zero, township.found, township.missing) == (9, 1, 1, 7)
    # and only who has not filed, when asked
    missing = rows_by_code(sweep_overview(round_=march, user=mediator, missing_only=True))
    assert G2 in missing and G1 not in missing and VILLAGE not in missing
    # and the county's supervisor sees G2 missing too, among every township's units
    county = sweep_overview(round_=march, user=supervisor)
    assert rows_by_code(county)[G2].filed is None
    assert len(county.townships) == 4 and county.tally.filed == 2
    assert county.tally.due == OrgUnit.objects.filter(
        kind__in=(UnitKind.GRID, UnitKind.VILLAGE, UnitKind.COMMUNITY)).count()
    # and the overview costs the same few queries for the county as for the township
    with django_assert_num_queries(3):
        sweep_overview(round_=march, user=supervisor)


def test_a_late_return_is_accepted_and_marked_late(march, unit, grid, mediator):
    # when G1 files on Tuesday 3-10, after Friday 3-06
    filed = file(march, unit, G1, grid, when="2026-03-10", zero=True)
    # then it is kept, and shown late; its event says so
    row = rows_by_code(sweep_overview(round_=march, user=mediator))[G1]
    assert row.filed == filed and row.late
    assert MediationEvent.objects.get(kind=EventKind.SWEEP_FILED).details["late"] is True
    assert sweep_overview(round_=march, user=mediator).tally.late == 1


def test_a_grid_worker_cannot_file_for_another_grid(march, unit, grid):
    # when 吴网格 of G1 files G2's return
    with pytest.raises(PermissionDenied):
        file(march, unit, G2, grid, zero=True)
    # then nothing is filed
    assert not SweepReturn.objects.exists()
    assert not MediationEvent.objects.filter(kind=EventKind.SWEEP_FILED).exists()


def test_a_return_is_filed_once(march, unit, grid, mediator):
    # given G1's zero report
    file(march, unit, G1, grid, zero=True)
    # when it is filed again, by the grid worker or by the township centre
    for actor in (grid, mediator):
        with pytest.raises(ValidationError) as refused:
            file(march, unit, G1, actor, zero=True)
        # then it is refused, naming who filed it
        assert refused.value.code == "filed"
    assert SweepReturn.objects.count() == 1


def test_a_zero_report_is_refused_while_the_unit_has_reports_of_the_round(march, unit, grid):
    # given a dispute G1 reported on 3-02, and one of February (before the round)
    reported(unit, G1, when=at("2026-03-02"))
    old = reported(unit, G1, when=at("2026-02-20"))
    # when G1 files a zero report, then it is refused: the report is what it found
    with pytest.raises(ValidationError) as refused:
        file(march, unit, G1, grid, zero=True)
    assert refused.value.code == "not_zero"
    # and February's report is not this round's to file
    with pytest.raises(ValidationError) as refused:
        file(march, unit, G1, grid, zero=False, reports=(old.pk,))
    assert refused.value.code == "stale"
    # and "found disputes" without a report is refused too
    with pytest.raises(ValidationError) as refused:
        file(march, unit, G1, grid, zero=False)
    assert refused.value.code == "no_reports"


def test_a_late_return_to_an_old_round_does_not_take_the_next_rounds_reports(march, unit, grid):
    # given G1's March report, April's round opened, and a dispute G1 reported on 4-02
    in_march = reported(unit, G1, when=at("2026-03-02"))
    [april] = sweep_rounds_open(now=at("2026-04-01", 1))
    in_april = reported(unit, G1, when=at("2026-04-02"))
    # then March's late return may file only March's report
    assert list(sweep_candidates(round_=march, unit=unit(G1), now=at("2026-04-08"))) == [
        in_march]
    with pytest.raises(ValidationError) as refused:
        file(march, unit, G1, grid, when="2026-04-08", zero=False, reports=(in_april.pk,))
    assert refused.value.code == "stale"
    # and April's round has its own report, so no zero report there
    assert list(sweep_candidates(round_=april, unit=unit(G1), now=at("2026-04-08"))) == [
        in_april]


def test_a_report_filed_by_the_village_cannot_be_filed_again_by_its_grid(
        march, unit, grid, village_mediator):
    # given G1's report, filed by the village's return
    found = reported(unit, G1, when=at("2026-03-02"))
    file(march, unit, VILLAGE, village_mediator, zero=False, reports=(found.pk,))
    # when G1 files it again, then it is refused as filed meanwhile
    with pytest.raises(ValidationError) as refused:
        file(march, unit, G1, grid, zero=False, reports=(found.pk,))
    assert refused.value.code == "stale"
    # and G1 may now file a zero report: nothing of the round is left unfiled
    assert file(march, unit, G1, grid, zero=True).zero


def test_a_note_too_long_is_refused(march, unit, grid):
    with pytest.raises(ValidationError) as refused:
        file(march, unit, G1, grid, zero=True, note="字" * (MAX_NOTE + 1))
    assert refused.value.code == "note"


# --- The early-warning list ----------------------------------------------------------------

@pytest.fixture
def risky(unit, committees, mediator):
    """城关镇: a threat with a group in G1, one settled, one not risky, one in mediation and
    one whose mediation ended, one whose petition case is closed; 河口镇: a threat."""
    when = at("2026-03-02")
    made = {
        "threat": threatening(unit, G1, when=when),
        "settled": threatening(unit, G1, when=when, status=ReportStatus.SETTLED),
        "calm": reported(unit, G1, when=when + timedelta(hours=1)),
        "mediating": reported(unit, G2, when=when + timedelta(hours=2), violence_risk=True,
                              status=ReportStatus.TO_VILLAGE),
        "agreed": reported(unit, G2, when=when, beijing_risk=True,
                           status=ReportStatus.TO_VILLAGE),
        "closed": reported(unit, G2, when=when, level_skip_risk=True,
                           status=ReportStatus.REGISTERED,
                           case=CaseFactory(status=CaseStatus.CLOSED)),
        "river": threatening(unit, RIVER_GRID, when=when + timedelta(hours=3)),
    }
    for key, status in (("mediating", MediationStatus.OPEN),
                        ("agreed", MediationStatus.AGREEMENT)):
        MediationCase.objects.create(
            number=f"TW-{key}", committee=committees[VILLAGE], kind=MediationKind.PEOPLES,
            dispute_kind=DisputeKind.LAND, summary="纠纷", source=MediationSource.GRID_REPORT,
            report=made[key], status=status, opened_at=when, opened_by=mediator)
    return made


def warned(warnings) -> dict:
    """{report number: (township, village, grid, warning)} of an early-warning list."""
    return {item.report.number: (township.township.code, village.village.code,
                                 grid.grid.code, item)
            for township in warnings.townships for village in township.villages
            for grid in village.grids for item in grid.warnings}


def test_the_early_warnings_by_place_hide_settled_and_ended_disputes(risky, mediator):
    # when the township centre of 城关镇 looks
    shown = warned(early_warnings(user=mediator))
    # then the threat is under its township, village and grid, with its words
    township, village, grid_code, item = shown[risky["threat"].number]
    assert (township, village, grid_code) == (TOWNSHIP, VILLAGE, G1)
    assert item.may_open and item.report.group_size == 12
    # and the dispute in mediation is there with its mediation case
    assert shown[risky["mediating"].number][3].mediation.number == "TW-mediating"
    # and the settled one, the calm one, the agreed one and the closed case's are not;
    # nor is 河口镇's
    assert set(shown) == {risky["threat"].number, risky["mediating"].number}


def test_the_early_warnings_are_newest_first_in_each_place(risky, unit, mediator):
    # given a second, newer threat in G1
    newer = threatening(unit, G1, when=at("2026-03-05"))
    # then G1 lists the newer first
    warnings = early_warnings(user=mediator)
    [township] = warnings.townships
    grids = {grid.grid.code: grid for village in township.villages for grid in village.grids}
    assert [item.report for item in grids[G1].warnings] == [newer, risky["threat"]]
    assert township.count == 3


def test_a_township_sees_only_its_own_warnings_and_the_county_all(risky, unit, mediator,
                                                                  supervisor):
    # given the township centre of 河口镇
    river = user_with(Role.MEDIATOR, unit, RIVER)
    # then it sees 河口镇's threat only, and 城关镇's centre not that one
    assert set(warned(early_warnings(user=river))) == {risky["river"].number}
    assert risky["river"].number not in warned(early_warnings(user=mediator))
    # and the county's supervisor sees both townships', in the order of the tree
    county = early_warnings(user=supervisor)
    assert [group.township.code for group in county.townships] == [TOWNSHIP, RIVER]


def test_the_threat_words_only_for_who_may_open_the_report(risky, village_mediator, client):
    # when the village's mediator (who files the village's return, and does not open the
    # township's reports) looks
    item = warned(early_warnings(user=village_mediator))[risky["threat"].number][3]
    # then the threat is flagged, its words not given
    assert item.report.threat and not item.may_open and item.url == ""
    client.force_login(village_mediator)
    page = client.get(reverse("mediation:sweeps")).content.decode()
    assert 'data-flag="threat"' in page and 'data-flag="group"' in page
    assert "不解决就去县里闹" not in page


def test_the_early_warnings_take_the_same_queries_for_two_or_twenty(risky, unit, supervisor):
    # given the list once (the user's roles are read, as on any page)
    early_warnings(user=supervisor)
    with CaptureQueriesContext(connection) as few:
        early_warnings(user=supervisor)
    # when eighteen more threats come in, across two townships
    for number in range(18):
        threatening(unit, (G1, G2, RIVER_GRID)[number % 3], when=at("2026-03-06"))
    with CaptureQueriesContext(connection) as many:
        warnings = early_warnings(user=supervisor)
    # then the count of statements did not move
    assert warnings.count == 21 and len(many) == len(few) == 2


# --- The pages -----------------------------------------------------------------------------

@pytest.fixture
def this_week(county) -> SweepRound:
    """A round open today (the pages file at the real time), due in three days."""
    today = office_today()
    return SweepRound.objects.create(
        county=county, kind=RoundKind.SENSITIVE, name="国庆前排查",
        opens_on=today - timedelta(days=2), due_on=today + timedelta(days=3),
        created_at=at("2026-01-01"))


def post_return(client, round_, unit_, data: dict):
    prefix = f"r{round_.pk}-u{unit_.pk}"
    return client.post(reverse("mediation:sweep_file", args=[round_.pk, unit_.pk]),
                       {f"{prefix}-{name}": value for name, value in data.items()})


def test_the_grid_worker_files_a_zero_report_on_the_landing_page(this_week, unit, grid, client,
                                                                 mediator):
    # given the grid worker's landing page with their grid's form
    client.force_login(grid)
    page = client.get(reverse("mediation:sweeps"))
    assert page.status_code == 200
    assert f'data-unit="{G1}"' in page.content.decode()
    assert reverse("mediation:sweep_file", args=[this_week.pk, unit(G1).pk]) in (
        page.content.decode())
    # when they file a zero report
    response = post_return(client, this_week, unit(G1), {"filing": "zero", "note": "无"})
    # then it is filed and they see it filed
    assert response.status_code == 302
    assert SweepReturn.objects.get(round=this_week, unit=unit(G1)).zero
    page = client.get(response.url).content.decode()
    assert "pd-due-on_track" in page
    assert reverse("mediation:sweep_file", args=[this_week.pk, unit(G1).pk]) not in page
    # and the township centre's landing page counts it, with G2 still to file
    client.force_login(mediator)
    page = client.get(reverse("mediation:sweep_round", args=[this_week.pk]) + "?show=missing")
    text = page.content.decode()
    assert f'data-unit="{G2}"' in text and f'data-unit="{G1}"' not in text


def test_the_form_keeps_what_was_typed_and_says_what_is_wrong(this_week, unit, grid, client):
    grid.language = "en"
    grid.save(update_fields=["language"])
    client.force_login(grid)
    # when the note is too long
    response = post_return(client, this_week, unit(G1), {"filing": "zero",
                                                          "note": "x" * (MAX_NOTE + 1)})
    # then the page comes back with the message and the note kept
    text = response.content.decode()
    assert response.status_code == 200 and "Keep the note to 500 characters" in text
    assert "x" * (MAX_NOTE + 1) in text and "pd-error-summary" in text
    # when "disputes found" comes with no report ticked
    response = post_return(client, this_week, unit(G1), {"filing": "found"})
    assert response.status_code == 200
    assert "Tick the grid reports" in response.content.decode()
    # when nothing is chosen at all
    response = post_return(client, this_week, unit(G1), {"note": "忘了选"})
    assert "Say whether the sweep found disputes" in response.content.decode()
    assert not SweepReturn.objects.exists()


def test_filing_twice_gives_a_message_and_a_conflict(this_week, unit, grid, client):
    grid.language = "en"
    grid.save(update_fields=["language"])
    client.force_login(grid)
    assert post_return(client, this_week, unit(G1), {"filing": "zero"}).status_code == 302
    # when the same form is sent again (a second tab, the back button)
    response = post_return(client, this_week, unit(G1), {"filing": "zero"})
    # then it is refused with a message naming who filed it
    assert response.status_code == 409
    assert "was already filed by" in response.content.decode()
    assert SweepReturn.objects.count() == 1


def test_a_village_files_its_reports_on_the_page(this_week, unit, village_mediator, client):
    # given a report of the village's G2 yesterday
    found = reported(unit, G2, when=at(str(office_today() - timedelta(days=1))))
    client.force_login(village_mediator)
    page = client.get(reverse("mediation:sweeps")).content.decode()
    assert found.number in page
    # when the village's mediator files it
    response = post_return(client, this_week, unit(VILLAGE),
                           {"filing": "found", "reports": [found.pk]})
    # then the report is filed in the village's return
    assert response.status_code == 302
    found.refresh_from_db()
    assert found.sweep_return.unit == unit(VILLAGE)


def test_a_page_for_another_grid_is_refused(this_week, unit, grid, client):
    client.force_login(grid)
    response = post_return(client, this_week, unit(G2), {"filing": "zero"})
    assert response.status_code == 403 and not SweepReturn.objects.exists()


def test_the_landing_page_is_refused_to_whom_the_sweep_is_not(county, clerk, client):
    client.force_login(clerk)
    assert client.get(reverse("mediation:sweeps")).status_code == 403


def test_a_late_return_on_the_page_is_accepted_and_said_late(county, unit, grid, client,
                                                             mediator):
    # given a round whose due day was yesterday
    today = office_today()
    round_ = SweepRound.objects.create(
        county=county, kind=RoundKind.SENSITIVE, name="春节前排查",
        opens_on=today - timedelta(days=8), due_on=today - timedelta(days=1),
        created_at=at("2026-01-01"))
    client.force_login(grid)
    assert post_return(client, round_, unit(G1), {"filing": "zero"}).status_code == 302
    # then the township centre sees it late, and G2 not filed past the due day
    client.force_login(mediator)
    text = client.get(reverse("mediation:sweep_round", args=[round_.pk])).content.decode()
    assert f'data-unit="{G1}" data-state="zero late"' in text
    assert f'data-unit="{G2}" data-state="missing"' in text and "pd-due-overdue" in text


# --- The admin -----------------------------------------------------------------------------

def test_the_county_administrator_adds_a_round_before_a_sensitive_date(county, admin_client_en,
                                                                        admin_user):
    url = reverse("admin:mediation_sweepround_add")
    form = {"county": county.pk, "kind": RoundKind.SENSITIVE, "name": "国庆前排查",
            "opens_on": "2026-09-21", "due_on": "2026-09-25"}
    # when the county's administrator adds it
    response = admin_client_en.post(url, form)
    # then the round is there, theirs
    assert response.status_code == 302, response.content.decode()[:2000]
    made = SweepRound.objects.get(kind=RoundKind.SENSITIVE)
    assert (made.opens_on, made.due_on, made.created_by) == (
        D("2026-09-21"), D("2026-09-25"), admin_user)
    # and a monthly round, or one due before it opens, is refused with a message
    response = admin_client_en.post(url, {**form, "kind": RoundKind.MONTHLY})
    assert response.status_code == 200 and "open by themselves" in response.content.decode()
    response = admin_client_en.post(url, {**form, "opens_on": "2026-09-30"})
    assert "cannot be due before the round opens" in response.content.decode()
    assert SweepRound.objects.count() == 1


def test_the_sweep_rounds_admin_is_not_for_others(county, head, client):
    client.force_login(head)
    assert client.get(reverse("admin:mediation_sweepround_changelist")).status_code in (302, 403)



def test_the_beat_task_opens_this_month_round_once(county):
    from mediation.tasks import sweep_rounds_open_task

    # when the beat's task runs twice today
    counts = [sweep_rounds_open_task.apply().get() for _ in range(2)]
    # then this month's round opened once, on the 1st
    assert counts == [1, 0]
    assert SweepRound.objects.get().opens_on == office_today().replace(day=1)


def test_the_administrator_keeps_the_committees(committees, admin_client_en):
    # when the county's administrator opens the committees
    response = admin_client_en.get(reverse("admin:mediation_committee_changelist"))
    # then the county's committees are listed; none can be deleted
    assert response.status_code == 200 and "341122100001-TW" in response.content.decode()
    committee = committees[VILLAGE]
    page = admin_client_en.get(reverse("admin:mediation_committee_change", args=[committee.pk]))
    assert page.status_code == 200
    assert admin_client_en.get(reverse("admin:mediation_committee_delete",
                                       args=[committee.pk])).status_code == 403
