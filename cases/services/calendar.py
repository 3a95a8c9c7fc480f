"""After the office calendar changes, queue the clock recompute without risking the change.

The recompute runs on a Celery worker (hundreds of thousands of live clocks do
not belong in a request). It is queued through the notifications outbox
(``task_enqueue``): the task is written as a row in the change's transaction and
published after the commit over a fresh connection with short timeouts, so a broker
that is down or hung never turns the administrator's saved change into an error
page or a long wait. On failure the outbox logs a warning; the row stays pending and beat's
``outbox_relay`` hands it over once the broker is back, and the nightly recompute
moves every stale clock whatever changed them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from accounts.models import User
from notifications.services import TaskEnqueued, task_enqueue

from ..tasks import clocks_recompute_task

NIGHTLY_ENTRY = "clocks-recompute-nightly"


@dataclass
class RecomputeQueueing:
    """Whether the recompute reached the task queue: None until the change commits."""

    enqueued: TaskEnqueued

    @property
    def queued(self) -> bool | None:
        return self.enqueued.sent


def clocks_recompute_queue(*, actor: User | None, reason: str) -> RecomputeQueueing:
    """Queue the clock recompute after the commit; a broker outage never fails the change.

    The returned object's ``queued`` is filled in by the commit: True when the task
    reached the broker, False when it did not (the outbox relays it once the broker is
    back, and the nightly recompute catches up in any case).
    Callbacks registered after this one (say, the admin's message) run after it.
    """
    return RecomputeQueueing(task_enqueue(
        clocks_recompute_task.name, actor_id=actor.pk if actor is not None else None,
        reason=str(reason)))


def nightly_recompute_time() -> str:
    """Return the HH:MM of beat's nightly recompute, as CELERY_BEAT_SCHEDULE sets it."""
    schedule = settings.CELERY_BEAT_SCHEDULE[NIGHTLY_ENTRY]["schedule"]
    return f"{min(schedule.hour):02d}:{min(schedule.minute):02d}"
