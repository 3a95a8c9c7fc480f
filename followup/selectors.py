"""What the petitioner sees of their case on the public query page: plain data, no models.

``public_case`` is the one place that decides it (followup/DECISIONS.md Q1-Q2): the number,
the day received, the channel, the state in plain words, the handling unit's name, the steps
a petitioner is told of (registered, where it went, accepted, replied, reviewed...) with
their days and units, the periods owed to them, and the written decisions delivered to them.
No staff name, no note, no file, no other person, nothing of the person or unit complained
about; a secret case shows no decision text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import OrgUnit
from cases.choices import (
    CaseStatus,
    Channel,
    ClockKind,
    DecisionKind,
    DiversionChannel,
    EventKind,
    ExtensionStatus,
    Outcome,
    ReviewOutcome,
)
from cases.models import Case, CaseEvent, Deadline, Extension
from cases.models.clocks import LIVE_STATUSES
from cases.selectors.wording import choice_label
from cases.services.undertakings import office_today

from .models import Rating, Satisfaction, Source
from .services import delivered_decisions

# The state in the petitioner's words (R22 Art.23: where it went and why; LESSONS.md: a
# public state must not read as "brushed off").
STATE_WORDS = {
    CaseStatus.REGISTERED: gettext_lazy("Registered; the petition office is deciding which "
                                        "unit handles it"),
    CaseStatus.ANSWERED: gettext_lazy("Answered on the spot; finished"),
    CaseStatus.NOT_ACCEPTED: gettext_lazy("Not accepted; the matter belongs to another "
                                          "channel, named below"),
    CaseStatus.ROUTED: gettext_lazy("Sent to the unit that handles it, which is receiving it"),
    CaseStatus.RETURN_REQUESTED: gettext_lazy("The petition office is confirming which unit "
                                              "handles it"),
    CaseStatus.SIGNED: gettext_lazy("Received by the handling unit, which is deciding on "
                                    "acceptance"),
    CaseStatus.ACCEPTED: gettext_lazy("Accepted, being handled"),
    CaseStatus.IN_HANDLING: gettext_lazy("Accepted, being handled"),
    CaseStatus.REPLIED: gettext_lazy("A written reply has been issued"),
    CaseStatus.REVIEW_REQUESTED: gettext_lazy("Your request for review is with the level "
                                              "above"),
    CaseStatus.REVIEWED: gettext_lazy("The review decision has been issued"),
    CaseStatus.REREVIEW_REQUESTED: gettext_lazy("Your request for re-review is with the level "
                                                "above"),
    CaseStatus.FINAL: gettext_lazy("Re-reviewed; the decision is final"),
    CaseStatus.CLOSED: gettext_lazy("Finished"),
}

# The periods owed to the petitioner, and the windows that are theirs to use (C4).
DEADLINE_WORDS = {
    ClockKind.ROUTING: gettext_lazy("The petition office decides where the matter goes by"),
    ClockKind.ACCEPTANCE_NOTICE: gettext_lazy("Written notice of acceptance due by"),
    ClockKind.REPLY: gettext_lazy("Written reply due by"),
    ClockKind.REVIEW_REQUEST: gettext_lazy("You may request a review until"),
    ClockKind.REVIEW_DECISION: gettext_lazy("Review decision due by"),
    ClockKind.REREVIEW_REQUEST: gettext_lazy("You may request a re-review until"),
    ClockKind.REREVIEW_DECISION: gettext_lazy("Re-review decision due by"),
}

# The steps a petitioner is told of; the others (asking to return, refusing a return) are
# between units. ``%(unit)s`` is the handling unit then, ``%(body)s`` the deciding body.
STEP_WORDS = {
    "route": gettext_lazy("Sent to %(unit)s to handle"),
    "sign": gettext_lazy("Received by %(unit)s"),
    "agree_return": gettext_lazy("Back with the petition office, to be sent to the competent "
                                 "unit"),
    "return_unsigned": gettext_lazy("Back with the petition office, to be sent to the "
                                    "competent unit"),
    "accept": gettext_lazy("Accepted by %(unit)s"),
    "start_handling": gettext_lazy("Handling started"),
    "reply": gettext_lazy("Written reply issued by %(body)s"),
    "request_review": gettext_lazy("Your request for review was recorded"),
    "decide_review": gettext_lazy("Review decision issued by %(body)s"),
    "revoke_on_review": gettext_lazy("Review by %(body)s: the reply is revoked and the "
                                     "matter is handled again"),
    "request_rereview": gettext_lazy("Your request for re-review was recorded"),
    "decide_rereview": gettext_lazy("Re-review decision issued by %(body)s"),
    "revoke_on_rereview": gettext_lazy("Re-review by %(body)s: the matter is handled again"),
    "answer_on_spot": gettext_lazy("Answered on the spot"),
    "refuse": gettext_lazy("Not accepted"),
    "close": gettext_lazy("Finished"),
    "reopen": gettext_lazy("Reopened, to be handled again"),
}

_EVENT_KINDS = (EventKind.REGISTERED, EventKind.TRANSITION, EventKind.DECISION_DELIVERED,
                EventKind.PETITIONER_RATED, EventKind.QUERY_CODE_REISSUED)


@dataclass(frozen=True)
class PublicStep:
    day: date
    text: str


@dataclass(frozen=True)
class PublicDeadline:
    label: str
    due_on: date
    paused: bool


@dataclass(frozen=True)
class PublicDecision:
    kind: str
    body: str
    issued_on: date
    delivered_on: date
    current: bool
    withheld: bool  # a secret case: the text stays on the paper delivered (DECISIONS Q2)
    request: str = ""
    facts: str = ""
    reasons: str = ""
    outcome: str = ""
    legal_basis: str = ""


@dataclass(frozen=True)
class PublicRating:
    rating: str
    label: str
    at: datetime


@dataclass(frozen=True)
class PublicCase:
    number: str
    received_on: date
    channel: str
    state: str
    unit: str
    steps: list[PublicStep]
    deadlines: list[PublicDeadline]
    decisions: list[PublicDecision]
    spot_answer: str = ""
    refusal_reason: str = ""
    refusal_channel: str = ""
    rating: PublicRating | None = None
    may_rate: bool = False
    notes: list[str] = field(default_factory=list)


def public_case(case: Case) -> PublicCase:
    """The case as its petitioner may see it (R22 Art.18, 21, 23, 30, 34; DECISIONS Q1-Q2)."""
    unit = case.lead_unit if case.lead_unit_id else case.registered_unit
    decisions = _decisions(case)
    rating = (Satisfaction.objects.filter(case=case, source=Source.PETITIONER)
              .only("rating", "at").first())
    return PublicCase(
        number=case.number, received_on=office_today(case.received_at),
        channel=choice_label(Channel, case.channel),
        state=str(STATE_WORDS.get(case.status, choice_label(CaseStatus, case.status))),
        unit=unit.name, steps=_steps(case), deadlines=_deadlines(case), decisions=decisions,
        spot_answer=case.spot_answer if case.status == CaseStatus.ANSWERED else "",
        refusal_reason=case.refusal_reason if case.status == CaseStatus.NOT_ACCEPTED else "",
        refusal_channel=(choice_label(DiversionChannel, case.diversion_channel)
                         if case.status == CaseStatus.NOT_ACCEPTED and case.diversion_channel
                         else ""),
        rating=(PublicRating(rating=rating.rating, label=choice_label(Rating, rating.rating),
                             at=rating.at) if rating else None),
        may_rate=rating is None and bool(decisions),
    )


def _steps(case: Case) -> list[PublicStep]:
    """What happened, oldest first, in days and unit names only; approved extensions with
    the reason the petitioner is owed (R22 Art.34)."""
    rows = list(CaseEvent.objects.filter(case=case, kind__in=_EVENT_KINDS)
                .order_by("at", "pk").values_list("at", "kind", "details"))
    codes = {d.get("lead_unit") for _at, _kind, d in rows} - {None}
    names = dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "name"))
    unit, steps = case.registered_unit.name, []
    for at, kind, details in rows:
        if details.get("lead_unit"):
            unit = names.get(details["lead_unit"], unit)
        text = _step_text(kind, details, unit)
        if text:
            steps.append((at, PublicStep(day=office_today(at), text=text)))
    extensions = Extension.objects.filter(case=case, status=ExtensionStatus.APPROVED)
    for extension in extensions.only("days", "reason", "decided_at"):
        text = _("The period for the written reply was extended by %(days)s days. Reason: "
                 "%(reason)s") % {"days": extension.days, "reason": extension.reason}
        steps.append((extension.decided_at, PublicStep(day=office_today(extension.decided_at),
                                                       text=text)))
    return [step for _at, step in sorted(steps, key=lambda pair: pair[0])]


def _step_text(kind: str, details: dict, unit: str) -> str:
    if kind == EventKind.REGISTERED:
        return _("Registered")
    if kind == EventKind.DECISION_DELIVERED:
        return _("%(kind)s delivered to you") % {
            "kind": choice_label(DecisionKind, details.get("kind", ""))}
    if kind == EventKind.PETITIONER_RATED:
        return _("You rated the handling")
    if kind == EventKind.QUERY_CODE_REISSUED:
        return _("A new query code was issued; the earlier one no longer works")
    words = STEP_WORDS.get(details.get("step", ""))
    if words is None:
        return ""
    return str(words) % {"unit": unit, "body": details.get("deciding_body") or unit}


def _deadlines(case: Case) -> list[PublicDeadline]:
    clocks = (Deadline.objects.filter(case=case, status__in=LIVE_STATUSES,
                                      kind__in=list(DEADLINE_WORDS))
              .order_by("due_at", "pk").only("kind", "due_on", "status"))
    return [PublicDeadline(label=str(DEADLINE_WORDS[clock.kind]), due_on=clock.due_on,
                           paused=clock.status == "paused") for clock in clocks]


def _decisions(case: Case) -> list[PublicDecision]:
    """The written decisions delivered to the petitioner, newest first; their text as the
    paper says it, except on a secret case."""
    rows = delivered_decisions(case).select_related("unit").order_by("-issued_at", "-pk")
    decisions = []
    for decision in rows:
        outcome = choice_label(Outcome, decision.outcome)
        if decision.review_outcome:
            outcome += " · " + choice_label(ReviewOutcome, decision.review_outcome)
        text = {} if case.is_secret else {
            "request": decision.request, "facts": decision.facts, "reasons": decision.reasons,
            "outcome": outcome, "legal_basis": decision.legal_basis}
        decisions.append(PublicDecision(
            kind=choice_label(DecisionKind, decision.kind), body=decision.deciding_body,
            issued_on=office_today(decision.issued_at), delivered_on=decision.delivered_on,
            current=decision.superseded_at is None, withheld=case.is_secret, **text))
    return decisions


def satisfaction_counts(*, cases=None) -> dict[str, int]:
    """Ratings per grade, whoever took them (the petitioner online, a follow-up later): the
    one source of the 满意率 and 参评率 figures (DOMAIN.md §4)."""
    rows = Satisfaction.objects.all()
    if cases is not None:
        rows = rows.filter(case__in=cases)
    counts = dict(rows.values_list("rating").annotate(n=Count("pk")).values_list("rating", "n"))
    return {rating: counts.get(rating, 0) for rating in Rating.values}
