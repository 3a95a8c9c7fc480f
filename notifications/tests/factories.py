import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from notifications.models import Notification, NotificationKind, OutboxMessage


class MailUserFactory(UserFactory):
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.gov.cn")
    language = "zh-hans"


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(MailUserFactory)
    kind = NotificationKind.ESCALATION
    message = "clock.due"
    params = factory.LazyFunction(lambda: {"case_number": "清信〔2026〕1号",
                                           "clock_label": "Written reply",
                                           "due_on": "2026-10-08"})
    url = "/cases/1/"
    created_at = factory.LazyFunction(timezone.now)


class OutboxMessageFactory(DjangoModelFactory):
    class Meta:
        model = OutboxMessage

    channel = "mail"
    user = factory.SubFactory(MailUserFactory)
    address = factory.LazyAttribute(lambda message: message.user.email)
    subject = factory.Sequence(lambda n: f"Subject {n}")
    body = "Body"
    next_attempt_at = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)
