"""Clock services: start, pause, resume, extend, meet, cancel and recompute statutory clocks.

Each service is atomic, locks the clock row it changes and writes one CaseEvent.
Due days come from the counting rule in ``calendar.py`` (民法典 Art. 201/203) applied
to the office calendar: chinesecalendar's data under the administrator's table.

``office_calendar()`` is cached per process and keyed by a digest of the office
table (one small query), so a web server and a Celery worker both see an edit at
their next call, and a rolled-back edit maps back to the calendar it replaced.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cases import events
from cases.choices import ClockKind, ClockStatus, EventKind
from cases.deadlines.calendar import DayOverride, DueDate, Unit, WorkCalendar, days_text
from cases.deadlines.schedule import clocks_schedule
from cases.models import AnnouncedYear, CalendarDay, Case, CaseEvent, Deadline, DeadlineRule

# Days are the office's days (Asia/Shanghai), whatever the server's zone; case numbers
# take their year from the same clock.
OFFICE_TZ = ZoneInfo("Asia/Shanghai")
# A clock's due time and, derived from it, its next escalation (``_schedule``).
_DUE_FIELDS = ["due_on", "due_at", "provisional", "next_level", "next_fire_at"]


class ClockError(ValidationError):
    """A clock operation the rules refuse, e.g. a second live clock of one kind."""


# --- The office calendar -------------------------------------------------------------

_cached: tuple[str, WorkCalendar] | None = None


def office_calendar() -> WorkCalendar:
    """Return the WorkCalendar of the office table (DOMAIN §2), rebuilt when the table changes."""
    global _cached
    version = _office_table_version()
    cached = _cached
    if cached is not None and cached[0] == version:
        return cached[1]
    overrides = {
        row.day: DayOverride(is_workday=row.is_workday, name=row.name)
        for row in CalendarDay.objects.all()
    }
    calendar = WorkCalendar(overrides, AnnouncedYear.objects.values_list("year", flat=True))
    _cached = (version, calendar)  # read after the version: at worst rebuilt once more
    return calendar


def _office_table_version() -> str:
    """Digest both tables' contents in one query; it also catches edits that keep ids and counts."""
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL)
        return cursor.fetchone()[0]


# The tables are small (a few dozen rows a year), so hashing their contents is cheap.
_VERSION_SQL = """
    SELECT md5(
        coalesce((SELECT string_agg(concat_ws(',', day, is_workday, name), ';' ORDER BY day)
                  FROM cases_calendarday), '')
        || '|' ||
        coalesce((SELECT string_agg(year::text, ',' ORDER BY year) FROM cases_announcedyear), '')
    )
"""


# --- Reading a clock ----------------------------------------------------------------


def deadline_due(deadline: Deadline, calendar: WorkCalendar | None = None) -> DueDate:
    """The clock's due day on the office calendar (see :func:`count_due`)."""
    return count_due(calendar or office_calendar(), starts_on=deadline.starts_on,
                     length=deadline.length, paused_days=deadline.paused_days,
                     extension_days=deadline.extension_days, unit=deadline.unit)


def count_due(calendar: WorkCalendar, *, starts_on: date, length: int, paused_days: int,
              extension_days: int, unit: str) -> DueDate:
    """Count a clock's due day: the one home of how pauses and extensions add up.

    Length plus paused days run from the start day (民法典 Art. 201/203; a hearing's
    days are not counted, R22 Art. 36). An approved extension then runs from that
    original last day *as the rest-day rule moved it* (R22 Art. 34 "延长…期限",
    read in cases/DECISIONS.md), so 60 + 30 is not simply 90 days from the start.
    """
    due = calendar.due_date(starts_on, length + paused_days, unit)
    if not extension_days:
        return due
    extended = calendar.due_date(due.due, extension_days, unit)
    return replace(extended, provisional=extended.provisional or due.provisional,
                   extended_from=due)


