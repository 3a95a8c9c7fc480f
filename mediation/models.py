"""Mediation and the grid (大调解, issue 11; readings in mediation/DECISIONS.md).

* The grid: a grid worker's ``GridReport`` of a dispute (its parties, photos and risk
  flags), settled on the spot or passed to the township centre, which triages it to a
  village or township ``Committee`` (a ``MediationCase``) or to county 包案 (a petition
  case registered by the county's petition office, linked back).
* Mediation: a ``MediationCase`` with its committee, mediators, parties, meetings (笔录),
  and outcome; an ``Agreement`` with its terms, the court-confirmation window, and the
  follow-up of each term's performance (``TermCheck``).
* Dispute sweeps (矛盾纠纷排查): a ``SweepRound`` in which every grid and village files a
  ``SweepReturn``, a zero report (零报告) or the reports it found.
* The clocks of reports and mediation cases (``DisputeClock``): lengths from the same
  ``DeadlineRule`` rows and escalation by the same ``LadderStep`` rows as the cases'
  clocks; what fired is a ``DisputeEscalation``, once per clock and level.

A person met anywhere is one ``cases.Petitioner`` row, found again by ID number or phone.
"""

import uuid

from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit, User
from cases.choices import ClockKind, ClockStatus
from cases.models import Case, Petitioner
from cases.models.clocks import LIVE_STATUSES, UNIT_CHOICES
from cases.models.escalation import LadderAction, LadderStep

# --- Shared vocabulary ---------------------------------------------------------------------


class DisputeKind(models.TextChoices):
    NEIGHBOURS = "neighbours", _("Neighbours")
    LAND = "land", _("Land and forest")
    FAMILY = "family", _("Marriage and family")
    LABOUR = "labour", _("Labour and wages")
    COMPENSATION = "compensation", _("Damage and compensation")
    CONTRACT = "contract", _("Contract and debt")
    HOUSING = "housing", _("Housing and demolition")
    ENVIRONMENT = "environment", _("Environment")
    OTHER = "other", _("Other")


class MediationKind(models.TextChoices):
    """The three of 三位一体 (R22 Art.37)."""

    PEOPLES = "peoples", _("People's mediation (人民调解)")
    ADMINISTRATIVE = "administrative", _("Administrative mediation (行政调解)")
    JUDICIAL = "judicial", _("Judicial mediation (司法调解)")


class CommitteeKind(models.TextChoices):
    VILLAGE = "village", _("Village (residents') people's mediation committee")
    TOWNSHIP = "township", _("Township people's mediation committee")
    ADMINISTRATIVE = "administrative", _("Administrative body")
    COURT = "court", _("Court")
    COUNTY = "county", _("County mediation joint conference")


