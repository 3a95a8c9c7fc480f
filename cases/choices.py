"""The vocabularies of a case: channels, purposes, states, outcomes, events, clocks."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    VISIT = "visit", _("Visit")
    LETTER = "letter", _("Letter")
    ONLINE = "online", _("Online")
    PHONE = "phone", _("Phone")


class Purpose(models.TextChoices):
    REMEDY = "remedy", _("Seek a remedy")
    SUGGESTION = "suggestion", _("Opinion or suggestion")
    APPEAL = "appeal", _("Appeal")
    ACCUSATION = "accusation", _("Accusation")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    CRITICAL = "critical", _("Critical")


class CauseTag(models.TextChoices):
    """The eight causes of group petitions in the client's text (DOMAIN.md §7)."""

    NEGLECT = "neglect", _("Neglect (松)")
    DELAY = "delay", _("Delay (拖)")
    BUCK_PASSING = "buck_passing", _("Buck-passing (推)")
    BAD_POLICY = "bad_policy", _("Bad local policy (引)")
    MISSED_SCREENING = "missed_screening", _("Missed screening (漏)")
    COVER_UP = "cover_up", _("Cover-up (捂)")
    VILLAGE_CONFLICT = "village_conflict", _("Village leadership conflict (顶)")
    RUDE_RECEPTION = "rude_reception", _("Rude reception (激)")


class CaseStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    ANSWERED = "answered", _("Answered on the spot")
    NOT_ACCEPTED = "not_accepted", _("Not accepted")
    ROUTED = "routed", _("Routed, awaiting sign-for")
    RETURN_REQUESTED = "return_requested", _("Return requested")
    SIGNED = "signed", _("Signed for")
    ACCEPTED = "accepted", _("Accepted")
    IN_HANDLING = "in_handling", _("In handling")
    REPLIED = "replied", _("Replied")
    REVIEW_REQUESTED = "review_requested", _("Review requested")
    REVIEWED = "reviewed", _("Reviewed")
    REREVIEW_REQUESTED = "rereview_requested", _("Re-review requested")
    FINAL = "final", _("Re-reviewed, final")
    CLOSED = "closed", _("Closed")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID card")
    PASSPORT = "passport", _("Passport")
    OTHER = "other", _("Other document")
    NONE = "none", _("None given")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    UNKNOWN = "", _("Not stated")


class DiversionChannel(models.TextChoices):
    """Where a matter that petitions may not handle belongs (诉访分离, R22 Art.28, 31)."""

    COURT = "court", _("People's court (litigation)")
    PROCURATORATE = "procuratorate", _("Procuratorate")
    ARBITRATION = "arbitration", _("Arbitration")
    RECONSIDERATION = "reconsideration", _("Administrative reconsideration")
    DISCIPLINE = "discipline", _("Discipline inspection and supervision")
    PARTY_APPEAL = "party_appeal", _("Party member appeal")
    PENDING_ELSEWHERE = "pending", _("Already pending with the competent office")
    FINAL = "final", _("Already final after re-review")
    OTHER = "other", _("Other statutory procedure")


class DecisionKind(models.TextChoices):
    REPLY = "reply", _("Written reply")
    REVIEW = "review", _("Review decision")
    REREVIEW = "rereview", _("Re-review decision")


class Outcome(models.TextChoices):
    """The three decisions of a written reply (R22 Art.32)."""

    SUPPORT = "support", _("Support")
    EXPLAIN = "explain", _("Explain")
    NOT_SUPPORT = "not_support", _("Not support")


