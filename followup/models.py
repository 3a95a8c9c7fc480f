"""Satisfaction with the handling of a case, the log of lookups on the public query page,
and the staff follow-ups (回头看): their rules, the follow-ups and each attempt to reach.

A ``Satisfaction`` row is one rating, whoever took it: the petitioner online today, a staff
follow-up (回头看) later; the satisfaction figures count them all (``satisfaction_counts``).
A ``QueryAttempt`` row is one lookup on /query/, right or wrong: the rows are the log and
the lock-out's count (followup/DECISIONS.md Q3). Neither is ever updated or deleted in code.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit, User
from cases.choices import Urgency
from cases.deadlines.calendar import Unit
from cases.models import Case, Category, Deadline
from cases.models.clocks import UNIT_CHOICES

MAX_COMMENT = 500  # characters; a text message's worth, twice over


class Source(models.TextChoices):
    PETITIONER = "petitioner", _("The petitioner, online")
    # A staff follow-up (回头看): the rating the petitioner gave the caller or visitor.
    FOLLOW_UP = "follow_up", _("A staff follow-up")


class Rating(models.TextChoices):
    """The three grades of the satisfaction measures (DOMAIN.md §4: 满意, 基本满意, 不满意)."""

    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")


class Satisfaction(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="satisfactions",
                             verbose_name=_("case"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    rating = models.CharField(_("rating"), max_length=20, choices=Rating.choices)
    comment = models.TextField(_("comment"), blank=True, max_length=MAX_COMMENT)
    at = models.DateTimeField(_("at"))
    # Staff who took the rating down (a follow-up call); none when the petitioner rated online.
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(source="petitioner"),
                                    name="one_petitioner_rating_per_case"),
            models.CheckConstraint(condition=~Q(source="petitioner") | Q(recorded_by__isnull=True),
                                   name="petitioner_rating_has_no_recorder"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.source} {self.rating}"


class QueryAttempt(models.Model):
    """One lookup on the public query page: the number as typed (normalised), from where,
    when, whether it opened the case, and whether it was refused unchecked (locked)."""

    number = models.CharField(_("case number as typed"), max_length=40)
    address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    at = models.DateTimeField(_("at"))
    ok = models.BooleanField(_("opened the case"))
    locked = models.BooleanField(_("refused: locked"), default=False)

    class Meta:
        verbose_name = _("query attempt")
        verbose_name_plural = _("query attempts")
        # The lock-out counts the failures of one number, and of one address, in the window.
        indexes = [
            models.Index(fields=["number", "at"], name="query_fail_number_at",
                         condition=Q(ok=False, locked=False)),
            models.Index(fields=["address", "at"], name="query_fail_address_at",
                         condition=Q(ok=False, locked=False)),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.address} {self.at:%Y-%m-%d %H:%M} {self.ok}"


# --- The staff follow-ups (回头看, issue 10; followup/DECISIONS.md F1-F9) -------------------

class Trigger(models.TextChoices):
    """What a follow-up comes after (DECISIONS F1)."""

    REPLY_DELIVERED = "reply_delivered", _("A written decision delivered")
    ANSWERED = "answered", _("Answered on the spot")
    CLOSED = "closed", _("Case closed")
    # Not a rule's: a supervisor's campaign made it (DECISIONS F12).
    CAMPAIGN = "campaign", _("A 回头看 campaign")


# A rule is after one of these; a campaign's follow-up has no rule.
RULE_TRIGGERS = [(value, label) for value, label in Trigger.choices if value != Trigger.CAMPAIGN]


class FollowUpRule(models.Model):
    """When a follow-up falls due: so many days after its trigger, for a category (and the
    categories under it) and an urgency, or any. An administrator edits these."""

    trigger = models.CharField(_("after"), max_length=20, choices=RULE_TRIGGERS)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("category (empty: any)"))
    urgency = models.CharField(_("urgency (empty: any)"), max_length=10, blank=True,
                               choices=Urgency.choices)
    days = models.PositiveSmallIntegerField(_("days after"))
    unit = models.CharField(_("unit"), max_length=10, choices=UNIT_CHOICES,
                            default=Unit.CALENDAR.value)
    # Triggers before this day get no follow-up from the rule: a new rule does not flood
    # the office with the back catalogue (DECISIONS F3).
    applies_from = models.DateField(_("for triggers from"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("follow-up rule")
        verbose_name_plural = _("follow-up rules")
        constraints = [models.CheckConstraint(condition=Q(days__gte=1),
                                              name="followup_rule_days_positive")]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} +{self.days} {self.get_unit_display()}"


class FollowUpStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (FollowUpStatus.SCHEDULED, FollowUpStatus.IN_PROGRESS)


class Method(models.TextChoices):
    PHONE = "phone", _("Phone call")
    VISIT = "visit", _("Home visit")
    SMS = "sms", _("Text message")


class Result(models.TextChoices):
    REACHED = "reached", _("Petitioner reached")
    UNREACHABLE = "unreachable", _("Petitioner unreachable")


class Commitments(models.TextChoices):
    KEPT = "kept", _("Kept")
    PARTLY = "partly", _("Partly kept")
    NOT_KEPT = "not_kept", _("Not kept")
    NONE_MADE = "none_made", _("None made")


# A commitment not kept, in whole or in part, goes to the leader (DECISIONS F11).
BROKEN_COMMITMENTS = (Commitments.NOT_KEPT, Commitments.PARTLY)


class Risk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Campaign(models.Model):
    """A 回头看 campaign: a supervisor's selection of concluded cases (by the case list's
    filters), each given a follow-up in one step, to be finished by one day (DECISIONS F12).
    Its progress and outcomes are read from its follow-ups (``campaign_progress``)."""

    name = models.CharField(_("name"), max_length=100)
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("unit"))
    # The case list's query the cases were selected by, as typed, for the record.
    filters = models.JSONField(_("case list filters"), default=dict)
    finish_by = models.DateField(_("to finish by"))
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"))
    selected = models.PositiveIntegerField(_("cases selected"))
    made = models.PositiveIntegerField(_("follow-ups made"))

    class Meta:
        verbose_name = _("回头看 campaign")
        verbose_name_plural = _("回头看 campaigns")

    def __str__(self) -> str:
        return self.name


class OfACase:
    """What accounts.permissions asks of a row about a case: the case's recusals (回避) and
    the unit it complains about (R22 Art.30)."""

    @property
    def recusals(self):
        return self.case.recusals

    @property
    def complained_unit(self):
        return self.case.complained_unit


class FollowUp(OfACase, models.Model):
    """One follow-up of a case: made on its rule's day (or by a campaign), assigned to
    someone whose work it does not check, finished by its clock's due day, and its outcome
    once recorded. ``version`` goes up with every change, so a form sent from a stale page
    is refused (DECISIONS F8)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="follow_ups",
                             verbose_name=_("case"))
    # The rule that made it; none when a campaign did.
    rule = models.ForeignKey(FollowUpRule, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("rule"))
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="follow_ups", verbose_name=_("campaign"))
    trigger = models.CharField(_("after"), max_length=20, choices=Trigger.choices)
    trigger_on = models.DateField(_("trigger day"))
    # The day it fell due (its rule's day, or a campaign's); the scheduler makes it on that
    # day or, if it waited, later. The clock (``deadline``) says by when it is finished.
    due_on = models.DateField(_("fell due on"))
    deadline = models.ForeignKey(Deadline, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("clock"))
    status = models.CharField(_("status"), max_length=12, choices=FollowUpStatus.choices,
                              default=FollowUpStatus.SCHEDULED)
    assignee = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="follow_ups", verbose_name=_("assigned to"))
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("assigned by"))
    assigned_at = models.DateTimeField(_("time assigned"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    done_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    done_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("finished by"))
    version = models.PositiveIntegerField(_("version"), default=1)
    # The outcome (DECISIONS F6-F7).
    result = models.CharField(_("result"), max_length=12, choices=Result.choices, blank=True)
    # No foreign-key constraint in the database: the ratings table is append-only and must
    # stay truncatable by nobody for that reason alone (tests/test_audit_protection.py); its
    # rows are never deleted, so the link cannot dangle.
    satisfaction = models.OneToOneField(Satisfaction, on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="follow_up",
                                        db_constraint=False, verbose_name=_("satisfaction"))
    commitments = models.CharField(_("commitments kept"), max_length=10, choices=Commitments.choices,
                                   blank=True)
    recurrence_risk = models.CharField(_("risk the matter comes back"), max_length=6,
                                       choices=Risk.choices, blank=True)
    repeat_risk = models.BooleanField(_("may petition again (重复访)"), default=False)
    pestering_risk = models.BooleanField(_("may pester (缠访闹访)"), default=False)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [
            # One follow-up per trigger: the scheduler's reruns insert nothing twice.
            models.UniqueConstraint(fields=["case", "trigger", "trigger_on"],
                                    name="followup_once_per_trigger"),
            models.UniqueConstraint(fields=["case"], condition=Q(status__in=OPEN_STATUSES),
                                    name="followup_one_open_per_case"),
            models.CheckConstraint(condition=~Q(status="done") | (Q(done_at__isnull=False)
                                                                  & ~Q(result="")),
                                   name="followup_done_has_result"),
            models.CheckConstraint(condition=Q(trigger="campaign", rule__isnull=True,
                                               campaign__isnull=False)
                                   | (~Q(trigger="campaign") & Q(rule__isnull=False,
                                                                 campaign__isnull=True)),
                                   name="followup_rule_or_campaign"),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="followup_status_due")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.trigger} {self.due_on}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def puts_to_leader(self) -> bool:
        """Whether its outcome goes to the responsible leader's decision (DECISIONS F11)."""
        return self.status == FollowUpStatus.DONE and (
            (self.satisfaction_id is not None
             and self.satisfaction.rating == Rating.DISSATISFIED)
            or self.commitments in BROKEN_COMMITMENTS)


