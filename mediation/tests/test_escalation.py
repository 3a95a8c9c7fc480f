"""The dispute clocks' ladder and its sweep (mediation/escalation.py), on the real stack.

A grid report reaches the 城关镇 centre on Monday 2026-11-02: its report_ack clock (one
working day, the start day not counted) is due Tuesday 11-03, at 24:00. The default ladder
(cases/deadlines/ladder.py) tells the centre at the due time (level 1), the centre and the
township's leaders a working day late (level 2), the supervisors and the leaders after 3
(level 3). A mediation opened that day (30 calendar days) is due Wednesday 12-02: its
mediators are warned 3 working days before (11-27), told with the leaders at the due time,
and the supervisors hear of it 5 working days late. No holiday falls in these weeks.
"""

import threading
import uuid
from datetime import date, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import RoleAssignment
from cases.choices import ClockKind, ClockStatus
from cases.deadlines.clocks import OFFICE_TZ, office_calendar
from cases.deadlines.ladder import ladder_seed
from cases.deadlines.rules import rules_seed
from cases.deadlines.schedule import fire_at
from cases.models import DeadlineRule, LadderStep
from mediation.clocks import dispute_clock_meet, dispute_clock_start
from mediation.escalation import dispute_clocks_panel, dispute_sweep
from mediation.models import (
    Agreement,
    AgreementForm,
    DisputeClock,
    DisputeEscalation,
    DisputeKind,
    EventKind,
    GridReport,
    MediationCase,
    MediationEvent,
    MediationKind,
    MediationParty,
    MediationSource,
    ReportStatus,
    Side,
    Term,
)
from notifications.models import Notification

pytestmark = pytest.mark.django_db

TOWNSHIP, VILLAGE, GRID = "341122100", "341122100001", "341122100001-G1"


def at(day: str, hour: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=OFFICE_TZ)


RECEIVED = at("2026-11-02", 10)
# report_ack, due 11-03: the due time, one working day late, three working days late.
ACK_AT = {1: at("2026-11-04"), 2: at("2026-11-05"), 3: at("2026-11-07")}
# mediation, due 12-02: three working days before, the due time, five working days late.
MEDIATION_AT = {1: at("2026-11-27"), 2: at("2026-12-03"), 3: at("2026-12-10")}


def grid_report(unit, reporter, *, received: datetime = RECEIVED) -> GridReport:
    """A report passed to the 城关镇 centre, made as rows (not through the services)."""
    return GridReport.objects.create(
        number=f"{TOWNSHIP}-{uuid.uuid4().hex[:8]}", client_key=uuid.uuid4(), grid=unit(GRID),
        township=unit(TOWNSHIP), reported_by=reporter, found_at=received,
        received_at=received, kind=DisputeKind.NEIGHBOURS, place="东关社区3组",
        summary="邻里排水沟纠纷", status=ReportStatus.REPORTED)


def ack_clock(unit, reporter, **kwargs) -> DisputeClock:
    report = grid_report(unit, reporter, **kwargs)
    return dispute_clock_start(owner=report, kind=ClockKind.REPORT_ACK,
                               start=report.received_at, at=report.received_at)


def mediation_case(committee, opener, *, mediators=()) -> MediationCase:
    case = MediationCase.objects.create(
        number=f"{committee.code}-2026-{uuid.uuid4().hex[:6]}", committee=committee,
        kind=MediationKind.PEOPLES, dispute_kind=DisputeKind.LAND, summary="宅基地边界",
        source=MediationSource.WALK_IN, opened_at=RECEIVED, opened_by=opener)
    case.mediators.set(mediators)
    return case


def page(name: str, pk: int, path: str) -> str:
    """The owner's page: its view's URL, or the documented path while no view is installed."""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return path.format(pk)


def recipients(clock: DisputeClock) -> dict[int, set[int]]:
    return {row.level: set(row.recipients)
            for row in DisputeEscalation.objects.filter(clock=clock)}


