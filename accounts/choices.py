"""Kinds of org unit and the roles a user can hold in one."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    COUNTY = "county", _("County")
    TOWNSHIP = "township", _("Township")
    STREET = "street", _("Street")
    DEPARTMENT = "department", _("Department")
    VILLAGE = "village", _("Village")
    COMMUNITY = "community", _("Community")
    GRID = "grid", _("Grid")


# Which kinds may sit directly under which: county → townships, streets and
# departments → villages and communities → grids.
ALLOWED_CHILDREN: dict[str, frozenset[str]] = {
    UnitKind.COUNTY: frozenset({UnitKind.TOWNSHIP, UnitKind.STREET, UnitKind.DEPARTMENT}),
    UnitKind.TOWNSHIP: frozenset({UnitKind.VILLAGE, UnitKind.COMMUNITY}),
    UnitKind.STREET: frozenset({UnitKind.VILLAGE, UnitKind.COMMUNITY}),
    UnitKind.DEPARTMENT: frozenset(),
    UnitKind.VILLAGE: frozenset({UnitKind.GRID}),
    UnitKind.COMMUNITY: frozenset({UnitKind.GRID}),
    UnitKind.GRID: frozenset(),
}


class Role(models.TextChoices):
    CLERK = "clerk", _("Intake clerk")
    HANDLER = "handler", _("Handler")
    UNIT_HEAD = "unit_head", _("Unit head")
    LEADER = "leader", _("Responsible leader")
    SUPERVISOR = "supervisor", _("Supervisor")
    GRID_WORKER = "grid_worker", _("Grid worker")
    MEDIATOR = "mediator", _("Mediator")
    ADMINISTRATOR = "administrator", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


# The three administrators (三员分立): the system administrator (units, users, roles, the
# reference tables), the security administrator (passwords, lockouts, sessions) and the
# audit administrator (reads the audit trail). One user holds at most one of them, and none
# of them reaches case content without a case role as well.
ADMIN_ROLES: frozenset[str] = frozenset({Role.ADMINISTRATOR, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