class FollowUpAttempt(models.Model):
    """One try to reach the petitioner, reached or not; each is kept (DECISIONS F5)."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="attempts",
                                  verbose_name=_("follow-up"))
    at = models.DateTimeField(_("at"))
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    reached = models.BooleanField(_("reached"))
    whom = models.CharField(_("whom reached"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=MAX_COMMENT)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                           verbose_name=_("by"))

    class Meta:
        verbose_name = _("follow-up attempt")
        verbose_name_plural = _("follow-up attempts")
        constraints = [models.CheckConstraint(condition=Q(reached=False) | ~Q(whom=""),
                                              name="followup_reached_names_whom")]

    def __str__(self) -> str:
        return f"{self.follow_up_id} {self.method} {self.at:%Y-%m-%d %H:%M} {self.reached}"


# --- The leader's decision on a follow-up (DECISIONS F11) ---------------------------------

class DecisionStatus(models.TextChoices):
    OPEN = "open", _("Awaiting the leader's decision")
    DECIDED = "decided", _("Decided")


class DecisionOutcome(models.TextChoices):
    REOPEN = "reopen", _("Reopen the handling")
    DIRECT_TO_REVIEW = "review", _("Direct the petitioner to a review")
    KEEP_CLOSED = "keep", _("The case stays concluded")


class FollowUpDecision(OfACase, models.Model):
    """A dissatisfied outcome or a broken commitment, put to the case's responsible leader
    and the leaders and head of the place it belongs to (``unit``),
    and the decision: reopen the handling, direct the petitioner to a review inside its
    window, or record why the case stays concluded. It runs a clock until decided."""

    follow_up = models.OneToOneField(FollowUp, on_delete=models.PROTECT,
                                     related_name="decision", verbose_name=_("follow-up"))
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="follow_up_decisions",
                             verbose_name=_("case"))
    # Who decides (DECISIONS F11): the case's leader when it was put, if any, and the
    # leaders and head of ``unit`` (the place the matter belongs to, out of the accused unit).
    leader = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="follow_up_decisions",
                               verbose_name=_("responsible leader"))
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("unit deciding"))
    status = models.CharField(_("status"), max_length=10, choices=DecisionStatus.choices,
                              default=DecisionStatus.OPEN)
    opened_at = models.DateTimeField(_("put at"))
    deadline = models.ForeignKey(Deadline, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("clock"))
    outcome = models.CharField(_("decision"), max_length=10, choices=DecisionOutcome.choices,
                               blank=True)
    reason = models.TextField(_("reason"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("leader's decision on a follow-up")
        verbose_name_plural = _("leader's decisions on follow-ups")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", outcome="", decided_at__isnull=True)
                | (Q(status="decided", decided_at__isnull=False) & ~Q(outcome="")
                   & ~Q(reason="")),
                name="followup_decision_decided_whole"),
        ]
        indexes = [models.Index(fields=["status", "opened_at"], name="followup_decision_open",
                                condition=Q(status="open"))]

    def __str__(self) -> str:
        return f"{self.case_id} {self.status} {self.outcome}"