def fired(clock: DisputeClock) -> list[int]:
    return list(DisputeEscalation.objects.filter(clock=clock).order_by("level")
                .values_list("level", flat=True))


# --- When each level fires, and whom it reaches ------------------------------------------

def test_the_instants_are_the_cases_firing_rule():
    # the ladder's offsets on the report and mediation clocks' due days, by the cases' rule
    calendar = office_calendar()

    def instant(offset, due_on):
        due_at = datetime.combine(due_on + timedelta(days=1), datetime.min.time(),
                                  tzinfo=OFFICE_TZ)
        return fire_at(offset, due_on=due_on, due_at=due_at, calendar=calendar, tz=OFFICE_TZ)

    assert {lvl: instant(off, date(2026, 11, 3)) for lvl, off in {1: 0, 2: 1, 3: 3}.items()} \
        == ACK_AT
    assert {lvl: instant(off, date(2026, 12, 2)) for lvl, off in {1: -3, 2: 0, 3: 5}.items()} \
        == MEDIATION_AT


def test_a_report_is_escalated_level_by_level_to_the_centre_the_leader_and_the_supervisor(
        unit, grid, mediator, village_mediator, leader, supervisor, head):
    # given a report's acknowledgement clock, started as the report arrived
    clock = ack_clock(unit, grid)
    assert (clock.due_on, clock.next_level, clock.next_fire_at) == (date(2026, 11, 3), 1,
                                                                    ACK_AT[1])
    # when sweeps run a minute before and at each level's instant
    assert dispute_sweep(now=ACK_AT[1] - timedelta(minutes=1)).total == 0
    for level, instant in ACK_AT.items():
        report = dispute_sweep(now=instant)
        assert report.fired == {("report_ack", level): 1}
        assert dispute_sweep(now=instant).total == 0  # a rerun fires nothing
        clock.refresh_from_db()
        assert clock.next_level == (level + 1 if level < 3 else None)
    # then each level reached, from the roles held: the centre's mediator (not the
    # village's), the township's leader, the county's supervisor
    assert recipients(clock) == {1: {mediator.pk}, 2: {mediator.pk, leader.pk},
                                 3: {supervisor.pk, leader.pk}}
    assert village_mediator.pk not in set().union(*recipients(clock).values())
    assert head.pk not in set().union(*recipients(clock).values())  # no "office" level here
    # each level is one event on the report's trail
    events = MediationEvent.objects.filter(report=clock.report, kind=EventKind.CLOCK,
                                           details__action="escalated")
    assert sorted((e.details["level"], tuple(sorted(e.details["recipients"])))
                  for e in events) == sorted((lvl, tuple(sorted(people)))
                                             for lvl, people in recipients(clock).items())
    # and the people were told, with a link to the report and its number
    note = Notification.objects.get(user=supervisor)
    assert note.case_id is None and note.message == "clock.overdue"
    assert note.url == page("mediation:report", clock.report_id, "/mediation/reports/{}/")
    assert note.params == {"case_number": clock.report.number, "level": 3,
                           "clock_label": "Grid report: the centre takes it up",
                           "due_on": "2026-11-03"}
    assert Notification.objects.filter(user=leader).count() == 2  # levels 2 and 3


def test_a_catch_up_fires_each_level_once_and_tells_each_person_once(
        unit, grid, mediator, leader, supervisor):
    # given a clock whose three levels all came due while nothing ran
    clock = ack_clock(unit, grid)
    # when the first sweep afterwards runs
    report = dispute_sweep(now=at("2026-11-20", 9))
    # then every level fired once, and each person got one notification naming the highest
    assert fired(clock) == [1, 2, 3] and report.total == 3
    (note,) = Notification.objects.filter(user=leader)
    assert note.params["level"] == 3
    (note,) = Notification.objects.filter(user=mediator)
    assert note.params["level"] == 2
    assert Notification.objects.count() == 3


