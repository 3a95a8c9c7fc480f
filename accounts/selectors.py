"""Reads about users and units."""

from .models import RoleAssignment


def roles_summary(*, user) -> str:
    """A short line naming the user's roles and units, e.g. "接访登记员 · 县信访局"."""
    assignments = RoleAssignment.objects.filter(user=user).select_related("unit").order_by("role")
    return "；".join(f"{a.get_role_display()} · {a.unit.name}" for a in assignments)
