"""The supervisors' overdue audit: every late or nearly late duty clock they oversee.

Rows are clocks, not cases: a case with a late reply and a late notice is two
rows. The set is the open duty clocks (never a window, cases/DECISIONS.md C4) of
the cases the permission module lets the user see, due at or before the end of
"due soon" (the case list's amber: 3 working days). Pages are keyset pages as on
the case list; each costs a fixed number of queries whatever its size: the rows
(case, unit and leader joined), their escalations, the recipients' names, and
the counts by unit, aggregated in SQL over the whole filtered set. The export
reads the same set through a server-side cursor, its escalation levels computed
in the same statement, so it holds one chunk in memory whatever the total.
"""

from __future__ import annotations

import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from accounts.models import User

from ..choices import CaseStatus, ClockKind, ClockStatus
from ..deadlines.clocks import OFFICE_TZ, office_calendar
from ..filters import due_soon_cutoff
from ..filters_overdue import DEFAULT_SORT, SORTS, OverdueFilter
from ..models import Audience, Case, Deadline, Escalation, LadderAction
from .lists import CursorError, NextDeadline, _fetch, deadline_standing

PAGE_SIZE = 50
# Rows fetched per round trip of the export's server-side cursor: what it holds in memory.
EXPORT_CHUNK = 2000


def overdue_clocks(*, user: User, cutoff: datetime) -> QuerySet:
    """Return the open duty clocks of the cases ``user`` may see, due at or before ``cutoff``.

    Only open clocks: a paused one (a hearing, R22 Art.36) is not running, so it is
    neither late nor at risk, and the sweep does not escalate it either.
    """
    return Deadline.objects.filter(
        status=ClockStatus.OPEN, is_window=False, due_at__lte=cutoff,
        case__in=Case.objects.visible_to(user).values("pk"))


def overdue_filter(*, user: User, params: Any = None, now: datetime | None = None) -> OverdueFilter:
    """Return the OverdueFilter over the user's audit (its ``qs``, ``form`` and errors)."""
    now = now or timezone.now()
    calendar = office_calendar()
    queryset = (
        overdue_clocks(user=user, cutoff=due_soon_cutoff(now=now, calendar=calendar))
        .select_related("case", "case__lead_unit", "case__leader")
        .order_by(*SORTS[DEFAULT_SORT].order_by())
    )
    return OverdueFilter(params or {}, queryset=queryset, now=now, calendar=calendar)


# --- One page --------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationEntry:
    """One level that fired on a clock, in words: when, what, to whom."""

    level: int
    fired_at: datetime
    audiences: list[str]
    action: str
    recipients: list[str]


@dataclass
class AuditRow:
    clock: Deadline
    case: Case
    url: str
    status_label: str
    due: NextDeadline
    history: list[EscalationEntry] = field(default_factory=list)

    @property
    def current(self) -> EscalationEntry | None:
        """The last level fired: who the clock is escalated to now."""
        return self.history[-1] if self.history else None


@dataclass(frozen=True)
class UnitCount:
    unit_id: int | None  # None: not routed yet, the petition office's own clocks
    name: str
    overdue: int
    at_risk: int


@dataclass(frozen=True)
class OverduePage:
    filterset: OverdueFilter
    rows: list[AuditRow]
    summary: list[UnitCount]
    next_cursor: str | None
    previous_cursor: str | None
    cursor_invalid: bool

    @property
    def form(self):
        return self.filterset.form

    @property
    def sort_name(self) -> str:
        return self.filterset.sort_name

    @property
    def is_filtered(self) -> bool:
        return self.filterset.is_filtered

    @property
    def total_overdue(self) -> int:
        return sum(count.overdue for count in self.summary)

    @property
    def total_at_risk(self) -> int:
        return sum(count.at_risk for count in self.summary)


