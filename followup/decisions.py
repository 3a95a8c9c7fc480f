"""The responsible leader's decision on a follow-up (DECISIONS F11): a dissatisfied
petitioner or a commitment not kept is put to the case's leader, who reopens the handling,
directs the petitioner to a review inside its window, or records why the case stays
concluded. Nothing is dropped silently: the decision runs its own clock on the ladder until
it is taken.

Every write locks the decision's row and compares the version the form was read at, as the
follow-ups do (DECISIONS F8).
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from accounts.choices import Role
from accounts.models import OrgUnit, RoleAssignment, User, path_contains
from accounts.permissions import Action, can, scope
from cases import events
from cases.choices import ClockKind
from cases.deadlines.clocks import clock_meet, clock_start
from cases.models import Case
from cases.selectors.windows import rereview_window_open, review_window_open
from cases.services.transitions.base import step

from .models import DecisionOutcome, DecisionStatus, FollowUp, FollowUpDecision

MAX_REASON = 2000  # characters


# --- Reads ---------------------------------------------------------------------------------

def decisions_visible(*, user: User) -> QuerySet[FollowUpDecision]:
    """The decisions this user sees, the open ones first and oldest first."""
    rows = FollowUpDecision.objects.select_related("case", "follow_up", "leader", "unit",
                                                   "deadline", "follow_up__satisfaction")
    return scope(user, Action.FOLLOW_UP_DECISION_VIEW, rows).order_by("-status", "opened_at",
                                                                       "pk")


def outcomes_open(decision: FollowUpDecision, *, at: datetime | None = None) -> dict[str, str]:
    """Each outcome the case allows now, or why it does not (the form greys it out with the
    reason): reopening needs a closed case with a handling unit; directing to a review
    needs the petitioner's review or re-review window still running."""
    at = at or timezone.now()
    case = decision.case
    refused: dict[str, str] = {}
    if not can_proceed(case.reopen):
        refused[DecisionOutcome.REOPEN] = str(_(
            "Only a closed case handled by a unit can be reopened; case %(number)s is "
            "“%(status)s”.") % {"number": case.number, "status": case.get_status_display()})
    if not (review_window_open(case=case, at=at) or rereview_window_open(case=case, at=at)):
        refused[DecisionOutcome.DIRECT_TO_REVIEW] = str(_(
            "The petitioner's window to ask for a review or re-review is not running."))
    return refused


# --- Writes --------------------------------------------------------------------------------

def decision_open(*, follow_up: FollowUp, at: datetime) -> FollowUpDecision:
    """Put a dissatisfied or broken-commitment follow-up to the case's responsible leader and
    the leaders and head of the place it belongs to, with its clock (DECISIONS F11). Called
    in the outcome's transaction. A decision already awaited on the case lends its clock:
    the leader owes one answer on the case, by the day first set."""
    case = follow_up.case
    unit = deciding_unit(case)
    waiting = (FollowUpDecision.objects.filter(case=case, status=DecisionStatus.OPEN)
               .exclude(deadline=None).order_by("pk").first())
    decision = FollowUpDecision.objects.create(follow_up=follow_up, case=case,
                                               leader_id=case.leader_id, unit=unit,
                                               opened_at=at)
    decision.deadline = (waiting.deadline if waiting is not None else clock_start(
        case=case, kind=ClockKind.FOLLOW_UP_DECISION, start=at, actor=None, at=at))
    decision.save(update_fields=["deadline"])
    events.record(events.follow_up_decision_opened(case=case, at=at, decision=decision))
    _tell(decision, at=at)
    return decision


def deciding_unit(case: Case) -> OrgUnit:
    """The place a case's matter belongs to (else the office that registered it), moved
    above the unit complained about when it lies within it (R22 Art.30; DECISIONS F11)."""
    unit = case.place_unit or case.registered_unit
    accused = case.complained_unit
    if accused is not None and path_contains(accused.path, unit.path):
        parent = OrgUnit.objects.filter(path=accused.path[:-accused.steplen]).first()
        unit = parent or case.registered_unit
    return unit


