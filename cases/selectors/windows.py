"""Reads about a case's clocks and windows, and the steps a user may take now."""

from datetime import datetime

from django.utils import timezone

from accounts.models import User

from ..choices import CaseStatus, ClockKind, ClockStatus, DecisionKind
from ..models import Case, Deadline, Decision


def live_deadline(*, case: Case, kind: str) -> Deadline | None:
    """Return the case's running (open or paused) clock of ``kind``, if any."""
    return Deadline.objects.filter(case=case, kind=kind).live().first()


def _window_open(deadline: Deadline | None, at: datetime) -> bool:
    """A window is open while its clock runs and is not past due (a paused clock is open)."""
    if deadline is None:
        return False
    return deadline.status == ClockStatus.PAUSED or at < deadline.due_at


def objection_deadline(*, case: Case) -> Deadline | None:
    """Return the case's running OBJECTION clock (R22 Art.23), if any."""
    return live_deadline(case=case, kind=ClockKind.OBJECTION)


def objection_window_open(*, case: Case, at: datetime) -> bool:
    """Whether a return may still be asked for: an OBJECTION clock runs and is not past due."""
    return _window_open(objection_deadline(case=case), at)


def review_window_open(*, case: Case, at: datetime) -> bool:
    """Whether a review may be asked for: the REVIEW_REQUEST clock runs, not past due (Art.35)."""
    return _window_open(live_deadline(case=case, kind=ClockKind.REVIEW_REQUEST), at)


def rereview_window_open(*, case: Case, at: datetime) -> bool:
    """Whether a re-review may be asked for: REREVIEW_REQUEST runs, not past due (Art.36)."""
    return _window_open(live_deadline(case=case, kind=ClockKind.REREVIEW_REQUEST), at)


# The petitioner's request window that must lapse before a case in this state is closed.
REQUEST_WINDOW_BEFORE_CLOSE = {
    CaseStatus.REPLIED: ClockKind.REVIEW_REQUEST,
    CaseStatus.REVIEWED: ClockKind.REREVIEW_REQUEST,
}


# The decision whose delivery opens that window.
DECISION_BEFORE_CLOSE = {
    CaseStatus.REPLIED: DecisionKind.REPLY,
    CaseStatus.REVIEWED: DecisionKind.REVIEW,
}


def undelivered_decision(*, case: Case) -> Decision | None:
    """The decision in force that awaits delivery before its request window can run, if any
    (the case page says "not yet delivered")."""
    kind = DECISION_BEFORE_CLOSE.get(case.status)
    if kind is None:
        return None
    return Decision.objects.filter(case=case, kind=kind, superseded_at__isnull=True,
                                   delivered_on__isnull=True).first()


def close_window_deadline(*, case: Case) -> Deadline | None:
    """The live request clock that keeps ``case`` from being closed yet, if any."""
    kind = REQUEST_WINDOW_BEFORE_CLOSE.get(case.status)
    return None if kind is None else live_deadline(case=case, kind=kind)


def request_window_lapsed(*, case: Case, at: datetime) -> bool:
    """Whether ``case`` may be closed: its decision was delivered and the review or re-review
    request window has lapsed (or none runs), so the petitioner can no longer ask (R22
    Art.35-36)."""
    if undelivered_decision(case=case) is not None:
        return False
    return not _window_open(close_window_deadline(case=case), at)


# Checks outside the state machine (they read other rows), shared with the services
# so the buttons offered are the steps the services accept.
_EXTRA_GUARDS = {
    "request_return": objection_window_open,
    "request_review": review_window_open,
    "request_rereview": rereview_window_open,
    "close": request_window_lapsed,
}


# Transitions a service takes on behalf of another step's button: recording a review
# or re-review decision that revokes (cases/services/transitions/review.py).
_TAKEN_BY_ANOTHER_STEP = frozenset({"revoke_on_review", "revoke_on_rereview"})


def case_available_transitions(*, user: User, case: Case, at: datetime | None = None) -> list[str]:
    """Name the steps ``user`` may take on ``case`` now: the FSM's answer plus the service rules."""

    at = at or timezone.now()
    names = []
    for transition in case.get_available_user_status_transitions(user):
        if transition.name in _TAKEN_BY_ANOTHER_STEP:
            continue
        guard = _EXTRA_GUARDS.get(transition.name)
        if guard is None or guard(case=case, at=at):
            names.append(transition.name)
    return names
