"""Supervision orders (督办, R22 Art.40): issue, answer, accept or send back, list on the
county's board (挂牌督办, Art.39); and the orders the escalation ladder opens.

An order's answer is due on a clock of kind ``supervision`` (``cases/deadlines/clocks.py``),
so the sweep warns and escalates it like any statutory clock. The clock starts when the
order is issued and each time an answer is sent back, and is met when the unit answers;
the order closes only when the supervisor accepts an answer. The readings (who answers,
the default period, one open order per case) are in cases/DECISIONS.md, "Supervision".

Each service is atomic, locks the row it changes (the case when an order is added to it),
asks the permission module, writes its audit row and tells the other side in the
notification centre (mail after commit, from the outbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from psycopg2.extras import execute_values

from accounts.choices import Role
from accounts.models import OrgUnit, User
from accounts.permissions import Action, can
from accounts.selectors import unit_staff

from .. import events
from ..choices import ClockKind, SupervisionStatus
from ..deadlines.clocks import OFFICE_TZ, clock_meet, clock_start, office_calendar, set_due
from ..deadlines.rules import STATUTORY_RULES
from ..deadlines.schedule import clocks_schedule
from ..models import Audience, Case, Deadline, DeadlineRule, SupervisionAnswer, SupervisionOrder
from .errors import required
from .undertakings import HORIZON_DAYS, office_today

# Who in the answering unit is told of an order, and answers it (``SUPERVISION_ANSWER``).
ANSWERING_ROLES = (Role.HANDLER, Role.UNIT_HEAD, Role.CLERK)


def supervision_rule():
    """The supervision answer's rule (length, unit): the office's row, or the one first
    installed if an administrator deleted it, so neither the form nor the sweep fails."""
    return (DeadlineRule.objects.filter(kind=ClockKind.SUPERVISION).first()
            or next(rule for rule in STATUTORY_RULES if rule.kind == ClockKind.SUPERVISION))


def supervision_due_proposed(*, at: datetime | None = None) -> date:
    """The answer day the form proposes: the supervision rule's period from today."""
    rule = supervision_rule()
    return office_calendar().due_date(office_today(at), rule.length, rule.unit).due


def answering_unit(case: Case) -> OrgUnit:
    """Who answers an order on ``case``: its lead unit, or the office that has not routed it."""
    return case.lead_unit or case.registered_unit


# --- Issuing ------------------------------------------------------------------------------

@transaction.atomic
def supervision_issue(*, case: Case, actor: User, demand: str, due_on: date | None,
                      listed: bool = False, at: datetime | None = None) -> SupervisionOrder:
    """Issue a supervision order on ``case``: the demand, the day to answer by, and whether
    it is listed on the county's board. One order is open on a case at a time."""
    at = at or timezone.now()
    if not can(actor, Action.CASE_SUPERVISE, case):
        raise PermissionDenied(_("Only a supervisor over case %(number)s may issue a "
                                 "supervision order on it.") % {"number": case.number})
    case = (Case.objects.select_for_update(of=("self",))
            .select_related("lead_unit", "registered_unit").get(pk=case.pk))
    _check_none_open(case)
    demand = required(demand, _("Write what the supervision order demands."))
    days = _days_to(due_on, at)
    order = SupervisionOrder(case=case, unit=answering_unit(case), demand=demand,
                             issued_by=actor, issued_at=at, listed=listed,
                             listed_at=at if listed else None)
    try:
        with transaction.atomic():
            order.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent order won ``one_open_supervision``
        if "one_open_supervision" not in str(exc):
            raise
        _check_none_open(case)
        raise
    order.deadline = clock_start(case=case, kind=ClockKind.SUPERVISION, start=at, actor=actor,
                                 at=at, days=days)
    order.save(update_fields=["deadline"])
    events.record(events.supervision_issued(case=case, actor=actor, at=at, row=order,
                                            due_on=order.deadline.due_on))
    _tell_unit(order, case=case, message="supervision.ordered", at=at)
    return order


def _check_none_open(case: Case) -> None:
    open_order = (SupervisionOrder.objects.filter(case=case)
                  .exclude(status=SupervisionStatus.CLOSED).first())
    if open_order is not None:
        raise ValidationError(
            _("Case %(number)s already has an open supervision order, issued on %(day)s. "
              "Add your demand when you decide its answer (send it back), or wait until it "
              "is closed."), code="open_order",
            params={"number": case.number, "day": office_today(open_order.issued_at).isoformat()})


def _days_to(due_on: date | None, at: datetime) -> int:
    """The answer period in calendar days from today; the day must lie ahead, within a year."""
    if due_on is None:
        raise ValidationError(_("Give the day by which the unit answers."), code="due_on")
    today = office_today(at)
    if due_on <= today:
        raise ValidationError(_("The day to answer by must be after today."), code="due_on")
    if due_on > today + timedelta(days=HORIZON_DAYS):
        raise ValidationError(_("The day must be within a year from today; check the year."),
                              code="due_on")
    return (due_on - today).days


# --- Answering and deciding ---------------------------------------------------------------

