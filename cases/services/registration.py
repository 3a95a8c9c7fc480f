"""Registering a petition (R22 Art.19-23): the person once, the case numbered, its clocks started."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit, User, path_contains
from accounts.permissions import Action, can, held_roles
from config.crypto import blind_index

from .. import events
from ..choices import CaseStatus, CauseTag, DiversionChannel, IdType, NoNoticeReason, Urgency
from ..deadlines.clocks import OFFICE_TZ
from ..idnumbers import normalize_resident_id, validate_resident_id
from ..models import Case, CaseNumberSequence, CasePetitioner, Category, Petitioner
from .step_clocks import REGISTER, move_clocks
from .transitions.base import step

# The first year of official holiday data: the clocks cannot count earlier days.
EARLIEST_YEAR = 2004
MAX_REPRESENTATIVES = 5  # R22 Art.20: a group on one matter sends at most five
# No 0/O, 1/I/L: the code is read out over the phone and typed from an SMS.
QUERY_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
QUERY_CODE_LENGTH = 8


@dataclass(frozen=True)
class PetitionerInput:
    """One person as the clerk took them down; ``is_main`` marks the main petitioner."""

    name: str
    id_type: str = IdType.RESIDENT_ID
    id_number: str = ""
    phone: str = ""
    sex: str = ""
    ethnicity: str = ""
    address: str = ""
    address_unit: OrgUnit | None = None
    is_anonymous: bool = False
    is_main: bool = False
    is_representative: bool = False
    # The person's row when another part already knows it (a grid report's party): linked
    # as it is, its blanks filled, never looked up again by what is typed here, which for a
    # person named without an ID number or phone would add a second row of them.
    on_file: Petitioner | None = None

    def identity(self) -> dict:
        """The keyword arguments of :func:`petitioner_find_or_create`."""
        return {
            "name": self.name, "id_type": self.id_type, "id_number": self.id_number,
            "phone": self.phone, "sex": self.sex, "ethnicity": self.ethnicity,
            "address": self.address, "address_unit": self.address_unit,
            "is_anonymous": self.is_anonymous,
        }


@dataclass(frozen=True)
class CaseIntake:
    """What the petitioner raised, by which channel, and who came (the legal minimum: R22 Art.19)."""

    channel: str
    received_at: datetime
    petitioners: list[PetitionerInput]
    purpose: str
    category: Category
    summary: str
    demands: str
    place_unit: OrgUnit
    headcount: int = 1
    complained_unit: OrgUnit | None = None
    complained_person: str = ""
    postal_reference: str = ""
    repeat_of: Case | None = None
    # What is new when ``repeat_of`` is final (R22 Art.36); without it the repeat is refused.
    new_facts: str = ""
    cause_tags: tuple[str, ...] = field(default_factory=tuple)
    urgency: str = Urgency.NORMAL
    # Who received the petitioner (接谈人); for a letter, whoever opened it.
    receiving_officer: User | None = None
    # The marks offices report on (cases/DECISIONS.md row F).
    is_first_petition: bool = False
    is_level_skipping: bool = False
    is_litigation_related: bool = False
    has_threat: bool = False
    threat_words: str = ""  # what was said; counts only with ``has_threat``
    is_secret: bool = False
    is_public: bool = False


def petitioner_find_or_create(
    *, name: str, id_type: str, id_number: str = "", phone: str = "", sex: str = "",
    ethnicity: str = "", address: str = "", address_unit: OrgUnit | None = None,
    is_anonymous: bool = False,
) -> Petitioner:
    """Return the one row of this person: found by ID number, else by phone and name, else new."""
    id_number = _checked_id_number(id_type=id_type, id_number=id_number)
    phone, name = phone.strip(), name.strip()
    profile = {"sex": sex, "ethnicity": ethnicity, "address": address,
               "address_unit": address_unit, "is_anonymous": is_anonymous}
    person = None
    if id_number:  # stored encrypted: found through its blind index (issue 9)
        person = Petitioner.objects.filter(id_type=id_type,
                                           id_number_index=blind_index(id_number)).first()
    if person is None:
        person = _found_by_phone(name=name, phone=phone)
        if person is not None and id_number:  # now we know who they are
            person.id_type, person.id_number = id_type, id_number
            person.save(update_fields=["id_type", "id_number", "id_number_index"])
    if person is None:
        return _created(name=name, id_type=id_type, id_number=id_number, phone=phone,
                        profile=profile)
    _fill_blanks(person, {"phone": phone, **profile})
    return person


def _created(*, name: str, id_type: str, id_number: str, phone: str, profile: dict) -> Petitioner:
    """Add a new person; with an ID number, a row another clerk added meanwhile is reused."""
    if not id_number:
        return Petitioner.objects.create(name=name, id_type=id_type, phone=phone, **profile)
    person, _created_now = Petitioner.objects.get_or_create(
        id_type=id_type, id_number_index=blind_index(id_number),
        defaults={"id_number": id_number, "name": name, "phone": phone, **profile})
    return person


def _checked_id_number(*, id_type: str, id_number: str) -> str:
    """Normalise an ID number; a resident ID must pass GB 11643 (the validator's message)."""
    if not id_number.strip():
        return ""
    if id_type == IdType.RESIDENT_ID:
        return validate_resident_id(id_number)
    return normalize_resident_id(id_number)


def _found_by_phone(*, name: str, phone: str) -> Petitioner | None:
    """Find a person with no ID number on file by the same phone and name."""
    if not (phone and name):
        return None
    return (Petitioner.objects.filter(phone=phone, name=name, id_number="")
            .order_by("pk").first())


# What a later intake may add to a person on file: their contact and profile, never who
# they are (the name, the ID number), and never over what an earlier visit recorded.
_FILLABLE = ("phone", "sex", "ethnicity", "address", "address_unit", "is_anonymous")


def _fill_blanks(person: Petitioner, values: dict) -> None:
    """Add what was missing on file (of ``values``, the _FILLABLE ones); never overwrite what
    an earlier visit recorded."""
    changed = [key for key, value in values.items() if key in _FILLABLE
               and value not in ("", None, False) and getattr(person, key) in ("", None)]
    for key in changed:
        setattr(person, key, values[key])
    if changed:
        person.save(update_fields=changed)


@transaction.atomic
def case_register(*, actor: User, office: OrgUnit, intake: CaseIntake) -> Case:
    """Register a petition at ``office``: number it, link its people, start its clocks (R22 Art.21-23).

    Every item is registered (Art.21), even one refused at once: a repeat of a matter
    already final after re-review, with nothing new recorded, is registered and
    refused as final (Art.36) in the same transaction.
    """
    if not can(actor, Action.CASE_REGISTER, office):
        raise PermissionDenied(_("You may not register petitions at %(office)s.")
                               % {"office": office})
    _check_intake(intake)
    _check_marks(intake)
    _check_jurisdiction(office=office, intake=intake)
    now = timezone.now()
    case = Case.objects.create(
        number=_next_number(office=office, received_at=intake.received_at),
        query_code=query_code_new(), registered_by=actor, registered_unit=office,
        is_group=intake.headcount > 1, no_notice_reason=_no_notice_reason(intake),
        **_case_fields(intake))
    _link_petitioners(case=case, petitioners=intake.petitioners)
    events.record(events.registered(case=case, actor=actor, at=now,
                                    petitioners=len(intake.petitioners)))
    move_clocks(case=case, step_name=REGISTER, actor=actor, at=now, start_at=intake.received_at)
    if _repeats_final_matter(intake):
        _refuse_as_final(case=case, actor=actor, at=now)
    return case


def _no_notice_reason(intake: CaseIntake) -> str:
    """No acceptance notice is due where the name or address is unclear (R22 Art.23)."""
    main = next(person for person in intake.petitioners if person.is_main)
    return NoNoticeReason.IDENTITY_UNCLEAR if main.is_anonymous else ""


def _repeats_final_matter(intake: CaseIntake) -> bool:
    repeat_of = intake.repeat_of
    return (repeat_of is not None and repeat_of.status == CaseStatus.FINAL
            and not intake.new_facts.strip())


def _refuse_as_final(*, case: Case, actor: User, at: datetime) -> None:
    """Refuse the same matter on the same facts and reasons once final (R22 Art.36)."""
    reason = str(_("The same matter on the same facts and reasons was re-reviewed and is final "
                   "(case %(number)s); it is not accepted again (Regulations on Letters and "
                   "Visits Work, Art. 36).") % {"number": case.repeat_of.number})
    step(case=case, name="refuse", actor=actor, at=at,
         arguments={"reason": reason, "channel": DiversionChannel.FINAL, "at": at},
         reason=reason, channel=DiversionChannel.FINAL)


def _case_fields(intake: CaseIntake) -> dict:
    return {
        "channel": intake.channel, "received_at": intake.received_at,
        "postal_reference": intake.postal_reference.strip(), "headcount": intake.headcount,
        "purpose": intake.purpose, "category": intake.category, "summary": intake.summary,
        "demands": intake.demands, "place_unit": intake.place_unit,
        "complained_unit": intake.complained_unit,
        "complained_person": intake.complained_person, "cause_tags": list(intake.cause_tags),
        "urgency": intake.urgency, "repeat_of": intake.repeat_of,
        "new_facts": intake.new_facts.strip(),
        "receiving_officer": intake.receiving_officer,
        "is_first_petition": intake.is_first_petition,
        "is_level_skipping": intake.is_level_skipping,
        "is_litigation_related": intake.is_litigation_related,
        "has_threat": intake.has_threat,
        # Words typed under an unticked threat are dropped, as a hidden follow-up field is.
        "threat_words": intake.threat_words.strip() if intake.has_threat else "",
        "is_secret": intake.is_secret, "is_public": intake.is_public,
    }


def _check_intake(intake: CaseIntake) -> None:
    """Refuse an intake that breaks the registration rules, each with its own message."""
    people = intake.petitioners
    if sum(person.is_main for person in people) != 1:
        raise ValidationError(_("Mark exactly one main petitioner."), code="main_petitioner")
    _check_legal_minimum(intake)
    representatives = sum(person.is_representative for person in people)
    if representatives > MAX_REPRESENTATIVES:
        raise ValidationError(
            _("A group petition sends at most %(limit)d representatives (Regulations on "
              "Letters and Visits Work, Art. 20); %(count)d were entered."),
            code="too_many_representatives",
            params={"limit": MAX_REPRESENTATIVES, "count": representatives})
    if intake.headcount < len(people):
        raise ValidationError(
            _("The headcount (%(headcount)d) cannot be smaller than the number of "
              "petitioners entered (%(count)d)."),
            code="headcount", params={"headcount": intake.headcount, "count": len(people)})
    if intake.received_at > timezone.now():
        raise ValidationError(_("The petition cannot be received in the future."),
                              code="received_in_future")
    if intake.received_at.astimezone(OFFICE_TZ).year < EARLIEST_YEAR:
        raise ValidationError(
            _("The petition cannot be received before %(year)d; check the date."),
            code="received_too_early", params={"year": EARLIEST_YEAR})
    unknown = set(intake.cause_tags) - set(CauseTag.values)
    if unknown:
        raise ValidationError(_("Unknown cause: %(tags)s."), code="cause_tags",
                              params={"tags": ", ".join(sorted(unknown))})


def _check_marks(intake: CaseIntake) -> None:
    """A repeat is no first petition; a threat is recorded with its words (DECISIONS.md row F)."""
    if intake.is_first_petition and intake.repeat_of is not None:
        raise ValidationError(
            _("A petition linked as a repeat of case %(number)s is not a first petition; "
              "untick “first petition” or remove the link."),
            code="first_petition_repeat", params={"number": intake.repeat_of.number})
    if intake.has_threat and not intake.threat_words.strip():
        raise ValidationError(
            _("Write down the words of the threat as the petitioner said them."),
            code="threat_words")


def _check_legal_minimum(intake: CaseIntake) -> None:
    """The facts, the demands, and the petitioner's name and address (R22 Art.19), unless
    the petitioner is anonymous; the address of the main petitioner (cases/DECISIONS.md)."""
    if not intake.summary.strip():
        raise ValidationError(_("Write down the facts of the matter."), code="summary")
    if not intake.demands.strip():
        raise ValidationError(_("Write down what the petitioner asks for."), code="demands")
    for person in intake.petitioners:
        if person.is_anonymous:
            continue
        if not person.name.strip():
            raise ValidationError(_("Enter each petitioner's name, or mark them anonymous."),
                                  code="name")
        if person.is_main and not (person.address.strip() or person.address_unit):
            raise ValidationError(
                _("Enter the main petitioner's address, or mark them anonymous (Regulations on "
                  "Letters and Visits Work, Art. 19)."), code="address")


def _check_jurisdiction(*, office: OrgUnit, intake: CaseIntake) -> None:
    """Refuse a place, unit complained about, earlier case or receiving officer outside the
    office's county (an officer who left, or holds no role in it, received nobody here)."""
    county = office.county_path
    for unit, label in ((intake.place_unit, _("The place of the matter")),
                        (intake.complained_unit, _("The unit complained about"))):
        if unit is not None and not path_contains(county, unit.path):
            raise ValidationError(
                _("%(field)s, %(unit)s, is not in this county; choose a unit of this county."),
                code="jurisdiction", params={"field": label, "unit": unit.name})
    repeat_of = intake.repeat_of
    if repeat_of is not None and not path_contains(county, repeat_of.registered_unit.path):
        raise ValidationError(
            _("Case %(number)s was registered in another county; link a case of this county."),
            code="jurisdiction", params={"number": repeat_of.number})
    officer = intake.receiving_officer
    if officer is not None and not (
            officer.is_active
            and any(path_contains(county, path)
                    for paths in held_roles(officer).values() for path in paths)):
        raise ValidationError(
            _("%(name)s is not on the staff of this county; choose who received the petitioner "
              "here."), code="receiving_officer", params={"name": officer.display_name})


def _link_petitioners(*, case: Case, petitioners: list[PetitionerInput]) -> None:
    """Add each person once; the same person entered twice is refused."""
    seen: set[int] = set()
    for person in petitioners:
        if person.on_file is not None:
            row = person.on_file
            _fill_blanks(row, person.identity())
        else:
            row = petitioner_find_or_create(**person.identity())
        if row.pk in seen:
            raise ValidationError(
                _("%(name)s is entered twice; enter each person once."),
                code="duplicate_petitioner", params={"name": row.name})
        seen.add(row.pk)
        CasePetitioner.objects.create(case=case, petitioner=row, is_main=person.is_main,
                                      is_representative=person.is_representative)


def _next_number(*, office: OrgUnit, received_at: datetime) -> str:
    """Give the next number of the office's county and year, e.g. 341122-2026-000001."""
    county = OrgUnit.objects.get(path=office.county_path)  # the tree's root
    year = received_at.astimezone(OFFICE_TZ).year
    last = sequence_next(CaseNumberSequence, county_id=county.pk, year=year)
    return f"{county.code}-{year}-{last:06d}"


def sequence_next(model: type[models.Model], **keys: object) -> int:
    """Advance the sequence row of ``model`` named by ``keys`` (its unique fields) and return it.

    One statement takes the row lock and returns the new value, so two clerks
    numbering at once wait for each other instead of taking the same number. The
    model has a ``last`` column and a unique constraint on exactly ``keys``.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [connection.ops.quote_name(model._meta.get_field(key).column) for key in keys]
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}, last) VALUES ({', '.join(['%s'] * len(keys))}, 1) "  # noqa: S608
            f"ON CONFLICT ({names}) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            list(keys.values()))
        (last,) = cursor.fetchone()
    return last


def query_code_new() -> str:
    """Draw a query code the petitioner looks the case up with (at registration, at a reissue)."""
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _position in range(QUERY_CODE_LENGTH))
