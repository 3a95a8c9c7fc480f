"""The petition office's decisions at the desk and on returns (R22 Art.21-24, 28, 30).

Answer on the spot, refuse with the competent channel, route to a lead unit
with co-handling units, and agree to or refuse a unit's request to return it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit, User, path_contains

from ...choices import CaseStatus, DiversionChannel, Purpose
from ...models import Case
from ..errors import required
from .base import authorize, now, step


@transaction.atomic
def case_answer_on_spot(*, case: Case, actor: User, answer: str,
                        at: datetime | None = None) -> Case:
    """Answer the petitioner on the spot and close the item; the routing clock is met."""
    at = now(at)
    authorize(case=case, name="answer_on_spot", actor=actor)
    answer = required(answer, _("Write down the answer given on the spot."))
    step(case=case, name="answer_on_spot", actor=actor, at=at,
         arguments={"answer": answer, "at": at})
    return case


@transaction.atomic
def case_refuse(*, case: Case, actor: User, reason: str, channel: str,
                at: datetime | None = None) -> Case:
    """Refuse an item that belongs elsewhere and name the competent channel (R22 Art.22, 31)."""
    at = now(at)
    authorize(case=case, name="refuse", actor=actor)
    reason = required(reason, _("Give the reason the petition is not accepted."))
    if channel not in DiversionChannel.values:
        raise ValidationError(_("Choose the channel where this matter belongs."),
                              code="diversion_channel")
    step(case=case, name="refuse", actor=actor, at=at,
         arguments={"reason": reason, "channel": channel, "at": at},
         reason=reason, channel=channel)
    return case


@transaction.atomic
def case_route(*, case: Case, actor: User, lead_unit: OrgUnit,
               co_units: Iterable[OrgUnit] = (), at: datetime | None = None) -> Case:
    """Route to a lead unit and co-handling units (R22 Art.22, 24): the unit's acceptance
    notice clock starts from this receipt (Art.23) and its objection window opens."""
    at = now(at)
    authorize(case=case, name="route", actor=actor)
    co_units = [unit for unit in co_units if unit.pk != lead_unit.pk]
    route_units_check(case=case, units=[lead_unit, *co_units])
    step(case=case, name="route", actor=actor, at=at, arguments={"lead_unit": lead_unit},
         lead_unit=lead_unit.code, co_units=[unit.code for unit in co_units])
    case.co_units.set(co_units)
    return case


def route_units_check(*, case: Case, units: list[OrgUnit]) -> None:
    """Refuse a unit outside the registering office's county or no longer active, and an
    accusation routed to the unit it accuses or a unit under it (R22 Art.30)."""
    county = case.registered_unit.county_path
    accused = case.complained_unit if case.purpose == Purpose.ACCUSATION else None
    for unit in units:
        if not unit.is_active or not path_contains(county, unit.path):
            raise ValidationError(
                _("%(unit)s is not an active unit of this county; choose another."),
                code="route_unit", params={"unit": unit.name})
        if accused is not None and path_contains(accused.path, unit.path):
            raise ValidationError(
                _("%(unit)s is the unit accused, or under it; an accusation is never sent to "
                  "the unit it accuses (Regulations on Letters and Visits Work, Art. 30)."),
                code="route_to_accused", params={"unit": unit.name})


@transaction.atomic
def case_agree_return(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Take the case back after checking the objection; it must be routed again (R22 Art.23).

    The unit owes no acceptance notice any more; a fresh routing clock keeps the
    item in front of the office until it is routed again.
    """
    at = now(at)
    authorize(case=case, name="agree_return", actor=actor)
    previous_unit = case.lead_unit.code if case.lead_unit_id else ""
    step(case=case, name="agree_return", actor=actor, at=at,
         previous_lead_unit=previous_unit, reason=case.return_reason)
    case.co_units.clear()
    return case


def cases_return_unsigned(*, case_ids: list[int], at: datetime) -> list[int]:
    """The escalation ladder's return: each case still routed and not signed for goes back
    to the petition office, as an agreed return would (cases/DECISIONS.md E7).

    Called by the sweep inside its batch's transaction, with no actor. A case signed for,
    returned or answered meanwhile is left as it is. Through the state machine, one case
    at a time: a return is a change of state with its clocks, taken on few cases.
    """
    returned = []
    for case in (Case.objects.select_for_update(of=("self",)).select_related("lead_unit")
                 .filter(pk__in=case_ids, status=CaseStatus.ROUTED).order_by("pk")):
        previous_unit = case.lead_unit.code if case.lead_unit_id else ""
        step(case=case, name="return_unsigned", actor=None, at=at,
             previous_lead_unit=previous_unit)
        case.co_units.clear()
        returned.append(case.pk)
    return returned


@transaction.atomic
def case_refuse_return(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Refuse the return: the lead unit keeps the case as if it had signed for it."""
    at = now(at)
    authorize(case=case, name="refuse_return", actor=actor)
    step(case=case, name="refuse_return", actor=actor, at=at)
    return case
