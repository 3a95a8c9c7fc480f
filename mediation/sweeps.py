"""Dispute sweeps (矛盾纠纷排查, issue 11): the rounds, the returns, and what the township and
the county see of them (readings M50-M58 in mediation/DECISIONS.md).

* A round: the month's, opened in every county by the daily beat (``sweep_rounds_open``), or
  one before a sensitive date that a county's administrator sets in the admin.
* A return (``sweep_return_file``): every active grid, village and community of the county
  files once per round, a zero report (零报告) or the grid reports of the unit made during
  the round; after the due day it is still taken, and shown late.
* The overview (``sweep_overview``): for one round, who filed and who has not, by township.
* The early warnings (``early_warnings``): the open risky disputes of the user's
  jurisdiction, by place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.choices import UnitKind
from accounts.models import OrgUnit, User
from accounts.permissions import GRANTS, Action, can, held_roles, scope
from cases.choices import CaseStatus
from cases.deadlines.calendar import Unit
from cases.deadlines.clocks import OFFICE_TZ, office_calendar
from cases.services.undertakings import office_today

from .models import (
    EventKind,
    GridReport,
    MediationCase,
    MediationEvent,
    MediationStatus,
    ReportStatus,
    RoundKind,
    SweepReturn,
    SweepRound,
)

# Who files a return: every grid, village and community (M51).
FILING_KINDS = (UnitKind.GRID, UnitKind.VILLAGE, UnitKind.COMMUNITY)
# The month's returns are due on this working day of the month (M50: no law sets it).
DUE_WORKING_DAYS = 5
MAX_NOTE = 500
# The early-warning list shows at most this many disputes, the newest.
WARNINGS_SHOWN = 200

# A risky dispute: any of the grid report's risk flags (矛盾纠纷预警, M55).
RISKY = (Q(threat=True) | Q(group_involved=True) | Q(level_skip_risk=True)
         | Q(beijing_risk=True) | Q(violence_risk=True))
# A petition case from a report is over when closed or re-reviewed final (M55).
CASE_ENDED = (CaseStatus.CLOSED, CaseStatus.FINAL)
OPEN_DISPUTE = (
    Q(status__in=(ReportStatus.REPORTED, ReportStatus.TO_COUNTY))
    | (Q(status=ReportStatus.REGISTERED) & ~Q(case__status__in=CASE_ENDED))
    | (Q(status__in=(ReportStatus.TO_VILLAGE, ReportStatus.TO_TOWNSHIP))
       & (Q(mediation__isnull=True) | Q(mediation__status=MediationStatus.OPEN)))
)


# --- Rounds --------------------------------------------------------------------------------

def monthly_due_on(first: date) -> date:
    """The due day of the round opening on ``first``: its 5th working day (M50)."""
    return office_calendar().due_date(first - timedelta(days=1), DUE_WORKING_DAYS,
                                      Unit.WORKING).due


def _monthly_name(first: date) -> str:
    # Stored, so in the office's language whoever (the beat) makes it.
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Dispute sweep of %(month)s/%(year)s") % {
            "month": first.month, "year": first.year}


@transaction.atomic
def sweep_rounds_open(*, now: datetime) -> list[SweepRound]:
    """Open this month's round in every active county that has none yet; return those
    opened. A rerun, or a run days late, opens nothing twice (M50)."""
    first = office_today(now).replace(day=1)
    due_on, name = monthly_due_on(first), _monthly_name(first)
    opened = []
    for county in OrgUnit.objects.filter(kind=UnitKind.COUNTY, is_active=True).order_by("path"):
        round_, created = SweepRound.objects.get_or_create(
            county=county, kind=RoundKind.MONTHLY, opens_on=first,
            defaults={"name": name, "due_on": due_on, "created_at": now})
        if created:
            opened.append(round_)
    return opened


def _held_paths(user: User, action: Action) -> set[str]:
    """The units where ``user`` holds a role that ``action``'s grants name."""
    held = held_roles(user)
    return {path for grant in GRANTS[action] for path in held.get(grant.role, ())}


def sweep_rounds_visible(*, user: User) -> QuerySet[SweepRound]:
    """The rounds of the counties where the user files or follows the sweep."""
    paths = _held_paths(user, Action.SWEEP_FILE) | _held_paths(user, Action.SWEEP_VIEW)
    counties = {path[:OrgUnit.steplen] for path in paths}
    return SweepRound.objects.filter(county__path__in=counties).select_related("county")


