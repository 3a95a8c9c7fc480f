"""Reads about users and units."""

from collections.abc import Iterable

from .models import RoleAssignment


def roles_summary(*, user) -> str:
    """A short line naming the user's roles and units, e.g. "接访登记员 · 县信访局"."""
    assignments = RoleAssignment.objects.filter(user=user).select_related("unit").order_by("role")
    return "；".join(f"{a.get_role_display()} · {a.unit.name}" for a in assignments)


def unit_staff(*, unit_ids: Iterable[int], roles: Iterable[str]) -> dict[int, set[int]]:
    """The active users holding one of ``roles`` in each of the units themselves (not the
    units below), by unit: whom a notification to "the unit" reaches. One query."""
    staff: dict[int, set[int]] = {}
    for unit, user in (RoleAssignment.objects
                       .filter(unit_id__in=set(unit_ids), role__in=list(roles),
                               user__is_active=True, unit__is_active=True)
                       .values_list("unit_id", "user_id")):
        staff.setdefault(unit, set()).add(user)
    return staff
