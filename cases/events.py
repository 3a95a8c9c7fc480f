"""The audit trail's builders: one per event kind, each fixing the shape of its details.

Like saleor's ``order/events.py``: a service never writes a ``details`` dict of
its own; it calls the builder of its event kind, which names every key. A change
records the old value beside the new one (the previous leader when the leader
changes, the old due day when a clock moves), as zulip's audit rows do. Builders
return unsaved rows, so a set-based caller (the recompute, the seeder's checks)
can ``bulk_create`` them; :func:`record` saves one or several.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from .choices import EventKind
from .models import (
    Attachment,
    Case,
    CaseEvent,
    Commitment,
    Deadline,
    Decision,
    Extension,
    Instruction,
    Leadership,
    Notice,
    Recusal,
    SupervisionAnswer,
    SupervisionOrder,
)


def record(*events: CaseEvent) -> list[CaseEvent]:
    """Append the events to the trail (the table refuses updates and deletes)."""
    if len(events) == 1:
        events[0].save(force_insert=True)
        return list(events)
    return CaseEvent.objects.bulk_create(events)


def _event(case: Case | int, kind: str, actor: Any, at: datetime, details: dict,
           from_status: str = "", to_status: str = "") -> CaseEvent:
    case_id = case if isinstance(case, int) else case.pk
    actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    return CaseEvent(case_id=case_id, kind=kind, actor_id=actor_id, at=at, details=details,
                     from_status=from_status, to_status=to_status)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- The case and its steps ------------------------------------------------------------

def registered(*, case: Case, actor: Any, at: datetime, petitioners: int) -> CaseEvent:
    return _event(case, EventKind.REGISTERED, actor, at, to_status=case.status, details={
        "number": case.number, "channel": case.channel, "headcount": case.headcount,
        "petitioners": petitioners, "no_notice_reason": case.no_notice_reason,
        "repeat_of": case.repeat_of_id,
    })


def transition(*, case: Case, actor: Any, at: datetime, step: str, previous: str,
               reason: str | None = None, channel: str | None = None,
               lead_unit: str | None = None, previous_lead_unit: str | None = None,
               co_units: list[str] | None = None, decision: Decision | None = None,
               superseded: int | None = None,
               follow_up_decision: int | None = None) -> CaseEvent:
    """A status change; the optional keys are the ones a step sets (None ones are left out).
    ``follow_up_decision``: the leader's decision on a follow-up the step carries out."""
    details: dict[str, Any] = {"step": step}
    optional = {"reason": reason, "channel": channel, "lead_unit": lead_unit,
                "previous_lead_unit": previous_lead_unit, "co_units": co_units,
                "superseded": superseded, "follow_up_decision": follow_up_decision}
    details.update({key: value for key, value in optional.items() if value is not None})
    if decision is not None:
        details.update(decision=decision.pk, outcome=decision.outcome,
                       review_outcome=decision.review_outcome,
                       deciding_body=decision.deciding_body)
    return _event(case, EventKind.TRANSITION, actor, at, details,
                  from_status=previous, to_status=case.status)


def decision_delivered(*, case: Case, actor: Any, at: datetime, decision: Decision) -> CaseEvent:
    return _event(case, EventKind.DECISION_DELIVERED, actor, at, {
        "decision": decision.pk, "kind": decision.kind,
        "delivered_on": _day(decision.delivered_on), "method": decision.delivery_method,
    })


# --- People around the case -------------------------------------------------------------

def leader_assigned(*, case: Case, actor: Any, at: datetime, leadership: Leadership,
                    previous: Leadership | None) -> CaseEvent:
    return _event(case, EventKind.LEADER_ASSIGNED, actor, at, {
        "leadership": leadership.pk, "leader": leadership.leader_id,
        "previous_leader": previous.leader_id if previous else None,
        "previous_leadership": previous.pk if previous else None,
        "responsible": leadership.responsible_id, "deadline": _day(leadership.deadline),
    })


def duty_done(*, case: Case, actor: Any, at: datetime, leadership: Leadership,
              duty: str) -> CaseEvent:
    return _event(case, EventKind.DUTY_DONE, actor, at,
                  {"leadership": leadership.pk, "duty": duty})


def recusal(*, case: Case, actor: Any, at: datetime, row: Recusal) -> CaseEvent:
    return _event(case, EventKind.RECUSAL, actor, at, {"recusal": row.pk, "reason": row.reason})