@transaction.atomic
def followup_decide(*, decision: FollowUpDecision, outcome: str, reason: str, actor: User,
                    version: int, at: datetime | None = None) -> FollowUpDecision:
    """Take the leader's decision (DECISIONS F11); reopening runs the case's reopen step on
    it, with the reason, and starts a new reply period."""
    at = at or timezone.now()
    row = (FollowUpDecision.objects.select_for_update(of=("self",))
           .select_related("case", "follow_up").get(pk=decision.pk))
    if not can(actor, Action.FOLLOW_UP_DECIDE, row):
        raise PermissionDenied(_("This decision is for the case's responsible leader (or, on a "
                                 "case without one, the leaders of the place it belongs to)."))
    if row.version != version:
        raise ValidationError(_("Someone else changed this decision while you were working "
                                "on it. Check what they recorded, then try again."),
                              code="stale")
    if row.status != DecisionStatus.OPEN:
        raise ValidationError(_("This decision has been taken; nothing more can be recorded "
                                "on it."), code="closed")
    reason = reason.strip()
    errors = {}
    if outcome not in DecisionOutcome.values:
        errors["outcome"] = _("Choose reopen, direct to a review, or keep the case concluded.")
    if not reason:
        errors["reason"] = _("Write the reason for the decision: the petitioner and the "
                             "supervisors will ask for it.")
    elif len(reason) > MAX_REASON:
        errors["reason"] = _("Keep the reason to %(max)d characters.") % {"max": MAX_REASON}
    if errors:
        raise ValidationError(errors)
    case = Case.objects.select_for_update(of=("self",)).get(pk=row.case_id)
    row.case = case
    refused = outcomes_open(row, at=at)
    if outcome in refused:
        raise ValidationError({"outcome": refused[outcome]})
    row.status, row.outcome, row.reason = DecisionStatus.DECIDED, outcome, reason
    row.decided_at, row.decided_by = at, actor
    row.version += 1
    row.save(update_fields=["status", "outcome", "reason", "decided_at", "decided_by",
                            "version"])
    others = FollowUpDecision.objects.filter(case=case, status=DecisionStatus.OPEN)
    if not others.exists():  # the clock is the case's: met once nothing more awaits
        clock_meet(case=case, kind=ClockKind.FOLLOW_UP_DECISION, actor=actor, at=at)
    events.record(events.follow_up_decided(case=case, actor=actor, at=at, decision=row))
    if outcome == DecisionOutcome.REOPEN:
        # The case's own reopen (its new reply clock, its event), taken by the leader on the
        # office's behalf; the event names the decision, whose reason stays on it (F11).
        step(case=case, name="reopen", actor=actor, at=at, follow_up_decision=row.pk)
    return row


def _tell(decision: FollowUpDecision, *, at: datetime) -> None:
    """Tell whoever decides that a decision awaits them: the case's leader, and the leaders
    and head of the deciding unit or, where it has none, of the nearest unit above it;
    never one the permission module refuses (recused, or of the unit complained about)."""
    from notifications.services import NotificationDraft, notify_bulk

    case = decision.case
    candidates = {decision.leader_id} - {None}
    unit_path, step = decision.unit.path, decision.unit.steplen
    above = [unit_path[:end] for end in range(step, len(unit_path) + 1, step)]
    for unit in OrgUnit.objects.filter(path__in=above).order_by("-depth"):
        holders = set(RoleAssignment.objects.filter(
            unit=unit, role__in=(Role.LEADER, Role.UNIT_HEAD), user__is_active=True)
            .values_list("user_id", flat=True))
        if holders:
            candidates |= holders
            break
    users = [user for user in User.objects.filter(pk__in=candidates, is_active=True)
             if can(user, Action.FOLLOW_UP_DECIDE, decision)]
    notify_bulk([NotificationDraft(
        user_id=user, case_id=case.pk, kind="other", message="followup.decision_due",
        url=f"/cases/follow-ups/decisions/{decision.pk}/", mail=True,
        params={"case_number": case.number, "due_on": decision.deadline.due_on.isoformat()})
        for user in sorted(user.pk for user in users)], at=at)

