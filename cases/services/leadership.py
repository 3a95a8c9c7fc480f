"""包案: a leader personally owns a hard case (R22 Art.18), with 四定四包 (DOMAIN.md §7)."""

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition

from accounts.models import User
from accounts.permissions import Action, can

from ..choices import EventKind
from ..events import case_event_record
from ..models import Case, Leadership
from .errors import CaseChangedByOther

# The 包 duties a leader marks done, by name, and the field that records each.
DUTIES = {
    "investigated": "investigated_at",
    "handled": "handled_at",
    "stabilised": "stabilised_at",
}


@transaction.atomic
def case_assign_leader(*, case: Case, actor: User, leader: User, measures: str, deadline: date,
                       responsible: User, at: datetime | None = None) -> Leadership:
    """Put a leader in charge with measures, deadline and a person responsible (四定, R22 Art.18)."""
    at = at or timezone.now()
    if not can(actor, Action.CASE_ROUTE, case):
        raise PermissionDenied(_("Only the petition office may assign a responsible leader "
                                 "to case %(number)s.") % {"number": case.number})
    # Two assignments at once: the row lock makes the second wait, then replace the first.
    Case.objects.select_for_update().filter(pk=case.pk).first()
    _check_assignment(case=case, leader=leader, measures=measures, deadline=deadline, at=at)
    Leadership.objects.filter(case=case, is_current=True).update(is_current=False)
    leadership = Leadership.objects.create(
        case=case, leader=leader, measures=measures.strip(), deadline=deadline,
        responsible=responsible, assigned_by=actor, assigned_at=at)
    case.leader = leader
    try:
        case.save(update_fields=["leader", "updated_at"])
    except ConcurrentTransition as exc:  # the case moved on since this copy was read
        raise CaseChangedByOther() from exc
    case_event_record(case=case, kind=EventKind.LEADER_ASSIGNED, actor=actor, at=at,
                      details={"leadership": leadership.pk, "leader": leader.pk,
                               "responsible": responsible.pk, "deadline": deadline.isoformat()})
    return leadership


def _check_assignment(*, case: Case, leader: User, measures: str, deadline: date,
                      at: datetime) -> None:
    """Refuse a leader outside the matter's place, empty measures or a deadline already past."""
    if not can(leader, Action.CASE_LIST_LED, case.place_unit):
        raise ValidationError(
            _("%(name)s is not a responsible leader over %(place)s, where the matter lies."),
            code="leader_place", params={"name": leader.display_name, "place": case.place_unit})
    if not (measures or "").strip():
        raise ValidationError(_("Set out the measures the leader will take."), code="measures")
    if deadline < timezone.localdate(at):
        raise ValidationError(_("The deadline cannot be in the past."), code="deadline")


@transaction.atomic
def leadership_mark_duty(*, leadership: Leadership, actor: User, duty: str,
                         at: datetime | None = None) -> Leadership:
    """Mark one 包 duty done; only the leader who owns the case may (R22 Art.18)."""
    at = at or timezone.now()
    leadership = Leadership.objects.select_for_update().select_related("case").get(
        pk=leadership.pk)
    case = leadership.case
    if not (leadership.is_current and leadership.leader_id == actor.pk
            and can(actor, Action.CASE_LEAD, case)):
        raise PermissionDenied(_("Only the current responsible leader of case %(number)s may "
                                 "mark its duties done.") % {"number": case.number})
    field = DUTIES.get(duty)
    if field is None:
        raise ValidationError(_("Unknown duty: %(duty)s."), code="duty", params={"duty": duty})
    if getattr(leadership, field) is not None:
        raise ValidationError(_("This duty is already marked done."), code="duty_done")
    setattr(leadership, field, at)
    leadership.save(update_fields=[field])
    case_event_record(case=case, kind=EventKind.DUTY_DONE, actor=actor, at=at,
                      details={"leadership": leadership.pk, "duty": duty})
    return leadership