def overdue_page(*, user: User, params: Any, after: str | None = None, before: str | None = None,
                 size: int = PAGE_SIZE, now: datetime | None = None) -> OverduePage:
    """Return one keyset page of the user's audit, ``after`` or ``before`` a cursor."""
    filterset = overdue_filter(user=user, params=params, now=now)
    sort_name = filterset.sort_name
    sort = SORTS[sort_name]
    backwards, key, invalid = bool(before), None, False
    if before or after:
        try:
            key = cursor_decode(before or after, sort_name)
        except CursorError:
            invalid, backwards = True, False
    clocks, more = _fetch(filterset.qs, sort, key, backwards, size)
    if key is not None and not clocks:  # the rows around the cursor are gone: start again
        key, backwards = None, False
        clocks, more = _fetch(filterset.qs, sort, key, backwards, size)
    has_next = True if backwards else more
    has_previous = key is not None and (more if backwards else True)
    return OverduePage(
        filterset=filterset,
        rows=_rows(clocks, filterset),
        summary=overdue_summary(filterset),
        next_cursor=cursor_encode(clocks[-1], sort_name) if has_next and clocks else None,
        previous_cursor=cursor_encode(clocks[0], sort_name) if has_previous and clocks else None,
        cursor_invalid=invalid,
    )


def overdue_summary(filterset: OverdueFilter) -> list[UnitCount]:
    """Count the filtered clocks by lead unit, overdue and at risk, in one aggregate query."""
    now = filterset.now
    counts = (
        filterset.qs.order_by()
        .values("case__lead_unit_id", "case__lead_unit__name")
        .annotate(overdue=Count("pk", filter=Q(due_at__lte=now)),
                  at_risk=Count("pk", filter=Q(due_at__gt=now)))
        .order_by("-overdue", "-at_risk", "case__lead_unit__path")
    )
    return [UnitCount(row["case__lead_unit_id"], row["case__lead_unit__name"] or "",
                      row["overdue"], row["at_risk"]) for row in counts]


def _rows(clocks: list[Deadline], filterset: OverdueFilter) -> list[AuditRow]:
    """Each clock with its standing (colour and count) and its escalation history."""
    if not clocks:
        return []
    now, calendar, today, cutoff = (filterset.now, filterset.calendar, filterset.today,
                                    filterset.cutoff)
    statuses = {value: str(label) for value, label in CaseStatus.choices}
    history = _histories([clock.pk for clock in clocks])
    # Case numbers are URL-safe (CaseNumberConverter): one reverse per page.
    first = clocks[0].case.number
    stem = reverse("cases:detail", args=[first]).removesuffix(f"{first}/")
    return [
        AuditRow(clock=clock, case=clock.case, url=f"{stem}{clock.case.number}/",
                 status_label=statuses.get(clock.case.status, clock.case.status),
                 due=deadline_standing(clock, now, today, cutoff, calendar),
                 history=history.get(clock.pk, []))
        for clock in clocks
    ]


def _histories(clock_ids: list[int]) -> dict[int, list[EscalationEntry]]:
    """The levels fired on these clocks, oldest first, with names: two queries for the page."""
    escalations = list(
        Escalation.objects.filter(deadline_id__in=clock_ids)
        .order_by("deadline_id", "level")
        .only("deadline_id", "level", "fired_at", "audiences", "action", "recipients"))
    names = _names({pk for escalation in escalations for pk in escalation.recipients})
    audiences = {value: str(label) for value, label in Audience.choices}
    actions = {value: str(label) for value, label in LadderAction.choices}
    history: dict[int, list[EscalationEntry]] = {}
    for escalation in escalations:
        history.setdefault(escalation.deadline_id, []).append(EscalationEntry(
            level=escalation.level, fired_at=escalation.fired_at,
            audiences=[audiences.get(value, value) for value in escalation.audiences],
            action=actions.get(escalation.action, escalation.action),
            recipients=[names[pk] for pk in escalation.recipients if pk in names]))
    return history


def _names(user_ids: set[int]) -> dict[int, str]:
    """Each user's display name (as ``User.display_name``), in one query."""
    if not user_ids:
        return {}
    rows = User.objects.filter(pk__in=user_ids).values_list(
        "pk", "name", "first_name", "last_name", "username")
    return {pk: name or f"{first} {last}".strip() or username
            for pk, name, first, last, username in rows}


# --- The export ------------------------------------------------------------------------


