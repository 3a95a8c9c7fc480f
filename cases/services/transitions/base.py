"""The shared step: authorize once, run the transition, save, audit, move the clocks.

The graph and its guards live on ``Case`` (cases/models/case.py); which clocks
each step moves lives in ``STEP_CLOCKS`` (cases/services/step_clocks.py). A
service here asks the permission module once, through django-fsm's
``has_transition_perm``; only a refusal asks again, to word its message.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed, has_transition_perm

from accounts.models import User
from accounts.permissions import Action, can, is_recused

from ... import events
from ...choices import STEP_LABELS
from ...models import Case
from ..errors import CaseChangedByOther, TransitionRefused
from ..step_clocks import move_clocks


def authorize(*, case: Case, name: str, actor: User) -> None:
    """Refuse a step the actor may not take, or that the case's state does not allow.

    Someone who may not see the case is refused with a message that says nothing
    about the case or its state.
    """
    method = getattr(case, name)
    if has_transition_perm(method, actor):
        return
    if not can(actor, Action.CASE_VIEW, case):
        raise PermissionDenied(_("You may not take this step on this case."))
    params = {"number": case.number, "step": STEP_LABELS[name],
              "status": case.get_status_display()}
    if not can_proceed(method):
        raise TransitionRefused(
            _("Case %(number)s is “%(status)s”; the step “%(step)s” is not possible now.")
            % params)
    if is_recused(actor, case):
        raise PermissionDenied(
            _("You declared an interest in case %(number)s (recusal) and may not take the "
              "step “%(step)s”.") % params)
    raise PermissionDenied(_("You may not take the step “%(step)s” on case %(number)s.") % params)


def transition(*, case: Case, name: str, arguments: dict | None = None) -> str:
    """Run an authorized transition and save what it changed; return the old status.

    Only the fields the transition changed are written (with the status and
    ``updated_at``), so a stale copy cannot write back another user's edit of,
    say, the leader. The UPDATE is guarded on the old status
    (ConcurrentTransitionMixin): a case that moved on meanwhile is refused.
    """
    previous = case.status
    fields = [field.attname for field in case._meta.concrete_fields if not field.primary_key]
    before = {field: getattr(case, field) for field in fields}
    try:
        getattr(case, name)(**(arguments or {}))
        changed = {field for field in fields if getattr(case, field) != before[field]}
        case.save(update_fields=sorted(changed | {"status", "updated_at"}))
    except TransitionNotAllowed as exc:
        raise TransitionRefused() from exc
    except ConcurrentTransition as exc:
        raise CaseChangedByOther() from exc
    return previous


def step(*, case: Case, name: str, actor: User, at: datetime, arguments: dict | None = None,
         **event_details) -> str:
    """Take an authorized step: transition, its one TRANSITION event, its clocks."""
    previous = transition(case=case, name=name, arguments=arguments)
    events.record(events.transition(case=case, actor=actor, at=at, step=name, previous=previous,
                                    **event_details))
    move_clocks(case=case, step_name=name, actor=actor, at=at,
                reason=str(STEP_LABELS.get(name, name)))
    return previous


def now(at: datetime | None) -> datetime:
    return at or timezone.now()
