"""The sweep: fire the escalation ladder on every clock whose next level has come due.

Set-based (LESSONS.md): per batch of up to ``SWEEP_BATCH`` clocks, a fixed number of
statements whatever the batch holds —

1. lock the due clocks ``next_fire_at <= now`` by index, ``FOR UPDATE SKIP LOCKED``
   (a second sweep running at the same moment takes other clocks or none);
2. read their cases, the levels they have fired, and the staff who may be told;
3. insert the escalation rows ``ON CONFLICT DO NOTHING`` (``escalation_once``: each
   clock and level fires once, whatever runs twice), their audit rows and the
   notifications, in bulk;
4. move each clock's ``next_fire_at`` to its next unfired level in one UPDATE.

All of a batch commits or none of it: a sweep killed mid-batch leaves the batch for the
next sweep, which fires it once. Mail and SMS leave from the outbox after the commit,
never from here. A clock several levels behind (the system was down) fires each level
once, and each person is told once per case per batch, naming the highest level.
Windows are never scheduled (``schedule.py``), so they never escalate.

Who a level reaches is resolved when it fires, from the roles held then
(cases/DECISIONS.md, "The escalation ladder").
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import override
from psycopg2.extras import Json, execute_values

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit, RoleAssignment, path_contains

from .. import events
from ..choices import ClockKind
from ..deadlines.clocks import OFFICE_TZ, office_calendar
from ..deadlines.schedule import fire_at, ladder_active, next_to_fire
from ..models import Audience, Case, CaseEvent, Deadline, LadderStep

logger = logging.getLogger(__name__)

SWEEP_BATCH = 5000


@dataclass
class SweepReport:
    """What one sweep fired: escalation rows by (clock kind, level), clocks touched."""

    fired: Counter = field(default_factory=Counter)
    clocks: int = 0
    batches: int = 0

    @property
    def total(self) -> int:
        return sum(self.fired.values())


def escalation_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> SweepReport:
    """Fire every level that has come due, batch after batch, until none is left."""
    now = now or timezone.now()
    report = SweepReport()
    ladder = ladder_active()
    while True:
        with transaction.atomic():
            clocks = _due_clocks(now=now, batch=batch)
            if not clocks:
                return report
            _fire_batch(clocks, ladder=ladder, now=now, report=report)
        report.batches += 1
        if len(clocks) < batch:
            return report


# --- 1. The due clocks, locked ----------------------------------------------------------

@dataclass(slots=True)
class _Clock:
    """The columns of a due clock the sweep reads: plain values, not model instances (a
    batch holds thousands)."""

    pk: int
    case_id: int
    kind: str
    due_on: date
    due_at: datetime
    next_level: int | None
    next_fire_at: datetime | None


def _due_clocks(*, now: datetime, batch: int) -> list[_Clock]:
    with connection.cursor() as cursor:
        cursor.execute(_DUE_CLOCKS, [now, batch])
        return [_Clock(*row) for row in cursor.fetchall()]


# By the partial index deadline_next_fire; SKIP LOCKED: another sweep's batch is left to it.
_DUE_CLOCKS = """
    SELECT id, case_id, kind, due_on, due_at, next_level, next_fire_at
      FROM cases_deadline
     WHERE next_fire_at <= %s
     ORDER BY next_fire_at, id
     LIMIT %s
       FOR UPDATE SKIP LOCKED
