"""Channels deliver one outbox message each; ``NOTIFICATION_CHANNELS`` names them.

A channel's ``send`` returns when the message is handed over and raises on any
failure; the deliverer then schedules a retry. Adding an SMS gateway is a class here
(or in its own module) and one line in settings: the sweep never changes.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from .models import OutboxMessage

logger = logging.getLogger(__name__)


class Channel(Protocol):
    def send(self, message: OutboxMessage) -> None:
        """Hand ``message`` over for delivery; raise on failure."""


class MailChannel:
    """Mail through Django's EMAIL_BACKEND (SMTP in production, files in the demo)."""

    def send(self, message: OutboxMessage) -> None:
        send_mail(message.subject, message.body, settings.DEFAULT_FROM_EMAIL,
                  [message.address], fail_silently=False)


class LogSmsChannel:
    """A placeholder SMS gateway that only logs; register it under "sms" to try SMS out."""

    def send(self, message: OutboxMessage) -> None:
        logger.info("SMS to %s: %s", message.address, message.subject)


class UnknownChannel(LookupError):
    pass


def channel_for(name: str) -> Channel:
    """The channel registered as ``name`` in settings.NOTIFICATION_CHANNELS."""
    try:
        path = settings.NOTIFICATION_CHANNELS[name]
    except KeyError:
        raise UnknownChannel(f"No channel {name!r} in NOTIFICATION_CHANNELS") from None
    return import_string(path)()