def test_a_leader_who_left_the_township_is_not_told(unit, grid, mediator, leader):
    # given the leader no longer holds a post at 城关镇 when level 2 comes
    clock = ack_clock(unit, grid)
    RoleAssignment.objects.filter(user=leader, unit=unit(TOWNSHIP)).delete()
    # when it fires
    dispute_sweep(now=ACK_AT[2])
    # then it reached the centre only
    assert recipients(clock)[2] == {mediator.pk}
    assert not Notification.objects.filter(user=leader).exists()


def test_a_met_clock_does_not_fire(unit, grid, mediator):
    # given a report's clock that fired its first level
    clock = ack_clock(unit, grid)
    dispute_sweep(now=ACK_AT[1])
    # when the centre takes the report up, the clock is met
    dispute_clock_meet(owner=clock.report, kind=ClockKind.REPORT_ACK, at=at("2026-11-04", 9))
    clock.refresh_from_db()
    assert clock.status == ClockStatus.MET and clock.next_fire_at is None
    # then no later sweep fires on it
    assert dispute_sweep(now=at("2026-12-31")).total == 0 and fired(clock) == [1]


def test_a_window_never_fires(committees, mediator):
    # given the parties' court-confirmation window, run out long ago and still open
    case = mediation_case(committees[TOWNSHIP], mediator, mediators=[mediator])
    window = dispute_clock_start(owner=case, kind=ClockKind.CONFIRMATION, start=RECEIVED,
                                 at=RECEIVED)
    assert window.is_window and window.next_fire_at is None
    assert dispute_sweep(now=at("2027-03-01")).total == 0
    # and a window whose next level was written by mistake (a bulk load) fires nothing:
    # the sweep clears it
    DisputeClock.objects.filter(pk=window.pk).update(next_level=1, next_fire_at=RECEIVED)
    assert dispute_sweep(now=at("2027-03-01")).total == 0
    window.refresh_from_db()
    assert (window.next_level, window.next_fire_at) == (None, None)
    assert not DisputeEscalation.objects.exists() and not Notification.objects.exists()


def test_a_mediation_clock_reaches_its_mediators_and_the_village_s_township(
        committees, mediator, village_mediator, leader, supervisor):
    # given a village committee's mediation, mediated by 何调解
    case = mediation_case(committees[VILLAGE], village_mediator, mediators=[village_mediator])
    clock = dispute_clock_start(owner=case, kind=ClockKind.MEDIATION, start=RECEIVED,
                                at=RECEIVED)
    assert (clock.due_on, clock.next_fire_at) == (date(2026, 12, 2), MEDIATION_AT[1])
    # when the sweep runs five working days after the due time
    assert dispute_sweep(now=MEDIATION_AT[3]).total == 3
    # then "unit" is its mediators (not the township centre's), and the leader is the
    # leader of the township the village lies in
    assert recipients(clock) == {1: {village_mediator.pk},
                                 2: {village_mediator.pk, leader.pk},
                                 3: {supervisor.pk, leader.pk}}
    note = Notification.objects.get(user=village_mediator)
    assert note.url == page("mediation:case", case.pk, "/mediation/cases/{}/")
    assert note.params["case_number"] == case.number
    assert MediationEvent.objects.filter(mediation=case, details__action="escalated").count() == 3


def test_a_mediation_without_mediators_reaches_the_committee_s_mediators(
        committees, mediator, village_mediator):
    # given a township committee's mediation with no mediator named yet
    case = mediation_case(committees[TOWNSHIP], mediator)
    clock = dispute_clock_start(owner=case, kind=ClockKind.MEDIATION, start=RECEIVED,
                                at=RECEIVED)
    # when its warning fires
    dispute_sweep(now=MEDIATION_AT[1])
    # then it reached the mediators of the committee's unit
    assert recipients(clock) == {1: {mediator.pk}}