def sweep_rounds_current(*, user: User, today: date) -> QuerySet[SweepRound]:
    """The rounds to work on today: the county's latest monthly round, until the next one
    opens, and a sensitive round until its due day (M58)."""
    latest = (SweepRound.objects.filter(county=OuterRef("county"), kind=RoundKind.MONTHLY,
                                        opens_on__lte=today)
              .order_by("-opens_on").values("opens_on")[:1])
    return (sweep_rounds_visible(user=user).filter(opens_on__lte=today)
            .filter(Q(due_on__gte=today) | Q(kind=RoundKind.MONTHLY, opens_on=Subquery(latest)))
            .order_by("-opens_on", "kind", "pk"))


def sweep_units_due(round_: SweepRound) -> QuerySet[OrgUnit]:
    """The units that file in ``round_``: every active grid, village and community of its
    county (M51)."""
    return OrgUnit.objects.filter(path__startswith=round_.county.path, kind__in=FILING_KINDS,
                                  is_active=True)


def sweep_filing_units(*, user: User, round_: SweepRound) -> list[OrgUnit]:
    """The units whose return ``user`` files: those where they hold the grid worker's or the
    mediator's role (a grid, a village or community), not the units below them."""
    units = sweep_units_due(round_).filter(path__in=_held_paths(user, Action.SWEEP_FILE))
    return [unit for unit in units.order_by("path") if can(user, Action.SWEEP_FILE, unit)]


def is_late(round_: SweepRound, filed_at: datetime) -> bool:
    """Whether a return filed at ``filed_at`` came after the round's due day (M54)."""
    return office_today(filed_at) > round_.due_on


def round_opened_at(round_: SweepRound) -> datetime:
    return datetime.combine(round_.opens_on, time.min, tzinfo=OFFICE_TZ)


def sweep_candidates(*, round_: SweepRound, unit: OrgUnit,
                     now: datetime | None = None) -> QuerySet[GridReport]:
    """The grid reports a return may file: of the unit or below, received since the round
    opened and before the county's next round of its kind opened, not filed in a return yet
    (M52): a late return to an old round does not take the next round's reports."""
    rows = GridReport.objects.filter(grid__path__startswith=unit.path,
                                     received_at__gte=round_opened_at(round_),
                                     sweep_return__isnull=True)
    following = (SweepRound.objects.filter(county_id=round_.county_id, kind=round_.kind,
                                           opens_on__gt=round_.opens_on)
                 .order_by("opens_on").first())
    if following is not None:
        rows = rows.filter(received_at__lt=round_opened_at(following))
    if now is not None:
        rows = rows.filter(received_at__lte=now)
    return rows.order_by("received_at", "pk")


def report_new_url() -> str:
    """The grid report form, to report a dispute the sweep found that is not reported yet."""
    try:
        return reverse("mediation:report_new")
    except NoReverseMatch:
        return "/mediation/reports/new/"


# --- Filing a return -----------------------------------------------------------------------

@dataclass(frozen=True)
class ReturnInput:
    zero: bool
    reports: tuple[int, ...] = ()
    note: str = ""


@transaction.atomic
def sweep_return_file(*, round_: SweepRound, unit: OrgUnit, filing: ReturnInput, actor: User,
                      at: datetime | None = None) -> SweepReturn:
    """File ``unit``'s return in ``round_``: a zero report, or the grid reports it found
    (M51-M54). Once per unit and round: the unique key decides between two people filing
    at once, and the chosen reports are locked so that no two returns file one."""
    at = at or timezone.now()
    round_ = SweepRound.objects.select_related("county").get(pk=round_.pk)
    unit = OrgUnit.objects.get(pk=unit.pk)
    if not can(actor, Action.SWEEP_FILE, unit):
        raise PermissionDenied(_("A sweep return is filed by the grid worker of the grid or "
                                 "the mediator of the village."))
    _check_filable(round_, unit, at)
    note = filing.note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(_("Keep the note to %(limit)d characters."), code="note",
                              params={"limit": MAX_NOTE})
    candidates = sweep_candidates(round_=round_, unit=unit, now=at)
    reports = _reports_checked(filing, candidates)
    try:
        with transaction.atomic():
            filed = SweepReturn.objects.create(round=round_, unit=unit, zero=filing.zero,
                                               note=note, filed_by=actor, filed_at=at)
    except IntegrityError as exc:  # filed by someone else a moment ago
        raise _already_filed(round_, unit) from exc
    GridReport.objects.filter(pk__in=[report.pk for report in reports]).update(
        sweep_return=filed)
    _events(filed, reports, actor=actor, at=at)
    return filed


