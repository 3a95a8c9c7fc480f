"""The audit trail's HMAC-SM3 chain (issue 9): a changed, forged or deleted event shows.

The triggers and the runtime role's privileges keep the trail append-only for everyone
the database itself can stop (accounts/migrations/0005, config/dbroles.py). A database
superuser can switch them off, and a backup can be restored over the table; neither
leaves a trace in the rows. So each ``CaseEvent`` carries

* ``prev``: the id of the event of the same case it follows (null for a case's first);
* ``mac``: ``<key id>:<64 hex>``, the HMAC-SM3 (GB/T 15852.2-2012 with SM3, GB/T 32905-2016)
  under the audit key of that id of ``prev``'s MAC and the row's canonical form
  (:func:`frame`): id, case, kind, actor, time, statuses, details and ``prev``.

The keys live outside the database (``AUDIT_MAC_KEYS``; config/crypto.py). Walking a case
in id order (:func:`verify`, ``manage.py verify_audit``) then shows an altered row (its MAC
fails), a forged one (its MAC needs the key), a row moved to another case or id (both are
in the MAC), and a deleted one (the row after it names a ``prev`` that is gone, and
cannot be re-linked without the key).

**A chain per case, linked explicitly, with no lock.** A writer reads the head of each
case it writes to (its latest event by time, then id: ``ORDER BY at DESC, id DESC LIMIT 1``,
which the index event_case_at_id answers from one entry whatever the length of the case's
timeline; one statement for a batch of cases), takes the new ids from the table's sequence
in the same statement, and links the new rows of a case to each other in id order (a
batch takes its ids in order of time, so its last row is the case's new head). Two
transactions writing to one case at the same moment may both link to the same head: the
chain forks there. That is accepted rather than locking the case's head (the sweep locks
thousands of clocks with SKIP LOCKED; a lock on each of their cases would queue it behind
the clerks, and could deadlock with them); both branches verify, and later writers
continue from the branch with the latest row.

**What it cannot show**: the deletion of a case's last rows (nothing links to them yet);
of a row nothing follows because a later one was written beside it rather than after it
(the other branch of a fork, or a row whose time is earlier than its case's latest: two
clerks at once, clocks of two servers apart); and a whole database restored to an earlier
state that was consistent (everything after it is simply missing). The backups and the
database's own logs answer for those (cases/DECISIONS.md, "The audit trail's chain").

The sequence must hand out increasing ids (its CACHE 1, the default): the heads read are
committed before the statement that takes the new ids starts, so a ``prev`` is always
earlier than its row.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import connection, transaction

from config.crypto import audit_key_ids, audit_mac, audit_signer
from config.pgbulk import array_literal

__all__ = ["Broken", "Report", "body", "body_text", "canonical_json", "chain", "frame", "instant",
           "mac_of", "seal", "verify"]

Link = tuple[int, int | None, str]  # a new row's id, the id it follows on its case, its MAC


# --- The canonical form -------------------------------------------------------------------

def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False)


def canonical_json(value: Any) -> str:
    """``details`` as canonical JSON text: sorted keys, no spaces, characters as they are.

    The same for the value written and the value JSONB gives back. JSONB keeps no key
    order or spaces (hence sorted and compact), and stores numbers as ``numeric``: a float
    written in exponent form (``1e+16``) comes back as an integer and ``-0.0`` as ``0.0``,
    so those are written as they come back (:func:`_as_read_back`). Everything else JSON
    carries (text, ints, floats, booleans, null, lists, objects) reads back unchanged.
    """
    if _has_key_not_text(value):  # JSON makes keys text, and text sorts otherwise: 10 < 2
        return _dumps(_as_read_back(value))
    text = _dumps(value)
    if "e+" in text or "-0.0" in text:  # rare: a string holding either only costs a walk
        return _dumps(_as_read_back(value))
    return text


def _has_key_not_text(value: Any) -> bool:
    if isinstance(value, dict):
        return any(not isinstance(key, str) or _has_key_not_text(item)
                   for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_key_not_text(item) for item in value)
    return False


def _as_read_back(value: Any) -> Any:
    if isinstance(value, dict):
        return {key if isinstance(key, str) else json.dumps(key): _as_read_back(item)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_read_back(item) for item in value]
    if isinstance(value, float):
        if value == 0:
            return 0.0
        text = repr(value)
        return int(Decimal(text)) if "e+" in text else value
    return value


def instant(at: datetime | date | str) -> str:
    """A moment as UTC text to the microsecond, as timestamptz keeps it.

    A naive moment is read in the default time zone, as Django's DateTimeField does.
    """
    if not isinstance(at, datetime) or at.tzinfo is None:
        from .models import CaseEvent

        at = CaseEvent._meta.get_field("at").get_prep_value(at)
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def body(*, kind: str, actor_id: int | None, at: datetime | str, from_status: str,
         to_status: str, details: Any) -> str:
    """The canonical text of a row's content, less its id, case and link."""
    return body_text(kind, actor_id, instant(at), from_status, to_status,
                     canonical_json(details))


