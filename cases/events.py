"""Writing the audit trail: every service that changes a case calls this once per change."""

from datetime import datetime
from typing import Any

from .models import Case, CaseEvent


def case_event_record(*, case: Case, kind: str, actor: Any, at: datetime,
                      from_status: str = "", to_status: str = "",
                      details: dict | None = None) -> CaseEvent:
    """Append one row to the case's audit trail (the table refuses updates and deletes)."""
    return CaseEvent.objects.create(
        case=case, kind=kind, actor=actor if actor is not None and actor.pk else None, at=at,
        from_status=from_status, to_status=to_status, details=details or {},
    )
