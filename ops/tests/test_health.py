"""/healthz and the Celery heartbeat."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from ops.models import Heartbeat
from ops.services import heartbeat_record
from ops.tasks import heartbeat_task

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_database_broker_and_heartbeat_are_fine(client):
    heartbeat_task.delay()  # eager in tests: the real task code, in-process
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"database", "broker", "heartbeat"}
    assert body["down"] == []


def test_healthz_names_a_stale_heartbeat(client):
    heartbeat_record(at=timezone.now() - timedelta(hours=1))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["heartbeat"]


def test_healthz_names_the_broker_when_it_is_down(client):
    heartbeat_record(at=timezone.now())
    # given a broker address where nothing listens
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]


def test_heartbeat_counts_each_beat():
    heartbeat_record(at=timezone.now(), worker="a")
    beat = heartbeat_record(at=timezone.now(), worker="b")
    assert (beat.beats, beat.worker) == (2, "b")


def _url_of(db: dict) -> str:
    """A DATABASE_URL for the test database, socket or TCP alike."""
    host = db.get("HOST") or db.get("OPTIONS", {}).get("host", "")
    port = db.get("PORT") or db.get("OPTIONS", {}).get("port", "")
    query = f"host={quote(str(host))}" + (f"&port={port}" if port else "")
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@/{db['NAME']}?{query}"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_and_beat_advance_the_heartbeat(tmp_path):
    """Start `celery worker -B` against the real broker and the test database."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": _url_of(db),
        "HEARTBEAT_INTERVAL_SECONDS": "1",
    }
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--pool", "solo",
         "--loglevel", "WARNING", "--schedule", str(tmp_path / "beat-schedule")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        beats = 0
        while time.monotonic() < deadline and beats < 2:
            time.sleep(0.5)
            beats = Heartbeat.objects.filter(name="celery").values_list("beats", flat=True).first() or 0
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert beats >= 2
