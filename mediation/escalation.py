"""The dispute clocks' sweep: the cases' escalation ladder fired on grid reports, mediation
cases and agreement terms (``DisputeClock``), and the panel that shows it on their pages.

The same rules as the cases' sweep (cases/services/escalation.py), from the same places:
the ``LadderStep`` rows of the clock's kind, the firing instants of ``next_to_fire``
(cases/deadlines/schedule.py), and a constant number of statements per batch of up to
``SWEEP_BATCH`` clocks, whatever the batch holds —

1. lock the due clocks (``next_fire_at <= now``, by the partial index
   ``disputeclock_next_fire``) ``FOR UPDATE SKIP LOCKED``, a second sweep at the same
   moment taking other clocks or none, reading in the same statement the levels each has
   fired, its owner's number and unit, and a mediation's mediators;
2. read the role holders who may be told;
3. insert the escalation rows ``ON CONFLICT DO NOTHING`` (``disputeescalation_once``:
   each clock and level fires once, whatever runs twice), then their ``MediationEvent``
   rows and the notifications, each in bulk;
4. move each clock's next level and instant in one UPDATE.

All of a batch commits or none of it: a sweep killed mid-batch leaves the batch to the
next sweep, which fires it once. Mail leaves from the outbox after the commit. A clock
several levels behind fires each level once; each person is told once per clock and batch,
naming the highest level. Windows (the court-confirmation window) never escalate. A
level's action besides telling (a supervision order, a return: ``LadderAction``) is a
petition case's; here the row records it and the level tells its audiences only.

The volumes are smaller than the cases' (thousands of reports and mediations, not
millions), so rows travel as one JSON or array parameter rather than COPY, and no audit
chain is sealed (``MediationEvent`` is append-only by trigger). Who a level reaches is
resolved when it fires, from the roles held then (``_Staff``; mediation/DECISIONS.md).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import F, Prefetch, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit, RoleAssignment, User, path_contains
from cases.choices import ClockKind, ClockStatus
from cases.deadlines.calendar import WorkCalendar
from cases.deadlines.clocks import OFFICE_TZ, office_calendar
from cases.deadlines.schedule import ladder_active, next_to_fire
from cases.models import Audience, LadderStep
from cases.selectors.case_page import Today, clock_state
from cases.selectors.wording import choice_label, display_formats
from cases.services.escalation import (  # what a sweep fired, as the cases'
    SweepReport,
    clocks_next_write,
)
from notifications.models import NotificationKind
from notifications.services import NotificationDraft, notify_bulk

from .models import (
    DisputeClock,
    DisputeEscalation,
    EventKind,
    GridReport,
    MediationCase,
    MediationEvent,
    Term,
)

SWEEP_BATCH = 1000


def dispute_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> SweepReport:
    """Fire every dispute clock's ladder level that has come due, batch after batch."""
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


# --- 1. The due clocks, locked, with their owners ----------------------------------------

class _Owner(NamedTuple):
    """Whose a clock is, as the sweep reads it: a grid report, or a mediation case (a term's
    clock is its agreement's case's); its number; the unit whose people it reaches (the
    report's township, the committee's unit); and the case's active mediators."""

    report_id: int | None
    mediation_id: int | None
    number: str
    unit_path: str | None
    unit_kind: str | None
    mediators: tuple[int, ...]

    @property
    def key(self) -> str:
        return (f"report-{self.report_id}" if self.report_id is not None
                else f"mediation-{self.mediation_id}")

    @property
    def url(self) -> str:
        """The owner's page."""
        if self.report_id is not None:
            return _page("mediation:report", self.report_id, "/mediation/reports/{}/")
        return _page("mediation:case", self.mediation_id, "/mediation/cases/{}/")


def _page(name: str, pk: int, path: str) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:  # the page's view is not installed: its documented path
        return path.format(pk)


