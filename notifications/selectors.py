"""Reads for the notification centre: the header's unread count and newest-first pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from accounts.models import User

from .messages import message_render
from .models import Notification

PAGE_SIZE = 50
# The badge says "99+" past this: counting stops there, however many are unread.
BADGE_CAP = 99


def unread_count(*, user: User) -> int:
    """Count the user's unread notifications, up to BADGE_CAP + 1 (one index-only query)."""
    return Notification.objects.filter(user=user, read_at__isnull=True)[:BADGE_CAP + 1].count()


@dataclass
class NotificationPage:
    rows: list[Notification]
    next_cursor: str  # "" on the last page


def _cursor(row: Notification) -> str:
    return f"{row.created_at.isoformat()}_{row.pk}"


def _parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    moment, _sep, pk = cursor.rpartition("_")
    try:
        return datetime.fromisoformat(moment), int(pk)
    except ValueError:
        return None


def notification_page(*, user: User, cursor: str = "", unread_only: bool = False,
                      size: int = PAGE_SIZE) -> NotificationPage:
    """The user's notifications newest first, from ``cursor`` on (keyset paging)."""
    rows = Notification.objects.filter(user=user).order_by("-created_at", "-pk")
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    after = _parse_cursor(cursor) if cursor else None
    if after is not None:
        moment, pk = after
        rows = rows.filter(Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk))
    page = list(rows[:size + 1])
    for row in page:
        row.text = message_render(row.message, row.params)
    more = len(page) > size
    return NotificationPage(rows=page[:size], next_cursor=_cursor(page[size - 1]) if more else "")
