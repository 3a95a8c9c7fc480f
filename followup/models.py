"""Satisfaction with the handling of a case, and the log of lookups on the public query page.

A ``Satisfaction`` row is one rating, whoever took it: the petitioner online today, a staff
follow-up (回头看) later; the satisfaction figures count them all (``satisfaction_counts``).
A ``QueryAttempt`` row is one lookup on /query/, right or wrong: the rows are the log and
the lock-out's count (followup/DECISIONS.md Q3). Neither is ever updated or deleted in code.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases.models import Case

MAX_COMMENT = 500  # characters; a text message's worth, twice over


class Source(models.TextChoices):
    PETITIONER = "petitioner", _("The petitioner, online")
    # FOLLOW_UP = "follow_up": the staff follow-ups (回头看), to come.


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
