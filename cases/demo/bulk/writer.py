"""Writing a chunk: ids, numbers and unique ID numbers from the database, then COPY.

ID numbers go in as the services store them (issue 9): sealed with SM4 and with
their HMAC-SM3 blind index, which is also what the uniqueness check looks up. Events
go in sealed into their cases' HMAC-SM3 chains, as the ORM writes them
(``cases/audit_chain.py``): the cases are new, so each chain starts in its chunk.
"""

from __future__ import annotations

import io
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

from django.db import connection

from cases import audit_chain
from cases.choices import CaseStatus as S
from cases.choices import EventKind, IdType
from cases.idnumbers import check_digit
from cases.models import Leadership
from config.crypto import blind_index, sm4_encrypt
from config.pgbulk import copy_rows

from . import details
from .generate import Case, Chunk
from .rows import NULL, RowId
from .world import World

_COPY = {
    "petitioners": "COPY cases_petitioner (id, id_number, id_number_index, name, sex, ethnicity, "
                   "id_type, phone, phone_alt, address, is_anonymous, is_key_person, created_at, "
                   "address_unit_id) FROM STDIN",
    "cases": "COPY cases_case (id, number, repeat_of_id, query_code, channel, postal_reference, "
             "received_at, registered_at, headcount, is_group, purpose, summary, demands, "
             "complained_person, cause_tags, urgency, status, spot_answer, refusal_reason, "
             "diversion_channel, return_reason, closed_at, updated_at, complained_unit_id, "
             "lead_unit_id, leader_id, place_unit_id, registered_by_id, registered_unit_id, "
             "category_id, new_facts, no_notice_reason, receiving_officer_id, "
             "is_first_petition, is_level_skipping, is_litigation_related, has_threat, "
             "threat_words, is_secret, is_public) FROM STDIN",
    "parties": "COPY cases_casepetitioner (case_id, petitioner_id, is_main, is_representative)"
               " FROM STDIN",
    "deadlines": "COPY cases_deadline (case_id, kind, status, starts_on, length, unit, "
                 "extension_days, paused_days, paused_on, due_on, due_at, provisional, "
                 "closed_at, is_window) FROM STDIN",
    # The duties' columns in the order of Leadership.DUTIES (handling.DUTIES).
    "leaderships": "COPY cases_leadership (id, case_id, leader_id, measures, deadline, "
                   "responsible_id, assigned_by_id, assigned_at, is_current, "
                   f"{', '.join(Leadership.DUTIES.values())}) FROM STDIN",
    "decisions": "COPY cases_decision (id, case_id, kind, request, facts, reasons, outcome, "
                 "review_outcome, legal_basis, issued_by_id, issued_at, unit_id, body_name, "
                 "delivered_on, delivery_method, delivery_recorded_by_id) FROM STDIN",
    "events": "COPY cases_caseevent (id, case_id, kind, at, from_status, to_status, details, "
              "actor_id, prev, mac) FROM STDIN",
}
TABLES = ("cases_case", "cases_petitioner", "cases_casepetitioner", "cases_deadline",
          "cases_leadership", "cases_decision", "cases_caseevent")

# Take ``count`` numbers of a county and year; the same statement case_register uses.
_NUMBERS_TAKE = (
    "INSERT INTO cases_casenumbersequence (county_id, year, last) VALUES (%s, %s, %s) "
    "ON CONFLICT (county_id, year) DO UPDATE SET last = cases_casenumbersequence.last + "
    "EXCLUDED.last"
)


