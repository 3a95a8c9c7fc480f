"""The seeder's time axis: whole minutes since the first midnight of the window, office time.

Times are ints while a case is drawn (cheap to add and compare) and become
COPY text only once, through tables built for the window's days.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from django.utils import timezone

from cases.deadlines.calendar import WorkCalendar
from cases.deadlines.clocks import OFFICE_TZ

WINDOW_DAYS = 548  # received dates: the last 18 months
WORK_START, WORK_MINUTES = 8 * 60 + 30, 9 * 60  # the office answers 08:30-17:30
_HOUR_MINUTES = tuple(f"{m // 60:02d}:{m % 60:02d}:00" for m in range(1440))


class OfficeTimes:
    """Days of the window (dates, ISO text, UTC offsets, working days) and now, in minutes."""

    def __init__(self, calendar: WorkCalendar, now: datetime, rng: random.Random) -> None:
        self.rng = rng
        local_now = timezone.localtime(now, OFFICE_TZ)
        self.base = local_now.date() - timedelta(days=WINDOW_DAYS)
        self.now_t = WINDOW_DAYS * 1440 + local_now.hour * 60 + local_now.minute
        self.dates: list[date] = [self.base + timedelta(days=d) for d in range(WINDOW_DAYS + 2)]
        self.iso = [d.isoformat() for d in self.dates]
        self.offsets = [datetime(d.year, d.month, d.day, 12, tzinfo=OFFICE_TZ).isoformat()[-6:]
                        for d in self.dates]
        self.workday = [calendar.is_workday(d) for d in self.dates]

    def ts(self, t: int) -> str:
        """A minute of the window as COPY text for a timestamptz column."""
        day, minute = divmod(t, 1440)
        return f"{self.iso[day]} {_HOUR_MINUTES[minute]}{self.offsets[day]}"

    def office_time(self, previous: int, t: float) -> int:
        """Move ``t`` into office hours of a working day, after ``previous`` and not after now."""
        day, minute = divmod(int(t), 1440)
        if not WORK_START <= minute < WORK_START + WORK_MINUTES:
            minute = WORK_START + minute % WORK_MINUTES
        while day < WINDOW_DAYS and not self.workday[day]:
            day += 1
        t = max(day * 1440 + minute, previous + 1 + int(self.rng.random() * 20))
        return min(t, self.now_t)
