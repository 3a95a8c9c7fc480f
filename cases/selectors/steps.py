"""Reads for the step forms: which steps and actions a user may take now, and the choices
the forms offer (units to route to, deciding bodies above, leaders of the county).

The transitions come from ``case_available_transitions`` (the state machine plus the
service rules); the actions that are not transitions (delivery, extension, leader, notes,
files, commitments, instructions, deciding an extension) are offered by the permission
module, the case's state and the rows they act on; so are the supervision orders (督办):
issued while none is open, answered by the unit they name, decided and listed by the
supervisors over the case. The services stay the guard.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit, User
from accounts.permissions import Action, can

from ..choices import STEP_LABELS, CaseStatus, DecisionKind, ExtensionStatus, SupervisionStatus
from ..models import Case, Commitment, Decision, Extension, Instruction, SupervisionOrder
from ..services.undertakings import COMMITMENT_STATES
from .windows import case_available_transitions, undelivered_decision

# What the actions that are not transitions are called on a button and a page.
ACTION_LABELS = {
    "deliver": _("Record the delivery"),
    "extension": _("Ask for an extension"),
    "assign_leader": _("Assign a responsible leader"),
    "note": _("Add a progress note"),
    "attach": _("Attach a file"),
    "commit": _("Record a commitment"),
    "keep": _("Record a commitment as kept"),
    "instruct": _("Write an instruction"),
    "answer_instruction": _("Answer the leader's instruction"),
    "decide_extension": _("Decide the extension request"),
    "supervise": _("Issue a supervision order"),
    "answer_supervision": _("Answer the supervision order"),
    "decide_supervision": _("Accept or send back the answer"),
    "list_supervision": _("List or take off the county's board"),
}

# Actions on one row of the case, and the permission each needs. A form sent after someone
# else kept, answered or decided the row is still taken in, so the service's "already
# kept / answered / decided" comes back on the form with what was typed, not as a 403.
ROW_ACTIONS = {
    "keep": Action.CASE_COMMIT,
    "answer_instruction": Action.CASE_ANSWER_INSTRUCTION,
    "decide_extension": Action.CASE_APPROVE_EXTENSION,
    # A second order issued meanwhile is refused by the service, which names the open one.
    "supervise": Action.CASE_SUPERVISE,
    "answer_supervision": Action.SUPERVISION_ANSWER,  # asked of the order (``_ROW_OF``)
    "decide_supervision": Action.CASE_SUPERVISE,
    "list_supervision": Action.CASE_SUPERVISE,
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
    if can(user, Action.CASE_NOTE, case):
        names.append("note")
    if can(user, Action.CASE_ATTACH, case):
        names.append("attach")
    return (names + _undertaking_actions(user=user, case=case)
            + _supervision_actions(user=user, case=case))


def _undertaking_actions(*, user: User, case: Case) -> list[str]:
    """Commitments, instructions and extensions to decide: each offered while there is one."""
    names = []
    if can(user, Action.CASE_COMMIT, case):
        if case.status in COMMITMENT_STATES:
            names.append("commit")
        if open_commitments(case=case).exists():
            names.append("keep")
    if (case.status not in Case.CLOSED_STATES and case.lead_unit_id is not None
            and can(user, Action.CASE_INSTRUCT, case)):  # a unit must be there to answer
        names.append("instruct")
    if (can(user, Action.CASE_ANSWER_INSTRUCTION, case)
            and open_instructions(case=case).exists()):
        names.append("answer_instruction")
    if (can(user, Action.CASE_APPROVE_EXTENSION, case)
            and extensions_to_decide(case=case, user=user).exists()):
        names.append("decide_extension")
    return names


def _supervision_actions(*, user: User, case: Case) -> list[str]:
    """Issue while no order is open; answer an open one; decide an answered one; list either."""
    supervises = can(user, Action.CASE_SUPERVISE, case)
    if not (supervises or can(user, Action.SUPERVISION_ANSWER)):  # no query for the others
        return []
    order = open_supervision(case=case)
    if order is None:
        return ["supervise"] if supervises else []
    names = []
    if order.status == SupervisionStatus.OPEN and can(user, Action.SUPERVISION_ANSWER, order):
        names.append("answer_supervision")
    if supervises:
        if order.status == SupervisionStatus.ANSWERED:
            names.append("decide_supervision")
        names.append("list_supervision")
    return names


# What the supervision forms show of an order: its unit, its clock, the ladder's reason.
_ORDER_RELATED = ("unit", "deadline", "escalation__deadline")


def open_supervision(*, case: Case) -> SupervisionOrder | None:
    """The case's supervision order not yet closed (one at most), its unit and clock loaded."""
    order = (SupervisionOrder.objects.filter(case=case)
             .exclude(status=SupervisionStatus.CLOSED).select_related(*_ORDER_RELATED).first())
    if order is not None:
        order.case = case  # the recusals asked by ``can`` are the case's: no second load
    return order


def latest_supervision(*, case: Case) -> SupervisionOrder | None:
    """The open order, else the one closed last: what a form sent meanwhile acted on."""
    order = open_supervision(case=case)
    if order is None:
        order = (SupervisionOrder.objects.filter(case=case).select_related(*_ORDER_RELATED)
                 .order_by("-issued_at", "-pk").first())
        if order is not None:
            order.case = case
    return order


def open_commitments(*, case: Case) -> QuerySet[Commitment]:
    """The case's commitments not yet kept, the earliest due first."""
    return Commitment.objects.filter(case=case, done_at__isnull=True).order_by("due_at", "pk")


def open_instructions(*, case: Case) -> QuerySet[Instruction]:
    """The case's instructions not yet answered, the earliest due first."""
    return (Instruction.objects.filter(case=case, done_at__isnull=True)
            .select_related("given_by").order_by("due_at", "pk"))


def extensions_to_decide(*, case: Case, user: User) -> QuerySet[Extension]:
    """The case's pending extension requests ``user`` did not ask for (another head decides
    one's own request, R22 Art.34)."""
    return (Extension.objects.filter(case=case, status=ExtensionStatus.PENDING)
            .exclude(requested_by=user).select_related("requested_by")
            .order_by("requested_at", "pk"))


def case_action_links(*, user: User, case: Case) -> list[tuple[str, str]]:
    """The (name, label) of each action besides transitions, for the case page's buttons."""
    return [(name, step_label(name)) for name in case_actions_available(user=user, case=case)]


# The ``ROW_ACTIONS`` whose permission is asked of the row rather than of the case.
_ROW_OF = {"answer_supervision": latest_supervision}


def step_available(*, user: User, case: Case, name: str, at: datetime | None = None,
                   sent: bool = False) -> bool:
    """Whether ``user`` may take the step or action ``name`` on ``case`` now; a form ``sent``
    for an action on one row needs only the permission (see ``ROW_ACTIONS``)."""
    if sent and name in ROW_ACTIONS:
        row = _ROW_OF[name](case=case) if name in _ROW_OF else case
        return row is not None and can(user, ROW_ACTIONS[name], row)
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
