"""Which status a demo case is in, and who takes its steps and how long after each other.

Only the demo's own choices live here: the status by age, who takes each step,
its usual delay and how often it comes late, and the outcomes. What a step *is*
comes from the one home of each rule: the status it leads to from the ``Case``
model's transitions (cases/models/case.py), and the clocks it meets, cancels and
starts from ``STEP_CLOCKS`` (cases/services/step_clocks.py), the table the
services read. ``cases/tests/test_seed_parity.py`` walks every transition of
``Case`` through both.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from cases.choices import (
    CaseStatus,
    ClockKind,
    DecisionKind,
    DeliveryMethod,
    Outcome,
    ReviewOutcome,
)
from cases.models import Case, Decision
from cases.services.decisions import delivery_step as services_delivery_step
from cases.services.step_clocks import (
    DELIVER_NO_WINDOW,
    DELIVER_REPLY,
    DELIVER_REVIEW,
    REGISTER,
    STEP_CLOCKS,
    StepClocks,
)

S, K = CaseStatus, ClockKind
CLOSED_STATES = frozenset(Case.CLOSED_STATES)

# Status by age of the case (days since receipt, upper bound): weights in per cent.
# Few cases stay long in a state with a running clock, so overdue clocks stay a minority.
BY_AGE = (
    (3, {S.REGISTERED: 60, S.ANSWERED: 9, S.NOT_ACCEPTED: 1, S.ROUTED: 27, S.SIGNED: 3}),
    (10, {S.REGISTERED: 18, S.ANSWERED: 8, S.NOT_ACCEPTED: 3, S.ROUTED: 26,
          S.RETURN_REQUESTED: 10, S.SIGNED: 15, S.ACCEPTED: 9, S.IN_HANDLING: 11}),
    (30, {S.REGISTERED: 2, S.ANSWERED: 8, S.NOT_ACCEPTED: 4, S.ROUTED: 3,
          S.RETURN_REQUESTED: 4, S.SIGNED: 3, S.ACCEPTED: 7, S.IN_HANDLING: 63, S.REPLIED: 6}),
    (75, {S.REGISTERED: 0.2, S.ANSWERED: 8, S.NOT_ACCEPTED: 4, S.ROUTED: 0.2,
          S.RETURN_REQUESTED: 1, S.SIGNED: 0.6, S.ACCEPTED: 1.5, S.IN_HANDLING: 46,
          S.REPLIED: 25, S.REVIEW_REQUESTED: 3, S.CLOSED: 10.5}),
    (120, {S.ANSWERED: 8, S.NOT_ACCEPTED: 4, S.IN_HANDLING: 6, S.REPLIED: 7,
           S.REVIEW_REQUESTED: 3, S.REVIEWED: 4, S.REREVIEW_REQUESTED: 3, S.FINAL: 0.5,
           S.CLOSED: 64.5}),
    (200, {S.ANSWERED: 8, S.NOT_ACCEPTED: 4, S.IN_HANDLING: 1, S.REPLIED: 0.5,
           S.REVIEW_REQUESTED: 0.3, S.REVIEWED: 0.6, S.REREVIEW_REQUESTED: 1.2, S.FINAL: 3,
           S.CLOSED: 81.4}),
    (10**6, {S.ANSWERED: 8, S.NOT_ACCEPTED: 4, S.IN_HANDLING: 0.15, S.REVIEWED: 0.05,
             S.REREVIEW_REQUESTED: 0.03, S.FINAL: 3.5, S.CLOSED: 84.27}),
)

# Who takes a step: the petition office, the lead unit, the office above that records
# reviews, and who records a re-review (``World.rereviewer_id``: another reviewer where
# the office has one, since the one who recorded the review may not).
OFFICE, UNIT, REVIEW, REREVIEW = "office", "unit", "review", "rereview"


class Timing(NamedTuple):
    """Who takes a step and its usual delay in days after the step before."""

    who: str
    days: tuple[float, float]
    late: float = 0.0  # share of cases where it comes late, after ``late_days``
    late_days: tuple[float, float] = (0, 0)
    # Waits for the request window the step before opened to run out (closing does:
    # ``case_close``); ``days`` then count from the end of the window.
    after_window: bool = False


# The demo's own data. A request comes well inside its window (the services refuse
# one outside it); a delivery comes a few days after the decision.
TIMING: dict[str, Timing] = {
    "answer_on_spot": Timing(OFFICE, (0.004, 0.04)),
    "refuse": Timing(OFFICE, (0.5, 10)),
    "route": Timing(OFFICE, (0.2, 6), 0.03, (12, 20)),
    "request_return": Timing(UNIT, (0.2, 4)),
    "agree_return": Timing(OFFICE, (1, 6)),
    "refuse_return": Timing(OFFICE, (1, 6)),
    "sign": Timing(UNIT, (0.1, 3), 0.05, (5, 10)),
    "accept": Timing(UNIT, (0.3, 5), 0.05, (8, 15)),
    "start_handling": Timing(UNIT, (0, 3)),
    "reply": Timing(UNIT, (10, 57), 0.08, (61, 95)),
    DELIVER_REPLY: Timing(UNIT, (0.5, 6)),
    "request_review": Timing(REVIEW, (3, 26)),
    "decide_review": Timing(REVIEW, (10, 29), 0.05, (31, 45)),
    DELIVER_REVIEW: Timing(OFFICE, (0.5, 6)),
    "request_rereview": Timing(REVIEW, (3, 26)),
    "decide_rereview": Timing(REREVIEW, (10, 29), 0.05, (31, 45)),
    DELIVER_NO_WINDOW: Timing(OFFICE, (0.5, 6)),
    "close": Timing(UNIT, (1, 14), after_window=True),
}


class Step(NamedTuple):
    """A step as the seeder takes it: the model's target, STEP_CLOCKS' clocks, the demo's timing."""

    name: str
    target: str | None  # None: a delivery, which moves clocks but not the status
    clocks: StepClocks
    who: str
    days: tuple[float, float]
    late: float
    late_days: tuple[float, float]
    after_window: bool


