"""The grid's inputs and rules (issue 11): what a grid worker's report carries, what the
township centre and county 包案 add, the checks each must pass (every problem at once, for the
form), and where a report belongs (its grid, township, village and committee).

The services that apply them are ``mediation/grid.py``; the readings are M10-M19 in
mediation/DECISIONS.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit, User
from accounts.permissions import held_roles
from cases.models import Category

from .models import Committee, CommitteeKind, DisputeKind, GridReport, Side

MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 8 * 1024 * 1024
# A phone's clock may run a little fast; a report found later than this is refused (M13).
CLOCK_SLACK = timedelta(minutes=10)
# The first bytes of each accepted kind of photo: the file, not its name, decides (M12).
_SIGNATURES = (("jpg", lambda head: head[:3] == b"\xff\xd8\xff"),
               ("png", lambda head: head[:8] == b"\x89PNG\r\n\x1a\n"),
               ("webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"))
CONTENT_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
                 "webp": "image/webp"}


class Triage(models.TextChoices):
    """Where the township centre sends a report (simple, complex, hard: DOMAIN.md §7)."""

    VILLAGE = "village", _("The village mediation committee")
    TOWNSHIP = "township", _("The township mediation committee")
    COUNTY = "county", _("County 包案: a petition case with a responsible leader")


# --- What a report carries ------------------------------------------------------------------

@dataclass(frozen=True)
class PartyInput:
    """A party as the grid worker took it down: a person (name, maybe ID number and phone)
    or an organisation."""

    side: str
    name: str = ""
    id_number: str = ""
    phone: str = ""
    organisation: str = ""


@dataclass(frozen=True)
class RiskFlags:
    threat: bool = False
    threat_words: str = ""
    group_involved: bool = False
    group_size: int | None = None
    level_skip_risk: bool = False
    beijing_risk: bool = False
    violence_risk: bool = False


@dataclass(frozen=True)
class ReportInput:
    client_key: UUID
    grid: OrgUnit
    found_at: datetime
    kind: str
    place: str
    summary: str
    parties: tuple[PartyInput, ...]
    settled: bool  # settled on the spot; else passed to the township centre
    settled_how: str = ""
    risks: RiskFlags = RiskFlags()
    photos: tuple[UploadedFile, ...] = ()


@dataclass(frozen=True)
class Registration:
    """What the county clerk adds to the report to make it a petition case (四定)."""

    office: OrgUnit
    category: Category
    purpose: str
    demands: str
    leader: User
    measures: str
    deadline: date
    responsible: User | None = None  # the leader, when nobody else is named


# --- The rules, each a list of problems (the form shows them all at once) --------------------

def risk_problems(risks: RiskFlags) -> list[ValidationError]:
    problems = []
    if risks.threat and not risks.threat_words.strip():
        problems.append(ValidationError(_("Write down the words of the threat as they were "
                                          "said."), code="threat_words"))
    if risks.group_involved and (risks.group_size or 0) < 2:
        problems.append(ValidationError(_("Give how many people are in the group (at least "
                                          "2)."), code="group_size"))
    return problems


def outcome_problems(*, settled: bool, settled_how: str) -> list[ValidationError]:
    if settled and not settled_how.strip():
        return [ValidationError(_("Say how the dispute was settled on the spot."),
                                code="settled_how")]
    return []


def party_problems(parties: tuple[PartyInput, ...]) -> list[ValidationError]:
    if not parties:
        return [ValidationError(_("Enter at least one party: a person's name or an "
                                  "organisation."), code="parties")]
    problems = []
    for party in parties:
        if party.side not in Side.values:
            problems.append(ValidationError(_("Choose the side of each party."), code="side"))
        if bool(party.name.strip()) == bool(party.organisation.strip()):
            problems.append(ValidationError(_("Each party is a person (their name) or an "
                                              "organisation (its name), one of the two."),
                                            code="party"))
    return problems


def photo_kind(upload: UploadedFile) -> str | None:
    """The photo's kind read from its first bytes ("jpg", "png", "webp"), or None."""
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(12)
    upload.seek(position)
    return next((kind for kind, matches in _SIGNATURES if matches(head)), None)


