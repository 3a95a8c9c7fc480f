"""The case (信访件) and its state machine.

The transition graph lives here, on the model, and only here: each
``@transition`` names its sources, its target and the permission-module
action that guards it. Transitions change fields only; the services in
``cases/services/`` save, write the audit row and start or stop clocks.
"""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.models import OrgUnit, User
from accounts.permissions import Action, can, scope

from ..choices import (
    CaseStatus,
    CauseTag,
    Channel,
    DiversionChannel,
    NoNoticeReason,
    Purpose,
    Urgency,
)
from .people import Petitioner
from .reference import Category


def _may(action: Action):
    """A django-fsm permission that asks the permission module."""

    def check(case: "Case", user: User) -> bool:
        return can(user, action, case)

    check.__name__ = f"may_{action.name.lower()}"
    return check


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> "CaseQuerySet":
        """The only way cases are listed: what the permission module lets ``user`` see."""
        return scope(user, Action.CASE_VIEW, self)

    def open(self) -> "CaseQuerySet":
        return self.exclude(status__in=Case.CLOSED_STATES)


class CaseNumberSequence(models.Model):
    """The last number given per county and year (341122-2026-000042)."""

    county = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["county", "year"], name="one_sequence")]

    def __str__(self) -> str:
        return f"{self.county_id}/{self.year}: {self.last}"


