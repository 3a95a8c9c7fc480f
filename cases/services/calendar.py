"""After the office calendar changes, queue the clock recompute without risking the change.

The recompute runs on a Celery worker (hundreds of thousands of live clocks do
not belong in a request). Queueing it happens after the commit, so a broker
that is down or hung must not turn the administrator's saved change into an
error page or a long wait: we publish once, over a fresh connection with short
timeouts and no retries, and on failure log a warning and leave the work to
beat's nightly recompute, which moves every stale clock whatever changed them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from accounts.models import User

from ..tasks import clocks_recompute_task

logger = logging.getLogger(__name__)

# Seconds to connect to the broker and to wait for its answer, on the request's path.
# A Redis on the local network answers in milliseconds; anything slower is treated as down.
QUEUE_TIMEOUT_SECONDS = 1.0
NIGHTLY_ENTRY = "clocks-recompute-nightly"


@dataclass
class RecomputeQueueing:
    """Whether the recompute reached the task queue: None until the change commits."""

    queued: bool | None = None


def clocks_recompute_queue(*, actor: User | None, reason: str) -> RecomputeQueueing:
    """Queue the clock recompute after the commit; a broker outage never fails the change.

    The returned object's ``queued`` is filled in by the commit: True when the task
    reached the broker, False when it did not and the nightly recompute will do it.
    Callbacks registered after this one (say, the admin's message) run after it.
    """
    queueing = RecomputeQueueing()
    kwargs = {"actor_id": actor.pk if actor is not None else None, "reason": str(reason)}

    def queue() -> None:
        queueing.queued = _publish(kwargs)

    transaction.on_commit(queue)
    return queueing


def _publish(kwargs: dict) -> bool:
    """Publish the task once with short timeouts; return False, logged, if the broker refuses."""
    app = clocks_recompute_task.app
    options = {"max_retries": 0, "socket_connect_timeout": QUEUE_TIMEOUT_SECONDS,
               "socket_timeout": QUEUE_TIMEOUT_SECONDS}
    try:
        # A fresh connection with max_retries=0, not the pool's: with the broker down,
        # kombu's connect loop spent 6 s (timeout plus a retry) even with retry=False.
        with app.connection_for_write(transport_options=options) as connection:
            clocks_recompute_task.apply_async(kwargs=kwargs, connection=connection, retry=False)
    except Exception as error:  # noqa: BLE001 - any failure to queue must leave the change saved
        logger.warning("Clock recompute not queued (%s: %s); the nightly recompute at %s "
                       "will move the clocks.", type(error).__name__, error,
                       nightly_recompute_time())
        return False
    return True


def nightly_recompute_time() -> str:
    """Return the HH:MM of beat's nightly recompute, as CELERY_BEAT_SCHEDULE sets it."""
    schedule = settings.CELERY_BEAT_SCHEDULE[NIGHTLY_ENTRY]["schedule"]
    return f"{min(schedule.hour):02d}:{min(schedule.minute):02d}"