@dataclass(slots=True)
class _Clock:
    """The columns of a due clock the sweep reads (plain values, not model instances), the
    levels it had fired when it was locked, and its owner."""

    pk: int
    kind: str
    status: str
    is_window: bool
    due_on: date
    due_at: datetime
    term_id: int | None
    fired: frozenset[int]
    owner: _Owner
    next_level: int | None = None
    next_fire_at: datetime | None = None


def _due_clocks(*, now: datetime, batch: int) -> list[_Clock]:
    """Lock the batch's clocks; return them with their owners."""
    with connection.cursor() as cursor:
        cursor.execute(_DUE_CLOCKS, [now, batch])
        return [_Clock(pk, kind, status, is_window, due_on, due_at, term_id, frozenset(fired),
                       _Owner(report_id, mediation_id, number, path, unit_kind,
                              tuple(mediators)))
                for (pk, kind, status, is_window, due_on, due_at, term_id, fired, report_id,
                     mediation_id, number, path, unit_kind, mediators) in cursor.fetchall()]


# The subquery picks and locks the batch on the clock table alone, by the partial index, in
# its order; SKIP LOCKED leaves another sweep's batch to it. Every clock whose instant came
# is taken, whatever its status: one closed or made a window since gets its next level
# cleared rather than staying in the index. A level another sweep committed after this
# statement began may be missing from the fired levels: this sweep then tries it again and
# disputeescalation_once refuses the row, so it is still once.
_DUE_CLOCKS = """
    SELECT d.id, d.kind, d.status, d.is_window, d.due_on, d.due_at, d.term_id,
           ARRAY(SELECT e.level FROM mediation_disputeescalation e WHERE e.clock_id = d.id),
           d.report_id, m.id, COALESCE(r.number, m.number), u.path, u.kind,
           ARRAY(SELECT mm.user_id
                   FROM mediation_mediationcase_mediators mm
                   JOIN accounts_user p ON p.id = mm.user_id AND p.is_active
                  WHERE mm.mediationcase_id = m.id
                  ORDER BY mm.user_id)
      FROM (SELECT id, kind, status, is_window, due_on, due_at, next_fire_at, report_id,
                   mediation_id, term_id
              FROM mediation_disputeclock
             WHERE next_fire_at <= %s
             ORDER BY next_fire_at, id
             LIMIT %s
               FOR UPDATE SKIP LOCKED) AS d
      LEFT JOIN mediation_gridreport r ON r.id = d.report_id
      LEFT JOIN mediation_term t ON t.id = d.term_id
      LEFT JOIN mediation_agreement a ON a.id = t.agreement_id
      LEFT JOIN mediation_mediationcase m ON m.id = COALESCE(d.mediation_id, a.case_id)
      LEFT JOIN mediation_committee c ON c.id = m.committee_id
      LEFT JOIN accounts_orgunit u ON u.id = COALESCE(r.township_id, c.unit_id)
     ORDER BY d.next_fire_at, d.id
"""


# --- 2-4. Firing one batch ---------------------------------------------------------------

class _Firing(NamedTuple):
    clock: _Clock
    step: LadderStep
    fire_at: datetime


def _fire_batch(clocks: list[_Clock], *, ladder: dict[str, list[LadderStep]], now: datetime,
                report: SweepReport) -> None:
    plans = _Plans(ladder, calendar=office_calendar(), now=now)
    firings: list[_Firing] = []
    for clock in clocks:
        due, clock.next_level, clock.next_fire_at = plans.plan(clock)
        firings += [_Firing(clock, step, at) for step, at in due]
    staff = _Staff.load() if firings else None
    recipients = {(f.clock.pk, f.step.level): staff.audience(f.clock.owner, f.step.audiences)
                  for f in firings}
    inserted = _insert_escalations(firings, recipients=recipients, now=now)
    fired = [f for f in firings if (f.clock.pk, f.step.level) in inserted]
    _insert_events(fired, recipients=recipients, now=now)
    _notify(fired, recipients=recipients, now=now)
    clocks_next_write(clocks, table=DisputeClock._meta.db_table)
    report.clocks += len(clocks)
    report.fired.update((f.clock.kind, f.step.level) for f in fired)