def _check_filable(round_: SweepRound, unit: OrgUnit, at: datetime) -> None:
    if not sweep_units_due(round_).filter(pk=unit.pk).exists():
        raise ValidationError(_("%(unit)s does not file in this round: returns are filed by "
                                "the active grids, villages and communities of the county."),
                              code="unit", params={"unit": unit.name})
    if office_today(at) < round_.opens_on:
        raise ValidationError(_("This round opens on %(day)s; file the return from then."),
                              code="not_open", params={"day": round_.opens_on.isoformat()})
    if SweepReturn.objects.filter(round=round_, unit=unit).exists():
        raise _already_filed(round_, unit)


def _already_filed(round_: SweepRound, unit: OrgUnit) -> ValidationError:
    filed = SweepReturn.objects.select_related("filed_by").get(round=round_, unit=unit)
    return ValidationError(_("The return of %(unit)s in this round was already filed by "
                             "%(name)s at %(at)s; a return is filed once."), code="filed",
                           params={"unit": unit.name, "name": filed.filed_by.display_name,
                                   "at": timezone.localtime(filed.filed_at, OFFICE_TZ)
                                   .strftime("%Y-%m-%d %H:%M")})


def _reports_checked(filing: ReturnInput, candidates: QuerySet[GridReport]) -> list[GridReport]:
    """The chosen reports, locked; a zero report only when the unit reported none (M53)."""
    chosen = set(filing.reports)
    if filing.zero:
        if chosen:
            raise ValidationError(_("A zero report files no grid reports: untick them, or "
                                    "say that the sweep found disputes."), code="zero_reports")
        count = candidates.count()
        if count:
            raise ValidationError(_("%(count)d disputes of this unit were reported during the "
                                    "round and are not filed yet: file them instead of a zero "
                                    "report."), code="not_zero", params={"count": count})
        return []
    if not chosen:
        raise ValidationError(_("Tick the grid reports of the disputes the sweep found, or "
                                "report a dispute first."), code="no_reports")
    locked = list(candidates.select_for_update(of=("self",)).filter(pk__in=chosen))
    if len(locked) != len(chosen):
        raise ValidationError(_("A chosen grid report was filed in another return meanwhile, "
                                "or is not this unit's: check the list again."), code="stale")
    return locked


def _events(filed: SweepReturn, reports: list[GridReport], *, actor: User,
            at: datetime) -> None:
    """One event for the return, and one on each report it filed (its trail shows it)."""
    late = is_late(filed.round, at)
    where = {"round": filed.round_id, "unit": filed.unit_id, "unit_code": filed.unit.code,
             "return": filed.pk}
    MediationEvent.objects.bulk_create([
        MediationEvent(kind=EventKind.SWEEP_FILED, actor=actor, at=at, details={
            **where, "zero": filed.zero, "late": late, "note": filed.note,
            "reports": [report.number for report in reports]}),
        *(MediationEvent(report=report, kind=EventKind.SWEEP_FILED, actor=actor, at=at,
                         details={**where, "late": late}) for report in reports),
    ])


# --- The overview of a round ---------------------------------------------------------------

@dataclass
class Tally:
    due: int = 0
    zero: int = 0
    found: int = 0
    late: int = 0

    @property
    def filed(self) -> int:
        return self.zero + self.found

    @property
    def missing(self) -> int:
        return self.due - self.filed


@dataclass(frozen=True)
class UnitRow:
    unit: OrgUnit
    filed: SweepReturn | None
    late: bool

    @property
    def is_grid(self) -> bool:
        return self.unit.kind == UnitKind.GRID


@dataclass
class TownshipRows:
    township: OrgUnit
    rows: list[UnitRow] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)


@dataclass
class Overview:
    round: SweepRound
    townships: list[TownshipRows]
    tally: Tally


def sweep_overview(*, round_: SweepRound, user: User, missing_only: bool = False) -> Overview:
    """Who filed in ``round_`` (zero or with reports, on time or late) and who has not, of
    the units below where ``user`` follows the sweep; by township, in three queries."""
    units = list(scope(user, Action.SWEEP_VIEW, sweep_units_due(round_)).order_by("path"))
    returns = {row.unit_id: row for row in SweepReturn.objects.filter(
        round=round_, unit__in=[unit.pk for unit in units])
        .select_related("filed_by").annotate(filed_reports=Count("reports"))}
    depth = 2 * OrgUnit.steplen
    townships = OrgUnit.objects.in_bulk({unit.path[:depth] for unit in units},
                                        field_name="path")
    groups: dict[str, TownshipRows] = {}
    total = Tally()
    for unit in units:
        filed = returns.get(unit.pk)
        row = UnitRow(unit=unit, filed=filed,
                      late=filed is not None and is_late(round_, filed.filed_at))
        group = groups.setdefault(unit.path[:depth],
                                  TownshipRows(township=townships[unit.path[:depth]]))
        for tally in (group.tally, total):
            _count(tally, row)
        if filed is None or not missing_only:
            group.rows.append(row)
    return Overview(round=round_, townships=list(groups.values()), tally=total)


