import socket

from celery import shared_task
from django.utils import timezone


@shared_task(ignore_result=True)
def heartbeat_task() -> None:
    from ops.services import heartbeat_record

    heartbeat_record(at=timezone.now(), worker=socket.gethostname())
