"""The case page's reads: one case the user may see, with what the page shows of it.

``case_page`` gathers every section in a fixed number of queries: the timeline is
one query for the events plus one for the people and one for the units they name,
however long it is. Masking and hidden files come from ``cases/services/privacy.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.permissions import Action, can

from ..choices import (
    STEP_LABELS,
    CauseTag,
    ClockKind,
    ClockStatus,
    SupervisionStatus,
)
from ..deadlines.calendar import Unit, WorkCalendar, days_text
from ..deadlines.clocks import OFFICE_TZ, clock_resumes, deadline_explain, office_calendar
from ..filters import due_soon_cutoff
from ..models import (
    Attachment,
    Case,
    Commitment,
    Deadline,
    Decision,
    Instruction,
    Leadership,
    SupervisionAnswer,
    SupervisionOrder,
)
from ..models.clocks import LIVE_STATUSES
from ..models.undertakings import OwnClock
from ..services.privacy import PetitionerView, attachments_for, petitioner_view_for
from .lists import NextDeadline, deadline_standing
from .timeline import AccessLog, TimelineEntry, access_log, order_demand, timeline
from .windows import case_available_transitions, undelivered_decision
from .wording import choice_label, duty_label


def case_get(*, user: User, number: str) -> Case:
    """Return the case numbered ``number`` if ``user`` may see it.

    Case.DoesNotExist when no case has that number; PermissionDenied, saying nothing
    about the case, when one does and the user may not see it (issue 7: 403).
    """
    try:
        case = (
            Case.objects.visible_to(user)
            .select_related("registered_unit", "lead_unit", "place_unit", "complained_unit",
                            "category", "repeat_of")
            .prefetch_related("co_units")
            .get(number=number)
        )
    except Case.DoesNotExist:
        if Case.objects.filter(number=number).exists():
            raise PermissionDenied(_("You may not see this case.")) from None
        raise
    _people_attach(case)
    return case


# The case's users, loaded in one query rather than joined: beyond six joins PostgreSQL's
# planner spends longer choosing a join order than the query runs (make bench).
_PEOPLE = ("leader", "registered_by", "receiving_officer")


def _people_attach(case: Case) -> None:
    relations = [Case._meta.get_field(name) for name in _PEOPLE]
    people = User.objects.in_bulk({getattr(case, r.attname) for r in relations} - {None})
    for relation in relations:
        relation.set_cached_value(case, people.get(getattr(case, relation.attname)))


# --- What the page shows ----------------------------------------------------------------

@dataclass(frozen=True)
class MatterRow:
    """One field of the case: its label (the model's verbose_name) and how to show it."""

    label: str
    value: Any
    kind: str = "text"  # "text", "long" (keeps line breaks), "when" (a date-time), "case"


@dataclass(frozen=True)
class ClockRow:
    deadline: Deadline
    name: str
    tone: str  # danger / warning / success / secondary / light (UI.md's status colours)
    word: str
    remaining: str
    live: bool
    explain: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DecisionRow:
    decision: Decision
    body: str
    current: bool
    undelivered: bool


@dataclass(frozen=True)
class DutyRow:
    label: str
    done_at: datetime | None


@dataclass(frozen=True)
class OwnDue(NextDeadline):
    """An open commitment's or instruction's due day, as the due badge shows it."""

    label: str = ""

    @property
    def kind_label(self) -> str:
        return self.label


@dataclass(frozen=True)
class Undertaking:
    """A commitment or a leader's instruction, as the pages show it."""

    row: Commitment | Instruction
    due: OwnDue | None  # while open: the day, its colour and the days left or over
    on_time: bool | None  # once kept or answered: whether by the end of its day


@dataclass(frozen=True)
class AnswerRow:
    """One answer to a supervision order, with the supervisor's verdict once given."""

    answer: SupervisionAnswer
    on_time: bool  # given by the end of the day it was due on
    verdict: str  # the verdict as the page says it; "" while the supervisor has not decided


@dataclass(frozen=True)
class SupervisionRow:
    """A supervision order (督办) as the case page shows it."""

    order: SupervisionOrder
    demand: str  # the supervisor's words, or why the escalation ladder opened it
    status: str
    due: OwnDue | None  # while the unit owes the answer: the day, its colour, days left
    answers: list[AnswerRow]


@dataclass(frozen=True)
class CasePage:
    case: Case
    matter: list[MatterRow]
    petitioners: list[PetitionerView]
    masked: bool
    may_reveal: bool
    attachments: list[Attachment]
    clocks: list[ClockRow]
    next_clock: ClockRow | None
    decisions: list[DecisionRow]
    leadership: Leadership | None
    duties: list[DutyRow]
    steps: list[tuple[str, str]]
    timeline: list[TimelineEntry]  # what happened to the case
    access_log: AccessLog  # who lately looked at personal data or opened a file
    commitments: list[Undertaking] = field(default_factory=list)
    instructions: list[Undertaking] = field(default_factory=list)
    supervision: list[SupervisionRow] = field(default_factory=list)


def case_page(*, user: User, case: Case, petitioners: list[PetitionerView] | None = None,
              now: datetime | None = None) -> CasePage:
    """Gather every section of ``case``'s page as ``user`` may see it (R22 Art.30 masking).

    ``petitioners`` replaces the usual (possibly masked) list, e.g. with the people
    a reveal just returned; otherwise ``petitioner_view_for`` writes its audit row.
    """
    now = now or timezone.now()
    people = petitioners if petitioners is not None else petitioner_view_for(user=user, case=case)
    masked = any(person.masked for person in people)
    files = list(attachments_for(user=user, case=case))
    today = Today.at(now)
    clocks = _clocks(case=case, today=today)
    live = [clock for clock in clocks if clock.live and clock.tone != "secondary"]
    leadership = (Leadership.objects.filter(case=case, is_current=True)
                  .select_related("leader", "responsible").first())
    shown = {f.pk for f in files}
    return CasePage(
        case=case, matter=_matter(case, masked=masked), petitioners=people, masked=masked,
        may_reveal=can(user, Action.CASE_REVEAL_IDENTITY, case), attachments=files,
        clocks=clocks, next_clock=min(live, key=lambda c: c.deadline.due_at, default=None),
        decisions=_decisions(case), leadership=leadership, duties=leadership_duties(leadership),
        steps=[(name, str(STEP_LABELS.get(name, name)))
               for name in case_available_transitions(user=user, case=case, at=now)],
        timeline=timeline(case, shown_files=shown, masked=masked),
        access_log=access_log(case, shown_files=shown, masked=masked),
        commitments=[undertaking(row, today=today) for row in Commitment.objects.filter(
            case=case).select_related("made_by", "done_by").order_by("made_at", "pk")],
        instructions=[undertaking(row, today=today) for row in Instruction.objects.filter(
            case=case).select_related("given_by", "done_by").order_by("given_at", "pk")],
        supervision=supervision_rows(case=case, today=today),
    )


# --- The matter: every field of the case -------------------------------------------------

# Shown in sections of their own, or not at all (the intake form's one-time token).
_OWN_SECTIONS = {"id", "petitioners", "intake_token"}


def _matter(case: Case, *, masked: bool) -> list[MatterRow]:
    """Every field of the case in model order, the co-handling units after the lead unit."""
    rows = []
    for model_field in Case._meta.fields:
        if model_field.name in _OWN_SECTIONS:
            continue
        if model_field.name == "query_code" and masked:
            continue  # the petitioner's key to the public lookup: not for the accused
        rows.append(_matter_row(case, model_field))
        if model_field.name == "lead_unit":
            units = "、".join(unit.name for unit in case.co_units.all())
            rows.append(MatterRow(str(Case._meta.get_field("co_units").verbose_name), units))
    return rows


def _matter_row(case: Case, model_field: models.Field) -> MatterRow:
    label, name = str(model_field.verbose_name), model_field.name
    value = getattr(case, name)
    if isinstance(model_field, ArrayField):
        return MatterRow(label, "、".join(choice_label(CauseTag, tag) for tag in value))
    if model_field.choices:
        return MatterRow(label, getattr(case, f"get_{name}_display")())
    if name == "repeat_of":
        return MatterRow(label, value, "case")
    if isinstance(model_field, models.BooleanField):
        return MatterRow(label, _("Yes") if value else _("No"))
    if isinstance(model_field, models.DateTimeField):
        return MatterRow(label, value, "when")
    if isinstance(model_field, models.TextField):
        return MatterRow(label, value, "long")
    return MatterRow(label, "" if value is None else str(value))


# --- Clocks -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Today:
    """The instants every due day on a page is measured against, read once per page."""

    now: datetime
    day: date
    cutoff: datetime  # the end of "due soon" (cases/filters.py), so all pages colour alike
    calendar: WorkCalendar

    @classmethod
    def at(cls, now: datetime, calendar: WorkCalendar | None = None) -> Today:
        calendar = calendar or office_calendar()
        return cls(now=now, day=timezone.localtime(now, OFFICE_TZ).date(),
                   cutoff=due_soon_cutoff(now=now, calendar=calendar), calendar=calendar)


def _clocks(*, case: Case, today: Today) -> list[ClockRow]:
    """Every clock of the case, live ones first; live ones say how their due day was reached."""
    deadlines = list(Deadline.objects.filter(case=case).order_by("closed_at", "due_at", "pk"))
    # One query for every live clock's pauses, one calendar: the cost does not grow with
    # the number of clocks.
    any_live = any(deadline.status in LIVE_STATUSES for deadline in deadlines)
    resumes = clock_resumes(case_id=case.pk) if any_live else {}
    rows = []
    for deadline in deadlines:
        live = deadline.status in LIVE_STATUSES
        tone, word, remaining = clock_state(deadline, now=today.now, today=today.day,
                                             calendar=today.calendar, cutoff=today.cutoff)
        explain = (deadline_explain(deadline, calendar=today.calendar,
                                    resumed=resumes.get(deadline.pk, [])) if live else [])
        rows.append(ClockRow(deadline=deadline, name=choice_label(ClockKind, deadline.kind),
                             tone=tone, word=word, remaining=remaining, live=live,
                             explain=explain))
    return rows


def clock_state(deadline: Deadline, *, now: datetime, today: date, calendar,
                cutoff: datetime) -> tuple[str, str, str]:
    """Colour, word and days left or over of one clock (UI.md's status colours)."""
    if deadline.status == ClockStatus.MET:
        if deadline.closed_at and deadline.closed_at <= deadline.due_at:
            return "success", _("Met on time"), ""
        return "danger", _("Met late"), ""
    if deadline.status in (ClockStatus.CANCELLED, ClockStatus.LAPSED):
        return "secondary", choice_label(ClockStatus, deadline.status), ""
    if deadline.status == ClockStatus.PAUSED:
        return "light", _("Paused"), ""
    if now >= deadline.due_at:
        if deadline.is_window:  # a right that ran out is not overdue (cases/DECISIONS.md C4)
            return "secondary", _("Window ran out"), ""
        late = (today - deadline.due_on).days
        return "danger", _("Overdue"), ngettext("%(count)d day overdue", "%(count)d days overdue",
                                                late) % {"count": late}
    left = calendar.working_days_between(today, deadline.due_on)
    remaining = _("%(days)s left") % {"days": days_text(left, Unit.WORKING)}
    if deadline.due_at <= cutoff:
        return "warning", _("Due soon"), remaining
    return "light", _("Running"), remaining


# --- Commitments and instructions ----------------------------------------------------------

@dataclass(frozen=True)
class _AsClock:
    """An own clock read as a running statutory clock, so one rule colours both."""

    kind: str
    due_on: date
    due_at: datetime
    status: str = ClockStatus.OPEN


def own_clock_due(row: OwnClock, *, today: Today) -> OwnDue:
    """Colour and count an open commitment or instruction exactly as a duty clock
    (``lists.deadline_standing``: overdue red, due within 3 working days amber)."""
    label = capfirst(type(row)._meta.verbose_name)
    standing = deadline_standing(_AsClock(kind=type(row)._meta.model_name, due_on=row.due_on,
                                          due_at=row.due_at),
                                 today.now, today.day, today.cutoff, today.calendar)
    return OwnDue(**asdict(standing), label=label)


def undertaking(row: Commitment | Instruction, *, today: Today) -> Undertaking:
    """A commitment or instruction with its due standing while open, its timeliness once done."""
    if row.is_open:
        return Undertaking(row=row, due=own_clock_due(row, today=today), on_time=None)
    return Undertaking(row=row, due=None, on_time=row.done_at <= row.due_at)


# --- Supervision orders (督办) -----------------------------------------------------------

def supervision_rows(*, case: Case, today: Today) -> list[SupervisionRow]:
    """Every supervision order of the case, newest first, with its answers oldest first: two
    queries however many orders and answers."""
    answers = SupervisionAnswer.objects.select_related("answered_by", "verdict_by")
    orders = (SupervisionOrder.objects.filter(case=case)
              .select_related("unit", "issued_by", "deadline", "escalation__deadline")
              .prefetch_related(Prefetch("answers", queryset=answers))
              .order_by("-issued_at", "-pk"))
    return [SupervisionRow(order=order, demand=order_demand(order),
                           status=order.get_status_display(),
                           due=order_due(order, today=today),
                           answers=[AnswerRow(answer=answer, on_time=_in_time(answer),
                                              verdict=answer.get_verdict_display())
                                    for answer in order.answers.all()])
            for order in orders]


def order_due(order: SupervisionOrder, *, today: Today) -> OwnDue | None:
    """The answer's due standing while the unit owes it, coloured as any duty clock."""
    clock = order.deadline
    if order.status != SupervisionStatus.OPEN or clock is None or clock.status not in LIVE_STATUSES:
        return None
    standing = deadline_standing(clock, today.now, today.day, today.cutoff, today.calendar)
    return OwnDue(**asdict(standing), label=_("Answer due"))


def _in_time(answer: SupervisionAnswer) -> bool:
    """Given by 24:00 of the day it was due on, in the office's time zone (as clocks count)."""
    end = datetime.combine(answer.due_on + timedelta(days=1), time(), tzinfo=OFFICE_TZ)
    return answer.answered_at <= end


# --- Decisions and the leader -------------------------------------------------------------

def _decisions(case: Case) -> list[DecisionRow]:
    """Every written decision, newest first, with its deciding body and delivery state (C5)."""
    waiting = undelivered_decision(case=case)
    decisions = (Decision.objects.filter(case=case).select_related("unit", "issued_by")
                 .order_by("-issued_at", "-pk"))
    return [DecisionRow(decision=d, body=d.deciding_body, current=d.superseded_at is None,
                        undelivered=waiting is not None and waiting.pk == d.pk)
            for d in decisions]


def leadership_duties(leadership: Leadership | None) -> list[DutyRow]:
    """The four 包 duties of a leadership, each with when it was marked done."""
    if leadership is None:
        return []
    return [DutyRow(label=duty_label(duty), done_at=getattr(leadership, attname))
            for duty, attname in Leadership.DUTIES.items()]
