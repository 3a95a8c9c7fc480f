"""Heartbeat and health checks.

Each check says ok or, for the log, why not: the views show a caller only the names of
the failed checks, since an exception's text can name hosts, ports, users and paths.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from .models import Heartbeat

HEARTBEAT = "celery"


def heartbeat_record(*, at: datetime, worker: str = "") -> Heartbeat:
    """Record that a worker ran the scheduled heartbeat at ``at``."""
    beat, created = Heartbeat.objects.get_or_create(
        name=HEARTBEAT, defaults={"last_beat_at": at, "worker": worker, "beats": 1},
    )
    if not created:
        Heartbeat.objects.filter(pk=beat.pk).update(last_beat_at=at, worker=worker,
                                                    beats=F("beats") + 1)
        beat.refresh_from_db()
    return beat


def health_report(*, now: datetime | None = None) -> dict[str, dict]:
    """Check the database, the broker and the heartbeat's age; each says ok or why not."""
    now = now or timezone.now()
    database = _check_database()
    return {
        "database": database,
        "broker": _check_broker(),
        "heartbeat": _check_heartbeat(now) if database["ok"] else _skipped("database is down"),
    }


def liveness_report() -> dict[str, dict]:
    """Check what the load balancer needs: this process answers and reaches the database."""
    return {"database": _check_database()}


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as error:  # noqa: BLE001 - any failure means "down", reported as such
        return {"ok": False, "error": str(error).strip()[:200]}


def _check_broker() -> dict:
    """Ping the Redis broker with short timeouts: a hung broker must not hang /healthz."""
    import redis

    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2,
                                      socket_connect_timeout=2)
        client.ping()
        client.close()
        return {"ok": True}
    except Exception as error:  # noqa: BLE001
        return {"ok": False, "error": str(error).strip()[:200]}


def _check_heartbeat(now: datetime) -> dict:
    allowed = timedelta(seconds=3 * settings.HEARTBEAT_INTERVAL_SECONDS)
    beat = Heartbeat.objects.filter(name=HEARTBEAT).first()
    if beat is None:
        return {"ok": False, "error": "no heartbeat yet", "age_seconds": None}
    age = (now - beat.last_beat_at).total_seconds()
    result = {"ok": age <= allowed.total_seconds(), "age_seconds": round(age, 1),
              "last_beat_at": beat.last_beat_at.isoformat()}
    if not result["ok"]:
        result["error"] = f"older than {int(allowed.total_seconds())} s"
    return result


def _skipped(reason: str) -> dict:
    return {"ok": False, "error": reason}
