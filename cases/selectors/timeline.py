"""The case's timeline: what happened, oldest first, told as sentences in the active language;
and apart, the latest views of personal data and files opened (the access log).

One query for the events, one for the people and one for the units they name,
however long the timeline is (and one for the escalations that opened supervision orders,
when there are any). Accusation files the viewer may not open are not
named (R22 Art.30).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from accounts.models import OrgUnit, User

from ..choices import (
    STEP_LABELS,
    CaseStatus,
    Channel,
    ClockKind,
    DecisionKind,
    DeliveryMethod,
    DiversionChannel,
    EventKind,
    Outcome,
    ReviewOutcome,
)
from ..deadlines.calendar import Unit, days_text
from ..models import Case, CaseEvent, Escalation, Leadership, SupervisionOrder
from ..models.notices import NoticeKind
from .wording import choice_label, day_text, duty_label

# Who looked at the petitioners' data or opened a file: the audit trail keeps each one, and
# the page lists them apart from what happened to the case, so a case opened fifty times
# does not bury its steps (the reveal, with its reason, stays among the steps).
ACCESS_KINDS = frozenset({EventKind.PERSONAL_DATA_VIEWED, EventKind.ATTACHMENT_VIEWED})


@dataclass(frozen=True)
class TimelineEntry:
    event: CaseEvent
    title: str
    sentence: str
    actor: str


# --- The timeline ---------------------------------------------------------------------------

@dataclass
class _Names:
    """Who and what the events name, looked up once for the whole timeline."""

    users: dict[int, str]
    units: dict[str, str]
    shown_files: set[int]
    masked: bool
    units_by_id: dict[int, str] = field(default_factory=dict)
    escalations: dict[int, Escalation] = field(default_factory=dict)

    def user(self, pk: int | None) -> str:
        return self.users.get(pk, _("unknown user")) if pk else ""

    def unit(self, code: str | None) -> str:
        return self.units.get(code, code or "")

    def unit_by_id(self, pk: int | None) -> str:
        return self.units_by_id.get(pk, "") if pk else ""


_USER_KEYS = ("leader", "previous_leader", "responsible", "assignee")


def timeline(case: Case, *, shown_files: set[int], masked: bool) -> list[TimelineEntry]:
    """What happened to the case, oldest first, each event told as a sentence."""
    events = (CaseEvent.objects.filter(case=case).exclude(kind__in=ACCESS_KINDS)
              .select_related("actor").order_by("at", "pk"))
    return _told(list(events), shown_files=shown_files, masked=masked)


ACCESS_SHOWN = 20


@dataclass(frozen=True)
class AccessLog:
    """The latest views of personal data and files opened, newest first; ``more`` when
    older ones exist (the whole trail stays in the table, for the audit)."""

    entries: list[TimelineEntry]
    more: bool


def access_log(case: Case, *, shown_files: set[int], masked: bool) -> AccessLog:
    """The latest ACCESS_SHOWN views and openings of the case: one query however many."""
    events = list(CaseEvent.objects.filter(case=case, kind__in=ACCESS_KINDS)
                  .select_related("actor").order_by("-at", "-pk")[:ACCESS_SHOWN + 1])
    return AccessLog(entries=_told(events[:ACCESS_SHOWN], shown_files=shown_files,
                                   masked=masked),
                     more=len(events) > ACCESS_SHOWN)


def _told(events: list[CaseEvent], *, shown_files: set[int],
          masked: bool) -> list[TimelineEntry]:
    """Each event as a sentence; the people and units they name looked up in one query each."""
    user_ids = {e.details.get(key) for e in events for key in _USER_KEYS} - {None}
    codes = {code for e in events
             for code in [e.details.get("lead_unit"), e.details.get("previous_lead_unit"),
                          *(e.details.get("co_units") or [])] if code}
    # Supervision orders name their unit by id, and the escalation that opened them.
    unit_ids = {e.details.get("unit") for e in events if e.kind in _BY_UNIT_ID} - {None}
    escalation_ids = {e.details.get("escalation") for e in events
                      if e.kind == EventKind.SUPERVISION_ISSUED} - {None}
    users = User.objects.filter(pk__in=user_ids) if user_ids else []
    units = (OrgUnit.objects.filter(Q(code__in=codes) | Q(pk__in=unit_ids))
             .values_list("pk", "code", "name") if codes or unit_ids else [])
    escalations = (Escalation.objects.filter(pk__in=escalation_ids).select_related("deadline")
                   .in_bulk() if escalation_ids else {})
    names = _Names(users={user.pk: user.display_name for user in users},
                   units={code: name for _pk, code, name in units},
                   units_by_id={pk: name for pk, _code, name in units},
                   escalations=escalations, shown_files=shown_files, masked=masked)
    return [TimelineEntry(event=e, title=choice_label(EventKind, e.kind),
                          sentence=_SENTENCES.get(e.kind, _say_nothing)(e, names),
                          actor=e.actor.display_name if e.actor_id else _("the system"))
            for e in events]


def _say_nothing(event: CaseEvent, names: _Names) -> str:
    return ""


def _reason(details: dict) -> list[str]:
    if not details.get("reason"):
        return []
    return [_("Reason: %(reason)s") % {"reason": details["reason"]}]


def _say_registered(event: CaseEvent, names: _Names) -> str:
    d = event.details
    return _("Registered as case %(number)s: %(channel)s, %(headcount)s people.") % {
        "number": d.get("number", ""), "channel": choice_label(Channel, d.get("channel", "")),
        "headcount": d.get("headcount", "")}


def _say_transition(event: CaseEvent, names: _Names) -> str:
    d = event.details
    parts = [_("%(step)s: %(from)s → %(to)s.") % {
        "step": STEP_LABELS.get(d.get("step"), d.get("step", "")),
        "from": choice_label(CaseStatus, event.from_status), "to": choice_label(CaseStatus, event.to_status)}]
    if d.get("lead_unit"):
        parts.append(_("Lead unit: %(unit)s.") % {"unit": names.unit(d["lead_unit"])})
    if d.get("co_units"):
        parts.append(_("Co-handling units: %(units)s.")
                     % {"units": "、".join(names.unit(code) for code in d["co_units"])})
    if d.get("previous_lead_unit"):
        parts.append(_("Returned by %(unit)s.") % {"unit": names.unit(d["previous_lead_unit"])})
    if d.get("channel"):
        parts.append(_("Competent channel: %(channel)s.")
                     % {"channel": choice_label(DiversionChannel, d["channel"])})
    if d.get("outcome"):
        parts.append(_("Decision: %(outcome)s, by %(body)s.")
                     % {"outcome": choice_label(Outcome, d["outcome"]),
                        "body": d.get("deciding_body", "")})
    if d.get("review_outcome"):
        parts.append(_("Review result: %(result)s.")
                     % {"result": choice_label(ReviewOutcome, d["review_outcome"])})
    if d.get("follow_up_decision"):
        parts.append(_("On the responsible leader's decision after a follow-up (回头看)."))
    return " ".join(parts + _reason(d))


def _say_leader(event: CaseEvent, names: _Names) -> str:
    d = event.details
    text = _("%(leader)s leads the case; person responsible %(responsible)s; deadline "
             "%(deadline)s.") % {"leader": names.user(d.get("leader")),
                                 "responsible": names.user(d.get("responsible")),
                                 "deadline": day_text(d.get("deadline"))}
    if d.get("previous_leader"):
        text += " " + _("Replaces %(leader)s.") % {"leader": names.user(d["previous_leader"])}
    return text


def _say_duty(event: CaseEvent, names: _Names) -> str:
    duty = event.details.get("duty", "")
    return _("Done: %(duty)s.") % {
        "duty": duty_label(duty) if duty in Leadership.DUTIES else duty}


def _say_text(key: str) -> Callable[[CaseEvent, _Names], str]:
    return lambda event, names: event.details.get(key, "")


def _say_extension_requested(event: CaseEvent, names: _Names) -> str:
    d = event.details
    return " ".join([_("Asked for %(days)s more.") % {
        "days": ngettext("%(count)d day", "%(count)d days", d.get("days", 0))
        % {"count": d.get("days", 0)}}, *_reason(d)])


def _say_extension_decided(event: CaseEvent, names: _Names) -> str:
    d = event.details
    text = _("Approved.") if d.get("approved") else _("Refused.")
    return f"{text} {d['note']}" if d.get("note") else text


def _clock_name(details: dict) -> str:
    return choice_label(ClockKind, details.get("clock", ""))


def _say_clock_started(event: CaseEvent, names: _Names) -> str:
    d = event.details
    return _("%(clock)s: %(length)s from %(start)s, due %(due)s.") % {
        "clock": _clock_name(d), "length": days_text(d.get("length", 0), d.get("unit", "")),
        "start": day_text(d.get("starts_on")), "due": day_text(d.get("due_on"))}


def _say_clock_paused(event: CaseEvent, names: _Names) -> str:
    d = event.details
    return " ".join([_("%(clock)s paused on %(day)s.") % {
        "clock": _clock_name(d), "day": day_text(d.get("paused_on"))}, *_reason(d)])


def _say_clock_resumed(event: CaseEvent, names: _Names) -> str:
    d = event.details
    return _("%(clock)s resumed; due day moved from %(old)s to %(new)s.") % {
        "clock": _clock_name(d), "old": day_text(d.get("old_due")),
        "new": day_text(d.get("new_due"))}


def _say_clock_closed(event: CaseEvent, names: _Names) -> str:
    d = event.details
    if event.kind != EventKind.CLOCK_MET:
        text = _("%(clock)s (due %(due)s).")
    elif d.get("on_time"):
        text = _("%(clock)s (due %(due)s), in time.")
    else:
        text = _("%(clock)s (due %(due)s), after the due day.")
    return " ".join([text % {"clock": _clock_name(d), "due": day_text(d.get("due_on"))},
                     *_reason(d)])


def _say_clock_recomputed(event: CaseEvent, names: _Names) -> str:
    d = event.details
    return _("%(clock)s: due day moved from %(old)s to %(new)s.") % {
        "clock": _clock_name(d), "old": day_text(d.get("old_due")),
        "new": day_text(d.get("new_due"))}


def _say_delivered(event: CaseEvent, names: _Names) -> str:
    d = event.details
    return _("%(kind)s delivered on %(day)s (%(method)s).") % {
        "kind": choice_label(DecisionKind, d.get("kind", "")), "day": day_text(d.get("delivered_on")),
        "method": choice_label(DeliveryMethod, d.get("method", ""))}


def _say_revealed(event: CaseEvent, names: _Names) -> str:
    if names.masked:  # the reason may name the petitioner (R22 Art.30)
        return ""
    return " ".join(_reason(event.details))


def _say_viewed(event: CaseEvent, names: _Names) -> str:
    count = len(event.details.get("petitioners") or [])
    return ngettext("Saw the personal data of %(count)d petitioner.",
                    "Saw the personal data of %(count)d petitioners.", count) % {"count": count}


def _say_attachment(event: CaseEvent, names: _Names) -> str:
    if event.details.get("attachment") not in names.shown_files:
        return _("A file you may not open.")  # accusation material, for the accused
    return event.details.get("name", "")


def _say_notice(event: CaseEvent, names: _Names) -> str:
    d = event.details
    return _("%(kind)s, No. %(number)s.") % {
        "kind": choice_label(NoticeKind, d.get("kind", "")), "number": d.get("number", "")}


def _say_commitment_made(event: CaseEvent, names: _Names) -> str:
    d = event.details
    return _("Promised the petitioner, to be kept by %(due)s: %(text)s") % {
        "due": day_text(d.get("due_on")), "text": d.get("text", "")}


def _say_commitment_kept(event: CaseEvent, names: _Names) -> str:
    d = event.details
    if d.get("on_time"):
        text = _("Kept in time (due %(due)s): %(note)s")
    else:
        text = _("Kept after its day (due %(due)s): %(note)s")
    return text % {"due": day_text(d.get("due_on")), "note": d.get("note", "")}


def _say_instruction_given(event: CaseEvent, names: _Names) -> str:
    d = event.details
    return _("Instructed, to be answered by %(due)s: %(text)s") % {
        "due": day_text(d.get("due_on")), "text": d.get("text", "")}


def _say_instruction_answered(event: CaseEvent, names: _Names) -> str:
    d = event.details
    if d.get("on_time"):
        text = _("Answered in time (due %(due)s): %(answer)s")
    else:
        text = _("Answered after its day (due %(due)s): %(answer)s")
    return text % {"due": day_text(d.get("due_on")), "answer": d.get("answer", "")}


# --- Supervision orders (督办) -----------------------------------------------------------

_BY_UNIT_ID = frozenset({EventKind.SUPERVISION_ISSUED})


def ladder_reason(escalation: Escalation | None) -> str:
    """Why the escalation ladder opened an order: which clock, how far past its due time."""
    if escalation is None:  # the escalation row is gone (SET_NULL)
        return _("Opened by the escalation ladder.")
    params = {"level": escalation.level,
              "clock": choice_label(ClockKind, escalation.deadline.kind),
              "days": days_text(abs(escalation.offset), Unit.WORKING)}
    if escalation.offset > 0:
        text = _("Opened by the escalation ladder (level %(level)s): the clock “%(clock)s” "
                 "was %(days)s overdue.")
    elif escalation.offset == 0:
        text = _("Opened by the escalation ladder (level %(level)s): the clock “%(clock)s” "
                 "reached its due time.")
    else:
        text = _("Opened by the escalation ladder (level %(level)s): the clock “%(clock)s” "
                 "was due in %(days)s.")
    return text % params


def order_demand(order: SupervisionOrder) -> str:
    """What an order demands: the supervisor's words, or why the ladder opened it."""
    return order.demand or ladder_reason(order.escalation)