def body_text(kind: str, actor_id: int | None, at_text: str, from_status: str,
              to_status: str, details_text: str) -> str:
    """:func:`body` from the moment as :func:`instant` writes it and the details as
    :func:`canonical_json` does (a bulk writer that has them as text already)."""
    actor = "null" if actor_id is None else int(actor_id)
    return (f"{_string(kind)},{actor},\"{at_text}\",{_string(from_status)},"
            f"{_string(to_status)},{details_text}")


@lru_cache(maxsize=512)  # kinds and statuses: a few dozen values
def _string(value: str) -> str:
    return _dumps(str(value))


def frame(row_id: int, case_id: int, row_body: str, prev: int | None) -> str:
    """The canonical form of a row: the JSON array ``[id, case, kind, actor, at, from, to,
    details, prev]``."""
    return f"[{row_id},{case_id},{row_body},{'null' if prev is None else prev}]"


def mac_of(row_frame: str, prev_mac: str, *, key_id: str | None = None) -> str:
    """The row's MAC: HMAC-SM3 of the MAC it follows (empty for a case's first) and its form."""
    return audit_mac(f"{prev_mac}\n{row_frame}".encode(), key_id=key_id)


# --- Writing --------------------------------------------------------------------------------

def chain(case_ids: Sequence[int], bodies: Iterable[str], *, fresh: bool = False
          ) -> Iterator[Link]:
    """Ids, links and MACs for new rows, one per entry of ``case_ids`` with its ``body``.

    One statement, run now, reads the heads of the cases and takes the ids; the MACs are
    computed as the result is iterated, so a COPY can stream them. Rows of one case link
    to each other in order. ``fresh``: the cases are new in this transaction (the bulk
    seeder), no head to read.
    """
    if not case_ids:
        return iter(())
    ids, heads = _ids_and_heads(len(case_ids), [] if fresh else sorted(set(case_ids)))
    return _links(case_ids, ids, bodies, heads)


# The heads by the index event_case_at_id (case, at, id), read backwards: one entry per
# case, however long its timeline. The ids are
# taken after this statement's snapshot, so every head it reads has a smaller one.
_IDS_AND_HEADS = """
    WITH heads AS (
        SELECT h.case_id, h.id, h.mac
          FROM unnest(%s::bigint[]) AS c(id)  -- an array literal: parsed, not planned
         CROSS JOIN LATERAL (SELECT e.case_id, e.id, e.mac FROM cases_caseevent e
                              WHERE e.case_id = c.id ORDER BY e.at DESC, e.id DESC
                              LIMIT 1) AS h
    )
    SELECT ARRAY(SELECT nextval((SELECT pg_get_serial_sequence('cases_caseevent', 'id'))
                                ::regclass)
                   FROM generate_series(1, %s)),
           ARRAY(SELECT case_id FROM heads), ARRAY(SELECT id FROM heads),
           ARRAY(SELECT mac FROM heads)
"""


def _ids_and_heads(count: int, case_ids: list[int]) -> tuple[list[int], dict]:
    with connection.cursor() as cursor:
        cursor.execute(_IDS_AND_HEADS, [array_literal(case_ids), count])
        ids, head_cases, head_ids, head_macs = cursor.fetchone()
    ids.sort()
    return ids, {case: (row_id, mac or "")
                 for case, row_id, mac in zip(head_cases, head_ids, head_macs, strict=True)}


def _links(case_ids: Sequence[int], ids: list[int], bodies: Iterable[str],
           heads: dict[int, tuple[int, str]]) -> Iterator[Link]:
    sign = audit_signer()
    for case_id, row_id, row_body in zip(case_ids, ids, bodies, strict=True):
        prev, prev_mac = heads.get(case_id, (None, ""))
        mac = sign(f"{prev_mac}\n[{row_id},{case_id},{row_body},"  # frame(), inlined
                   f"{'null' if prev is None else prev}]".encode())
        heads[case_id] = (row_id, mac)
        yield row_id, prev, mac


