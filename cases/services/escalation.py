"""The sweep: fire the escalation ladder on every clock whose next level has come due.

Set-based (LESSONS.md): per batch of up to ``SWEEP_BATCH`` clocks, a fixed number of
statements whatever the batch holds —

1. lock the due clocks ``next_fire_at <= now`` by index, ``FOR UPDATE SKIP LOCKED``
   (a second sweep running at the same moment takes other clocks or none), reading their
   cases and the levels they have fired in the same statement;
2. read the staff who may be told;
3. insert the escalation rows ``ON CONFLICT DO NOTHING`` (``escalation_once``: each
   clock and level fires once, whatever runs twice), then COPY their audit rows, sealed
   into each case's HMAC chain (one statement reads the cases' heads and takes the rows'
   ids; ``cases/audit_chain.py``), and the notifications in bulk;
4. move each clock's ``next_fire_at`` to its next unfired level in one UPDATE;
5. do what the levels do besides telling (``ladder_actions.py``): open supervision
   orders in bulk; return unsigned cases, if an office set a level to.

All of a batch commits or none of it: a sweep killed mid-batch leaves the batch for the
next sweep, which fires it once. Mail and SMS leave from the outbox after the commit,
never from here. A clock several levels behind (the system was down) fires each level
once, and each person is told once per case per batch, naming the highest level.
Windows are never scheduled (``schedule.py``), so they never escalate.

Who a level reaches is resolved when it fires, from the roles held then
(cases/DECISIONS.md, "The escalation ladder").

Python work per batch is kept to dictionary lookups: the thousands of clocks of a batch
share a few due days, ladder steps and audiences, so the calendar arithmetic, the
audiences and the audit rows' details are computed once per distinct value
(``_Schedule``, ``_Staff``, ``_event_lines``), and rows go to the server as text
(``make bench``: 100,000 clocks crossing a level at once).
"""

from __future__ import annotations

import gc
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import override

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit, RoleAssignment, path_contains
from config.pgbulk import array_element, array_literal, copy_line, copy_rows

from .. import audit_chain, events
from ..choices import ClockKind
from ..deadlines.calendar import WorkCalendar
from ..deadlines.clocks import OFFICE_TZ, office_calendar
from ..deadlines.schedule import fire_at, ladder_active, next_to_fire
from ..models import Audience, Deadline, LadderStep
from .ladder_actions import ladder_act

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
        with transaction.atomic(), _collector_paused():
            clocks, cases = _due_clocks(now=now, batch=batch)
            if not clocks:
                return report
            _fire_batch(clocks, cases=cases, ladder=ladder, now=now, report=report)
        report.batches += 1
        if len(clocks) < batch:
            return report


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for a batch. A batch allocates a million small
    objects (rows, firings, drafts) that hold no cycles and go with the batch; the
    collector's passes over them cost a tenth of the batch (``make bench``)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- 1. The due clocks, locked, with their cases ---------------------------------------

@dataclass(slots=True)
class _Clock:
    """The columns of a due clock the sweep reads: plain values, not model instances (a
    batch holds thousands), and the levels it had fired when it was locked."""

    pk: int
    case_id: int
    kind: str
    due_on: date
    due_at: datetime
    next_level: int | None
    next_fire_at: datetime | None
    fired: frozenset[int]


class _CaseRow(NamedTuple):
    """The columns of a clock's case the sweep reads: whom a level reaches, and the number."""

    id: int
    number: str
    lead_unit_id: int | None
    registered_unit_id: int | None
    place_unit_id: int | None
    leader_id: int | None


def _due_clocks(*, now: datetime, batch: int) -> tuple[list[_Clock], dict[int, _CaseRow]]:
    """Lock the batch's clocks; return them, and their cases by id."""
    clocks: list[_Clock] = []
    cases: dict[int, _CaseRow] = {}
    with connection.cursor() as cursor:
        cursor.execute(_DUE_CLOCKS, [now, batch])
        for row in cursor.fetchall():
            clocks.append(_Clock(*row[:7], fired=frozenset(row[7])))
            cases[row[1]] = _CaseRow(*row[8:])
    return clocks, cases


