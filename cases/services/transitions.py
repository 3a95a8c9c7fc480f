"""One service per step of the case's state machine (R22 Art.21-36).

The graph and its guards live on ``Case`` (cases/models/case.py). Each service
here checks the actor's right through django-fsm's ``has_transition_perm`` (which
asks the permission module), runs the transition, saves, writes one TRANSITION
event and starts or stops the statutory clocks (DOMAIN.md §2), all in one
transaction: a refusal or a concurrent change leaves nothing half-saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed, has_transition_perm

from accounts.models import OrgUnit, User
from accounts.permissions import Action, can, is_recused

from ..choices import (
    ClockKind,
    ClockStatus,
    DecisionKind,
    DiversionChannel,
    EventKind,
    Outcome,
    ReviewOutcome,
)
from ..deadlines.calendar import Unit
from ..deadlines.clocks import clock_cancel, clock_meet, clock_start
from ..events import case_event_record
from ..models import Case, Deadline, Decision
from ..selectors import (
    close_window_deadline,
    live_deadline,
    objection_deadline,
    objection_window_open,
    request_window_lapsed,
    rereview_window_open,
    review_window_open,
)
from .errors import CaseChangedByOther, TransitionRefused

# What each step is called on a button and in a refusal.
STEP_LABELS = {
    "answer_on_spot": _("Answer on the spot"),
    "refuse": _("Refuse (not accepted)"),
    "route": _("Route to a unit"),
    "sign": _("Sign for"),
    "request_return": _("Ask to return"),
    "agree_return": _("Agree to the return"),
    "refuse_return": _("Refuse the return"),
    "accept": _("Accept (acceptance notice)"),
    "start_handling": _("Start handling"),
    "reply": _("Reply in writing"),
    "request_review": _("Record a review request"),
    "decide_review": _("Record the review decision"),
    "request_rereview": _("Record a re-review request"),
    "decide_rereview": _("Record the re-review decision"),
    "close": pgettext_lazy("case step", "Close"),
    "reopen": _("Reopen"),
}


@dataclass(frozen=True)
class DecisionInput:
    """A written decision: request, facts, reasons, outcome and legal basis (R22 Art.32)."""

    request: str
    facts: str
    reasons: str
    outcome: str
    legal_basis: str
    review_outcome: str = ""


# --- The shared step -------------------------------------------------------------

def _authorize(*, case: Case, name: str, actor: User) -> None:
    """Refuse a step the actor may not take, or that the case's state does not allow.

    Someone who may not see the case is refused first, with a message that says
    nothing about the case or its state.
    """
    if not can(actor, Action.CASE_VIEW, case):
        raise PermissionDenied(_("You may not take this step on this case."))
    method = getattr(case, name)
    if has_transition_perm(method, actor):
        return
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


def _apply(*, case: Case, name: str, actor: User, at: datetime, arguments: dict | None = None,
           details: dict | None = None) -> str:
    """Authorize, run the transition, save and write its one event; return the old status."""
    previous = _transition(case=case, name=name, actor=actor, arguments=arguments)
    _record_transition(case=case, name=name, actor=actor, at=at, previous=previous,
                       details=details)
    return previous


def _transition(*, case: Case, name: str, actor: User, arguments: dict | None = None) -> str:
    """Authorize, run the transition and save what it changed; return the old status.

    Only the fields the transition changed are written (with the status and
    ``updated_at``), so a stale copy cannot write back another user's edit of,
    say, the leader. The UPDATE is guarded on the old status
    (ConcurrentTransitionMixin): a case that moved on meanwhile is refused.
    """
    _authorize(case=case, name=name, actor=actor)
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


def _record_transition(*, case: Case, name: str, actor: User, at: datetime, previous: str,
                       details: dict | None = None) -> None:
    case_event_record(case=case, kind=EventKind.TRANSITION, actor=actor, at=at,
                      from_status=previous, to_status=case.status,
                      details={"step": name, **(details or {})})


def _live_kinds(case: Case) -> set[str]:
    return set(Deadline.objects.filter(case=case, status__in=[ClockStatus.OPEN, ClockStatus.PAUSED])
               .values_list("kind", flat=True))


def _clocks(*, case: Case, actor: User, at: datetime, meet: Iterable[str] = (),
            start: Iterable[str] = (), cancel: Iterable[str] = (), reason: str = "") -> None:
    """Meet, cancel, then start clocks; a clock that is not running is left alone."""
    live = _live_kinds(case)
    for kind in meet:
        if kind in live:
            clock_meet(case=case, kind=kind, actor=actor, at=at)
    for kind in cancel:
        if kind in live:
            clock_cancel(case=case, kind=kind, actor=actor, at=at, reason=reason)
    for kind in start:
        clock_start(case=case, kind=kind, start=at, actor=actor, at=at)


def _length(deadline: Deadline) -> str:
    """The clock's length in its unit, as the office's rule set it ("5 working days")."""
    count = deadline.length
    if deadline.unit == Unit.WORKING:
        text = ngettext("%(count)d working day", "%(count)d working days", count)
    else:
        text = ngettext("%(count)d calendar day", "%(count)d calendar days", count)
    return text % {"count": count}


def _required(value: str, message) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(message, code="required")
    return value


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


# --- Registration outcomes (R22 Art.21-22) -------------------------------------------

@transaction.atomic
def case_answer_on_spot(*, case: Case, actor: User, answer: str,
                        at: datetime | None = None) -> Case:
    """Answer the petitioner on the spot and close the item; routing and notice are met."""
    at = _now(at)
    _authorize(case=case, name="answer_on_spot", actor=actor)
    answer = _required(answer, _("Write down the answer given on the spot."))
    _apply(case=case, name="answer_on_spot", actor=actor, at=at,
           arguments={"answer": answer, "at": at})
    _clocks(case=case, actor=actor, at=at,
            meet=(ClockKind.ROUTING, ClockKind.ACCEPTANCE_NOTICE))
    return case


@transaction.atomic
def case_refuse(*, case: Case, actor: User, reason: str, channel: str,
                at: datetime | None = None) -> Case:
    """Refuse an item that belongs elsewhere and name the competent channel (R22 Art.22, 31)."""
    at = _now(at)
    _authorize(case=case, name="refuse", actor=actor)
    reason = _required(reason, _("Give the reason the petition is not accepted."))
    if channel not in DiversionChannel.values:
        raise ValidationError(_("Choose the channel where this matter belongs."),
                              code="diversion_channel")
    _apply(case=case, name="refuse", actor=actor, at=at,
           arguments={"reason": reason, "channel": channel, "at": at},
           details={"channel": channel})
    _clocks(case=case, actor=actor, at=at,
            meet=(ClockKind.ROUTING, ClockKind.ACCEPTANCE_NOTICE))
    return case


@transaction.atomic
def case_route(*, case: Case, actor: User, lead_unit: OrgUnit,
               co_units: Iterable[OrgUnit] = (), at: datetime | None = None) -> Case:
    """Route to a lead unit and co-handling units (R22 Art.22, 24); the objection window opens."""
    at = _now(at)
    _authorize(case=case, name="route", actor=actor)
    co_units = [unit for unit in co_units if unit.pk != lead_unit.pk]
    _check_route_units(case=case, units=[lead_unit, *co_units])
    _apply(case=case, name="route", actor=actor, at=at, arguments={"lead_unit": lead_unit},
           details={"lead_unit": lead_unit.code, "co_units": [unit.code for unit in co_units]})
    case.co_units.set(co_units)
    _clocks(case=case, actor=actor, at=at, meet=(ClockKind.ROUTING,),
            start=(ClockKind.OBJECTION,))
    return case


def _check_route_units(*, case: Case, units: list[OrgUnit]) -> None:
    """Refuse a unit outside the registering office's county, or one no longer active."""
    county = case.registered_unit.path[:OrgUnit.steplen]
    for unit in units:
        if not unit.is_active or not unit.path.startswith(county):
            raise ValidationError(
                _("%(unit)s is not an active unit of this county; choose another."),
                code="route_unit", params={"unit": unit.name})