_Plan = tuple[tuple[tuple[LadderStep, datetime], ...], int | None, datetime | None]


class _Plans:
    """Which levels of a clock fire now, then its next level and when, by the cases'
    firing rule alone (``next_to_fire``, asked again after each level that came due);
    worked out once per kind, due time and levels fired, which a batch's clocks share."""

    def __init__(self, ladder: dict[str, list[LadderStep]], *, calendar: WorkCalendar,
                 now: datetime) -> None:
        self.ladder, self.calendar, self.now = ladder, calendar, now
        self._plans: dict[tuple, _Plan] = {}

    def plan(self, clock: _Clock) -> _Plan:
        if clock.is_window or clock.status != ClockStatus.OPEN:  # as escalation_schedule
            return (), None, None
        key = (clock.kind, clock.due_on, clock.due_at, clock.fired)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._work_out(clock)
        return plan

    def _work_out(self, clock: _Clock) -> _Plan:
        steps = self.ladder.get(clock.kind, [])
        by_level = {step.level: step for step in steps}
        done, due = set(clock.fired), []
        while True:
            level, instant = next_to_fire(steps, fired=done, due_on=clock.due_on,
                                          due_at=clock.due_at, calendar=self.calendar,
                                          tz=OFFICE_TZ)
            if level is None or instant > self.now:
                return tuple(due), level, instant
            due.append((by_level[level], instant))
            done.add(level)


def _insert_escalations(firings: list[_Firing], *, recipients: dict,
                        now: datetime) -> set[tuple[int, int]]:
    """Insert the rows in one statement; return the (clock, level) of those this sweep wrote."""
    if not firings:
        return set()
    rows = [{"clock_id": f.clock.pk, "level": f.step.level, "step_id": f.step.pk,
             "offset": f.step.offset, "audiences": list(f.step.audiences),
             "action": f.step.action,
             "recipients": sorted(recipients[(f.clock.pk, f.step.level)]),
             "fire_at": f.fire_at.isoformat()} for f in firings]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_ESCALATIONS, [now, json.dumps(rows)])
        return set(cursor.fetchall())


_INSERT_ESCALATIONS = """
    INSERT INTO mediation_disputeescalation (clock_id, level, step_id, "offset", audiences,
                                             action, recipients, fire_at, fired_at)
    SELECT v.clock_id, v.level, v.step_id, v."offset", v.audiences, v.action, v.recipients,
           v.fire_at, %s
      FROM jsonb_to_recordset(%s::jsonb)
           AS v(clock_id bigint, level smallint, step_id bigint, "offset" smallint,
                audiences jsonb, action varchar, recipients jsonb, fire_at timestamptz)
    ON CONFLICT ON CONSTRAINT disputeescalation_once DO NOTHING
    RETURNING clock_id, level
"""


def _insert_events(fired: list[_Firing], *, recipients: dict, now: datetime) -> None:
    """One ``MediationEvent`` per level fired, on the report or the mediation (one INSERT)."""
    MediationEvent.objects.bulk_create([
        MediationEvent(report_id=f.clock.owner.report_id,
                       mediation_id=f.clock.owner.mediation_id, kind=EventKind.CLOCK,
                       actor=None, at=now, details={
                           "clock": f.clock.pk, "kind": f.clock.kind, "action": "escalated",
                           "due_on": f.clock.due_on.isoformat(), "level": f.step.level,
                           "offset": f.step.offset, "audiences": list(f.step.audiences),
                           "recipients": sorted(recipients[(f.clock.pk, f.step.level)]),
                           **({"term": f.clock.term_id} if f.clock.term_id else {})})
        for f in fired])


# --- Who a level reaches ----------------------------------------------------------------