# By the partial index deadline_next_fire_id, read in its order (no sort); SKIP LOCKED:
# another sweep's batch is left to it. The subquery picks and locks the batch on the clock
# table alone (a join below the LIMIT would join every clock due at the batch's instant);
# the cases and the levels fired are then read for the batch's rows only. A level
# another sweep committed after this statement began may be missing from ``fired``: this
# sweep then tries it again and escalation_once refuses the row, so it is still once.
_DUE_CLOCKS = """
    SELECT d.id, d.case_id, d.kind, d.due_on, d.due_at, d.next_level, d.next_fire_at,
           ARRAY(SELECT e.level FROM cases_escalation e WHERE e.deadline_id = d.id),
           c.id, c.number, c.lead_unit_id, c.registered_unit_id, c.place_unit_id,
           c.leader_id
      FROM (SELECT id, case_id, kind, due_on, due_at, next_level, next_fire_at
              FROM cases_deadline
             WHERE next_fire_at <= %s
             ORDER BY next_fire_at, id
             LIMIT %s
               FOR UPDATE SKIP LOCKED) AS d
      JOIN cases_case c ON c.id = d.case_id
     ORDER BY d.next_fire_at, d.id
"""


# --- 2-4. Firing one batch ---------------------------------------------------------------

class _Firing(NamedTuple):
    clock: _Clock
    step: LadderStep
    fire_at: datetime


def _fire_batch(clocks: list[_Clock], *, cases: dict[int, _CaseRow],
                ladder: dict[str, list[LadderStep]], now: datetime,
                report: SweepReport) -> None:
    schedule = _Schedule(ladder, calendar=office_calendar(), now=now)
    firings: list[_Firing] = []
    for clock in clocks:
        due, clock.next_level, clock.next_fire_at = schedule.plan(clock)
        firings += [_Firing(clock, step, at) for step, at in due]
    staff = _Staff.load(cases.values())
    recipients = {(f.clock.pk, f.step.level): staff.audience(cases[f.clock.case_id],
                                                            f.step.audiences)
                  for f in firings}
    inserted = _insert_escalations(firings, recipients=recipients, now=now)
    fired = [f for f in firings if (f.clock.pk, f.step.level) in inserted]
    _insert_events(fired, recipients=recipients, now=now)
    _notify(fired, cases=cases, recipients=recipients, now=now)
    clocks_next_write(clocks)
    # What the levels do besides telling (open a supervision order, return a case): last,
    # since a return cancels the clock that fired and its cancellation must stay.
    ladder_act(fired, cases=cases, escalations=inserted, now=now)
    report.clocks += len(clocks)
    report.fired.update((f.clock.kind, f.step.level) for f in fired)


class _Plan(NamedTuple):
    due: tuple[tuple[LadderStep, datetime], ...]  # the levels to fire now, and their instants
    next_level: int | None  # then the next unfired level, and when
    next_fire_at: datetime | None


class _Schedule:
    """The ladder on the office calendar at ``now``, worked out once per clock kind, due
    time and levels fired: a batch's thousands of clocks share a few of those, and the
    working-day arithmetic of ``schedule.py`` is otherwise the batch's costliest Python."""

    def __init__(self, ladder: dict[str, list[LadderStep]], *, calendar: WorkCalendar,
                 now: datetime) -> None:
        self.ladder, self.calendar, self.now = ladder, calendar, now
        self._plans: dict[tuple, _Plan] = {}

    def plan(self, clock: _Clock) -> _Plan:
        key = (clock.kind, clock.due_on, clock.due_at, clock.fired)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._work_out(clock)
        return plan

    def _work_out(self, clock: _Clock) -> _Plan:
        steps = self.ladder.get(clock.kind, [])
        done, due = set(clock.fired), []
        for step in steps:
            if step.level in done:
                continue
            at = fire_at(step.offset, due_on=clock.due_on, due_at=clock.due_at,
                         calendar=self.calendar, tz=OFFICE_TZ)
            if at <= self.now:
                due.append((step, at))
                done.add(step.level)
        return _Plan(tuple(due), *next_to_fire(
            steps, fired=done, due_on=clock.due_on, due_at=clock.due_at,
            calendar=self.calendar, tz=OFFICE_TZ))


