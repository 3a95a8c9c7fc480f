"""Mediation cases (issue 11; mediation/DECISIONS.md M2, M20-M39): the services that open one
(walk-in, from a grid report's triage, from a petition case), name its mediators and
parties, and record its parties' consent and its meetings (笔录). The outcome, the
agreement, its court confirmation and the follow-up of its terms are in ``agreements.py``;
the pages' reads in ``mediation_pages.py``.

Every change takes the case's row lock, compares the version the page was read at, checks
the actor with ``can`` on the locked row and writes one ``MediationEvent``; a case sent
from a petition case reports each end back to that case's trail (``cases.events``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.models import OrgUnit, RoleAssignment, User, path_contains
from accounts.permissions import Action, can
from cases import events
from cases.choices import CaseStatus, ClockKind, ClockStatus
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import Case, CasePetitioner, Petitioner
from cases.services.registration import petitioner_find_or_create, sequence_next
from cases.services.undertakings import office_today

from .clocks import dispute_clock_cancel, dispute_clock_meet, dispute_clock_start
from .grid import same_name
from .models import (
    Agreement,
    AgreementForm,
    Committee,
    DisputeKind,
    EventKind,
    GridReport,
    MediationCase,
    MediationEvent,
    MediationKind,
    MediationParty,
    MediationSource,
    MediationStatus,
    Meeting,
    NumberSequence,
    Side,
    Term,
)

MAX_MEDIATORS = 3
# A petition case may be sent while its handling is open: the office has not routed it, or
# the lead unit has it (M28).
SENDABLE_STATUSES = (CaseStatus.REGISTERED, CaseStatus.SIGNED, CaseStatus.ACCEPTED,
                     CaseStatus.IN_HANDLING)
ENDED_STATUSES = (MediationStatus.NO_AGREEMENT, MediationStatus.WITHDRAWN,
                  MediationStatus.PERFORMED)

STALE = _("Someone else changed this mediation while you were working on it. Check what "
          "they recorded, then try again.")


# --- Small helpers -----------------------------------------------------------------------

def _event(mediation: MediationCase, event_kind: str, actor: User | None, at: datetime,
           **details: Any) -> MediationEvent:
    return MediationEvent.objects.create(mediation=mediation, kind=event_kind, actor=actor,
                                         at=at, details=details)


def _noon(day: date) -> datetime:
    """A moment inside ``day`` at the office: a clock counted from a day, not an instant."""
    return datetime.combine(day, time(12), tzinfo=OFFICE_TZ)


def agreement_in_effect(agreement: Agreement | None) -> bool:
    """An oral agreement from the day agreed (PML Art.30); a written one once the parties
    and the mediator signed it and the committee sealed it (Art.29; M24)."""
    if agreement is None:
        return False
    return agreement.form == AgreementForm.ORAL or (
        agreement.parties_signed and agreement.mediator_signed and agreement.sealed)


def _agreement(case: MediationCase) -> Agreement | None:
    return Agreement.objects.filter(case=case).first()


def _locked(mediation: MediationCase, version: int, actor: User,
            *, statuses: tuple[str, ...] = (MediationStatus.OPEN,)) -> MediationCase:
    """The case's row, locked and checked as it is now: the actor works it, nobody changed
    it since ``version`` was read, and its status allows the step."""
    row = (MediationCase.objects.select_for_update(of=("self",))
           .select_related("committee__unit", "petition_case").get(pk=mediation.pk))
    if not can(actor, Action.MEDIATION_ACT, row):
        raise PermissionDenied(_("Only the mediators of this committee, or of the township "
                                 "over it, may change this mediation."))
    if row.version != version:
        raise ValidationError(STALE, code="stale")
    if row.status not in statuses:
        raise ValidationError(_("This mediation is %(status)s: this step is not open now.")
                              % {"status": row.get_status_display()}, code="status")
    return row


def _save(row: MediationCase, fields: list[str]) -> None:
    row.version += 1
    row.save(update_fields=[*fields, "version"])


def _day_checked(day: date | None, *, row: MediationCase, at: datetime, name: str,
                 not_before: date | None = None) -> date:
    """A day typed for a step: given, not in the future, not before the case (or a limit)."""
    if day is None:
        raise ValidationError({name: _("Enter the day.")})
    if day > office_today(at):
        raise ValidationError({name: _("The day cannot be in the future.")})
    floor = not_before or office_today(row.opened_at)
    if day < floor:
        raise ValidationError({name: _("The day cannot be before %(day)s.")
                               % {"day": floor.isoformat()}})
    return day


def _report_back(row: MediationCase, *, actor: User | None, at: datetime) -> None:
    """Tell the petition case the mediation came from how it ended (its status); a grid
    report's settling clock is met when its mediation concludes (M-clocks, M28)."""
    if row.report_id:
        dispute_clock_meet(owner=row.report, kind=ClockKind.REPORT_SETTLE, at=at, actor=actor)
    if row.petition_case_id:
        events.record(events.mediation_outcome(case=row.petition_case, actor=actor, at=at,
                                               mediation=row))


