"""Writes about users, units and roles.

The administrators' writes (三员分立) take the acting administrator as ``actor``, ask the
permission module, and leave a row in the admin's log (``LogEntry``), which the audit
administrator reads. ``actor=None`` is the installation and the demo seeding: no check.
"""

from collections.abc import Iterable

from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import ADMIN_ROLES, Role
from .models import CHILD_POSITIONS, OrgUnit, RoleAssignment, User
from .permissions import Action, can, forget_roles


@transaction.atomic
def org_unit_create(*, name: str, kind: str, code: str, parent: OrgUnit | None) -> OrgUnit:
    """Add a unit under ``parent`` (or as a county at the top), checking the kind fits."""
    unit = OrgUnit(name=name, kind=kind, code=code)
    unit.clean_parent(parent)
    if parent is None:
        return OrgUnit.objects.add_root(instance=unit)
    return OrgUnit.objects.add_child(parent, instance=unit)


@transaction.atomic
def org_unit_move(*, unit: OrgUnit, target: OrgUnit, position: str, actor: User) -> OrgUnit:
    """Move ``unit`` and its subtree beside or under ``target``, within the actor's subtree."""
    parent = target if position in CHILD_POSITIONS else OrgUnit.objects.get_parent(target)
    reaches = can(actor, Action.ADMINISTER, parent) if parent is not None else actor.is_superuser
    if not (can(actor, Action.UNIT_MANAGE, unit) and reaches):
        raise PermissionDenied(_("You may move only units below your own, and only within "
                                 "your own unit."))
    before = OrgUnit.objects.get_parent(unit)
    OrgUnit.objects.move(unit, target, pos=position)  # refuses a kind that may not sit there
    unit.refresh_from_db()
    org_unit_move_record(unit=unit, before=before, actor=actor)
    return unit


def org_unit_move_record(*, unit: OrgUnit, before: OrgUnit | None, actor: User) -> None:
    """Log a move: every jurisdiction under the unit is re-drawn with it."""
    after = OrgUnit.objects.get_parent(unit, update=True)
    if after == before:
        return
    below = OrgUnit.objects.get_descendant_count(unit)
    grants = RoleAssignment.objects.filter(unit__path__startswith=unit.path).count()
    admin_log(actor=actor, obj=unit, message=_(
        "Moved from under %(before)s to under %(after)s: the jurisdiction of this unit, of the "
        "%(below)d units below it and of the %(grants)d roles held in them moved with it.") % {
        "before": before or "-", "after": after or "-", "below": below, "grants": grants})


def role_grant_check(*, user: User, role: str, unit: OrgUnit, actor: User | None) -> None:
    """Refuse a grant outside the actor's reach, or a second administrator role (三员分立)."""
    if actor is not None:
        if not can(actor, Action.ROLE_MANAGE, RoleAssignment(user=user, role=role, unit=unit)):
            raise PermissionDenied(_("You may grant roles only in units below your own."))
        if user.pk is not None and not can(actor, Action.USER_MANAGE, user):
            raise PermissionDenied(_("This user holds a role outside your jurisdiction."))
    if role in ADMIN_ROLES and user.pk is not None:
        other = user.role_assignments.filter(role__in=ADMIN_ROLES).exclude(role=role).first()
        if other is not None:
            raise ValidationError(
                _("%(user)s is already %(other)s; one person holds only one of the three "
                  "administrator roles."),
                code="admin_roles_separate",
                params={"user": user, "other": other.get_role_display()})


@transaction.atomic
def role_grant(*, user: User, role: Role, unit: OrgUnit,
               actor: User | None = None) -> RoleAssignment:
    """Give ``user`` ``role`` in ``unit``; an administrator also gets the admin site."""
    role_grant_check(user=user, role=role, unit=unit, actor=actor)
    assignment, _created = RoleAssignment.objects.get_or_create(user=user, role=role, unit=unit)
    if role in ADMIN_ROLES and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    forget_roles(user)
    return assignment