def _lock(order: SupervisionOrder) -> SupervisionOrder:
    return (SupervisionOrder.objects.select_for_update(of=("self",))
            .select_related("case", "unit", "deadline").get(pk=order.pk))


@transaction.atomic
def supervision_answer(*, order: SupervisionOrder, actor: User, text: str,
                       at: datetime | None = None) -> SupervisionAnswer:
    """The answering unit's answer: meets the order's clock (late answers count as late)
    and waits for the supervisor's verdict."""
    at = at or timezone.now()
    order = _lock(order)
    case = order.case
    if not can(actor, Action.SUPERVISION_ANSWER, order):
        raise PermissionDenied(_("Only %(unit)s, to which the supervision order on case "
                                 "%(number)s is addressed, may answer it.")
                               % {"unit": order.unit.name, "number": case.number})
    if order.status != SupervisionStatus.OPEN:
        raise ValidationError(_("This supervision order was already answered; the supervisor "
                                "decides on the answer."), code="answered")
    answer = SupervisionAnswer.objects.create(
        order=order, text=required(text, _("Write the answer to the supervision order.")),
        answered_by=actor, answered_at=at, due_on=order.deadline.due_on)
    clock_meet(case=case, kind=ClockKind.SUPERVISION, actor=actor, at=at)
    order.status = SupervisionStatus.ANSWERED
    order.save(update_fields=["status"])
    events.record(events.supervision_answered(case=case, actor=actor, at=at, row=answer,
                                              due_at=order.deadline.due_at))
    _tell_supervisors(order, case=case, message="supervision.answered", at=at)
    return answer


@transaction.atomic
def supervision_decide(*, order: SupervisionOrder, actor: User, accept: bool, note: str = "",
                       due_on: date | None = None, answer_id: int | None = None,
                       at: datetime | None = None) -> SupervisionAnswer:
    """Accept the unit's answer (the order closes) or send it back with the reason and a new
    day to answer by (a new clock starts).

    ``answer_id``: the answer the supervisor read. If another supervisor sent it back and
    the unit answered again meanwhile, the decision is refused rather than taken on an
    answer its author never saw.
    """
    at = at or timezone.now()
    order = _lock(order)
    case = order.case
    if not can(actor, Action.CASE_SUPERVISE, case):
        raise PermissionDenied(_("Only a supervisor over case %(number)s may decide on the "
                                 "answer to its supervision order.") % {"number": case.number})
    if order.status != SupervisionStatus.ANSWERED:
        raise ValidationError(_("There is no answer awaiting a decision on this supervision "
                                "order: it was decided already, or the unit has not answered "
                                "yet."), code="not_answered")
    answer = order.answers.select_for_update().filter(verdict="").latest("answered_at", "pk")
    if answer_id is not None and answer.pk != answer_id:
        raise ValidationError(_("The unit answered again since you opened this form; read its "
                                "new answer before you decide."), code="answer_changed")
    answer.verdict_note = note.strip()
    answer.verdict_by, answer.verdict_at = actor, at
    new_due = None
    if accept:
        answer.verdict = SupervisionAnswer.ACCEPTED
        order.status, order.closed_at, order.closed_by = SupervisionStatus.CLOSED, at, actor
    else:
        answer.verdict = SupervisionAnswer.SENT_BACK
        answer.verdict_note = required(note, _("Say why the answer is sent back: the unit "
                                               "reads it to answer again."))
        days = _days_to(due_on, at)
        order.status = SupervisionStatus.OPEN
        order.deadline = clock_start(case=case, kind=ClockKind.SUPERVISION, start=at,
                                     actor=actor, at=at, days=days)
        new_due = order.deadline.due_on
    answer.save(update_fields=["verdict", "verdict_note", "verdict_by", "verdict_at"])
    order.save(update_fields=["status", "closed_at", "closed_by", "deadline"])
    events.record(events.supervision_decided(case=case, actor=actor, at=at, row=answer,
                                             due_on=new_due))
    if not accept:
        _tell_unit(order, case=case, message="supervision.sent_back", at=at)
    return answer


@transaction.atomic
def supervision_list(*, order: SupervisionOrder, actor: User, listed: bool, reason: str,
                     at: datetime | None = None) -> SupervisionOrder:
    """Put an open order on the county's board of listed supervision (挂牌督办), or take it
    off, with the reason."""
    at = at or timezone.now()
    order = _lock(order)
    case = order.case
    if not can(actor, Action.CASE_SUPERVISE, case):
        raise PermissionDenied(_("Only a supervisor over case %(number)s may list its "
                                 "supervision order.") % {"number": case.number})
    if order.status == SupervisionStatus.CLOSED:
        raise ValidationError(_("This supervision order is closed; only an open order can be "
                                "listed or taken off the board."), code="closed")
    if order.listed == listed:
        raise ValidationError(_("The order is already listed.") if listed else
                              _("The order is not listed."), code="unchanged")
    reason = required(reason, _("Say why the order is listed or taken off the board."))
    order.listed, order.listed_at = listed, at if listed else None
    order.save(update_fields=["listed", "listed_at"])
    events.record(events.supervision_listed(case=case, actor=actor, at=at, row=order,
                                            reason=reason))
    return order