# How far above a unit of each kind its township (or street) is; a unit beside or above
# the townships (the county, a department) has none, and its county stands for it.
_UP_TO_TOWNSHIP = {UnitKind.TOWNSHIP: 0, UnitKind.STREET: 0, UnitKind.VILLAGE: 1,
                   UnitKind.COMMUNITY: 1, UnitKind.GRID: 2}


def _place(path: str, kind: str) -> str:
    """The path of the township a unit lies in (the tree's shape fixes how far up it is:
    ``accounts.choices.ALLOWED_CHILDREN``), or of its county for a county-level body."""
    up = _UP_TO_TOWNSHIP.get(kind)
    if up is None:
        return path[:OrgUnit.steplen]
    return path[:len(path) - up * OrgUnit.steplen]


@dataclass
class _Staff:
    """The active role holders of active units who may be told (one query per batch), and
    the people each owner's audiences reach, worked out once per unit and mediators."""

    by_role: dict[str, list[tuple[int, str, str]]]  # role -> (user, unit path, unit kind)
    _known: dict[tuple, frozenset[int]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls) -> _Staff:
        by_role: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        rows = (RoleAssignment.objects
                .filter(user__is_active=True, unit__is_active=True,
                        role__in=[Role.MEDIATOR, Role.LEADER, Role.UNIT_HEAD, Role.SUPERVISOR])
                .values_list("role", "user_id", "unit__path", "unit__kind"))
        for role, user_id, path, kind in rows:
            by_role[role].append((user_id, path, kind))
        return cls(by_role)

    def audience(self, owner: _Owner, audiences: list[str]) -> frozenset[int]:
        """The people ``audiences`` name on the owner (mediation/DECISIONS.md M40, M41)."""
        key = (owner.unit_path, owner.unit_kind, owner.mediators, *audiences)
        people = self._known.get(key)
        if people is None:
            people = self._known[key] = frozenset().union(
                *(self._resolve(owner, audience) for audience in audiences))
        return people

    def _resolve(self, owner: _Owner, audience: str) -> set[int]:
        if owner.unit_path is None:
            return set()
        place = _place(owner.unit_path, owner.unit_kind)
        if audience == Audience.UNIT:  # the case's mediators, else the unit's (the centre's)
            return set(owner.mediators) or self._held_at(owner.unit_path, Role.MEDIATOR)
        if audience == Audience.LEADER:  # the township's leaders
            return self._held_at(place, Role.LEADER)
        if audience == Audience.OFFICE:  # the township's unit heads
            return self._held_at(place, Role.UNIT_HEAD)
        if audience == Audience.SUPERVISOR:  # over the township
            return {user for user, path, _kind in self.by_role[Role.SUPERVISOR]
                    if path_contains(path, place)}
        if audience == Audience.PRINCIPAL:  # leaders at the county itself
            return {user for user, path, kind in self.by_role[Role.LEADER]
                    if kind == UnitKind.COUNTY and path_contains(path, place)}
        return set()

    def _held_at(self, path: str, role: str) -> set[int]:
        return {user for user, held, _kind in self.by_role[role] if held == path}


# --- Notifications ------------------------------------------------------------------------

