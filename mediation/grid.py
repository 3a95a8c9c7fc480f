"""The grid's services (issue 11): a grid worker's report of a dispute, the township
centre's triage of it, and county 包案's registration of it as a petition case.

Who may do what is the permission module's (mediation/DECISIONS.md M1); the readings the
code takes where the texts are silent are M10-M19 there. Every change takes the report's
row lock, checks the version the page was read at, and writes one ``MediationEvent``. The
inputs and rules are ``grid_rules.py``'s, the reads ``grid_pages.py``'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit, RoleAssignment, User, path_contains
from accounts.permissions import Action, can
from cases import events
from cases.choices import Channel, ClockKind, IdType
from cases.deadlines.clocks import OFFICE_TZ
from cases.idnumbers import validate_resident_id
from cases.models import Case, Petitioner
from cases.services.leadership import case_assign_leader
from cases.services.registration import CaseIntake, PetitionerInput, case_register, sequence_next
from config.crypto import blind_index
from notifications.models import NotificationKind
from notifications.services import NotificationDraft, notify_bulk

from .clocks import dispute_clock_meet, dispute_clock_start
from .grid_rules import (
    PartyInput,
    Registration,
    ReportInput,
    RiskFlags,
    Triage,
    committee_for,
    photo_kind,
    report_problems,
    township_of,
    village_of,
)
from .models import (
    Committee,
    EventKind,
    GridReport,
    MediationCase,
    MediationEvent,
    MediationKind,
    MediationSource,
    NumberSequence,
    ReportParty,
    ReportPhoto,
    ReportStatus,
    Side,
)

# The inputs stay importable from here, as the demo and older callers import them.
__all__ = ["PartyInput", "Registration", "ReportInput", "RiskFlags", "Submitted", "Triage",
           "centre_mediators", "county_clerks", "grid_report_register", "grid_report_submit",
           "grid_report_triage", "mediation_open_from_report"]

_TRIAGE_STATUS = {Triage.VILLAGE: ReportStatus.TO_VILLAGE,
                  Triage.TOWNSHIP: ReportStatus.TO_TOWNSHIP,
                  Triage.COUNTY: ReportStatus.TO_COUNTY}


@dataclass(frozen=True)
class Submitted:
    report: GridReport
    created: bool  # False: the phone sent this report before (the same key)


# --- The grid worker reports --------------------------------------------------------------------

@transaction.atomic
def grid_report_submit(*, actor: User, report: ReportInput,
                       at: datetime | None = None) -> Submitted:
    """Record a dispute found in the grid: settled on the spot, or passed to the township
    centre with its clocks started; a report sent again (the same phone key) is the same
    report (M11)."""
    at = at or timezone.now()
    earlier = _sent_before(actor=actor, key=report.client_key)
    if earlier is not None:
        return Submitted(report=earlier, created=False)
    grid = report.grid
    if grid.kind != UnitKind.GRID or not can(actor, Action.MEDIATION_REPORT, grid):
        raise PermissionDenied(_("You may report disputes only from the grids you work in."))
    problems = report_problems(report, at=at)
    if problems:
        raise ValidationError(problems)
    township = township_of(grid)
    try:
        with transaction.atomic():  # a second send racing the first: see M11
            people = _people_found(report.parties)  # undone with the row if it loses
            row = GridReport.objects.create(
                number=_number(township=township, at=at), client_key=report.client_key,
                grid=grid, township=township, reported_by=actor,
                found_at=min(report.found_at, at), received_at=at, **_fields(report))
    except IntegrityError:
        earlier = _sent_before(actor=actor, key=report.client_key)
        if earlier is None:
            raise
        return Submitted(report=earlier, created=False)
    for party, person in zip(report.parties, people, strict=True):
        ReportParty.objects.create(report=row, side=party.side, petitioner=person,
                                   organisation="" if person else party.organisation.strip())
    _photos_add(row, report.photos, at=at)
    _event(row, EventKind.REPORTED, actor, at, {
        "number": row.number, "grid": grid.code, "status": row.status, "kind": row.kind,
        "risks": [name for name in _RISKS if getattr(row, name)],
        "parties": len(report.parties), "photos": len(report.photos),
        "found_at": row.found_at.isoformat()})
    if report.settled:
        _event(row, EventKind.SETTLED, actor, at, {"how": row.settled_how})
    else:
        for kind in (ClockKind.REPORT_ACK, ClockKind.REPORT_SETTLE):
            dispute_clock_start(owner=row, kind=kind, start=at, at=at, actor=actor)
        _notify(row, users=centre_mediators(township), message="mediation.report_new", at=at)
    return Submitted(report=row, created=True)


_RISKS = ("threat", "group_involved", "level_skip_risk", "beijing_risk", "violence_risk")


def _sent_before(*, actor: User, key: UUID) -> GridReport | None:
    row = GridReport.objects.filter(client_key=key).first()
    if row is not None and row.reported_by_id != actor.pk:
        raise PermissionDenied(_("This report was sent from another account."))
    return row


def _number(*, township: OrgUnit, at: datetime) -> str:
    """The township's next report number of the year: 341122100-WG2026-00001."""
    year = timezone.localtime(at, OFFICE_TZ).year
    last = sequence_next(NumberSequence, scope=f"report:{township.code}", year=year)
    return f"{township.code}-WG{year}-{last:05d}"