def _fired_levels(clock_ids: list[int]) -> dict[int, set[int]]:
    fired: dict[int, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute("SELECT deadline_id, level FROM cases_escalation "
                       "WHERE deadline_id = ANY(%s)", [clock_ids])
        for clock_id, level in cursor.fetchall():
            fired[clock_id].add(level)
    return fired


def _insert_escalations(firings: list[_Firing], *, recipients: dict,
                        now: datetime) -> dict[tuple[int, int], int]:
    """Insert the rows in one statement; return the ids of those this sweep wrote, by
    (clock, level).

    Each column goes as one array literal that the server unnests: a VALUES list of 5,000
    rows took the server three times as long to parse as to insert (``make bench``). The
    audiences and recipients vary in length, so each row's travels as an array literal
    in a text[] column and is cast back.
    """
    if not firings:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_ESCALATIONS, [
            now, array_literal(f.clock.pk for f in firings), array_literal(f.clock.case_id for f in firings),
            array_literal(f.step.level for f in firings), array_literal(f.step.pk for f in firings),
            array_literal(f.step.offset for f in firings),
            array_literal(array_element(tuple(f.step.audiences)) for f in firings),
            array_literal(array_element(f.step.action) for f in firings),
            array_literal(array_element(tuple(sorted(recipients[(f.clock.pk, f.step.level)])))
                   for f in firings),
            array_literal(array_element(f.fire_at) for f in firings)])
        return {(clock_id, level): pk for pk, clock_id, level in cursor.fetchall()}


_INSERT_ESCALATIONS = """
    INSERT INTO cases_escalation (deadline_id, case_id, level, step_id, "offset", audiences,
                                  action, recipients, fire_at, fired_at)
    SELECT v.deadline_id, v.case_id, v.level, v.step_id, v."offset", v.audiences::varchar[],
           v.action, v.recipients::bigint[], v.fire_at, %s
      FROM unnest(%s::bigint[], %s::bigint[], %s::smallint[], %s::bigint[], %s::smallint[],
                  %s::text[], %s::text[], %s::text[], %s::timestamptz[])
           AS v(deadline_id, case_id, level, step_id, "offset", audiences, action, recipients,
                fire_at)
    ON CONFLICT (deadline_id, level) DO NOTHING
    RETURNING id, deadline_id, level
"""


def _insert_events(fired: list[_Firing], *, recipients: dict, now: datetime) -> None:
    """The audit rows, by COPY: nothing to return and no conflict to meet, and the server
    reads COPY's text faster than a VALUES list of thousands of rows (``make bench``).

    Their ids, links and MACs come from the chain (cases/audit_chain.py): one statement
    reads the heads of the batch's cases and takes the ids, then each row's HMAC-SM3 is
    computed as COPY streams it, over a canonical text made once per shape."""
    if not fired:
        return
    shapes = _event_shapes(fired, recipients=recipients, now=now)
    links = audit_chain.chain([f.clock.case_id for f in fired],
                              (shape.body.format(f.clock.pk)
                               for f, shape in zip(fired, shapes, strict=True)))
    copy_rows(_COPY_EVENTS, (
        shape.line.format(f.clock.case_id, f.clock.pk, row_id, _NULL if prev is None else prev,
                          mac)
        for f, shape, (row_id, prev, mac) in zip(fired, shapes, links, strict=True)))


class _Shape(NamedTuple):
    """A firing's audit row as a COPY line, ``{0}`` its case, ``{1}`` its clock, ``{2}`` its
    id, ``{3}`` the row it follows, ``{4}`` its MAC; and the canonical text the MAC covers
    (``audit_chain.body``), ``{0}`` its clock."""

    line: str
    body: str


def _event_shapes(fired: list[_Firing], *, recipients: dict, now: datetime) -> list[_Shape]:
    """Each firing's shape, made once per clock kind, due day, step and recipients."""
    shapes: dict[tuple, _Shape] = {}
    found = []
    for f in fired:
        people = recipients[(f.clock.pk, f.step.level)]
        key = (f.clock.kind, f.clock.due_on, f.step.pk, *sorted(people))
        shape = shapes.get(key)
        if shape is None:
            shape = shapes[key] = _event_shape(f, recipients=people, now=now)
        found.append(shape)
    return found


_COPY_EVENTS = ("COPY cases_caseevent (id, case_id, kind, actor_id, at, from_status, "
                "to_status, details, prev, mac) FROM STDIN")
_NULL = "\\N"


class _ClockStandIn(NamedTuple):
    """What ``events.escalated`` may read of a clock; a builder reading more fails loudly."""

    pk: int
    kind: str
    due_on: date


# Numbers no case or clock id takes, standing in for them in an audit row's shape.
_CASE_MARK, _CLOCK_MARK = -7_340_000_000_000_000_001, -7_340_000_000_000_000_002


