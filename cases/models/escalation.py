"""The escalation ladder (data an administrator edits) and what it fired, once per level.

A ``LadderStep`` says, for one clock kind, who is told (or what is done) when a running
duty clock reaches an offset from its due time, counted in working days on the office
calendar. ``Escalation`` records each (clock, level) that fired; the unique constraint
``escalation_once`` makes "exactly once" a property of the table, whatever the sweep
does. The readings (when a level fires, who a level reaches) are in cases/DECISIONS.md.
"""

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import ClockKind
from .case import Case
from .clocks import Deadline


class Audience(models.TextChoices):
    """Who a level reaches, resolved from the org tree and roles when it fires."""

    UNIT = "unit", _("The lead unit's handlers and heads")
    LEADER = "leader", _("The responsible leader (包案领导)")
    OFFICE = "office", _("The petition office's heads")
    SUPERVISOR = "supervisor", _("The supervisors over the case")
    PRINCIPAL = "principal", _("The county's principal leaders")


class LadderAction(models.TextChoices):
    """What a level does besides telling its audience."""

    NOTIFY = "notify", _("Notify only")
    SUPERVISE = "supervise", _("Open a supervision order (督办)")
    RETURN_TO_OFFICE = "return", _("Return an unsigned case to the petition office")


class LadderStep(models.Model):
    """One rung: at ``offset`` working days from the due time of a ``clock_kind`` clock."""

    clock_kind = models.CharField(_("clock"), max_length=20, choices=ClockKind.choices)
    level = models.PositiveSmallIntegerField(_("level"), validators=[MinValueValidator(1)])
    # Negative: before the due day (a warning); 0: at the due time; positive: overdue by.
    offset = models.SmallIntegerField(_("working days from the due time"))
    audiences = ArrayField(models.CharField(max_length=12, choices=Audience.choices),
                           verbose_name=_("who is told"))
    action = models.CharField(_("action"), max_length=10, choices=LadderAction.choices,
                              default=LadderAction.NOTIFY)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation ladder")
        ordering = ["clock_kind", "level"]
        constraints = [
            models.UniqueConstraint(fields=["clock_kind", "level"], name="ladder_level_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_clock_kind_display()} {self.level}: {self.offset:+d}"


class Escalation(models.Model):
    """A level of the ladder that fired on one clock, with whom it reached."""

    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, related_name="escalations",
                                 db_index=False, verbose_name=_("clock"))  # led by escalation_once
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="escalations",
                             db_index=False, verbose_name=_("case"))  # led by escalation_case
    level = models.PositiveSmallIntegerField(_("level"))
    step = models.ForeignKey(LadderStep, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("escalation step"))
    offset = models.SmallIntegerField(_("working days from the due time"))
    audiences = ArrayField(models.CharField(max_length=12, choices=Audience.choices),
                           verbose_name=_("who was told"))
    action = models.CharField(_("action"), max_length=10, choices=LadderAction.choices)
    recipients = ArrayField(models.BigIntegerField(), default=list, blank=True,
                            verbose_name=_("users told"))
    fire_at = models.DateTimeField(_("due to fire at"))
    fired_at = models.DateTimeField(_("fired at"))

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        indexes = [models.Index(fields=["case", "fired_at"], name="escalation_case")]
        constraints = [
            models.UniqueConstraint(fields=["deadline", "level"], name="escalation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.deadline_id} L{self.level}"
