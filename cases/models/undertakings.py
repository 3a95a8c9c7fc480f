"""What a case owes besides the statutory clocks: commitments made to the petitioner and
leaders' instructions (批示) the handling unit must answer.

Each carries a clock of its own: a due day chosen by whoever made it (a promise,
not a statutory period, so no rest-day rule moves it), ``due_at`` 24:00 of that
day in the office's zone, indexed while open for the "due before T" sweep, and
it stays open until it is kept or answered (cases/DECISIONS.md). On its day the
sweep tells the lead unit once (``warned_at``).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .case import Case


class OwnClock(models.Model):
    """A thing owed by a day, open until it is done; the done row names who and when."""

    due_on = models.DateField(_("due day"))
    due_at = models.DateTimeField(_("due at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("done by"))
    # When the sweep told the lead unit that the day had come (once: the sweep sets it in
    # the statement that selects the row; cases/services/undertaking_warnings.py).
    warned_at = models.DateTimeField(_("unit told it is due at"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_open(self) -> bool:
        return self.done_at is None


class Commitment(OwnClock):
    """承诺: what the handling unit promised the petitioner, by when (DOMAIN.md §3)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="commitments",
                             verbose_name=_("case"))
    text = models.TextField(_("what was promised"))
    made_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("made by"))
    made_at = models.DateTimeField(_("made at"))
    kept_note = models.TextField(_("how it was kept"), blank=True)

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        indexes = [models.Index(fields=["due_at"], name="commitment_open_due",
                                condition=Q(done_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.due_on}"


class Instruction(OwnClock):
    """批示: a leader's written instruction on a case, answered by the handling unit."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="instructions",
                             verbose_name=_("case"))
    text = models.TextField(_("instruction"))
    given_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("given by"))
    given_at = models.DateTimeField(_("given at"))
    answer = models.TextField(_("answer"), blank=True)

    class Meta:
        verbose_name = _("instruction")
        verbose_name_plural = _("instructions")
        indexes = [models.Index(fields=["due_at"], name="instruction_open_due",
                                condition=Q(done_at__isnull=True))]
        constraints = [
            models.CheckConstraint(condition=Q(done_at__isnull=True) | ~Q(answer=""),
                                   name="instruction_answered_in_words"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.given_at:%Y-%m-%d}"
