"""The two working lists of issue 7: the handling unit's inbox and the leader's "my cases".

Both start from ``Case.objects.visible_to(user)`` (the permission module's scope)
and narrow it in SQL: the inbox to cases led by a unit where the user is a handler
or the unit head, "my cases" to cases the user leads. Each costs a fixed number of
queries whatever the number of rows: the rows (leader and lead unit joined, the
overdue flag and the next due instant annotated), their live clocks in one more;
the inbox's open commitments and instructions and, for a unit head, the extension
requests to decide in one each; for "my cases" the current leaderships, the pending
extensions and the instructions in one each (what the leader may do on each row is
annotated on the rows from the permission module's scope). Clocks, commitments and
instructions are coloured by ``lists.deadline_standing``, so a row reads the same here
as on the case list and the case page.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.models import OrgUnit, User
from accounts.permissions import Action, can, held_roles, scope

from ..choices import AFTER_CONCLUSION_CLOCKS, CaseStatus, ClockKind, ExtensionStatus
from ..models import (
    Case,
    Commitment,
    Deadline,
    Extension,
    Instruction,
    Leadership,
)
from .case_page import DutyRow, Today, Undertaking, leadership_duties, undertaking
from .lists import NextDeadline, deadline_standing
from .supervision import orders_to_answer

# Enough for any unit's open work; beyond it the page says so and points to the case list.
ROW_LIMIT = 300


@dataclass(frozen=True)
class InboxGroup:
    """One heading of the inbox: the states it gathers and the clock its rows show."""

    key: str
    title: Promise
    hint: Promise
    empty: Promise
    states: tuple[str, ...]
    clock: str | None  # the clock that matters in these states; None: the earliest running


INBOX_GROUPS: tuple[InboxGroup, ...] = (
    InboxGroup("sign", _("To sign for or return"),
               _("Sign for each case, or ask to return it with reasons before the objection window ends."),
               _("Nothing is waiting for your signature. Cases routed to your unit appear here."),
               (CaseStatus.ROUTED,), ClockKind.OBJECTION),
    InboxGroup("return", _("Return requested"),
               _("The petition office decides on these returns; nothing to do until it answers."),
               _("No return is waiting for the petition office."),
               (CaseStatus.RETURN_REQUESTED,), None),
    InboxGroup("accept", _("To accept"),
               _("Accept each signed case and issue the acceptance notice before the clock runs out."),
               _("No signed case is waiting for acceptance."),
               (CaseStatus.SIGNED,), ClockKind.ACCEPTANCE_NOTICE),
    InboxGroup("handle", _("To handle and reply"),
               _("Investigate, record progress and write the reply before it is due; ask for an extension in time."),
               _("No case is in handling. Accepted cases appear here until they are replied to."),
               (CaseStatus.ACCEPTED, CaseStatus.IN_HANDLING), ClockKind.REPLY),
    InboxGroup("replied", _("Replied: delivery and request windows"),
               _("Record the delivery of each reply; the case can be closed once the request window has passed."),
               _("No replied case is waiting for delivery or for its request window."),
               (CaseStatus.REPLIED, CaseStatus.REVIEWED), None),
)


@dataclass
class InboxSection:
    group: InboxGroup
    cases: list[Case]  # each with ``next_deadline`` (a NextDeadline or None) and ``is_overdue``

    @property
    def overdue_count(self) -> int:
        return sum(1 for case in self.cases if case.is_overdue)


@dataclass
class UnitInbox:
    units: list[OrgUnit]  # where the user handles; the inbox also holds the units below them
    sections: list[InboxSection]
    truncated: bool
    # Open commitments and unanswered instructions on the unit's cases, earliest due first
    # (so overdue first); each ``row`` has its ``case`` joined.
    owed: list[Undertaking] = field(default_factory=list)
    extensions: list[Extension] = field(default_factory=list)  # pending, the user may decide
    # Supervision orders addressed to the user's units awaiting their answer (the rows are
    # on the supervision page).
    supervision_to_answer: int = 0

    @property
    def owed_overdue_count(self) -> int:
        return sum(1 for item in self.owed if item.due.tone == "overdue")

    @property
    def unit_names(self) -> str:
        return "、".join(unit.name for unit in self.units)

    @property
    def total(self) -> int:
        return sum(len(section.cases) for section in self.sections)


def unit_inbox(*, user: User, now: datetime | None = None) -> UnitInbox:
    """Group the open cases led by the user's units by what they need next, overdue first."""
    now = now or timezone.now()
    roots = _handling_roots(user)
    units = list(OrgUnit.objects.filter(
        reduce(operator.or_, (Q(path__startswith=root) for root in roots), Q(pk__in=[]))))
    queryset = (Case.objects.visible_to(user)
                .filter(lead_unit__in=units,
                        status__in=[s for group in INBOX_GROUPS for s in group.states])
                .select_related("leader", "lead_unit"))
    cases, truncated = _rows(queryset, now=now)
    preferred = {state: group.clock for group in INBOX_GROUPS for state in group.states}
    today = Today.at(now)
    _attach_clocks(cases, today=today, preferred=preferred)
    sections = [InboxSection(group, [case for case in cases if case.status in group.states])
                for group in INBOX_GROUPS]
    led = Case.objects.filter(lead_unit__in=units)
    return UnitInbox(units=[unit for unit in units if unit.path in roots], sections=sections,
                     truncated=truncated, owed=_owed(user, led, today=today),
                     extensions=_extensions_to_decide(user, led),
                     supervision_to_answer=_supervision_to_answer(user))


