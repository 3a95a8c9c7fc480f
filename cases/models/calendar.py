"""The office's own holiday table, on top of chinesecalendar's official data."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """A holiday or make-up workday (调休上班日) entered by an administrator."""

    day = models.DateField(_("day"), unique=True)
    is_workday = models.BooleanField(
        _("working day"), help_text=_("Tick for a make-up workday; leave empty for a holiday."),
    )
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class AnnouncedYear(models.Model):
    """A year whose official arrangement the administrator has entered in full.

    Due dates in such a year are no longer provisional: the fallback of
    statutory holidays is replaced by the table above plus weekends.
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    note = models.CharField(_("source"), max_length=200, blank=True,
                            help_text=_("E.g. the State Council notice number."))

    class Meta:
        verbose_name = _("announced year")
        verbose_name_plural = _("announced years")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)
