"""The staff follow-ups (回头看): who may make one, the list of those due, and the services
that assign one, record each attempt to reach the petitioner, and record the outcome.

Every change takes the follow-up's row lock and compares the version the form was read at
(DECISIONS F8): a second person working from the same page gets a message, not a lost edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.models import RoleAssignment, User
from accounts.permissions import Action, can, scope
from cases import events
from cases.choices import ClockKind, EventKind
from cases.deadlines.clocks import clock_meet
from cases.models import CaseEvent, Commitment, Decision, Leadership
from cases.services.undertakings import office_today

from .decisions import decision_open
from .models import (
    MAX_COMMENT,
    Commitments,
    FollowUp,
    FollowUpAttempt,
    FollowUpStatus,
    Method,
    Rating,
    Result,
    Risk,
    Satisfaction,
    Source,
)

# The roles that make follow-ups: staff of the petition office and of the handling unit.
CALLER_ROLES = (Role.CLERK, Role.HANDLER, Role.UNIT_HEAD, Role.SUPERVISOR)
# The steps whose takers' work the follow-up checks (DECISIONS F4).
CHECKED_STEPS = ("sign", "accept", "start_handling", "reply", "answer_on_spot", "close",
                 "decide_review", "decide_rereview")
# Unreachable: this many attempts, on at least two different days (DECISIONS F5).
UNREACHABLE_ATTEMPTS = 3
UNREACHABLE_DAYS = 2


# --- Reads ---------------------------------------------------------------------------------

def followups_visible(*, user: User) -> QuerySet[FollowUp]:
    """The follow-ups this user sees on the list, due first (DECISIONS F4)."""
    rows = FollowUp.objects.select_related("case", "assignee", "case__lead_unit", "deadline")
    return scope(user, Action.FOLLOW_UP_VIEW, rows).order_by("due_on", "pk")


def checked_people(follow_up: FollowUp) -> set[int]:
    """The users whose work the follow-up checks: who handled, answered, decided or promised
    on the case, and its responsible leaders (DECISIONS F4)."""
    case_id = follow_up.case_id
    people = set(CaseEvent.objects.filter(case_id=case_id, kind=EventKind.TRANSITION,
                                          details__step__in=CHECKED_STEPS,
                                          actor__isnull=False)
                 .values_list("actor_id", flat=True))
    people |= set(Decision.objects.filter(case_id=case_id).values_list("issued_by_id", flat=True))
    people |= set(Commitment.objects.filter(case_id=case_id).values_list("made_by_id", flat=True))
    for leader, responsible in Leadership.objects.filter(case_id=case_id).values_list(
            "leader_id", "responsible_id"):
        people |= {leader, responsible}
    if follow_up.case.leader_id:
        people.add(follow_up.case.leader_id)
    return people - {None}


def assignable_users(follow_up: FollowUp) -> QuerySet[User]:
    """Staff of the petition office or of the lead unit who may take the follow-up: not
    those whose work it checks, not the recused, not the accused (DECISIONS F4)."""
    case = follow_up.case
    units = [case.registered_unit_id] + ([case.lead_unit_id] if case.lead_unit_id else [])
    holders = RoleAssignment.objects.filter(unit_id__in=units, role__in=CALLER_ROLES,
                                            unit__is_active=True).values("user_id")
    users = (User.objects.filter(pk__in=holders, is_active=True)
             .exclude(pk__in=checked_people(follow_up))
             .exclude(pk__in=case.recusals.values("user_id")))
    if case.complained_unit_id:
        path = case.complained_unit.path
        users = users.exclude(pk__in=RoleAssignment.objects.filter(
            unit__path__startswith=path).values("user_id"))
    return users.order_by("name", "pk")


# --- Writes --------------------------------------------------------------------------------

def _locked(follow_up: FollowUp, version: int, *, actor: User, action: Action,
            refusal: str) -> FollowUp:
    """The follow-up's row, locked and checked as it is now: the actor may ``action`` it,
    nobody changed it since ``version`` was read, and it is still open."""
    row = FollowUp.objects.select_for_update().select_related("case").get(pk=follow_up.pk)
    if not can(actor, action, row):
        raise PermissionDenied(refusal)
    if row.version != version:
        raise ValidationError(_("Someone else changed this follow-up while you were working "
                                "on it. Check what they recorded, then try again."),
                              code="stale")
    if not row.is_open:
        raise ValidationError(_("This follow-up is finished; nothing more can be recorded "
                                "on it."), code="closed")
    return row


def _save(row: FollowUp, fields: list[str]) -> None:
    row.version += 1
    row.save(update_fields=[*fields, "version"])


@transaction.atomic
def followup_assign(*, follow_up: FollowUp, assignee: User, actor: User, version: int,
                    at: datetime | None = None) -> FollowUp:
    """Give the follow-up to someone of the office or the lead unit whose work it does not
    check (DECISIONS F4)."""
    at = at or timezone.now()
    row = _locked(follow_up, version, actor=actor, action=Action.FOLLOW_UP_ASSIGN,
                  refusal=_("Follow-ups are assigned by the petition office that registered "
                            "the case or the head of the handling unit."))
    if assignee.pk in checked_people(row):
        raise ValidationError(_("%(name)s handled this case or is responsible for it; a "
                                "follow-up is made by someone whose work it does not check."),
                              code="checked", params={"name": assignee.name})
    if not assignable_users(row).filter(pk=assignee.pk).exists():
        raise ValidationError(_("Choose someone of the petition office or the handling "
                                "unit who may take this follow-up."), code="assignee")
    previous = row.assignee_id
    row.assignee, row.assigned_by, row.assigned_at = assignee, actor, at
    _save(row, ["assignee", "assigned_by", "assigned_at"])
    events.record(events.follow_up_assigned(case=row.case, actor=actor, at=at, follow_up=row,
                                            previous=previous))
    return row


def _locked_for_record(follow_up: FollowUp, version: int, actor: User) -> FollowUp:
    """As ``_locked``; and the assignee must still be someone who may take it: one who has
    since handled the case, decided on it, led it or withdrawn from it records nothing."""
    row = _locked(follow_up, version, actor=actor, action=Action.FOLLOW_UP_RECORD,
                  refusal=_("Only the person the follow-up is assigned to records it."))
    if not assignable_users(row).filter(pk=actor.pk).exists():
        raise PermissionDenied(_("You have since worked on this case or withdrawn from it: "
                                 "ask for the follow-up to be given to someone else."))
    return row


@dataclass(frozen=True)
class AttemptInput:
    method: str
    reached: bool
    whom: str = ""
    note: str = ""


@transaction.atomic
def followup_attempt_record(*, follow_up: FollowUp, attempt: AttemptInput, actor: User,
                            version: int, at: datetime | None = None) -> FollowUpAttempt:
    """Record one try to reach the petitioner, reached or not; the follow-up stays open
    until its outcome is recorded (DECISIONS F5)."""
    at = at or timezone.now()
    row = _locked_for_record(follow_up, version, actor)
    if attempt.method not in Method.values:
        raise ValidationError(_("Choose phone, visit or text message."), code="method")
    whom = attempt.whom.strip()
    if attempt.reached and not whom:
        raise ValidationError(_("Say whom you reached: the petitioner or who else."),
                              code="whom")
    made = FollowUpAttempt.objects.create(follow_up=row, at=at, method=attempt.method,
                                          reached=attempt.reached, whom=whom,
                                          note=attempt.note.strip()[:MAX_COMMENT], by=actor)
    row.status = FollowUpStatus.IN_PROGRESS
    _save(row, ["status"])
    events.record(events.follow_up_recorded(case=row.case, actor=actor, at=at, follow_up=row,
                                            attempt=made))
    return made


@dataclass(frozen=True)
class OutcomeInput:
    result: str
    rating: str = ""
    comment: str = ""  # the petitioner's words on the rating
    commitments: str = ""
    recurrence_risk: str = ""
    repeat_risk: bool = False
    pestering_risk: bool = False
    notes: str = ""


@transaction.atomic
def followup_outcome_record(*, follow_up: FollowUp, outcome: OutcomeInput, actor: User,
                            version: int, at: datetime | None = None) -> FollowUp:
    """Finish the follow-up: what the petitioner said, whether the commitments were kept,
    the risk the matter comes back; a rating is also a ``Satisfaction`` row (source
    follow_up), counted with the petitioners' own (DECISIONS F6-F7)."""
    at = at or timezone.now()
    row = _locked_for_record(follow_up, version, actor)
    _check_outcome(row, outcome)
    if outcome.result == Result.REACHED:
        row.satisfaction = Satisfaction.objects.create(
            case=row.case, source=Source.FOLLOW_UP, rating=outcome.rating,
            comment=outcome.comment.strip(), at=at, recorded_by=actor)
    # Unreached, the petitioner said nothing: no rating, no word on the commitments (F6).
    reached = outcome.result == Result.REACHED
    row.result, row.commitments = outcome.result, outcome.commitments if reached else ""
    row.recurrence_risk = outcome.recurrence_risk
    row.repeat_risk, row.pestering_risk = outcome.repeat_risk, outcome.pestering_risk
    row.notes = outcome.notes.strip()
    row.status, row.done_at, row.done_by = FollowUpStatus.DONE, at, actor
    _save(row, ["satisfaction", "result", "commitments", "recurrence_risk", "repeat_risk",
                "pestering_risk", "notes", "status", "done_at", "done_by"])
    events.record(events.follow_up_recorded(case=row.case, actor=actor, at=at, follow_up=row))
    clock_meet(case=row.case, kind=ClockKind.FOLLOW_UP, actor=actor, at=at)
    if row.puts_to_leader:  # dissatisfied, or a commitment not kept (DECISIONS F11)
        decision_open(follow_up=row, at=at)
    return row