class Case(ConcurrentTransitionMixin, models.Model):
    CLOSED_STATES = (CaseStatus.ANSWERED, CaseStatus.NOT_ACCEPTED, CaseStatus.FINAL,
                     CaseStatus.CLOSED)

    number = models.CharField(_("case number"), max_length=32, unique=True)
    query_code = models.CharField(_("query code"), max_length=12)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    postal_reference = models.CharField(_("postal reference"), max_length=50, blank=True)
    received_at = models.DateTimeField(_("received at"))
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    registered_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("registered by"))
    # Foreign keys led by a composite index below carry no index of their own.
    registered_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                                        db_index=False, verbose_name=_("registering office"))
    petitioners = models.ManyToManyField(Petitioner, through="CasePetitioner",
                                         related_name="cases", verbose_name=_("petitioners"))
    headcount = models.PositiveIntegerField(_("headcount"), default=1)
    is_group = models.BooleanField(_("group petition"), default=False)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("category"))
    summary = models.TextField(_("summary"))
    demands = models.TextField(_("demands"))
    place_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("place of the matter"))
    complained_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("unit complained about"))
    complained_person = models.CharField(_("person complained about"), max_length=100, blank=True)
    cause_tags = ArrayField(models.CharField(max_length=20, choices=CauseTag.choices),
                            default=list, blank=True, verbose_name=_("causes"))
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices,
                               default=Urgency.NORMAL)
    # The officer who received the petitioner (接谈人); for a letter, whoever opened it.
    receiving_officer = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+", verbose_name=_("receiving officer"))
    # The marks offices report on (DOMAIN.md §3, §6); each is a filter of the case list.
    # Defaults live in the database too, so bulk loads (COPY) that predate a mark stay valid.
    is_first_petition = models.BooleanField(_("first petition (初信初访)"), default=False,
                                            db_default=False)
    is_level_skipping = models.BooleanField(_("level-skipping (越级)"), default=False,
                                            db_default=False)
    is_litigation_related = models.BooleanField(_("litigation-related (涉法涉诉)"),
                                                default=False, db_default=False)
    has_threat = models.BooleanField(_("threat made (扬言)"), default=False, db_default=False)
    threat_words = models.TextField(_("the words of the threat"), blank=True, default="",
                                    db_default="")
    is_secret = models.BooleanField(_("involves secrets (涉密)"), default=False,
                                    db_default=False)
    is_public = models.BooleanField(_("may be made public"), default=False, db_default=False)
    repeat_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="repeats", verbose_name=_("repeat of"))
    # What is new when the matter repeats one already final (R22 Art.36); without it,
    # such a repeat is not accepted.
    new_facts = models.TextField(_("new facts and reasons"), blank=True)
    # Set when no acceptance notice is due (R22 Art.23: name or address unclear).
    no_notice_reason = models.CharField(_("no acceptance notice because"), max_length=20,
                                        blank=True, choices=NoNoticeReason.choices)
    # The one-time token of the intake form that registered the case: a second submit
    # of the same form finds this case instead of registering it twice.
    intake_token = models.UUIDField(_("intake form token"), null=True, blank=True, unique=True,
                                    editable=False)

    status = FSMField(_("status"), max_length=20, choices=CaseStatus.choices,
                      default=CaseStatus.REGISTERED, protected=True)
    lead_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", db_index=False, verbose_name=_("lead unit"))
    co_units = models.ManyToManyField(OrgUnit, blank=True, related_name="+",
                                      verbose_name=_("co-handling units"))
    leader = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="led_cases", db_index=False,
                               verbose_name=_("responsible leader"))
    spot_answer = models.TextField(_("answer on the spot"), blank=True)
    refusal_reason = models.TextField(_("reason not accepted"), blank=True)
    diversion_channel = models.CharField(_("competent channel"), max_length=20, blank=True,
                                         choices=DiversionChannel.choices)
    return_reason = models.TextField(_("reason for return"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["registered_unit", "status"], name="case_office_status"),
            models.Index(fields=["lead_unit", "status"], name="case_lead_status"),
            models.Index(fields=["leader", "status"], name="case_leader_status"),
            models.Index(fields=["received_at"], name="case_received"),
            # Repeat detection: similar facts by pg_trgm (``%`` uses this index).
            GinIndex(fields=["summary"], opclasses=["gin_trgm_ops"], name="case_summary_trgm"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(headcount__gte=1), name="case_headcount_positive"),
            # A threat is recorded with its words, so those assessing the risk read them.
            models.CheckConstraint(condition=Q(has_threat=False) | ~Q(threat_words=""),
                                   name="case_threat_has_words"),
        ]

    def __str__(self) -> str:
        return self.number

    # --- Conditions (pure: read fields and already-loaded rows only) -------------

    def has_lead_unit(self) -> bool:
        return self.lead_unit_id is not None

    # --- Registration outcomes (R22 Art.21-22) -----------------------------------

    @transition(field=status, source=CaseStatus.REGISTERED, target=CaseStatus.ANSWERED,
                permission=_may(Action.CASE_ROUTE))
    def answer_on_spot(self, *, answer: str, at) -> None:
        self.spot_answer = answer
        self.closed_at = at

    @transition(field=status, source=CaseStatus.REGISTERED, target=CaseStatus.NOT_ACCEPTED,
                permission=_may(Action.CASE_ROUTE))
    def refuse(self, *, reason: str, channel: str, at) -> None:
        self.refusal_reason = reason
        self.diversion_channel = channel
        self.closed_at = at

    @transition(field=status, source=CaseStatus.REGISTERED, target=CaseStatus.ROUTED,
                permission=_may(Action.CASE_ROUTE))
    def route(self, *, lead_unit: OrgUnit) -> None:
        self.lead_unit = lead_unit
        self.return_reason = ""

    # --- Sign-for or return (R22 Art.23) -----------------------------------------

    @transition(field=status, source=CaseStatus.ROUTED, target=CaseStatus.SIGNED,
                conditions=[has_lead_unit], permission=_may(Action.CASE_SIGN))
    def sign(self) -> None:
        pass

    @transition(field=status, source=CaseStatus.ROUTED, target=CaseStatus.RETURN_REQUESTED,
                conditions=[has_lead_unit], permission=_may(Action.CASE_SIGN))
    def request_return(self, *, reason: str) -> None:
        self.return_reason = reason

    @transition(field=status, source=CaseStatus.RETURN_REQUESTED, target=CaseStatus.REGISTERED,
                permission=_may(Action.CASE_DECIDE_RETURN))
    def agree_return(self) -> None:
        self.lead_unit = None

    @transition(field=status, source=CaseStatus.RETURN_REQUESTED, target=CaseStatus.SIGNED,
                permission=_may(Action.CASE_DECIDE_RETURN))
    def refuse_return(self) -> None:
        pass

    # The escalation ladder's "return" action (LadderAction.RETURN_TO_OFFICE): a routed case
    # the unit has not signed for goes back to the office. The sweep takes it; no one may
    # take it by hand (cases/DECISIONS.md E7).
    @transition(field=status, source=CaseStatus.ROUTED, target=CaseStatus.REGISTERED,
                conditions=[has_lead_unit], permission=lambda case, user: False)
    def return_unsigned(self) -> None:
        self.lead_unit = None

    # --- Handling and the written reply (R22 Art.23, 32, 34) -------------------------

    @transition(field=status, source=CaseStatus.SIGNED, target=CaseStatus.ACCEPTED,
                permission=_may(Action.CASE_HANDLE))
    def accept(self) -> None:
        pass

    @transition(field=status, source=CaseStatus.ACCEPTED, target=CaseStatus.IN_HANDLING,
                permission=_may(Action.CASE_HANDLE))
    def start_handling(self) -> None:
        pass

    @transition(field=status, source=[CaseStatus.ACCEPTED, CaseStatus.IN_HANDLING],
                target=CaseStatus.REPLIED, permission=_may(Action.CASE_HANDLE))
    def reply(self) -> None:
        pass

    # --- Review and re-review (R22 Art.35-36) -----------------------------------------

    @transition(field=status, source=CaseStatus.REPLIED, target=CaseStatus.REVIEW_REQUESTED,
                permission=_may(Action.CASE_REVIEW))
    def request_review(self) -> None:
        pass

    @transition(field=status, source=CaseStatus.REVIEW_REQUESTED, target=CaseStatus.REVIEWED,
                permission=_may(Action.CASE_REVIEW))
    def decide_review(self) -> None:
        pass

    @transition(field=status, source=CaseStatus.REVIEWED, target=CaseStatus.REREVIEW_REQUESTED,
                permission=_may(Action.CASE_REVIEW))
    def request_rereview(self) -> None:
        pass

    # R22 Art.36: the re-review decision is final; re-reviewed and final are one state.
    @transition(field=status, source=CaseStatus.REREVIEW_REQUESTED, target=CaseStatus.FINAL,
                permission=_may(Action.CASE_REVIEW))
    def decide_rereview(self, *, at) -> None:
        self.closed_at = at

    # A review or re-review that revokes the decision sends the matter back to the
    # lead unit to be handled again (R22 Art.35-36; cases/DECISIONS.md).
    @transition(field=status, source=CaseStatus.REVIEW_REQUESTED, target=CaseStatus.IN_HANDLING,
                conditions=[has_lead_unit], permission=_may(Action.CASE_REVIEW))
    def revoke_on_review(self) -> None:
        pass

    @transition(field=status, source=CaseStatus.REREVIEW_REQUESTED,
                target=CaseStatus.IN_HANDLING, conditions=[has_lead_unit],
                permission=_may(Action.CASE_REVIEW))
    def revoke_on_rereview(self) -> None:
        pass

    # --- Closing and reopening ------------------------------------------------------

    @transition(field=status, source=[CaseStatus.REPLIED, CaseStatus.REVIEWED],
                target=CaseStatus.CLOSED, permission=_may(Action.CASE_HANDLE))
    def close(self, *, at) -> None:
        self.closed_at = at

    @transition(field=status, source=CaseStatus.CLOSED, target=CaseStatus.IN_HANDLING,
                conditions=[has_lead_unit], permission=_may(Action.CASE_ROUTE))
    def reopen(self) -> None:
        self.closed_at = None


class CasePetitioner(models.Model):
    """A person on a case: one is the main petitioner; a group sends ≤5 representatives."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties",
                             db_index=False, verbose_name=_("case"))  # led by petitioner_once_per_case
    petitioner = models.ForeignKey(Petitioner, on_delete=models.PROTECT, related_name="parties",
                                   verbose_name=_("petitioner"))
    is_main = models.BooleanField(_("main petitioner"), default=False)
    is_representative = models.BooleanField(_("representative"), default=False)

    class Meta:
        verbose_name = _("case petitioner")
        verbose_name_plural = _("case petitioners")
        constraints = [
            models.UniqueConstraint(fields=["case", "petitioner"], name="petitioner_once_per_case"),
            models.UniqueConstraint(fields=["case"], condition=Q(is_main=True),
                                    name="one_main_petitioner"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.petitioner_id}"
