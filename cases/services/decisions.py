"""Written decisions: their parts, their deciding body, their history and their delivery.

A written reply, review or re-review decision states the request, the facts, the
reasons, the outcome and the legal basis (R22 Art.32). A review is decided by the
level above the unit that replied, a re-review by the level above the reviewer
(Art.35-36). The request windows count from the day the petitioner received the
decision (自收到书面答复之日起), so its delivery (送达) is recorded here and opens
the window. The readings are in cases/DECISIONS.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit, User, path_contains
from accounts.permissions import Action, can

from .. import events
from ..choices import DecisionKind, DeliveryMethod, Outcome, ReviewOutcome
from ..deadlines.clocks import OFFICE_TZ
from ..models import Case, Decision
from .errors import required
from .step_clocks import DELIVER_NO_WINDOW, DELIVER_REPLY, DELIVER_REVIEW, move_clocks


@dataclass(frozen=True)
class DecisionInput:
    """A written decision as issued (R22 Art.32); a review names its deciding body."""

    request: str
    facts: str
    reasons: str
    outcome: str
    legal_basis: str
    review_outcome: str = ""
    # Review and re-review: the unit above that decided, or the name of a body above
    # this installation (e.g. the city's petition bureau).
    deciding_unit: OrgUnit | None = None
    body_name: str = ""


# The decision a review or re-review decides on.
_DECIDES_ON = {DecisionKind.REVIEW: DecisionKind.REPLY, DecisionKind.REREVIEW: DecisionKind.REVIEW}


def current_decision(*, case: Case, kind: str) -> Decision | None:
    """The case's decision of ``kind`` in force (not superseded), if any."""
    return Decision.objects.filter(case=case, kind=kind, superseded_at__isnull=True).first()


def decision_fields(*, case: Case, kind: str, decision: DecisionInput, actor: User,
                    at: datetime) -> dict:
    """Check the decision's parts and its deciding body; return the row's fields."""
    fields = {
        "request": required(decision.request, _("State the petitioner's request.")),
        "facts": required(decision.facts, _("State the facts found.")),
        "reasons": required(decision.reasons, _("State the reasons.")),
        "legal_basis": required(decision.legal_basis, _("State the legal basis.")),
        "outcome": decision.outcome, "review_outcome": decision.review_outcome,
        "issued_by": actor, "issued_at": at,
    }
    if decision.outcome not in Outcome.values:
        raise ValidationError(_("Choose support, explain or not support."), code="outcome")
    if kind == DecisionKind.REPLY:
        if decision.review_outcome:
            raise ValidationError(_("A written reply has no review result."),
                                  code="review_outcome")
        return {**fields, "unit": case.lead_unit, "body_name": ""}
    if decision.review_outcome not in ReviewOutcome.values:
        raise ValidationError(_("Say whether the earlier decision is upheld, changed or revoked."),
                              code="review_outcome")
    unit, body_name = _deciding_body(case=case, kind=kind, decision=decision, actor=actor)
    return {**fields, "unit": unit, "body_name": body_name}


def _deciding_body(*, case: Case, kind: str, decision: DecisionInput,
                   actor: User) -> tuple[OrgUnit | None, str]:
    """Return the body one level up from the one that decided before (R22 Art.35-36).

    A unit of this installation must be above the earlier deciding unit and never
    the replying unit or under it; a name is accepted only where the level above is
    not in this installation (the earlier body was the county or a body outside).
    The person who issued the reply may not record its review. (The review decision is
    recorded by the petition office, not issued by it, so its recorder may record the
    re-review: the separation is between the unit that replied and the level above.)
    """
    earlier = current_decision(case=case, kind=_DECIDES_ON[kind])
    if earlier is None:
        raise ValidationError(_("There is no earlier decision to review."), code="no_decision")
    if kind == DecisionKind.REVIEW and earlier.issued_by_id == actor.pk:
        raise PermissionDenied(_("You issued the reply under review; someone else records "
                                 "the review decision of the level above."))
    body_name = (decision.body_name or "").strip()
    unit = decision.deciding_unit
    if unit is None and not body_name:
        raise ValidationError(_("Name the body that decided: a unit above the one that "
                                "decided before, or a body above this county."),
                              code="deciding_body")
    reply = current_decision(case=case, kind=DecisionKind.REPLY)
    if unit is not None:
        above = earlier.unit is not None and path_contains(unit.path, earlier.unit.path) \
            and unit.pk != earlier.unit_id
        replied_here = reply is not None and reply.unit is not None \
            and path_contains(reply.unit.path, unit.path)
        if not above or replied_here:
            raise ValidationError(
                _("%(unit)s is not above %(earlier)s, which decided before; a review or "
                  "re-review is decided by the level above (Regulations on Letters and Visits "
                  "Work, Art. 35-36)."),
                code="deciding_body", params={"unit": unit.name, "earlier": earlier.deciding_body})
        return unit, ""
    if earlier.unit is not None and earlier.unit.depth > 1:
        raise ValidationError(
            _("The level above %(earlier)s is a unit of this county; choose it instead of "
              "typing a name."), code="deciding_body", params={"earlier": earlier.deciding_body})
    return None, body_name


