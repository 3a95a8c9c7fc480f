"""The re-review hearing (听证): its time is not counted in the 30-day decision (R22 Art.36)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import Action, can

from ..choices import CaseStatus, ClockKind
from ..deadlines.clocks import clock_pause, clock_resume
from ..models import Case, Deadline


@transaction.atomic
def case_hearing_start(*, case: Case, actor: User, reason: str,
                       at: datetime | None = None) -> Deadline:
    """Pause the re-review decision clock while a hearing is held (R22 Art.36)."""
    _check(case=case, actor=actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say what the hearing is about and when it is held."),
                              code="required")
    return clock_pause(case=case, kind=ClockKind.REREVIEW_DECISION, actor=actor,
                       at=at or timezone.now(), reason=reason)


@transaction.atomic
def case_hearing_end(*, case: Case, actor: User, at: datetime | None = None) -> Deadline:
    """Resume the re-review decision clock; the hearing's days are added back."""
    _check(case=case, actor=actor)
    return clock_resume(case=case, kind=ClockKind.REREVIEW_DECISION, actor=actor,
                        at=at or timezone.now())


def _check(*, case: Case, actor: User) -> None:
    if not can(actor, Action.CASE_HEARING, case):
        raise PermissionDenied(_("You may not record hearings on case %(number)s.")
                               % {"number": case.number})
    if case.status != CaseStatus.REREVIEW_REQUESTED:
        raise ValidationError(_("A hearing is held only while a re-review is pending."),
                              code="not_in_rereview")
