"""Reads for supervision orders (督办): the supervision page (/cases/supervision/): the orders a unit must answer, the orders a supervisor oversees,
and the county's board of listed supervision (挂牌督办).

The board is the county's (cases/DECISIONS.md S7): every member of staff sees the listed
orders open on cases registered in a county where they hold a role, with no petitioner's
data; the case number links to the case only for those the permission module lets see it.
Each list costs a fixed number of queries whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, can, held_roles, scope

from ..choices import SupervisionStatus
from ..models import Case, SupervisionOrder
from .case_page import Today, order_due
from .lists import NextDeadline
from .timeline import order_demand

# Enough for any county's open orders; beyond it the page says so.
ROW_LIMIT = 300


@dataclass
class OrderRow:
    order: SupervisionOrder  # case, unit, leader, clock and escalation loaded
    demand: str
    due: NextDeadline | None  # the answer clock while it runs
    may_open: bool  # the user may open the case


@dataclass
class SupervisionPage:
    to_answer: list[OrderRow] = field(default_factory=list)  # addressed to the user's units
    overseen: list[OrderRow] = field(default_factory=list)  # open, on cases the user supervises
    board: list[OrderRow] = field(default_factory=list)  # listed, in the user's counties
    counties: list[str] = field(default_factory=list)
    truncated: bool = False


def supervision_page(*, user: User, now: datetime | None = None) -> SupervisionPage:
    today = Today.at(now or timezone.now())
    page = SupervisionPage()
    base = (SupervisionOrder.objects.exclude(status=SupervisionStatus.CLOSED)
            .select_related("case", "case__place_unit", "case__leader", "unit", "deadline",
                            "escalation__deadline", "issued_by")
            .order_by("deadline__due_at", "pk"))
    if can(user, Action.SUPERVISION_ANSWER):
        page.to_answer = _rows(user, orders_to_answer(user=user, orders=base), today=today,
                               page=page)
    if can(user, Action.CASE_SUPERVISE):
        supervised = scope(user, Action.CASE_SUPERVISE, Case.objects.all())
        page.overseen = _rows(user, base.filter(case__in=supervised.values("pk")), today=today,
                              page=page)
    counties = _counties(user)
    if counties:
        page.counties = counties
        board = base.filter(listed=True).filter(
            _any_prefix("case__registered_unit__path", counties))
        page.board = _rows(user, board, today=today, page=page)
    return page


def orders_to_answer(*, user: User, orders: QuerySet | None = None) -> QuerySet:
    """The open orders the user may answer (``SUPERVISION_ANSWER``: addressed to their
    units), less those on cases they are recused from."""
    orders = SupervisionOrder.objects.all() if orders is None else orders
    return (scope(user, Action.SUPERVISION_ANSWER, orders.filter(status=SupervisionStatus.OPEN))
            .exclude(case__recusals__user=user))


def _counties(user: User) -> list[str]:
    """The paths of the counties where ``user`` holds a role (a path's first step)."""
    from accounts.models import OrgUnit

    steplen = OrgUnit.steplen
    return sorted({path[:steplen] for paths in held_roles(user).values() for path in paths})


def _any_prefix(field_name: str, prefixes: list[str]) -> Q:
    condition = Q(pk__in=[])
    for prefix in prefixes:
        condition |= Q(**{f"{field_name}__startswith": prefix})
    return condition


def _rows(user: User, orders: QuerySet, *, today: Today, page: SupervisionPage) -> list[OrderRow]:
    found = list(orders[:ROW_LIMIT + 1])
    if len(found) > ROW_LIMIT:
        page.truncated, found = True, found[:ROW_LIMIT]
    visible = set(scope(user, Action.CASE_VIEW, Case.objects.filter(
        pk__in={order.case_id for order in found})).values_list("pk", flat=True))
    return [OrderRow(order=order, demand=order_demand(order), may_open=order.case_id in visible,
                     due=order_due(order, today=today))
            for order in found]
