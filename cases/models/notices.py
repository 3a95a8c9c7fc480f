"""Printable notices (告知书, 交办单, 意见书): numbered once, the number kept on every reprint."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import OrgUnit, User

from .case import Case
from .handling import Decision


class NoticeKind(models.TextChoices):
    ACCEPTANCE = "acceptance", pgettext_lazy("notice", "Notice of acceptance")
    NON_ACCEPTANCE = "non_acceptance", pgettext_lazy("notice", "Notice of non-acceptance")
    ROUTING_SLIP = "routing_slip", pgettext_lazy("notice", "Routing slip")
    REPLY = "reply", pgettext_lazy("notice", "Written reply")
    REVIEW = "review", pgettext_lazy("notice", "Review decision")
    REREVIEW = "rereview", pgettext_lazy("notice", "Re-review decision")


class NoticeSequence(models.Model):
    """The last notice number given per county, kind and year (清信访告〔2026〕12号)."""

    county = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["county", "kind", "year"],
                                               name="one_notice_sequence")]

    def __str__(self) -> str:
        return f"{self.county_id}/{self.kind}/{self.year}: {self.last}"


class Notice(models.Model):
    """One numbered notice of a case; a decision's notice belongs to that decision, so a
    later decision of the same kind (after a revocation) gets a notice of its own."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notices",
                             verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="notices", verbose_name=_("decision"))
    county = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("county"))
    year = models.PositiveSmallIntegerField(_("year"))
    seq = models.PositiveIntegerField(_("sequence number"))
    number = models.CharField(_("document number"), max_length=40)
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("issued by"))
    issued_at = models.DateTimeField(_("issued at"))

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [
            models.UniqueConstraint(fields=["county", "kind", "year", "seq"],
                                    name="notice_number_once"),
            models.UniqueConstraint(fields=["case", "kind"], condition=Q(decision__isnull=True),
                                    name="one_notice_per_case_kind"),
            models.UniqueConstraint(fields=["case", "kind", "decision"],
                                    condition=Q(decision__isnull=False),
                                    name="one_notice_per_decision"),
        ]

    def __str__(self) -> str:
        return self.number
