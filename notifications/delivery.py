"""Deliver the outbox: mail and SMS messages, queued tasks, and the daily digest.

Rows are claimed in batches with ``FOR UPDATE SKIP LOCKED`` and a short lease
(``next_attempt_at`` moved ahead) in one short transaction, then sent outside it, so
a slow mail server holds no lock. Two deliverers never claim the same row: the second
skips the locked rows, and once the first commits their lease puts them out of reach.
Only a worker killed between sending and marking would send a message again, after
the lease: at-least-once, as SMTP allows; otherwise each message goes exactly once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, ngettext, override

from .broker import publish
from .channels import channel_for
from .messages import day_text, message_render
from .models import Notification, OutboxMessage, OutboxStatus, OutboxTask
from .services import LEASE, absolute_url, deliver_soon, tasks_mark_published

logger = logging.getLogger(__name__)

DELIVER_BATCH = 100
RELAY_BATCH = 500


@dataclass
class Delivery:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: the base doubling each time, capped at six hours."""
    base = settings.NOTIFICATION_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def _claim(model, *, now: datetime, size: int) -> list[int]:
    """Lease up to ``size`` due pending rows to this caller; others skip them."""
    with transaction.atomic():
        ids = list(model.objects.select_for_update(skip_locked=True)
                   .filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
                   .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:size])
        if ids:
            model.objects.filter(pk__in=ids).update(next_attempt_at=now + LEASE,
                                                    attempts=F("attempts") + 1)
    return ids


def outbox_deliver_due(*, now: datetime, batch: int = DELIVER_BATCH,
                       max_batches: int = 50) -> Delivery:
    """Send each due message through its channel: sent, retried later, or failed for good."""
    done = Delivery()
    for _ in range(max_batches):
        ids = _claim(OutboxMessage, now=now, size=batch)
        if not ids:
            break
        for message in OutboxMessage.objects.filter(pk__in=ids).order_by("pk"):
            _deliver_one(message, done=done)
    return done


def _deliver_one(message: OutboxMessage, *, done: Delivery) -> None:
    try:
        channel_for(message.channel).send(message)
    except Exception as error:  # noqa: BLE001 - any failure is retried, then given up
        _deliver_failed(message, error=f"{type(error).__name__}: {error}", done=done)
        return
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENT, sent_at=timezone.now(), last_error="")
    done.sent += 1


def _deliver_failed(message: OutboxMessage, *, error: str, done: Delivery) -> None:
    now = timezone.now()
    if message.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxStatus.FAILED, last_error=error[:2000])
        logger.error("Gave up on %s to %s after %d attempts: %s", message.channel,
                     message.address, message.attempts, error)
        done.failed += 1
        return
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=now + retry_delay(message.attempts), last_error=error[:2000])
    logger.warning("%s to %s failed (attempt %d), retrying later: %s", message.channel,
                   message.address, message.attempts, error)
    done.retried += 1


def outbox_relay_pending(*, now: datetime, batch: int = RELAY_BATCH) -> int:
    """Hand every due pending task row to the broker; return how many it took."""
    relayed = 0
    while ids := _claim(OutboxTask, now=now, size=batch):
        rows = OutboxTask.objects.filter(pk__in=ids).order_by("pk")
        taken, error = publish((row.pk, row.task_name, row.kwargs) for row in rows)
        tasks_mark_published(taken=taken, refused=sorted(set(ids) - set(taken)), error=error)
        relayed += len(taken)
        if error:
            logger.warning("Outbox relay stopped: the broker refused (%s)", error)
            break
    return relayed


# --- The daily digest ------------------------------------------------------------------


def office_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first and the next day's first moment of ``day`` on the office's clock."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


@transaction.atomic
def digest_queue(*, day: date, now: datetime) -> int:
    """Queue one mail per digest user listing ``day``'s notifications; reruns add nothing."""
    start, end = office_day_bounds(day)
    rows = (Notification.objects
            .filter(user__notification_digest=True, user__is_active=True,
                    created_at__gte=start, created_at__lt=end)
            .exclude(user__email="")
            .order_by("user_id", "created_at", "pk")
            .values_list("user_id", "user__email", "user__language", "message", "params",
                         "url"))
    by_user: dict[int, list] = defaultdict(list)
    for user_id, email, language, message, params, url in rows:
        by_user[user_id].append((email, language, message, params, url))
    mails = [_digest_mail(user_id, entries, day=day, now=now)
             for user_id, entries in by_user.items()]
    OutboxMessage.objects.bulk_create(mails, ignore_conflicts=True)
    if mails:
        transaction.on_commit(deliver_soon)
    return len(mails)


def _digest_mail(user_id: int, entries: list, *, day: date, now: datetime) -> OutboxMessage:
    email, language = entries[0][0], entries[0][1]
    with override(language):
        shown_day = day_text(day)
        subject = ngettext("PetitionDesk: %(count)d notification on %(day)s",
                           "PetitionDesk: %(count)d notifications on %(day)s",
                           len(entries)) % {"count": len(entries), "day": shown_day}
        lines = []
        for _email, _language, message, params, url in entries:
            lines.append("- " + message_render(message, params))
            if url:
                lines.append("  " + absolute_url(url))
        lines += ["", gettext("All your notifications: %(link)s")
                  % {"link": absolute_url("/notifications/")}]
    return OutboxMessage(channel="mail", user_id=user_id, address=email, subject=subject[:200],
                         body="\n".join(lines), dedupe_key=f"digest:{user_id}:{day.isoformat()}",
                         next_attempt_at=now, created_at=now)
