"""The mediation app's beat tasks: the dispute clocks' ladder, the monthly sweep round, and
the confirmation windows that ran out."""

from celery import shared_task
from django.utils import timezone


@shared_task(name="mediation.tasks.dispute_sweep_task", ignore_result=True)
def dispute_sweep_task() -> int:
    """Fire every dispute clock's ladder level that came due (mediation/escalation.py)."""
    from .escalation import dispute_sweep

    return dispute_sweep(now=timezone.now()).total


@shared_task(name="mediation.tasks.sweep_rounds_open_task", ignore_result=True)
def sweep_rounds_open_task() -> int:
    """Open the month's dispute sweep round in each county, if not open yet (sweeps.py)."""
    from .sweeps import sweep_rounds_open

    return len(sweep_rounds_open(now=timezone.now()))


@shared_task(name="mediation.tasks.windows_lapse_task", ignore_result=True)
def windows_lapse_task() -> int:
    """Close as lapsed the court-confirmation windows that ran out unused (agreements.py)."""
    from .agreements import mediation_windows_lapse

    return mediation_windows_lapse(now=timezone.now())


@shared_task(name="mediation.tasks.dispute_clocks_refresh_task", ignore_result=True)
def dispute_clocks_refresh_task() -> int:
    """Follow a calendar or ladder edit on the live dispute clocks (clocks.py), nightly."""
    from .clocks import dispute_clocks_refresh

    return dispute_clocks_refresh()
