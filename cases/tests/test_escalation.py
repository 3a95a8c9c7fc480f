"""The escalation ladder and its sweep (cases/services/escalation.py), on the real stack.

The default ladder (cases/deadlines/ladder.py) on a reply clock due 2026-09-30, the eve
of National Day: level 1 warns the lead unit 3 working days before, level 2 reaches the
leader at the due time, level 3 opens a supervision order after 3 working days overdue
(the 3rd is the make-up Saturday 10-10), level 4 reaches the county's principal leaders
after 10.
"""

import threading
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.choices import Role
from accounts.models import RoleAssignment
from accounts.tests.factories import UserFactory
from cases.choices import CaseStatus, ClockStatus, EventKind
from cases.deadlines.clocks import OFFICE_TZ, clock_extend, clock_meet, office_calendar
from cases.deadlines.ladder import ladder_seed
from cases.deadlines.rules import rules_seed
from cases.deadlines.schedule import fire_at
from cases.models import CaseEvent, Deadline, DeadlineRule, Escalation, LadderStep
from cases.services.escalation import escalation_reschedule, escalation_sweep
from cases.tests.factories import CaseFactory, DeadlineFactory, demo_unit
from notifications.models import Notification

pytestmark = pytest.mark.django_db

TOWNSHIP, COUNTY = "341122100", "341122"
DUE_ON = date(2026, 9, 30)
DUE_AT = datetime(2026, 10, 1, tzinfo=OFFICE_TZ)  # 24:00 of the due day


def at(day: str, hour: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=OFFICE_TZ)


# The instants the default ladder fires on a clock due 09-30 (see the module docstring).
LEVEL_AT = {1: at("2026-09-24"), 2: DUE_AT, 3: at("2026-10-11"), 4: at("2026-10-21")}


@pytest.fixture
def principal(county):
    user = UserFactory(username="principal", name="刘县长")
    RoleAssignment.objects.create(user=user, role=Role.LEADER, unit=demo_unit(COUNTY))
    return user


def reply_clock(demo_users, **case_fields) -> Deadline:
    """A reply clock of a case 城关镇 handles under the demo leader, due 09-30."""
    case = CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(TOWNSHIP),
                       leader=demo_users["leader"], **case_fields)
    clock = DeadlineFactory(case=case, kind="reply", length=60, unit="calendar",
                            due_on=DUE_ON, due_at=DUE_AT)
    escalation_reschedule()  # a clock written without the services, as a bulk load does
    clock.refresh_from_db()
    return clock


def fired(clock: Deadline) -> list[int]:
    return list(Escalation.objects.filter(deadline=clock).order_by("level")
                .values_list("level", flat=True))


# --- When each level fires --------------------------------------------------------------

def test_the_ladder_crosses_national_day_and_a_make_up_workday():
    calendar = office_calendar()
    offsets = {1: -3, 2: 0, 3: 3, 4: 10}
    got = {level: fire_at(offset, due_on=DUE_ON, due_at=DUE_AT, calendar=calendar, tz=OFFICE_TZ)
           for level, offset in offsets.items()}
    # 3 working days before 09-30 skip the Mid-autumn days 09-25..27; 3 after the due day
    # skip 10-01..07 and count the make-up Saturday 10-10; 10 after skip 10-11, 17, 18
    assert got == LEVEL_AT


def test_a_clock_is_scheduled_for_its_first_level(demo_users):
    clock = reply_clock(demo_users)
    assert (clock.next_level, clock.next_fire_at) == (1, LEVEL_AT[1])


# --- Firing -------------------------------------------------------------------------------

def test_each_level_fires_once_when_it_comes_due(demo_users, principal):
    # given the reply clock due 09-30
    clock = reply_clock(demo_users)
    handler, head, leader = demo_users["handler"], demo_users["head"], demo_users["leader"]
    supervisor = demo_users["supervisor"]
    # when sweeps run a minute before and at each level's instant
    assert escalation_sweep(now=LEVEL_AT[1] - timedelta(minutes=1)).total == 0
    for level, instant in LEVEL_AT.items():
        report = escalation_sweep(now=instant)
        assert report.fired == {("reply", level): 1}
        assert escalation_sweep(now=instant).total == 0  # a rerun fires nothing
    # then each level reached its audience, resolved from the roles held
    rows = {row.level: set(row.recipients) for row in Escalation.objects.filter(deadline=clock)}
    assert rows == {1: {handler.pk, head.pk}, 2: {handler.pk, head.pk, leader.pk},
                    3: {supervisor.pk, leader.pk}, 4: {principal.pk, supervisor.pk}}
    # each is an audit row on the case, and the clock has nothing left to fire
    events = CaseEvent.objects.filter(case=clock.case, kind=EventKind.ESCALATED)
    assert sorted(e.details["level"] for e in events) == [1, 2, 3, 4]
    clock.refresh_from_db()
    assert (clock.next_level, clock.next_fire_at) == (None, None)
    # and the people were told in the notification centre
    assert Notification.objects.filter(user=principal, case=clock.case).count() == 1


