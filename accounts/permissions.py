"""The one place that answers "may user U do action A (on object O)?".

Every view, API, export and state-machine transition asks :func:`can`, and
every list asks :func:`scope` for the rows a user may see. Both read the same
table, :data:`GRANTS`, so the answer for one object and the filter for a list
cannot drift apart.

A grant is one of these shapes:

* :class:`InUnit` — the user holds ``role`` in a unit that contains the
  object's unit (``via`` names the attribute that holds it; ``"self"`` when
  the object *is* a unit; with ``many``, any one of several units). A role's jurisdiction is its unit and everything
  below, so "contains" is a prefix test on the materialized path.
* :class:`IsOwner` — the object names the user in ``field`` (e.g. the case's
  responsible leader) and the user holds ``role`` somewhere.

The administrators' grants (三员分立) add three, all read by the admin (``config/admin_site.py``):

* ``InUnit(..., strict=True)`` — as :class:`InUnit`, but strictly below the held unit: an
  administrator manages units and grants roles under their unit, never in it or above;
* :class:`AtTop` — the user holds ``role`` in a county, the top of a tree: the reference
  tables (calendar, clock rules, ladder, categories) belong to no unit below a county;
* :class:`UserWithin` — the object is (or names) a user every one of whose roles lies in a
  unit under one where the user holds ``role``.

Two refusals override the grants, both here so that ``can`` answers in full:

* recusal (回避, R22 Art.28): a user recused from a case may not take any action
  in :data:`HANDLING_ACTIONS` on it;
* the accused (R22 Art.30): a member of the unit a case complains about, or of
  a unit under it, may not take the actions in :data:`DENIED_TO_ACCUSED`, even
  when that unit is the petition bureau itself.

One exception widens them: a Django superuser, the break-glass account made at
installation, may take the administrators' actions (:data:`BREAK_GLASS`) without
holding their roles; never a case action.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import Q, QuerySet

from .choices import ADMIN_ROLES, Role, UnitKind
from .models import OrgUnit, path_contains, path_is_top


class Action(StrEnum):
    # Pages and unit-level actions.
    CASE_REGISTER = "case.register"
    CASE_LIST_UNIT = "case.list_unit"
    CASE_LIST_LED = "case.list_led"
    OVERDUE_AUDIT = "case.overdue_audit"
    MEDIATION_REPORT = "mediation.report"
    MEDIATION_HANDLE = "mediation.handle"
    # Dispute sweeps (矛盾纠纷排查): filing a return, and the township's or county's view.
    SWEEP_FILE = "mediation.sweep_file"
    SWEEP_VIEW = "mediation.sweep_view"
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
    # A new query code for the petitioner's public lookup, the old one ended (followup/).
    CASE_REISSUE_QUERY_CODE = "case.reissue_query_code"
    # The staff follow-ups (回头看, followup/): the page of those due (anywhere), the
    # follow-ups a user sees on it, assigning one, and recording its attempts and outcome.
    FOLLOW_UP_LIST = "followup.list"
    FOLLOW_UP_VIEW = "followup.view"
    FOLLOW_UP_ASSIGN = "followup.assign"
    FOLLOW_UP_RECORD = "followup.record"
    # The leader's decision on a dissatisfied follow-up: the page of those awaiting a user,
    # seeing one, and deciding it.
    FOLLOW_UP_DECISIONS = "followup.decisions"
    FOLLOW_UP_DECISION_VIEW = "followup.decision_view"
    FOLLOW_UP_DECIDE = "followup.decide"
    # A supervisor's 回头看 campaign: creating one, and seeing one's progress.
    CAMPAIGN_CREATE = "followup.campaign_create"
    CAMPAIGN_VIEW = "followup.campaign_view"
    # The grid and mediation (mediation/, issue 11; mediation/DECISIONS.md): a grid
    # report seen, triaged by the township centre, registered as a petition case by the
    # county's petition office; a mediation case seen and worked; a petition case sent to
    # mediation.
    GRID_REPORT_VIEW = "mediation.report_view"
    GRID_REPORT_TRIAGE = "mediation.report_triage"
    GRID_REPORT_REGISTER = "mediation.report_register"
    MEDIATION_VIEW = "mediation.view"
    MEDIATION_ACT = "mediation.act"
    CASE_SEND_TO_MEDIATION = "case.send_to_mediation"
    # On a supervision order: the unit it is addressed to answers it.
    SUPERVISION_ANSWER = "supervision.answer"
    # The county's board of listed supervision (挂牌督办): every member of staff.
    SUPERVISION_BOARD = "supervision.board"
    # The three administrators (三员分立). Entering the admin site at all:
    ADMIN_SITE = "admin.site"
    # System administrator: units strictly below theirs, role grants in them, users in
    # their subtree, and (at a county) the reference tables.
    UNIT_MANAGE = "admin.unit_manage"
    ROLE_MANAGE = "admin.role_manage"
    USER_MANAGE = "admin.user_manage"
    REFERENCE_EDIT = "admin.reference_edit"
    # Security administrator: passwords, lockouts and sessions of users in their subtree.
    SECURITY_ADMINISTER = "security.administer"
    USER_SECURE = "security.user"
    LOCKOUT_RESET = "security.lockout_reset"
    # Audit administrator: reads the case events, the admin's log and the login log.
    AUDIT_READ = "audit.read"
    AUDIT_CASE_EVENTS = "audit.case_events"
    AUDIT_ADMIN_LOG = "audit.admin_log"
    AUDIT_LOGINS = "audit.logins"


@dataclass(frozen=True)
class InUnit:
    role: Role
    via: str = "self"  # may cross relations: "case__registered_unit"
    many: bool = False  # ``via`` is a many-to-many field (e.g. a case's co-handling units)
    strict: bool = False  # strictly below the held unit, not the held unit itself
    # Held at the county or a department directly under it (the county's offices: its
    # petition office), the role reaches the whole county: the townships beside the office,
    # not only what lies below it. Held anywhere else, it reaches nothing by this grant.
    county_office: bool = False


@dataclass(frozen=True)
class IsOwner:
    role: Role
    field: str


@dataclass(frozen=True)
class AtTop:
    """The user holds ``role`` in a county (the top of a tree); for objects no unit owns."""

    role: Role


@dataclass(frozen=True)
class UserWithin:
    """The object is a user (``via="self"``) or names one: a foreign key, or a user name
    (the login log's ``username``). Every role that user holds lies in the subtree of a unit
    where the acting user holds ``role``.

    Without ``peers``, a user holding an administrator role in the acting user's own unit
    (or above) is out of reach, and so is a superuser (the break-glass account, who holds
    no role): one administrator cannot disable or take over another. With ``peers`` (the
    audit administrator's reading) both are in. A name that is no user's (a guessed name
    in the login log) belongs to no unit; holders at a county see it.
    """

    role: Role
    via: str = "self"
    peers: bool = False


Grant = InUnit | IsOwner | AtTop | UserWithin

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
    # A grid or village files its sweep return (the return's ``unit``); the township
    # centre, the leaders and supervisors see who filed and the early warnings below them.
    Action.SWEEP_FILE: (InUnit(Role.GRID_WORKER), InUnit(Role.MEDIATOR)),
    Action.SWEEP_VIEW: (InUnit(Role.MEDIATOR), InUnit(Role.LEADER), InUnit(Role.SUPERVISOR)),
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
    # The petition office that registered the case, which gave the query code, gives a new
    # one (followup/DECISIONS.md Q5); never to the accused or the recused (below).
    Action.CASE_REISSUE_QUERY_CODE: (InUnit(Role.CLERK, _OFFICE), InUnit(Role.UNIT_HEAD, _OFFICE)),
    # Follow-ups (followup/DECISIONS.md F4): the petition office that registered the case
    # and the lead unit's head see and assign theirs; whoever is assigned one sees it and
    # records it. On a follow-up, "case__..." names the case's units.
    Action.FOLLOW_UP_LIST: (InUnit(Role.CLERK), InUnit(Role.HANDLER), InUnit(Role.UNIT_HEAD),
                            InUnit(Role.SUPERVISOR)),
    Action.FOLLOW_UP_VIEW: (
        InUnit(Role.CLERK, "case__registered_unit"),
        InUnit(Role.UNIT_HEAD, "case__registered_unit"),
        InUnit(Role.SUPERVISOR, "case__registered_unit"),
        # A supervisor over the lead unit or the place follows a campaign they started.
        InUnit(Role.SUPERVISOR, "case__lead_unit"),
        InUnit(Role.SUPERVISOR, "case__place_unit"),
        InUnit(Role.UNIT_HEAD, "case__lead_unit"),
        *(IsOwner(role, "assignee") for role in (Role.CLERK, Role.HANDLER, Role.UNIT_HEAD,
                                                 Role.SUPERVISOR)),
    ),
    Action.FOLLOW_UP_ASSIGN: (InUnit(Role.CLERK, "case__registered_unit"),
                              InUnit(Role.UNIT_HEAD, "case__registered_unit"),
                              InUnit(Role.UNIT_HEAD, "case__lead_unit")),
    Action.FOLLOW_UP_RECORD: tuple(IsOwner(role, "assignee") for role in (
        Role.CLERK, Role.HANDLER, Role.UNIT_HEAD, Role.SUPERVISOR)),
    # The case's responsible leader decides on a dissatisfied follow-up or a broken
    # commitment, and so may the leaders and heads over the place the matter belongs to
    # (``unit``, never within the unit complained about; followup/DECISIONS.md F11), so a
    # decision never waits on a leader who left. Those who see the follow-up see it.
    Action.FOLLOW_UP_DECISIONS: (InUnit(Role.LEADER), InUnit(Role.UNIT_HEAD),
                                 InUnit(Role.CLERK), InUnit(Role.SUPERVISOR)),
    Action.FOLLOW_UP_DECISION_VIEW: (
        IsOwner(Role.LEADER, "leader"),
        InUnit(Role.LEADER, "unit"),
        InUnit(Role.UNIT_HEAD, "unit"),
        InUnit(Role.CLERK, "case__registered_unit"),
        InUnit(Role.UNIT_HEAD, "case__registered_unit"),
        InUnit(Role.SUPERVISOR, "case__registered_unit"),
        InUnit(Role.UNIT_HEAD, "case__lead_unit"),
    ),
    Action.FOLLOW_UP_DECIDE: (IsOwner(Role.LEADER, "leader"), InUnit(Role.LEADER, "unit"),
                              InUnit(Role.UNIT_HEAD, "unit")),
    # A supervisor makes a campaign over the cases they see (the case list's scope); the
    # campaign belongs to the unit where they hold the role, whose supervisors, clerks and
    # heads follow its progress (followup/DECISIONS.md F12).
    Action.CAMPAIGN_CREATE: (InUnit(Role.SUPERVISOR),),
    Action.CAMPAIGN_VIEW: (InUnit(Role.SUPERVISOR, "unit"), InUnit(Role.UNIT_HEAD, "unit"),
                           InUnit(Role.CLERK, "unit")),
    # A grid worker sees the reports of their grid; the township centre (a mediator in the
    # township or above), its leaders and supervisors those of the township; the county's
    # petition office those of its county, as intake's repeat check shows them (mediation/
    # DECISIONS.md M1). The centre triages; the petition office registers 包案 cases.
    Action.GRID_REPORT_VIEW: (
        InUnit(Role.GRID_WORKER, "grid"),
        InUnit(Role.MEDIATOR, "township"),
        InUnit(Role.LEADER, "township"),
        InUnit(Role.SUPERVISOR, "township"),
        InUnit(Role.CLERK, "township", county_office=True),
    ),
    Action.GRID_REPORT_TRIAGE: (InUnit(Role.MEDIATOR, "township"),),
    Action.GRID_REPORT_REGISTER: (InUnit(Role.CLERK, "township", county_office=True),),
    # A mediator sees and works the cases of the committees in their unit and below (a
    # village's committee; the township's, and its villages'); supervisors see them.
    Action.MEDIATION_VIEW: (InUnit(Role.MEDIATOR, "committee__unit"),
                            InUnit(Role.SUPERVISOR, "committee__unit"),
                            InUnit(Role.LEADER, "committee__unit")),
    Action.MEDIATION_ACT: (InUnit(Role.MEDIATOR, "committee__unit"),),
    # The lead unit that handles a petition case, or the office that has not routed it,
    # sends it to mediation (R22 Art.37).
    Action.CASE_SEND_TO_MEDIATION: (InUnit(Role.HANDLER, _LEAD), InUnit(Role.UNIT_HEAD, _LEAD),
                                    InUnit(Role.CLERK, _OFFICE)),
    # A supervision order is answered by the unit it is addressed to (``order.unit``): the
    # lead unit, or the petition office on a case it had not routed yet.
    Action.SUPERVISION_ANSWER: (InUnit(Role.HANDLER, "unit"), InUnit(Role.UNIT_HEAD, "unit"),
                                InUnit(Role.CLERK, "unit")),
    # The board is the county's: which county's is the board's own filter
    # (``supervision_board`` in cases/selectors/supervision.py).
    # The administrators see no case content unless they also hold a case role.
    Action.SUPERVISION_BOARD: tuple(InUnit(role) for role in Role if role not in ADMIN_ROLES),
    Action.ADMIN_SITE: tuple(InUnit(role) for role in Role if role in ADMIN_ROLES),
    # "Cannot grant a role at or above their own unit": units and grants strictly below.
    Action.UNIT_MANAGE: (InUnit(Role.ADMINISTRATOR, strict=True),),
    Action.ROLE_MANAGE: (InUnit(Role.ADMINISTRATOR, "unit", strict=True),),
    Action.USER_MANAGE: (UserWithin(Role.ADMINISTRATOR),),
    # The calendar, clock rules, ladder and categories are every county's: edited only by
    # a system administrator of a county.
    Action.REFERENCE_EDIT: (AtTop(Role.ADMINISTRATOR),),
    Action.SECURITY_ADMINISTER: (InUnit(Role.SECURITY_ADMIN),),
    Action.USER_SECURE: (UserWithin(Role.SECURITY_ADMIN),),
    Action.LOCKOUT_RESET: (UserWithin(Role.SECURITY_ADMIN, "username"),),
    Action.AUDIT_READ: (InUnit(Role.AUDIT_ADMIN),),
    # The audit administrator reads the events of the cases of their jurisdiction (who did
    # what, when; not the case's content: cases/admin/audit.py), and the admin's and the
    # login log of the users in it, their peers' included.
    Action.AUDIT_CASE_EVENTS: (InUnit(Role.AUDIT_ADMIN, "case__registered_unit"),
                               InUnit(Role.AUDIT_ADMIN, "case__lead_unit"),
                               InUnit(Role.AUDIT_ADMIN, "case__place_unit")),
    Action.AUDIT_ADMIN_LOG: (UserWithin(Role.AUDIT_ADMIN, "user", peers=True),),
    Action.AUDIT_LOGINS: (UserWithin(Role.AUDIT_ADMIN, "username", peers=True),),
}

# What a Django superuser (the break-glass account ``createsuperuser`` makes at
# installation) may do without holding a role: administration, never case content.
BREAK_GLASS = frozenset({
    Action.ADMIN_SITE, Action.ADMINISTER, Action.UNIT_MANAGE, Action.ROLE_MANAGE,
    Action.USER_MANAGE, Action.REFERENCE_EDIT, Action.SECURITY_ADMINISTER, Action.USER_SECURE,
    Action.LOCKOUT_RESET, Action.AUDIT_READ, Action.AUDIT_CASE_EVENTS, Action.AUDIT_ADMIN_LOG,
    Action.AUDIT_LOGINS,
})

# Actions a recused staff member may not take on the case (回避, R22 Art.28).
HANDLING_ACTIONS = frozenset({
    Action.CASE_NOTE, Action.CASE_ROUTE, Action.CASE_DECIDE_RETURN, Action.CASE_SIGN, Action.CASE_HANDLE,
    Action.CASE_REQUEST_EXTENSION, Action.CASE_APPROVE_EXTENSION, Action.CASE_REVIEW,
    Action.CASE_LEAD, Action.CASE_REVEAL_IDENTITY, Action.CASE_SUPERVISE,
    Action.CASE_ASSIGN_LEADER, Action.CASE_ATTACH, Action.CASE_HEARING, Action.CASE_DELIVER,
    Action.CASE_VIEW_IDENTITY, Action.CASE_COMMIT, Action.CASE_INSTRUCT,
    Action.CASE_ANSWER_INSTRUCTION, Action.SUPERVISION_ANSWER, Action.CASE_REISSUE_QUERY_CODE,
    Action.FOLLOW_UP_ASSIGN, Action.FOLLOW_UP_RECORD, Action.FOLLOW_UP_DECIDE,
    Action.CASE_SEND_TO_MEDIATION,
})

# Actions refused to anyone holding a role in the unit complained about or below it
# (R22 Art.30: the accuser's identity is not revealed to the accused).
DENIED_TO_ACCUSED = frozenset({Action.CASE_VIEW_IDENTITY, Action.CASE_REVEAL_IDENTITY,
                               Action.CASE_REISSUE_QUERY_CODE, Action.FOLLOW_UP_ASSIGN,
                               Action.FOLLOW_UP_RECORD, Action.FOLLOW_UP_DECISION_VIEW,
                               Action.FOLLOW_UP_DECIDE})


def can(user: Any, action: Action, obj: Any = None) -> bool:
    """Whether ``user`` may do ``action``; without ``obj``, whether anywhere at all."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser and action in BREAK_GLASS:
        return True
    held = held_roles(user)
    grants = GRANTS[action]
    if obj is None:
        return any(_anywhere(grant, held) for grant in grants)
    if action in HANDLING_ACTIONS and is_recused(user, obj):
        return False
    if action in DENIED_TO_ACCUSED and holds_role_within(user, getattr(obj, "complained_unit", None)):
        return False
    return any(_allows(grant, user, held, obj) for grant in grants)


def scope(user: Any, action: Action, queryset: QuerySet) -> QuerySet:
    """Filter ``queryset`` to the objects on which ``user`` may do ``action``."""
    if not (user and user.is_authenticated and user.is_active):
        return queryset.none()
    if user.is_superuser and action in BREAK_GLASS:
        return queryset
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


def _anywhere(grant: Grant, held: dict) -> bool:
    """Whether the user may take the grant's action on some object (no object named)."""
    if isinstance(grant, AtTop):
        return any(path_is_top(path) for path in held.get(grant.role, ()))
    if getattr(grant, "county_office", False):  # held outside the county's offices: nowhere
        return bool(_roots(grant, held))
    return grant.role in held


def _allows(grant: Grant, user: Any, held: dict, obj: Any) -> bool:
    if isinstance(grant, IsOwner):
        return grant.role in held and getattr(obj, f"{grant.field}_id", None) == user.pk
    if isinstance(grant, AtTop):
        return _anywhere(grant, held)
    roots = _roots(grant, held)
    if isinstance(grant, UserWithin):
        return bool(roots) and _user_within(grant, roots, obj)
    if grant.many:
        return any(_within(unit.path, roots, grant.strict)
                   for unit in getattr(obj, grant.via).all())
    unit = obj if grant.via == "self" else _follow(obj, grant.via)
    return unit is not None and _within(unit.path, roots, grant.strict)


def _within(path: str, roots: Iterable[str], strict: bool = False) -> bool:
    return any(path_contains(root, path) and not (strict and path == root) for root in roots)


def _follow(obj: Any, via: str) -> Any:
    """``obj.case.lead_unit`` for ``via="case__lead_unit"``; None if a link is empty."""
    for name in via.split("__"):
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def _user_within(grant: UserWithin, roots: tuple[str, ...], obj: Any) -> bool:
    from .models import User

    if grant.via == "self":
        user = obj
    elif obj._meta.get_field(grant.via).is_relation:
        user = getattr(obj, grant.via)
    else:  # a user name, as the login log keeps it
        user = User.objects.filter(username=getattr(obj, grant.via)).first()
        if user is None:
            return any(path_is_top(root) for root in roots)
    if user is None:
        return False
    if user.is_superuser:
        return grant.peers
    for role, path in user.role_assignments.values_list("role", "unit__path"):
        if not _within(path, roots):
            return False
        if not grant.peers and role in ADMIN_ROLES and not _within(path, roots, strict=True):
            return False
    return True


def _condition(grant: Grant, user: Any, held: dict, model: Any) -> Q:
    """The SQL form of one grant.

    A unit reached through a foreign key becomes ``fk IN (SELECT id FROM unit
    WHERE path LIKE 'root%')``: no join, so several grants OR together as index
    scans on the case table's foreign-key indexes, even at a million rows.
    """
    if grant.role not in held:
        return Q(pk__in=[])
    if isinstance(grant, IsOwner):
        return Q(**{grant.field: user})
    if isinstance(grant, AtTop):
        return Q() if _anywhere(grant, held) else Q(pk__in=[])
    if isinstance(grant, UserWithin):
        return _user_condition(grant, held[grant.role], model)
    roots = _subtrees(_roots(grant, held), strict=grant.strict)
    if grant.via == "self":
        return roots
    units = OrgUnit.objects.filter(roots).values("pk")
    if grant.many:  # a semi-join, so a case with two matching units is listed once
        return Q(pk__in=model.objects.filter(**{f"{grant.via}__in": units}).values("pk"))
    return Q(**{f"{grant.via}__in": units})


def _roots(grant: Grant, held: dict) -> tuple[str, ...]:
    """The paths of the units where the user holds the grant's role; for a grant
    ``county_office=True``, the counties of those among them that are the county's offices
    (the county itself, or a department under it; one query of their kinds)."""
    roots = held.get(grant.role, ())
    if getattr(grant, "county_office", False) and roots:
        offices = OrgUnit.objects.filter(path__in=roots, depth__lte=2,
                                         kind__in=(UnitKind.COUNTY, UnitKind.DEPARTMENT))
        return tuple({path[:OrgUnit.steplen] for path in offices.values_list("path", flat=True)})
    return roots


def _subtrees(roots: Iterable[str], *, strict: bool = False) -> Q:
    """Units in (or, ``strict``, strictly below) any of the units at ``roots``."""
    condition = Q(pk__in=[])
    for root in roots:
        below = Q(path__startswith=root)
        condition |= below & ~Q(path=root) if strict else below
    return condition


def _user_condition(grant: UserWithin, roots: tuple[str, ...], model: Any) -> Q:
    """The SQL form of :class:`UserWithin`: no role outside the subtrees (and, without
    ``peers``, no administrator role in or above the held units, and no superuser)."""
    from .models import RoleAssignment, User

    within = OrgUnit.objects.filter(_subtrees(roots)).values("pk")
    users = User.objects.exclude(pk__in=RoleAssignment.objects.exclude(unit__in=within)
                                 .values("user"))
    if not grant.peers:
        below = OrgUnit.objects.filter(_subtrees(roots, strict=True)).values("pk")
        level = (RoleAssignment.objects.filter(role__in=ADMIN_ROLES)
                 .exclude(unit__in=below).values("user"))
        users = users.exclude(pk__in=level).filter(is_superuser=False)
    if grant.via == "self":
        return Q(pk__in=users.values("pk"))
    if model._meta.get_field(grant.via).is_relation:
        return Q(**{f"{grant.via}__in": users.values("pk")})
    condition = Q(**{f"{grant.via}__in": users.values("username")})
    if any(path_is_top(root) for root in roots):
        condition |= ~Q(**{f"{grant.via}__in": User.objects.values("username")})
    return condition