"""


# --- 2-4. Firing one batch ---------------------------------------------------------------

@dataclass(frozen=True)
class _Firing:
    clock: _Clock
    step: LadderStep
    fire_at: datetime


def _fire_batch(clocks: list[_Clock], *, ladder: dict[str, list[LadderStep]],
                now: datetime, report: SweepReport) -> None:
    calendar = office_calendar()
    fired_before = _fired_levels([clock.pk for clock in clocks])
    firings: list[_Firing] = []
    for clock in clocks:
        steps = ladder.get(clock.kind, [])
        done = fired_before.get(clock.pk, set())
        for step in steps:
            if step.level in done:
                continue
            at = fire_at(step.offset, due_on=clock.due_on, due_at=clock.due_at,
                         calendar=calendar, tz=OFFICE_TZ)
            if at <= now:
                firings.append(_Firing(clock, step, at))
                done.add(step.level)
        clock.next_level, clock.next_fire_at = next_to_fire(
            steps, fired=done, due_on=clock.due_on, due_at=clock.due_at, calendar=calendar,
            tz=OFFICE_TZ)
    cases = {row.id: row for row in Case.objects.filter(
        pk__in={clock.case_id for clock in clocks}).values_list(*_CASE_FIELDS, named=True)}
    staff = _Staff.load(cases.values())
    recipients = {(f.clock.pk, f.step.level): staff.audience(cases[f.clock.case_id],
                                                            f.step.audiences)
                  for f in firings}
    inserted = _insert_escalations(firings, recipients=recipients, now=now)
    fired = [f for f in firings if (f.clock.pk, f.step.level) in inserted]
    _insert_events([
        events.escalated(case=f.clock.case_id, at=now, deadline=f.clock, level=f.step.level,
                         offset=f.step.offset, action=f.step.action,
                         audiences=list(f.step.audiences),
                         recipients=recipients[(f.clock.pk, f.step.level)])
        for f in fired])
    _notify(fired, cases=cases, recipients=recipients, now=now)
    _write_next(clocks)
    report.clocks += len(clocks)
    report.fired.update((f.clock.kind, f.step.level) for f in fired)


def _fired_levels(clock_ids: list[int]) -> dict[int, set[int]]:
    fired: dict[int, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute("SELECT deadline_id, level FROM cases_escalation "
                       "WHERE deadline_id = ANY(%s)", [clock_ids])
        for clock_id, level in cursor.fetchall():
            fired[clock_id].add(level)
    return fired


def _insert_escalations(firings: list[_Firing], *, recipients: dict, now: datetime) -> set:
    """Insert the rows in one statement; return the (clock, level) pairs this sweep wrote."""
    if not firings:
        return set()
    rows = [(f.clock.pk, f.clock.case_id, f.step.level, f.step.pk, f.step.offset,
             list(f.step.audiences), f.step.action,
             sorted(recipients[(f.clock.pk, f.step.level)]), f.fire_at, now)
            for f in firings]
    with connection.cursor() as cursor:
        written = execute_values(cursor, _INSERT_ESCALATIONS, rows, page_size=len(rows),
                                 fetch=True)
    return {(clock_id, level) for clock_id, level in written}


_INSERT_ESCALATIONS = """
    INSERT INTO cases_escalation (deadline_id, case_id, level, step_id, "offset", audiences,
                                  action, recipients, fire_at, fired_at)
    VALUES %s
    ON CONFLICT (deadline_id, level) DO NOTHING
    RETURNING deadline_id, level
"""


def _insert_events(rows: list[CaseEvent]) -> None:
    """The audit rows the builders made, in one statement (``bulk_create`` spends longer
    preparing 5,000 rows field by field than the database spends writing them)."""
    if rows:
        with connection.cursor() as cursor:
            execute_values(cursor, _INSERT_EVENTS, [
                (e.case_id, e.kind, e.actor_id, e.at, e.from_status, e.to_status, Json(e.details))
                for e in rows], page_size=len(rows))


_INSERT_EVENTS = """
    INSERT INTO cases_caseevent (case_id, kind, actor_id, at, from_status, to_status, details)
    VALUES %s
"""


def _write_next(clocks) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_NEXT, [[c.pk for c in clocks], [c.next_level for c in clocks],
                                      [c.next_fire_at for c in clocks]])


_UPDATE_NEXT = """
    UPDATE cases_deadline AS d
       SET next_level = v.next_level, next_fire_at = v.next_fire_at
      FROM unnest(%s::bigint[], %s::smallint[], %s::timestamptz[])
           AS v(id, next_level, next_fire_at)
     WHERE d.id = v.id