class ReviewOutcome(models.TextChoices):
    UPHELD = "upheld", _("Upheld")
    CHANGED = "changed", _("Changed")
    REVOKED = "revoked", _("Revoked, to be handled again")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class ClockKind(models.TextChoices):
    """Each statutory clock; its length and unit live in DeadlineRule rows."""

    ROUTING = "routing", _("Routing")
    ACCEPTANCE_NOTICE = "acceptance_notice", _("Acceptance notice")
    OBJECTION = "objection", _("Objection window")
    REPLY = "reply", _("Written reply")
    REVIEW_REQUEST = "review_request", _("Review request window")
    REVIEW_DECISION = "review_decision", _("Review decision")
    REREVIEW_REQUEST = "rereview_request", _("Re-review request window")
    REREVIEW_DECISION = "rereview_decision", _("Re-review decision")
    # A supervision order's answer (督办), due on the day the supervisor set.
    SUPERVISION = "supervision", _("Supervision order")
    # The follow-up (回头看, followup/): the call-back's own period, and the responsible
    # leader's decision on a dissatisfied outcome or a broken commitment. No law sets either;
    # the office's periods and the readings are in followup/DECISIONS.md F10-F11.
    FOLLOW_UP = "follow_up", _("Follow-up (回头看)")
    FOLLOW_UP_DECISION = "follow_up_decision", _("Leader's decision on a follow-up")
    # The grid and mediation (mediation/, issue 11): their clocks run on DisputeClock rows,
    # with lengths from the same DeadlineRule table and the same ladder (LadderStep). No law
    # sets the first three; the readings are in mediation/DECISIONS.md M-clocks.
    REPORT_ACK = "report_ack", _("Grid report: the centre takes it up")
    REPORT_SETTLE = "report_settle", _("Grid report: settled")
    MEDIATION = "mediation", _("Mediation")
    # The parties' 30 days to apply jointly for court confirmation (PML Art.33): a window.
    CONFIRMATION = "confirmation", _("Court confirmation window")
    # A term of an agreement, followed up (回访) at its deadline.
    PERFORMANCE = "performance", _("Performance of a term")


# The clocks that run after a matter is concluded (followup/): closing the case does not
# cancel them, since a follow-up is made on closed cases too.
AFTER_CONCLUSION_CLOCKS = (ClockKind.FOLLOW_UP, ClockKind.FOLLOW_UP_DECISION)


class SupervisionStatus(models.TextChoices):
    """Where a supervision order (督办) stands: the unit owes an answer, the supervisor owes
    a verdict on it, or it is over (the answer accepted)."""

    OPEN = "open", _("Awaiting the unit's answer")
    ANSWERED = "answered", _("Answered, awaiting the supervisor")
    CLOSED = "closed", _("Closed: answer accepted")


class ClockStatus(models.TextChoices):
    OPEN = "open", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    CANCELLED = "cancelled", _("Cancelled")
    # A window (a right, not a duty) that ran out unused: not "met late" (cases/DECISIONS.md).
    LAPSED = "lapsed", _("Lapsed")


class NoNoticeReason(models.TextChoices):
    """Why no acceptance notice is due (R22 Art.23: 姓名（名称）、住址不清的除外)."""

    IDENTITY_UNCLEAR = "identity_unclear", _("Name or address unclear (anonymous)")