def _end(row: MediationCase, status: str, *, note: str, actor: User | None, at: datetime,
         reason: str, **details: Any) -> None:
    """Conclude the case (or the round): its MEDIATION clock met, the trail, the report back."""
    row.status, row.concluded_at = status, at
    if note:
        row.outcome_note = note
    _save(row, ["status", "concluded_at", "outcome_note"])
    dispute_clock_meet(owner=row, kind=ClockKind.MEDIATION, at=at, actor=actor)
    _event(row, EventKind.CONCLUDED, actor, at, status=status, reason=reason, note=note,
           **details)
    _report_back(row, actor=actor, at=at)


# --- Who may open and mediate -----------------------------------------------------------

def mediators_eligible(committee: Committee) -> QuerySet[User]:
    """Users holding the mediator role in the committee's unit or a unit above it (M2)."""
    path, step = committee.unit.path, OrgUnit.steplen
    above = [path[:end] for end in range(step, len(path) + 1, step)]
    holders = RoleAssignment.objects.filter(role=Role.MEDIATOR, unit__path__in=above,
                                            unit__is_active=True).values("user_id")
    return User.objects.filter(pk__in=holders, is_active=True).order_by("name", "pk")


def committees_workable(*, user: User) -> list[Committee]:
    """The active committees whose cases ``user`` may work (MEDIATION_ACT)."""
    rows = Committee.objects.filter(is_active=True).select_related("unit").order_by("code")
    return [row for row in rows if can(user, Action.MEDIATION_ACT, MediationCase(committee=row))]


def _may_open(actor: User, case: MediationCase) -> bool:
    """The committee's mediators; the township centre triaging a grid report (M1); the
    petition case's handling unit or office sending it (CASE_SEND_TO_MEDIATION)."""
    if can(actor, Action.MEDIATION_ACT, case):
        return True
    if case.source == MediationSource.GRID_REPORT and case.report is not None:
        return can(actor, Action.GRID_REPORT_TRIAGE, case.report)
    if case.source == MediationSource.PETITION_CASE and case.petition_case is not None:
        return can(actor, Action.CASE_SEND_TO_MEDIATION, case.petition_case)
    return False


def _check_open(case: MediationCase, actor: User) -> None:
    if not _may_open(actor, case):
        raise PermissionDenied(_("You may not open a mediation case for %(committee)s.")
                               % {"committee": case.committee.name})
    errors = {}
    if not case.committee.is_active:
        errors["committee"] = _("This committee no longer mediates; choose another.")
    if case.kind not in MediationKind.values:
        errors["kind"] = _("Choose people's, administrative or judicial mediation.")
    if case.dispute_kind not in DisputeKind.values:
        errors["dispute_kind"] = _("Choose the kind of dispute.")
    if not case.summary:
        errors["summary"] = _("Describe the dispute.")
    if errors:
        raise ValidationError(errors)
    named = {MediationSource.GRID_REPORT: case.report, MediationSource.PETITION_CASE:
             case.petition_case, MediationSource.WALK_IN: True}
    if not named.get(case.source):
        raise ValidationError(_("Say where the mediation came from: a grid report, a petition "
                                "case, or a walk-in."), code="source")
    if case.report is not None and MediationCase.objects.filter(report=case.report).exists():
        raise ValidationError(_("Grid report %(number)s is already in mediation.")
                              % {"number": case.report.number}, code="report_taken")