@transaction.atomic
def role_revoke(*, user: User, role: Role, unit: OrgUnit, actor: User | None = None) -> None:
    """Take ``role`` in ``unit`` away from ``user``."""
    if actor is not None and not (
            can(actor, Action.ROLE_MANAGE, RoleAssignment(user=user, role=role, unit=unit))
            and can(actor, Action.USER_MANAGE, user)):
        raise PermissionDenied(_("You may revoke roles only in units below your own."))
    RoleAssignment.objects.filter(user=user, role=role, unit=unit).delete()
    if role in ADMIN_ROLES and not user.role_assignments.filter(role__in=ADMIN_ROLES).exists():
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    forget_roles(user)


@transaction.atomic
def user_deactivate(*, user: User, actor: User) -> None:
    """Deactivate instead of deleting, so every audit row keeps its actor; end the sessions."""
    if not can(actor, Action.USER_MANAGE, user):
        raise PermissionDenied(_("This user holds a role outside your jurisdiction."))
    if not user.is_active:
        return
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = sessions_delete(user_ids=[user.pk])
    admin_log(actor=actor, obj=user, message=_("Deactivated; %(count)d sessions ended.")
              % {"count": ended})


@transaction.atomic
def user_password_reset(*, user: User, password: str, actor: User) -> None:
    """Give ``user`` a password they must change; their open sessions end."""
    if not can(actor, Action.USER_SECURE, user):
        raise PermissionDenied(_("This user holds a role outside your jurisdiction."))
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    ended = sessions_delete(user_ids=[user.pk])
    admin_log(actor=actor, obj=user, message=_(
        "Password reset by the security administrator; the user must change it. "
        "%(count)d sessions ended.") % {"count": ended})


@transaction.atomic
def user_sessions_end(*, users: Iterable[User], actor: User) -> int:
    """Sign the users out everywhere; return how many sessions ended."""
    users = list(users)
    if not all(can(actor, Action.USER_SECURE, user) for user in users):
        raise PermissionDenied(_("This user holds a role outside your jurisdiction."))
    total = 0
    for user in users:
        ended = sessions_delete(user_ids=[user.pk])
        admin_log(actor=actor, obj=user, message=_("%(count)d sessions ended by the security "
                                                   "administrator.") % {"count": ended})
        total += ended
    return total


@transaction.atomic
def lockouts_reset(*, attempts: Iterable[Model], actor: User) -> int:
    """Clear login lockouts (django-axes attempts); each is logged before it goes."""
    attempts = list(attempts)
    if not all(can(actor, Action.LOCKOUT_RESET, attempt) for attempt in attempts):
        raise PermissionDenied(_("This login is outside your jurisdiction."))
    for attempt in attempts:
        admin_log(actor=actor, obj=attempt, flag=DELETION,
                  message=_("Lockout of %(username)s reset.") % {"username": attempt.username})
        attempt.delete()
    return len(attempts)


def user_session_keys(*, user_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Map each unexpired session's key to its signed-in user's id (for ``user_ids`` only).

    Sessions live in the database, their user inside the encoded data: they are decoded one
    by one. Idle sessions expire after SESSION_COOKIE_AGE, so few are live at any time.
    """
    wanted = None if user_ids is None else {str(pk) for pk in user_ids}
    found = {}
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        user_id = session.get_decoded().get("_auth_user_id")
        if user_id is not None and (wanted is None or user_id in wanted):
            found[session.session_key] = int(user_id)
    return found


def admin_log(*, actor: User, obj: Model, message: str, flag: int = CHANGE) -> None:
    """One row in the admin's log, which the audit administrator reads."""
    LogEntry.objects.log_actions(actor.pk, [obj], flag, change_message=message,
                                 single_object=True)


def user_set_language(*, user: User, language: str) -> None:
    """Remember the user's interface language."""
    user.language = language
    user.save(update_fields=["language"])


def sessions_delete(*, user_ids: list[int]) -> int:
    keys = list(user_session_keys(user_ids=user_ids))
    Session.objects.filter(session_key__in=keys).delete()
    return len(keys)