def _supervision_to_answer(user: User) -> int:
    """How many open supervision orders the user's units must answer (one query)."""
    return orders_to_answer(user=user).count()


def _owed(user: User, led: QuerySet, *, today: Today) -> list[Undertaking]:
    """Open commitments and unanswered instructions on the unit's cases that ``user`` may
    keep or answer (the permission module's scope, less recusals), earliest due first."""
    found: list[Undertaking] = []
    for model, action in ((Commitment, Action.CASE_COMMIT),
                          (Instruction, Action.CASE_ANSWER_INSTRUCTION)):
        cases = scope(user, action, led).exclude(recusals__user=user)
        rows = (model.objects.filter(done_at__isnull=True, case__in=cases)
                .select_related("case").order_by("due_at", "pk")[:ROW_LIMIT])
        found += [undertaking(row, today=today) for row in rows]
    return sorted(found, key=lambda item: (item.row.due_at, item.row.case.number))


def _extensions_to_decide(user: User, cases: QuerySet) -> list[Extension]:
    """Pending extension requests on ``cases`` that ``user`` may decide, in one query (or
    none): the set form of ``can(user, CASE_APPROVE_EXTENSION, case)``, less recusals and
    the user's own requests (another head decides those, R22 Art.34)."""
    if not can(user, Action.CASE_APPROVE_EXTENSION):
        return []
    decidable = scope(user, Action.CASE_APPROVE_EXTENSION, cases).exclude(recusals__user=user)
    return list(Extension.objects.filter(status=ExtensionStatus.PENDING, case__in=decidable)
                .exclude(requested_by=user).select_related("case", "requested_by")
                .order_by("requested_at", "pk")[:ROW_LIMIT])


def _handling_roots(user: User) -> set[str]:
    """The paths of the units where ``user`` is a handler or the unit head (each with those below)."""
    held = held_roles(user)
    return {path for role in (Role.HANDLER, Role.UNIT_HEAD) for path in held.get(role, ())}


# --- The leader's cases --------------------------------------------------------------------

@dataclass
class LedCase:
    case: Case  # with ``next_deadline``, ``is_overdue``, ``may_instruct`` and ``may_decide``
    leadership: Leadership | None
    duties: list[DutyRow] = field(default_factory=list)
    # Pending extension requests; each with ``may_decide`` (the user may decide it here).
    extensions: list[Extension] = field(default_factory=list)
    instructions: list[Undertaking] = field(default_factory=list)  # unanswered first
    # The lead unit's open commitments to the petitioner, earliest due first: keeping the
    # matter settled (包稳定) is the leader's duty too.
    commitments: list[Undertaking] = field(default_factory=list)

    @property
    def unanswered_count(self) -> int:
        return sum(1 for item in self.instructions if item.row.is_open)

    @property
    def duties_done(self) -> int:
        return sum(1 for duty in self.duties if duty.done_at)


@dataclass
class LeaderCases:
    rows: list[LedCase]
    truncated: bool

    @property
    def overdue_count(self) -> int:
        return sum(1 for row in self.rows if row.case.is_overdue)


