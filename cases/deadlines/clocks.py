"""Clock services: start, pause, resume, extend, meet, cancel and recompute statutory clocks.

Each service is atomic, locks the clock row it changes and writes one CaseEvent.
Due days come from the counting rule in ``calendar.py`` (民法典 Art. 201/203) applied
to the office calendar: chinesecalendar's data under the administrator's table.

``office_calendar()`` is cached per process and keyed by a digest of the office
table (one small query), so a web server and a Celery worker both see an edit at
their next call, and a rolled-back edit maps back to the calendar it replaced.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from cases.choices import ClockKind, ClockStatus, EventKind
from cases.deadlines.calendar import DayOverride, DueDate, Unit, WorkCalendar
from cases.events import case_event_record
from cases.models import AnnouncedYear, CalendarDay, Case, CaseEvent, Deadline, DeadlineRule

# Days are the office's days (Asia/Shanghai), whatever the server's zone; case numbers
# take their year from the same clock.
OFFICE_TZ = ZoneInfo("Asia/Shanghai")
LIVE = (ClockStatus.OPEN, ClockStatus.PAUSED)
RECOMPUTE_BATCH = 2000
_DUE_FIELDS = ["due_on", "due_at", "provisional"]


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
    """Count length + extension + paused days from the start day (民法典 Art. 201/203)."""
    calendar = calendar or office_calendar()
    return calendar.due_date(deadline.starts_on, deadline.total_length, deadline.unit)


def deadline_explain(deadline: Deadline) -> list[str]:
    """Return the lines that show how the due day was reached (start, unit, length,
    rest days, pauses, extension, provisional). Reads the clock's resume events."""
    due = deadline_due(deadline)
    unit = deadline.unit
    lines = [_("Clock: %(kind)s, %(length)s by the rule in force when it started.")
             % {"kind": ClockKind(deadline.kind).label, "length": _days(deadline.length, unit)}]
    if deadline.extension_days:
        lines.append(_("Approved extension: %(days)s added.")
                     % {"days": _days(deadline.extension_days, unit)})
    lines += _pause_lines(deadline)
    if deadline.extension_days or deadline.paused_days:
        lines.append(_("Length counted: %(length)s.")
                     % {"length": _days(deadline.total_length, unit)})
    lines += due.explain()
    if (due.due, due.provisional) != (deadline.due_on, deadline.provisional):
        lines.append(_("The stored due day %(stored)s was computed before the office calendar "
                       "changed; the next recompute updates it.")
                     % {"stored": deadline.due_on.isoformat()})
    return lines


def _pause_lines(deadline: Deadline) -> list[str]:
    resumed = CaseEvent.objects.filter(
        case_id=deadline.case_id, kind=EventKind.CLOCK_RESUMED, details__deadline=deadline.pk,
    ).order_by("at").values_list("details", flat=True)
    lines = [
        _("Paused from %(paused)s to %(resumed)s: %(days)s not counted.")
        % {"paused": d["paused_on"], "resumed": d["resumed_on"],
           "days": _days(d["days_added"], deadline.unit)}
        for d in resumed
    ]
    if deadline.paused_days:
        lines.append(_("Paused time added back: %(days)s.")
                     % {"days": _days(deadline.paused_days, deadline.unit)})
    if deadline.paused_on is not None:
        lines.append(_("Paused since %(day)s: the due day moves when the clock resumes.")
                     % {"day": deadline.paused_on.isoformat()})
    return lines


def _days(count: int, unit: str) -> str:
    if unit == Unit.WORKING:
        text = ngettext("%(count)d working day", "%(count)d working days", count)
    else:
        text = ngettext("%(count)d calendar day", "%(count)d calendar days", count)
    return text % {"count": count}


# --- Starting and closing -------------------------------------------------------------


