"""What happens around a case: its leader (包案), extensions, recusals, decisions, files."""

import uuid

from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit, User

from ..choices import DecisionKind, DeliveryMethod, ExtensionStatus, Outcome, ReviewOutcome
from .case import Case
from .clocks import Deadline

MAX_EXTENSION_DAYS = 30  # R22 Art.34: at most 30 days, once


class Leadership(models.Model):
    """包案 with 四定四包: leader, measures, deadline, responsibility; duties marked done."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="leaderships",
                             verbose_name=_("case"))
    leader = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("responsible leader"))
    measures = models.TextField(_("measures"))
    deadline = models.DateField(_("deadline"))
    responsible = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("person responsible"))
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("assigned by"))
    assigned_at = models.DateTimeField(_("assigned at"))
    is_current = models.BooleanField(_("current"), default=True)
    investigated_at = models.DateTimeField(_("investigated (包调查)"), null=True, blank=True)
    handled_at = models.DateTimeField(_("handled (包处理)"), null=True, blank=True)
    stabilised_at = models.DateTimeField(_("kept stable (包稳定)"), null=True, blank=True)
    consolidated_at = models.DateTimeField(_("settled for good (包稳固)"), null=True, blank=True)

    # The four 包 duties of the client's text (SEED.md: 包调查、包处理、包稳定、包稳固),
    # by name, with the field that records each as done.
    DUTIES = {
        "investigated": "investigated_at",
        "handled": "handled_at",
        "stabilised": "stabilised_at",
        "consolidated": "consolidated_at",
    }

    class Meta:
        verbose_name = _("responsible leadership")
        verbose_name_plural = _("responsible leaderships")
        constraints = [models.UniqueConstraint(fields=["case"], condition=Q(is_current=True),
                                               name="one_current_leader")]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.leader_id}"


class Extension(models.Model):
    """An extension of one reply clock: asked by the handler, decided by another unit head.

    It belongs to the reply clock it extends, so each round of handling (a reopened
    or revoked case starts a new reply clock) may have one (R22 Art.34).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions",
                             verbose_name=_("case"))
    deadline = models.ForeignKey(Deadline, on_delete=models.PROTECT, null=True,
                                 related_name="extensions", verbose_name=_("reply clock"))
    days = models.PositiveSmallIntegerField(
        _("days"), validators=[MinValueValidator(1), MaxValueValidator(MAX_EXTENSION_DAYS)])
    reason = models.TextField(_("reason (told to the petitioner)"))
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("requested by"))
    requested_at = models.DateTimeField(_("requested at"))
    status = models.CharField(_("status"), max_length=10, choices=ExtensionStatus.choices,
                              default=ExtensionStatus.PENDING)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=1, days__lte=MAX_EXTENSION_DAYS),
                                   name="extension_at_most_30_days"),
            # At most one extension per reply clock: none while one is pending or was approved.
            models.UniqueConstraint(fields=["deadline"], name="one_live_extension_per_clock",
                                    condition=Q(status__in=["pending", "approved"])),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} +{self.days}d ({self.status})"


class Recusal(models.Model):
    """回避 (R22 Art.28): a staff member with an interest steps aside from the case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="recusals",
                             verbose_name=_("case"))
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="recusals",
                             verbose_name=_("user"))
    reason = models.TextField(_("interest declared"))
    declared_at = models.DateTimeField(_("declared at"))

    class Meta:
        verbose_name = _("recusal")
        verbose_name_plural = _("recusals")
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="recused_once")]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.user_id}"


class Decision(models.Model):
    """A written reply, review or re-review decision (R22 Art.32, 35, 36).

    ``unit`` is the body that decided: the lead unit for a reply, a unit above the
    one that decided before for a review or re-review; ``body_name`` names a body
    this installation does not hold (the city above a county). The request windows
    count from ``delivered_on`` (自收到书面答复之日起). A later decision of the same
    kind (after a revocation or a reopening) supersedes this one, which is kept.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="decisions",
                             db_index=False, verbose_name=_("case"))  # led by decision_case_kind
    kind = models.CharField(_("kind"), max_length=10, choices=DecisionKind.choices)
    request = models.TextField(_("the request"))
    facts = models.TextField(_("facts found"))
    reasons = models.TextField(_("reasons"))
    outcome = models.CharField(_("decision"), max_length=12, choices=Outcome.choices)
    review_outcome = models.CharField(_("review result"), max_length=10, blank=True,
                                      choices=ReviewOutcome.choices)
    legal_basis = models.TextField(_("legal basis"))
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("deciding unit"))
    body_name = models.CharField(_("deciding body (outside this system)"), max_length=100,
                                 blank=True)
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("issued by"))
    issued_at = models.DateTimeField(_("issued at"))
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    delivery_method = models.CharField(_("delivery method"), max_length=12, blank=True,
                                       choices=DeliveryMethod.choices)
    delivery_recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True,
                                             blank=True, related_name="+",
                                             verbose_name=_("delivery recorded by"))
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        indexes = [models.Index(fields=["case", "kind"], name="decision_case_kind")]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="one_current_decision_per_kind",
                                    condition=Q(superseded_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"

    @property
    def deciding_body(self) -> str:
        return self.unit.name if self.unit_id else self.body_name


ATTACHMENT_TYPES = ("pdf", "jpg", "jpeg", "png", "tif", "tiff", "doc", "docx", "ofd")


def attachment_path(instance: "Attachment", filename: str) -> str:
    """Store under a random name: the petitioner's file name never reaches the disk or a URL.

    The original name is kept in ``original_name``; only the checked ending is reused.
    """
    ending = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    ending = ending if ending in ATTACHMENT_TYPES else "bin"
    return f"cases/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ending}"
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


class StoredFile(models.Model):
    """A file kept under a random name, with the name it came under and who brought it."""

    file = models.FileField(_("file"), upload_to=attachment_path,
                            validators=[FileExtensionValidator(ATTACHMENT_TYPES)])
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size in bytes"))
    is_accusation_material = models.BooleanField(_("accusation material"), default=False)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name


class Attachment(StoredFile):
    """A scan, photo or document; accusation materials never reach the accused (R22 Art.30)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments",
                             verbose_name=_("case"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")


class IntakeUpload(StoredFile):
    """A file dropped on an intake form before the case exists, kept under the form's token.

    Every submit stores the files that passed the type and size check, so a form sent
    back for another field's error keeps them; registering moves them onto the case as
    ``Attachment`` rows (``case_register_once``). Rows left by an abandoned form are
    removed after a day (``intake_uploads_purge``).
    """

    token = models.UUIDField(_("intake form token"), db_index=True)

    class Meta:
        verbose_name = _("file awaiting registration")
        verbose_name_plural = _("files awaiting registration")