# --- Sign-for or return (R22 Art.23) -----------------------------------------------------

@transaction.atomic
def case_sign(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Sign for a routed case: the lead unit takes it, and the objection window closes met."""
    at = _now(at)
    _apply(case=case, name="sign", actor=actor, at=at)
    _clocks(case=case, actor=actor, at=at, meet=(ClockKind.OBJECTION,))
    return case


@transaction.atomic
def case_request_return(*, case: Case, actor: User, reason: str,
                        at: datetime | None = None) -> Case:
    """Object with detailed reasons, only within the objection window (R22 Art.23)."""
    at = _now(at)
    _authorize(case=case, name="request_return", actor=actor)
    reason = _required(reason, _("Give detailed reasons why this unit is not competent."))
    if not objection_window_open(case=case, at=at):
        raise _objection_closed(case)
    _apply(case=case, name="request_return", actor=actor, at=at,
           arguments={"reason": reason}, details={"reason": reason})
    _clocks(case=case, actor=actor, at=at, meet=(ClockKind.OBJECTION,))
    return case


def _objection_closed(case: Case) -> ValidationError:
    deadline = objection_deadline(case=case)
    if deadline is None:
        return ValidationError(
            _("No objection window is running for this case (it opens when the case is "
              "routed); sign for the case instead."),
            code="objection_window_closed")
    return ValidationError(
        _("The objection window closed at the end of %(due)s (%(length)s after routing, "
          "Regulations on Letters and Visits Work, Art. 23); sign for the case instead."),
        code="objection_window_closed",
        params={"due": deadline.due_on.isoformat(), "length": _length(deadline)})


@transaction.atomic
def case_agree_return(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Take the case back after checking the objection; it must be routed again (R22 Art.23)."""
    at = _now(at)
    previous_unit = case.lead_unit.code if case.lead_unit_id else ""
    _apply(case=case, name="agree_return", actor=actor, at=at,
           details={"returned_by_unit": previous_unit})
    case.co_units.clear()
    # A fresh routing clock keeps the returned item in front of the office until re-routed.
    _clocks(case=case, actor=actor, at=at, cancel=(ClockKind.OBJECTION,),
            start=(ClockKind.ROUTING,), reason=str(_("Return agreed")))
    return case


@transaction.atomic
def case_refuse_return(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Refuse the return: the lead unit keeps the case as if it had signed for it."""
    at = _now(at)
    _apply(case=case, name="refuse_return", actor=actor, at=at)
    return case


# --- Handling and the written reply (R22 Art.23, 32, 34) --------------------------------

@transaction.atomic
def case_accept(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Issue the acceptance notice (R22 Art.23) and start the 60-day reply clock (Art.34)."""
    at = _now(at)
    _apply(case=case, name="accept", actor=actor, at=at)
    _clocks(case=case, actor=actor, at=at, meet=(ClockKind.ACCEPTANCE_NOTICE,),
            start=(ClockKind.REPLY,))
    return case


@transaction.atomic
def case_start_handling(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Record that the lead unit has started handling the accepted case."""
    at = _now(at)
    _apply(case=case, name="start_handling", actor=actor, at=at)
    return case


@transaction.atomic
def case_reply(*, case: Case, actor: User, decision: DecisionInput,
               at: datetime | None = None) -> Decision:
    """Issue the written reply (R22 Art.32): reply clock met, the 30-day review window opens."""
    at = _now(at)
    _authorize(case=case, name="reply", actor=actor)
    fields = _decision_fields(kind=DecisionKind.REPLY, decision=decision, actor=actor, at=at)
    # The status-guarded UPDATE goes first: of two people replying at once the second
    # is refused (CaseChangedByOther) before writing a second decision.
    previous = _transition(case=case, name="reply", actor=actor)
    row, superseded = _decision_record(case=case, kind=DecisionKind.REPLY, fields=fields)
    _record_transition(case=case, name="reply", actor=actor, at=at, previous=previous,
                       details={"decision": row.pk, "outcome": row.outcome, **superseded})
    _clocks(case=case, actor=actor, at=at, meet=(ClockKind.REPLY,),
            start=(ClockKind.REVIEW_REQUEST,))
    return row


# --- Review and re-review (R22 Art.35-36) -------------------------------------------------

@transaction.atomic
def case_request_review(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Record the petitioner's review request (R22 Art.35): the 30-day decision clock starts.

    Only while the review request window runs and is not past due.
    """
    at = _now(at)
    _authorize(case=case, name="request_review", actor=actor)
    if not review_window_open(case=case, at=at):
        raise _request_window_closed(case, ClockKind.REVIEW_REQUEST)
    _apply(case=case, name="request_review", actor=actor, at=at)
    _clocks(case=case, actor=actor, at=at, meet=(ClockKind.REVIEW_REQUEST,),
            start=(ClockKind.REVIEW_DECISION,))
    return case


@transaction.atomic
def case_decide_review(*, case: Case, actor: User, decision: DecisionInput,
                       at: datetime | None = None) -> Decision:
    """Record the written review decision (R22 Art.35): the re-review window opens."""
    at = _now(at)
    return _decide(case=case, name="decide_review", kind=DecisionKind.REVIEW,
                   decision=decision, actor=actor, at=at,
                   meet=ClockKind.REVIEW_DECISION, start=(ClockKind.REREVIEW_REQUEST,))


@transaction.atomic
def case_request_rereview(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Record the petitioner's re-review request (R22 Art.36): the 30-day decision clock starts.

    Only while the re-review request window runs and is not past due.
    """
    at = _now(at)
    _authorize(case=case, name="request_rereview", actor=actor)
    if not rereview_window_open(case=case, at=at):
        raise _request_window_closed(case, ClockKind.REREVIEW_REQUEST)
    _apply(case=case, name="request_rereview", actor=actor, at=at)
    _clocks(case=case, actor=actor, at=at, meet=(ClockKind.REREVIEW_REQUEST,),
            start=(ClockKind.REREVIEW_DECISION,))
    return case


@transaction.atomic
def case_decide_rereview(*, case: Case, actor: User, decision: DecisionInput,
                         at: datetime | None = None) -> Decision:
    """Record the re-review decision; the matter is final (R22 Art.36)."""
    at = _now(at)
    return _decide(case=case, name="decide_rereview", kind=DecisionKind.REREVIEW,
                   decision=decision, actor=actor, at=at, arguments={"at": at},
                   meet=ClockKind.REREVIEW_DECISION, start=())


def _request_window_closed(case: Case, kind: str) -> ValidationError:
    """The refusal of a review or re-review request made outside its window (R22 Art.35-36)."""
    deadline = live_deadline(case=case, kind=kind)
    if kind == ClockKind.REVIEW_REQUEST:
        if deadline is None:
            return ValidationError(
                _("No review request window is running for this case; a review can no longer "
                  "be asked for."), code="request_window_closed")
        message = _("The review request window closed at the end of %(due)s (%(length)s after "
                    "the written reply, Regulations on Letters and Visits Work, Art. 35).")
    else:
        if deadline is None:
            return ValidationError(
                _("No re-review request window is running for this case; a re-review can no "
                  "longer be asked for."), code="request_window_closed")
        message = _("The re-review request window closed at the end of %(due)s (%(length)s "
                    "after the review decision, Regulations on Letters and Visits Work, "
                    "Art. 36).")
    return ValidationError(message, code="request_window_closed",
                           params={"due": deadline.due_on.isoformat(),
                                   "length": _length(deadline)})


def _decide(*, case: Case, name: str, kind: str, decision: DecisionInput, actor: User,
            at: datetime, meet: str, start: tuple[str, ...],
            arguments: dict | None = None) -> Decision:
    """Record a review-level decision, take the step and move the clocks."""
    _authorize(case=case, name=name, actor=actor)
    if decision.review_outcome not in ReviewOutcome.values:
        raise ValidationError(_("Say whether the earlier decision is upheld, changed or revoked."),
                              code="review_outcome")
    fields = _decision_fields(kind=kind, decision=decision, actor=actor, at=at)
    previous = _transition(case=case, name=name, actor=actor, arguments=arguments)
    row, superseded = _decision_record(case=case, kind=kind, fields=fields)
    _record_transition(case=case, name=name, actor=actor, at=at, previous=previous,
                       details={"decision": row.pk, "outcome": row.outcome,
                                "review_outcome": row.review_outcome, **superseded})
    _clocks(case=case, actor=actor, at=at, meet=(meet,), start=start)
    return row


def _decision_fields(*, kind: str, decision: DecisionInput, actor: User,
                     at: datetime) -> dict:
    """Check the decision's parts and return the row's fields (R22 Art.32)."""
    fields = {
        "request": _required(decision.request, _("State the petitioner's request.")),
        "facts": _required(decision.facts, _("State the facts found.")),
        "reasons": _required(decision.reasons, _("State the reasons.")),
        "legal_basis": _required(decision.legal_basis, _("State the legal basis.")),
        "outcome": decision.outcome, "review_outcome": decision.review_outcome,
        "issued_by": actor, "issued_at": at,
    }
    if decision.outcome not in Outcome.values:
        raise ValidationError(_("Choose support, explain or not support."), code="outcome")
    if kind == DecisionKind.REPLY and decision.review_outcome:
        raise ValidationError(_("A written reply has no review result."), code="review_outcome")
    return fields


def _decision_record(*, case: Case, kind: str, fields: dict) -> tuple[Decision, dict]:
    """Write the decision; after a reopening the new one replaces the old, kept in the event."""
    earlier = Decision.objects.filter(case=case, kind=kind).first()
    if earlier is None:
        return Decision.objects.create(case=case, kind=kind, **fields), {}
    old = model_to_dict(earlier, exclude=["id", "case", "kind", "issued_by"])
    old["issued_at"] = earlier.issued_at.isoformat()
    old["issued_by"] = earlier.issued_by_id
    for key, value in fields.items():
        setattr(earlier, key, value)
    earlier.save()
    return earlier, {"superseded": old}


# --- Closing and reopening ----------------------------------------------------------------

@transaction.atomic
def case_close(*, case: Case, actor: User, at: datetime | None = None) -> Case:
    """Close a replied or reviewed case once the petitioner's review or re-review request
    window has lapsed (R22 Art.35-36); clocks still running are cancelled with the reason."""
    at = _now(at)
    _authorize(case=case, name="close", actor=actor)
    if not request_window_lapsed(case=case, at=at):
        deadline = close_window_deadline(case=case)
        raise ValidationError(
            _("The petitioner may still ask for a review or re-review until the end of %(due)s "
              "(Regulations on Letters and Visits Work, Art. 35-36); close the case after "
              "that day."),
            code="request_window_open", params={"due": deadline.due_on.isoformat()})
    _apply(case=case, name="close", actor=actor, at=at, arguments={"at": at})
    _clocks(case=case, actor=actor, at=at, cancel=tuple(ClockKind.values),
            reason=str(_("Case closed")))
    return case


@transaction.atomic
def case_reopen(*, case: Case, actor: User, reason: str, at: datetime | None = None) -> Case:
    """Reopen a closed case for handling again, with a fresh 60-day reply clock (R22 Art.34)."""
    at = _now(at)
    _authorize(case=case, name="reopen", actor=actor)
    reason = _required(reason, _("Give the reason the case is reopened."))
    _apply(case=case, name="reopen", actor=actor, at=at, details={"reason": reason})
    _clocks(case=case, actor=actor, at=at, start=(ClockKind.REPLY,))
    return case

