"""In-app notifications and the outbox: mail and SMS to deliver, tasks to hand to Celery.

Every row here is written in the caller's transaction, so a notification or a
queued task exists exactly when the change that caused it committed. Delivery
happens later, from these rows (``notifications.delivery``): with the broker or
the mail server down nothing is lost, the rows wait and beat's tasks retry them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    ESCALATION = "escalation", _("Escalation")
    SUPERVISION = "supervision", _("Supervision")
    INSTRUCTION = "instruction", _("Instruction")
    COMMITMENT = "commitment", _("Commitment")
    OTHER = "other", _("Other")


class Notification(models.Model):
    """One line in a user's notification centre.

    ``message`` is a key of ``notifications.messages`` and ``params`` its named values:
    the words are rendered in the reader's language when shown, never stored translated.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications", verbose_name=_("user"))
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    message = models.CharField(_("message"), max_length=100)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The header's unread count and the centre's newest-first pages.
            models.Index(fields=["user", "read_at", "created_at"], name="notification_user_read"),
        ]

    def __str__(self) -> str:
        return f"{self.message} → {self.user_id}"

    @property
    def link(self) -> str:
        """The stored path when it is one of this site's; "" for anything else."""
        return self.url if self.url.startswith("/") and not self.url.startswith("//") else ""


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxRow(models.Model):
    """What every outbox row carries: pending until sent, attempts and when to try next."""

    status = models.CharField(_("status"), max_length=10, choices=OutboxStatus.choices,
                              default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        abstract = True


class OutboxMessage(OutboxRow):
    """One message to deliver through one channel ("mail", "sms"), retried until sent."""

    channel = models.CharField(_("channel"), max_length=20)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("user"))
    address = models.CharField(_("address"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    # At most one message per key: a second escalation mail for the same user, case and
    # day is simply not queued (INSERT … ON CONFLICT DO NOTHING). Null: no cap.
    dedupe_key = models.CharField(_("de-duplication key"), max_length=200, null=True,
                                  blank=True, unique=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        indexes = [
            models.Index(fields=["next_attempt_at"], name="outboxmessage_due",
                         condition=Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.address}: {self.subject}"


class OutboxTask(OutboxRow):
    """A Celery task queued from a request or a sweep, kept until the broker took it."""

    task_name = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict, blank=True)

    class Meta:
        verbose_name = _("queued task")
        verbose_name_plural = _("queued tasks")
        indexes = [
            models.Index(fields=["next_attempt_at"], name="outboxtask_due",
                         condition=Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.status})"