def _fields(report: ReportInput) -> dict:
    risks = report.risks
    return {
        "kind": report.kind, "place": report.place.strip(), "summary": report.summary.strip(),
        "threat": risks.threat,
        # Words typed under an unticked threat are dropped, as intake drops them.
        "threat_words": risks.threat_words.strip() if risks.threat else "",
        "group_involved": risks.group_involved,
        "group_size": risks.group_size if risks.group_involved else None,
        "level_skip_risk": risks.level_skip_risk, "beijing_risk": risks.beijing_risk,
        "violence_risk": risks.violence_risk,
        "status": ReportStatus.SETTLED if report.settled else ReportStatus.REPORTED,
        "settled_how": report.settled_how.strip() if report.settled else "",
    }


def _people_found(parties: tuple[PartyInput, ...]) -> list[Petitioner | None]:
    """Each person named is one petitioner row, found again by ID number or by phone and
    name (issue 11), or added; what a grid worker types never changes a row on file, and an
    ID number on file under another name is refused at its party (M18). One person named
    twice is refused at the second: neither a mediation nor a petition case takes a party
    twice, and no page edits a report's parties, so the report would be stuck (M18)."""
    found, problems, named = [], [], set()
    for index, party in enumerate(parties):
        try:
            person = _person(party) if party.name.strip() else None
        except ValidationError as problem:
            problems.append(ValidationError(problem.messages[0], code=f"party_id:{index}"))
            continue
        if person is not None and person.pk in named:
            problems.append(ValidationError(
                _("This person is already named above (the same ID number, or the same name "
                  "and phone): name each person once."), code=f"party_name:{index}"))
        elif person is not None:
            named.add(person.pk)
        found.append(person)
    if problems:
        raise ValidationError(problems)
    return found


def _person(party: PartyInput) -> Petitioner:
    """The registration's lookup (``petitioner_find_or_create``: by ID number, else by phone
    and name, else new) without its filling in of blanks: a report is no identity check, so
    a person on file stays as recorded (their ID number, phone and all)."""
    name, phone = party.name.strip(), party.phone.strip()
    id_number = validate_resident_id(party.id_number) if party.id_number.strip() else ""
    index = blind_index(id_number) if id_number else ""
    person = (Petitioner.objects.filter(id_type=IdType.RESIDENT_ID, id_number_index=index).first()
              if id_number else None)
    if person is None and phone:
        person = (Petitioner.objects.filter(phone=phone, name=name, id_number="")
                  .order_by("pk").first())
    if person is None and id_number:  # a row another hand added meanwhile is reused
        person, _new = Petitioner.objects.get_or_create(
            id_type=IdType.RESIDENT_ID, id_number_index=index,
            defaults={"id_number": id_number, "name": name, "phone": phone})
    if person is None:
        return Petitioner.objects.create(name=name, id_type=IdType.RESIDENT_ID, phone=phone)
    if not same_name(person.name, name):
        raise ValidationError(_("This ID number is on file under another name. Check the name "
                                "and the number against the ID card, or leave the ID number "
                                "empty."), code="id_name")
    return person


def same_name(on_file: str, typed: str) -> bool:
    """Whether a name typed is the name on file, spaces aside (M18)."""
    return "".join(on_file.split()) == "".join(typed.split())


