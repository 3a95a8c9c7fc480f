"""包案: a leader personally owns a hard case (R22 Art.18), with 四定四包 (DOMAIN.md §7):
four 定 (leader, measures, deadline, responsibility) and four 包 duties."""

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition

from accounts.choices import Role
from accounts.models import User, path_contains
from accounts.permissions import Action, can, held_roles

from .. import events
from ..models import Case, Leadership
from .errors import CaseChangedByOther


@transaction.atomic
def case_assign_leader(*, case: Case, actor: User, leader: User, measures: str, deadline: date,
                       responsible: User, at: datetime | None = None) -> Leadership:
    """Put a leader in charge with measures, deadline and a person responsible (四定, R22 Art.18)."""
    at = at or timezone.now()
    if not can(actor, Action.CASE_ASSIGN_LEADER, case):
        raise PermissionDenied(_("Only the petition office may assign a responsible leader "
                                 "to case %(number)s.") % {"number": case.number})
    # Two assignments at once: the row lock makes the second wait, then replace the first.
    Case.objects.select_for_update().filter(pk=case.pk).first()
    _check_assignment(case=case, leader=leader, measures=measures, deadline=deadline, at=at)
    previous = Leadership.objects.filter(case=case, is_current=True).first()
    if previous is not None:
        previous.is_current = False
        previous.save(update_fields=["is_current"])
    leadership = Leadership.objects.create(
        case=case, leader=leader, measures=measures.strip(), deadline=deadline,
        responsible=responsible, assigned_by=actor, assigned_at=at)
    case.leader = leader
    try:
        case.save(update_fields=["leader", "updated_at"])
    except ConcurrentTransition as exc:  # the case moved on since this copy was read
        raise CaseChangedByOther() from exc
    events.record(events.leader_assigned(case=case, actor=actor, at=at, leadership=leadership,
                                         previous=previous))
    return leadership


def _check_assignment(*, case: Case, leader: User, measures: str, deadline: date,
                      at: datetime) -> None:
    """Refuse a leader outside the county or the matter's place, empty measures, a past deadline."""
    county = case.registered_unit.county_path
    if not any(path_contains(county, path) for path in held_roles(leader).get(Role.LEADER, ())):
        raise ValidationError(
            _("%(name)s is not a responsible leader of this county."),
            code="leader_county", params={"name": leader.display_name})
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
    field = Leadership.DUTIES.get(duty)  # 包调查、包处理、包稳定、包稳固
    if field is None:
        raise ValidationError(_("Unknown duty: %(duty)s."), code="duty", params={"duty": duty})
    if getattr(leadership, field) is not None:
        raise ValidationError(_("This duty is already marked done."), code="duty_done")
    setattr(leadership, field, at)
    leadership.save(update_fields=[field])
    events.record(events.duty_done(case=case, actor=actor, at=at, leadership=leadership,
                                   duty=duty))
    return leadership
