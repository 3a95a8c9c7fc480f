"""Which status a demo case is in, and the steps and clocks that take it there.

The tables follow ``cases.services.transitions``: each step names the clocks it
meets, cancels and starts, so a case walked through them is left with exactly
the live clocks ``LIVE_CLOCKS`` names for its status.
"""

from __future__ import annotations

from typing import NamedTuple

from cases.choices import CaseStatus, ClockKind, DecisionKind, Outcome, ReviewOutcome

S, K = CaseStatus, ClockKind
CLOSED_STATES = frozenset({S.ANSWERED, S.NOT_ACCEPTED, S.FINAL, S.CLOSED})

# The clocks running (open or paused) in each status, as the services leave them.
LIVE_CLOCKS: dict[str, frozenset[str]] = {
    S.REGISTERED: frozenset({K.ROUTING, K.ACCEPTANCE_NOTICE}),
    S.ROUTED: frozenset({K.ACCEPTANCE_NOTICE, K.OBJECTION}),
    S.RETURN_REQUESTED: frozenset({K.ACCEPTANCE_NOTICE}),
    S.SIGNED: frozenset({K.ACCEPTANCE_NOTICE}),
    S.ACCEPTED: frozenset({K.REPLY}),
    S.IN_HANDLING: frozenset({K.REPLY}),
    S.REPLIED: frozenset({K.REVIEW_REQUEST}),
    S.REVIEW_REQUESTED: frozenset({K.REVIEW_DECISION}),
    S.REVIEWED: frozenset({K.REREVIEW_REQUEST}),
    S.REREVIEW_REQUESTED: frozenset({K.REREVIEW_DECISION}),
    **{status: frozenset() for status in CLOSED_STATES},
}

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

OFFICE, UNIT, REVIEW = "office", "unit", "review"  # who takes a step


class Step(NamedTuple):
    """A transition: its target, who takes it, its usual delay in days, and its clocks."""

    target: str
    who: str
    days: tuple[float, float]
    late: float = 0.0  # share of cases where it comes late, after ``late_days``
    late_days: tuple[float, float] = (0, 0)
    meet: tuple[str, ...] = ()  # clocks met, cancelled and started as the services do
    cancel: tuple[str, ...] = ()
    start: tuple[str, ...] = ()


STEPS = {
    "answer_on_spot": Step(S.ANSWERED, OFFICE, (0.004, 0.04),
                           meet=(K.ROUTING, K.ACCEPTANCE_NOTICE)),
    "refuse": Step(S.NOT_ACCEPTED, OFFICE, (0.5, 10), meet=(K.ROUTING, K.ACCEPTANCE_NOTICE)),
    "route": Step(S.ROUTED, OFFICE, (0.2, 6), 0.03, (12, 20), meet=(K.ROUTING,),
                  start=(K.OBJECTION,)),
    "request_return": Step(S.RETURN_REQUESTED, UNIT, (0.2, 4), meet=(K.OBJECTION,)),
    "agree_return": Step(S.REGISTERED, OFFICE, (1, 6), cancel=(K.OBJECTION,),
                         start=(K.ROUTING,)),
    "refuse_return": Step(S.SIGNED, OFFICE, (1, 6)),
    "sign": Step(S.SIGNED, UNIT, (0.1, 3), 0.05, (5, 10), meet=(K.OBJECTION,)),
    "accept": Step(S.ACCEPTED, UNIT, (0.3, 5), 0.05, (8, 15), meet=(K.ACCEPTANCE_NOTICE,),
                   start=(K.REPLY,)),
    "start_handling": Step(S.IN_HANDLING, UNIT, (0, 3)),
    "reply": Step(S.REPLIED, UNIT, (10, 57), 0.08, (61, 95), meet=(K.REPLY,),
                  start=(K.REVIEW_REQUEST,)),
    "request_review": Step(S.REVIEW_REQUESTED, REVIEW, (3, 29), meet=(K.REVIEW_REQUEST,),
                           start=(K.REVIEW_DECISION,)),
    "decide_review": Step(S.REVIEWED, REVIEW, (10, 29), 0.05, (31, 45),
                          meet=(K.REVIEW_DECISION,), start=(K.REREVIEW_REQUEST,)),
    "request_rereview": Step(S.REREVIEW_REQUESTED, REVIEW, (3, 29),
                             meet=(K.REREVIEW_REQUEST,), start=(K.REREVIEW_DECISION,)),
    "decide_rereview": Step(S.FINAL, REVIEW, (10, 29), 0.05, (31, 45),
                            meet=(K.REREVIEW_DECISION,)),
    "close": Step(S.CLOSED, UNIT, (5, 36), cancel=tuple(K.values)),
}
RETURNED = ("route", "request_return", "agree_return")
HANDLING = ("accept", "start_handling", "reply", "request_review", "decide_review",
            "request_rereview", "decide_rereview")
HANDLING_END = {S.ACCEPTED: 1, S.IN_HANDLING: 2, S.REPLIED: 3, S.REVIEW_REQUESTED: 4,
                S.REVIEWED: 5, S.REREVIEW_REQUESTED: 6, S.FINAL: 7}

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
