"""The notification centre: the header's badge, the list, mark read, mark all read."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification

from .factories import MailUserFactory, NotificationFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def reader(client):
    user = MailUserFactory(language="en")
    client.force_login(user)
    return user


def test_the_header_shows_the_unread_count(client, reader):
    # given two unread notifications and one read
    NotificationFactory.create_batch(2, user=reader)
    NotificationFactory(user=reader, read_at=timezone.now())
    NotificationFactory()  # someone else's
    # when any page is shown
    page = client.get(reverse("notifications:list")).content.decode()
    # then the header says 2 unread, for screen readers too, in a live region
    assert 'id="pd-notification-badge"' in page and 'aria-live="polite"' in page
    assert ">2</span><span class=\"visually-hidden\">2 unread</span>" in page


def test_the_badge_is_one_query_and_capped(client, reader, django_assert_num_queries):
    from notifications.context_processors import notifications

    NotificationFactory.create_batch(101, user=reader)
    request = type("R", (), {"user": reader})()
    context = notifications(request)
    with django_assert_num_queries(1):
        assert context["notifications_unread"]() == 100
        assert context["notifications_unread"]() == 100  # counted once per page
    page = client.get(reverse("notifications:list")).content.decode()
    assert "99+" in page and "more than 99 unread" in page


def test_signed_out_pages_count_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("login"))
    assert "pd-notification-badge" not in response.content.decode()


def test_the_list_is_newest_first_with_links_times_and_unread_marked(client, reader):
    # given an older read notification and a newer unread one
    NotificationFactory(user=reader, created_at=datetime(2026, 10, 8, 9, tzinfo=SH),
                        read_at=timezone.now(), url="/cases/A-1/")
    NotificationFactory(user=reader, created_at=datetime(2026, 10, 9, 9, 5, tzinfo=SH),
                        url="/cases/B-2/")
    # when the reader opens the centre
    response = client.get(reverse("notifications:list"))
    # then the newer is first, unread, with its case link and time
    rows = response.context["page"].rows
    assert [r.url for r in rows] == ["/cases/B-2/", "/cases/A-1/"]
    page = response.content.decode()
    assert page.index("/cases/B-2/") < page.index("/cases/A-1/")
    assert "2026-10-09 09:05" in page
    assert page.count(">Unread</span>") == 1
    assert "Case 清信〔2026〕1号: Written reply is due today (2026-10-08)" in page


def test_pages_follow_on_without_gaps_or_repeats(client, reader):
    start = timezone.now()
    made = [NotificationFactory(user=reader, created_at=start - timedelta(minutes=n // 2))
            for n in range(120)]
    seen, after = [], ""
    while True:
        response = client.get(reverse("notifications:list"), {"after": after} if after else {})
        seen += [r.pk for r in response.context["page"].rows]
        after = response.context["page"].next_cursor
        if not after:
            break
    assert sorted(seen) == sorted(n.pk for n in made) and len(seen) == 120


def test_a_foreign_link_is_not_rendered(client, reader):
    NotificationFactory(user=reader, url="//evil.example/x")
    assert "evil.example" not in client.get(reverse("notifications:list")).content.decode()


def test_mark_one_read_with_htmx_returns_the_row_and_the_new_count(client, reader):
    # given two unread notifications
    first, _second = NotificationFactory.create_batch(2, user=reader)
    # when the reader marks the first read from the list (htmx)
    response = client.post(reverse("notifications:read", args=[first.pk]),
                           headers={"HX-Request": "true"})
    # then the row comes back read, focused, and the badge is swapped out of band
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="notification-{first.pk}"' in body and "autofocus" in body
    assert "Mark as read" not in body
    assert 'hx-swap-oob="true"' in body and "1 unread" in body
    first.refresh_from_db()
    assert first.read_at is not None


def test_mark_one_read_without_javascript_goes_back_to_the_list(client, reader):
    notification = NotificationFactory(user=reader)
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response.status_code == 302 and response.url == reverse("notifications:list")
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_marking_read_needs_a_post(client, reader):
    notification = NotificationFactory(user=reader)
    assert client.get(reverse("notifications:read", args=[notification.pk])).status_code == 405


def test_another_users_notification_is_404(client, reader):
    # given someone else's notification
    other = NotificationFactory()
    # when the reader tries to mark it read
    response = client.post(reverse("notifications:read", args=[other.pk]))
    # then it does not exist for them, and stays unread
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_all_read_touches_only_the_readers_own(client, reader):
    NotificationFactory.create_batch(3, user=reader)
    other = NotificationFactory()
    response = client.post(reverse("notifications:read_all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(user=reader, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_the_centre_needs_a_sign_in(client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_the_centre_speaks_chinese_by_default(client):
    user = MailUserFactory(language="zh-hans")
    client.force_login(user)
    NotificationFactory(user=user)
    page = client.get(reverse("notifications:list")).content.decode()
    assert 'lang="zh-hans"' in page and "答复意见书" in page and "2026年10月8日" in page
