"""Bulk demo cases: ``manage.py seed --cases N`` writes a million cases in minutes.

Why not the services: they register and move one case at a time, a few dozen
statements per case, which is hours for a million. Here each chunk of CHUNK
cases is generated in Python and written with COPY into the five tables
(petitioners, cases, case petitioners, clocks, events) in one transaction, and
the next chunk is generated while PostgreSQL ingests the current one: with two
cores, one generates and one indexes. Ids come from the tables' own sequences,
numbers from ``CaseNumberSequence`` (reserved per chunk with the same upsert
the registration service uses), so live registrations continue after them.

What the rows look like:

* received dates spread over the last 18 months, visits and calls on working
  days; a case's status is drawn from a table by its age (``_BY_AGE``), then its
  steps are laid out between registration and now. Old cases are mostly closed,
  week-old ones mostly being routed; a few are stuck, so some clocks are overdue;
* each step writes a TRANSITION event and meets, cancels or starts clocks the way
  ``cases.services.transitions`` does (``_STEPS``), so every status has exactly
  the live clocks ``LIVE_CLOCKS`` names; due dates come from one ``WorkCalendar``
  built from the office's holiday table;
* a fifth of the cases come back from an earlier petitioner (same place, usually
  the same matter, ``repeat_of`` set); group petitions list up to five
  representatives. ID numbers are checked against the table before each chunk is
  written, so reruns add people and never duplicate one.

Same seed on an empty database, same data; a rerun mixes the case count into the
seed, so it adds different people and cases.
"""

from __future__ import annotations

import io
import json
import os
import random
import time
from bisect import bisect
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from operator import itemgetter
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from accounts.choices import Role, UnitKind
from accounts.demo import COUNTY, demo_org_seed, demo_users_seed
from accounts.models import OrgUnit, RoleAssignment, User
from cases.choices import CaseStatus, CauseTag, ClockKind, ClockStatus, EventKind, IdType
from cases.deadlines.calendar import DayOverride, WorkCalendar
from cases.demo.fakes import FakeSource
from cases.idnumbers import check_digit
from cases.models import AnnouncedYear, CalendarDay, Category, DeadlineRule
from cases.services.registration import (
    MAX_REPRESENTATIVES,
    OFFICE_TZ,
    QUERY_CODE_ALPHABET,
    QUERY_CODE_LENGTH,
)

CHUNK = 20_000  # cases per transaction; two chunks in memory at once (~350 MB peak RSS)
WINDOW_DAYS = 548  # received dates: the last 18 months
OFFICE_CODE = "341122-D00"  # the county petition bureau registers every demo case
POOL_SIZE = 60_000  # earlier petitioners who may come back
REPEAT_SHARE = 0.2
LOCAL_ID_SHARE = 0.85  # most petitioners were first registered in the county itself

S, K = CaseStatus, ClockKind
CLOSED_STATES = frozenset({S.ANSWERED, S.NOT_ACCEPTED, S.FINAL, S.CLOSED})

# The clocks running (open or paused) in each status, as the services leave them.
LIVE_CLOCKS: dict[str, frozenset[str]] = {
    S.REGISTERED: frozenset({K.ROUTING, K.ACCEPTANCE_NOTICE}),
    S.ROUTED: frozenset({K.ACCEPTANCE_NOTICE, K.OBJECTION}),
    S.RETURN_REQUESTED: frozenset({K.ACCEPTANCE_NOTICE}),
    S.SIGNED: frozenset({K.ACCEPTANCE_NOTICE}),
    S.ACCEPTED: frozenset({K.REPLY}),
    S.IN_HANDLING: frozenset({K.REPLY}),
    S.REPLIED: frozenset({K.REVIEW_REQUEST}),
    S.REVIEW_REQUESTED: frozenset({K.REVIEW_DECISION}),
    S.REVIEWED: frozenset({K.REREVIEW_REQUEST}),
    S.REREVIEW_REQUESTED: frozenset({K.REREVIEW_DECISION}),
    **{status: frozenset() for status in CLOSED_STATES},
}

# Status by age of the case (days since receipt, upper bound): weights in per cent.
# Few cases stay long in a state with a running clock, so overdue clocks stay a minority.
_BY_AGE = (
    (3, {S.REGISTERED: 60, S.ANSWERED: 9, S.NOT_ACCEPTED: 1, S.ROUTED: 27, S.SIGNED: 3}),
    (10, {S.REGISTERED: 18, S.ANSWERED: 8, S.NOT_ACCEPTED: 3, S.ROUTED: 26,
          S.RETURN_REQUESTED: 10, S.SIGNED: 15, S.ACCEPTED: 9, S.IN_HANDLING: 11}),
    (30, {S.REGISTERED: 2, S.ANSWERED: 8, S.NOT_ACCEPTED: 4, S.ROUTED: 3,
          S.RETURN_REQUESTED: 4, S.SIGNED: 3, S.ACCEPTED: 7, S.IN_HANDLING: 63, S.REPLIED: 6}),
    (75, {S.REGISTERED: 0.2, S.ANSWERED: 8, S.NOT_ACCEPTED: 4, S.ROUTED: 0.2,
          S.RETURN_REQUESTED: 1, S.SIGNED: 0.6, S.ACCEPTED: 1.5, S.IN_HANDLING: 46,
          S.REPLIED: 25, S.REVIEW_REQUESTED: 3, S.CLOSED: 10.5}),
    (120, {S.ANSWERED: 8, S.NOT_ACCEPTED: 4, S.IN_HANDLING: 6, S.REPLIED: 7,
           S.REVIEW_REQUESTED: 3, S.REVIEWED: 4, S.REREVIEW_REQUESTED: 3, S.FINAL: 0.5,
           S.CLOSED: 64.5}),
    (200, {S.ANSWERED: 8, S.NOT_ACCEPTED: 4, S.IN_HANDLING: 1, S.REPLIED: 0.5,
           S.REVIEW_REQUESTED: 0.3, S.REVIEWED: 0.6, S.REREVIEW_REQUESTED: 1.2, S.FINAL: 3,
           S.CLOSED: 81.4}),
    (10**6, {S.ANSWERED: 8, S.NOT_ACCEPTED: 4, S.IN_HANDLING: 0.15, S.REVIEWED: 0.05,
             S.REREVIEW_REQUESTED: 0.03, S.FINAL: 3.5, S.CLOSED: 84.27}),
)

