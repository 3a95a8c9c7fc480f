"""Statutory clocks: the rules (length and unit, in data) and one row per running clock."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import ClockKind, ClockStatus
from ..deadlines.calendar import Unit
from .case import Case

UNIT_CHOICES = [(Unit.CALENDAR, _("calendar days")), (Unit.WORKING, _("working days"))]


class DeadlineRule(models.Model):
    """How long a clock runs, in which unit, on what legal basis; offices may edit these."""

    kind = models.CharField(_("clock"), max_length=20, choices=ClockKind.choices, unique=True)
    length = models.PositiveSmallIntegerField(_("length"))
    unit = models.CharField(_("unit"), max_length=10, choices=UNIT_CHOICES)
    legal_basis = models.CharField(_("legal basis"), max_length=200, blank=True)
    # A window is a right of the unit or the petitioner (objection, review and re-review
    # requests), not a duty: it lapses unused, is never escalated and never counted
    # in the on-time figures (cases/DECISIONS.md).
    is_window = models.BooleanField(_("window (a right, not a duty)"), default=False)

    class Meta:
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.length} {self.get_unit_display()}"


class DeadlineQuerySet(models.QuerySet):
    def live(self) -> "DeadlineQuerySet":
        """The clocks still counting: open or paused (the one definition of "live")."""
        return self.filter(status__in=LIVE_STATUSES)


LIVE_STATUSES = (ClockStatus.OPEN, ClockStatus.PAUSED)


class Deadline(models.Model):
    """One running clock of a case.

    ``length`` and ``unit`` are copied from the rule when the clock starts, so a
    later edit of the rule does not move clocks already running. The due day is
    ``starts_on`` + length + extension + paused days, counted by the calendar
    module; ``due_at`` is 24:00 of that day, indexed for "open clocks due before T".
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadlines",
                             db_index=False, verbose_name=_("case"))  # led by deadline_case_kind
    kind = models.CharField(_("clock"), max_length=20, choices=ClockKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=ClockStatus.choices,
                              default=ClockStatus.OPEN)
    starts_on = models.DateField(_("start day (not counted)"))
    length = models.PositiveSmallIntegerField(_("length"))
    unit = models.CharField(_("unit"), max_length=10, choices=UNIT_CHOICES)
    is_window = models.BooleanField(_("window (a right, not a duty)"), default=False)
    extension_days = models.PositiveSmallIntegerField(_("extension days"), default=0)
    paused_days = models.PositiveSmallIntegerField(_("paused days"), default=0)
    paused_on = models.DateField(_("paused on"), null=True, blank=True)
    due_on = models.DateField(_("due day"))
    due_at = models.DateTimeField(_("due at"))
    provisional = models.BooleanField(_("provisional"), default=False)
    closed_at = models.DateTimeField(_("met or cancelled at"), null=True, blank=True)
    # The next level of the escalation ladder still to fire on this clock, and when: the
    # sweep selects ``next_fire_at <= now`` by index (cases/services/escalation.py keeps
    # both; NULL once nothing is left to fire, or while the clock is not open).
    next_level = models.PositiveSmallIntegerField(_("next escalation level"), null=True,
                                                  blank=True)
    next_fire_at = models.DateTimeField(_("next escalation at"), null=True, blank=True)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        indexes = [
            # The sweep's query: open clocks due before T.
            models.Index(fields=["due_at"], name="deadline_open_due",
                         condition=Q(status=ClockStatus.OPEN)),
            models.Index(fields=["case", "kind"], name="deadline_case_kind"),
            # The sweep's query: what fires next, before T, in (instant, id) order: with the
            # id in the index, a batch is read in order rather than sorted (100,000 clocks
            # due at one instant spilled that sort to disk).
            models.Index(fields=["next_fire_at", "id"], name="deadline_next_fire_id",
                         condition=Q(next_fire_at__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="one_live_clock_per_kind",
                                    condition=Q(status__in=LIVE_STATUSES)),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()} → {self.due_on}"