def _photos_add(row: GridReport, photos: tuple[UploadedFile, ...], *, at: datetime) -> None:
    for upload in photos:
        original = upload.name
        upload.name = f"photo.{photo_kind(upload)}"  # stored under a random name of its kind
        ReportPhoto.objects.create(report=row, file=upload, original_name=original[:200],
                                   size=upload.size, uploaded_at=at)


# --- The township centre triages -------------------------------------------------------------

def centre_mediators(township: OrgUnit) -> QuerySet[User]:
    """The township centre (群众诉求中心): the mediators of the township's own unit (M1)."""
    holders = RoleAssignment.objects.filter(role=Role.MEDIATOR, unit=township,
                                            unit__is_active=True).values("user_id")
    return User.objects.filter(pk__in=holders, is_active=True).order_by("pk")


def county_clerks(report: GridReport) -> list[User]:
    """The county's petition office: the clerks of the report's county who may register its
    包案, the county's offices' and not a township's own desk (M1; the permission module
    says which)."""
    holders = RoleAssignment.objects.filter(
        role=Role.CLERK, unit__path__startswith=report.township.county_path,
        unit__is_active=True).values("user_id")
    clerks = User.objects.filter(pk__in=holders, is_active=True).order_by("pk")
    return [clerk for clerk in clerks if can(clerk, Action.GRID_REPORT_REGISTER, report)]


@transaction.atomic
def grid_report_triage(*, report: GridReport, actor: User, version: int, to: str,
                       note: str = "", at: datetime | None = None) -> GridReport:
    """Send a report on: to the village committee, the township committee (a mediation case
    each) or county 包案; the centre has taken it up (its REPORT_ACK clock is met)."""
    at = at or timezone.now()
    row = _locked(report, version, actor=actor, action=Action.GRID_REPORT_TRIAGE,
                  status=ReportStatus.REPORTED,
                  refusal=_("Reports are triaged by the township centre of their grid."))
    if to not in Triage.values:
        raise ValidationError(_("Choose where the report goes."), code="to")
    if to == Triage.COUNTY and not row.parties.filter(petitioner__isnull=False).exists():
        # Else it would wait at the county for ever: _intake refuses it (M16).
        raise ValidationError(_("The report names no person, only organisations, and a "
                                "petition case needs a petitioner (Regulations on Letters and "
                                "Visits Work, Art. 19): it cannot go to county 包案. Send it to "
                                "the township mediation committee."), code="no_person")
    details = {"to": to, "note": note.strip()}
    if to != Triage.COUNTY:
        committee = committee_for(row, to)
        mediation = mediation_open_from_report(row, committee, actor, at)
        details |= {"committee": committee.code, "mediation": mediation.pk,
                    "mediation_number": mediation.number}
    row.status = _TRIAGE_STATUS[to]
    row.triaged_by, row.triaged_at, row.triage_note = actor, at, note.strip()
    _save(row, ["status", "triaged_by", "triaged_at", "triage_note"])
    _event(row, EventKind.TRIAGED, actor, at, details)
    dispute_clock_meet(owner=row, kind=ClockKind.REPORT_ACK, at=at, actor=actor)
    if to == Triage.COUNTY:
        _notify(row, users=county_clerks(row), message="mediation.triaged", at=at)
    return row


def mediation_open_from_report(report: GridReport, committee: Committee, actor: User,
                               at: datetime) -> MediationCase:
    """Open a people's mediation of the report's dispute, its parties copied (M15)."""
    from .mediations import mediation_open  # the mediation cases' module, which may use this

    parties = [{"side": party.side, "petitioner_id": party.petitioner_id,
                "organisation": party.organisation}
               for party in report.parties.order_by("pk")]
    return mediation_open(committee=committee, kind=MediationKind.PEOPLES,
                          dispute_kind=report.kind, summary=report.summary,
                          source=MediationSource.GRID_REPORT, actor=actor, at=at, report=report,
                          parties=parties, mediators=())


# --- County 包案: the petition office registers it ---------------------------------------------