def model_targets() -> dict[str, str]:
    """Each transition of ``Case`` by name, and the status it leads to (its ``@transition``)."""
    targets: dict[str, str] = {}
    for transition in Case._meta.get_field("status").get_all_transitions(Case):
        targets.setdefault(transition.name, transition.target)
    return targets


def steps_build(timing: dict[str, Timing]) -> dict[str, Step]:
    """Join each timed step to its target on the model and its clocks in ``STEP_CLOCKS``."""
    targets = model_targets()
    return {name: Step(name, targets.get(name), STEP_CLOCKS[name], *times)
            for name, times in timing.items()}


STEPS = steps_build(TIMING)
REGISTRATION_CLOCKS = STEP_CLOCKS[REGISTER]


@cache
def delivery_step(kind: str, review_outcome: str) -> str:
    """The pseudo-step a decision's delivery takes (which window it opens), as the services do."""
    return services_delivery_step(Decision(kind=kind, review_outcome=review_outcome))


RETURNED = ("route", "request_return", "agree_return")
HANDLING = ("accept", "start_handling", "reply", DELIVER_REPLY, "request_review",
            "decide_review", DELIVER_REVIEW, "request_rereview", "decide_rereview",
            DELIVER_NO_WINDOW)
UNDELIVERED_SHARE = 0.15  # decisions not yet delivered, where they are the last step


def handling_until(status: str) -> tuple[str, ...]:
    """The handling steps up to the one leading to ``status``, and its decision's delivery."""
    for index, name in enumerate(HANDLING):
        if STEPS[name].target == status:
            end = index + 1
            if end < len(HANDLING) and STEPS[HANDLING[end]].target is None:
                end += 1
            return HANDLING[:end]
    raise ValueError(f"no handling step leads to {status}")


HANDLING_UNTIL = {STEPS[name].target: handling_until(STEPS[name].target)
                  for name in HANDLING if STEPS[name].target is not None}

# Past routing: the cases a leader may be put in charge of (包案).
ROUTED_OR_LATER = frozenset(S) - {S.REGISTERED, S.ANSWERED, S.NOT_ACCEPTED}

# The steps that issue a written decision, and the decision's kind (one per kind per case).
DECISION_STEPS = {"reply": DecisionKind.REPLY, "decide_review": DecisionKind.REVIEW,
                  "decide_rereview": DecisionKind.REREVIEW}
# Written replies: most explain the policy, some support the request, fewer refuse it.
REPLY_OUTCOMES = ((Outcome.SUPPORT, 30), (Outcome.EXPLAIN, 50), (Outcome.NOT_SUPPORT, 20))
# Review and re-review mostly uphold the earlier decision; a change moves it one step.
# None is revoked: that sends the case back to handling, which these timelines do not do.
UPHELD_SHARE = {"decide_review": 0.85, "decide_rereview": 0.9}
UPHELD, CHANGED = ReviewOutcome.UPHELD, ReviewOutcome.CHANGED
CHANGED_TO = {Outcome.NOT_SUPPORT: Outcome.EXPLAIN, Outcome.EXPLAIN: Outcome.SUPPORT,
              Outcome.SUPPORT: Outcome.EXPLAIN}
# How decisions reach the petitioner (送达), by weight.
DELIVERY_METHODS = ((DeliveryMethod.IN_PERSON, 40), (DeliveryMethod.POST, 35),
                    (DeliveryMethod.ELECTRONIC, 15), (DeliveryMethod.LEFT_AT_ADDRESS, 7),
                    (DeliveryMethod.PUBLIC_NOTICE, 3))