def deadline_explain(deadline: Deadline, *, calendar: WorkCalendar | None = None,
                     resumed: list[dict] | None = None) -> list[str]:
    """Return the lines that show how the due day was reached (start, unit, length,
    rest days, pauses, extension, provisional). Reads the clock's resume events, unless
    a page explaining several clocks passes them (``resumed``: their details, in order)."""
    due = deadline_due(deadline, calendar)
    unit = deadline.unit
    lines = [_("Clock: %(kind)s, %(length)s by the rule in force when it started.")
             % {"kind": ClockKind(deadline.kind).label, "length": days_text(deadline.length, unit)}]
    if deadline.extension_days:
        lines.append(_("Approved extension: %(days)s, counted from the original last day.")
                     % {"days": days_text(deadline.extension_days, unit)})
    lines += _pause_lines(deadline, resumed)
    if deadline.paused_days:
        lines.append(_("Length counted before any extension: %(length)s.")
                     % {"length": days_text(deadline.length + deadline.paused_days, unit)})
    lines += due.explain()
    if (due.due, due.provisional) != (deadline.due_on, deadline.provisional):
        lines.append(_("The stored due day %(stored)s was computed before the office calendar "
                       "changed; the next recompute updates it.")
                     % {"stored": deadline.due_on.isoformat()})
    return lines


def clock_resumes(*, case_id: int) -> dict[int, list[dict]]:
    """The details of each resume event of the case's clocks, by clock, in order."""
    found: dict[int, list[dict]] = {}
    for details in (CaseEvent.objects.filter(case_id=case_id, kind=EventKind.CLOCK_RESUMED)
                    .order_by("at", "pk").values_list("details", flat=True)):
        found.setdefault(details.get("deadline"), []).append(details)
    return found


def _pause_lines(deadline: Deadline, resumed: list[dict] | None) -> list[str]:
    if resumed is None:
        resumed = clock_resumes(case_id=deadline.case_id).get(deadline.pk, [])
    lines = [
        _("Paused from %(paused)s to %(resumed)s: %(days)s not counted.")
        % {"paused": d["paused_on"], "resumed": d["resumed_on"],
           "days": days_text(d["days_added"], deadline.unit)}
        for d in resumed
    ]
    if deadline.paused_days:
        lines.append(_("Paused time added back: %(days)s.")
                     % {"days": days_text(deadline.paused_days, deadline.unit)})
    if deadline.paused_on is not None:
        lines.append(_("Paused since %(day)s: the due day moves when the clock resumes.")
                     % {"day": deadline.paused_on.isoformat()})
    return lines


# --- Starting and closing -------------------------------------------------------------


@transaction.atomic
def clock_start(*, case: Case, kind: ClockKind | str, start: datetime, actor: User | None,
                at: datetime, days: int | None = None) -> Deadline:
    """Start a clock of the rule's length; the local start day is not counted (民法典 Art. 201).

    ``days``: a length in calendar days chosen by whoever set the clock (a supervisor's
    day to answer by) in place of the rule's; the rest-day rule still moves its last day.
    """
    rule = DeadlineRule.objects.filter(kind=kind).first()
    if rule is None:
        raise ClockError(_("No deadline rule is set for the %(kind)s clock.")
                         % {"kind": ClockKind(kind).label}, code="no_rule")
    if Deadline.objects.filter(case=case, kind=kind).live().exists():
        raise _already_running(case, kind)
    length, unit = (rule.length, rule.unit) if days is None else (days, Unit.CALENDAR)
    deadline = Deadline(case=case, kind=kind, starts_on=_local_day(start), length=length,
                        unit=unit, is_window=rule.is_window)
    set_due(deadline, deadline_due(deadline))
    _schedule(deadline)
    try:
        with transaction.atomic():
            deadline.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent start won the partial unique index
        if "one_live_clock_per_kind" not in str(exc):
            raise
        raise _already_running(case, kind) from exc
    events.record(events.clock_started(case=case, actor=actor, at=at, deadline=deadline))
    return deadline


