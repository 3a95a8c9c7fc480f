"""notify_bulk and task_enqueue: rows in the caller's transaction, constant statements."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from cases.tests.factories import CaseFactory
from notifications.messages import message_render
from notifications.models import Notification, NotificationKind, OutboxMessage, OutboxTask
from notifications.services import (
    NotificationDraft,
    mail_dedupe_key,
    notify_bulk,
    task_enqueue,
)

from .factories import MailUserFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 10, 9, 9, 0, tzinfo=SH)
PARAMS = {"case_number": "清信〔2026〕7号", "clock_label": "Written reply", "due_on": "2026-10-08",
          "level": 2}


def drafts_for(users, case, *, day=date(2026, 10, 9), mail_too=True):
    return [NotificationDraft(
        user_id=user.pk, case_id=case.pk, kind=NotificationKind.ESCALATION,
        message="clock.overdue", params=PARAMS, url=f"/cases/{case.number}/", mail=mail_too,
        dedupe_key=mail_dedupe_key(kind="escalation", user_id=user.pk, case_id=case.pk, day=day))
        for user in users]


@pytest.mark.parametrize("count", [10, 1000])
def test_a_batch_is_three_statements_whatever_its_size(
        count, django_assert_num_queries, django_capture_on_commit_callbacks):
    # given 10 or 1,000 recipients of an escalation on one case
    case = CaseFactory()
    users = MailUserFactory.create_batch(count)
    # when the sweep writes them: one INSERT of notifications, one SELECT of the recipients,
    # one INSERT of mail
    with (django_capture_on_commit_callbacks() as callbacks,
          django_assert_num_queries(3)):
        written = notify_bulk(drafts_for(users, case), at=AT)
    # then every notification and every mail is there, and nothing was sent yet
    assert written == count
    assert Notification.objects.count() == count
    assert OutboxMessage.objects.filter(status="pending").count() == count
    assert mail.outbox == []
    assert len(callbacks) == 1


def test_one_escalation_mail_per_user_case_and_day(django_capture_on_commit_callbacks):
    # given a user already mailed about a case today
    case, user = CaseFactory(), MailUserFactory()
    notify_bulk(drafts_for([user], case), at=AT)
    # when a second level fires the same day, and another the next day
    notify_bulk(drafts_for([user], case), at=AT)
    notify_bulk(drafts_for([user], case, day=date(2026, 10, 10)), at=AT)
    # then each is in the centre, but only one mail per day is queued
    assert Notification.objects.filter(user=user).count() == 3
    assert OutboxMessage.objects.filter(user=user).count() == 2


def test_twice_the_same_key_in_one_batch_queues_one_mail():
    case, user = CaseFactory(), MailUserFactory()
    notify_bulk(drafts_for([user, user], case), at=AT)
    assert OutboxMessage.objects.count() == 1


def test_mail_goes_in_the_readers_language_and_only_to_who_takes_it():
    # given an English reader, a Chinese one, one without address and one on the digest
    case = CaseFactory()
    english, chinese = MailUserFactory(language="en"), MailUserFactory(language="zh-hans")
    no_address, digest = MailUserFactory(email=""), MailUserFactory(notification_digest=True)
    # when they are notified
    notify_bulk(drafts_for([english, chinese, no_address, digest], case), at=AT)
    # then all four see it in the centre, and the first two get a mail in their language
    assert Notification.objects.count() == 4
    subjects = dict(OutboxMessage.objects.values_list("user_id", "subject"))
    assert set(subjects) == {english.pk, chinese.pk}
    assert subjects[english.pk] == ("Case 清信〔2026〕7号: the time for Written reply ran out "
                                    "on 2026-10-08 (escalation level 2)")
    # (the params in Chinese; the sentence itself once the catalogue has /tmp/po-notify.txt)
    assert "2026年10月8日" in subjects[chinese.pk] and "答复意见书" in subjects[chinese.pk]
    body = OutboxMessage.objects.get(user=english).body
    assert f"http://127.0.0.1:8000/cases/{case.number}/" in body


def test_the_centre_renders_stored_params_in_whatever_language_is_read():
    text_en = message_render("clock.due", PARAMS, language="en")
    text_zh = message_render("clock.due", PARAMS, language="zh-hans")
    assert text_en == "Case 清信〔2026〕7号: Written reply is due today (2026-10-08)"
    assert text_zh != text_en and "2026年10月8日" in text_zh
    # a key this release does not know, or a missing param, never breaks a page
    assert "no.such.key" in message_render("no.such.key", {}, language="en")
    assert "?" in message_render("clock.due", {}, language="en")


def test_nothing_is_written_for_no_drafts(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert notify_bulk([], at=AT) == 0


def test_a_task_is_written_in_the_transaction_and_published_after_the_commit(
        django_capture_on_commit_callbacks):
    # given a transaction that enqueues the heartbeat (eager in tests: it runs in-process)
    from ops.models import Heartbeat

    with django_capture_on_commit_callbacks(execute=True):
        enqueued = task_enqueue("ops.tasks.heartbeat_task")
        # then before the commit the row waits and nothing ran
        assert OutboxTask.objects.get().status == "pending"
        assert enqueued.sent is None and not Heartbeat.objects.exists()
    # and after it the task ran and the row is sent
    assert enqueued.sent is True
    row = OutboxTask.objects.get()
    assert (row.status, row.attempts) == ("sent", 1)
    assert Heartbeat.objects.exists()


def test_a_misspelt_task_fails_the_caller_at_once():
    with pytest.raises((ModuleNotFoundError, KeyError)):
        task_enqueue("ops.tasks.no_such_task")
    assert not OutboxTask.objects.exists()


def test_the_sweeps_messages_render_in_the_readers_language():
    params = {"case_number": "341122-2026-000007", "clock_label": "Written reply", "level": 2,
              "due_on": "2026-10-08"}
    assert message_render("clock.overdue", params, language="en") == (
        "Case 341122-2026-000007: the time for Written reply ran out on 2026-10-08 "
        "(escalation level 2)")
    assert "答复意见书" in message_render("clock.overdue", params, language="zh-hans")