def decision_record(*, case: Case, kind: str, fields: dict, at: datetime) -> tuple[Decision, int | None]:
    """Write the decision; one of the same kind still in force is superseded and kept."""
    earlier = (Decision.objects.select_for_update()
               .filter(case=case, kind=kind, superseded_at__isnull=True).first())
    if earlier is not None:
        earlier.superseded_at = at
        earlier.save(update_fields=["superseded_at"])
    row = Decision.objects.create(case=case, kind=kind, **fields)
    return row, earlier.pk if earlier is not None else None


@transaction.atomic
def decision_deliver(*, decision: Decision, actor: User, delivered_on: date, method: str,
                     at: datetime | None = None) -> Decision:
    """Record when and how the petitioner received a decision; its request window opens
    from that day (R22 Art.35-36: 自收到书面答复之日起)."""
    at = at or timezone.now()
    decision = Decision.objects.select_for_update().select_related("case").get(pk=decision.pk)
    case = decision.case
    if not can(actor, Action.CASE_DELIVER, case):
        raise PermissionDenied(_("You may not record the delivery of decisions on case "
                                 "%(number)s.") % {"number": case.number})
    _check_delivery(decision=decision, delivered_on=delivered_on, method=method, at=at)
    decision.delivered_on, decision.delivery_method = delivered_on, method
    decision.delivery_recorded_by = actor
    decision.save(update_fields=["delivered_on", "delivery_method", "delivery_recorded_by"])
    events.record(events.decision_delivered(case=case, actor=actor, at=at, decision=decision))
    # The day of receipt is the start day, itself not counted (民法典 Art. 201).
    move_clocks(case=case, step_name=delivery_step(decision), actor=actor, at=at,
                start_at=datetime.combine(delivered_on, time(12), tzinfo=OFFICE_TZ))
    return decision


def delivery_step(decision: Decision) -> str:
    """The STEP_CLOCKS row a delivery takes: which request window, if any, it opens."""
    if decision.review_outcome == ReviewOutcome.REVOKED:
        return DELIVER_NO_WINDOW  # the matter is handled again; a new reply will follow
    return {DecisionKind.REPLY: DELIVER_REPLY,
            DecisionKind.REVIEW: DELIVER_REVIEW}.get(decision.kind, DELIVER_NO_WINDOW)


def _check_delivery(*, decision: Decision, delivered_on: date, method: str,
                    at: datetime) -> None:
    if decision.delivered_on is not None:
        raise ValidationError(_("The delivery of this decision is already recorded (%(day)s).")
                              % {"day": decision.delivered_on.isoformat()}, code="delivered")
    if decision.superseded_at is not None:
        raise ValidationError(_("This decision was superseded by a later one."),
                              code="superseded")
    if method not in DeliveryMethod.values:
        raise ValidationError(_("Choose how the decision was delivered."), code="method")
    issued_on = timezone.localtime(decision.issued_at, OFFICE_TZ).date()
    today = timezone.localtime(at, OFFICE_TZ).date()
    if not issued_on <= delivered_on <= today:
        raise ValidationError(
            _("The delivery day must lie between the day of issue (%(issued)s) and today."),
            code="delivered_on", params={"issued": issued_on.isoformat()})