OFFICE, UNIT, REVIEW = "office", "unit", "review"  # who takes a step


class _Step(NamedTuple):
    """A transition: its target, who takes it, its usual delay in days, and its clocks."""

    target: str
    who: str
    days: tuple[float, float]
    late: float = 0.0  # share of cases where it comes late, after ``late_days``
    late_days: tuple[float, float] = (0, 0)
    meet: tuple[str, ...] = ()  # clocks met, cancelled and started as the services do
    cancel: tuple[str, ...] = ()
    start: tuple[str, ...] = ()


_STEPS = {
    "answer_on_spot": _Step(S.ANSWERED, OFFICE, (0.004, 0.04),
                            meet=(K.ROUTING, K.ACCEPTANCE_NOTICE)),
    "refuse": _Step(S.NOT_ACCEPTED, OFFICE, (0.5, 10), meet=(K.ROUTING, K.ACCEPTANCE_NOTICE)),
    "route": _Step(S.ROUTED, OFFICE, (0.2, 6), 0.03, (12, 20), meet=(K.ROUTING,),
                   start=(K.OBJECTION,)),
    "request_return": _Step(S.RETURN_REQUESTED, UNIT, (0.2, 4), meet=(K.OBJECTION,)),
    "agree_return": _Step(S.REGISTERED, OFFICE, (1, 6), cancel=(K.OBJECTION,),
                          start=(K.ROUTING,)),
    "refuse_return": _Step(S.SIGNED, OFFICE, (1, 6)),
    "sign": _Step(S.SIGNED, UNIT, (0.1, 3), 0.05, (5, 10), meet=(K.OBJECTION,)),
    "accept": _Step(S.ACCEPTED, UNIT, (0.3, 5), 0.05, (8, 15), meet=(K.ACCEPTANCE_NOTICE,),
                    start=(K.REPLY,)),
    "start_handling": _Step(S.IN_HANDLING, UNIT, (0, 3)),
    "reply": _Step(S.REPLIED, UNIT, (10, 57), 0.08, (61, 95), meet=(K.REPLY,),
                   start=(K.REVIEW_REQUEST,)),
    "request_review": _Step(S.REVIEW_REQUESTED, REVIEW, (3, 29), meet=(K.REVIEW_REQUEST,),
                            start=(K.REVIEW_DECISION,)),
    "decide_review": _Step(S.REVIEWED, REVIEW, (10, 29), 0.05, (31, 45),
                           meet=(K.REVIEW_DECISION,), start=(K.REREVIEW_REQUEST,)),
    "request_rereview": _Step(S.REREVIEW_REQUESTED, REVIEW, (3, 29),
                              meet=(K.REREVIEW_REQUEST,), start=(K.REREVIEW_DECISION,)),
    "decide_rereview": _Step(S.FINAL, REVIEW, (10, 29), 0.05, (31, 45),
                             meet=(K.REREVIEW_DECISION,)),
    "close": _Step(S.CLOSED, UNIT, (5, 36), cancel=tuple(K.values)),
}
_RETURNED = ("route", "request_return", "agree_return")
_HANDLING = ("accept", "start_handling", "reply", "request_review", "decide_review",
             "request_rereview", "decide_rereview")
_HANDLING_END = {S.ACCEPTED: 1, S.IN_HANDLING: 2, S.REPLIED: 3, S.REVIEW_REQUESTED: 4,
                 S.REVIEWED: 5, S.REREVIEW_REQUESTED: 6, S.FINAL: 7}

_CHANNELS = (("visit", 30), ("letter", 12), ("online", 48), ("phone", 10))
_PURPOSES = (("remedy", 70), ("suggestion", 8), ("appeal", 10), ("accusation", 8), ("other", 4))
_TOPIC_WEIGHTS = {"土地征收": 14, "拆迁安置": 10, "住房保障": 6, "物业管理": 8, "拖欠工资": 12,
                  "社会保险": 8, "环境污染": 7, "涉法涉诉": 8, "村务公开": 9, "医疗卫生": 5,
                  "教育": 4, "交通出行": 4, "婚姻家庭": 3, "邻里纠纷": 6}
# The county department in charge of a domain (谁主管、谁负责); others go to the township.
_DOMAIN_DEPARTMENTS = {"劳动和社会保障": "县人力资源和社会保障局", "自然资源": "县自然资源局",
                       "城乡建设": "县住房和城乡建设局", "生态环境": "县生态环境局"}
