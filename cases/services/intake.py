"""Registering from the intake form: once per form, whatever the clerk or the network does.

The form carries a one-time token (a UUID drawn when the page is shown). The first
submit registers the case and stores the token on it in the same transaction; a
second submit of the same form (a double click, a reload after a slow answer) finds
that case and registers nothing. The unique index on ``Case.intake_token`` is the
last word: two submits racing past the check make the second one's insert fail, its
whole transaction (case number included) rolls back, and it returns the first case.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit, User
from accounts.permissions import Action, can

from ..idnumbers import validate_resident_id
from ..models import Case, Petitioner
from .privacy import mask_name
from .registration import CaseIntake, case_register


@dataclass(frozen=True)
class IntakeResult:
    case: Case
    created: bool  # False: this form had registered the case already


def case_register_once(*, actor: User, office: OrgUnit, intake: CaseIntake,
                       token: UUID) -> IntakeResult:
    """Register ``intake`` unless the form with ``token`` registered a case already (issue 7)."""
    try:
        with transaction.atomic():
            _lock_token(token)  # a racing second submit waits here, then finds the case
            earlier = _registered_with(actor=actor, token=token)
            if earlier is not None:
                return IntakeResult(case=earlier, created=False)
            case = case_register(actor=actor, office=office, intake=intake)
            case.intake_token = token
            case.save(update_fields=["intake_token"])
            return IntakeResult(case=case, created=True)
    except IntegrityError:
        earlier = _registered_with(actor=actor, token=token)
        if earlier is None:
            raise
        return IntakeResult(case=earlier, created=False)


def intake_offices(*, user: User) -> list[OrgUnit]:
    """The units where ``user`` may register petitions (the permission module decides)."""
    units = (OrgUnit.objects.filter(role_assignments__user=user, is_active=True)
             .distinct().order_by("path"))
    return [unit for unit in units if can(user, Action.CASE_REGISTER, unit)]


def _lock_token(token: UUID) -> None:
    """Serialise submits of one form: a transaction-level advisory lock keyed on the token."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [str(token)])


def _registered_with(*, actor: User, token: UUID) -> Case | None:
    """The case this form registered; a token another user's form used is refused."""
    case = Case.objects.filter(intake_token=token).first()
    if case is not None and case.registered_by_id != actor.pk:
        raise ValidationError(_("This form was already used by someone else; open a new "
                                "registration form."), code="token_used")
    return case


@dataclass(frozen=True)
class KnownPetitioner:
    """A person already on file, as the intake lookup shows them to a clerk."""

    name: str  # masked unless the clerk may see one of the person's cases
    cases: int  # how many cases the person is on
    visible: list[Case]  # the earlier cases this clerk may open


LOOKUP_LIMIT = 5
MIN_PHONE_DIGITS = 7


def petitioners_known(*, user: User, id_number: str = "", phone: str = "") -> list[KnownPetitioner]:
    """Find people on file by a whole, valid ID number or a phone (exact); registration reuses
    them (``petitioner_find_or_create``), so the clerk sees who will be linked."""
    match = Q(pk__in=[])
    if id_number:
        with contextlib.suppress(ValidationError):  # only a whole, valid number is looked up
            match |= Q(id_number=validate_resident_id(id_number))
    phone = phone.strip()
    if len(phone) >= MIN_PHONE_DIGITS and phone.isdigit():
        match |= Q(phone=phone)
    people = (Petitioner.objects.filter(match).annotate(case_count=Count("parties"))
              .order_by("-case_count", "pk")[:LOOKUP_LIMIT])
    found = []
    for person in people:
        visible = list(Case.objects.visible_to(user).filter(parties__petitioner=person)
                       .order_by("-received_at")[:3])
        found.append(KnownPetitioner(name=person.name if visible else mask_name(person.name),
                                     cases=person.case_count, visible=visible))
    return found
