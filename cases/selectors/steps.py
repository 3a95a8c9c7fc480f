"""Reads for the step forms: which steps and actions a user may take now, and the choices
the forms offer (units to route to, deciding bodies above, leaders of the county).

The transitions come from ``case_available_transitions`` (the state machine plus the
service rules); three actions that are not transitions (delivery, extension, leader)
are offered by the permission module and the case's state. The services stay the guard.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit, User
from accounts.permissions import Action, can

from ..choices import STEP_LABELS, CaseStatus, DecisionKind
from ..models import Case, Decision
from .windows import case_available_transitions, undelivered_decision

# What the actions that are not transitions are called on a button and a page.
ACTION_LABELS = {
    "deliver": _("Record the delivery"),
    "extension": _("Ask for an extension"),
    "assign_leader": _("Assign a responsible leader"),
}

# States in which no leader is put in charge any more: the matter is over.
_FINISHED = frozenset({CaseStatus.ANSWERED, CaseStatus.NOT_ACCEPTED, CaseStatus.CLOSED})

ROUTE_KINDS = (UnitKind.TOWNSHIP, UnitKind.STREET, UnitKind.DEPARTMENT)


def step_label(name: str) -> str:
    """The label of a step or an action, as its button and its page's heading say it."""
    return str(STEP_LABELS.get(name) or ACTION_LABELS.get(name) or name)


def case_actions_available(*, user: User, case: Case) -> list[str]:
    """Name the actions besides transitions ``user`` may take on ``case`` now."""
    names = []
    if can(user, Action.CASE_DELIVER, case) and undelivered_decision(case=case) is not None:
        names.append("deliver")
    # While the reply is due: the states the ``reply`` transition leaves from.
    if can(user, Action.CASE_REQUEST_EXTENSION, case) and can_proceed(case.reply):
        names.append("extension")
    if case.status not in _FINISHED and can(user, Action.CASE_ASSIGN_LEADER, case):
        names.append("assign_leader")
    return names


def case_action_links(*, user: User, case: Case) -> list[tuple[str, str]]:
    """The (name, label) of each action besides transitions, for the case page's buttons."""
    return [(name, step_label(name)) for name in case_actions_available(user=user, case=case)]


def step_available(*, user: User, case: Case, name: str, at: datetime | None = None) -> bool:
    """Whether ``user`` may take the step or action ``name`` on ``case`` now."""
    if name in ACTION_LABELS:
        return name in case_actions_available(user=user, case=case)
    return name in case_available_transitions(user=user, case=case, at=at)


def route_unit_choices(*, case: Case) -> QuerySet[OrgUnit]:
    """The active townships, streets and departments of the registering office's county."""
    return (OrgUnit.objects.filter(path__startswith=case.registered_unit.county_path,
                                   is_active=True, kind__in=ROUTE_KINDS)
            .order_by("path"))


# The decision a review or re-review decides on.
_DECIDES_ON = {DecisionKind.REVIEW: DecisionKind.REPLY, DecisionKind.REREVIEW: DecisionKind.REVIEW}


def deciding_unit_choices(*, case: Case, kind: str) -> QuerySet[OrgUnit]:
    """The units above the one that decided before: who may decide a review or re-review."""
    earlier = (Decision.objects.filter(case=case, kind=_DECIDES_ON[kind],
                                       superseded_at__isnull=True)
               .select_related("unit").first())
    if earlier is None or earlier.unit is None:
        return OrgUnit.objects.none()
    path, step = earlier.unit.path, earlier.unit.steplen
    above = [path[:end] for end in range(step, len(path), step)]  # the materialized path's prefixes
    return OrgUnit.objects.filter(path__in=above, is_active=True).order_by("path")


def leader_choices(*, case: Case) -> QuerySet[User]:
    """The active users holding the leader role in the registering office's county."""
    county = case.registered_unit.county_path
    return (User.objects.filter(is_active=True, role_assignments__role=Role.LEADER,
                                role_assignments__unit__path__startswith=county)
            .distinct().order_by("name", "username"))


def responsible_choices(*, case: Case) -> QuerySet[User]:
    """The active users holding any role in the registering office's county."""
    county = case.registered_unit.county_path
    return (User.objects.filter(is_active=True, role_assignments__unit__path__startswith=county)
            .distinct().order_by("name", "username"))