class Writer:
    """The database side: ids, numbers and unique ID numbers, then the COPY text."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.sequences: dict[str, str] = {}

    def ids(self, table: str, count: int) -> list[int]:
        """Take ``count`` ids from the table's identity sequence (safe beside live inserts)."""
        if not count:
            return []
        if table not in self.sequences:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                self.sequences[table] = cursor.fetchone()[0]
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                           [self.sequences[table], count])
            return [row[0] for row in cursor.fetchall()]

    def case_count(self) -> int:
        """How many cases are on file (a rerun mixes it into the seed)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM cases_case")
            return cursor.fetchone()[0]

    def sync_numbers(self) -> None:
        """Raise each year's number sequence to the highest number on file.

        Registration numbers through the sequence, but rows written some other way
        (a restore, test factories) may hold higher numbers already. This reads every
        number on file (seconds at a million cases), so the run does it while the
        first chunk is drawn.
        """
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT split_part(number, '-', 2)::int, max(split_part(number, '-', 3)::int) "
                "FROM cases_case WHERE number ~ %s GROUP BY 1",
                [f"^{self.world.county_code}-[0-9]{{4}}-[0-9]+$"])
            for year, highest in cursor.fetchall():
                cursor.execute(
                    "INSERT INTO cases_casenumbersequence (county_id, year, last) "
                    "VALUES (%s, %s, %s) ON CONFLICT (county_id, year) DO UPDATE "
                    "SET last = GREATEST(cases_casenumbersequence.last, EXCLUDED.last)",
                    [self.world.county_id, year, highest])

    def write(self, chunk: Chunk) -> None:
        """Number the cases, give new rows ids and people unique ID numbers, and COPY all rows."""
        for person, person_id in zip(chunk.people, self.ids("cases_petitioner", len(chunk.people)),
                                     strict=True):
            person[0] = person_id
        for table, rows in (("cases_leadership", chunk.leaderships),
                            ("cases_decision", chunk.decisions)):
            for (row_id, _text), value in zip(rows, self.ids(table, len(rows)), strict=True):
                row_id.value = value
        with connection.cursor() as cursor:
            indexes = self._unique_id_numbers(cursor, chunk.people)
            numbers = self._numbers(cursor, chunk.cases)
            copy = cursor.connection.cursor()  # psycopg2's own, for copy_expert
            tables, events = self._render(chunk, numbers, indexes)
            for sql, text in tables:
                copy.copy_expert(sql, io.StringIO(text), size=1 << 20)
        # Streamed: the server takes each chunk of events while the next chunk's MACs are
        # computed (the chain's statement ran in _render, before any COPY).
        copy_rows(_COPY["events"], events)

    def _numbers(self, cursor, cases: list[Case]) -> list[str]:
        """Take a block of numbers per year from the county's sequence, as registration does."""
        next_number = {}
        for year, count in sorted(Counter(case.year for case in cases).items()):
            cursor.execute(_NUMBERS_TAKE + " RETURNING last", [self.world.county_id, year, count])
            next_number[year] = cursor.fetchone()[0] - count + 1
        numbers, prefix = [], self.world.county_code
        for case in cases:
            numbers.append(f"{prefix}-{case.year}-{next_number[case.year]:06d}")
            next_number[case.year] += 1
        return numbers

    def _unique_id_numbers(self, cursor, people: list[list]) -> dict[str, str]:
        """Redraw the sequence code of any ID number already on file or drawn twice; return
        each number's blind index, the only form of it the database can compare."""
        rng = random.Random(len(people))
        pending = [person for person in people if person[1]]
        seen: set[str] = set()
        indexes: dict[str, str] = {}
        while pending:
            for person in pending:
                indexes[person[1]] = blind_index(person[1])
            # ``<> ''`` lets the partial unique index answer for a chunk-sized array too.
            cursor.execute("SELECT id_number_index FROM cases_petitioner WHERE id_type = %s "
                           "AND id_number_index <> '' AND id_number_index = ANY(%s)",
                           [IdType.RESIDENT_ID, [indexes[person[1]] for person in pending]])
            taken = {row[0] for row in cursor.fetchall()}
            clashes = []
            for person in pending:
                if indexes[person[1]] in taken or person[1] in seen:
                    person[1] = _redrawn(person[1], rng)
                    clashes.append(person)
                else:
                    seen.add(person[1])
            pending = clashes
        return indexes

    def _render(self, chunk: Chunk, numbers: list[str],
                indexes: dict[str, str]) -> tuple[list[tuple[str, str]], Iterator[str]]:
        """The COPY text of each table but the events; the events' lines, sealed as read."""
        clerk = self.world.clerk_id
        registered = details.registered()
        cases, parties, events = [], [], []
        for case, number in zip(chunk.cases, numbers, strict=True):
            case_id = case.case_id
            cases.append(f"{case_id}\t{number}\t{case.tail}\n")
            parties += [f"{case_id}\t{person[0]}\t{'t' if main else 'f'}\t{'t' if rep else 'f'}\n"
                        for person, main, rep in case.parties]
            text = registered.text(number=number, channel=case.channel, headcount=case.headcount,
                                   petitioners=len(case.parties),
                                   no_notice_reason=case.no_notice_reason,
                                   repeat_of=case.repeat_of)
            events.append(f"{case_id}\t{EventKind.REGISTERED}\t{case.registered_at}\t"
                          f"\t{S.REGISTERED}\t{text}\t{clerk}\n")
            events += case.events  # str, or WithId: it names a decision or leadership
        people = "".join(f"{p[0]}\t{sm4_encrypt(p[1]) if p[1] else ''}\t{indexes.get(p[1], '')}"
                         f"\t{p[2]}\n" for p in chunk.people)
        return [(_COPY["petitioners"], people), (_COPY["cases"], "".join(cases)),
                (_COPY["parties"], "".join(parties)),
                (_COPY["deadlines"], "".join(chunk.deadlines)),
                (_COPY["leaderships"], _with_ids(chunk.leaderships)),
                (_COPY["decisions"], _with_ids(chunk.decisions))], _sealed(list(map(str, events)))