def identity_revealed(*, case: Case, actor: Any, at: datetime, reason: str) -> CaseEvent:
    return _event(case, EventKind.IDENTITY_REVEALED, actor, at, {"reason": reason})


def personal_data_viewed(*, case: Case, actor: Any, at: datetime,
                         petitioners: list[int]) -> CaseEvent:
    return _event(case, EventKind.PERSONAL_DATA_VIEWED, actor, at, {"petitioners": petitioners})


# --- The record ------------------------------------------------------------------------

def note(*, case: Case, actor: Any, at: datetime, text: str) -> CaseEvent:
    return _event(case, EventKind.NOTE, actor, at, {"text": text})


def attachment_added(*, case: Case, actor: Any, at: datetime, row: Attachment) -> CaseEvent:
    return _event(case, EventKind.ATTACHMENT, actor, at, {
        "attachment": row.pk, "name": row.original_name, "size": row.size,
        "accusation_material": row.is_accusation_material,
    })


def attachment_viewed(*, case: Case, actor: Any, at: datetime, row: Attachment) -> CaseEvent:
    return _event(case, EventKind.ATTACHMENT_VIEWED, actor, at, {
        "attachment": row.pk, "name": row.original_name,
        "accusation_material": row.is_accusation_material,
    })


def extension_requested(*, case: Case, actor: Any, at: datetime, row: Extension) -> CaseEvent:
    return _event(case, EventKind.EXTENSION_REQUESTED, actor, at, {
        "extension": row.pk, "deadline": row.deadline_id, "days": row.days, "reason": row.reason,
    })


def extension_decided(*, case: Case, actor: Any, at: datetime, row: Extension) -> CaseEvent:
    return _event(case, EventKind.EXTENSION_DECIDED, actor, at, {
        "extension": row.pk, "deadline": row.deadline_id, "approved": row.status == "approved",
        "days": row.days, "note": row.decision_note,
    })


# --- Commitments and leaders' instructions ------------------------------------------------

def commitment_made(*, case: Case, actor: Any, at: datetime, row: Commitment) -> CaseEvent:
    return _event(case, EventKind.COMMITMENT_MADE, actor, at, {
        "commitment": row.pk, "text": row.text, "due_on": _day(row.due_on),
    })


def commitment_kept(*, case: Case, actor: Any, at: datetime, row: Commitment) -> CaseEvent:
    return _event(case, EventKind.COMMITMENT_KEPT, actor, at, {
        "commitment": row.pk, "note": row.kept_note, "due_on": _day(row.due_on),
        "on_time": at <= row.due_at,
    })


def instruction_given(*, case: Case, actor: Any, at: datetime, row: Instruction) -> CaseEvent:
    return _event(case, EventKind.INSTRUCTION_GIVEN, actor, at, {
        "instruction": row.pk, "text": row.text, "due_on": _day(row.due_on),
    })


def instruction_answered(*, case: Case, actor: Any, at: datetime,
                         row: Instruction) -> CaseEvent:
    return _event(case, EventKind.INSTRUCTION_ANSWERED, actor, at, {
        "instruction": row.pk, "answer": row.answer, "due_on": _day(row.due_on),
        "on_time": at <= row.due_at,
    })


# --- Supervision (督办) --------------------------------------------------------------------

def supervision_issued(*, case: Case | int, actor: Any, at: datetime, row: SupervisionOrder,
                       due_on: date) -> CaseEvent:
    """An order issued by a supervisor, or opened by the ladder (no actor, its escalation)."""
    return _event(case, EventKind.SUPERVISION_ISSUED, actor, at, {
        "order": row.pk, "demand": row.demand, "escalation": row.escalation_id,
        "unit": row.unit_id, "due_on": _day(due_on), "listed": row.listed,
    })


def supervision_answered(*, case: Case, actor: Any, at: datetime,
                         row: SupervisionAnswer, due_at: datetime) -> CaseEvent:
    return _event(case, EventKind.SUPERVISION_ANSWERED, actor, at, {
        "order": row.order_id, "answer": row.text, "due_on": _day(row.due_on),
        "on_time": at <= due_at,
    })


def supervision_decided(*, case: Case, actor: Any, at: datetime, row: SupervisionAnswer,
                        due_on: date | None) -> CaseEvent:
    """The supervisor accepted the answer (the order closes) or sent it back, with the
    new day to answer by."""
    return _event(case, EventKind.SUPERVISION_DECIDED, actor, at, {
        "order": row.order_id, "verdict": row.verdict, "note": row.verdict_note,
        "due_on": _day(due_on),
    })


