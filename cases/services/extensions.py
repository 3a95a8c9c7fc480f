"""Extending the reply clock: once, at most 30 days, approved by the unit head (R22 Art.34)."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from accounts.models import User
from accounts.permissions import Action, can

from ..choices import ClockKind, ClockStatus, EventKind, ExtensionStatus
from ..deadlines.clocks import clock_extend
from ..events import case_event_record
from ..models import Case, Deadline, Extension
from ..models.handling import MAX_EXTENSION_DAYS

_ONCE = _("This case already has an extension asked for or granted; the reply period can be "
          "extended only once.")


def _reply_clock_runs(case: Case) -> bool:
    return Deadline.objects.filter(case=case, kind=ClockKind.REPLY,
                                   status__in=[ClockStatus.OPEN, ClockStatus.PAUSED]).exists()


@transaction.atomic
def extension_request(*, case: Case, actor: User, days: int, reason: str,
                      at: datetime | None = None) -> Extension:
    """Ask the unit head for up to 30 more days to reply, with the reason told to the petitioner."""
    at = at or timezone.now()
    if not can(actor, Action.CASE_REQUEST_EXTENSION, case):
        raise PermissionDenied(_("You may not ask for an extension on case %(number)s.")
                               % {"number": case.number})
    reason = (reason or "").strip()
    _check_request(case=case, days=days, reason=reason)
    try:
        with transaction.atomic():  # two requests at once: the constraint decides, not a 500
            extension = Extension.objects.create(case=case, days=days, reason=reason,
                                                 requested_by=actor, requested_at=at)
    except IntegrityError as exc:
        raise ValidationError(_ONCE, code="once") from exc
    case_event_record(case=case, kind=EventKind.EXTENSION_REQUESTED, actor=actor, at=at,
                      details={"extension": extension.pk, "days": days, "reason": reason})
    return extension


def _check_request(*, case: Case, days: int, reason: str) -> None:
    """Refuse a request outside handling, over 30 days, without reason, or not the first."""
    # While the reply is due: the states the ``reply`` transition leaves from (one graph).
    if not can_proceed(case.reply) or not _reply_clock_runs(case):
        raise ValidationError(_("An extension can only be asked for while the reply is due."),
                              code="not_handling")
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValidationError(
            _("An extension is 1 to %(max)d days (Regulations on Letters and Visits Work, "
              "Art. 34)."), code="days", params={"max": MAX_EXTENSION_DAYS})
    if not reason:
        raise ValidationError(_("Give the reason; it is told to the petitioner."), code="reason")
    live = (ExtensionStatus.PENDING, ExtensionStatus.APPROVED)
    if Extension.objects.filter(case=case, status__in=live).exists():  # also a DB constraint
        raise ValidationError(_ONCE, code="once")


@transaction.atomic
def extension_decide(*, extension: Extension, actor: User, approve: bool, note: str = "",
                     at: datetime | None = None) -> Extension:
    """Approve or refuse an extension as head of the handling unit; approval moves the reply due day."""
    at = at or timezone.now()
    extension = Extension.objects.select_for_update().select_related("case").get(pk=extension.pk)
    case = extension.case
    if not can(actor, Action.CASE_APPROVE_EXTENSION, case):
        raise PermissionDenied(_("Only the head of the handling unit may decide an extension "
                                 "on case %(number)s.") % {"number": case.number})
    if extension.status != ExtensionStatus.PENDING:
        raise ValidationError(_("This extension has already been decided."), code="decided")
    if approve and not _reply_clock_runs(case):
        raise ValidationError(_("The reply is no longer due, so there is nothing to extend."),
                              code="not_handling")
    extension.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    extension.decided_by, extension.decided_at = actor, at
    extension.decision_note = (note or "").strip()
    extension.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    case_event_record(case=case, kind=EventKind.EXTENSION_DECIDED, actor=actor, at=at,
                      details={"extension": extension.pk, "approved": approve,
                               "days": extension.days, "note": extension.decision_note})
    if approve:
        clock_extend(case=case, kind=ClockKind.REPLY, days=extension.days, actor=actor, at=at)
    return extension