def _with_ids(rows: list[tuple[RowId, str]]) -> str:
    return "".join(f"{row_id.value}\t{text}" for row_id, text in rows)


def _redrawn(number: str, rng: random.Random) -> str:
    """Same place of registration, birth date and sex; a new sequence code and check digit."""
    parity = int(number[16]) % 2
    code = rng.randrange(0, 500) * 2 + parity or 2  # 001-999, odd for men, even for women
    first17 = f"{number[:14]}{code:03d}"
    return first17 + check_digit(first17)


def _sealed(lines: list[str]) -> Iterator[str]:
    """The events' COPY lines with their ids in front and their links and MACs behind; the
    ids are taken now, the MACs computed as the lines are read."""
    case_ids = [int(line[:line.index("\t")]) for line in lines]
    links = audit_chain.chain(case_ids, map(_Bodies().body, lines), fresh=True)
    return (f"{row_id}\t{line[:-1]}\t{NULL if prev is None else prev}\t{mac}\n"
            for line, (row_id, prev, mac) in zip(lines, links, strict=True))


class _Bodies:
    """The canonical text an event's MAC covers (``audit_chain.body``), read off its COPY
    line; a chunk's events share few moments and many details, so each is worked out once."""

    def __init__(self) -> None:
        self.hours: dict[str, str] = {}
        self.details: dict[str, str] = {}

    def body(self, line: str) -> str:
        _case, kind, at, from_status, to_status, text, actor = line[:-1].split("\t")
        canonical = self.details.get(text)
        if canonical is None:
            canonical = self.details[text] = audit_chain.canonical_json(
                json.loads(_unescape(text)))
        return audit_chain.body_text(kind, None if actor == NULL else int(actor),
                                     self.instant(at), from_status, to_status, canonical)

    def instant(self, at: str) -> str:
        """``audit_chain.instant`` of a moment as ``times.ts`` writes it: a whole-hour
        offset moves the hour alone, so the hour is worked out once and the rest copied."""
        if len(at) != 25 or not at.endswith(":00"):  # not "YYYY-MM-DD HH:MM:SS+HH:00"
            return audit_chain.instant(datetime.fromisoformat(at))
        key = at[:13] + at[19:]
        hour = self.hours.get(key)
        if hour is None:
            hour = self.hours[key] = audit_chain.instant(
                datetime.fromisoformat(f"{at[:13]}:00:00{at[19:]}"))[:13]
        return f"{hour}{at[13:19]}.000000Z"


_ESCAPED = re.compile(r"\\(.)")
_UNESCAPE = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def _unescape(text: str) -> str:
    """COPY text back to the value (``rows.escape`` the other way)."""
    if "\\" not in text:
        return text
    return _ESCAPED.sub(lambda match: _UNESCAPE[match.group(1)], text)
