"""The case list's reads: what the permission module lets a user see, filtered, a page at a time.

Pages are keyset pages on the sort key ((received_at, pk) or the unique number):
"the 50 rows after this one" is an index range whatever the page, and nothing
counts the rows, so a page costs the same at a million cases as at ten. Each
page costs a fixed number of queries: the rows (with their units and leader
joined) and, for those rows, their next clock in one more query.
"""

from __future__ import annotations

import binascii
import json
import operator
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User

from ..choices import CaseStatus, Channel, ClockKind, ClockStatus
from ..deadlines.clocks import OFFICE_TZ
from ..filters import DEFAULT_SORT, SORTS, CaseFilter, Sort, due_soon_cutoff
from ..models import Case, Deadline

PAGE_SIZE = 50


def case_list_filter(*, user: User, filters: Any = None,
                     now: datetime | None = None) -> CaseFilter:
    """Return the CaseFilter over the cases ``user`` may see (its ``qs``, ``form`` and errors)."""
    queryset = (
        Case.objects.visible_to(user)
        .select_related("registered_unit", "lead_unit", "place_unit", "category", "leader")
        .order_by(*SORTS[DEFAULT_SORT].order_by())
    )
    return CaseFilter(filters or {}, queryset=queryset, now=now)


def case_list(*, user: User, filters: Any = None) -> QuerySet:
    """List the cases the permission module lets ``user`` see, filtered, newest first.

    Unknown filter keys are ignored; a bad value of a known one is ignored too (the
    page shows why, from ``case_list_filter(...).errors``).
    """
    return case_list_filter(user=user, filters=filters).qs


# --- One page --------------------------------------------------------------------------


@dataclass(frozen=True)
class NextDeadline:
    """A case's earliest running duty clock, as the list shows it (UI.md's colours)."""

    kind: str
    due_on: date
    tone: str  # "overdue" (red), "soon" (amber), "on_track" (green), "paused" (grey)
    days: int  # calendar days overdue, else working days left

    @property
    def kind_label(self) -> str:
        return ClockKind(self.kind).label


@dataclass(frozen=True)
class CaseListPage:
    filterset: CaseFilter
    cases: list[Case]  # each with ``next_deadline`` (a NextDeadline or None)
    next_cursor: str | None
    previous_cursor: str | None
    cursor_invalid: bool  # a cursor was given but could not be read: the first page is shown

    @property
    def form(self):
        return self.filterset.form

    @property
    def sort_name(self) -> str:
        return self.filterset.sort_name

    @property
    def is_filtered(self) -> bool:
        return self.filterset.is_filtered


def case_list_page(*, user: User, params: Any, after: str | None = None,
                   before: str | None = None, size: int = PAGE_SIZE,
                   now: datetime | None = None) -> CaseListPage:
    """Return one keyset page of the user's filtered list: ``after`` or ``before`` a cursor."""
    filterset = case_list_filter(user=user, filters=params, now=now or timezone.now())
    sort_name = filterset.sort_name
    sort = SORTS[sort_name]
    backwards = bool(before)
    key, invalid = None, False
    if before or after:
        try:
            key = cursor_decode(before or after, sort_name)
        except CursorError:
            invalid, backwards = True, False
    cases, more = _fetch(filterset.qs, sort, key, backwards, size)
    if key is not None and not cases:  # the rows around the cursor are gone: start again
        key, backwards = None, False
        cases, more = _fetch(filterset.qs, sort, key, backwards, size)
    has_next = True if backwards else more
    has_previous = key is not None and (more if backwards else True)
    _attach_next_deadlines(cases, filterset)
    _attach_labels(cases)
    return CaseListPage(
        filterset=filterset,
        cases=cases,
        next_cursor=cursor_encode(cases[-1], sort_name) if has_next and cases else None,
        previous_cursor=cursor_encode(cases[0], sort_name) if has_previous and cases else None,
        cursor_invalid=invalid,
    )


def _attach_labels(cases: list[Case]) -> None:
    """Set each row's ``url``, ``status_label`` and ``channel_label``, each vocabulary
    translated once per page rather than once per row (``get_FOO_display`` rebuilds the
    choices for every call; fifty rows made it a fifth of the page's time, ``make bench``)."""
    if not cases:
        return
    statuses = {value: str(label) for value, label in CaseStatus.choices}
    channels = {value: str(label) for value, label in Channel.choices}
    # Case numbers are URL-safe ([0-9A-Za-z-], CaseNumberConverter): one reverse per page.
    stem = reverse("cases:detail", args=[cases[0].number]).removesuffix(f"{cases[0].number}/")
    for case in cases:
        case.url = f"{stem}{case.number}/"
        case.status_label = statuses.get(case.status, case.status)
        case.channel_label = channels.get(case.channel, case.channel)


