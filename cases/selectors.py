"""Reads of cases, ready for the page; every list starts from ``visible_to(user)``."""

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import User

from .choices import ClockKind, ClockStatus
from .models import Case, Deadline

# The filters a list page may pass; anything else is ignored.
_FILTERS = {
    "status": "status",
    "office": "registered_unit",
    "lead_unit": "lead_unit",
    "channel": "channel",
    "number": "number__startswith",
}


def case_list(*, user: User, filters: dict[str, Any] | None = None):
    """List the cases the permission module lets ``user`` see, newest first."""
    queryset = (
        Case.objects.visible_to(user)
        .select_related("registered_unit", "lead_unit", "place_unit", "category", "leader")
        .order_by("-received_at", "-pk")
    )
    for key, value in (filters or {}).items():
        if key in _FILTERS and value not in (None, ""):
            queryset = queryset.filter(**{_FILTERS[key]: value})
    return queryset


def case_get(*, user: User, pk: int) -> Case:
    """Return one case ``user`` may see; Case.DoesNotExist for any other (no existence leak)."""
    return (
        Case.objects.visible_to(user)
        .select_related("registered_unit", "lead_unit", "place_unit", "complained_unit",
                        "category", "leader", "registered_by")
        .get(pk=pk)
    )


def objection_deadline(*, case: Case) -> Deadline | None:
    """Return the case's running OBJECTION clock (R22 Art.23), if any."""
    return (
        Deadline.objects.filter(case=case, kind=ClockKind.OBJECTION)
        .filter(Q(status=ClockStatus.OPEN) | Q(status=ClockStatus.PAUSED))
        .first()
    )


def objection_window_open(*, case: Case, at: datetime) -> bool:
    """Whether a return may still be asked for: an OBJECTION clock runs and is not past due."""
    deadline = objection_deadline(case=case)
    if deadline is None:
        return False
    return deadline.status == ClockStatus.PAUSED or at < deadline.due_at


# Checks outside the state machine (they read other rows), shared with the services
# so the buttons offered are the steps the services accept.
_EXTRA_GUARDS = {
    "request_return": objection_window_open,
}


def case_available_transitions(*, user: User, case: Case, at: datetime | None = None) -> list[str]:
    """Name the steps ``user`` may take on ``case`` now: the FSM's answer plus the service rules."""

    at = at or timezone.now()
    names = []
    for transition in case.get_available_user_status_transitions(user):
        guard = _EXTRA_GUARDS.get(transition.name)
        if guard is None or guard(case=case, at=at):
            names.append(transition.name)
    return names
