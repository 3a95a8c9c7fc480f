"""Closing a matter once the petitioner can no longer ask for more, and reopening it."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from ...models import Case
from ...selectors import close_window_deadline, request_window_lapsed, undelivered_decision
from ..errors import required
from .base import authorize, now, step


@transaction.atomic
def case_close(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Close a replied or reviewed case once its decision was delivered and the review or
    re-review request window has lapsed (R22 Art.35-36); the lapsed window closes as such."""
    at = now(at)
    authorize(case=case, name="close", actor=actor)
    if undelivered_decision(case=case) is not None:
        raise ValidationError(
            _("The decision has not been delivered to the petitioner yet, so the request window "
              "has not started; record the delivery, and close the case after the window."),
            code="not_delivered")
    if not request_window_lapsed(case=case, at=at):
        deadline = close_window_deadline(case=case)
        raise ValidationError(
            _("The petitioner may still ask for a review or re-review until the end of %(due)s "
              "(Regulations on Letters and Visits Work, Art. 35-36); close the case after "
              "that day."),
            code="request_window_open", params={"due": deadline.due_on.isoformat()})
    step(case=case, name="close", actor=actor, at=at, arguments={"at": at})
    return case


@transaction.atomic
def case_reopen(*, case: Case, actor: User, reason: str, at: datetime | None = None) -> Case:
    """Reopen a closed case for handling again, with a fresh 60-day reply clock (R22 Art.34)."""
    at = now(at)
    authorize(case=case, name="reopen", actor=actor)
    reason = required(reason, _("Give the reason the case is reopened."))
    step(case=case, name="reopen", actor=actor, at=at, reason=reason)
    return case
