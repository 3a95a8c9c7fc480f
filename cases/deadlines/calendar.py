"""PetitionDesk's day-counting rule: the one place it lives.

The rule is the general one of 民法典 Art. 200-204, which applies where a law
sets no other method (R22 sets none):

* the day the period starts is not counted (Art. 201);
* a period in days ends at 24:00 of its last day (Art. 203(2));
* if the last day of a calendar-day period is a rest day (an official holiday,
  or a weekend day that is not a make-up workday 调休上班日), the last day moves to
  the first working day after it (Art. 203(1));
* a period in working days (e.g. the 5-working-day objection of R22 Art. 23)
  counts only working days, from the day after the start day.

Day data, highest priority first:

1. office overrides (the administrator's holiday table), passed in by the caller;
2. the official arrangement shipped in ``chinesecalendar`` (2004-2026 in 1.11);
3. for a year the office has marked as announced: weekends only;
4. otherwise the statutory-holiday fallback (``fallback.py``); every day of such
   a year is marked ``fallback``, and a due date that relies on one is provisional.

Pure Python: the model layer reads its tables and passes them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache

import chinese_calendar
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases.deadlines.fallback import statutory_holidays

ONE_DAY = timedelta(days=1)


class Unit(StrEnum):
    CALENDAR = "calendar"
    WORKING = "working"


class Source(StrEnum):
    """Where a day's status came from."""

    OFFICE = "office"  # the office's override table
    OFFICIAL = "official"  # a named holiday or make-up workday in chinesecalendar
    FALLBACK = "fallback"  # any day of a year with no official or announced arrangement
    WEEKDAY = "weekday"  # a plain weekday of a year whose arrangement is known
    WEEKEND = "weekend"  # a plain weekend day of a year whose arrangement is known


@dataclass(frozen=True)
class DayOverride:
    is_workday: bool
    name: str = ""


@dataclass(frozen=True)
class DayInfo:
    day: date
    is_workday: bool
    name: str
    source: str

    @property
    def provisional(self) -> bool:
        """Whether the status is a guess that the yearly announcement may change."""
        return self.source == Source.FALLBACK

    def describe(self) -> str:
        """Return a translated label: the holiday name, else what kind of day it is."""
        if self.name:
            return _(self.name)
        weekend = self.day.weekday() >= 5
        if self.is_workday:
            return _("make-up workday") if weekend else _("working day")
        return _("weekend") if weekend else _("rest day")


@lru_cache(maxsize=256)
def _has_official_data(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=16384)
def _official_detail(d: date) -> tuple[bool, str | None]:
    """Return chinesecalendar's (is_rest_day, name) for a day of a year it covers."""
    return chinese_calendar.get_holiday_detail(d)


def _plain(d: date) -> DayInfo:
    if d.weekday() >= 5:
        return DayInfo(d, False, "", Source.WEEKEND)
    return DayInfo(d, True, "", Source.WEEKDAY)


@dataclass(frozen=True)
class DueDate:
    due: date
    start: date
    length: int
    unit: Unit
    provisional: bool
    skipped: tuple[DayInfo, ...]  # rest days skipped (working) or moved over (calendar)
    moved_from: date | None  # calendar unit: the nominal last day when it was a rest day
    # An extension's period: the original period whose (moved) last day it counts from.
    extended_from: DueDate | None = None

    def ends_at(self, tz: tzinfo) -> datetime:
        """Return the instant the period ends: 24:00 of the due day in ``tz`` (Art. 203(2))."""
        return datetime.combine(self.due + ONE_DAY, time.min, tzinfo=tz)

    def explain(self) -> list[str]:
        """Return translated lines that show how the due date was reached."""
        if self.extended_from is not None:
            lines = self.extended_from.explain()[:-1 - self.extended_from.provisional]
            lines.append(
                _("The extension is counted from that original last day, %(start)s "
                  "(Regulations on Letters and Visits Work, Art. 34).")
                % {"start": self.start.isoformat()})
        else:
            lines = [
                _("The start day %(start)s is not counted (Civil Code Art. 201).")
                % {"start": self.start.isoformat()}
            ]
        if self.unit == Unit.CALENDAR:
            lines += self._explain_calendar()
        else:
            lines += self._explain_working()
        lines.append(
            _("Due: %(due)s, until 24:00 (Civil Code Art. 203(2)).") % {"due": self.due.isoformat()}
        )
        if self.provisional:
            lines.append(
                _(
                    "Provisional: the official holiday arrangement for a year used here has "
                    "not been announced, so statutory holidays and weekends were assumed."
                )
            )
        return lines

    def _explain_calendar(self) -> list[str]:
        nominal = self.moved_from or self.due
        lines = [
            ngettext(
                "%(length)d calendar day after the start day: %(nominal)s.",
                "%(length)d calendar days after the start day: %(nominal)s.",
                self.length,
            )
            % {"length": self.length, "nominal": nominal.isoformat()}
        ]
        if self.moved_from is not None:
            lines.append(
                _(
                    "That day is a rest day (%(days)s), so the last day moves to the next "
                    "working day (Civil Code Art. 203(1))."
                )
                % {"days": _list_days(self.skipped)}
            )
        return lines

    def _explain_working(self) -> list[str]:
        counted = ngettext(
            "%(length)d working day counted after the start day.",
            "%(length)d working days counted after the start day.",
            self.length,
        ) % {"length": self.length}
        if not self.skipped:
            return [counted]
        skipped = _("Rest days not counted: %(days)s.") % {"days": _list_days(self.skipped)}
        return [counted, skipped]


