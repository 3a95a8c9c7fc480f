import socket

from celery import shared_task
from celery.signals import worker_ready
from django.utils import timezone


@shared_task(ignore_result=True)
def heartbeat_task() -> None:
    from ops.services import heartbeat_record

    heartbeat_record(at=timezone.now(), worker=socket.gethostname())


@worker_ready.connect
def _beat_once_on_start(sender, **kwargs) -> None:
    """Beat fires its first heartbeat after one interval; a starting worker records one now."""
    heartbeat_task.delay()
