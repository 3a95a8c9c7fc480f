"""The lead unit's steps: sign for or ask to return, accept, handle, reply (R22 Art.23, 32, 34)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from ... import events
from ...choices import DecisionKind
from ...deadlines.calendar import days_text
from ...models import Case, Decision
from ...selectors import objection_deadline, objection_window_open
from ..decisions import DecisionInput, decision_fields, decision_record
from ..errors import required
from ..step_clocks import move_clocks
from .base import authorize, now, step, transition


@transaction.atomic
def case_sign(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Sign for a routed case: the lead unit takes it, and the objection window closes."""
    at = now(at)
    authorize(case=case, name="sign", actor=actor)
    step(case=case, name="sign", actor=actor, at=at)
    return case


@transaction.atomic
def case_request_return(*, case: Case, actor: User, reason: str,
                        at: datetime | None = None) -> Case:
    """Object with detailed reasons, only within the objection window (R22 Art.23)."""
    at = now(at)
    authorize(case=case, name="request_return", actor=actor)
    reason = required(reason, _("Give detailed reasons why this unit is not competent."))
    if not objection_window_open(case=case, at=at):
        raise _objection_closed(case)
    step(case=case, name="request_return", actor=actor, at=at, arguments={"reason": reason},
         reason=reason)
    return case


def _objection_closed(case: Case) -> ValidationError:
    deadline = objection_deadline(case=case)
    if deadline is None:
        return ValidationError(
            _("No objection window is running for this case (it opens when the case is "
              "routed); sign for the case instead."),
            code="objection_window_closed")
    return ValidationError(
        _("The objection window closed at the end of %(due)s (%(length)s after routing, "
          "Regulations on Letters and Visits Work, Art. 23); sign for the case instead."),
        code="objection_window_closed",
        params={"due": deadline.due_on.isoformat(),
                "length": days_text(deadline.length, deadline.unit)})


@transaction.atomic
def case_accept(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Issue the acceptance notice (R22 Art.23) and start the 60-day reply clock (Art.34)."""
    at = now(at)
    authorize(case=case, name="accept", actor=actor)
    step(case=case, name="accept", actor=actor, at=at)
    return case


@transaction.atomic
def case_start_handling(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Record that the lead unit has started handling the accepted case."""
    at = now(at)
    authorize(case=case, name="start_handling", actor=actor)
    step(case=case, name="start_handling", actor=actor, at=at)
    return case


@transaction.atomic
def case_reply(*, case: Case, actor: User, decision: DecisionInput,
               at: datetime | None = None) -> Decision:
    """Issue the written reply (R22 Art.32); the review window opens once it is delivered."""
    at = now(at)
    authorize(case=case, name="reply", actor=actor)
    fields = decision_fields(case=case, kind=DecisionKind.REPLY, decision=decision,
                             actor=actor, at=at)
    # The status-guarded UPDATE goes first: of two people replying at once the second
    # is refused (CaseChangedByOther) before writing a second decision.
    previous = transition(case=case, name="reply")
    row, superseded = decision_record(case=case, kind=DecisionKind.REPLY, fields=fields, at=at)
    events.record(events.transition(case=case, actor=actor, at=at, step="reply",
                                    previous=previous, decision=row, superseded=superseded))
    move_clocks(case=case, step_name="reply", actor=actor, at=at)
    return row