def photo_problems(photos: tuple[UploadedFile, ...]) -> list[ValidationError]:
    """At most six photos, each a JPG, PNG or WebP of at most 8 MB (M12)."""
    problems = []
    if len(photos) > MAX_PHOTOS:
        problems.append(ValidationError(
            _("Send at most %(limit)d photos; %(count)d were chosen."), code="photo_count",
            params={"limit": MAX_PHOTOS, "count": len(photos)}))
    for upload in photos:
        if upload.size > MAX_PHOTO_BYTES:
            problems.append(ValidationError(
                _("“%(name)s” is larger than %(limit)d MB; send a smaller photo."),
                code="photo_size", params={"name": upload.name, "limit": MAX_PHOTO_BYTES >> 20}))
        elif not upload.size or photo_kind(upload) is None:
            problems.append(ValidationError(
                _("“%(name)s” is not a JPG, PNG or WebP photo."), code="photo_type",
                params={"name": upload.name}))
    return problems


def report_problems(report: ReportInput, *, at: datetime) -> list[ValidationError]:
    problems = []
    for value, code, message in (
            (report.place, "place", _("Say where in the grid the dispute is.")),
            (report.summary, "summary", _("Say what happened."))):
        if not value.strip():
            problems.append(ValidationError(message, code=code))
    if report.kind not in DisputeKind.values:
        problems.append(ValidationError(_("Choose the kind of dispute."), code="kind"))
    if report.found_at > at + CLOCK_SLACK:
        problems.append(ValidationError(_("The time the dispute was found cannot be in the "
                                          "future; check the phone's clock."), code="found_at"))
    return [*problems, *party_problems(report.parties), *risk_problems(report.risks),
            *outcome_problems(settled=report.settled, settled_how=report.settled_how),
            *photo_problems(report.photos)]


# --- Where a report belongs --------------------------------------------------------------------

def worker_grids(*, user: User) -> QuerySet[OrgUnit]:
    """The grids the user reports from: those in (or under) a unit where they are a grid worker."""
    within = Q(pk__in=[])
    for path in held_roles(user).get(Role.GRID_WORKER, ()):
        within |= Q(path__startswith=path)
    return OrgUnit.objects.filter(within, kind=UnitKind.GRID, is_active=True).order_by("path")


def township_of(unit: OrgUnit) -> OrgUnit:
    """The township (or street) above a grid or village: its centre triages (M1)."""
    step = OrgUnit.steplen
    township = (OrgUnit.objects.filter(path__in=[unit.path[:end] for end in
                                                 range(step, len(unit.path), step)],
                                       kind__in=(UnitKind.TOWNSHIP, UnitKind.STREET))
                .order_by("-depth").first())
    if township is None:
        raise ValidationError(_("%(unit)s lies under no township; ask the administrator to "
                                "fix the unit tree."), code="township", params={"unit": unit})
    return township


def village_of(report: GridReport) -> OrgUnit:
    """The village or community the report's grid belongs to (the unit above the grid)."""
    return OrgUnit.objects.get(path=report.grid.path[:-OrgUnit.steplen])


def committee_for(report: GridReport, to: str) -> Committee:
    """The village's committee (the report's grid's village) or the township's (M15)."""
    unit, kind = ((village_of(report), CommitteeKind.VILLAGE) if to == Triage.VILLAGE
                  else (report.township, CommitteeKind.TOWNSHIP))
    committee = (Committee.objects.filter(unit=unit, kind=kind, is_active=True)
                 .order_by("pk").first())
    if committee is None:
        raise ValidationError(_("%(unit)s has no active people's mediation committee; send "
                                "the report elsewhere or ask the administrator to add one."),
                              code="committee", params={"unit": unit})
    return committee
