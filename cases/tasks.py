"""Thin Celery wrappers around the case services: ids in, one service call."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             ignore_result=True)
def clocks_recompute_task(*, actor_id: int | None = None, reason: str = "") -> None:
    """Recompute every live clock against the office calendar; reruns change nothing."""
    from accounts.models import User
    from cases.deadlines.recompute import clocks_recompute

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    clocks_recompute(actor=actor, at=timezone.now(), reason=reason)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             ignore_result=True)
def intake_uploads_purge() -> None:
    """Delete files dropped on intake forms never registered, a day after; reruns are harmless."""
    from cases.services.intake import intake_uploads_delete_stale

    intake_uploads_delete_stale(now=timezone.now())
