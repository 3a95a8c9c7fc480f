"""The one place that answers "may user U do action A (on object O)?".

Every view, API, export and state-machine transition asks :func:`can`, and
every list asks :func:`scope` for the rows a user may see. Both read the same
table, :data:`GRANTS`, so the answer for one object and the filter for a list
cannot drift apart.

A grant is one of two shapes:

* :class:`InUnit` — the user holds ``role`` in a unit that contains the
  object's unit (``via`` names the attribute that holds it; ``"self"`` when
  the object *is* a unit; with ``many``, any one of several units). A role's jurisdiction is its unit and everything
  below, so "contains" is a prefix test on the materialized path.
* :class:`IsOwner` — the object names the user in ``field`` (e.g. the case's
  responsible leader) and the user holds ``role`` somewhere.

Two refusals override the grants, both here so that ``can`` answers in full:

* recusal (回避, R22 Art.28): a user recused from a case may not take any action
  in :data:`HANDLING_ACTIONS` on it;
* the accused (R22 Art.30): a member of the unit a case complains about, or of
  a unit under it, may not take the actions in :data:`DENIED_TO_ACCUSED`, even
  when that unit is the petition bureau itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import Q, QuerySet

from .choices import Role
from .models import path_contains


class Action(StrEnum):
    # Pages and unit-level actions.
    CASE_REGISTER = "case.register"
    CASE_LIST_UNIT = "case.list_unit"
    CASE_LIST_LED = "case.list_led"
    OVERDUE_AUDIT = "case.overdue_audit"
    MEDIATION_REPORT = "mediation.report"
    MEDIATION_HANDLE = "mediation.handle"
    ADMINISTER = "admin.administer"
    # Case-level actions.
    CASE_VIEW = "case.view"
    CASE_ROUTE = "case.route"
    CASE_DECIDE_RETURN = "case.decide_return"
    CASE_SIGN = "case.sign"
    CASE_HANDLE = "case.handle"
    CASE_REQUEST_EXTENSION = "case.request_extension"
    CASE_APPROVE_EXTENSION = "case.approve_extension"
    CASE_REVIEW = "case.review"
    CASE_LEAD = "case.lead"
    CASE_NOTE = "case.note"
    CASE_VIEW_IDENTITY = "case.view_identity"
    CASE_REVEAL_IDENTITY = "case.reveal_identity"
    CASE_SUPERVISE = "case.supervise"
    CASE_ASSIGN_LEADER = "case.assign_leader"
    CASE_ATTACH = "case.attach"
    CASE_HEARING = "case.hearing"
    CASE_DELIVER = "case.deliver"
    CASE_COMMIT = "case.commit"
    CASE_INSTRUCT = "case.instruct"
    CASE_ANSWER_INSTRUCTION = "case.answer_instruction"
    # On a supervision order: the unit it is addressed to answers it.
    SUPERVISION_ANSWER = "supervision.answer"
    # The county's board of listed supervision (挂牌督办): every member of staff.
    SUPERVISION_BOARD = "supervision.board"


@dataclass(frozen=True)
class InUnit:
    role: Role
    via: str = "self"
    many: bool = False  # ``via`` is a many-to-many field (e.g. a case's co-handling units)


@dataclass(frozen=True)
class IsOwner:
    role: Role
    field: str


Grant = InUnit | IsOwner

# The case's units: where it was registered (the petition office), the unit
# leading its handling, and the place the matter belongs to.
_OFFICE, _LEAD, _PLACE = "registered_unit", "lead_unit", "place_unit"
# Co-handling units (协办, R22 Art.24) see the case and add to its record; the lead unit acts.
_CO_HANDLER = InUnit(Role.HANDLER, "co_units", many=True)
_CO_HEAD = InUnit(Role.UNIT_HEAD, "co_units", many=True)

# Who adds to a case's record (notes, files): the office, the lead and co-handling
# units, the responsible leader and the supervisor.
_RECORD_KEEPERS = (
    InUnit(Role.CLERK, _OFFICE),
    InUnit(Role.HANDLER, _LEAD),
    InUnit(Role.UNIT_HEAD, _LEAD),
    _CO_HANDLER,
    _CO_HEAD,
    IsOwner(Role.LEADER, "leader"),
    InUnit(Role.SUPERVISOR, _OFFICE),
)

GRANTS: dict[Action, tuple[Grant, ...]] = {
    Action.CASE_REGISTER: (InUnit(Role.CLERK),),
    Action.CASE_LIST_UNIT: (InUnit(Role.HANDLER), InUnit(Role.UNIT_HEAD)),
    Action.CASE_LIST_LED: (InUnit(Role.LEADER),),
    Action.OVERDUE_AUDIT: (InUnit(Role.SUPERVISOR),),
    Action.MEDIATION_REPORT: (InUnit(Role.GRID_WORKER),),
    Action.MEDIATION_HANDLE: (InUnit(Role.MEDIATOR),),
    Action.ADMINISTER: (InUnit(Role.ADMINISTRATOR),),
    Action.CASE_VIEW: (
        InUnit(Role.CLERK, _OFFICE),
        InUnit(Role.HANDLER, _LEAD),
        InUnit(Role.UNIT_HEAD, _LEAD),
        _CO_HANDLER,
        _CO_HEAD,
        IsOwner(Role.LEADER, "leader"),
        InUnit(Role.LEADER, _PLACE),
        InUnit(Role.SUPERVISOR, _OFFICE),
        InUnit(Role.SUPERVISOR, _LEAD),
        InUnit(Role.SUPERVISOR, _PLACE),
        # System administrators see (in the admin) what their jurisdiction registered.
        InUnit(Role.ADMINISTRATOR, _OFFICE),
    ),
    # The petition office answers, refuses or routes what it registered (R22 Art.22).
    Action.CASE_ROUTE: (InUnit(Role.CLERK, _OFFICE), InUnit(Role.UNIT_HEAD, _OFFICE)),
    # A return takes effect only when the routing office agrees (R22 Art.23).
    Action.CASE_DECIDE_RETURN: (InUnit(Role.UNIT_HEAD, _OFFICE), InUnit(Role.CLERK, _OFFICE)),
    Action.CASE_SIGN: (InUnit(Role.HANDLER, _LEAD), InUnit(Role.UNIT_HEAD, _LEAD)),
    Action.CASE_HANDLE: (InUnit(Role.HANDLER, _LEAD), InUnit(Role.UNIT_HEAD, _LEAD)),
    Action.CASE_REQUEST_EXTENSION: (InUnit(Role.HANDLER, _LEAD), InUnit(Role.UNIT_HEAD, _LEAD)),
    # Only the head of the handling unit approves an extension (R22 Art.34).
    Action.CASE_APPROVE_EXTENSION: (InUnit(Role.UNIT_HEAD, _LEAD),),
    # Review and re-review are recorded by the office above the handling unit.
    Action.CASE_REVIEW: (InUnit(Role.UNIT_HEAD, _OFFICE), InUnit(Role.SUPERVISOR, _OFFICE)),
    Action.CASE_LEAD: (IsOwner(Role.LEADER, "leader"),),
    Action.CASE_NOTE: _RECORD_KEEPERS,
    # Who sees the petitioners unmasked as they open the case: those who meet, call or
    # write to them: the petition office that registered it (its clerks, heads and
    # supervisors, who record and deliver the review decisions), the lead unit that
    # answers, the leader in charge. Each view is audited (PERSONAL_DATA_VIEWED).
    Action.CASE_VIEW_IDENTITY: (
        InUnit(Role.CLERK, _OFFICE),
        InUnit(Role.UNIT_HEAD, _OFFICE),
        InUnit(Role.SUPERVISOR, _OFFICE),
        InUnit(Role.HANDLER, _LEAD),
        InUnit(Role.UNIT_HEAD, _LEAD),
        IsOwner(Role.LEADER, "leader"),
    ),
    # Everyone else who sees the case sees them masked; these may reveal them, giving a
    # reason that the audit trail keeps (need to know, PIPL Art.6; cases/DECISIONS.md).
    Action.CASE_REVEAL_IDENTITY: (
        InUnit(Role.LEADER, _PLACE),
        InUnit(Role.SUPERVISOR, _LEAD),
        InUnit(Role.SUPERVISOR, _PLACE),
        _CO_HANDLER,
        _CO_HEAD,
    ),
    # Supervisors issue supervision orders (督办, R22 Art.40) on any case in their
    # jurisdiction: the office that registered it, the unit leading it, the place of the
    # matter. They also accept or send back the answers, and list an order (挂牌督办).
    Action.CASE_SUPERVISE: (InUnit(Role.SUPERVISOR, _LEAD), InUnit(Role.SUPERVISOR, _OFFICE),
                            InUnit(Role.SUPERVISOR, _PLACE)),
    # The petition office puts a leader in charge (包案, R22 Art.18).
    Action.CASE_ASSIGN_LEADER: (InUnit(Role.CLERK, _OFFICE), InUnit(Role.UNIT_HEAD, _OFFICE)),
    # Whoever adds to the record may attach a scan, photo or document to it.
    Action.CASE_ATTACH: _RECORD_KEEPERS,
    # A re-review hearing is held by whoever records the re-review (R22 Art.36).
    Action.CASE_HEARING: (InUnit(Role.UNIT_HEAD, _OFFICE), InUnit(Role.SUPERVISOR, _OFFICE)),
    # Delivery (送达) of a decision is recorded by the unit that issued it: the lead unit
    # for its reply, the petition office for the review decisions it records.
    Action.CASE_DELIVER: (
        InUnit(Role.HANDLER, _LEAD),
        InUnit(Role.UNIT_HEAD, _LEAD),
        InUnit(Role.CLERK, _OFFICE),
        InUnit(Role.UNIT_HEAD, _OFFICE),
        InUnit(Role.SUPERVISOR, _OFFICE),
    ),
    # Commitments to the petitioner are made and kept by the lead unit that handles.
    Action.CASE_COMMIT: (InUnit(Role.HANDLER, _LEAD), InUnit(Role.UNIT_HEAD, _LEAD)),
    # The leader in charge instructs (批示) and the lead unit answers.
    Action.CASE_INSTRUCT: (IsOwner(Role.LEADER, "leader"),),
    Action.CASE_ANSWER_INSTRUCTION: (InUnit(Role.HANDLER, _LEAD), InUnit(Role.UNIT_HEAD, _LEAD)),
    # A supervision order is answered by the unit it is addressed to (``order.unit``): the
    # lead unit, or the petition office on a case it had not routed yet.
    Action.SUPERVISION_ANSWER: (InUnit(Role.HANDLER, "unit"), InUnit(Role.UNIT_HEAD, "unit"),
                                InUnit(Role.CLERK, "unit")),
    # The board is the county's: which county's is the board's own filter
    # (``supervision_board`` in cases/selectors/supervision.py).
    Action.SUPERVISION_BOARD: tuple(InUnit(role) for role in Role),
}

# Actions a recused staff member may not take on the case (回避, R22 Art.28).
HANDLING_ACTIONS = frozenset({
    Action.CASE_NOTE, Action.CASE_ROUTE, Action.CASE_DECIDE_RETURN, Action.CASE_SIGN, Action.CASE_HANDLE,
    Action.CASE_REQUEST_EXTENSION, Action.CASE_APPROVE_EXTENSION, Action.CASE_REVIEW,
    Action.CASE_LEAD, Action.CASE_REVEAL_IDENTITY, Action.CASE_SUPERVISE,
    Action.CASE_ASSIGN_LEADER, Action.CASE_ATTACH, Action.CASE_HEARING, Action.CASE_DELIVER,
    Action.CASE_VIEW_IDENTITY, Action.CASE_COMMIT, Action.CASE_INSTRUCT,
    Action.CASE_ANSWER_INSTRUCTION, Action.SUPERVISION_ANSWER,
})

# Actions refused to anyone holding a role in the unit complained about or below it
# (R22 Art.30: the accuser's identity is not revealed to the accused).
DENIED_TO_ACCUSED = frozenset({Action.CASE_VIEW_IDENTITY, Action.CASE_REVEAL_IDENTITY})


def can(user: Any, action: Action, obj: Any = None) -> bool:
    """Whether ``user`` may do ``action``; without ``obj``, whether anywhere at all."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    held = held_roles(user)
    grants = GRANTS[action]
    if obj is None:
        return any(grant.role in held for grant in grants)
    if action in HANDLING_ACTIONS and is_recused(user, obj):
        return False
    if action in DENIED_TO_ACCUSED and holds_role_within(user, getattr(obj, "complained_unit", None)):
        return False
    return any(_allows(grant, user, held, obj) for grant in grants)