class Committee(models.Model):
    """A body that mediates: a people's mediation committee of a village or township, an
    administrative body, a court, the county's joint conference. Its mediators are the
    users holding the mediator role in its unit (accounts/permissions.py)."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=CommitteeKind.choices)
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="committees",
                             verbose_name=_("unit"))
    # Numbers its cases: "<code>-<year>-<seq>" (``mediation_number``).
    code = models.CharField(_("code"), max_length=30, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("mediation committee")
        verbose_name_plural = _("mediation committees")

    def __str__(self) -> str:
        return self.name


# --- The grid ------------------------------------------------------------------------------


class ReportStatus(models.TextChoices):
    SETTLED = "settled", _("Settled on the spot")
    REPORTED = "reported", _("Passed to the township centre")
    TO_VILLAGE = "to_village", _("Sent to the village mediation committee")
    TO_TOWNSHIP = "to_township", _("Sent to the township")
    TO_COUNTY = "to_county", _("Sent to county 包案, awaiting registration")
    REGISTERED = "registered", _("Registered as a petition case")


class GridReport(models.Model):
    """A dispute a grid worker found in their grid (from a phone, maybe typed offline)."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    # The phone's own key for the report: a report sent twice (the connection dropped
    # after the server saved it) is one report (``grid_report_submit``).
    client_key = models.UUIDField(_("key from the phone"), unique=True)
    grid = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("grid"))
    # The grid's township, whose centre triages it (kept for the scope and the lists).
    township = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("township"))
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("reported by"))
    found_at = models.DateTimeField(_("found at"))  # as typed on the phone
    received_at = models.DateTimeField(_("received at"))  # when the server had it
    kind = models.CharField(_("kind of dispute"), max_length=20, choices=DisputeKind.choices)
    place = models.CharField(_("place"), max_length=200)
    summary = models.TextField(_("what happened"))
    # Risk flags (矛盾纠纷预警).
    threat = models.BooleanField(_("a threat (扬言)"), default=False)
    threat_words = models.TextField(_("the words of the threat"), blank=True)
    group_involved = models.BooleanField(_("a group involved"), default=False)
    group_size = models.PositiveIntegerField(_("people in the group"), null=True, blank=True)
    level_skip_risk = models.BooleanField(_("risk of a level-skipping petition"), default=False)
    beijing_risk = models.BooleanField(_("risk of a petition to Beijing"), default=False)
    violence_risk = models.BooleanField(_("risk of violence"), default=False)
    status = models.CharField(_("status"), max_length=12, choices=ReportStatus.choices)
    settled_how = models.TextField(_("how it was settled"), blank=True)
    # The centre's triage.
    triaged_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("triaged by"))
    triaged_at = models.DateTimeField(_("triaged at"), null=True, blank=True)
    triage_note = models.TextField(_("triage note"), blank=True)
    # County 包案: the petition case the county's petition office registered from it.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="grid_reports", verbose_name=_("petition case"))
    # Filed in a dispute sweep (矛盾纠纷排查), if it was.
    sweep_return = models.ForeignKey("SweepReturn", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="reports",
                                     verbose_name=_("sweep return"))
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("grid report")
        verbose_name_plural = _("grid reports")
        indexes = [models.Index(fields=["township", "status", "received_at"],
                                name="gridreport_township_status")]
        constraints = [
            models.CheckConstraint(condition=~Q(status="settled") | ~Q(settled_how=""),
                                   name="gridreport_settled_says_how"),
            models.CheckConstraint(condition=Q(threat=False) | ~Q(threat_words=""),
                                   name="gridreport_threat_has_words"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_risky(self) -> bool:
        return (self.threat or self.group_involved or self.level_skip_risk
                or self.beijing_risk or self.violence_risk)


class Side(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    RESPONDENT = "respondent", _("Respondent")


class ReportParty(models.Model):
    """A party to a reported dispute: a person (one ``Petitioner`` row) or an organisation."""

    report = models.ForeignKey(GridReport, on_delete=models.CASCADE, related_name="parties",
                               verbose_name=_("grid report"))
    side = models.CharField(_("side"), max_length=12, choices=Side.choices)
    petitioner = models.ForeignKey(Petitioner, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="grid_parties", verbose_name=_("person"))
    organisation = models.CharField(_("organisation"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("party to a grid report")
        verbose_name_plural = _("parties to grid reports")
        constraints = [models.CheckConstraint(
            condition=Q(petitioner__isnull=False) | ~Q(organisation=""),
            name="reportparty_person_or_organisation")]

    def __str__(self) -> str:
        return self.organisation or str(self.petitioner_id)


PHOTO_TYPES = ("jpg", "jpeg", "png", "webp")


def report_photo_path(instance: "ReportPhoto", filename: str) -> str:
    """Under a random name, as the cases' attachments: the phone's file name is not kept
    on disk or in a URL."""
    ending = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    ending = ending if ending in PHOTO_TYPES else "bin"
    return f"mediation/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ending}"


class ReportPhoto(models.Model):
    report = models.ForeignKey(GridReport, on_delete=models.CASCADE, related_name="photos",
                               verbose_name=_("grid report"))
    file = models.FileField(_("photo"), upload_to=report_photo_path,
                            validators=[FileExtensionValidator(PHOTO_TYPES)])
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return self.original_name


# --- Mediation cases -----------------------------------------------------------------------


class MediationSource(models.TextChoices):
    GRID_REPORT = "grid_report", _("A grid report")
    PETITION_CASE = "petition_case", _("A petition case")
    WALK_IN = "walk_in", _("Walk-in or application")


class MediationStatus(models.TextChoices):
    OPEN = "open", _("In mediation")
    AGREEMENT = "agreement", _("Agreement reached")
    NO_AGREEMENT = "no_agreement", _("No agreement")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    PERFORMED = "performed", _("Agreement performed")


class MediationCase(models.Model):
    number = models.CharField(_("number"), max_length=40, unique=True)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="cases",
                                  verbose_name=_("committee"))
    kind = models.CharField(_("kind of mediation"), max_length=20,
                            choices=MediationKind.choices)
    dispute_kind = models.CharField(_("kind of dispute"), max_length=20,
                                    choices=DisputeKind.choices)
    summary = models.TextField(_("the dispute"))
    source = models.CharField(_("came from"), max_length=20, choices=MediationSource.choices)
    report = models.OneToOneField(GridReport, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="mediation", verbose_name=_("grid report"))
    petition_case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="mediations",
                                      verbose_name=_("petition case"))
    mediators = models.ManyToManyField(User, related_name="mediations",
                                       verbose_name=_("mediators"))
    status = models.CharField(_("status"), max_length=14, choices=MediationStatus.choices,
                              default=MediationStatus.OPEN)
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("opened by"))
    concluded_at = models.DateTimeField(_("concluded at"), null=True, blank=True)
    outcome_note = models.TextField(_("outcome note"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("mediation case")
        verbose_name_plural = _("mediation cases")
        constraints = [
            models.CheckConstraint(
                condition=(Q(source="grid_report", report__isnull=False)
                           | Q(source="petition_case", petition_case__isnull=False)
                           | Q(source="walk_in")),
                name="mediation_source_named"),
        ]

    def __str__(self) -> str:
        return self.number


class MediationParty(models.Model):
    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="parties",
                             verbose_name=_("mediation case"))
    side = models.CharField(_("side"), max_length=12, choices=Side.choices)
    petitioner = models.ForeignKey(Petitioner, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="mediation_parties", verbose_name=_("person"))
    organisation = models.CharField(_("organisation"), max_length=100, blank=True)
    # Administrative mediation needs each party's consent (R22 Art.33); any party may
    # refuse any mediation (PML Art.3). None: not asked yet.
    consents = models.BooleanField(_("consents to mediation"), null=True, blank=True)
    consent_recorded_at = models.DateTimeField(_("consent recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("party to a mediation")
        verbose_name_plural = _("parties to mediations")
        constraints = [models.CheckConstraint(
            condition=Q(petitioner__isnull=False) | ~Q(organisation=""),
            name="mediationparty_person_or_organisation")]

    def __str__(self) -> str:
        return self.organisation or str(self.petitioner_id)


class Meeting(models.Model):
    """A mediation meeting and its record (笔录), filed with the case (PML Art.27)."""

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="meetings",
                             verbose_name=_("mediation case"))
    held_on = models.DateField(_("held on"))
    place = models.CharField(_("place"), max_length=200)
    attendees = models.TextField(_("who attended"))
    record = models.TextField(_("record (笔录)"))
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("mediation meeting")
        verbose_name_plural = _("mediation meetings")

    def __str__(self) -> str:
        return f"{self.case_id} {self.held_on}"


class AgreementForm(models.TextChoices):
    WRITTEN = "written", _("Written agreement")
    ORAL = "oral", _("Oral agreement, recorded")


class CourtAnswer(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed as valid")
    REFUSED = "refused", _("Not confirmed")


class Agreement(models.Model):
    """The mediation agreement (PML Art.28-31): what Art.29 asks, its signing and seal, and
    the joint application for court confirmation within 30 days (Art.33)."""

    case = models.OneToOneField(MediationCase, on_delete=models.PROTECT,
                                related_name="agreement", verbose_name=_("mediation case"))
    form = models.CharField(_("form"), max_length=10, choices=AgreementForm.choices)
    facts = models.TextField(_("the facts"))
    issues = models.TextField(_("the issues and responsibilities"))
    signed_on = models.DateField(_("signed on"))
    parties_signed = models.BooleanField(_("signed (or fingerprinted) by the parties"))
    mediator_signed = models.BooleanField(_("signed by the mediator"))
    sealed = models.BooleanField(_("sealed by the committee"))
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))
    confirmation_applied_on = models.DateField(_("applied for court confirmation on"),
                                               null=True, blank=True)
    court = models.CharField(_("court"), max_length=100, blank=True)
    court_answer = models.CharField(_("court's answer"), max_length=10,
                                    choices=CourtAnswer.choices, blank=True)
    court_answered_on = models.DateField(_("court answered on"), null=True, blank=True)

    class Meta:
        verbose_name = _("mediation agreement")
        verbose_name_plural = _("mediation agreements")

    def __str__(self) -> str:
        return f"{self.case_id} {self.signed_on}"


class Term(models.Model):
    """One term of an agreement: who does what, how, by when (PML Art.29)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="terms",
                                  verbose_name=_("agreement"))
    position = models.PositiveSmallIntegerField(_("position"))
    obligor = models.ForeignKey(MediationParty, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("party bound"))
    content = models.TextField(_("what is to be done"))
    manner = models.CharField(_("manner of performance"), max_length=200)
    due_on = models.DateField(_("to be performed by"))

    class Meta:
        verbose_name = _("term of an agreement")
        verbose_name_plural = _("terms of agreements")
        ordering = ["agreement", "position"]
        constraints = [models.UniqueConstraint(fields=["agreement", "position"],
                                               name="term_position_once")]

    def __str__(self) -> str:
        return f"{self.agreement_id}.{self.position}"


class Performance(models.TextChoices):
    PERFORMED = "performed", _("Performed")
    PARTLY = "partly", _("Partly performed")
    NOT_PERFORMED = "not_performed", _("Not performed")


class AfterDefault(models.TextChoices):
    """What the mediator chose when a term was not performed."""

    MEDIATE_AGAIN = "again", _("Mediate again")
    TO_COURT = "court", _("Point the parties to the court")


class TermCheck(models.Model):
    """A follow-up (回访) of a term at its deadline: performed, partly, or not."""

    term = models.ForeignKey(Term, on_delete=models.CASCADE, related_name="checks",
                             verbose_name=_("term"))
    checked_on = models.DateField(_("checked on"))
    result = models.CharField(_("result"), max_length=14, choices=Performance.choices)
    note = models.TextField(_("note"), blank=True)
    after_default = models.CharField(_("then"), max_length=10, choices=AfterDefault.choices,
                                     blank=True)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                           verbose_name=_("by"))
    at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("check of a term")
        verbose_name_plural = _("checks of terms")
        constraints = [models.CheckConstraint(
            condition=Q(result="performed", after_default="") | ~Q(result="performed"),
            name="termcheck_default_only_when_not_performed")]

    def __str__(self) -> str:
        return f"{self.term_id} {self.checked_on} {self.result}"


# --- Dispute sweeps (矛盾纠纷排查) ----------------------------------------------------------


class RoundKind(models.TextChoices):
    MONTHLY = "monthly", _("Monthly sweep")
    SENSITIVE = "sensitive", _("Before a sensitive date")


class SweepRound(models.Model):
    """A round of the dispute sweep over a county: every grid and village files a return."""

    county = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("county"))
    kind = models.CharField(_("kind"), max_length=10, choices=RoundKind.choices)
    name = models.CharField(_("name"), max_length=100)
    opens_on = models.DateField(_("opens on"))
    due_on = models.DateField(_("returns due by"))
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("dispute sweep round")
        verbose_name_plural = _("dispute sweep rounds")
        constraints = [models.UniqueConstraint(fields=["county", "kind", "opens_on"],
                                               name="sweepround_once")]

    def __str__(self) -> str:
        return self.name


class SweepReturn(models.Model):
    """What one grid or village filed in a round: a zero report, or the reports it found."""

    round = models.ForeignKey(SweepRound, on_delete=models.PROTECT, related_name="returns",
                              verbose_name=_("round"))
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("grid or village"))
    zero = models.BooleanField(_("zero report (零报告)"))
    note = models.TextField(_("note"), blank=True)
    filed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("filed by"))
    filed_at = models.DateTimeField(_("filed at"))

    class Meta:
        verbose_name = _("sweep return")
        verbose_name_plural = _("sweep returns")
        constraints = [models.UniqueConstraint(fields=["round", "unit"],
                                               name="sweepreturn_once_per_unit")]

    def __str__(self) -> str:
        return f"{self.round_id} {self.unit_id}"


# --- The clocks of reports and mediations, on the cases' ladder -----------------------------


class DisputeClock(models.Model):
    """A running clock of a grid report, a mediation case or a term of its agreement. As a
    case's ``Deadline``: the length and unit copied from the ``DeadlineRule`` of its kind,
    the due day counted on the office calendar, the next ladder level and when."""

    report = models.ForeignKey(GridReport, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="clocks", verbose_name=_("grid report"))
    mediation = models.ForeignKey(MediationCase, on_delete=models.CASCADE, null=True,
                                  blank=True, related_name="clocks",
                                  verbose_name=_("mediation case"))
    term = models.ForeignKey(Term, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="clocks", verbose_name=_("term"))
    kind = models.CharField(_("clock"), max_length=20, choices=ClockKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=ClockStatus.choices,
                              default=ClockStatus.OPEN)
    starts_on = models.DateField(_("start day (not counted)"))
    length = models.PositiveSmallIntegerField(_("length"))
    unit = models.CharField(_("unit"), max_length=10, choices=UNIT_CHOICES)
    is_window = models.BooleanField(_("window (a right, not a duty)"), default=False)
    due_on = models.DateField(_("due day"))
    due_at = models.DateTimeField(_("due at"))
    provisional = models.BooleanField(_("provisional"), default=False)
    closed_at = models.DateTimeField(_("met or cancelled at"), null=True, blank=True)
    next_level = models.PositiveSmallIntegerField(_("next escalation level"), null=True,
                                                  blank=True)
    next_fire_at = models.DateTimeField(_("next escalation at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispute clock")
        verbose_name_plural = _("dispute clocks")
        indexes = [models.Index(fields=["next_fire_at", "id"], name="disputeclock_next_fire",
                                condition=Q(next_fire_at__isnull=False))]
        constraints = [
            models.CheckConstraint(
                condition=(Q(report__isnull=False, mediation__isnull=True, term__isnull=True)
                           | Q(report__isnull=True, mediation__isnull=False,
                               term__isnull=True)
                           | Q(report__isnull=True, mediation__isnull=True,
                               term__isnull=False)),
                name="disputeclock_one_owner"),
            models.UniqueConstraint(fields=["report", "kind"], name="disputeclock_report_live",
                                    condition=Q(status__in=LIVE_STATUSES,
                                                report__isnull=False)),
            models.UniqueConstraint(fields=["mediation", "kind"],
                                    name="disputeclock_mediation_live",
                                    condition=Q(status__in=LIVE_STATUSES,
                                                mediation__isnull=False)),
            models.UniqueConstraint(fields=["term", "kind"], name="disputeclock_term_live",
                                    condition=Q(status__in=LIVE_STATUSES,
                                                term__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.due_on}"


class DisputeEscalation(models.Model):
    """A ladder level that fired on a dispute clock, with whom it reached; once each."""

    clock = models.ForeignKey(DisputeClock, on_delete=models.CASCADE,
                              related_name="escalations", verbose_name=_("clock"))
    level = models.PositiveSmallIntegerField(_("level"))
    step = models.ForeignKey(LadderStep, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("escalation step"))
    offset = models.SmallIntegerField(_("working days from the due time"))
    audiences = models.JSONField(_("who was told"), default=list)
    action = models.CharField(_("action"), max_length=10, choices=LadderAction.choices)
    recipients = models.JSONField(_("users told"), default=list)
    fire_at = models.DateTimeField(_("due to fire at"))
    fired_at = models.DateTimeField(_("fired at"))

    class Meta:
        verbose_name = _("dispute escalation")
        verbose_name_plural = _("dispute escalations")
        constraints = [models.UniqueConstraint(fields=["clock", "level"],
                                               name="disputeescalation_once")]



    def __str__(self) -> str:
        return f"{self.clock_id} L{self.level}"


# --- Numbers and the trail ------------------------------------------------------------------


class NumberSequence(models.Model):
    """The last number given per scope and year: a township's grid reports
    ("report:341122100"), a committee's mediation cases ("mediation:<code>")."""

    scope = models.CharField(max_length=60)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "year"],
                                               name="mediation_one_sequence")]

    def __str__(self) -> str:
        return f"{self.scope}/{self.year}: {self.last}"


