"""Thin Celery wrappers: beat runs each every minute (the digest at 18:00); reruns are harmless."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             ignore_result=True)
def outbox_deliver() -> None:
    """Send the due mail and SMS in the outbox, retrying failures with backoff."""
    from notifications.delivery import outbox_deliver_due

    outbox_deliver_due(now=timezone.now())


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             ignore_result=True)
def outbox_relay() -> None:
    """Hand the tasks queued while the broker was down to the broker."""
    from notifications.delivery import outbox_relay_pending

    outbox_relay_pending(now=timezone.now())


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             ignore_result=True)
def digest_send() -> None:
    """Queue today's digest mail for the users who chose it."""
    from notifications.delivery import digest_queue

    now = timezone.now()
    digest_queue(day=timezone.localdate(now), now=now)