def _notify(fired: list[_Firing], *, recipients: dict, now: datetime) -> None:
    """One notification per person and clock in this batch, naming the highest level; one
    mail per person, owner and office day (the outbox's dedupe key; DECISIONS.md M43)."""
    highest: dict[tuple[int, int], _Firing] = {}
    for firing in fired:
        for user in recipients[(firing.clock.pk, firing.step.level)]:
            key = (user, firing.clock.pk)
            if key not in highest or firing.step.level > highest[key].step.level:
                highest[key] = firing
    if not highest:
        return
    day = timezone.localtime(now, OFFICE_TZ).date().isoformat()
    with override("en"):  # English msgids: the reader's language renders them
        labels = {kind: str(label) for kind, label in ClockKind.choices}
    # The people told of one firing share its params (notify_bulk writes them once).
    params: dict[tuple[int, int], tuple[dict, str]] = {}
    drafts = []
    for (user, clock_pk), firing in highest.items():
        clock, step = firing.clock, firing.step
        shared = params.get((clock_pk, step.level))
        if shared is None:
            shared = params[(clock_pk, step.level)] = ({
                "case_number": clock.owner.number, "clock_label": labels[clock.kind],
                "due_on": clock.due_on.isoformat(), "level": step.level}, clock.owner.url)
        drafts.append(NotificationDraft(
            user_id=user, case_id=None, kind=NotificationKind.ESCALATION,
            message=message_key(step.offset), params=shared[0], url=shared[1], mail=True,
            dedupe_key=f"escalation:{user}:{clock.owner.key}:{day}"))
    notify_bulk(drafts, at=now)


def message_key(offset: int) -> str:
    """A level's message: a warning before the due day; from the due time (24:00 of the
    due day) on, the time has run out (as the cases' sweep; mediation/DECISIONS.md M42)."""
    return "clock.warning" if offset < 0 else "clock.overdue"


# --- The panel of an owner's clocks (templates/mediation/_clocks.html) --------------------

@dataclass(frozen=True)
class EscalationRow:
    level: int
    offset: int
    fired_at: datetime
    told: list[str]  # the names of the people it reached


@dataclass(frozen=True)
class ClockRow:
    clock: DisputeClock
    name: str  # the clock's kind, and the term's position for a term's clock
    tone: str  # a Bootstrap colour, as the case page's clocks (UI.md's status colours)
    word: str
    remaining: str  # "3 working days left", "2 days overdue", or ""
    escalations: list[EscalationRow]


@dataclass(frozen=True)
class ClockPanel:
    rows: list[ClockRow]
    day_format: str
    moment_format: str


_OWNER_FIELD = {GridReport: "report", MediationCase: "mediation", Term: "term"}


def dispute_clocks_panel(owner: GridReport | MediationCase | Term, *,
                         now: datetime | None = None) -> ClockPanel:
    """Every clock of ``owner`` (a mediation case's with its terms'), live ones first, each
    with its due standing and the levels it fired (three queries, and the calendar's)."""
    today = Today.at(now or timezone.now())
    match = Q(**{_OWNER_FIELD[type(owner)]: owner})
    if isinstance(owner, MediationCase):
        match |= Q(term__agreement__case=owner)
    clocks = list(DisputeClock.objects.filter(match).select_related("term")
                  .prefetch_related(Prefetch("escalations",
                                             queryset=DisputeEscalation.objects.order_by("level")))
                  .order_by(F("closed_at").asc(nulls_first=True), "due_at", "pk"))
    told = {escalation_user for clock in clocks for row in clock.escalations.all()
            for escalation_user in row.recipients}
    names = {pk: name or username for pk, name, username in
             User.objects.filter(pk__in=told).values_list("pk", "name", "username")}
    day_format, moment_format = display_formats()
    return ClockPanel(rows=[_clock_row(clock, today=today, names=names) for clock in clocks],
                      day_format=day_format, moment_format=moment_format)


def _clock_row(clock: DisputeClock, *, today: Today, names: dict[int, str]) -> ClockRow:
    tone, word, remaining = clock_state(clock, now=today.now, today=today.day,
                                        calendar=today.calendar, cutoff=today.cutoff)
    name = choice_label(ClockKind, clock.kind)
    if clock.term is not None:
        name = _("%(clock)s, term %(position)s") % {"clock": name,
                                                    "position": clock.term.position}
    return ClockRow(clock=clock, name=name, tone=tone, word=word, remaining=remaining,
                    escalations=[EscalationRow(level=row.level, offset=row.offset,
                                               fired_at=row.fired_at,
                                               told=[names[pk] for pk in row.recipients
                                                     if pk in names])
                                 for row in clock.escalations.all()])
