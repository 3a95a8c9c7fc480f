"""Writes about users, units and roles."""

from django.db import transaction

from .choices import Role
from .models import OrgUnit, RoleAssignment, User
from .permissions import forget_roles


@transaction.atomic
def org_unit_create(*, name: str, kind: str, code: str, parent: OrgUnit | None) -> OrgUnit:
    """Add a unit under ``parent`` (or as a county at the top), checking the kind fits."""
    unit = OrgUnit(name=name, kind=kind, code=code)
    unit.clean_parent(parent)
    if parent is None:
        return OrgUnit.objects.add_root(instance=unit)
    return OrgUnit.objects.add_child(parent, instance=unit)


@transaction.atomic
def role_grant(*, user: User, role: Role, unit: OrgUnit) -> RoleAssignment:
    """Give ``user`` ``role`` in ``unit``; an administrator also gets the admin site."""
    assignment, _created = RoleAssignment.objects.get_or_create(user=user, role=role, unit=unit)
    if role == Role.ADMINISTRATOR and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    forget_roles(user)
    return assignment


@transaction.atomic
def role_revoke(*, user: User, role: Role, unit: OrgUnit) -> None:
    """Take ``role`` in ``unit`` away from ``user``."""
    RoleAssignment.objects.filter(user=user, role=role, unit=unit).delete()
    if role == Role.ADMINISTRATOR and not user.role_assignments.filter(role=role).exists():
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    forget_roles(user)


def user_set_language(*, user: User, language: str) -> None:
    """Remember the user's interface language."""
    user.language = language
    user.save(update_fields=["language"])