def _parties_checked(parties) -> list[dict]:
    """Each party a person (one Petitioner row) or an organisation, on one side, once."""
    rows, seen = [], set()
    ids = [p["petitioner_id"] for p in parties if p.get("petitioner_id")]
    found = Petitioner.objects.in_bulk(ids)
    for party in parties:
        person = party.get("petitioner") or found.get(party.get("petitioner_id"))
        organisation = (party.get("organisation") or "").strip()
        if party.get("side") not in Side.values or not (person or organisation):
            raise ValidationError(_("Each party is a person or an organisation, applicant or "
                                    "respondent."), code="party")
        key = ("p", person.pk) if person else ("o", organisation)
        if key in seen:
            raise ValidationError(_("A party is named twice."), code="party_twice")
        seen.add(key)
        rows.append({"side": party["side"], "petitioner": person,
                     "organisation": "" if person else organisation})
    if not rows:
        raise ValidationError(_("Name at least one party to the dispute."), code="no_party")
    return rows


def _mediators_checked(case: MediationCase, mediators, *, required: bool) -> list[User]:
    """One to three users holding the mediator role in (or above) the committee's unit."""
    chosen = list(dict.fromkeys(mediators))
    if len(chosen) > MAX_MEDIATORS or (required and not chosen):
        raise ValidationError({"mediators": _("Choose one to three mediators.")})
    for user in chosen:
        if not (user.is_active and can(user, Action.MEDIATION_ACT, case)):
            raise ValidationError({"mediators": _(
                "%(name)s is not a mediator of this committee or of the township over it.")
                % {"name": user.name or user.username}})
    return chosen


def _tell_mediators(case: MediationCase, users, *, at: datetime) -> None:
    from notifications.services import NotificationDraft, notify_bulk

    url = reverse("mediation:case", args=[case.pk])
    notify_bulk([NotificationDraft(user_id=user.pk, case_id=None, kind="other",
                                   message="mediation.opened", url=url,
                                   params={"case_number": case.number})
                 for user in users], at=at)


# --- Opening ------------------------------------------------------------------------------

@transaction.atomic
def mediation_open(*, committee: Committee, kind: str, dispute_kind: str, summary: str,
                   source: str, actor: User, at: datetime | None = None,
                   report: GridReport | None = None, petition_case: Case | None = None,
                   parties=(), mediators=()) -> MediationCase:
    """Open a mediation case, numbered per committee and year; its MEDIATION clock starts
    (M-clocks). Parties: dicts of "side" and "petitioner", "petitioner_id" or
    "organisation"; mediators: up to three now, one at least before any meeting (M21)."""
    at = at or timezone.now()
    case = MediationCase(committee=committee, kind=kind, dispute_kind=dispute_kind,
                         summary=(summary or "").strip(), source=source, report=report,
                         petition_case=petition_case, opened_at=at, opened_by=actor)
    _check_open(case, actor)
    people = _parties_checked(parties)
    chosen = _mediators_checked(case, mediators, required=False)
    year = office_today(at).year
    seq = sequence_next(NumberSequence, scope=f"mediation:{committee.code}", year=year)
    case.number = f"{committee.code}-{year}-{seq:04d}"
    case.save(force_insert=True)
    MediationParty.objects.bulk_create([MediationParty(case=case, **row) for row in people])
    case.mediators.set(chosen)
    dispute_clock_start(owner=case, kind=ClockKind.MEDIATION, start=at, at=at, actor=actor)
    _event(case, EventKind.OPENED, actor, at, number=case.number, committee=committee.code,
           kind=kind, source=source, report=report.pk if report else None,
           petition_case=petition_case.pk if petition_case else None, parties=len(people),
           mediators=[user.pk for user in chosen])
    _tell_mediators(case, [user for user in chosen if user.pk != actor.pk], at=at)
    return case


def committees_for_case(case: Case) -> QuerySet[Committee]:
    """The committees a petition case may be sent to: any active one of its county (M27)."""
    county = case.registered_unit.county_path
    return (Committee.objects.filter(is_active=True, unit__path__startswith=county)
            .select_related("unit").order_by("code"))