# --- Orders opened by the escalation ladder --------------------------------------------------

@dataclass(frozen=True, slots=True)
class LadderOpening:
    """An escalation at a ``supervise`` level: open an order on its case, if none is open."""

    case_id: int
    number: str
    unit_id: int  # the answering unit (``answering_unit``)
    escalation_id: int


def supervision_open_by_ladder(openings: list[LadderOpening], *, now: datetime) -> int:
    """Open the orders of a sweep's batch in bulk (constant statements), in its transaction.

    A case that already has an open order keeps it: the escalation is recorded on the
    ladder's row, and the open order goes on. Each order's clock is the supervision rule's
    period from the day it opens, scheduled on the ladder like any other. Returns the
    orders opened.
    """
    if not openings:
        return 0
    with connection.cursor() as cursor:
        opened = execute_values(cursor, _INSERT_ORDERS, [
            (o.case_id, o.unit_id, o.escalation_id, now) for o in openings],
            page_size=len(openings), fetch=True)
    if not opened:
        return 0
    by_case = {o.case_id: o for o in openings}
    rule = supervision_rule()
    calendar, starts_on = office_calendar(), office_today(now)
    clocks = [Deadline(case_id=case_id, kind=ClockKind.SUPERVISION, starts_on=starts_on,
                       length=rule.length, unit=rule.unit, is_window=False)
              for _order, case_id in opened]
    due = calendar.due_date(starts_on, rule.length, rule.unit)
    for clock in clocks:
        set_due(clock, due)
    clocks_schedule(clocks, calendar=calendar, tz=OFFICE_TZ)
    Deadline.objects.bulk_create(clocks)
    order_ids = [order_id for order_id, _case in opened]
    with connection.cursor() as cursor:
        cursor.execute(_LINK_CLOCKS, [order_ids, [clock.pk for clock in clocks]])
    orders = SupervisionOrder.objects.filter(pk__in=order_ids).only(
        "pk", "case_id", "unit_id", "escalation_id", "demand", "listed")
    clock_by_case = {clock.case_id: clock for clock in clocks}
    events.record(*[event for order in orders for event in (
        events.clock_started(case=order.case_id, actor=None, at=now,
                             deadline=clock_by_case[order.case_id]),
        events.supervision_issued(case=order.case_id, actor=None, at=now, row=order,
                                  due_on=due.due))])
    _notify_units([(order, by_case[order.case_id].number) for order in orders],
                  message="supervision.ordered", due_on=due.due, at=now)
    return len(order_ids)


_INSERT_ORDERS = """
    INSERT INTO cases_supervisionorder (case_id, unit_id, escalation_id, issued_at, demand,
                                        status, listed)
    SELECT v.case_id, v.unit_id, v.escalation_id, v.issued_at, '', 'open', false
      FROM (VALUES %s) AS v(case_id, unit_id, escalation_id, issued_at)
    ON CONFLICT (case_id) WHERE status <> 'closed' DO NOTHING
    RETURNING id, case_id
"""

_LINK_CLOCKS = """
    UPDATE cases_supervisionorder AS o SET deadline_id = v.deadline_id
      FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, deadline_id)
     WHERE o.id = v.id
"""


# --- Who is told -----------------------------------------------------------------------------

def _tell_unit(order: SupervisionOrder, *, case: Case, message: str, at: datetime) -> None:
    _notify_units([(order, case.number)], message=message, due_on=order.deadline.due_on, at=at)


def _notify_units(orders: list[tuple[SupervisionOrder, str]], *, message: str, due_on: date,
                  at: datetime) -> None:
    """Tell the answering units' staff (ANSWERING_ROLES), one query for all the orders."""
    from notifications.services import NotificationDraft, notify_bulk

    staff = unit_staff(unit_ids={order.unit_id for order, _n in orders}, roles=ANSWERING_ROLES)
    notify_bulk([
        NotificationDraft(user_id=user, case_id=order.case_id, kind="supervision",
                          message=message, url=f"/cases/{number}/", mail=True,
                          params={"case_number": number, "due_on": due_on.isoformat()})
        for order, number in orders for user in sorted(staff.get(order.unit_id, ()))], at=at)


def _tell_supervisors(order: SupervisionOrder, *, case: Case, message: str,
                      at: datetime) -> None:
    """Tell who issued the order; for one the ladder opened, the supervisors over the case
    (as the ladder reaches them: ``audience_of``)."""
    from notifications.services import NotificationDraft, notify_bulk

    from .escalation import audience_of  # the sweep imports this module

    if order.issued_by_id is not None:
        users = {order.issued_by_id}
    else:
        users = audience_of(case, [Audience.SUPERVISOR])
    notify_bulk([NotificationDraft(user_id=user, case_id=case.pk, kind="supervision",
                                   message=message, url=f"/cases/{case.number}/", mail=True,
                                   params={"case_number": case.number,
                                           "unit": order.unit.name})
                 for user in sorted(users)], at=at)

