"""Thin Celery wrappers around the follow-up services."""

import logging

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             ignore_result=True)
def followups_schedule_task() -> None:
    """Create the follow-ups whose rule day has come; reruns create nothing twice."""
    from followup.schedule import followups_schedule

    created = followups_schedule(now=timezone.now())
    if created:
        logger.info("scheduled %s follow-ups", len(created))