def scope(user: Any, action: Action, queryset: QuerySet) -> QuerySet:
    """Filter ``queryset`` to the objects on which ``user`` may do ``action``."""
    if not (user and user.is_authenticated and user.is_active):
        return queryset.none()
    held = held_roles(user)
    condition = Q(pk__in=[])
    for grant in GRANTS[action]:
        condition |= _condition(grant, user, held, queryset.model)
    return queryset.filter(condition)


def held_roles(user: Any) -> dict[Role, tuple[str, ...]]:
    """Map each role the user holds to the paths of its units (cached on the user)."""
    cached = getattr(user, "_held_roles", None)
    if cached is None:
        held: dict[Role, list[str]] = {}
        rows = user.role_assignments.filter(unit__is_active=True).values_list("role", "unit__path")
        for role, path in rows:
            held.setdefault(Role(role), []).append(path)
        cached = {role: tuple(paths) for role, paths in held.items()}
        user._held_roles = cached
    return cached


def forget_roles(user: Any) -> None:
    """Drop the cached roles after the user's assignments change."""
    user.__dict__.pop("_held_roles", None)


def holds_role_within(user: Any, unit: Any) -> bool:
    """Whether ``user`` holds any role in ``unit`` or a unit below it (R22 Art.30)."""
    if unit is None:
        return False
    return any(path_contains(unit.path, path)
               for paths in held_roles(user).values() for path in paths)