class LedgerRow(NamedTuple):
    """One line of the ledger (台账): no petitioner's data, only the case and its clock."""

    number: str
    status: str
    received_on: date
    lead_unit: str
    leader: str
    clock: str
    due_on: date
    standing: str  # "overdue" or "soon"
    days_overdue: int | None
    working_days_left: int | None
    levels: list[int]
    last_level: int | None
    last_fired_at: datetime | None  # office time, naive (Excel has no time zones)
    escalated_to: list[str]


class _Clock(NamedTuple):
    """What ``deadline_standing`` reads of a clock, without building a model instance."""

    kind: str
    status: str
    due_on: date
    due_at: datetime


def overdue_ledger(filterset: OverdueFilter) -> Iterator[LedgerRow]:
    """Yield every filtered clock in the chosen order, read through a server-side cursor."""
    escalations = Escalation.objects.filter(deadline=OuterRef("pk"))
    last = escalations.order_by("-level")
    rows = (
        filterset.qs.order_by(*SORTS[filterset.sort_name].order_by())
        .annotate(levels=ArraySubquery(escalations.order_by("level").values("level")),
                  last_level=Subquery(last.values("level")[:1]),
                  last_fired_at=Subquery(last.values("fired_at")[:1]),
                  last_audiences=Subquery(last.values("audiences")[:1]))
        .values_list("case__number", "case__status", "case__received_at",
                     "case__lead_unit__name", "case__leader__name", "case__leader__username",
                     "kind", "due_on", "due_at", "levels", "last_level", "last_fired_at",
                     "last_audiences")
    )
    statuses = {value: str(label) for value, label in CaseStatus.choices}
    kinds = {value: str(label) for value, label in ClockKind.choices}
    audiences = {value: str(label) for value, label in Audience.choices}
    now, calendar, today, cutoff = (filterset.now, filterset.calendar, filterset.today,
                                    filterset.cutoff)
    for (number, status, received_at, unit, leader, login, kind, due_on, due_at, levels,
         last_level, last_fired_at, last_audiences) in rows.iterator(chunk_size=EXPORT_CHUNK):
        due = deadline_standing(_Clock(kind, ClockStatus.OPEN, due_on, due_at), now, today,
                                cutoff, calendar)
        overdue = due.tone == "overdue"
        yield LedgerRow(
            number=number, status=statuses.get(status, status),
            received_on=timezone.localtime(received_at, OFFICE_TZ).date(),
            lead_unit=unit or "", leader=leader or login or "", clock=kinds.get(kind, kind),
            due_on=due_on, standing=due.tone, days_overdue=due.days if overdue else None,
            working_days_left=None if overdue else due.days, levels=levels or [],
            last_level=last_level,
            last_fired_at=(timezone.localtime(last_fired_at, OFFICE_TZ).replace(tzinfo=None)
                           if last_fired_at else None),
            escalated_to=[audiences.get(value, value) for value in last_audiences or []])


# --- Cursors -------------------------------------------------------------------------------


def cursor_encode(clock: Deadline, sort_name: str) -> str:
    """An opaque token for ``clock``'s position in the ``sort_name`` order."""
    values = []
    for name in SORTS[sort_name].fields:
        value: Any = clock
        for part in name.split("__"):
            value = getattr(value, part)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    payload = json.dumps([sort_name, values], separators=(",", ":"))
    return urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def cursor_decode(token: str, sort_name: str) -> tuple:
    """The sort key in ``token``; CursorError unless it was made for ``sort_name``."""
    try:
        name, values = json.loads(urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        fields = SORTS[sort_name].fields
        if name != sort_name or len(values) != len(fields):
            raise CursorError(token)
        return tuple(_LOAD[key](value) for key, value in zip(fields, values, strict=True))
    except (ValueError, TypeError, KeyError) as error:  # binascii.Error is a ValueError
        raise CursorError(token) from error


def _instant(value: Any) -> datetime:
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise CursorError(value)
    return instant


def _typed(kind: type):
    def load(value: Any) -> Any:
        if type(value) is not kind:
            raise CursorError(value)
        return value

    return load


_LOAD = {"due_at": _instant, "case__received_at": _instant, "pk": _typed(int),
         "case__number": _typed(str)}