@transaction.atomic
def grid_report_register(*, report: GridReport, actor: User, version: int,
                         registration: Registration, at: datetime | None = None) -> Case:
    """Register a report sent to county 包案 as a petition case with its responsible leader,
    linked both ways (R22 Art.18; DOMAIN.md §7); the report's matter is now the case's."""
    at = at or timezone.now()
    row = _locked(report, version, actor=actor, action=Action.GRID_REPORT_REGISTER,
                  status=ReportStatus.TO_COUNTY,
                  refusal=_("Reports sent to county 包案 are registered by the county's "
                            "petition office."))
    office = registration.office
    if not path_contains(office.county_path, row.township.path):
        raise ValidationError(_("Register the report at an office of its own county."),
                              code="office")
    case = case_register(actor=actor, office=office, intake=_intake(row, registration))
    case_assign_leader(case=case, actor=actor, leader=registration.leader,
                       measures=registration.measures, deadline=registration.deadline,
                       responsible=registration.responsible or registration.leader, at=at)
    events.record(events.from_grid_report(case=case, actor=actor, at=at, report=row))
    row.case, row.status = case, ReportStatus.REGISTERED
    _save(row, ["case", "status"])
    _event(row, EventKind.REGISTERED, actor, at, {"case": case.pk, "case_number": case.number,
                                                   "leader": registration.leader.pk})
    for kind in (ClockKind.REPORT_ACK, ClockKind.REPORT_SETTLE):
        dispute_clock_meet(owner=row, kind=kind, at=at, actor=actor)
    return case


def _intake(row: GridReport, registration: Registration) -> CaseIntake:
    """The petition as the report tells it (M16-M17): its people (applicants first, the
    first of them the main petitioner: the report's own rows, not looked up again), the
    grid's village as the place, its risk flags."""
    people = [party for party in row.parties.select_related("petitioner")
              .order_by(models.Case(models.When(side=Side.APPLICANT, then=0), default=1), "pk")
              if party.petitioner_id]
    if not people:
        raise ValidationError(_("The report names no person, only organisations; a petition "
                                "case needs at least one person. Ask the township centre to "
                                "add the people concerned."), code="no_person")
    village = village_of(row)
    petitioners = [PetitionerInput(
        name=person.name, id_type=person.id_type, id_number=person.id_number,
        phone=person.phone, address=person.address or row.place,
        address_unit=person.address_unit or village, is_main=index == 0, on_file=person)
        for index, person in enumerate(party.petitioner for party in people)]
    return CaseIntake(
        channel=Channel.VISIT, received_at=row.triaged_at or row.received_at,
        petitioners=petitioners, purpose=registration.purpose, category=registration.category,
        summary=row.summary, demands=registration.demands, place_unit=village,
        headcount=max(row.group_size or 1, len(petitioners)),
        # A threat made is a mark of the case; a risk of skipping levels is not a petition
        # that skipped them (R22 Art.20): the risk stays on the linked report (M17).
        has_threat=row.threat, threat_words=row.threat_words)


# --- Shared by the writes ------------------------------------------------------------------------

def _locked(report: GridReport, version: int, *, actor: User, action: Action, status: str,
            refusal) -> GridReport:
    """The report's row, locked and checked as it is now: the actor may ``action`` it, nobody
    changed it since ``version`` was read, and it still waits for that action."""
    row = (GridReport.objects.select_for_update(of=("self",))  # not the units' rows
           .select_related("grid", "township").get(pk=report.pk))
    if not can(actor, action, row):
        raise PermissionDenied(refusal)
    if row.version != version:
        raise ValidationError(_("Someone else changed this report while you were working on "
                                "it. Check what they recorded, then try again."), code="stale")
    if row.status != status:
        raise ValidationError(_("This report is no longer waiting for that: it is now “%(status)s”.")
                              % {"status": row.get_status_display()}, code="moved_on")
    return row


def _save(row: GridReport, fields: list[str]) -> None:
    row.version += 1
    row.save(update_fields=[*fields, "version"])


def _event(row: GridReport, kind: str, actor: User | None, at: datetime, details: dict) -> None:
    MediationEvent.objects.create(report=row, kind=kind, actor=actor, at=at, details=details)


def _notify(row: GridReport, *, users: Iterable[User], message: str, at: datetime) -> None:
    """Tell ``users`` in the app; a risky report also by mail (M14)."""
    url = reverse("mediation:report", args=[row.pk])
    risky = row.is_risky
    notify_bulk([NotificationDraft(
        user_id=user_id, case_id=None, kind=NotificationKind.OTHER, message=message,
        params={"case_number": row.number}, url=url, mail=risky,
        dedupe_key=f"{message}:{row.pk}:{user_id}" if risky else None)
        for user_id in (user.pk for user in users)], at=at)