def _say_supervision_issued(event: CaseEvent, names: _Names) -> str:
    d = event.details
    params = {"unit": names.unit_by_id(d.get("unit")), "due": day_text(d.get("due_on"))}
    if d.get("demand"):
        parts = [_("Supervision order to %(unit)s, to be answered by %(due)s: %(demand)s")
                 % {**params, "demand": d["demand"]}]
    else:
        parts = [ladder_reason(names.escalations.get(d.get("escalation"))),
                 _("%(unit)s answers by %(due)s.") % params]
    if d.get("listed"):
        parts.append(_("Listed on the county's board (挂牌督办)."))
    return " ".join(parts)


def _say_supervision_answered(event: CaseEvent, names: _Names) -> str:
    d = event.details
    if d.get("on_time"):
        text = pgettext("supervision", "Answered in time (due %(due)s): %(answer)s")
    else:
        text = pgettext("supervision", "Answered after its day (due %(due)s): %(answer)s")
    return text % {"due": day_text(d.get("due_on")), "answer": d.get("answer", "")}


def _say_supervision_decided(event: CaseEvent, names: _Names) -> str:
    d = event.details
    if d.get("verdict") == "sent_back":
        return _("Answer sent back, to be answered again by %(due)s. Reason: %(note)s") % {
            "due": day_text(d.get("due_on")), "note": d.get("note", "")}
    text = _("Answer accepted; the supervision order is closed.")
    return f"{text} {d['note']}" if d.get("note") else text


