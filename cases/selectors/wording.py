"""How the case pages word days, choices and duties in the active language."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils.formats import date_format
from django.utils.translation import get_language

from ..models import Leadership

# Chinese uses Django's own zh-hans formats (2026年10月8日); English reads ISO (2026-10-08).
_DAY_FORMATS = {"en": ("Y-m-d", "Y-m-d H:i")}


def display_formats() -> tuple[str, str]:
    """The day and date-time formats of the active language, for the ``date`` filter."""
    return _DAY_FORMATS.get(get_language(), ("DATE_FORMAT", "DATETIME_FORMAT"))


def day_text(day: date | str | None) -> str:
    """A day as people of the active language write it; "" for none."""
    if not day:
        return ""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return date_format(day, display_formats()[0])


def choice_label(choices: type[models.TextChoices], value: str) -> str:
    """The label of ``value`` in ``choices``, or the value itself when it is not one."""
    return str(dict(choices.choices).get(value, value))


def duty_label(duty: str) -> str:
    """The name of one 包 duty (包调查 …), as the Leadership field says it."""
    return str(Leadership._meta.get_field(Leadership.DUTIES[duty]).verbose_name)
