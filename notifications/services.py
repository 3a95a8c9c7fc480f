"""Write notifications and queue work in the caller's transaction; deliver after commit.

Two entry points for other apps:

* ``notify_bulk``: the in-app notifications and their mail for a whole batch (the
  deadline sweep calls it inside its transaction with thousands of drafts), in a
  constant number of statements: one COPY of notifications, one SELECT of the
  recipients, one INSERT … ON CONFLICT DO NOTHING of mail. Nothing is sent here.
* ``task_enqueue``: a Celery task queued from a request, written as an ``OutboxTask``
  row first, so a broker outage loses nothing (issue 8: "use the same outbox for every
  task queued from a request").

After the commit each tries the broker once with a short timeout; whatever it did not
take, beat's ``outbox_relay`` and ``outbox_deliver`` pick up within a minute.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, override
from psycopg2.extras import execute_values

from accounts.models import User
from config.pgbulk import copy_rows, copy_text

from .broker import publish, task_by_name
from .messages import message_render
from .models import Notification, OutboxStatus, OutboxTask

logger = logging.getLogger(__name__)

# How long a claimed row is left to its claimer before another relay or deliverer may
# take it again (a worker killed between claiming and marking the row).
LEASE = timedelta(minutes=5)
DELIVER_TASK = "notifications.tasks.outbox_deliver"


@dataclass(frozen=True)
class NotificationDraft:
    """One notification to write: who, about which case, which message, and whether to mail."""

    user_id: int
    case_id: int | None
    kind: str
    message: str
    params: dict = field(default_factory=dict)
    url: str = ""
    mail: bool = False
    dedupe_key: str | None = None


def mail_dedupe_key(*, kind: str, user_id: int, case_id: int | None, day: date) -> str:
    """The key that lets through one ``kind`` mail per user, case and office day."""
    return f"{kind}:{user_id}:{case_id or '-'}:{day.isoformat()}"


def notify_bulk(drafts: Iterable[NotificationDraft], *, at: datetime) -> int:
    """Write the notifications and queue their mail in the caller's transaction; return how many.

    Constant statements whatever the number of drafts. Mail is capped by each draft's
    ``dedupe_key`` (ON CONFLICT DO NOTHING) and skipped for users without an address,
    inactive ones, and those who chose the daily digest (``digest_queue`` mails them).
    """
    drafts = list(drafts)
    if not drafts:
        return 0
    _notifications_insert(drafts, at=at)
    mails = _mails_for([d for d in drafts if d.mail], at=at)
    if mails:
        with connection.cursor() as cursor:
            execute_values(cursor, _INSERT_MAILS, mails, page_size=len(mails))
        transaction.on_commit(deliver_soon)
    return len(drafts)


def _notifications_insert(drafts: list[NotificationDraft], *, at: datetime) -> None:
    """One COPY of every draft's row. Not ``bulk_create`` nor a VALUES list: for the sweep's
    batches of thousands, building model instances (or adapting every value) took longer
    than the database spent writing, and the server reads COPY's text fastest
    (``make bench``)."""
    copy_rows(_COPY_NOTIFICATIONS, _notification_lines(drafts, at=at))


def _notification_lines(drafts: list[NotificationDraft], *, at: datetime) -> Iterator[str]:
    """The drafts' rows; the drafts of one message to several people (one escalation's
    recipients share a params dict) share the rest of the row: it is written once."""
    created_at = copy_text(at)
    rows: dict[tuple, str] = {}  # the row less its user; id(params): the drafts keep them
    for draft in drafts:
        key = (draft.case_id, draft.kind, draft.message, id(draft.params), draft.url)
        row = rows.get(key)
        if row is None:
            row = rows[key] = "\t".join((
                copy_text(draft.case_id), copy_text(draft.kind), copy_text(draft.message),
                copy_text(json.dumps(draft.params)), copy_text(draft.url), created_at))
        yield f"{draft.user_id:d}\t{row}\n"


_COPY_NOTIFICATIONS = ("COPY notifications_notification (user_id, case_id, kind, message, "
                       "params, url, created_at) FROM STDIN")


def _mails_for(drafts: list[NotificationDraft], *, at: datetime) -> list[tuple]:
    """One mail row per draft to users who take one now; one per dedupe key within the batch.

    A mail's words depend on the message, its params, the link and the reader's language
    only, so drafts sharing those (one escalation's recipients) are rendered once.
    """
    if not drafts:
        return []
    recipients = {pk: (email, language) for pk, email, language in User.objects.filter(
        pk__in={d.user_id for d in drafts}, is_active=True, notification_digest=False,
    ).exclude(email="").values_list("pk", "email", "language")}
    rendered: dict[tuple, tuple[str, str]] = {}  # keyed by id(params): the drafts keep them
    mails, keys = [], set()
    for draft in drafts:
        if draft.user_id not in recipients or (draft.dedupe_key and draft.dedupe_key in keys):
            continue
        keys.add(draft.dedupe_key)
        email, language = recipients[draft.user_id]
        words = (draft.message, id(draft.params), draft.url, language)
        if words not in rendered:
            subject = message_render(draft.message, draft.params, language=language)
            rendered[words] = (subject[:200], mail_body(subject, draft.url, language=language))
        subject, body = rendered[words]
        mails.append(("mail", draft.user_id, email, subject, body, draft.dedupe_key,
                      OutboxStatus.PENDING.value, 0, "", at, at))
    return mails


# ON CONFLICT DO NOTHING: a mail whose dedupe_key was queued before is not queued again.
_INSERT_MAILS = """
    INSERT INTO notifications_outboxmessage
           (channel, user_id, address, subject, body, dedupe_key, status, attempts, last_error,
            next_attempt_at, created_at)
    VALUES %s
    ON CONFLICT DO NOTHING
"""


def mail_body(line: str, url: str, *, language: str) -> str:
    """The mail for one notification: its line, the link to open, and why it came."""
    with override(language):
        parts = [line, ""]
        if url:
            parts += [gettext("Open: %(link)s") % {"link": absolute_url(url)}, ""]
        parts.append(gettext("You receive this mail because PetitionDesk notified you. To get "
                             "one mail a day instead, ask the administrator for the daily "
                             "digest."))
        return "\n".join(parts)


def absolute_url(path: str) -> str:
    """A site path as a link that works from a mail client."""
    if not path or "://" in path:
        return path
    return settings.PETITIONDESK_SITE_URL.rstrip("/") + "/" + path.lstrip("/")


def deliver_soon() -> None:
    """Ask a worker to deliver the outbox now; if the broker is down, beat's run will."""
    _taken, error = publish([(0, DELIVER_TASK, {})])
    if error:
        logger.warning("Outbox delivery not queued (%s); beat's outbox_deliver will send "
                       "the messages once the broker is back.", error)


# --- Tasks queued from requests --------------------------------------------------------


@dataclass
class TaskEnqueued:
    """A queued task's outbox row; ``sent`` is None until the commit, then whether the
    broker took it (False: the row waits for ``outbox_relay``)."""

    outbox_id: int
    sent: bool | None = None


def task_enqueue(task_name: str, **kwargs) -> TaskEnqueued:
    """Write the task to the outbox in the caller's transaction; publish it after the commit.

    ``kwargs`` must be JSON. A broker that is down or hung never fails or slows the
    change by more than about a second: the row stays pending and is relayed later.
    """
    task_by_name(task_name)  # a misspelt task fails the caller now, not the relay later
    now = timezone.now()
    row = OutboxTask.objects.create(task_name=task_name, kwargs=kwargs, next_attempt_at=now,
                                    created_at=now)
    enqueued = TaskEnqueued(outbox_id=row.pk)

    def relay() -> None:
        enqueued.sent = task_relay_one(outbox_id=row.pk)

    transaction.on_commit(relay)
    return enqueued


def task_relay_one(*, outbox_id: int) -> bool:
    """Claim one pending task row and publish it; True when the broker took it."""
    now = timezone.now()
    claimed = OutboxTask.objects.filter(
        pk=outbox_id, status=OutboxStatus.PENDING, next_attempt_at__lte=now,
    ).update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1)
    if not claimed:  # the relay took it meanwhile
        return OutboxTask.objects.filter(pk=outbox_id, status=OutboxStatus.SENT).exists()
    row = OutboxTask.objects.get(pk=outbox_id)
    taken, error = publish([(row.pk, row.task_name, row.kwargs)])
    tasks_mark_published(taken=taken, refused=[] if taken else [row.pk], error=error)
    if error:
        logger.warning("Task %s not queued (%s); it stays in the outbox and goes once the "
                       "broker is back.", row.task_name, error)
    return bool(taken)


def tasks_mark_published(*, taken: list[int], refused: list[int], error: str) -> None:
    """Mark the rows the broker took as sent; leave the refused ones due again at once."""
    now = timezone.now()
    if taken:
        OutboxTask.objects.filter(pk__in=taken).update(status=OutboxStatus.SENT, sent_at=now)
    if refused:
        OutboxTask.objects.filter(pk__in=refused, status=OutboxStatus.PENDING).update(
            next_attempt_at=now, last_error=error[:2000])


# --- The notification centre ------------------------------------------------------------


def notification_mark_read(*, user: User, notification_id: int, at: datetime) -> Notification:
    """Mark one of the user's own notifications read; another user's raises DoesNotExist."""
    notification = Notification.objects.get(pk=notification_id, user=user)
    if notification.read_at is None:
        notification.read_at = at
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: User, at: datetime) -> int:
    """Mark every unread notification of the user read; return how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=at)