def _check_outcome(row: FollowUp, outcome: OutcomeInput) -> None:
    attempts = list(row.attempts.values_list("reached", "at"))
    if outcome.result == Result.UNREACHABLE:
        days = {office_today(moment) for reached, moment in attempts if not reached}
        misses = sum(1 for reached, _at in attempts if not reached)
        if misses < UNREACHABLE_ATTEMPTS or len(days) < UNREACHABLE_DAYS:
            raise ValidationError(
                _("The petitioner counts as unreachable after %(count)d attempts on at least "
                  "%(days)d different days; record each attempt first."), code="unreachable",
                params={"count": UNREACHABLE_ATTEMPTS, "days": UNREACHABLE_DAYS})
        return
    if outcome.result != Result.REACHED:
        raise ValidationError(_("Say whether the petitioner was reached."), code="result")
    if not any(reached for reached, _at in attempts):
        raise ValidationError(_("Record the call or visit in which you reached the petitioner "
                                "first."), code="not_reached")
    errors = {}
    if outcome.rating not in Rating.values:
        errors["rating"] = _("Choose satisfied, basically satisfied or dissatisfied.")
    elif outcome.rating == Rating.DISSATISFIED and not outcome.comment.strip():
        errors["comment"] = _("Say what the petitioner is dissatisfied with.")
    if len(outcome.comment.strip()) > MAX_COMMENT:
        errors["comment"] = _("Keep the petitioner's words to %(max)d characters.") % {
            "max": MAX_COMMENT}
    if outcome.commitments not in Commitments.values:
        errors["commitments"] = _("Say whether the commitments were kept.")
    if outcome.recurrence_risk not in Risk.values:
        errors["recurrence_risk"] = _("Say how likely the matter is to come back.")
    if errors:
        raise ValidationError(errors)