_SPOT_ANSWERS = (
    "已当场向信访人解释相关政策规定，信访人表示理解。",
    "经当场查询，信访人所反映问题已有处理结果，已当面告知。",
    "已当场告知信访人办理渠道和所需材料，信访人表示认可。",
    "已当场联系责任单位核实并答复，信访人表示满意。",
)
_REFUSALS = (  # (channel, reason, weight)
    ("court", "该事项属于应当通过诉讼解决的民事纠纷，已告知信访人依法向人民法院提起诉讼。", 35),
    ("arbitration", "该事项属于劳动争议，已告知信访人向劳动人事争议仲裁委员会申请仲裁。", 20),
    ("reconsideration", "该事项属于可以申请行政复议的行政行为，已告知信访人依法申请行政复议。", 15),
    ("discipline", "该事项属于对公职人员的检举控告，已告知信访人向纪检监察机关反映。", 10),
    ("pending", "该事项已由有权处理的机关受理且在办理期限内，不再重复受理。", 10),
    ("final", "该事项已经复核终结，信访人以同一事实和理由提出，不再受理。", 5),
    ("procuratorate", "该事项涉及对司法活动的监督，已告知信访人向人民检察院反映。", 5),
)
_RETURN_REASONS = (
    "该事项不属于本单位职责范围，请重新转送有权处理的单位。",
    "经核实，该事项属于县直部门职能，本乡镇无权处理。",
    "信访人所反映问题发生地不在本辖区，请核实属地后重新交办。",
)
_COMPLAINED_ROLES = ("村党支部书记", "村委会主任", "村会计", "镇政府工作人员", "网格员")
_OUTCOMES = ("support", "explain", "not_support")
# FakeSource opens a summary with who reported it; make that fit the channel.
_OPENERS = {"visit": "来访人称，", "letter": "信访人来信反映，", "phone": "信访人来电反映，",
            "online": "信访人反映，"}
_CAUSE_TAGS = tuple(CauseTag.values)

_NULL = "\\N"
_HOUR_MINUTES = tuple(f"{m // 60:02d}:{m % 60:02d}:00" for m in range(1440))
_WORK_START, _WORK_MINUTES = 8 * 60 + 30, 9 * 60  # the office answers 08:30-17:30

_COPY = {
    "petitioners": "COPY cases_petitioner (id, id_number, name, sex, ethnicity, id_type, phone, "
                   "phone_alt, address, is_anonymous, is_key_person, created_at, address_unit_id)"
                   " FROM STDIN",
    "cases": "COPY cases_case (id, number, repeat_of_id, query_code, channel, postal_reference, "
             "received_at, registered_at, headcount, is_group, purpose, summary, demands, "
             "complained_person, cause_tags, urgency, status, spot_answer, refusal_reason, "
             "diversion_channel, return_reason, closed_at, updated_at, complained_unit_id, "
             "lead_unit_id, leader_id, place_unit_id, registered_by_id, registered_unit_id, "
             "category_id) FROM STDIN",
    "parties": "COPY cases_casepetitioner (case_id, petitioner_id, is_main, is_representative)"
               " FROM STDIN",
    "deadlines": "COPY cases_deadline (case_id, kind, status, starts_on, length, unit, "
                 "extension_days, paused_days, paused_on, due_on, due_at, provisional, "
                 "closed_at) FROM STDIN",
    "events": "COPY cases_caseevent (case_id, kind, at, from_status, to_status, details, "
              "actor_id) FROM STDIN",
}
TABLES = ("cases_case", "cases_petitioner", "cases_casepetitioner", "cases_deadline",
          "cases_caseevent")