def _count(tally: Tally, row: UnitRow) -> None:
    tally.due += 1
    if row.filed is not None:
        if row.filed.zero:
            tally.zero += 1
        else:
            tally.found += 1
        tally.late += row.late


@dataclass(frozen=True)
class RoundDue:
    """Where a round stands against its due day, in the house colours (UI.md)."""

    tone: str  # "overdue", "soon", "on_track"
    days: int  # working days left, or calendar days past


def round_due(round_: SweepRound, today: date) -> RoundDue:
    if today > round_.due_on:
        return RoundDue("overdue", (today - round_.due_on).days)
    left = office_calendar().working_days_between(today, round_.due_on)
    return RoundDue("soon" if left <= 3 else "on_track", left)


# --- The early-warning list ----------------------------------------------------------------

@dataclass(frozen=True)
class DisputeWarning:
    report: GridReport
    may_open: bool  # the user may open the report, and read the threat's words
    url: str
    mediation: MediationCase | None
    mediation_url: str


@dataclass
class GridWarnings:
    grid: OrgUnit
    warnings: list[DisputeWarning] = field(default_factory=list)


@dataclass
class VillageWarnings:
    village: OrgUnit
    grids: list[GridWarnings] = field(default_factory=list)


@dataclass
class TownshipWarnings:
    township: OrgUnit
    villages: list[VillageWarnings] = field(default_factory=list)
    count: int = 0


@dataclass
class EarlyWarnings:
    townships: list[TownshipWarnings]
    count: int
    more: bool  # more than WARNINGS_SHOWN: the newest are shown


def early_warnings(*, user: User) -> EarlyWarnings:
    """The open risky disputes of the grids below where ``user`` follows the sweep, by place
    (township → village → grid), newest first in each; the threat's words only for who may
    open the report (M55-M56). Two queries, however many."""
    units = scope(user, Action.SWEEP_VIEW, OrgUnit.objects.all()).values("pk")
    rows = list(GridReport.objects.filter(RISKY, OPEN_DISPUTE, grid__in=units)
                .select_related("grid", "township", "case", "mediation")
                .order_by("-received_at", "-pk")[:WARNINGS_SHOWN + 1])
    more, rows = len(rows) > WARNINGS_SHOWN, rows[:WARNINGS_SHOWN]
    depth = 3 * OrgUnit.steplen
    villages = OrgUnit.objects.in_bulk({row.grid.path[:depth] for row in rows},
                                       field_name="path")
    townships: dict[int, TownshipWarnings] = {}
    places: dict[int, GridWarnings] = {}
    for report in sorted(rows, key=lambda row: row.grid.path):  # stable: newest first kept
        township = townships.setdefault(report.township_id,
                                        TownshipWarnings(township=report.township))
        township.count += 1
        grid = places.get(report.grid_id)
        if grid is None:
            grid = places[report.grid_id] = GridWarnings(grid=report.grid)
            village = villages[report.grid.path[:depth]]
            if not township.villages or township.villages[-1].village != village:
                township.villages.append(VillageWarnings(village=village))
            township.villages[-1].grids.append(grid)
        may_open = can(user, Action.GRID_REPORT_VIEW, report)
        mediation = _mediation_of(report)
        grid.warnings.append(DisputeWarning(
            report=report, may_open=may_open,
            url=_url("mediation:report", report.pk) if may_open else "",
            mediation=mediation,
            mediation_url=_url("mediation:case", mediation.pk) if mediation else ""))
    ordered = sorted(townships.values(), key=lambda group: group.township.path)
    return EarlyWarnings(townships=ordered, count=len(rows), more=more)


def _mediation_of(report: GridReport) -> MediationCase | None:
    try:
        return report.mediation
    except MediationCase.DoesNotExist:
        return None


def _url(name: str, pk: int) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:  # the page is not there (yet): the number alone says enough
        return ""