def clocks_start_bulk(*, case_ids: list[int], kind: ClockKind | str, start: datetime,
                      at: datetime, actor: User | None = None,
                      days: int | None = None) -> dict[int, Deadline]:
    """Start a clock of ``kind`` on each case at once, in a fixed number of statements:
    :func:`clock_start` for a scheduler's or a campaign's hundreds (the rule's length, or
    ``days`` calendar days; one ``clock_started`` event each). The caller makes sure no
    such clock is live on those cases (``one_live_clock_per_kind`` refuses the batch)."""
    if not case_ids:
        return {}
    rule = DeadlineRule.objects.filter(kind=kind).first()
    if rule is None:
        raise ClockError(_("No deadline rule is set for the %(kind)s clock.")
                         % {"kind": ClockKind(kind).label}, code="no_rule")
    length, unit = (rule.length, rule.unit) if days is None else (days, Unit.CALENDAR)
    calendar, starts_on = office_calendar(), _local_day(start)
    due = count_due(calendar, starts_on=starts_on, length=length, paused_days=0,
                    extension_days=0, unit=unit)
    clocks = [Deadline(case_id=case_id, kind=kind, starts_on=starts_on, length=length,
                       unit=unit, is_window=rule.is_window) for case_id in case_ids]
    for clock in clocks:
        set_due(clock, due)
    clocks_schedule(clocks, calendar=calendar, tz=OFFICE_TZ)  # a window: nothing to fire
    Deadline.objects.bulk_create(clocks)
    events.record(*[events.clock_started(case=clock.case_id, actor=actor, at=at,
                                         deadline=clock) for clock in clocks])
    return {clock.case_id: clock for clock in clocks}


@transaction.atomic
def clock_meet(*, case: Case, kind: ClockKind | str, actor: User | None,
               at: datetime) -> Deadline | None:
    """Stop the live clock of ``kind`` as met and record whether in time; None when none runs.

    A window used after it ran out is not "met late": it closes as lapsed.
    """
    return _clock_close(case=case, kind=kind, status=ClockStatus.MET, actor=actor, at=at)


@transaction.atomic
def clock_cancel(*, case: Case, kind: ClockKind | str, actor: User | None, at: datetime,
                 reason: str = "") -> Deadline | None:
    """Stop the live clock of ``kind`` without meeting it; None when none runs.

    A window that had already run out closes as lapsed, the right unused.
    """
    return _clock_close(case=case, kind=kind, status=ClockStatus.CANCELLED, actor=actor, at=at,
                        reason=reason)


_CLOSING_EVENT = {ClockStatus.MET: EventKind.CLOCK_MET,
                  ClockStatus.CANCELLED: EventKind.CLOCK_CANCELLED,
                  ClockStatus.LAPSED: EventKind.CLOCK_LAPSED}


def _clock_close(*, case: Case, kind: str, status: str, actor: User | None, at: datetime,
                 reason: str = "") -> Deadline | None:
    deadline = _live(case, kind)
    if deadline is None:
        return None
    days_added = None
    if deadline.status == ClockStatus.PAUSED:  # the pause so far is not counted either
        days_added = _fold_pause(deadline, _local_day(at))
    if deadline.is_window and at >= deadline.due_at:  # a right that ran out unused
        status = ClockStatus.LAPSED
    deadline.status = status
    deadline.closed_at = at
    _schedule(deadline)
    deadline.save(update_fields=["status", "closed_at", "paused_on", "paused_days", *_DUE_FIELDS])
    events.record(events.clock_closed(case=case, actor=actor, at=at, deadline=deadline,
                                      kind=_CLOSING_EVENT[status], reason=reason,
                                      days_added=days_added))
    return deadline


# --- Pausing, resuming, extending ------------------------------------------------------


@transaction.atomic
def clock_pause(*, case: Case, kind: ClockKind | str, actor: User | None, at: datetime,
                reason: str) -> Deadline:
    """Stop counting a running clock, e.g. for a hearing (R22 Art. 36: hearing time not counted)."""
    deadline = _live(case, kind)
    if deadline is None or deadline.status != ClockStatus.OPEN:
        raise ClockError(_("No running %(kind)s clock on case %(case)s to pause.")
                         % _names(case, kind), code="not_running")
    deadline.status = ClockStatus.PAUSED
    deadline.paused_on = _local_day(at)
    _schedule(deadline)  # a paused clock does not escalate
    deadline.save(update_fields=["status", "paused_on", "next_level", "next_fire_at"])
    events.record(events.clock_paused(case=case, actor=actor, at=at, deadline=deadline,
                                      reason=reason))
    return deadline