@transaction.atomic
def clock_start(*, case: Case, kind: ClockKind | str, start: datetime, actor: User | None,
                at: datetime) -> Deadline:
    """Start a clock of the rule's length; the local start day is not counted (民法典 Art. 201)."""
    rule = DeadlineRule.objects.filter(kind=kind).first()
    if rule is None:
        raise ClockError(_("No deadline rule is set for the %(kind)s clock.")
                         % {"kind": ClockKind(kind).label}, code="no_rule")
    if Deadline.objects.filter(case=case, kind=kind, status__in=LIVE).exists():
        raise _already_running(case, kind)
    deadline = Deadline(case=case, kind=kind, starts_on=_local_day(start), length=rule.length,
                        unit=rule.unit)
    _set_due(deadline, deadline_due(deadline))
    try:
        with transaction.atomic():
            deadline.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent start won the partial unique index
        if "one_live_clock_per_kind" not in str(exc):
            raise
        raise _already_running(case, kind) from exc
    _record(case, deadline, EventKind.CLOCK_STARTED, actor, at,
            starts_on=deadline.starts_on.isoformat(), length=deadline.length,
            unit=deadline.unit, due_on=deadline.due_on.isoformat(),
            provisional=deadline.provisional)
    return deadline


@transaction.atomic
def clock_meet(*, case: Case, kind: ClockKind | str, actor: User | None,
               at: datetime) -> Deadline | None:
    """Stop the live clock of ``kind`` as met and record whether in time; None when none runs."""
    return _clock_close(case=case, kind=kind, status=ClockStatus.MET,
                        event=EventKind.CLOCK_MET, actor=actor, at=at)


@transaction.atomic
def clock_cancel(*, case: Case, kind: ClockKind | str, actor: User | None, at: datetime,
                 reason: str = "") -> Deadline | None:
    """Stop the live clock of ``kind`` without meeting it; None when none runs."""
    return _clock_close(case=case, kind=kind, status=ClockStatus.CANCELLED,
                        event=EventKind.CLOCK_CANCELLED, actor=actor, at=at, reason=reason)


def _clock_close(*, case: Case, kind: str, status: str, event: str, actor: User | None,
                 at: datetime, **details) -> Deadline | None:
    deadline = _live(case, kind)
    if deadline is None:
        return None
    if deadline.status == ClockStatus.PAUSED:  # the pause so far is not counted either
        details["days_added"] = _fold_pause(deadline, _local_day(at))
    deadline.status = status
    deadline.closed_at = at
    deadline.save(update_fields=["status", "closed_at", "paused_on", "paused_days", *_DUE_FIELDS])
    _record(case, deadline, event, actor, at, due_on=deadline.due_on.isoformat(),
            on_time=at <= deadline.due_at, **details)
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
    deadline.save(update_fields=["status", "paused_on"])
    _record(case, deadline, EventKind.CLOCK_PAUSED, actor, at,
            paused_on=deadline.paused_on.isoformat(), reason=reason)
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
    deadline.save(update_fields=["status", "paused_on", "paused_days", *_DUE_FIELDS])
    _record(case, deadline, EventKind.CLOCK_RESUMED, actor, at,
            paused_on=paused_on.isoformat(), resumed_on=_local_day(at).isoformat(),
            days_added=added, old_due=old_due.isoformat(), new_due=deadline.due_on.isoformat())
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
    old_due = deadline.due_on
    deadline.extension_days += days
    _set_due(deadline, deadline_due(deadline))
    deadline.save(update_fields=["extension_days", *_DUE_FIELDS])
    _record(case, deadline, EventKind.CLOCK_RECOMPUTED, actor, at, cause="extension",
            extension_days=days, old_due=old_due.isoformat(), new_due=deadline.due_on.isoformat(),
            provisional=deadline.provisional)
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
    _set_due(deadline, deadline_due(deadline, calendar))
    return added


# --- Recomputing after a calendar change --------------------------------------------------


@transaction.atomic
def clocks_recompute(*, actor: User | None, at: datetime, reason: str) -> int:
    """Move every live clock to the current office calendar (DOMAIN §2); return how many moved.

    Set-based, so it stays fast with 100k open clocks: one streaming read of the
    live clocks finds the stale ones without locking them; then per batch of
    stale clocks one locking re-read, one UPDATE from arrays and one bulk INSERT
    of the CLOCK_RECOMPUTED audit rows. No statement is issued per clock.
    """
    calendar = office_calendar()
    stale = list(_stale_clock_ids(calendar))
    return sum(
        _recompute_batch(batch, calendar, actor=actor, at=at, reason=reason)
        for batch in _chunks(stale, RECOMPUTE_BATCH)
    )