def supervision_listed(*, case: Case, actor: Any, at: datetime, row: SupervisionOrder,
                       reason: str) -> CaseEvent:
    return _event(case, EventKind.SUPERVISION_LISTED, actor, at, {
        "order": row.pk, "listed": row.listed, "reason": reason,
    })


# --- Escalation -------------------------------------------------------------------------

def escalated(*, case: Case | int, at: datetime, deadline: Deadline, level: int, offset: int,
              action: str, audiences: list[str], recipients: set[int] | list[int]) -> CaseEvent:
    """A level of the ladder fired on a clock (by the sweep: no actor)."""
    return _event(case, EventKind.ESCALATED, None, at, {
        **_clock(deadline), "level": level, "offset": offset, "action": action,
        "audiences": audiences, "recipients": sorted(recipients),
        "due_on": _day(deadline.due_on),
    })


# --- Clocks ----------------------------------------------------------------------------

def _clock(deadline: Deadline) -> dict:
    return {"deadline": deadline.pk, "clock": deadline.kind}


def clock_started(*, case: Case, actor: Any, at: datetime, deadline: Deadline) -> CaseEvent:
    return _event(case, EventKind.CLOCK_STARTED, actor, at, {
        **_clock(deadline), "starts_on": _day(deadline.starts_on), "length": deadline.length,
        "unit": deadline.unit, "window": deadline.is_window, "due_on": _day(deadline.due_on),
        "provisional": deadline.provisional,
    })


def clock_paused(*, case: Case, actor: Any, at: datetime, deadline: Deadline,
                 reason: str) -> CaseEvent:
    return _event(case, EventKind.CLOCK_PAUSED, actor, at, {
        **_clock(deadline), "paused_on": _day(deadline.paused_on), "reason": reason,
    })


def clock_resumed(*, case: Case, actor: Any, at: datetime, deadline: Deadline, paused_on: date,
                  resumed_on: date, days_added: int, old_due: date) -> CaseEvent:
    return _event(case, EventKind.CLOCK_RESUMED, actor, at, {
        **_clock(deadline), "paused_on": _day(paused_on), "resumed_on": _day(resumed_on),
        "days_added": days_added, "old_due": _day(old_due), "new_due": _day(deadline.due_on),
    })


def clock_closed(*, case: Case, actor: Any, at: datetime, deadline: Deadline, kind: str,
                 reason: str = "", days_added: int | None = None) -> CaseEvent:
    """A clock met, cancelled or lapsed; ``on_time`` says whether before its due time."""
    details = {**_clock(deadline), "due_on": _day(deadline.due_on),
               "on_time": at <= deadline.due_at, "reason": reason}
    if days_added is not None:
        details["days_added"] = days_added
    return _event(case, kind, actor, at, details)


def clock_recomputed(*, case: Case | int, actor: Any, at: datetime, deadline: Deadline,
                     cause: str, old_due: date, old_provisional: bool, reason: str = "",
                     extension_days: int | None = None) -> CaseEvent:
    """A clock's due day moved: ``cause`` is "calendar" or "extension"; old and new kept."""
    details = {**_clock(deadline), "cause": cause, "reason": reason,
               "old_due": _day(old_due), "new_due": _day(deadline.due_on),
               "old_provisional": old_provisional, "new_provisional": deadline.provisional}
    if extension_days is not None:
        details["extension_days"] = extension_days
    return _event(case, EventKind.CLOCK_RECOMPUTED, actor, at, details)


# --- Notices ---------------------------------------------------------------------------

def notice_printed(*, case: Case, actor: Any, at: datetime, notice: Notice,
                   first: bool) -> CaseEvent:
    """A notice printed; ``first`` when this print gave it its number."""
    return _event(case, EventKind.NOTICE_PRINTED, actor, at, {
        "notice": notice.pk, "kind": notice.kind, "number": notice.number,
        "decision": notice.decision_id, "first": first,
    })


# --- The petitioner's self-service (followup/) --------------------------------------------

def petitioner_rated(*, case: Case, at: datetime, satisfaction: int, rating: str,
                     comment: str) -> CaseEvent:
    """The petitioner rated the handling on the public query page (no staff actor)."""
    return _event(case, EventKind.PETITIONER_RATED, None, at, {
        "satisfaction": satisfaction, "rating": rating, "comment": comment,
    })


def query_code_reissued(*, case: Case, actor: Any, at: datetime) -> CaseEvent:
    """A new query code replaced the old one; neither code is written to the trail."""
    return _event(case, EventKind.QUERY_CODE_REISSUED, actor, at, {})


