"""Operational state: the heartbeat that proves the Celery worker and beat run."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """One row per task name, updated each time beat's schedule reaches a worker."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    last_beat_at = models.DateTimeField(_("last beat at"))
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    beats = models.PositiveBigIntegerField(_("beats"), default=0)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_beat_at:%Y-%m-%d %H:%M:%S}"
