"""Thin Celery wrappers around the case services: ids in, one service call."""

import logging

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

logger = logging.getLogger(__name__)


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


# A sweep that overran its minute is not piled up: beat's next one expires unstarted.
@shared_task(ignore_result=True, expires=55)
def escalation_sweep_task() -> None:
    """Fire the escalation ladder on every clock due, and tell the units of the commitments
    and instructions due today; two at once do nothing twice."""
    from cases.services.escalation import escalation_sweep
    from cases.services.undertaking_warnings import undertakings_warn

    now = timezone.now()
    report = escalation_sweep(now=now)
    if report.total:
        logger.info("sweep fired %s escalations on %s clocks", report.total, report.clocks)
    told = undertakings_warn(now=now)
    if told:
        logger.info("sweep told the units of %s commitments and instructions due", told)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             ignore_result=True)
def escalation_reschedule_task(*, kind: str = "") -> None:
    """Recompute the next escalation of open clocks (after a ladder edit, and nightly)."""
    from cases.services.escalation import escalation_reschedule

    escalation_reschedule(kind=kind or None)