def _say_supervision_listed(event: CaseEvent, names: _Names) -> str:
    d = event.details
    text = (_("Listed on the county's board (挂牌督办).") if d.get("listed")
            else _("Taken off the county's board."))
    return " ".join([text, *_reason(d)])


def _rating_text(rating: str | None) -> str:
    """A satisfaction grade (followup.models.Rating's codes) in words."""
    return {"satisfied": _("Rating: satisfied"),
            "basically_satisfied": _("Rating: basically satisfied"),
            "dissatisfied": _("Rating: dissatisfied")}.get(rating or "", "")


def _say_petitioner_rated(event: CaseEvent, names: _Names) -> str:
    """The petitioner's own rating; its comment may name them, so not where they are masked."""
    d = event.details
    comment = "" if names.masked else d.get("comment", "")
    return " · ".join(filter(None, [_rating_text(d.get("rating")), comment]))


def _say_query_code_reissued(event: CaseEvent, names: _Names) -> str:
    return _("A new query code was given; the earlier one no longer works.")


def _say_follow_up_scheduled(event: CaseEvent, names: _Names) -> str:
    return _("A follow-up (回头看) is due by %(due)s.") % {
        "due": day_text(event.details.get("due_on"))}


def _say_follow_up_assigned(event: CaseEvent, names: _Names) -> str:
    assignee = event.details.get("assignee")
    if assignee is None:
        return _("The follow-up is no longer assigned.")
    return _("The follow-up goes to %(name)s.") % {"name": names.users.get(assignee, "")}