def is_recused(user: Any, obj: Any) -> bool:
    """Whether the user declared an interest in this object (回避).

    Asked once per user and loaded object: a page asks ``can`` a dozen times for one
    case. ``case_recuse`` drops the answer (:func:`forget_recusals`) when it records one.
    """
    recusals = getattr(obj, "recusals", None)
    if recusals is None:
        return False
    answers = obj.__dict__.setdefault("_recused_users", {})
    if user.pk not in answers:
        answers[user.pk] = recusals.filter(user=user).exists()
    return answers[user.pk]


def forget_recusals(obj: Any) -> None:
    """Drop the recusal answers cached on ``obj`` after a recusal is recorded."""
    obj.__dict__.pop("_recused_users", None)


def _allows(grant: Grant, user: Any, held: dict, obj: Any) -> bool:
    if isinstance(grant, IsOwner):
        return grant.role in held and getattr(obj, f"{grant.field}_id", None) == user.pk
    roots = held.get(grant.role, ())
    if grant.many:
        return any(_within(unit.path, roots) for unit in getattr(obj, grant.via).all())
    unit = obj if grant.via == "self" else getattr(obj, grant.via, None)
    return unit is not None and _within(unit.path, roots)


def _within(path: str, roots: Iterable[str]) -> bool:
    return any(path_contains(root, path) for root in roots)


def _condition(grant: Grant, user: Any, held: dict, model: Any) -> Q:
    """The SQL form of one grant.

    A unit reached through a foreign key becomes ``fk IN (SELECT id FROM unit
    WHERE path LIKE 'root%')``: no join, so several grants OR together as index
    scans on the case table's foreign-key indexes, even at a million rows.
    """
    from .models import OrgUnit

    if grant.role not in held:
        return Q(pk__in=[])
    if isinstance(grant, IsOwner):
        return Q(**{grant.field: user})
    roots = Q(pk__in=[])
    for root in held[grant.role]:
        roots |= Q(path__startswith=root)
    if grant.via == "self":
        return roots
    units = OrgUnit.objects.filter(roots).values("pk")
    if grant.many:  # a semi-join, so a case with two matching units is listed once
        return Q(pk__in=model.objects.filter(**{f"{grant.via}__in": units}).values("pk"))
    return Q(**{f"{grant.via}__in": units})