@transaction.atomic
def clock_resume(*, case: Case, kind: ClockKind | str, actor: User | None,
                 at: datetime) -> Deadline:
    """Restart a paused clock and add the paused days back in its unit (R22 Art. 36)."""
    deadline = _live(case, kind)
    if deadline is None or deadline.status != ClockStatus.PAUSED:
        raise ClockError(_("No paused %(kind)s clock on case %(case)s to resume.")
                         % _names(case, kind), code="not_paused")
    old_due, paused_on = deadline.due_on, deadline.paused_on
    added = _fold_pause(deadline, _local_day(at))
    _schedule(deadline)
    deadline.save(update_fields=["status", "paused_on", "paused_days", *_DUE_FIELDS])
    events.record(events.clock_resumed(case=case, actor=actor, at=at, deadline=deadline,
                                       paused_on=paused_on, resumed_on=_local_day(at),
                                       days_added=added, old_due=old_due))
    return deadline


@transaction.atomic
def clock_extend(*, case: Case, kind: ClockKind | str, days: int, actor: User | None,
                 at: datetime) -> Deadline:
    """Add approved extension days to the live clock (R22 Art. 34; approval and cap are the caller's)."""
    if days < 1:
        raise ClockError(_("An extension must be at least 1 day."), code="bad_days")
    deadline = _live(case, kind)
    if deadline is None:
        raise ClockError(_("No live %(kind)s clock on case %(case)s to extend.")
                         % _names(case, kind), code="not_live")
    old_due, old_provisional = deadline.due_on, deadline.provisional
    deadline.extension_days += days
    set_due(deadline, deadline_due(deadline))
    _schedule(deadline)
    deadline.save(update_fields=["extension_days", *_DUE_FIELDS])
    events.record(events.clock_recomputed(case=case, actor=actor, at=at, deadline=deadline,
                                          cause="extension", old_due=old_due,
                                          old_provisional=old_provisional, extension_days=days))
    return deadline


def _fold_pause(deadline: Deadline, resumed_on: date) -> int:
    """Add the days in (paused_on, resumed_on] in the clock's unit, reopen it, move its due day."""
    calendar = office_calendar()
    if deadline.unit == Unit.WORKING:
        added = calendar.working_days_between(deadline.paused_on, resumed_on)
    else:
        added = (resumed_on - deadline.paused_on).days
    added = max(added, 0)
    deadline.paused_days += added
    deadline.paused_on = None
    deadline.status = ClockStatus.OPEN
    set_due(deadline, deadline_due(deadline, calendar))
    return added


# --- Helpers -------------------------------------------------------------------------


def _live(case: Case, kind: str) -> Deadline | None:
    """Return the open or paused clock of ``kind``, locked for this transaction."""
    return Deadline.objects.select_for_update().filter(case=case, kind=kind).live().first()


def _local_day(instant: datetime) -> date:
    """The calendar day of ``instant`` in the office's time zone (Asia/Shanghai)."""
    return timezone.localtime(instant, OFFICE_TZ).date()


def _schedule(deadline: Deadline) -> None:
    """Set the clock's next escalation from its due time (cases/deadlines/schedule.py)."""
    if deadline.status != ClockStatus.OPEN or deadline.is_window:
        deadline.next_level = deadline.next_fire_at = None
    else:
        clocks_schedule([deadline], calendar=office_calendar(), tz=OFFICE_TZ)


def set_due(deadline: Deadline, due: DueDate) -> None:
    deadline.due_on = due.due
    deadline.due_at = due.ends_at(OFFICE_TZ)  # 24:00 of the due day (民法典 Art. 203(2))
    deadline.provisional = due.provisional


def _names(case: Case, kind: str) -> dict[str, str]:
    return {"kind": ClockKind(kind).label, "case": case.number}


def _already_running(case: Case, kind: str) -> ClockError:
    return ClockError(_("A %(kind)s clock is already running on case %(case)s; meet or cancel "
                        "it before starting another.") % _names(case, kind), code="already_running")