def _stale_clock_ids(calendar: WorkCalendar) -> Iterator[int]:
    rows = Deadline.objects.filter(status__in=LIVE).values_list(
        "pk", "starts_on", "length", "extension_days", "paused_days", "unit", "due_on",
        "provisional",
    )
    for pk, start, length, extension, paused, unit, due_on, provisional in rows.iterator(5000):
        due = calendar.due_date(start, length + extension + paused, unit)
        if (due.due, due.provisional) != (due_on, provisional):
            yield pk


def _recompute_batch(ids: Sequence[int], calendar: WorkCalendar, *, actor: User | None,
                     at: datetime, reason: str) -> int:
    """Re-read the batch under row locks (a concurrent extend or resume wins), then write it."""
    clocks = Deadline.objects.select_for_update().filter(pk__in=ids, status__in=LIVE).order_by("pk")
    changed, events = [], []
    actor_id = actor.pk if actor is not None else None
    for deadline in clocks:
        due = deadline_due(deadline, calendar)
        if (due.due, due.provisional) == (deadline.due_on, deadline.provisional):
            continue
        events.append(CaseEvent(
            case_id=deadline.case_id, kind=EventKind.CLOCK_RECOMPUTED, actor_id=actor_id, at=at,
            details={"deadline": deadline.pk, "clock": deadline.kind, "cause": "calendar",
                     "reason": reason, "old_due": deadline.due_on.isoformat(),
                     "new_due": due.due.isoformat(), "old_provisional": deadline.provisional,
                     "new_provisional": due.provisional},
        ))
        _set_due(deadline, due)
        changed.append(deadline)
    _write_dues(changed)
    CaseEvent.objects.bulk_create(events)
    return len(changed)


def _write_dues(clocks: list[Deadline]) -> None:
    """Write the batch's due fields in one UPDATE joined to parallel arrays.

    Not ``QuerySet.bulk_update``: it builds a CASE WHEN per row and field, and
    compiling that took 80% of a 6,000-clock recompute (about 1 ms a clock).
    """
    if not clocks:
        return
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_DUES_SQL, [
            [d.pk for d in clocks], [d.due_on for d in clocks],
            [d.due_at for d in clocks], [d.provisional for d in clocks],
        ])


_UPDATE_DUES_SQL = """
    UPDATE cases_deadline AS d
       SET due_on = v.due_on, due_at = v.due_at, provisional = v.provisional
      FROM unnest(%s::bigint[], %s::date[], %s::timestamptz[], %s::boolean[])
           AS v(id, due_on, due_at, provisional)
     WHERE d.id = v.id
"""


# --- Helpers -------------------------------------------------------------------------


def _live(case: Case, kind: str) -> Deadline | None:
    """Return the open or paused clock of ``kind``, locked for this transaction."""
    return (Deadline.objects.select_for_update()
            .filter(case=case, kind=kind, status__in=LIVE).first())


def _local_day(instant: datetime) -> date:
    """The calendar day of ``instant`` in the office's time zone (Asia/Shanghai)."""
    return timezone.localtime(instant, OFFICE_TZ).date()


def _set_due(deadline: Deadline, due: DueDate) -> None:
    deadline.due_on = due.due
    deadline.due_at = due.ends_at(OFFICE_TZ)  # 24:00 of the due day (民法典 Art. 203(2))
    deadline.provisional = due.provisional


def _record(case: Case, deadline: Deadline, kind: str, actor: User | None, at: datetime,
            **details) -> None:
    case_event_record(case=case, kind=kind, actor=actor, at=at,
                      details={"deadline": deadline.pk, "clock": deadline.kind, **details})


def _names(case: Case, kind: str) -> dict[str, str]:
    return {"kind": ClockKind(kind).label, "case": case.number}


def _already_running(case: Case, kind: str) -> ClockError:
    return ClockError(_("A %(kind)s clock is already running on case %(case)s; meet or cancel "
                        "it before starting another.") % _names(case, kind), code="already_running")


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for offset in range(0, len(items), size):
        yield items[offset:offset + size]