class EventKind(models.TextChoices):
    REPORTED = "reported", _("Reported")
    SETTLED = "settled", _("Settled on the spot")
    TRIAGED = "triaged", _("Triaged")
    REGISTERED = "registered", _("Registered as a petition case")
    OPENED = "opened", _("Mediation opened")
    CONSENT = "consent", _("Consent recorded")
    MEETING = "meeting", _("Meeting recorded")
    CONCLUDED = "concluded", _("Mediation concluded")
    AGREEMENT = "agreement", _("Agreement recorded")
    CONFIRMATION = "confirmation", _("Court confirmation recorded")
    TERM_CHECKED = "term_checked", _("Term checked")
    SWEEP_FILED = "sweep_filed", _("Sweep return filed")
    CLOCK = "clock", _("Clock changed")
    VIEWED = "viewed", _("Personal data viewed")
    MEDIATORS = "mediators", _("Mediators named")
    PARTY = "party", _("Party added")


class MediationEvent(models.Model):
    """The trail of the grid and of mediation: who did what, when, with the values; added
    to, never changed (config/dbroles.py AUDIT_TABLES and the trigger in the migrations)."""

    report = models.ForeignKey(GridReport, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="events", verbose_name=_("grid report"))
    mediation = models.ForeignKey(MediationCase, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="events",
                                  verbose_name=_("mediation case"))
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"))
    details = models.JSONField(_("details"), default=dict)

    class Meta:
        verbose_name = _("mediation event")
        verbose_name_plural = _("mediation events")
        indexes = [models.Index(fields=["report", "at"], name="medevent_report_at"),
                   models.Index(fields=["mediation", "at"], name="medevent_mediation_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"
