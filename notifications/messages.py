"""The words of every notification, by key, rendered in the reader's language when read.

A notification stores a ``message`` key and its named ``params`` (JSON); the centre and
the mail render them with the reader's language, so a user who switches to English
reads yesterday's notifications in English too. Parameter conventions:

* a name ending in ``_on`` holds an ISO day ("2026-10-08") and is written the reader's
  way (2026年10月8日 / 2026-10-08);
* a name ending in ``_label`` holds an English msgid already in the catalogue (a choice
  label such as ClockKind's "Written reply") and is translated for the reader.

Other apps add their own keys with ``message_register`` from their ``AppConfig.ready``.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date

from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class MessageText:
    title: Promise  # one line: the centre's entry and the mail's subject


MESSAGES: dict[str, MessageText] = {}

# Chinese uses Django's zh-hans day format (2026年10月8日); English reads ISO (2026-10-08).
_DAY_FORMATS = {"en": "Y-m-d"}
_MOMENT_FORMATS = {"en": "Y-m-d H:i"}


def message_register(key: str, *, title: Promise) -> None:
    """Add a message key; ``title`` is a gettext_lazy template with named %(params)s."""
    MESSAGES[key] = MessageText(title=title)


class _Params(dict):
    """Params as the template reads them: a missing one shows as "?" rather than failing."""

    def __missing__(self, key: str) -> str:
        return "?"


def day_text(day: date) -> str:
    """A day as readers of the active language write it."""
    return date_format(day, _DAY_FORMATS.get(translation.get_language() or "", "DATE_FORMAT"))


def moment_format() -> str:
    """The date-and-time format of the active language, for the ``date`` filter."""
    return _MOMENT_FORMATS.get(translation.get_language() or "", "DATETIME_FORMAT")


def _param_text(name: str, value):
    if name.endswith("_on") and isinstance(value, str):
        try:
            return day_text(date.fromisoformat(value))
        except ValueError:
            return value
    if name.endswith("_label") and isinstance(value, str):
        return gettext(value)
    return value


def message_render(key: str, params: dict | None, *, language: str | None = None) -> str:
    """Return the notification's line in ``language`` (default: the active language)."""
    with translation.override(language) if language else nullcontext():
        text = MESSAGES.get(key)
        if text is None:  # a key from a newer or removed release: show it, never fail a page
            return gettext("Notification (%(key)s)") % {"key": key}
        values = _Params({name: _param_text(name, value)
                          for name, value in (params or {}).items()})
        return str(text.title) % values


# --- The deadline ladder's messages (cases' sweep): params case_number, clock_label
# (a ClockKind label), due_on, level. -------------------------------------------------

message_register("clock.warning", title=_(
    "Case %(case_number)s: %(clock_label)s falls due on %(due_on)s"))
message_register("clock.due", title=_(
    "Case %(case_number)s: %(clock_label)s is due today (%(due_on)s)"))
message_register("clock.overdue", title=_(
    "Case %(case_number)s: the time for %(clock_label)s ran out on %(due_on)s (escalation "
    "level %(level)s)"))
message_register("supervision.ordered", title=_(
    "Case %(case_number)s: a supervision order (督办) was issued, due on %(due_on)s"))
message_register("supervision.answered", title=_(
    "Case %(case_number)s: %(unit)s answered the supervision order; accept the answer or "
    "send it back"))
message_register("supervision.sent_back", title=_(
    "Case %(case_number)s: the answer to the supervision order was sent back; answer again "
    "by %(due_on)s"))
message_register("instruction.due", title=_(
    "Case %(case_number)s: a leader's instruction is due on %(due_on)s"))
message_register("commitment.due", title=_(
    "Case %(case_number)s: a commitment is due on %(due_on)s"))
