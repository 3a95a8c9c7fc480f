"""Hand one task, or a batch, to Celery's broker without ever hanging or failing the caller.

Used after a commit (a request's or a sweep's) and by the relay. A broker that is
down or hung must cost about a second, not kombu's connect-and-retry loop: we open a
fresh connection with short socket timeouts and no retries, publish, and report
whether the broker took the message. The caller's outbox row stays pending otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib import import_module

from config.celery import app

logger = logging.getLogger(__name__)

# Seconds to connect to the broker and to wait for its answer, on the request's path.
# A Redis on the local network answers in milliseconds; anything slower is treated as down.
QUEUE_TIMEOUT_SECONDS = 1.0


def task_by_name(name: str):
    """The registered Celery task ``name`` ("app.tasks.function"), importing its module."""
    if name not in app.tasks:
        import_module(name.rpartition(".")[0])
    return app.tasks[name]


def publish(jobs: Iterable[tuple[int, str, dict]]) -> tuple[list[int], str]:
    """Publish each (key, task name, kwargs) over one short-lived connection, in order.

    Return the keys the broker took and, when it refused one, the error text; the
    ones after a refusal are not tried (the broker is down for them too).
    """
    taken: list[int] = []
    options = {"max_retries": 0, "socket_connect_timeout": QUEUE_TIMEOUT_SECONDS,
               "socket_timeout": QUEUE_TIMEOUT_SECONDS}
    try:
        # A fresh connection with max_retries=0, not the pool's: with the broker down,
        # kombu's connect loop spent 6 s (timeout plus a retry) even with retry=False.
        with app.connection_for_write(transport_options=options) as connection:
            for key, name, kwargs in jobs:
                task_by_name(name).apply_async(kwargs=kwargs, connection=connection,
                                               retry=False)
                taken.append(key)
    except Exception as error:  # noqa: BLE001 - a refused publish leaves the row pending
        return taken, f"{type(error).__name__}: {error}"
    return taken, ""
