"""Delivering the outbox: once per message, retried with backoff, given up, the digest."""

import socket
import threading
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from notifications.channels import MailChannel
from notifications.delivery import digest_queue, outbox_deliver_due, retry_delay
from notifications.models import OutboxMessage
from notifications.tasks import outbox_deliver

from .factories import MailUserFactory, NotificationFactory, OutboxMessageFactory

SH = ZoneInfo("Asia/Shanghai")


class SlowMailChannel(MailChannel):
    """Mail that takes a while, so two deliverers really overlap."""

    def send(self, message):
        time.sleep(0.02)
        super().send(message)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db
def test_a_due_message_is_sent_once_and_marked():
    # given a pending mail
    message = OutboxMessageFactory(subject="Case overdue")
    # when beat's task runs twice
    outbox_deliver.apply()
    outbox_deliver.apply()
    # then it went out once and is marked sent
    assert [m.subject for m in mail.outbox] == ["Case overdue"]
    assert mail.outbox[0].to == [message.address]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 1, "")
    assert message.sent_at is not None


@pytest.mark.django_db
def test_a_message_not_yet_due_waits():
    OutboxMessageFactory(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert outbox_deliver_due(now=timezone.now()).sent == 0
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
@override_settings(NOTIFICATION_CHANNELS={"mail": "notifications.tests.test_delivery.SlowMailChannel"})
def test_two_deliverers_at_once_send_each_message_once():
    # given 60 pending mails
    user = MailUserFactory()
    messages = OutboxMessageFactory.create_batch(60, user=user, address=user.email)
    now = timezone.now()
    results = []

    def deliver() -> None:  # each thread has its own database connection
        try:
            results.append(outbox_deliver_due(now=now, batch=10))
        finally:
            connection.close()

    # when two deliverers run at the same moment
    workers = [threading.Thread(target=deliver) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    # then each message went out exactly once, and both did part of the work
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == sorted(m.subject for m in messages)
    assert sum(r.sent for r in results) == 60
    assert all(r.sent > 0 for r in results)
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 1)}


@pytest.mark.django_db
def test_a_failing_mail_server_is_retried_with_backoff_then_given_up(settings, caplog):
    # given a mail server that refuses connections, and three attempts allowed
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 60
    message = OutboxMessageFactory()
    now = timezone.now()
    # when the deliverer tries: then it waits 1 minute, then 2, then gives up
    for attempt, wait in ((1, 60), (2, 120)):
        done = outbox_deliver_due(now=now)
        message.refresh_from_db()
        assert (done.retried, message.status, message.attempts) == (1, "pending", attempt)
        assert "ConnectionRefusedError" in message.last_error
        assert abs((message.next_attempt_at - timezone.now()).total_seconds() - wait) < 5
        assert outbox_deliver_due(now=now).retried == 0  # not due again before its time
        now = message.next_attempt_at
    done = outbox_deliver_due(now=now)
    message.refresh_from_db()
    assert (done.failed, message.status, message.attempts) == (1, "failed", 3)
    assert "Gave up" in caplog.text
    # and a failed message is never tried again
    assert outbox_deliver_due(now=now + timedelta(days=1)).failed == 0


def test_the_backoff_doubles_and_is_capped(settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 60
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert retry_delay(30) == timedelta(hours=6)


@pytest.mark.django_db
@override_settings(NOTIFICATION_CHANNELS={"mail": "notifications.channels.MailChannel",
                                          "sms": "notifications.channels.LogSmsChannel"})
def test_a_registered_channel_delivers_without_touching_the_callers(caplog):
    caplog.set_level("INFO", logger="notifications.channels")
    OutboxMessageFactory(channel="sms", address="13812345678", subject="Case overdue")
    assert outbox_deliver_due(now=timezone.now()).sent == 1
    assert "SMS to 13812345678: Case overdue" in caplog.text
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_unregistered_channel_is_retried_not_lost():
    message = OutboxMessageFactory(channel="fax")
    assert outbox_deliver_due(now=timezone.now()).retried == 1
    message.refresh_from_db()
    assert message.status == "pending" and "fax" in message.last_error


@pytest.mark.django_db
def test_the_daily_digest_lists_the_days_notifications_in_one_mail(
        django_capture_on_commit_callbacks):
    # given a digest user with three notifications on 10-09 and one the day before,
    # and a user who takes one mail each
    day = date(2026, 10, 9)
    digest = MailUserFactory(notification_digest=True, language="en")
    each = MailUserFactory()
    for hour in (9, 12, 17):
        NotificationFactory(user=digest, created_at=datetime(2026, 10, 9, hour, tzinfo=SH))
    NotificationFactory(user=digest, created_at=datetime(2026, 10, 8, 23, 59, tzinfo=SH))
    NotificationFactory(user=each, created_at=datetime(2026, 10, 9, 10, tzinfo=SH))
    now = datetime(2026, 10, 9, 18, tzinfo=SH)
    # when beat's 18:00 digest runs (twice: a rerun adds nothing) and the outbox is delivered
    with django_capture_on_commit_callbacks(execute=True):
        assert digest_queue(day=day, now=now) == 1
    with django_capture_on_commit_callbacks(execute=True):
        digest_queue(day=day, now=now)
    # then the digest user got one mail listing that day's three, in their language
    [sent] = mail.outbox
    assert sent.to == [digest.email]
    assert sent.subject == "PetitionDesk: 3 notifications on 2026-10-09"
    assert sent.body.count("- Case ") == 3
    assert "http://127.0.0.1:8000/notifications/" in sent.body
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_the_digest_costs_the_same_statements_whatever_the_users(django_assert_num_queries):
    day = date(2026, 10, 9)
    for user in MailUserFactory.create_batch(20, notification_digest=True):
        NotificationFactory.create_batch(2, user=user,
                                         created_at=datetime(2026, 10, 9, 9, tzinfo=SH))
    # a savepoint pair, the SELECT of the day's notifications, the INSERT of the mail
    with django_assert_num_queries(4):
        assert digest_queue(day=day, now=datetime(2026, 10, 9, 18, tzinfo=SH)) == 20