def test_a_term_s_performance_clock_reaches_the_case_s_mediators(
        committees, mediator, village_mediator, leader):
    # given a term of a village mediation's agreement, to be performed within 10 days
    case = mediation_case(committees[VILLAGE], village_mediator, mediators=[village_mediator])
    party = MediationParty.objects.create(case=case, side=Side.RESPONDENT,
                                          organisation="柳树村建筑队")
    agreement = Agreement.objects.create(
        case=case, form=AgreementForm.WRITTEN, facts="边界不清", issues="退让半米",
        signed_on=date(2026, 11, 2), parties_signed=True, mediator_signed=True, sealed=True,
        recorded_by=village_mediator, recorded_at=RECEIVED)
    term = Term.objects.create(agreement=agreement, position=1, obligor=party,
                               content="拆除围墙", manner="自行拆除",
                               due_on=date(2026, 11, 12))
    clock = dispute_clock_start(owner=term, kind=ClockKind.PERFORMANCE, start=RECEIVED,
                                at=RECEIVED, days=10)
    # when its day and five working days more have passed
    assert dispute_sweep(now=at("2026-11-25")).total == 2
    # then the case's mediators were told, then the township's leaders too; the events
    # are on the mediation and name the term
    assert recipients(clock) == {1: {village_mediator.pk}, 2: {village_mediator.pk, leader.pk}}
    events = MediationEvent.objects.filter(mediation=case, details__action="escalated")
    assert {e.details["term"] for e in events} == {term.pk}


def test_the_panel_shows_the_clocks_and_what_fired(unit, grid, mediator, leader, english):
    # given a report whose clock fired two levels
    clock = ack_clock(unit, grid)
    dispute_sweep(now=ACK_AT[2])
    # when its page shows the partial
    html = render_to_string("mediation/_clocks.html",
                            {"clocks": dispute_clocks_panel(clock.report, now=ACK_AT[2])})
    # then the clock, its standing and each level with whom it reached are there
    assert "Grid report: the centre takes it up" in html and "Overdue" in html
    assert 'data-level="1"' in html and 'data-level="2"' in html
    assert 'data-level="3"' not in html
    assert leader.name in html and mediator.name in html


# --- Exactly once, whatever happens --------------------------------------------------------

def test_the_statements_do_not_grow_with_the_clocks(unit, grid, mediator):
    # given 10 clocks, then 200 more, whose first level comes due at the same instant
    for _ in range(10):
        ack_clock(unit, grid)
    with CaptureQueriesContext(connection) as few:
        assert dispute_sweep(now=ACK_AT[1]).total == 10
    for _ in range(200):
        ack_clock(unit, grid)
    with CaptureQueriesContext(connection) as many:
        assert dispute_sweep(now=ACK_AT[1]).total == 200
    # then both sweeps ran the same statements
    assert len(many) == len(few)
    assert Notification.objects.filter(user=mediator).count() == 210