class DeliveryMethod(models.TextChoices):
    """How a written decision reached the petitioner (送达); the request windows count from it."""

    IN_PERSON = "in_person", _("Handed over in person")
    POST = "post", _("By post")
    ELECTRONIC = "electronic", _("Electronically")
    LEFT_AT_ADDRESS = "left", _("Left at the address")
    PUBLIC_NOTICE = "notice", _("Public notice")


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    TRANSITION = "transition", _("Status changed")
    ROUTED = "routed", _("Routed")
    LEADER_ASSIGNED = "leader_assigned", _("Responsible leader assigned")
    DUTY_DONE = "duty_done", _("Leader duty done")
    NOTE = "note", _("Note")
    EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
    EXTENSION_DECIDED = "extension_decided", _("Extension decided")
    CLOCK_STARTED = "clock_started", _("Clock started")
    CLOCK_PAUSED = "clock_paused", _("Clock paused")
    CLOCK_RESUMED = "clock_resumed", _("Clock resumed")
    CLOCK_MET = "clock_met", _("Clock met")
    CLOCK_CANCELLED = "clock_cancelled", _("Clock cancelled")
    CLOCK_RECOMPUTED = "clock_recomputed", _("Clock recomputed")
    CLOCK_LAPSED = "clock_lapsed", _("Window lapsed")
    DECISION_DELIVERED = "decision_delivered", _("Decision delivered")
    ESCALATED = "escalated", _("Escalated")
    IDENTITY_REVEALED = "identity_revealed", _("Petitioner identity revealed")
    PERSONAL_DATA_VIEWED = "personal_data_viewed", _("Petitioner personal data viewed")
    RECUSAL = "recusal", _("Recusal declared")
    ATTACHMENT = "attachment", _("Attachment added")
    ATTACHMENT_VIEWED = "attachment_viewed", _("Attachment opened")
    NOTICE_PRINTED = "notice_printed", _("Notice printed")
    COMMITMENT_MADE = "commitment_made", _("Commitment made")
    COMMITMENT_KEPT = "commitment_kept", _("Commitment kept")
    INSTRUCTION_GIVEN = "instruction_given", _("Leader's instruction given")
    INSTRUCTION_ANSWERED = "instruction_answered", _("Leader's instruction answered")
    SUPERVISION_ISSUED = "supervision_issued", _("Supervision order issued")
    SUPERVISION_ANSWERED = "supervision_answered", _("Supervision order answered")
    SUPERVISION_DECIDED = "supervision_decided", _("Supervision answer accepted or sent back")
    SUPERVISION_LISTED = "supervision_listed", _("Listed supervision changed")
    # The petitioner's own rating on the public query page (followup/).
    PETITIONER_RATED = "petitioner_rated", _("Petitioner rated the handling")
    # A new query code replaced the old one, which stops working (followup/).
    QUERY_CODE_REISSUED = "query_code_reissued", _("Query code reissued")
    # The staff follow-ups (回头看, followup/): one scheduled by rule, assigned, and each
    # attempt or outcome recorded.
    FOLLOW_UP_SCHEDULED = "follow_up_scheduled", _("Follow-up scheduled")
    FOLLOW_UP_ASSIGNED = "follow_up_assigned", _("Follow-up assigned")
    FOLLOW_UP_RECORDED = "follow_up_recorded", _("Follow-up recorded")
    # A dissatisfied outcome or a broken commitment put to the responsible leader, and the
    # leader's decision (reopen, direct to review, or keep closed with the reason).
    FOLLOW_UP_DECISION_OPENED = "follow_up_decision_opened", _("Follow-up put to the leader")
    FOLLOW_UP_DECIDED = "follow_up_decided", _("Leader decided on a follow-up")
    # A supervisor's 回头看 campaign made follow-ups of many concluded cases at once.
    FOLLOW_UP_CAMPAIGNED = "follow_up_campaigned", _("Follow-up made by a campaign")
    # Mediation (mediation/, issue 11): the case was registered from a grid report sent to
    # county 包案; sent to mediation; the mediation's outcome reported back to it.
    FROM_GRID_REPORT = "from_grid_report", _("Registered from a grid report")
    SENT_TO_MEDIATION = "sent_to_mediation", _("Sent to mediation")
    MEDIATION_OUTCOME = "mediation_outcome", _("Mediation outcome reported")


# What each step of the state machine is called on a button and in a refusal.
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
    "revoke_on_review": _("Record the review decision"),
    "request_rereview": _("Record a re-review request"),
    "decide_rereview": _("Record the re-review decision"),
    "revoke_on_rereview": _("Record the re-review decision"),
    "close": pgettext_lazy("case step", "Close"),
    "reopen": _("Reopen"),
    "return_unsigned": _("Returned unsigned to the petition office by the escalation ladder"),
}