"""


# --- Who a level reaches ----------------------------------------------------------------

_CASE_FIELDS = ("id", "number", "lead_unit_id", "registered_unit_id", "place_unit_id",
                "leader_id")


@dataclass
class _Staff:
    """The active role holders of active units, and the paths of the batch's units (two
    queries per batch)."""

    by_role: dict[str, list[tuple[int, str, str]]]  # role -> (user, unit path, unit kind)
    paths: dict[int, str]  # unit id -> path, for the units the batch's cases name

    @classmethod
    def load(cls, cases) -> _Staff:
        by_role: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        rows = (RoleAssignment.objects
                .filter(user__is_active=True, unit__is_active=True,
                        role__in=[Role.HANDLER, Role.UNIT_HEAD, Role.LEADER, Role.SUPERVISOR])
                .values_list("role", "user_id", "unit__path", "unit__kind"))
        for role, user_id, path, kind in rows:
            by_role[role].append((user_id, path, kind))
        unit_ids = {unit for case in cases for unit in (
            case.lead_unit_id, case.registered_unit_id, case.place_unit_id) if unit}
        paths = dict(OrgUnit.objects.filter(pk__in=unit_ids).values_list("pk", "path"))
        return cls(by_role, paths)

    def audience(self, case, audiences: list[str]) -> set[int]:
        people: set[int] = set()
        for audience in audiences:
            people |= self._resolve(case, audience)
        return people

    def _resolve(self, case, audience: str) -> set[int]:
        if audience == Audience.UNIT:  # the lead unit's own handlers and heads
            return self._held_at(case.lead_unit_id, (Role.HANDLER, Role.UNIT_HEAD))
        if audience == Audience.OFFICE:  # the petition office's heads
            return self._held_at(case.registered_unit_id, (Role.UNIT_HEAD,))
        if audience == Audience.LEADER:  # still a leader where the matter lies
            place = self._path(case.place_unit_id)
            return {user for user, path, _kind in self.by_role[Role.LEADER]
                    if user == case.leader_id and place and path_contains(path, place)}
        if audience == Audience.SUPERVISOR:  # over the office or the lead unit
            paths = [p for p in (self._path(case.registered_unit_id),
                                 self._path(case.lead_unit_id)) if p]
            return {user for user, path, _kind in self.by_role[Role.SUPERVISOR]
                    if any(path_contains(path, p) for p in paths)}
        if audience == Audience.PRINCIPAL:  # leaders at the county itself, above the office
            office = self._path(case.registered_unit_id)
            return {user for user, path, kind in self.by_role[Role.LEADER]
                    if kind == UnitKind.COUNTY and office and path_contains(path, office)}
        return set()

    def _held_at(self, unit_id: int | None, roles: tuple[str, ...]) -> set[int]:
        path = self._path(unit_id)
        return {user for role in roles for user, held, _kind in self.by_role[role]
                if path and held == path}

    def _path(self, unit_id: int | None) -> str | None:
        return self.paths.get(unit_id) if unit_id else None


# --- Notifications ------------------------------------------------------------------------

def _notify(fired: list[_Firing], *, cases: dict, recipients: dict,
            now: datetime) -> None:
    """One notification per person and case in this batch, naming the highest level."""
    if not fired:
        return
    highest: dict[tuple[int, int], _Firing] = {}
    for firing in fired:
        for user in recipients[(firing.clock.pk, firing.step.level)]:
            key = (user, firing.clock.case_id)
            if key not in highest or firing.step.level > highest[key].step.level:
                highest[key] = firing
    from notifications.services import NotificationDraft, mail_dedupe_key, notify_bulk

    day = timezone.localtime(now, OFFICE_TZ).date()
    labels = dict(ClockKind.choices)  # English msgids: the reader's language renders them
    with override("en"):
        labels = {kind: str(label) for kind, label in labels.items()}
    notify_bulk([
        NotificationDraft(
            user_id=user, case_id=case_id, kind="escalation",
            message="clock.warning" if firing.step.offset < 0 else "clock.overdue",
            params={"case_number": cases[case_id].number,
                    "clock_label": labels[firing.clock.kind], "level": firing.step.level,
                    "due_on": firing.clock.due_on.isoformat()},
            url=f"/cases/{cases[case_id].number}/", mail=True,
            dedupe_key=mail_dedupe_key(kind="escalation", user_id=user, case_id=case_id,
                                       day=day))
        for (user, case_id), firing in highest.items()], at=now)


# --- Rescheduling --------------------------------------------------------------------------

def escalation_reschedule(*, kind: str | None = None, batch: int = SWEEP_BATCH) -> int:
    """Recompute ``next_fire_at`` of every open duty clock (of ``kind``), batch by batch.

    After the ladder is edited, after a bulk load wrote clocks without it (the demo
    seeder's COPY), and nightly with the calendar recompute. Returns the clocks written.
    """
    clocks = Deadline.objects.filter(status="open", is_window=False)
    if kind:
        clocks = clocks.filter(kind=kind)
    ids = list(clocks.order_by("pk").values_list("pk", flat=True))
    ladder, calendar, written = ladder_active(), office_calendar(), 0
    for start in range(0, len(ids), batch):
        with transaction.atomic():
            rows = list(Deadline.objects.filter(pk__in=ids[start:start + batch], status="open")
                        .select_for_update(of=("self",))
                        .only("pk", "kind", "status", "is_window", "due_on", "due_at",
                              "next_level", "next_fire_at"))
            fired = _fired_levels([row.pk for row in rows])
            for row in rows:
                row.next_level, row.next_fire_at = next_to_fire(
                    ladder.get(row.kind, []), fired=fired.get(row.pk, ()), due_on=row.due_on,
                    due_at=row.due_at, calendar=calendar, tz=OFFICE_TZ)
            _write_next(rows)
            written += len(rows)
    return written