def seal(events: Sequence[Any]) -> None:
    """Give unsaved CaseEvents their id, the event each follows and their MAC (one statement).

    Called by ``CaseEvent.save()`` on insert and by its queryset's ``bulk_create``, so
    every writer through the ORM seals without knowing it. The ids go in order of time
    (then of the list), so the latest row of each case is its new head. An event that
    already has an id of its own is refused: its place in the chain comes from here.
    """
    if not events:
        return
    for event in events:
        if event.pk is not None:
            raise ValueError("An audit event takes its id from the chain (cases/audit_chain.py); "
                             f"this one came with id {event.pk}.")
    moments = [instant(event.at) for event in events]
    order = sorted(range(len(events)), key=moments.__getitem__)
    ordered = [events[index] for index in order]
    links = chain([event.case_id for event in ordered], [
        body_text(event.kind, event.actor_id, moments[index], event.from_status,
                  event.to_status, canonical_json(event.details))
        for index, event in zip(order, ordered, strict=True)])
    for event, (row_id, prev, mac) in zip(ordered, links, strict=True):
        event.pk, event.prev, event.mac = row_id, prev, mac


# --- Verifying ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Broken:
    """The first row that does not verify, and why: ``no_mac``, ``unknown_key`` (the key id
    in ``detail``), ``mac`` (changed, moved or forged), ``prev_missing`` (the row it follows
    is gone), ``prev_other_case`` or ``prev_not_earlier`` (``detail``: that row's id)."""

    id: int
    case_id: int
    kind: str
    at: datetime
    why: str
    detail: str = ""


@dataclass
class Report:
    """What a walk checked: rows, cases and the latest id (to compare with the next walk's:
    the rows deleted from the end of a chain leave nothing else behind)."""

    rows: int = 0
    cases: int = 0
    last_id: int | None = None
    broken: Broken | None = None


_ROWS = """
    SELECT id, case_id, kind, actor_id, at, from_status, to_status, details::text, prev, mac
      FROM cases_caseevent {where} ORDER BY case_id, id
"""


def verify(*, case_id: int | None = None, since: datetime | None = None,
           chunk: int = 10_000) -> Report:
    """Walk the trail case by case in id order; stop at the first row that does not verify.

    Streams through a server-side cursor: memory holds one case's MACs, whatever the size
    of the table. ``case_id`` walks one case; ``since`` walks whole every case with an
    event at or after that moment. Read-only, in one snapshot.
    """
    where, params = "", []
    if case_id is not None:
        where, params = "WHERE case_id = %s", [case_id]
    elif since is not None:
        where = ("WHERE case_id IN (SELECT DISTINCT case_id FROM cases_caseevent "
                 "WHERE at >= %s)")
        params = [since]
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # one snapshot for the walk and the look-up after it
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        with connection.chunked_cursor() as cursor:
            cursor.execute(_ROWS.format(where=where), params)
            report = _walk(iter(lambda: cursor.fetchmany(chunk), []))
        if report.broken is not None and report.broken.why == "prev_missing":
            report.broken = _why_prev(report.broken)
    return report


def _walk(batches: Iterator[list[tuple]]) -> Report:
    report = Report()
    known, _current = audit_key_ids()
    current_case, macs = None, {}
    for rows in batches:
        for row in rows:
            row_id, case, kind, actor_id, at, from_status, to_status, details, prev, mac = row
            if case != current_case:
                current_case, macs = case, {}
                report.cases += 1
            report.rows += 1
            if report.last_id is None or row_id > report.last_id:
                report.last_id = row_id
            why = _check(row, macs, known)
            if why:
                report.broken = Broken(row_id, case, kind, at, why, _detail(why, row))
                return report
            macs[row_id] = mac
    return report


def _check(row: tuple, macs: dict[int, str], known: frozenset[str]) -> str:
    row_id, case, kind, actor_id, at, from_status, to_status, details, prev, mac = row
    key_id, sep, digest = (mac or "").partition(":")
    if not sep or not digest:
        return "no_mac"
    if key_id not in known:
        return "unknown_key"
    if prev is not None and prev not in macs:
        return "prev_not_earlier" if prev >= row_id else "prev_missing"
    row_body = body(kind=kind, actor_id=actor_id, at=at, from_status=from_status,
                    to_status=to_status, details=json.loads(details))
    expected = mac_of(frame(row_id, case, row_body, prev), macs.get(prev, ""), key_id=key_id)
    return "" if hmac.compare_digest(expected.encode(), mac.encode()) else "mac"


def _detail(why: str, row: tuple) -> str:
    prev, mac = row[8], row[9]
    if why == "unknown_key":
        return mac.partition(":")[0]
    if why.startswith("prev"):
        return str(prev)
    return ""


def _why_prev(broken: Broken) -> Broken:
    """A ``prev`` not met earlier in its case: gone, or a row of another case."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT case_id FROM cases_caseevent WHERE id = %s", [int(broken.detail)])
        found = cursor.fetchone()
    if found is None:
        return broken
    return Broken(broken.id, broken.case_id, broken.kind, broken.at, "prev_other_case",
                  f"{broken.detail} (case id {found[0]})")
