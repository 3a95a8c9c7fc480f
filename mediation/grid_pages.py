"""The grid's reads (issue 11): the reports a user sees and how the list orders them, the
reports awaiting county registration, each report's clocks and trail, and who sees its
people unmasked (mediation/DECISIONS.md M1, M18)."""

from __future__ import annotations

from datetime import datetime

from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, can, scope
from cases.deadlines.clocks import OFFICE_TZ, office_calendar
from cases.filters import due_soon_cutoff
from cases.models.clocks import LIVE_STATUSES
from cases.selectors.lists import NextDeadline, deadline_standing

from .models import DisputeClock, EventKind, GridReport, MediationEvent, ReportStatus


def reports_visible(*, user: User) -> QuerySet[GridReport]:
    """The reports the user sees (M1): a grid worker their grids', the centre its township's."""
    rows = GridReport.objects.select_related("grid", "township", "reported_by", "case")
    return scope(user, Action.GRID_REPORT_VIEW, rows)


_WAITING_FIRST = models.Case(models.When(status=ReportStatus.REPORTED, then=0),
                             models.When(status=ReportStatus.TO_COUNTY, then=1), default=2)
RISKY = (Q(threat=True) | Q(group_involved=True) | Q(level_skip_risk=True)
         | Q(beijing_risk=True) | Q(violence_risk=True))


def reports_listed(*, user: User, status: str = "", risky: bool = False) -> QuerySet[GridReport]:
    """The list: awaiting triage first, then awaiting county registration, newest first."""
    rows = reports_visible(user=user)
    if status:
        rows = rows.filter(status=status)
    if risky:
        rows = rows.filter(RISKY)
    return rows.annotate(waiting=_WAITING_FIRST).order_by("waiting", "-received_at", "-pk")


def reports_to_register(*, user: User) -> QuerySet[GridReport]:
    """Reports sent to county 包案 that the user's petition office registers, oldest first."""
    rows = GridReport.objects.select_related("grid", "township").filter(
        status=ReportStatus.TO_COUNTY)
    return scope(user, Action.GRID_REPORT_REGISTER, rows).order_by("triaged_at", "pk")


def with_next_clock(reports: list[GridReport], *, now: datetime | None = None) -> None:
    """Set ``next_deadline`` on each report: its earliest live clock, coloured as the cases'
    (overdue red, due within 3 working days amber); one query for the page."""
    now = now or timezone.now()
    clocks = DisputeClock.objects.filter(report_id__in=[row.pk for row in reports],
                                         status__in=LIVE_STATUSES, is_window=False)
    first: dict[int, DisputeClock] = {}
    for clock in clocks.order_by("report_id", "due_at", "pk"):
        first.setdefault(clock.report_id, clock)
    calendar = office_calendar()
    today = timezone.localtime(now, OFFICE_TZ).date()
    cutoff = due_soon_cutoff(now=now, calendar=calendar)
    for row in reports:
        clock = first.get(row.pk)
        row.next_deadline = (None if clock is None
                             else deadline_standing(clock, now, today, cutoff, calendar))


def report_clocks(report: GridReport) -> list[tuple[DisputeClock, NextDeadline | None]]:
    """Every clock of the report with, for a live one, how it stands."""
    now = timezone.now()
    calendar = office_calendar()
    today = timezone.localtime(now, OFFICE_TZ).date()
    cutoff = due_soon_cutoff(now=now, calendar=calendar)
    return [(clock, deadline_standing(clock, now, today, cutoff, calendar)
             if clock.status in LIVE_STATUSES else None)
            for clock in report.clocks.order_by("starts_on", "pk")]


def report_trail(report: GridReport) -> QuerySet[MediationEvent]:
    return report.events.select_related("actor").order_by("at", "pk")


def identity_shown(*, user: User, report: GridReport) -> bool:
    """Whether the user sees the parties' names and phones as on file: those who take the
    report on (the township centre, the county's petition office). Never the grid worker,
    who sees them masked: a typed ID number must not tell them whose it is (M18)."""
    return (can(user, Action.GRID_REPORT_TRIAGE, report)
            or can(user, Action.GRID_REPORT_REGISTER, report))


@transaction.atomic
def report_identity_viewed(*, report: GridReport, actor: User, at: datetime | None = None) -> None:
    """Log that ``actor`` saw the report's people unmasked (as the cases log it)."""
    people = list(report.parties.filter(petitioner__isnull=False)
                  .values_list("petitioner_id", flat=True))
    if people:
        MediationEvent.objects.create(report=report, kind=EventKind.VIEWED, actor=actor,
                                      at=at or timezone.now(), details={"people": people})
