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
    ADMINISTRATOR = "administrator", _("Administrator")