def days_text(count: int, unit: Unit | str) -> str:
    """A period's length in its unit, as people read it: "5 working days", "15 calendar days"."""
    if unit == Unit.WORKING:
        text = ngettext("%(count)d working day", "%(count)d working days", count)
    else:
        text = ngettext("%(count)d calendar day", "%(count)d calendar days", count)
    return text % {"count": count}


def _list_days(days: Iterable[DayInfo]) -> str:
    return ", ".join(f"{info.day.isoformat()} {info.describe()}" for info in days)


_BETWEEN_KEPT = 20_000  # counts kept per calendar; a long-lived process starts over beyond


class WorkCalendar:
    """Tell working days from rest days and compute due dates (民法典 Art. 201/203).

    Build one per set of office data and reuse it: day lookups and due dates are
    cached on the instance, so it must be rebuilt when the office table changes.
    """

    def __init__(
        self,
        overrides: Mapping[date, DayOverride] | None = None,
        announced_years: Iterable[int] = (),
    ) -> None:
        self._overrides = dict(overrides or {})
        self._announced = frozenset(announced_years)
        self._days: dict[date, DayInfo] = {}
        self._dues: dict[tuple[date, int, Unit], DueDate] = {}
        self._between: dict[tuple[date, date], int] = {}
        self._back: dict[tuple[date, int], date] = {}

    def day(self, d: date) -> DayInfo:
        """Return the status of ``d`` from the highest-priority source that knows it."""
        info = self._days.get(d)
        if info is None:
            info = self._days[d] = self._lookup(d)
        return info

    def _lookup(self, d: date) -> DayInfo:
        override = self._overrides.get(d)
        if override is not None:
            return DayInfo(d, override.is_workday, override.name, Source.OFFICE)
        if _has_official_data(d.year):
            is_rest, name = _official_detail(d)
            return DayInfo(d, not is_rest, name, Source.OFFICIAL) if name else _plain(d)
        if d.year in self._announced:
            return _plain(d)
        name = statutory_holidays(d.year).get(d, "")
        return DayInfo(d, not name and d.weekday() < 5, name, Source.FALLBACK)

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` is a working day: a weekday that is not a holiday, or a make-up workday."""
        return self.day(d).is_workday

    def due_date(self, start: date, length: int, unit: Unit | str) -> DueDate:
        """Return the last day of a ``length``-``unit`` period that starts on ``start``.

        The start day is not counted (Art. 201). Calendar periods whose last day is a
        rest day end on the next working day (Art. 203(1)); working-day periods (R22
        Art. 23's 5 working days) count working days only.
        """
        unit = Unit(unit)
        if length < 1:
            raise ValueError(f"A period must be at least 1 day long, not {length}.")
        key = (start, length, unit)
        due = self._dues.get(key)
        if due is None:
            compute = self._calendar_due if unit == Unit.CALENDAR else self._working_due
            due = self._dues[key] = compute(start, length)
        return due

    def _calendar_due(self, start: date, length: int) -> DueDate:
        nominal = start + timedelta(days=length)
        moved_over: list[DayInfo] = []
        info = self.day(nominal)
        while not info.is_workday:
            moved_over.append(info)
            info = self.day(info.day + ONE_DAY)
        provisional = info.provisional or any(i.provisional for i in moved_over)
        return DueDate(
            due=info.day,
            start=start,
            length=length,
            unit=Unit.CALENDAR,
            provisional=provisional,
            skipped=tuple(moved_over),
            moved_from=nominal if moved_over else None,
        )

    def _working_due(self, start: date, length: int) -> DueDate:
        counted, d, skipped, provisional = 0, start, [], False
        while counted < length:
            d += ONE_DAY
            info = self.day(d)
            provisional = provisional or info.provisional
            if info.is_workday:
                counted += 1
            else:
                skipped.append(info)
        return DueDate(
            due=d,
            start=start,
            length=length,
            unit=Unit.WORKING,
            provisional=provisional,
            skipped=tuple(skipped),
            moved_from=None,
        )

    def working_day_before(self, day: date, count: int) -> date:
        """The working day ``count`` working days before ``day`` (``day`` itself not counted)."""
        found = self._back.get((day, count))
        if found is None:  # a sweep asks this for thousands of clocks due the same day
            d, counted = day, 0
            while counted < count:
                d -= ONE_DAY
                if self.is_workday(d):
                    counted += 1
            found = self._back[(day, count)] = d
        return found

    def working_days_between(self, first: date, last: date) -> int:
        """Count the working days in (first, last]; negative when ``last`` is before ``first``."""
        if last < first:
            return -self.working_days_between(last, first)
        key = (first, last)
        count = self._between.get(key)
        if count is None:  # a list page asks "from today to each due day", fifty times
            if len(self._between) > _BETWEEN_KEPT:
                self._between.clear()
            days = (last - first).days
            count = self._between[key] = sum(self.is_workday(first + timedelta(days=k))
                                             for k in range(1, days + 1))
        return count