@dataclass
class BulkReport:
    """What one run added, and how long it took."""

    cases: int = 0
    petitioners: int = 0
    parties: int = 0
    deadlines: int = 0
    events: int = 0
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)

    @property
    def cases_per_s(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def add(self, chunk: _Chunk) -> None:
        self.cases += len(chunk.cases)
        self.petitioners += len(chunk.people)
        self.parties += sum(len(case.parties) for case in chunk.cases)
        self.deadlines += chunk.deadline_count
        self.events += chunk.event_count + len(chunk.cases)  # and one registration each


def demo_cases_seed(*, count: int, seed: int = 2026, stdout=None) -> BulkReport:
    """Add ``count`` demo cases to the demo county, chunk by chunk with COPY; return the counts."""
    if count < 1:
        raise ValueError("count must be at least 1")
    started = time.perf_counter()
    world = _world_load()
    writer = _Writer(world)
    existing = writer.sync_numbers()
    generator = _Generator(world, seed=seed if not existing else seed * 1_000_003 + existing,
                           total=count, now=timezone.now())
    report = BulkReport()
    bounds = [(start, min(start + CHUNK, count)) for start in range(0, count, CHUNK)]
    with ThreadPoolExecutor(max_workers=1) as generating:

        def generate(first: int, stop: int) -> Future:
            return generating.submit(generator.chunk, first, stop,
                                     writer.ids("cases_case", stop - first))

        upcoming = generate(*bounds[0])
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
    report.seconds = time.perf_counter() - started
    report.statuses.update(generator.statuses)
    return report


# --- Reference data, loaded once -------------------------------------------------------


@dataclass
class _Place:
    unit_ids: tuple[int, ...]  # the village, then its grids
    address_prefix: str  # township and village: 城关镇柳树村
    village_id: int
    township_id: int


@dataclass
class _World:
    county_id: int
    county_code: str
    office_id: int
    clerk_id: int
    supervisor_id: int
    handler_id: int | None
    handler_unit_id: int | None
    places: list[_Place]
    leaves: list[tuple[int, tuple[str, str, str]]]  # (category id, domain-topic-leaf path)
    leaf_weights: list[float]
    departments: dict[str, int]  # domain: department id
    department_ids: list[int]
    unit_codes: dict[int, str]
    rules: dict[str, tuple[int, str]]  # clock kind: (length, unit)
    calendar: WorkCalendar


def _world_load() -> _World:
    """Seed what the cases hang on (county, logins, categories) if missing, and read it."""
    county = demo_org_seed()
    if not User.objects.filter(username="clerk").exists():
        demo_users_seed(password=os.environ.get("DEMO_PASSWORD", "demo"))
    users = dict(User.objects.filter(username__in=["clerk", "handler", "supervisor"])
                 .values_list("username", "pk"))
    handler_unit = (RoleAssignment.objects.filter(user_id=users.get("handler"), role=Role.HANDLER)
                    .values_list("unit_id", flat=True).first())
    units = list(OrgUnit.objects.filter(path__startswith=county.path, is_active=True))
    departments = {u.name: u.pk for u in units
                   if u.kind == UnitKind.DEPARTMENT and u.code != OFFICE_CODE}
    leaves = [(pk, path) for path, pk in demo_categories_seed().items()]
    overrides = {row.day: DayOverride(row.is_workday, row.name) for row in CalendarDay.objects.all()}
    return _World(
        county_id=county.pk, county_code=county.code,
        office_id=next(u.pk for u in units if u.code == OFFICE_CODE),
        clerk_id=users["clerk"], supervisor_id=users["supervisor"],
        handler_id=users.get("handler"), handler_unit_id=handler_unit,
        places=_places(units),
        leaves=leaves,
        leaf_weights=list(accumulate(_TOPIC_WEIGHTS.get(path[1], 3) for _pk, path in leaves)),
        departments={domain: departments[name] for domain, name in _DOMAIN_DEPARTMENTS.items()
                     if name in departments},
        department_ids=sorted(departments.values()),
        unit_codes={u.pk: u.code for u in units},
        rules={r.kind: (r.length, r.unit) for r in DeadlineRule.objects.all()},
        calendar=WorkCalendar(overrides, AnnouncedYear.objects.values_list("year", flat=True)),
    )


def _places(units: list[OrgUnit]) -> list[_Place]:
    """Each village or community of the county with its grids and township."""
    by_path = {u.path: u for u in units}
    step = OrgUnit.steplen
    places = []
    for village in sorted((u for u in units if u.kind in (UnitKind.VILLAGE, UnitKind.COMMUNITY)),
                          key=lambda u: u.path):
        township = by_path[village.path[:-step]]
        grids = sorted((u for u in units if u.kind == UnitKind.GRID
                        and u.path[:-step] == village.path), key=lambda u: u.path)
        places.append(_Place((village.pk, *(g.pk for g in grids)),
                             township.name + village.name, village.pk, township.pk))
    if not places:
        raise RuntimeError("The demo county has no villages to place cases in.")
    return places


def demo_categories_seed() -> dict[tuple[str, str, str], int]:
    """Build the demo category tree if missing (idempotent); return each leaf path's id."""
    codes: dict[tuple[str, ...], str] = {}
    leaves = {}
    for path in FakeSource.category_paths():
        parent = None
        for depth in range(1, 4):
            key = path[:depth]
            if key not in codes:  # 01, 0102, 010203: numbered in order of appearance
                siblings = sum(len(known) == depth and known[:-1] == key[:-1] for known in codes)
                codes[key] = codes.get(key[:-1], "") + f"{siblings + 1:02d}"
            parent = _category(codes[key], key[-1], parent)
        leaves[path] = parent.pk
    return leaves


def _category(code: str, name: str, parent: Category | None) -> Category:
    found = Category.objects.filter(code=code).first()
    if found is not None:
        return found
    if parent is None:
        return Category.objects.add_root({"code": code, "name": name})
    parent.refresh_from_db()  # treebeard needs the parent's current child count
    return Category.objects.add_child(parent, {"code": code, "name": name})


# --- Generating a chunk (pure Python: runs while the previous chunk is copied) ------------


class _Case:
    __slots__ = ("case_id", "year", "received_t", "registered", "registered_at", "channel",
                 "headcount", "tail", "parties", "events")

    def __init__(self, case_id: int, channel: str, received_t: int) -> None:
        self.case_id, self.channel, self.received_t = case_id, channel, received_t
        self.parties: list[tuple[list, bool, bool]] = []  # (person, is main, is representative)


@dataclass
class _Chunk:
    cases: list[_Case]  # in order of receipt, so numbers follow it
    people: list[list]  # new persons: [id, ID number, rest of the row]
    deadlines: str  # COPY text, ready
    deadline_count: int
    event_count: int  # transitions; each case's registration is rendered with its number


class _Generator:
    """Draw cases, people, steps and clocks as COPY text; numbers and people's ids come later."""

    def __init__(self, world: _World, *, seed: int, total: int, now: datetime) -> None:
        self.world, self.total = world, total
        self.rng = random.Random(seed)
        self.fake = FakeSource(seed)
        self.statuses: Counter = Counter()
        self.pool: list[list] = []  # [person, place, leaf index, last case id, registered at]
        local_now = timezone.localtime(now, OFFICE_TZ)
        self.base = local_now.date() - timedelta(days=WINDOW_DAYS)
        self.now_t = WINDOW_DAYS * 1440 + local_now.hour * 60 + local_now.minute
        self.dates = [self.base + timedelta(days=d) for d in range(WINDOW_DAYS + 2)]
        self.iso = [d.isoformat() for d in self.dates]
        self.offsets = [datetime(d.year, d.month, d.day, 12, tzinfo=OFFICE_TZ).isoformat()[-6:]
                        for d in self.dates]
        self.workday = [world.calendar.is_workday(d) for d in self.dates]
        self.dues: dict[tuple[int, int, str], tuple[str, str, str]] = {}
        self.json: dict[Any, str] = {}
        self.channel_cum = list(accumulate(w for _c, w in _CHANNELS))
        self.purpose_cum = list(accumulate(w for _p, w in _PURPOSES))
        self.refusal_cum = list(accumulate(w for _c, _r, w in _REFUSALS))
        self.by_age = [(limit, list(weights), list(accumulate(weights.values())))
                       for limit, weights in _BY_AGE]

    def ts(self, t: int) -> str:
        day, minute = divmod(t, 1440)
        return f"{self.iso[day]} {_HOUR_MINUTES[minute]}{self.offsets[day]}"

    def chunk(self, first: int, stop: int, case_ids: list[int]) -> _Chunk:
        """Cases ``first`` to ``stop`` of the run, with their ids; no database access."""
        intakes = sorted((self._received(index) for index in range(first, stop)),
                         key=itemgetter(1))
        people: list[list] = []
        deadlines: list[str] = []
        cases = [self._case(_Case(case_id, channel, received_t), people, deadlines)
                 for case_id, (channel, received_t) in zip(case_ids, intakes, strict=True)]
        return _Chunk(cases, people, "".join(deadlines), len(deadlines),
                      sum(case.events.count("\n") for case in cases))

    # --- One case ------------------------------------------------------------------

    def _case(self, case: _Case, people: list[list], deadlines: list[str]) -> _Case:
        r = self.rng.random
        case.registered = self._registered(case.received_t, case.channel)
        case.registered_at = self.ts(case.registered)
        case.year = self.dates[case.received_t // 1440].year
        purpose = _PURPOSES[bisect(self.purpose_cum, r() * self.purpose_cum[-1])][0]
        repeat = self._repeat(case.received_t) if r() < REPEAT_SHARE else None
        if repeat is not None:
            place, leaf = repeat[1], (repeat[2] if r() < 0.75 else self._leaf())
        else:
            place, leaf = self.rng.choice(self.world.places), self._leaf()
        case.headcount = self._parties(case, place, purpose, repeat, people)
        status = self._status((self.now_t - case.received_t) / 1440)
        self.statuses[status] += 1
        self._timeline(case, status, place, leaf, purpose, repeat, deadlines)
        if repeat is not None:
            repeat[3], repeat[4] = case.case_id, case.registered
        elif case.parties[0][0][1] or case.channel == "phone":  # people we can find again
            self._remember([case.parties[0][0], place, leaf, case.case_id, case.registered])
        return case

    def _received(self, index: int) -> tuple[str, int]:
        """Spread receipt evenly over the window; visits, letters and calls on working days."""
        r = self.rng.random
        day = min(WINDOW_DAYS - 1, int((index + r()) * WINDOW_DAYS / self.total))
        channel = _CHANNELS[bisect(self.channel_cum, r() * self.channel_cum[-1])][0]
        if channel != "online" and not self.workday[day]:
            later = day + 1
            while later < WINDOW_DAYS and not self.workday[later]:
                later += 1
            if later < WINDOW_DAYS and r() < 0.7:
                day = later
            else:
                channel = "online"
        if channel == "online":
            return channel, day * 1440 + 420 + int(r() * 960)  # 07:00-23:00
        return channel, day * 1440 + _WORK_START + int(r() * _WORK_MINUTES)

    def _registered(self, received_t: int, channel: str) -> int:
        r = self.rng.random
        if channel in ("visit", "phone"):
            return received_t + 5 + int(r() * 35)
        if channel == "online":
            return self._office_time(received_t, received_t + int(r() * 2880))
        return self._office_time(received_t, received_t + int(r() * 3 * 1440))

    def _office_time(self, previous: int, t: float) -> int:
        """Move ``t`` into office hours of a working day, after ``previous`` and not after now."""
        day, minute = divmod(int(t), 1440)
        if not _WORK_START <= minute < _WORK_START + _WORK_MINUTES:
            minute = _WORK_START + minute % _WORK_MINUTES
        while day < WINDOW_DAYS and not self.workday[day]:
            day += 1
        t = max(day * 1440 + minute, previous + 1 + int(self.rng.random() * 20))
        return min(t, self.now_t)

    def _leaf(self) -> int:
        weights = self.world.leaf_weights
        return bisect(weights, self.rng.random() * weights[-1])

    def _repeat(self, received_t: int) -> list | None:
        """An earlier petitioner coming back, if one registered before this receipt."""
        if not self.pool:
            return None
        entry = self.rng.choice(self.pool)
        return entry if entry[4] < received_t else None

    def _remember(self, entry: list) -> None:
        if len(self.pool) < POOL_SIZE:
            self.pool.append(entry)
        else:
            self.pool[self.rng.randrange(POOL_SIZE)] = entry

    def _status(self, age: float) -> str:
        for limit, statuses, cumulative in self.by_age:
            if age < limit:
                return statuses[bisect(cumulative, self.rng.random() * cumulative[-1])]
        raise AssertionError("unreachable: the last age limit is open-ended")

    # --- The people on a case ------------------------------------------------------

    def _parties(self, case: _Case, place: _Place, purpose: str, repeat, people) -> int:
        """Link the main petitioner and any co-petitioners or representatives; return headcount."""
        r, at = self.rng.random, case.registered_at
        if repeat is not None:
            main = repeat[0]
        elif purpose == "accusation" and case.channel in ("letter", "online") and r() < 0.3:
            main = [None, "", f"匿名\t\t\t{IdType.NONE}\t\t\t\tt\tf\t{at}\t{_NULL}"]
            people.append(main)
            case.parties.append((main, True, False))
            return 1
        else:
            main = self._person(place, at, people, no_id=case.channel == "phone" and r() < 0.3)
        draw = r()
        if draw < 0.05:  # a group visit: up to five representatives speak for it
            others = self.rng.randrange(MAX_REPRESENTATIVES)
            case.parties.append((main, True, True))
            case.parties += [(self._person(place, at, people), False, True)
                             for _n in range(others)]
            return 5 + int(r() ** 2 * 150)
        case.parties.append((main, True, False))
        if draw < 0.12:  # a joint letter or a couple: everyone is listed
            others = 1 + int(r() * 3)
            case.parties += [(self._person(place, at, people), False, False)
                             for _n in range(others)]
            return 1 + others
        return 1

    def _person(self, place: _Place, registered_at: str, people: list[list], *,
                no_id: bool = False) -> list:
        r = self.rng.random
        fake = self.fake.person()
        number, id_type = fake["id_number"], IdType.RESIDENT_ID
        if no_id:
            number, id_type = "", IdType.NONE
        elif r() < LOCAL_ID_SHARE:
            first17 = COUNTY[0] + number[6:17]
            number = first17 + check_digit(first17)
        phone_alt = f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}" if r() < 0.1 else ""
        person = [None, number,
                  f"{fake['name']}\t{fake['sex']}\t{fake['ethnicity']}\t{id_type}\t{fake['phone']}"
                  f"\t{phone_alt}\t{self.fake.address(place.address_prefix)}\tf"
                  f"\t{'t' if r() < 0.015 else 'f'}\t{registered_at}\t{place.village_id}"]
        people.append(person)
        return person

    # --- Steps, clocks and events --------------------------------------------------

    def _timeline(self, case: _Case, status: str, place: _Place, leaf: int, purpose: str,
                  repeat, deadlines: list[str]) -> None:
        """Walk the steps to ``status``: clocks, one event per step, then the case row."""
        steps = self._steps(status)
        times = self._step_times(case.registered, steps)
        received_day = case.received_t // 1440
        clocks = [self._clock(K.ROUTING, received_day),
                  self._clock(K.ACCEPTANCE_NOTICE, received_day)]
        live = {clock[0]: clock for clock in clocks}
        lead = closed_t = None
        current, events, notes, prefix = S.REGISTERED, [], {}, f"{case.case_id}\t"
        for name, t in zip(steps, times, strict=True):
            step = _STEPS[name]
            for kinds, outcome in ((step.meet, ClockStatus.MET),
                                   (step.cancel, ClockStatus.CANCELLED)):
                for kind in kinds:
                    clock = live.pop(kind, None)
                    if clock is not None:
                        clock[2], clock[3] = outcome, t
            for kind in step.start:
                live[kind] = self._clock(kind, t // 1440)
                clocks.append(live[kind])
            lead, details = self._step_fields(name, lead, place, leaf, notes)
            closed_t = t if step.target in CLOSED_STATES else closed_t
            events.append(f"{prefix}{EventKind.TRANSITION}\t{self.ts(t)}\t{current}\t"
                          f"{step.target}\t{details}\t{self._actor(step.who, lead)}\n")
            current = step.target
        assert current == status, (steps, status)
        self._pauses(status, clocks, live)
        deadlines += [f"{prefix}{self._clock_row(clock)}\n" for clock in clocks]
        case.events = "".join(events)
        case.tail = self._case_row(case, status, place, leaf, purpose, repeat, lead, closed_t,
                                   times[-1] if times else case.registered, notes)

    def _steps(self, status: str) -> tuple[str, ...]:
        """The steps that take a new case to ``status``, with the occasional return or shortcut."""
        r = self.rng.random
        if status == S.ANSWERED:
            return ("answer_on_spot",)
        if status == S.NOT_ACCEPTED:
            return ("refuse",)
        if status == S.REGISTERED:
            return _RETURNED if r() < 0.08 else ()
        if status == S.ROUTED:
            return (*_RETURNED, "route") if r() < 0.05 else ("route",)
        if status == S.RETURN_REQUESTED:
            return ("route", "request_return")
        draw = r()
        prefix = (("route", "sign") if draw < 0.92 else
                  ("route", "request_return", "refuse_return") if draw < 0.97 else
                  (*_RETURNED, "route", "sign"))
        if status == S.SIGNED:
            return prefix
        if status == S.CLOSED:  # after the reply, or after the review decision
            handling = (*_HANDLING[:5 if r() < 0.12 else 3], "close")
        else:
            handling = _HANDLING[:_HANDLING_END[status]]
        if len(handling) > 2 and r() < 0.15:  # replied straight from accepted
            handling = handling[:1] + handling[2:]
        return prefix + handling

    def _step_times(self, registered_t: int, steps: tuple[str, ...]) -> list[int]:
        """Draw each step's delay; squeeze them into the time between registration and now."""
        r = self.rng.random
        delays = []
        for name in steps:
            step = _STEPS[name]
            low, high = step.late_days if step.late and r() < step.late else step.days
            delays.append((low + (high - low) * r()) * 1440)
        total, room = sum(delays), self.now_t - registered_t
        if total > room * 0.98:
            scale = room * (0.35 + 0.6 * r()) / total
            delays = [delay * scale for delay in delays]
        times, t, exact = [], registered_t, float(registered_t)
        for delay in delays:
            exact += delay
            t = self._office_time(t, exact)
            times.append(t)
        return times

    def _step_fields(self, step: str, lead, place: _Place, leaf: int, notes: dict):
        """Apply a step to the lead unit and the case's texts; return (lead, event details)."""
        r = self.rng.random
        if step == "route":
            lead = self._lead(place, leaf, notes.pop("returned_by", None))
            notes.pop("return_reason", None)
            return lead, self._details(step, lead)
        if step == "request_return":
            notes["return_reason"] = self.rng.choice(_RETURN_REASONS)
            return lead, self._details(step, notes["return_reason"])
        if step == "agree_return":
            notes["returned_by"] = lead
            return None, self._details(step, lead)
        if step == "refuse":
            notes["refusal"] = _REFUSALS[bisect(self.refusal_cum, r() * self.refusal_cum[-1])]
            return lead, self._details(step, notes["refusal"][0])
        if step == "answer_on_spot":
            notes["answer"] = self.rng.choice(_SPOT_ANSWERS)
        elif step in ("reply", "decide_review", "decide_rereview"):
            return lead, self._details(step, self.rng.choice(_OUTCOMES))
        return lead, self._details(step, None)

    def _details(self, step: str, value) -> str:
        """The TRANSITION event's JSON, shaped like the services' (cached: few distinct ones)."""
        key = (step, value)
        text = self.json.get(key)
        if text is None:
            details: dict[str, Any] = {"step": step}
            if step == "route":
                details.update(lead_unit=self.world.unit_codes[value], co_units=[])
            elif step == "agree_return":
                details["returned_by_unit"] = self.world.unit_codes.get(value, "")
            elif step == "request_return":
                details["reason"] = value
            elif step == "refuse":
                details["channel"] = value
            elif value is not None:
                details["outcome"] = value
            text = self.json[key] = json.dumps(details, ensure_ascii=False)
        return text

    def _lead(self, place: _Place, leaf: int, returned_by: int | None) -> int:
        """The township where it happened, or the department in charge of the matter."""
        department = self.world.departments.get(self.world.leaves[leaf][1][0])
        if returned_by is None:
            return department if department and self.rng.random() < 0.45 else place.township_id
        if returned_by == place.township_id:
            return department or self.rng.choice(self.world.department_ids)
        return place.township_id

    def _actor(self, who: str, lead) -> str:
        world = self.world
        if who == OFFICE:
            return str(world.clerk_id)
        if who == REVIEW:
            return str(world.supervisor_id)
        return str(world.handler_id) if lead == world.handler_unit_id and lead else _NULL

    def _clock(self, kind: str, start_day: int) -> list:
        # [kind, start day, status, closed at, paused days, paused on (day)]
        return [kind, start_day, ClockStatus.OPEN, None, 0, None]

    def _pauses(self, status: str, clocks: list[list], live: dict) -> None:
        """Some reply clocks were paused (hearings, appraisals); a few are paused now."""
        r = self.rng.random
        for clock in clocks:
            if clock[0] == K.REPLY and r() < 0.05:
                clock[4] = 3 + int(r() * 18)
        reply = live.get(K.REPLY)
        if status == S.IN_HANDLING and reply is not None and r() < 0.08:
            today = self.now_t // 1440
            reply[2], reply[5] = ClockStatus.PAUSED, reply[1] + int(r() * (today - reply[1] + 1))

    def _clock_row(self, clock: list) -> str:
        kind, start_day, status, closed_t, paused_days, paused_day = clock
        length, unit = self.world.rules[kind]
        key = (start_day, length + paused_days, unit)
        due = self.dues.get(key)
        if due is None:
            found = self.world.calendar.due_date(self.dates[start_day], key[1], unit)
            due = self.dues[key] = (found.due.isoformat(), found.ends_at(OFFICE_TZ).isoformat(),
                                    "t" if found.provisional else "f")
        paused_on = _NULL if paused_day is None else self.iso[paused_day]
        closed = _NULL if closed_t is None else self.ts(closed_t)
        return (f"{kind}\t{status}\t{self.iso[start_day]}\t{length}\t{unit}\t0\t{paused_days}"
                f"\t{paused_on}\t{due[0]}\t{due[1]}\t{due[2]}\t{closed}")

    # --- The case row --------------------------------------------------------------

    def _case_row(self, case: _Case, status: str, place: _Place, leaf: int, purpose: str,
                  repeat, lead, closed_t, updated_t: int, notes: dict) -> str:
        """Every column after id and number, as COPY text."""
        r, rng, world = self.rng.random, self.rng, self.world
        leaf_id, path = world.leaves[leaf]
        summary, demands = self.fake.summary(path[2])
        summary = _opened(summary, case.channel)
        group = case.headcount > 1
        code = "".join(rng.choices(QUERY_CODE_ALPHABET, k=QUERY_CODE_LENGTH))
        postal = f"1{rng.randrange(10**12):012d}" if case.channel == "letter" else ""
        complained_unit, complained_person = _NULL, ""
        if purpose == "accusation":
            complained_unit = place.township_id
            complained_person = f"{self.fake.person()['name']}（{rng.choice(_COMPLAINED_ROLES)}）"
        tags = rng.sample(_CAUSE_TAGS, 1 + int(r() * 2)) if group or r() < 0.08 else []
        urgency = ("critical" if r() < (0.1 if group else 0.01) else
                   "urgent" if r() < (0.25 if group or repeat else 0.06) else "normal")
        refusal = notes.get("refusal", ("", ""))
        place_id = place.unit_ids[0] if r() < 0.7 else rng.choice(place.unit_ids)
        return (
            f"{_NULL if repeat is None else repeat[3]}\t{code}\t{case.channel}\t{postal}"
            f"\t{self.ts(case.received_t)}\t{case.registered_at}\t{case.headcount}"
            f"\t{'t' if group else 'f'}\t{purpose}\t{_escape(summary)}\t{_escape(demands)}"
            f"\t{complained_person}\t{{{','.join(tags)}}}\t{urgency}\t{status}"
            f"\t{notes.get('answer', '')}\t{refusal[1]}\t{refusal[0]}"
            f"\t{notes.get('return_reason', '')}\t{_NULL if closed_t is None else self.ts(closed_t)}"
            f"\t{self.ts(updated_t)}\t{complained_unit}\t{_NULL if lead is None else lead}"
            f"\t{_NULL}\t{place_id}\t{world.clerk_id}\t{world.office_id}\t{leaf_id}"
        )


def _opened(summary: str, channel: str) -> str:
    for opener in _OPENERS.values():
        if summary.startswith(opener):
            return _OPENERS[channel] + summary[len(opener):]
    return summary


def _escape(text: str) -> str:
    """COPY text format: backslash, tab and newlines are escaped (fast path: none present)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return text


# --- Writing a chunk: ids, numbers, unique ID numbers, then COPY text ----------------------


class _Writer:
    """The database side: ids, numbers and unique ID numbers, then the COPY text."""

    def __init__(self, world: _World) -> None:
        self.world = world
        self.sequences: dict[str, str] = {}

    def ids(self, table: str, count: int) -> list[int]:
        """Take ``count`` ids from the table's identity sequence (safe beside live inserts)."""
        if table not in self.sequences:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                self.sequences[table] = cursor.fetchone()[0]
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                           [self.sequences[table], count])
            return [row[0] for row in cursor.fetchall()]

    def sync_numbers(self) -> int:
        """Raise each year's number sequence to the highest number on file; return the case count.

        Registration numbers through the sequence, but rows written some other way
        (a restore, test factories) may hold higher numbers already.
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
            cursor.execute("SELECT count(*) FROM cases_case")
            return cursor.fetchone()[0]

    def write(self, chunk: _Chunk) -> None:
        """Number the cases, give new people ids and unique ID numbers, and COPY all rows."""
        for person, person_id in zip(chunk.people, self.ids("cases_petitioner", len(chunk.people)),
                                     strict=True):
            person[0] = person_id
        with connection.cursor() as cursor:
            self._unique_id_numbers(cursor, chunk.people)
            numbers = self._numbers(cursor, chunk.cases)
            copy = cursor.connection.cursor()  # psycopg2's own, for copy_expert
            for sql, text in self._render(chunk, numbers):
                copy.copy_expert(sql, io.StringIO(text), size=1 << 20)

    def _numbers(self, cursor, cases: list[_Case]) -> list[str]:
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

    def _unique_id_numbers(self, cursor, people: list[list]) -> None:
        """Redraw the sequence code of any ID number already on file or drawn twice."""
        rng = random.Random(len(people))
        pending = [person for person in people if person[1]]
        seen: set[str] = set()
        while pending:
            cursor.execute("SELECT id_number FROM cases_petitioner WHERE id_type = %s "
                           "AND id_number = ANY(%s)",
                           [IdType.RESIDENT_ID, [person[1] for person in pending]])
            taken = {row[0] for row in cursor.fetchall()}
            clashes = []
            for person in pending:
                if person[1] in taken or person[1] in seen:
                    person[1] = _redrawn(person[1], rng)
                    clashes.append(person)
                else:
                    seen.add(person[1])
            pending = clashes

    def _render(self, chunk: _Chunk, numbers: list[str]) -> list[tuple[str, str]]:
        clerk = self.world.clerk_id
        cases, parties, events = [], [], []
        for case, number in zip(chunk.cases, numbers, strict=True):
            case_id = case.case_id
            cases.append(f"{case_id}\t{number}\t{case.tail}\n")
            parties += [f"{case_id}\t{person[0]}\t{'t' if main else 'f'}\t{'t' if rep else 'f'}\n"
                        for person, main, rep in case.parties]
            # The registration event's details, as case_register writes them.
            events.append(
                f'{case_id}\t{EventKind.REGISTERED}\t{case.registered_at}\t\t{S.REGISTERED}'
                f'\t{{"number": "{number}", "channel": "{case.channel}", "headcount": '
                f'{case.headcount}, "petitioners": {len(case.parties)}}}\t{clerk}\n')
            events.append(case.events)
        people = "".join(f"{p[0]}\t{p[1]}\t{p[2]}\n" for p in chunk.people)
        return [(_COPY["petitioners"], people), (_COPY["cases"], "".join(cases)),
                (_COPY["parties"], "".join(parties)), (_COPY["deadlines"], chunk.deadlines),
                (_COPY["events"], "".join(events))]


# Take ``count`` numbers of a county and year; the same statement case_register uses.
_NUMBERS_TAKE = (
    "INSERT INTO cases_casenumbersequence (county_id, year, last) VALUES (%s, %s, %s) "
    "ON CONFLICT (county_id, year) DO UPDATE SET last = cases_casenumbersequence.last + "
    "EXCLUDED.last"
)


def _redrawn(number: str, rng: random.Random) -> str:
    """Same place of registration, birth date and sex; a new sequence code and check digit."""
    parity = int(number[16]) % 2
    code = rng.randrange(0, 500) * 2 + parity or 2  # 001-999, odd for men, even for women
    first17 = f"{number[:14]}{code:03d}"
    return first17 + check_digit(first17)
