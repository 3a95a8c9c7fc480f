"""The Celery side of the clocks: the nightly recompute is scheduled and harmless to rerun."""

import pytest
from django.conf import settings

from cases.choices import ClockKind, EventKind
from cases.deadlines.clocks import clock_start
from cases.models import CalendarDay, CaseEvent
from cases.tasks import clocks_recompute_task
from cases.tests.factories import CaseFactory
from config.celery import app

pytestmark = pytest.mark.django_db


def test_beat_schedules_a_registered_nightly_recompute():
    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["clocks-recompute-nightly"]
    assert entry["task"] in app.tasks


def test_the_recompute_task_moves_a_clock_once_and_a_rerun_changes_nothing(clerk):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    # given a clock due 2026-03-17, then a holiday on that day entered outside the admin
    start = datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    case = CaseFactory(registered_by=clerk)
    deadline = clock_start(case=case, kind=ClockKind.ACCEPTANCE_NOTICE, start=start,
                           actor=clerk, at=start)
    CalendarDay.objects.create(day=date(2026, 3, 17), is_workday=False, name="县防汛日")
    # when beat's nightly entry runs twice
    nightly = settings.CELERY_BEAT_SCHEDULE["clocks-recompute-nightly"]
    clocks_recompute_task.delay(**nightly["kwargs"])
    clocks_recompute_task.delay(**nightly["kwargs"])
    # then the clock moved once, with one audit row naming no actor
    deadline.refresh_from_db()
    assert deadline.due_on == date(2026, 3, 18)
    [event] = CaseEvent.objects.filter(case=case, kind=EventKind.CLOCK_RECOMPUTED)
    assert (event.actor_id, event.details["reason"]) == (None, "nightly check")