def test_after_a_day_down_the_catch_up_fires_each_level_once_and_tells_each_person_once(
        demo_users, principal):
    # given a clock whose four levels all came due while nothing ran
    clock = reply_clock(demo_users)
    # when the first sweep afterwards runs
    report = escalation_sweep(now=at("2026-10-22", 9))
    # then every level fired once, and each person got one notification naming the highest
    assert fired(clock) == [1, 2, 3, 4] and report.total == 4
    leader = demo_users["leader"]
    (note,) = Notification.objects.filter(user=leader, case=clock.case, kind="escalation")
    assert note.params["level"] == 3  # the leader's highest level: 2 and 3 reach them
    assert Notification.objects.filter(case=clock.case, kind="escalation").count() == len(
        {u for row in Escalation.objects.filter(deadline=clock) for u in row.recipients})
    # and level 3 opened one supervision order, which its unit was told of once
    assert Notification.objects.filter(case=clock.case, kind="supervision").count() == len(
        {demo_users["handler"].pk, demo_users["head"].pk})


def test_windows_never_escalate(demo_users):
    # given an objection window that ran out long ago, still open
    case = CaseFactory(status=CaseStatus.ROUTED, lead_unit=demo_unit(TOWNSHIP))
    window = DeadlineFactory(case=case, kind="objection", due_on=DUE_ON, due_at=DUE_AT)
    escalation_reschedule()
    window.refresh_from_db()
    # then it is not scheduled, and no sweep fires on it
    assert window.is_window and window.next_fire_at is None
    assert escalation_sweep(now=at("2026-12-01")).total == 0


def test_a_met_clock_stops_and_an_extension_moves_the_next_level(demo_users):
    clock = reply_clock(demo_users)
    escalation_sweep(now=LEVEL_AT[1])
    # when the reply period is extended by 30 days (a service: the schedule follows)
    clock_extend(case=clock.case, kind="reply", days=30, actor=None, at=at("2026-09-25"))
    clock.refresh_from_db()
    # then level 1 stays fired and level 2 moves to the new due time
    assert (clock.next_level, clock.next_fire_at) == (2, clock.due_at) and clock.due_on > DUE_ON
    # when the reply is issued, the clock is met and nothing more fires
    clock_meet(case=clock.case, kind="reply", actor=None, at=at("2026-10-20"))
    clock.refresh_from_db()
    assert clock.status == ClockStatus.MET and clock.next_fire_at is None
    assert escalation_sweep(now=at("2026-12-31")).total == 0 and fired(clock) == [1]


def test_a_leader_who_left_the_place_is_not_told(demo_users):
    # given the leader no longer holds a post over 城关镇
    clock = reply_clock(demo_users)
    leader = demo_users["leader"]
    RoleAssignment.objects.filter(user=leader, unit=demo_unit(TOWNSHIP)).delete()
    # when the due time passes
    escalation_sweep(now=LEVEL_AT[2])
    # then level 2 reached the unit only
    row = Escalation.objects.get(deadline=clock, level=2)
    assert leader.pk not in row.recipients and row.recipients
    assert not Notification.objects.filter(user=leader).exists()


def test_an_edited_ladder_takes_effect_on_reschedule(demo_users):
    # given the office moves the warning to 5 working days before
    clock = reply_clock(demo_users)
    LadderStep.objects.filter(clock_kind="reply", level=1).update(offset=-5)
    escalation_reschedule(kind="reply")
    clock.refresh_from_db()
    # then 09-30 minus 5 working days (skipping 09-25..27) is 09-22
    assert clock.next_fire_at == at("2026-09-22")


# --- Exactly once, whatever happens ----------------------------------------------------------

