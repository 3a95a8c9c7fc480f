"""Bulk demo cases: ``manage.py seed --cases N`` writes a million cases in minutes.

Why not the services: they register and move one case at a time, a few dozen
statements per case, which is hours for a million. Here each chunk of CHUNK
cases is generated in Python and written with COPY into the seven tables
(petitioners, cases, case petitioners, clocks, leaderships, decisions, events)
in one transaction, and
the next chunk is generated while PostgreSQL ingests the current one: with two
cores, one generates and one indexes. Ids come from the tables' own sequences,
numbers from ``CaseNumberSequence`` (reserved per chunk with the same upsert
the registration service uses), so live registrations continue after them.

What the rows look like:

* received dates spread over the last 18 months, visits and calls on working
  days; a case's status is drawn from a table by its age (``states.BY_AGE``),
  then its steps are laid out between registration and now. Old cases are
  mostly closed, week-old ones mostly being routed; a few are stuck, so some
  clocks are overdue;
* each step is a transition of ``Case`` (its target read from the model) or the
  delivery of a written decision, and meets, cancels or starts the clocks that
  ``STEP_CLOCKS`` names, the table ``cases.services`` reads (``states.STEPS``):
  a window closed after its due time lapses, an anonymous petitioner is owed no
  acceptance notice, and a case is closed only once its request window ran out.
  Due dates come from one ``WorkCalendar`` built from the office's holiday table;
* a fifth of the cases come back from an earlier petitioner (same place, usually
  the same matter, ``repeat_of`` set; one that comes back on a matter already
  final is refused at once, R22 Art.36); group petitions list up to five
  representatives. ID numbers are checked against the table (by their blind index)
  before each chunk is written, so reruns add people and never duplicate one; they
  are written SM4-encrypted, as the services store them (issue 9);
* group and repeat petitions past routing whose place lies under the demo
  leader's townships get that leader (包案, ``handling``): measures, a deadline in
  the reply window, a person responsible, and the 包 duties marked done as far as
  the case has come, each with the event the leadership services write;
* every reply, review and re-review step issues its written decision, worded
  from the case's summary and category and naming the body that decided (the
  lead unit, the county, the city above it); most are delivered a few days
  later, which opens the petitioner's request window;
* every event's details are shaped by its builder in ``cases/events.py``
  (``details``), so they read as the services' do, and every event is sealed into its
  case's HMAC-SM3 chain as the ORM seals them (``cases/audit_chain.py``), so
  ``verify_audit`` passes over seeded cases too.

Same seed on an empty database, same data; a rerun mixes the case count into the
seed, so it adds different people and cases.

The modules: ``states`` (status by age, who takes each step and when, outcomes),
``world`` (the county, logins and categories, loaded once), ``times`` (the time
axis), ``generate``, ``timeline`` and ``handling`` (drawing a chunk's rows),
``texts`` (what the steps and decisions say), ``details`` (events' details),
``rows`` and ``writer`` (ids, numbers, COPY).
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from .generate import Chunk, Generator
from .world import demo_categories_seed, world_load
from .writer import TABLES, Writer

__all__ = ["CHUNK", "BulkReport", "demo_categories_seed", "demo_cases_seed"]

CHUNK = 20_000  # cases per transaction; two chunks in memory at once (~350 MB peak RSS)


@dataclass
class BulkReport:
    """What one run added, and how long it took."""

    cases: int = 0
    petitioners: int = 0
    parties: int = 0
    deadlines: int = 0
    leaderships: int = 0
    decisions: int = 0
    events: int = 0
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)

    @property
    def cases_per_s(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def add(self, chunk: Chunk) -> None:
        self.cases += len(chunk.cases)
        self.petitioners += len(chunk.people)
        self.parties += sum(len(case.parties) for case in chunk.cases)
        self.deadlines += len(chunk.deadlines)
        self.leaderships += len(chunk.leaderships)
        self.decisions += len(chunk.decisions)
        self.events += chunk.event_count + len(chunk.cases)  # and one registration each


def demo_cases_seed(*, count: int, seed: int = 2026, stdout=None) -> BulkReport:
    """Add ``count`` demo cases to the demo county, chunk by chunk with COPY; return the counts."""
    if count < 1:
        raise ValueError("count must be at least 1")
    started = time.perf_counter()
    world = world_load()
    writer = Writer(world)
    existing = writer.case_count()
    generator = Generator(world, seed=seed if not existing else seed * 1_000_003 + existing,
                          total=count, now=timezone.now())
    report = BulkReport()
    bounds = [(start, min(start + CHUNK, count)) for start in range(0, count, CHUNK)]
    with ThreadPoolExecutor(max_workers=1) as generating:

        def generate(first: int, stop: int) -> Future:
            return generating.submit(generator.chunk, first, stop,
                                     writer.ids("cases_case", stop - first))

        upcoming = generate(*bounds[0])
        writer.sync_numbers()  # a scan of every number on file, while the first chunk is drawn
        for index in range(len(bounds)):
            chunk = upcoming.result()
            if index + 1 < len(bounds):  # generated while this chunk is written
                upcoming = generate(*bounds[index + 1])
            with transaction.atomic():
                writer.write(chunk)
            report.add(chunk)
            if stdout is not None:
                stdout.write(f"  {report.cases:,}/{count:,} cases, "
                             f"{time.perf_counter() - started:.0f} s\n")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(TABLES))
    # COPY wrote the clocks without their next escalation: schedule the open ones, so the
    # sweep takes them up (an overdue demo case escalates at the first sweep).
    from cases.services.escalation import escalation_reschedule

    escalation_reschedule()
    report.seconds = time.perf_counter() - started
    report.statuses.update(generator.statuses)
    return report
