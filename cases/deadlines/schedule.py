"""When each level of the escalation ladder fires on a clock, and which one fires next.

The one home of the firing rule (cases/DECISIONS.md, "The escalation ladder"):

* a negative offset −k warns at 00:00 of the working day k working days before the due
  day, the moment the case list turns the clock amber ("due within k working days");
* offset 0 fires at the due time itself (24:00 of the due day);
* a positive offset +k fires once the clock is k full working days overdue: at 24:00
  of the k-th working day after the due day.

Offsets count on the office calendar, make-up workdays included. Each clock keeps
``next_level`` and ``next_fire_at``: the earliest unfired level and its instant, which
the sweep selects by index. Windows and clocks not running have none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, tzinfo

from ..choices import ClockStatus
from ..models import Escalation, LadderStep
from .calendar import Unit, WorkCalendar


def fire_at(offset: int, *, due_on: date, due_at: datetime, calendar: WorkCalendar,
            tz: tzinfo) -> datetime:
    """The instant a level ``offset`` working days from the due time fires."""
    if offset == 0:
        return due_at
    if offset < 0:
        day = calendar.working_day_before(due_on, -offset)
        return datetime.combine(day, time.min, tzinfo=tz)
    return calendar.due_date(due_on, offset, Unit.WORKING).ends_at(tz)


def next_to_fire(steps: Sequence, *, fired: Iterable[int], due_on: date, due_at: datetime,
                 calendar: WorkCalendar, tz: tzinfo) -> tuple[int | None, datetime | None]:
    """The unfired level that fires first, and when; (None, None) when all have fired."""
    done = set(fired)
    pending = [(fire_at(step.offset, due_on=due_on, due_at=due_at, calendar=calendar, tz=tz),
                step.level) for step in steps if step.level not in done]
    if not pending:
        return None, None
    instant, level = min(pending)
    return level, instant


def escalation_schedule(clocks: Sequence, *, ladder: dict[str, list], fired: dict[int, set[int]],
                        calendar: WorkCalendar, tz: tzinfo) -> None:
    """Set ``next_level`` and ``next_fire_at`` on each clock, in memory (callers save).

    ``ladder``: active steps by clock kind; ``fired``: the levels each clock (by id) has
    fired. A window, or a clock that is not open (paused, met, cancelled, lapsed), has
    nothing to fire.
    """
    for clock in clocks:
        steps = ladder.get(clock.kind, [])
        if clock.is_window or clock.status != ClockStatus.OPEN or not steps:
            clock.next_level, clock.next_fire_at = None, None
            continue
        clock.next_level, clock.next_fire_at = next_to_fire(
            steps, fired=fired.get(clock.pk, ()), due_on=clock.due_on, due_at=clock.due_at,
            calendar=calendar, tz=tz)


def ladder_active() -> dict[str, list[LadderStep]]:
    """The active steps of the ladder, by clock kind, in level order (one query)."""
    ladder: dict[str, list[LadderStep]] = {}
    for step in LadderStep.objects.filter(is_active=True).order_by("clock_kind", "level"):
        ladder.setdefault(step.clock_kind, []).append(step)
    return ladder


def fired_levels(clock_ids: Iterable[int]) -> dict[int, set[int]]:
    """The levels each clock has fired (one query)."""
    fired: dict[int, set[int]] = {}
    ids = [pk for pk in clock_ids if pk is not None]
    if ids:
        for clock_id, level in Escalation.objects.filter(deadline_id__in=ids).values_list(
                "deadline_id", "level"):
            fired.setdefault(clock_id, set()).add(level)
    return fired


def clocks_schedule(clocks: Sequence, *, calendar: WorkCalendar, tz: tzinfo) -> None:
    """Schedule the clocks' next escalation from the ladder and what they fired (two queries)."""
    escalation_schedule(clocks, ladder=ladder_active(), fired=fired_levels(c.pk for c in clocks),
                        calendar=calendar, tz=tz)