def leader_cases(*, user: User, now: datetime | None = None) -> LeaderCases:
    """List the open cases ``user`` leads (包案), overdue first, with the 四定四包 items."""
    now = now or timezone.now()
    queryset = (Case.objects.visible_to(user).filter(leader=user)
                .exclude(status__in=Case.CLOSED_STATES).select_related("lead_unit")
                .annotate(may_instruct=_may(user, Action.CASE_INSTRUCT),
                          may_decide=_may(user, Action.CASE_APPROVE_EXTENSION)))
    cases, truncated = _rows(queryset, now=now)
    today = Today.at(now)
    _attach_clocks(cases, today=today, preferred={})
    ids = [case.pk for case in cases]
    leaderships = {lead.case_id: lead for lead in Leadership.objects.filter(
        case_id__in=ids, is_current=True).select_related("responsible")}
    extensions = _by_case(Extension.objects.filter(status=ExtensionStatus.PENDING, case_id__in=ids)
                          .select_related("requested_by").order_by("requested_at", "pk"))
    instructions = _by_case(Instruction.objects.filter(case_id__in=ids)
                            .select_related("done_by")
                            .order_by(F("done_at").desc(nulls_first=True), "due_at", "pk"))
    commitments = _by_case(Commitment.objects.filter(case_id__in=ids, done_at__isnull=True)
                           .order_by("due_at", "pk"))
    rows = []
    for case in cases:
        lead = leaderships.get(case.pk)
        pending = extensions.get(case.pk, [])
        for extension in pending:  # another head decides one's own request (R22 Art.34)
            extension.may_decide = case.may_decide and extension.requested_by_id != user.pk
        row = LedCase(case=case, leadership=lead, duties=leadership_duties(lead),
                      extensions=pending,
                      instructions=[undertaking(item, today=today)
                                    for item in instructions.get(case.pk, [])],
                      commitments=[undertaking(item, today=today)
                                   for item in commitments.get(case.pk, [])])
        if case.next_deadline is None:  # nothing statutory runs: what the case still owes
            case.next_deadline = _earliest_owed(row)
        rows.append(row)
    return LeaderCases(rows=rows, truncated=truncated)


def _earliest_owed(row: LedCase):
    """The earliest open commitment or instruction of a led case, as its due badge shows it
    (a replied case awaiting delivery runs no statutory clock but may still owe these)."""
    owed = [item for item in (*row.commitments, *row.instructions) if item.due is not None]
    return min(owed, key=lambda item: item.row.due_at).due if owed else None


def _may(user: User, action: Action):
    """Whether ``user`` may take ``action`` on the row, as an annotation: the set form of
    ``can(user, action, case)`` (the permission module's scope, less recusals, R22 Art.28)."""
    if not can(user, action):
        return Value(False)
    allowed = scope(user, action, Case.objects.filter(pk=OuterRef("pk")))
    return Exists(allowed.exclude(recusals__user=user))


def _by_case(rows) -> dict[int, list]:
    found: dict[int, list] = {}
    for row in rows:
        found.setdefault(row.case_id, []).append(row)
    return found


# --- Shared: the rows, overdue first, and their clocks -------------------------------------

def _rows(queryset: QuerySet, *, now: datetime) -> tuple[list[Case], bool]:
    """Up to ROW_LIMIT rows: overdue first, then by the next duty clock, then oldest first.

    Overdue means what the list's deadline filter means: a live duty clock (not a
    window) whose due instant has passed. The clocks after a conclusion (a follow-up, the
    leader's decision on it) are not the handling's: the follow-up pages list them.
    """
    duties = (Deadline.objects.live().filter(case=OuterRef("pk"), is_window=False)
              .exclude(kind__in=AFTER_CONCLUSION_CLOCKS))
    next_due = duties.order_by("due_at").values("due_at")[:1]
    rows = list(
        queryset.annotate(is_overdue=Exists(duties.filter(due_at__lte=now)),
                          next_due_at=Subquery(next_due))
        .order_by("-is_overdue", F("next_due_at").asc(nulls_last=True), "received_at", "pk")
        [: ROW_LIMIT + 1]
    )
    return rows[:ROW_LIMIT], len(rows) > ROW_LIMIT


def _attach_clocks(cases: list[Case], *, today: Today, preferred: dict[str, str | None]) -> None:
    """Set ``next_deadline`` on each row, in one query for all their live clocks.

    A row shows the clock its state is about (``preferred``, e.g. the objection
    window of a routed case), else its earliest duty clock, else its earliest window.
    A window that ran out is a lapsed right, not an overdue duty (cases/DECISIONS.md C4).
    """
    if not cases:
        return
    clocks: dict[int, list[Deadline]] = {}
    for clock in (Deadline.objects.live().filter(case_id__in=[case.pk for case in cases])
                  .exclude(kind__in=AFTER_CONCLUSION_CLOCKS)
                  .order_by("is_window", "due_at", "pk")
                  .only("case_id", "kind", "status", "is_window", "due_on", "due_at")):
        clocks.setdefault(clock.case_id, []).append(clock)
    for case in cases:
        live = clocks.get(case.pk, [])
        wanted = preferred.get(case.status)
        chosen = next((c for c in live if c.kind == wanted), live[0] if live else None)
        case.next_deadline = None if chosen is None else _shown(chosen, today)


def _shown(clock: Deadline, today: Today) -> NextDeadline:
    standing = deadline_standing(clock, today.now, today.day, today.cutoff, today.calendar)
    if clock.is_window and standing.tone == "overdue":
        return NextDeadline(kind=clock.kind, due_on=clock.due_on, tone="lapsed", days=0)
    return standing
