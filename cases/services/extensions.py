"""Extending the reply clock (R22 Art.34): once per round of handling, at most 30 days,
asked for while the reply period runs, approved by another head of the handling unit.

The extension belongs to the reply clock it extends, so a reopened or revoked case,
which runs a new reply clock, may be extended once more. The 30 days count from
the original last day as the rest-day rule moved it (``count_due``).
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from accounts.models import User
from accounts.permissions import Action, can

from .. import events
from ..choices import ClockKind, ExtensionStatus
from ..deadlines.clocks import clock_extend
from ..models import Case, Deadline, Extension
from ..models.handling import MAX_EXTENSION_DAYS

_ONCE = _("This round of handling already has an extension asked for or granted; the reply "
          "period can be extended only once.")


def _reply_clock(case: Case) -> Deadline | None:
    return Deadline.objects.filter(case=case, kind=ClockKind.REPLY).live().first()


def _check_period_runs(clock: Deadline | None, at: datetime) -> Deadline:
    """Refuse once the reply period has run out: an extension cannot revive it (R22 Art.34)."""
    if clock is None:
        raise ValidationError(_("An extension can only be asked for while the reply is due."),
                              code="not_handling")
    if at > clock.due_at:
        raise ValidationError(
            _("The reply period ended on %(due)s; an overdue reply cannot be extended "
              "(Regulations on Letters and Visits Work, Art. 34)."),
            code="period_over", params={"due": clock.due_on.isoformat()})
    return clock


@transaction.atomic
def extension_request(*, case: Case, actor: User, days: int, reason: str,
                      at: datetime | None = None) -> Extension:
    """Ask the unit head for up to 30 more days to reply, with the reason told to the petitioner."""
    at = at or timezone.now()
    if not can(actor, Action.CASE_REQUEST_EXTENSION, case):
        raise PermissionDenied(_("You may not ask for an extension on case %(number)s.")
                               % {"number": case.number})
    reason = (reason or "").strip()
    # While the reply is due: the states the ``reply`` transition leaves from (one graph).
    clock = _check_period_runs(_reply_clock(case) if can_proceed(case.reply) else None, at)
    _check_request(clock=clock, days=days, reason=reason)
    try:
        with transaction.atomic():  # two requests at once: the constraint decides, not a 500
            extension = Extension.objects.create(case=case, deadline=clock, days=days,
                                                 reason=reason, requested_by=actor,
                                                 requested_at=at)
    except IntegrityError as exc:
        raise ValidationError(_ONCE, code="once") from exc
    events.record(events.extension_requested(case=case, actor=actor, at=at, row=extension))
    return extension


def _check_request(*, clock: Deadline, days: int, reason: str) -> None:
    """Refuse a request over 30 days, without reason, or not the first of this round."""
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValidationError(
            _("An extension is 1 to %(max)d days (Regulations on Letters and Visits Work, "
              "Art. 34)."), code="days", params={"max": MAX_EXTENSION_DAYS})
    if not reason:
        raise ValidationError(_("Give the reason; it is told to the petitioner."), code="reason")
    live = (ExtensionStatus.PENDING, ExtensionStatus.APPROVED)
    if Extension.objects.filter(deadline=clock, status__in=live).exists():  # also a constraint
        raise ValidationError(_ONCE, code="once")


@transaction.atomic
def extension_decide(*, extension: Extension, actor: User, approve: bool, note: str = "",
                     at: datetime | None = None) -> Extension:
    """Approve or refuse an extension as a head of the handling unit other than the person
    who asked; approval, only while the reply period runs, moves the reply due day."""
    at = at or timezone.now()
    extension = Extension.objects.select_for_update().select_related("case").get(pk=extension.pk)
    case = extension.case
    if not can(actor, Action.CASE_APPROVE_EXTENSION, case):
        raise PermissionDenied(_("Only the head of the handling unit may decide an extension "
                                 "on case %(number)s.") % {"number": case.number})
    if extension.requested_by_id == actor.pk:
        raise PermissionDenied(_("You asked for this extension; another head of the handling "
                                 "unit decides it."))
    if extension.status != ExtensionStatus.PENDING:
        raise ValidationError(_("This extension has already been decided."), code="decided")
    if approve:
        clock = _check_period_runs(_reply_clock(case), at)
        if clock.pk != extension.deadline_id:
            raise ValidationError(_("This extension was asked for an earlier round of handling."),
                                  code="not_handling")
    extension.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    extension.decided_by, extension.decided_at = actor, at
    extension.decision_note = (note or "").strip()
    extension.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    events.record(events.extension_decided(case=case, actor=actor, at=at, row=extension))
    if approve:
        clock_extend(case=case, kind=ClockKind.REPLY, days=extension.days, actor=actor, at=at)
    return extension
