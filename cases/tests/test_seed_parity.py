"""The demo seeder takes its graph from ``Case`` and its clocks from ``STEP_CLOCKS`` (issue 6).

Every transition of the model is walked through both: the seeder's step has the
model's target and the table's clocks, and its clock walk (cases/demo/bulk/
timeline.py) leaves the same clocks as the services' ``move_clocks`` on the same
live clocks, in time and after the windows ran out, with and without the
acceptance notice.
"""

import random
from datetime import date, timedelta

import pytest
from django.utils import timezone

from cases.choices import ClockKind, ClockStatus, NoNoticeReason, ReviewOutcome
from cases.deadlines.clocks import OFFICE_TZ, count_due, office_calendar
from cases.demo.bulk.states import (
    DECISION_STEPS,
    HANDLING,
    STEPS,
    TIMING,
    UNIT,
    Timing,
    delivery_step,
    steps_build,
)
from cases.demo.bulk.timeline import Timeline
from cases.demo.bulk.times import OfficeTimes
from cases.demo.bulk.world import world_load
from cases.models import Case, Deadline, DeadlineRule
from cases.services.step_clocks import (
    DELIVER_NO_WINDOW,
    DELIVER_REPLY,
    DELIVER_REVIEW,
    REGISTER,
    STEP_CLOCKS,
    move_clocks,
)
from cases.tests.factories import CaseFactory

TRANSITIONS = list(Case._meta.get_field("status").get_all_transitions(Case))
NAMES = sorted({transition.name for transition in TRANSITIONS})
PSEUDO_STEPS = {REGISTER, DELIVER_REPLY, DELIVER_REVIEW, DELIVER_NO_WINDOW}
# Transitions the demo timelines never take; their steps would be built the same way.
NOT_SEEDED = {"reopen", "revoke_on_review", "revoke_on_rereview", "return_unsigned"}


def test_step_clocks_names_every_transition_of_case_and_nothing_else():
    assert set(STEP_CLOCKS) - PSEUDO_STEPS == set(NAMES)


@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda t: f"{t.name}-{t.source}")
def test_each_transition_is_the_seeders_step_with_the_models_target_and_its_clocks(transition):
    # given the seeder's step for it, or the one it would build for a step it never takes
    if transition.name in NOT_SEEDED:
        assert transition.name not in STEPS
        step = steps_build({transition.name: Timing(UNIT, (1, 2))})[transition.name]
    else:
        step = STEPS[transition.name]
    # then target and clocks are the model's and the table's
    assert step.target == transition.target
    assert step.clocks == STEP_CLOCKS[transition.name]


def test_the_seeders_other_steps_are_deliveries_that_move_no_status():
    assert set(STEPS) == (set(NAMES) - NOT_SEEDED) | (PSEUDO_STEPS - {REGISTER})
    for name in PSEUDO_STEPS - {REGISTER}:
        assert STEPS[name].target is None
        assert STEPS[name].clocks == STEP_CLOCKS[name]
    assert set(TIMING) == set(STEPS)


def test_each_decision_is_followed_by_the_delivery_the_services_take_for_it():
    for index, name in enumerate(HANDLING):
        if name in DECISION_STEPS:
            outcome = "" if name == "reply" else ReviewOutcome.UPHELD
            assert HANDLING[index + 1] == delivery_step(DECISION_STEPS[name], outcome)
    assert delivery_step("review", ReviewOutcome.REVOKED) == DELIVER_NO_WINDOW


# --- The clock walk: the seeder's against the services' ------------------------------------

WALKED = sorted(STEP_CLOCKS)


@pytest.fixture
def timeline(supervisor):
    world = world_load()
    rng = random.Random(1)
    return Timeline(world, rng, OfficeTimes(world.calendar, timezone.now(), rng))


@pytest.mark.parametrize("name", WALKED)
def test_the_seeder_moves_clocks_as_the_services_do(timeline, name):
    for days_ago in (0, 60):  # in time; after every window ran out
        for notice in ("", NoNoticeReason.IDENTITY_UNCLEAR):
            _walk_both(timeline, name, days_ago, notice)


def _walk_both(timeline: Timeline, name: str, days_ago: int, notice: str) -> None:
    # given a case with every clock running that the step does not start, started days ago
    now = timezone.now()
    clocks = STEP_CLOCKS[name]
    kinds = [kind for kind in ClockKind.values
             if kind not in clocks.start or kind in clocks.meet + clocks.cancel]
    case = CaseFactory(no_notice_reason=notice)
    started = timezone.localtime(now - timedelta(days=days_ago), OFFICE_TZ).date()
    rows = [_running(case, kind, started) for kind in kinds]
    times, rules = timeline.times, timeline.world.rules
    seeded = [[kind, (started - times.base).days, ClockStatus.OPEN, None, 0, None,
               rules[kind][2]] for kind in kinds]
    live = {clock[0]: clock for clock in seeded}
    # when the services and the seeder take the step
    move_clocks(case=case, step_name=name, actor=None, at=now)
    timeline._move_clocks(clocks, times.now_t, times.now_t // 1440, seeded, live, notice)
    # then each clock ends the same way, and the same clocks start, due the same day
    context = (name, days_ago, notice)
    for row, clock in zip(rows, seeded[:len(rows)], strict=True):
        row.refresh_from_db()
        assert (row.kind, row.status, row.closed_at is None) == (
            clock[0], clock[2], clock[3] is None), context
    new = Deadline.objects.filter(case=case).exclude(pk__in=[row.pk for row in rows])
    assert sorted(new.values_list("kind", "starts_on", "due_on")) == sorted(
        (clock[0], times.dates[clock[1]],
         date.fromisoformat(timeline.due(clock[1], rules[clock[0]][0], rules[clock[0]][1])[0]))
        for clock in seeded[len(rows):]), context


def _running(case: Case, kind: str, starts_on) -> Deadline:
    rule = DeadlineRule.objects.get(kind=kind)
    due = count_due(office_calendar(), starts_on=starts_on, length=rule.length, paused_days=0,
                    extension_days=0, unit=rule.unit)
    return Deadline.objects.create(case=case, kind=kind, starts_on=starts_on, length=rule.length,
                                   unit=rule.unit, is_window=rule.is_window, due_on=due.due,
                                   due_at=due.ends_at(OFFICE_TZ), provisional=due.provisional)
