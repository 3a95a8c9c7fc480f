"""A broker outage loses nothing: act with Redis really stopped, start it, each goes once.

Like cases/tests/test_recompute_queue.py, these tests run a redis-server of their own,
kill it and start it again, with task eagerness off so publishing is real.
"""

import time

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from cases.services.calendar import clocks_recompute_queue
from cases.tasks import clocks_recompute_task
from cases.tests.factories import CaseFactory
from cases.tests.test_recompute_queue import Broker, _publish_to
from notifications.delivery import outbox_deliver_due, outbox_relay_pending
from notifications.models import Notification, NotificationKind, OutboxMessage, OutboxTask
from notifications.services import NotificationDraft, notify_bulk
from notifications.tasks import outbox_deliver, outbox_relay

from .factories import MailUserFactory


@pytest.fixture
def broker(tmp_path, monkeypatch):
    server = Broker(tmp_path)
    server.start()
    _publish_to(monkeypatch, server.url)
    yield server
    server.kill()


def act(users, case):
    """A change that queues a task and notifies with mail, as a request or the sweep does."""
    with transaction.atomic():
        queueing = clocks_recompute_queue(actor=None, reason="outage test")
        notify_bulk([NotificationDraft(user_id=u.pk, case_id=case.pk,
                                       kind=NotificationKind.ESCALATION, message="clock.due",
                                       params={"case_number": case.number}, mail=True,
                                       url=f"/cases/{case.number}/") for u in users],
                    at=case.received_at)
    return queueing


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_stopped_nothing_is_lost_and_each_goes_once_after(broker):
    # given three users to notify, and the broker really stopped
    users, case = MailUserFactory.create_batch(3), CaseFactory()
    broker.kill()
    assert not broker.answers()
    # when a change queues a task and notifies them
    began = time.monotonic()
    queueing = act(users, case)
    # then it commits at once, nothing is sent, and the outbox keeps it all
    assert time.monotonic() - began < 5
    assert queueing.queued is False
    assert Notification.objects.count() == 3
    task = OutboxTask.objects.get()
    assert (task.task_name, task.status) == (clocks_recompute_task.name, "pending")
    assert "Error" in task.last_error
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"pending"}
    assert mail.outbox == []
    # and a relay attempted while it is still down keeps the row
    assert outbox_relay_pending(now=task.next_attempt_at) == 0
    assert OutboxTask.objects.get().status == "pending"

    # given the broker started again
    broker.start()
    # when beat's relay and delivery run, and run again
    for _ in range(2):
        outbox_relay.apply()
        outbox_deliver.apply()
    # then the task reached the broker exactly once, with its arguments
    [(name, kwargs)] = broker.queued()
    assert (name, kwargs["reason"]) == (clocks_recompute_task.name, "outage test")
    assert OutboxTask.objects.get().status == "sent"
    # and each user got exactly one mail
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_up_the_task_goes_at_the_commit_and_the_relay_adds_nothing(broker):
    # given a working broker
    users, case = MailUserFactory.create_batch(2), CaseFactory()
    # when the change commits
    queueing = act(users, case)
    # then the recompute and a delivery run are on the queue, and the row is sent
    assert queueing.queued is True
    names = [name for name, _kwargs in broker.queued()]
    assert sorted(names) == sorted([clocks_recompute_task.name, outbox_deliver.name])
    assert OutboxTask.objects.get().status == "sent"
    # and a relay afterwards publishes nothing again
    outbox_relay.apply()
    assert len(broker.queued()) == 2
    # and the worker's delivery sends each mail once
    assert outbox_deliver_due(now=timezone.now()).sent == 2
    assert len(mail.outbox) == 2