def test_the_statements_do_not_grow_with_the_clocks_that_fire(demo_users):
    for _ in range(3):
        reply_clock(demo_users)
    with CaptureQueriesContext(connection) as few:
        assert escalation_sweep(now=LEVEL_AT[2]).total == 6
    for _ in range(30):
        reply_clock(demo_users)
    with CaptureQueriesContext(connection) as many:
        assert escalation_sweep(now=LEVEL_AT[2]).total == 60
    assert len(many) == len(few)


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements run, less the savepoints the test's own transaction adds."""
    return [q["sql"] for q in captured.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_an_idle_sweep_is_two_statements(demo_users):
    reply_clock(demo_users)
    with CaptureQueriesContext(connection) as idle:
        assert escalation_sweep(now=LEVEL_AT[1] - timedelta(minutes=1)).total == 0
    assert len(statements(idle)) == 2  # the ladder, and the index probe for due clocks


def test_a_sweep_that_fails_mid_batch_leaves_nothing_and_the_rerun_fires_once(demo_users):
    # given a database failure inside the batch: the audit table refuses level-2 rows
    clocks = [reply_clock(demo_users) for _ in range(5)]
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION refuse_level_2() RETURNS trigger AS $$
            BEGIN
              IF NEW.kind = 'escalated' AND NEW.details->>'level' = '2' THEN
                RAISE EXCEPTION 'disk full';
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_level_2 BEFORE INSERT ON cases_caseevent
              FOR EACH ROW EXECUTE FUNCTION refuse_level_2();
        """)
    # when the sweep for levels 1 and 2 runs, it fails, and nothing of the batch is left
    with pytest.raises(Exception, match="disk full"):
        escalation_sweep(now=LEVEL_AT[2])
    assert not Escalation.objects.exists()
    assert not Notification.objects.exists()
    # when the failure is gone and the sweep runs again, each level fires once
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER refuse_level_2 ON cases_caseevent; "
                       "DROP FUNCTION refuse_level_2();")
    assert escalation_sweep(now=LEVEL_AT[2]).total == 10
    assert all(fired(clock) == [1, 2] for clock in clocks)


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_fire_each_level_exactly_once(demo_users):
    # given 60 clocks whose first two levels are due, and two sweeps starting together
    rules_seed(DeadlineRule)  # transactional tests truncate the seeded rows
    ladder_seed(LadderStep)
    clocks = [reply_clock(demo_users) for _ in range(60)]
    start = threading.Barrier(2)
    totals: list[int] = []

    def sweep():
        try:
            start.wait(timeout=10)
            totals.append(escalation_sweep(now=LEVEL_AT[2], batch=7).total)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then together they fired each (clock, level) once, and told each person once a level
    assert sum(totals) == 120 == Escalation.objects.count()
    assert all(fired(clock) == [1, 2] for clock in clocks)
    assert CaseEvent.objects.filter(kind=EventKind.ESCALATED).count() == 120


def test_an_edit_in_the_admin_queues_the_reschedule_through_the_outbox(admin_client_en):
    from django.urls import reverse

    from notifications.models import OutboxTask

    # given the administrator moves the reply warning to 5 working days before
    step = LadderStep.objects.get(clock_kind="reply", level=1)
    response = admin_client_en.post(
        reverse("admin:cases_ladderstep_change", args=[step.pk]),
        {"clock_kind": "reply", "level": 1, "offset": -5, "audiences": ["unit"],
         "action": "notify", "is_active": "on"})
    # then it is saved, and the reschedule of the open reply clocks waits in the outbox
    assert response.status_code == 302
    assert LadderStep.objects.get(pk=step.pk).offset == -5
    task = OutboxTask.objects.get()
    assert task.task_name == "cases.tasks.escalation_reschedule_task"
    assert task.kwargs == {"kind": "reply"}


@pytest.mark.django_db(transaction=True)
def test_beat_and_a_real_worker_escalate_an_overdue_clock(demo_users, tmp_path):
    """`celery worker -B` against the real broker and the test database, sweeping each second."""
    import os
    import subprocess
    import sys
    import time

    from ops.tests.test_health import _url_of

    # given a reply clock already past its due time, as the demo's overdue cases are
    rules_seed(DeadlineRule)
    ladder_seed(LadderStep)
    clock = reply_clock(demo_users)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local",
           "DATABASE_URL": _url_of(connection.settings_dict), "SWEEP_INTERVAL_SECONDS": "1"}
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--pool", "solo",
         "--loglevel", "WARNING", "--schedule", str(tmp_path / "beat-schedule")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # when beat schedules the sweep and the worker runs it
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(fired(clock)) < 4:
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    # then every level the clock passed fired, once, and the leader was told
    assert fired(clock) == [1, 2, 3, 4]
    assert Notification.objects.filter(user=demo_users["leader"], case=clock.case).exists()
