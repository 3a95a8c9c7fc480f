"""Protecting petitioners: recusal (R22 Art.28), and no identity or accusation material
for the unit complained about (R22 Art.30, 46), unless revealed with a logged reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import Action, can, forget_recusals, holds_role_within, is_recused

from .. import events
from ..models import Attachment, Case, CasePetitioner, Recusal


@dataclass(frozen=True)
class PetitionerView:
    """A petitioner as one user may see them on one case; ``masked`` says what was hidden."""

    pk: int
    name: str
    id_type: str
    id_number: str
    phone: str
    address: str
    is_main: bool
    is_representative: bool
    masked: bool


def _must_hide(*, user: User, case: Case) -> bool:
    """Hide who petitioned, and accusation material, from the unit complained about and
    from anyone recused (R22 Art.28, 30)."""
    return holds_role_within(user, case.complained_unit) or is_recused(user, case)


def identity_masked_for(*, user: User, case: Case) -> bool:
    """Whether ``user`` sees the petitioners masked on opening the case: everyone but those
    who deal with them (``CASE_VIEW_IDENTITY``: the registering office, the lead unit, the
    leader in charge); the permission module also refuses it to the accused and the recused."""
    return not can(user, Action.CASE_VIEW_IDENTITY, case)


def _check_view(*, user: User, case: Case) -> None:
    if not can(user, Action.CASE_VIEW, case):
        raise PermissionDenied(_("You may not see case %(number)s.") % {"number": case.number})


def petitioner_view_for(*, user: User, case: Case) -> list[PetitionerView]:
    """List the case's petitioners, masked unless the user deals with them
    (:func:`identity_masked_for`); never unmasked for the unit complained about (R22 Art.30, 46).

    Showing someone's ID number, phone and address unmasked is a view of protected
    personal data, so it writes one audit row naming the viewer (issue 3; LESSONS).
    """
    _check_view(user=user, case=case)
    masked = identity_masked_for(user=user, case=case)
    views = _views(case=case, masked=masked)
    if views and not masked:
        events.record(events.personal_data_viewed(case=case, actor=user, at=timezone.now(),
                                                  petitioners=[v.pk for v in views]))
    return views


def _views(*, case: Case, masked: bool) -> list[PetitionerView]:
    parties = (CasePetitioner.objects.filter(case=case).select_related("petitioner")
               .order_by("-is_main", "pk"))
    return [_view(party, masked=masked) for party in parties]


def _view(party: CasePetitioner, *, masked: bool) -> PetitionerView:
    person = party.petitioner
    return PetitionerView(
        pk=person.pk,
        name=mask_name(person.name) if masked else person.name,
        id_type=person.id_type,
        id_number=person.masked_id_number if masked else person.id_number,
        phone=mask_phone(person.phone) if masked else person.phone,
        address=("***" if person.address else "") if masked else person.address,
        is_main=party.is_main, is_representative=party.is_representative, masked=masked)


def mask_name(name: str) -> str:
    """Keep the surname only: 张三丰 → 张**."""
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else "*" * len(name)


def mask_phone(phone: str) -> str:
    """Keep the first three and last four digits: 13812345678 → 138****5678."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


@transaction.atomic
def case_identity_reveal(*, actor: User, case: Case, reason: str,
                         at: datetime | None = None) -> list[PetitionerView]:
    """Show the petitioners unmasked to one who sees them masked but may reveal them (office
    head, supervisor, leader of the place, co-handling unit), logging why; never to a member
    of the unit complained about (R22 Art.30), even the petition bureau itself."""
    at = at or timezone.now()
    if not can(actor, Action.CASE_REVEAL_IDENTITY, case):
        raise PermissionDenied(_("You may not reveal who petitioned on case %(number)s.")
                               % {"number": case.number})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason the petitioner's identity is needed."),
                              code="reason")
    events.record(events.identity_revealed(case=case, actor=actor, at=at, reason=reason))
    return _views(case=case, masked=False)


@transaction.atomic
def case_recuse(*, case: Case, actor: User, reason: str, at: datetime | None = None) -> Recusal:
    """Declare an interest and step aside from handling the case (回避, R22 Art.28)."""
    at = at or timezone.now()
    _check_view(user=actor, case=case)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say what your interest in this case is."), code="reason")
    try:
        with transaction.atomic():
            recusal = Recusal.objects.create(case=case, user=actor, reason=reason, declared_at=at)
    except IntegrityError:
        raise ValidationError(_("You have already stepped aside from this case."),
                              code="already_recused") from None
    forget_recusals(case)
    events.record(events.recusal(case=case, actor=actor, at=at, row=recusal))
    return recusal


def attachments_for(*, user: User, case: Case) -> QuerySet[Attachment]:
    """List the case's files the user may open; accusation material never reaches the accused."""
    _check_view(user=user, case=case)
    files = Attachment.objects.filter(case=case).order_by("uploaded_at", "pk")
    if _must_hide(user=user, case=case):
        files = files.exclude(is_accusation_material=True)
    return files