@transaction.atomic
def mediation_from_case(*, case: Case, committee: Committee, kind: str, actor: User,
                        at: datetime | None = None,
                        dispute_kind: str = DisputeKind.OTHER) -> MediationCase:
    """Send a petition case to mediation (R22 Art.37): its petitioners are the applicants;
    the case's trail records it, and later the outcome (M27-M28)."""
    at = at or timezone.now()
    locked = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if not can(actor, Action.CASE_SEND_TO_MEDIATION, locked):
        raise PermissionDenied(_("Only the unit handling case %(number)s, or the office that "
                                 "registered it, may send it to mediation.")
                               % {"number": locked.number})
    if locked.status not in SENDABLE_STATUSES:
        raise ValidationError(_("Case %(number)s is %(status)s: only a case still being "
                                "handled is sent to mediation.")
                              % {"number": locked.number, "status": locked.get_status_display()},
                              code="case_status")
    if locked.mediations.filter(status=MediationStatus.OPEN).exists():
        raise ValidationError(_("Case %(number)s is already in mediation.")
                              % {"number": locked.number}, code="in_mediation")
    if not committees_for_case(locked).filter(pk=committee.pk).exists():
        raise ValidationError({"committee": _(
            "%(committee)s is not an active committee of the case's county; choose another "
            "committee.") % {"committee": committee.name}})
    accused = locked.complained_unit
    if accused is not None and path_contains(accused.path, committee.unit.path):
        # Its mediators would see the petitioners: never the unit complained about (R22
        # Art.30, as DENIED_TO_ACCUSED keeps them from it on the case; M27).
        raise ValidationError({"committee": _(
            "%(committee)s belongs to the unit the petition complains about; choose another "
            "committee.") % {"committee": committee.name}})
    people = (CasePetitioner.objects.filter(case=locked).order_by("-is_main", "pk")
              .values_list("petitioner_id", flat=True))
    mediation = mediation_open(
        committee=committee, kind=kind, dispute_kind=dispute_kind, summary=locked.summary,
        source=MediationSource.PETITION_CASE, actor=actor, at=at, petition_case=locked,
        parties=[{"side": Side.APPLICANT, "petitioner_id": pk} for pk in people])
    events.record(events.sent_to_mediation(case=locked, actor=actor, at=at, mediation=mediation))
    return mediation


@transaction.atomic
def mediation_mediators_set(*, mediation: MediationCase, mediators, actor: User, version: int,
                            at: datetime | None = None) -> MediationCase:
    """Name the case's one to three mediators; the new ones are told."""
    at = at or timezone.now()
    row = _locked(mediation, version, actor,
                  statuses=(MediationStatus.OPEN, MediationStatus.AGREEMENT))
    chosen = _mediators_checked(row, mediators, required=True)
    before = set(row.mediators.values_list("pk", flat=True))
    row.mediators.set(chosen)
    _save(row, [])
    _event(row, EventKind.MEDIATORS, actor, at, mediators=[user.pk for user in chosen],
           previous=sorted(before))
    _tell_mediators(row, [u for u in chosen if u.pk not in before and u.pk != actor.pk], at=at)
    return row


@dataclass(frozen=True)
class PartyTyped:
    """A party as typed at the desk: a person (found again by ID number or phone: one
    ``Petitioner`` row across grid, mediation and petitions) or an organisation."""

    side: str
    name: str = ""
    id_type: str = "resident_id"
    id_number: str = ""
    phone: str = ""
    organisation: str = ""

    def as_party(self) -> dict:
        if self.organisation.strip():
            return {"side": self.side, "organisation": self.organisation}
        if not self.name.strip():
            return {"side": self.side}  # refused by ``_parties_checked``
        person = petitioner_find_or_create(name=self.name, id_type=self.id_type,
                                           id_number=self.id_number, phone=self.phone)
        if not same_name(person.name, self.name):  # found by the ID number alone
            # Refused, as on the grid (M18): else a number typed with any name would show
            # the name and phone on file; what the lookup filled in is undone with the step.
            raise ValidationError(
                _("The ID number typed for %(name)s is on file under another name. Check the "
                  "name and the number against the ID card.") % {"name": self.name.strip()},
                code="id_name")
        return {"side": self.side, "petitioner": person}


@transaction.atomic
def mediation_open_walk_in(*, committee: Committee, kind: str, dispute_kind: str, summary: str,
                           parties: list[PartyTyped], actor: User, mediators=(),
                           at: datetime | None = None) -> MediationCase:
    """Open a mediation a party applied for, or the committee took up itself (PML Art.17)."""
    return mediation_open(committee=committee, kind=kind, dispute_kind=dispute_kind,
                          summary=summary, source=MediationSource.WALK_IN, actor=actor, at=at,
                          parties=[party.as_party() for party in parties], mediators=mediators)