def test_a_sweep_that_fails_mid_batch_leaves_nothing_and_the_rerun_fires_once(unit, grid):
    # given a database failure inside the batch: the trail refuses level-2 rows
    clocks = [ack_clock(unit, grid) for _ in range(5)]
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION refuse_level_2() RETURNS trigger AS $$
            BEGIN
              IF NEW.details->>'level' = '2' THEN RAISE EXCEPTION 'disk full'; END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_level_2 BEFORE INSERT ON mediation_mediationevent
              FOR EACH ROW EXECUTE FUNCTION refuse_level_2();
        """)
    # when the sweep for levels 1 and 2 runs, it fails, and nothing of the batch is left
    with pytest.raises(Exception, match="disk full"):
        dispute_sweep(now=ACK_AT[2])
    assert not DisputeEscalation.objects.exists() and not Notification.objects.exists()
    assert set(DisputeClock.objects.values_list("next_level", flat=True)) == {1}
    # when the failure is gone and the sweep runs again, each level fires once
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER refuse_level_2 ON mediation_mediationevent; "
                       "DROP FUNCTION refuse_level_2();")
    assert dispute_sweep(now=ACK_AT[2]).total == 10
    assert all(fired(clock) == [1, 2] for clock in clocks)


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_fire_each_level_exactly_once(unit, grid, mediator):
    # given 40 clocks whose first two levels are due, and two sweeps starting together on
    # two connections
    rules_seed(DeadlineRule)  # transactional tests truncate the seeded rows
    ladder_seed(LadderStep)
    clocks = [ack_clock(unit, grid) for _ in range(40)]
    start = threading.Barrier(2)
    totals: list[int] = []

    def sweep():
        try:
            start.wait(timeout=10)
            totals.append(dispute_sweep(now=ACK_AT[2], batch=7).total)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then together they fired each (clock, level) once, with one event each
    assert len(totals) == 2
    assert sum(totals) == 80 == DisputeEscalation.objects.count()
    assert all(fired(clock) == [1, 2] for clock in clocks)
    assert MediationEvent.objects.filter(details__action="escalated").count() == 80
    # and the centre's mediator was told once per clock, of its highest level
    notes = Notification.objects.filter(user=mediator)
    assert notes.count() == 40 and {note.params["level"] for note in notes} == {2}


# --- The beat ----------------------------------------------------------------------------------

def test_beat_names_a_registered_task_that_runs_the_sweep(unit, grid, leader):
    import mediation.tasks  # noqa: F401  (as the worker's autodiscovery does)
    from config.celery import app

    # given the beat entry, and a report that reached the centre three weeks ago
    entry = settings.CELERY_BEAT_SCHEDULE["mediation-sweep"]
    clock = ack_clock(unit, grid, received=timezone.now() - timedelta(days=21))
    # when the task it names runs through the app
    total = app.tasks[entry["task"]].apply().get()
    # then it swept every level the clock passed
    assert total == 3 and fired(clock) == [1, 2, 3]
    assert Notification.objects.filter(
        user=leader, url=page("mediation:report", clock.report_id, "/mediation/reports/{}/"),
    ).exists()



def test_the_nightly_refresh_follows_a_calendar_edit(db, unit, grid):
    """An administrator adds a local holiday: the live dispute clocks' due days follow at the
    nightly run (M-clocks), and the task is on beat."""
    from datetime import date, datetime

    from django.conf import settings

    from cases.deadlines.clocks import OFFICE_TZ
    from cases.models import CalendarDay
    from mediation.clocks import dispute_clock_start, dispute_clocks_refresh
    from mediation.models import DisputeKind, GridReport, ReportStatus
    from mediation.tasks import dispute_clocks_refresh_task

    at = datetime(2026, 11, 2, 10, tzinfo=OFFICE_TZ)  # a Monday
    report = GridReport.objects.create(
        number="T-WG-1", client_key="0b9b8a3e-1a2b-4c5d-8e9f-0000000000aa",
        grid=unit("341122100001-G1"), township=unit("341122100"), reported_by=grid,
        found_at=at, received_at=at, kind=DisputeKind.NEIGHBOURS, place="x", summary="y",
        status=ReportStatus.REPORTED)
    clock = dispute_clock_start(owner=report, kind="report_ack", start=at, at=at)
    assert clock.due_on == date(2026, 11, 3)
    CalendarDay.objects.create(day=date(2026, 11, 3), is_workday=False, name="County day")
    assert dispute_clocks_refresh() == 1
    clock.refresh_from_db()
    assert clock.due_on == date(2026, 11, 4)
    assert dispute_clocks_refresh() == 0  # nothing more to change
    assert (settings.CELERY_BEAT_SCHEDULE["mediation-clocks-refresh-nightly"]["task"]
            == dispute_clocks_refresh_task.name)