def _say_follow_up_recorded(event: CaseEvent, names: _Names) -> str:
    """An attempt to reach the petitioner, or the outcome; the notes stay on the follow-up."""
    d = event.details
    if "attempt" in d:
        return (_("An attempt reached the petitioner.") if d.get("reached")
                else _("An attempt did not reach the petitioner."))
    return " ".join(filter(None, [_("The follow-up is done."), _rating_text(d.get("rating"))]))


def _say_follow_up_campaigned(event: CaseEvent, names: _Names) -> str:
    return _("A 回头看 campaign made a follow-up of this case, to finish by %(due)s.") % {
        "due": day_text(event.details.get("due_on"))}


def _say_follow_up_decision_opened(event: CaseEvent, names: _Names) -> str:
    d = event.details
    who = (names.users.get(d["leader"], "") if d.get("leader")
           else _("the leaders of the place it belongs to"))
    return _("The follow-up goes to %(who)s to decide, by %(due)s.") % {
        "who": who, "due": day_text(d.get("due_on"))}


# The leader's decisions (followup.models.DecisionOutcome; followup sits above cases).
_FOLLOW_UP_DECIDED = {
    "reopen": gettext_lazy("The leader decided to reopen the handling."),
    "review": gettext_lazy("The leader decided to direct the petitioner to a review."),
    "keep": gettext_lazy("The leader decided the case stays concluded."),
}


