"""The audit trail. Rows are only ever inserted: a database trigger refuses the rest."""

import pgtrigger
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from ..choices import EventKind
from .case import Case


class CaseEvent(models.Model):
    case = models.ForeignKey(Case, on_delete=models.DO_NOTHING, related_name="events",
                             db_index=False, verbose_name=_("case"))  # led by event_case_at
    kind = models.CharField(_("kind"), max_length=30, choices=EventKind.choices)
    actor = models.ForeignKey(User, on_delete=models.DO_NOTHING, null=True, related_name="+",
                              verbose_name=_("actor"))
    at = models.DateTimeField(_("at"))
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        indexes = [models.Index(fields=["case", "at"], name="event_case_at")]
        triggers = [
            pgtrigger.Protect(name="case_event_append_only",
                              operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