# --- The staff follow-ups (回头看, followup/) ---------------------------------------------
# The follow-up arrives as a plain object (followup sits above cases and is not imported).

def follow_up_scheduled(*, case: Case | int, at: datetime, follow_up: Any) -> CaseEvent:
    """The scheduler created a follow-up by its rule (no staff actor)."""
    return _event(case, EventKind.FOLLOW_UP_SCHEDULED, None, at, {
        "follow_up": follow_up.pk, "rule": follow_up.rule_id, "trigger": follow_up.trigger,
        "trigger_on": _day(follow_up.trigger_on), "due_on": _day(follow_up.due_on),
    })


def follow_up_assigned(*, case: Case, actor: Any, at: datetime, follow_up: Any,
                       previous: int | None) -> CaseEvent:
    return _event(case, EventKind.FOLLOW_UP_ASSIGNED, actor, at, {
        "follow_up": follow_up.pk, "assignee": follow_up.assignee_id,
        "previous_assignee": previous,
    })


def follow_up_recorded(*, case: Case, actor: Any, at: datetime, follow_up: Any,
                       attempt: Any = None) -> CaseEvent:
    """An attempt to reach the petitioner, or the outcome (``attempt`` None); the notes and
    whom reached stay on the follow-up, as they may name people."""
    details: dict[str, Any] = {"follow_up": follow_up.pk, "status": follow_up.status}
    if attempt is not None:
        details.update(attempt=attempt.pk, method=attempt.method, reached=attempt.reached)
    else:
        details.update(
            result=follow_up.result, satisfaction=follow_up.satisfaction_id,
            rating=follow_up.satisfaction.rating if follow_up.satisfaction_id else None,
            commitments=follow_up.commitments, recurrence_risk=follow_up.recurrence_risk,
            repeat_risk=follow_up.repeat_risk, pestering_risk=follow_up.pestering_risk)
    return _event(case, EventKind.FOLLOW_UP_RECORDED, actor, at, details)


def follow_up_campaigned(*, case: Case | int, actor: Any, at: datetime,
                         follow_up: Any) -> CaseEvent:
    """A supervisor's 回头看 campaign made a follow-up of the case, to finish by its clock's
    due day."""
    return _event(case, EventKind.FOLLOW_UP_CAMPAIGNED, actor, at, {
        "follow_up": follow_up.pk, "campaign": follow_up.campaign_id,
        "due_on": _day(follow_up.deadline.due_on),
    })


def follow_up_decision_opened(*, case: Case, at: datetime, decision: Any) -> CaseEvent:
    """A dissatisfied outcome or a broken commitment put to the leader (no staff actor:
    the outcome did it)."""
    return _event(case, EventKind.FOLLOW_UP_DECISION_OPENED, None, at, {
        "decision": decision.pk, "follow_up": decision.follow_up_id,
        "leader": decision.leader_id, "unit": decision.unit_id,
        "due_on": _day(decision.deadline.due_on) if decision.deadline_id else None,
    })


def follow_up_decided(*, case: Case, actor: Any, at: datetime, decision: Any) -> CaseEvent:
    """The leader's decision; the reason stays on the decision, as it may name people."""
    return _event(case, EventKind.FOLLOW_UP_DECIDED, actor, at, {
        "decision": decision.pk, "follow_up": decision.follow_up_id,
        "outcome": decision.outcome,
    })


# --- Mediation (mediation/): the links both ways -------------------------------------------
# The report and the mediation case arrive as plain objects (mediation sits above cases).

def from_grid_report(*, case: Case, actor: Any, at: datetime, report: Any) -> CaseEvent:
    """The case was registered from a grid report the township centre sent to county 包案."""
    return _event(case, EventKind.FROM_GRID_REPORT, actor, at, {
        "report": report.pk, "report_number": report.number})


def sent_to_mediation(*, case: Case, actor: Any, at: datetime, mediation: Any) -> CaseEvent:
    return _event(case, EventKind.SENT_TO_MEDIATION, actor, at, {
        "mediation": mediation.pk, "mediation_number": mediation.number,
        "committee": mediation.committee_id})


def mediation_outcome(*, case: Case, actor: Any, at: datetime, mediation: Any) -> CaseEvent:
    """The mediation the case was sent to ended: agreement, none, or withdrawn (its status)."""
    return _event(case, EventKind.MEDIATION_OUTCOME, actor, at, {
        "mediation": mediation.pk, "mediation_number": mediation.number,
        "status": mediation.status})