@transaction.atomic
def mediation_party_add(*, mediation: MediationCase, party: PartyTyped, actor: User,
                        version: int, at: datetime | None = None) -> MediationParty:
    """Add a party found later (the respondent of a case sent from a petition case)."""
    at = at or timezone.now()
    row = _locked(mediation, version, actor)
    if _agreement(row) is not None:
        raise ValidationError(_("The agreement is drawn up; its parties are settled."),
                              code="agreed")
    existing = [{"side": p.side, "petitioner": p.petitioner, "organisation": p.organisation}
                for p in row.parties.select_related("petitioner")]
    added = _parties_checked([*existing, party.as_party()])[-1]
    made = MediationParty.objects.create(case=row, **added)
    _save(row, [])
    _event(row, EventKind.PARTY, actor, at, party=made.pk, side=made.side,
           petitioner=made.petitioner_id, organisation=made.organisation)
    return made


# --- Consent, meetings ----------------------------------------------------------------------

@transaction.atomic
def mediation_consent_record(*, mediation: MediationCase, party: MediationParty, consents: bool,
                             actor: User, version: int, note: str = "",
                             at: datetime | None = None) -> MediationCase:
    """Record a party's consent or refusal (R22 Art.33; PML Art.3, 17). A refusal ends the
    mediation: withdrawn when an applicant refuses, no agreement when a respondent does (M20)."""
    at = at or timezone.now()
    row = _locked(mediation, version, actor)
    party = MediationParty.objects.select_for_update().get(pk=party.pk, case=row)
    party.consents, party.consent_recorded_at = consents, at
    party.save(update_fields=["consents", "consent_recorded_at"])
    note = (note or "").strip()
    _event(row, EventKind.CONSENT, actor, at, party=party.pk, consents=consents, note=note)
    if consents:
        _save(row, [])
        return row
    status = (MediationStatus.WITHDRAWN if party.side == Side.APPLICANT
              else MediationStatus.NO_AGREEMENT)
    _end(row, status, note=note, actor=actor, at=at, reason="refused", party=party.pk)
    _performance_stop(row, actor=actor, at=at)
    return row


def _ready_to_mediate(row: MediationCase) -> None:
    """A mediator is named; in administrative mediation every party consented (R22 Art.33)."""
    if not row.mediators.exists():
        raise ValidationError(_("Name the mediator first."), code="no_mediator")
    if row.kind == MediationKind.ADMINISTRATIVE and row.parties.exclude(consents=True).exists():
        raise ValidationError(_("Administrative mediation needs every party's consent "
                                "(Regulations on Letters and Visits Work, Art. 33): record "
                                "each party's consent first."), code="consent")


@dataclass(frozen=True)
class MeetingInput:
    held_on: date | None
    place: str
    attendees: str
    record: str
    corrects: int | None = None  # the meeting whose record this one corrects (M22)


@transaction.atomic
def mediation_meeting_record(*, mediation: MediationCase, meeting: MeetingInput, actor: User,
                             version: int, at: datetime | None = None) -> Meeting:
    """File a meeting and its record (笔录, PML Art.27); a filed record is never changed: a
    correction is a new record naming the one it corrects (M22)."""
    at = at or timezone.now()
    row = _locked(mediation, version, actor)
    _ready_to_mediate(row)
    texts = {name: (getattr(meeting, name) or "").strip()
             for name in ("place", "attendees", "record")}
    errors = {name: _("This is needed for the record.") for name, text in texts.items()
              if not text}
    if errors:
        raise ValidationError(errors)
    held_on = _day_checked(meeting.held_on, row=row, at=at, name="held_on")
    if meeting.corrects and not row.meetings.filter(pk=meeting.corrects).exists():
        raise ValidationError({"corrects": _("Choose a meeting of this case.")})
    made = Meeting.objects.create(case=row, held_on=held_on, recorded_by=actor,
                                  recorded_at=at, **texts)
    _save(row, [])
    _event(row, EventKind.MEETING, actor, at, meeting=made.pk, held_on=held_on.isoformat(),
           corrects=meeting.corrects)
    return made


def _performance_stop(row: MediationCase, *, actor: User | None, at: datetime) -> None:
    """A case ended without performance: its terms' follow-up clocks stop (M29)."""
    for term in Term.objects.filter(agreement__case=row, clocks__kind=ClockKind.PERFORMANCE,
                                    clocks__status__in=(ClockStatus.OPEN, ClockStatus.PAUSED)
                                    ).distinct():
        dispute_clock_cancel(owner=term, kind=ClockKind.PERFORMANCE, at=at, actor=actor)
