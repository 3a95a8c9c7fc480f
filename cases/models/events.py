"""The audit trail. Rows are only ever inserted: the database refuses the rest, and each
row's HMAC-SM3 chain (cases/audit_chain.py) shows what was done where it could not."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from ..audit_chain import seal
from ..choices import EventKind
from .case import Case


class CaseEventQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Seal the rows (ids, links, MACs; one statement), then insert them all."""
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            raise ValueError("The audit trail takes every row it is given: a row skipped "
                             "would leave the next one linked to nothing.")
        objs = list(objs)
        seal(objs)
        return super().bulk_create(objs, *args, **kwargs)


class CaseEvent(models.Model):
    case = models.ForeignKey(Case, on_delete=models.DO_NOTHING, related_name="events",
                             db_index=False, verbose_name=_("case"))  # led by event_case_at_id
    kind = models.CharField(_("kind"), max_length=30, choices=EventKind.choices)
    actor = models.ForeignKey(User, on_delete=models.DO_NOTHING, null=True, related_name="+",
                              verbose_name=_("actor"))
    at = models.DateTimeField(_("at"))
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    # The chain: the event of the same case this one follows, and the HMAC-SM3 over both.
    prev = models.BigIntegerField(null=True, blank=True, editable=False)
    mac = models.CharField(max_length=81, editable=False)  # "<key id>:<64 hex digits>"

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        # A case's timeline in order, and its chain's head (the latest by time, then id,
        # cases/audit_chain.py) from one index entry, with no sort of tied times.
        indexes = [models.Index(fields=["case", "at", "id"], name="event_case_at_id")]
        constraints = [models.CheckConstraint(condition=~models.Q(mac=""),
                                              name="caseevent_sealed")]
        # UPDATE, DELETE and TRUNCATE are refused by triggers pgtrigger.ignore cannot
        # lift (cases/migrations/0019_events_append_only.py) and the runtime role holds
        # no privilege for them (config/dbroles.py).

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        """Insert only, sealed into its case's chain (an update is refused anyway)."""
        if self._state.adding:
            seal([self])
            kwargs["force_insert"] = True
        super().save(*args, **kwargs)