def _fetch(queryset: QuerySet, sort: Sort, key: tuple | None, backwards: bool,
           size: int) -> tuple[list[Case], bool]:
    """The ``size`` rows beyond ``key`` in display order (before it when ``backwards``)."""
    if key is not None:
        queryset = queryset.filter(_beyond(sort, key, backwards))
    rows = list(queryset.order_by(*sort.order_by(reverse=backwards))[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    return rows, more


def _beyond(sort: Sort, key: tuple, backwards: bool) -> Q:
    """Rows strictly past ``key``: (a, b) < (x, y) as a < x OR (a = x AND b < y).

    The leading ``a <= x`` repeats what the OR implies, so PostgreSQL walks the index
    on the first field from the cursor instead of filtering the whole table.
    """
    op = "lt" if sort.descending != backwards else "gt"
    fields = sort.fields
    terms = [Q(**dict(zip(fields[:i], key[:i], strict=True)), **{f"{fields[i]}__{op}": key[i]})
             for i in range(len(fields))]
    condition = reduce(operator.or_, terms)
    if len(fields) > 1:
        condition &= Q(**{f"{fields[0]}__{op}e": key[0]})
    return condition


def _attach_next_deadlines(cases: list[Case], filterset: CaseFilter) -> None:
    """Set ``next_deadline`` on each row: its earliest live duty clock, in one query."""
    if not cases:
        return
    clocks = (
        Deadline.objects.live()
        .filter(is_window=False, case_id__in=[case.pk for case in cases])
        .order_by("case_id", "due_at", "pk")
        .distinct("case_id")
        .only("case_id", "kind", "status", "due_on", "due_at")
    )
    by_case = {clock.case_id: clock for clock in clocks}
    now, calendar = filterset.now, filterset.calendar
    today = timezone.localtime(now, OFFICE_TZ).date()
    cutoff = due_soon_cutoff(now=now, calendar=calendar)
    for case in cases:
        clock = by_case.get(case.pk)
        case.next_deadline = None if clock is None else deadline_standing(clock, now, today, cutoff,
                                                                  calendar)


def deadline_standing(clock: Deadline, now: datetime, today: date, cutoff: datetime,
                      calendar) -> NextDeadline:
    """Colour and count a clock exactly as the deadline filter does (same instants)."""
    if clock.status == ClockStatus.PAUSED:
        tone, days = "paused", 0
    elif clock.due_at <= now:
        tone, days = "overdue", max((today - clock.due_on).days, 1)
    else:
        tone = "soon" if clock.due_at <= cutoff else "on_track"
        days = max(calendar.working_days_between(today, clock.due_on), 0)
    return NextDeadline(kind=clock.kind, due_on=clock.due_on, tone=tone, days=days)


# --- Cursors -------------------------------------------------------------------------------


class CursorError(ValueError):
    """A page cursor that is not one this list gave out (edited, truncated, another sort)."""


def cursor_encode(case: Case, sort_name: str) -> str:
    """An opaque token for ``case``'s position in the ``sort_name`` order."""
    values = [_dump(getattr(case, name)) for name in SORTS[sort_name].fields]
    payload = json.dumps([sort_name, values], separators=(",", ":"))
    return urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def cursor_decode(token: str, sort_name: str) -> tuple:
    """The sort key in ``token``; CursorError unless it was made for ``sort_name``."""
    try:
        raw = urlsafe_b64decode(token + "=" * (-len(token) % 4))
        name, values = json.loads(raw)
        fields = SORTS[sort_name].fields
        if name != sort_name or len(values) != len(fields):
            raise CursorError(token)
        return tuple(_LOAD[field](value) for field, value in zip(fields, values, strict=True))
    except (ValueError, TypeError, KeyError, binascii.Error) as error:
        raise CursorError(token) from error


def _dump(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _instant(value: Any) -> datetime:
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise CursorError(value)
    return instant


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise CursorError(value)
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise CursorError(value)
    return value


_LOAD = {"received_at": _instant, "pk": _integer, "number": _text}