def _event_shape(firing: _Firing, *, recipients, now: datetime) -> _Shape:
    """The shape of a firing's audit row: ``events.escalated`` stays the one builder of the
    details, called once per shape of row (clock kind, due day, step, recipients) rather
    than once per firing."""
    clock, step = firing.clock, firing.step
    event = events.escalated(
        case=_CASE_MARK, at=now, deadline=_ClockStandIn(_CLOCK_MARK, clock.kind, clock.due_on),
        level=step.level, offset=step.offset, action=step.action,
        audiences=list(step.audiences), recipients=recipients)
    line = copy_line(event.case_id, event.kind, event.actor_id, event.at, event.from_status,
                      event.to_status, json.dumps(event.details))
    text = audit_chain.body(kind=event.kind, actor_id=event.actor_id, at=event.at,
                            from_status=event.from_status, to_status=event.to_status,
                            details=event.details)
    return _Shape("{2}\t" + _holes(line, _CASE_MARK, _CLOCK_MARK)[:-1] + "\t{3}\t{4}\n",
                  _holes(text, _CLOCK_MARK))


def _holes(text: str, *marks: int) -> str:
    """``text`` as a format string, each mark (written once) a numbered hole."""
    shape = text.replace("{", "{{").replace("}", "}}")
    for index, mark in enumerate(marks):
        if shape.count(str(mark)) != 1:
            raise ValueError(f"events.escalated must write the case and clock once: {text!r}")
        shape = shape.replace(str(mark), f"{{{index}}}")
    return shape


def clocks_next_write(clocks, *, table: str = "cases_deadline") -> None:
    """Each clock's next level and instant in one UPDATE, the columns as array literals;
    ``table``: the clocks' table (the cases' ``Deadline``, or mediation's ``DisputeClock``)."""
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_NEXT.format(table=connection.ops.quote_name(table)), [
            array_literal(c.pk for c in clocks), array_literal(c.next_level for c in clocks),
            array_literal(c.next_fire_at and array_element(c.next_fire_at) for c in clocks)])


_UPDATE_NEXT = """
    UPDATE {table} AS d
       SET next_level = v.next_level, next_fire_at = v.next_fire_at
      FROM unnest(%s::bigint[], %s::smallint[], %s::timestamptz[])
           AS v(id, next_level, next_fire_at)
     WHERE d.id = v.id
"""


# --- Who a level reaches ----------------------------------------------------------------

def audience_of(case, audiences: list[str]) -> set[int]:
    """Who ``audiences`` (``Audience`` values) reach on one case now, by the rules the
    sweep fires by (cases/DECISIONS.md E3): for a service telling one case's people."""
    return set(_Staff.load([case]).audience(case, audiences))


@dataclass
class _Staff:
    """The active role holders of active units, and the paths of the batch's units (two
    queries per batch)."""

    by_role: dict[str, list[tuple[int, str, str]]]  # role -> (user, unit path, unit kind)
    paths: dict[int, str]  # unit id -> path, for the units the batch's cases name
    # (the case's units and leader, audiences) -> people: cases of one unit share them
    _known: dict[tuple, set[int]] = field(default_factory=dict, repr=False)

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
        """The people the audiences name on the case (a shared set: do not change it)."""
        key = (case.lead_unit_id, case.registered_unit_id, case.place_unit_id,
               case.leader_id, *audiences)
        people = self._known.get(key)
        if people is None:
            people = self._known[key] = set()
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
    # The people told of one firing share its message, params and link (notify_bulk
    # serialises a params dict once however many drafts carry it).
    texts: dict[tuple[int, int], tuple[str, dict, str]] = {}
    drafts = []
    for (user, case_id), firing in highest.items():
        text = texts.get((firing.clock.pk, firing.step.level))
        if text is None:
            text = texts[(firing.clock.pk, firing.step.level)] = _message(
                firing, number=cases[case_id].number, label=labels[firing.clock.kind])
        message, params, url = text
        drafts.append(NotificationDraft(
            user_id=user, case_id=case_id, kind="escalation", message=message, params=params,
            url=url, mail=True,
            dedupe_key=mail_dedupe_key(kind="escalation", user_id=user, case_id=case_id,
                                       day=day)))
    notify_bulk(drafts, at=now)


def _message(firing: _Firing, *, number: str, label: str) -> tuple[str, dict, str]:
    """A firing's notification: its message key, params and link."""
    return ("clock.warning" if firing.step.offset < 0 else "clock.overdue",
            {"case_number": number, "clock_label": label, "level": firing.step.level,
             "due_on": firing.clock.due_on.isoformat()},
            f"/cases/{number}/")


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
            clocks_next_write(rows)
            written += len(rows)
    return written
