"""Supervision orders (督办, R22 Art.40): a supervisor's demand on a case, answered by a unit
by a day of its own, accepted or sent back; listed supervision (挂牌督办, Art.39) puts the
case on the county's board.

The answer's day is a clock like any other: a ``Deadline`` of kind ``supervision`` on the
case, started when the order is issued and again each time an answer is sent back, met
when the unit answers, and escalated by the ladder like the statutory clocks. The order
points at its current clock. One order at a time is open on a case (the constraint
``one_open_supervision``): a further demand is made by sending the open order's answer
back, so the unit never has two orders on one matter (cases/DECISIONS.md, "Supervision").
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import OrgUnit, User

from ..choices import SupervisionStatus
from .case import Case
from .clocks import Deadline
from .escalation import Escalation


class SupervisionOrder(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervision_orders",
                             verbose_name=_("case"))
    # The unit that answers: the lead unit when the order was issued, or the petition
    # office while the case was not yet routed (it owes the routing).
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("unit that answers"))
    # What the supervisor demands; empty when the ladder opened the order, which then
    # names the escalation it came from and the page words the demand from it.
    demand = models.TextField(_("demand"), blank=True)
    escalation = models.ForeignKey(Escalation, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+",
                                   verbose_name=_("opened by the escalation"))
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("issued by"))
    issued_at = models.DateTimeField(_("issued at"))
    status = models.CharField(_("status"), max_length=10, choices=SupervisionStatus.choices,
                              default=SupervisionStatus.OPEN)
    deadline = models.ForeignKey(Deadline, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("answer clock"))
    listed = models.BooleanField(_("listed supervision (挂牌督办)"), default=False)
    listed_at = models.DateTimeField(_("listed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("closed by"))

    class Meta:
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")
        indexes = [
            # The county's board: the listed orders still open.
            models.Index(fields=["issued_at"], name="supervision_listed_open",
                         condition=Q(listed=True) & ~Q(status=SupervisionStatus.CLOSED)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case"], name="one_open_supervision",
                                    condition=~Q(status=SupervisionStatus.CLOSED)),
            models.CheckConstraint(name="supervision_demand_or_escalation",
                                   condition=~Q(demand="") | Q(escalation__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.issued_at:%Y-%m-%d}"

    @property
    def recusals(self):
        """The case's recusals: one recused from the case is recused from its orders."""
        return self.case.recusals


class SupervisionAnswer(models.Model):
    """One answer of the unit and the supervisor's verdict on it; a sent-back order gets
    another. Rows are kept: the history of an order is its answers in order."""

    ACCEPTED, SENT_BACK = "accepted", "sent_back"
    # Not the case state "Accepted" (受理): the supervisor accepts the answer (认可).
    VERDICTS = [(ACCEPTED, pgettext_lazy("supervision verdict", "Accepted")),
                (SENT_BACK, pgettext_lazy("supervision verdict", "Sent back"))]

    order = models.ForeignKey(SupervisionOrder, on_delete=models.CASCADE,
                              related_name="answers", verbose_name=_("supervision order"))
    text = models.TextField(_("answer"))
    answered_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("answered by"))
    answered_at = models.DateTimeField(_("answered at"))
    due_on = models.DateField(_("was due on"))
    verdict = models.CharField(_("verdict"), max_length=10, choices=VERDICTS, blank=True)
    verdict_note = models.TextField(_("supervisor's note"), blank=True)
    verdict_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    verdict_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("supervision answer")
        verbose_name_plural = _("supervision answers")
        ordering = ["answered_at", "pk"]
        constraints = [
            # Sending an answer back says why: the unit reads it to answer again.
            models.CheckConstraint(name="supervision_sent_back_with_reason",
                                   condition=~Q(verdict="sent_back") | ~Q(verdict_note="")),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} · {self.answered_at:%Y-%m-%d}"
