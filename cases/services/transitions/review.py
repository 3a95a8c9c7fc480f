"""Review (复查) and re-review (复核) by the level above (R22 Art.35-36).

A request is taken only while its window runs: from the delivery of the decision
for 30 days. A decision that upholds or changes moves the case on; one that
revokes sends it back to the lead unit, to be handled again with a new reply clock.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from ... import events
from ...choices import ClockKind, DecisionKind, ReviewOutcome
from ...deadlines.calendar import days_text
from ...models import Case, Decision
from ...selectors import live_deadline, rereview_window_open, review_window_open
from ..decisions import DecisionInput, current_decision, decision_fields, decision_record
from ..step_clocks import move_clocks
from .base import authorize, now, step, transition


@transaction.atomic
def case_request_review(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Record the petitioner's review request while its window runs (R22 Art.35)."""
    at = now(at)
    authorize(case=case, name="request_review", actor=actor)
    if not review_window_open(case=case, at=at):
        raise request_window_closed(case, ClockKind.REVIEW_REQUEST)
    step(case=case, name="request_review", actor=actor, at=at)
    return case


@transaction.atomic
def case_decide_review(*, case: Case, actor: User, decision: DecisionInput,
                       at: datetime | None = None) -> Decision:
    """Record the review decision of the level above (R22 Art.35); revoked goes back to handling."""
    revoked = decision.review_outcome == ReviewOutcome.REVOKED
    return _decide(case=case, name="revoke_on_review" if revoked else "decide_review",
                   kind=DecisionKind.REVIEW, decision=decision, actor=actor, at=now(at))


@transaction.atomic
def case_request_rereview(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Record the petitioner's re-review request while its window runs (R22 Art.36)."""
    at = now(at)
    authorize(case=case, name="request_rereview", actor=actor)
    if not rereview_window_open(case=case, at=at):
        raise request_window_closed(case, ClockKind.REREVIEW_REQUEST)
    step(case=case, name="request_rereview", actor=actor, at=at)
    return case


@transaction.atomic
def case_decide_rereview(*, case: Case, actor: User, decision: DecisionInput,
                         at: datetime | None = None) -> Decision:
    """Record the re-review decision: final (R22 Art.36), unless it revokes for new handling."""
    at = now(at)
    if decision.review_outcome == ReviewOutcome.REVOKED:
        return _decide(case=case, name="revoke_on_rereview", kind=DecisionKind.REREVIEW,
                       decision=decision, actor=actor, at=at)
    return _decide(case=case, name="decide_rereview", kind=DecisionKind.REREVIEW,
                   decision=decision, actor=actor, at=at, arguments={"at": at})


def _decide(*, case: Case, name: str, kind: str, decision: DecisionInput, actor: User,
            at: datetime, arguments: dict | None = None) -> Decision:
    """Record a review-level decision, take the step and move the clocks."""
    authorize(case=case, name=name, actor=actor)
    fields = decision_fields(case=case, kind=kind, decision=decision, actor=actor, at=at)
    previous = transition(case=case, name=name, arguments=arguments)
    row, superseded = decision_record(case=case, kind=kind, fields=fields, at=at)
    events.record(events.transition(case=case, actor=actor, at=at, step=name,
                                    previous=previous, decision=row, superseded=superseded))
    move_clocks(case=case, step_name=name, actor=actor, at=at)
    return row


_DELIVERED_FIRST = {ClockKind.REVIEW_REQUEST: DecisionKind.REPLY,
                    ClockKind.REREVIEW_REQUEST: DecisionKind.REVIEW}


def request_window_closed(case: Case, kind: str) -> ValidationError:
    """The refusal of a review or re-review request made outside its window (R22 Art.35-36)."""
    deadline = live_deadline(case=case, kind=kind)
    if deadline is None:
        earlier = current_decision(case=case, kind=_DELIVERED_FIRST[kind])
        if earlier is not None and earlier.delivered_on is None:
            return ValidationError(
                _("The decision has not been delivered to the petitioner yet; the request "
                  "window runs from its delivery. Record the delivery first."),
                code="not_delivered")
        return ValidationError(
            _("No request window is running for this case; it can no longer be asked for."),
            code="request_window_closed")
    if kind == ClockKind.REVIEW_REQUEST:
        message = _("The review request window closed at the end of %(due)s (%(length)s after "
                    "the written reply was delivered, Regulations on Letters and Visits Work, "
                    "Art. 35).")
    else:
        message = _("The re-review request window closed at the end of %(due)s (%(length)s "
                    "after the review decision was delivered, Regulations on Letters and "
                    "Visits Work, Art. 36).")
    return ValidationError(message, code="request_window_closed",
                           params={"due": deadline.due_on.isoformat(),
                                   "length": days_text(deadline.length, deadline.unit)})