def _say_follow_up_decided(event: CaseEvent, names: _Names) -> str:
    return str(_FOLLOW_UP_DECIDED.get(event.details.get("outcome"), ""))


def _say_from_grid_report(event: CaseEvent, names: _Names) -> str:
    return _("Registered from grid report %(number)s, sent to county 包案 by the township "
             "centre.") % {"number": event.details.get("report_number", "")}


def _say_sent_to_mediation(event: CaseEvent, names: _Names) -> str:
    return _("Sent to mediation: %(number)s.") % {
        "number": event.details.get("mediation_number", "")}


# The mediation's end (mediation.models.MediationStatus; mediation sits above cases).
_MEDIATION_ENDS = {
    "agreement": gettext_lazy("an agreement was reached"),
    "no_agreement": gettext_lazy("no agreement was reached"),
    "withdrawn": gettext_lazy("the application was withdrawn"),
    "performed": gettext_lazy("the agreement was performed"),
}


def _say_mediation_outcome(event: CaseEvent, names: _Names) -> str:
    d = event.details
    return _("Mediation %(number)s: %(outcome)s.") % {
        "number": d.get("mediation_number", ""),
        "outcome": _MEDIATION_ENDS.get(d.get("status"), d.get("status", ""))}


_SENTENCES: dict[str, Callable[[CaseEvent, _Names], str]] = {
    EventKind.FROM_GRID_REPORT: _say_from_grid_report,
    EventKind.SENT_TO_MEDIATION: _say_sent_to_mediation,
    EventKind.MEDIATION_OUTCOME: _say_mediation_outcome,
    EventKind.FOLLOW_UP_CAMPAIGNED: _say_follow_up_campaigned,
    EventKind.FOLLOW_UP_DECISION_OPENED: _say_follow_up_decision_opened,
    EventKind.FOLLOW_UP_DECIDED: _say_follow_up_decided,
    EventKind.PETITIONER_RATED: _say_petitioner_rated,
    EventKind.QUERY_CODE_REISSUED: _say_query_code_reissued,
    EventKind.FOLLOW_UP_SCHEDULED: _say_follow_up_scheduled,
    EventKind.FOLLOW_UP_ASSIGNED: _say_follow_up_assigned,
    EventKind.FOLLOW_UP_RECORDED: _say_follow_up_recorded,
    EventKind.REGISTERED: _say_registered,
    EventKind.TRANSITION: _say_transition,
    EventKind.LEADER_ASSIGNED: _say_leader,
    EventKind.DUTY_DONE: _say_duty,
    EventKind.NOTE: _say_text("text"),
    EventKind.EXTENSION_REQUESTED: _say_extension_requested,
    EventKind.EXTENSION_DECIDED: _say_extension_decided,
    EventKind.CLOCK_STARTED: _say_clock_started,
    EventKind.CLOCK_PAUSED: _say_clock_paused,
    EventKind.CLOCK_RESUMED: _say_clock_resumed,
    EventKind.CLOCK_MET: _say_clock_closed,
    EventKind.CLOCK_CANCELLED: _say_clock_closed,
    EventKind.CLOCK_LAPSED: _say_clock_closed,
    EventKind.CLOCK_RECOMPUTED: _say_clock_recomputed,
    EventKind.DECISION_DELIVERED: _say_delivered,
    EventKind.IDENTITY_REVEALED: _say_revealed,
    EventKind.PERSONAL_DATA_VIEWED: _say_viewed,
    EventKind.RECUSAL: _say_text("reason"),
    EventKind.ATTACHMENT: _say_attachment,
    EventKind.ATTACHMENT_VIEWED: _say_attachment,
    EventKind.NOTICE_PRINTED: _say_notice,
    EventKind.COMMITMENT_MADE: _say_commitment_made,
    EventKind.COMMITMENT_KEPT: _say_commitment_kept,
    EventKind.INSTRUCTION_GIVEN: _say_instruction_given,
    EventKind.INSTRUCTION_ANSWERED: _say_instruction_answered,
    EventKind.SUPERVISION_ISSUED: _say_supervision_issued,
    EventKind.SUPERVISION_ANSWERED: _say_supervision_answered,
    EventKind.SUPERVISION_DECIDED: _say_supervision_decided,
    EventKind.SUPERVISION_LISTED: _say_supervision_listed,
}
