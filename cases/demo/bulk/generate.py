"""Drawing a chunk of cases as COPY text: pure Python, run while the previous chunk is copied.

Numbers and people's ids are left out; the writer adds them once it has them.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from operator import itemgetter

from accounts.demo import COUNTY
from cases.choices import CaseStatus as S
from cases.choices import CauseTag, IdType, NoNoticeReason
from cases.demo.fakes import FakeSource
from cases.idnumbers import check_digit
from cases.services.registration import (
    MAX_REPRESENTATIVES,
    QUERY_CODE_ALPHABET,
    QUERY_CODE_LENGTH,
)

from .handling import Handling
from .rows import NULL, RowId, escape
from .states import BY_AGE
from .texts import COMPLAINED_ROLES, OPENERS, THREATS
from .timeline import Timeline, Walk
from .times import WINDOW_DAYS, WORK_MINUTES, WORK_START, OfficeTimes
from .world import Place, World

POOL_SIZE = 60_000  # earlier petitioners who may come back
REPEAT_SHARE = 0.2
LOCAL_ID_SHARE = 0.85  # most petitioners were first registered in the county itself

_CHANNELS = (("visit", 30), ("letter", 12), ("online", 48), ("phone", 10))
_PURPOSES = (("remedy", 70), ("suggestion", 8), ("appeal", 10), ("accusation", 8), ("other", 4))
_CAUSE_TAGS = tuple(CauseTag.values)


class Case:
    __slots__ = ("case_id", "year", "received_t", "registered", "registered_at", "channel",
                 "headcount", "tail", "parties", "events", "no_notice_reason", "repeat_of")

    def __init__(self, case_id: int, channel: str, received_t: int) -> None:
        self.case_id, self.channel, self.received_t = case_id, channel, received_t
        self.parties: list[tuple[list, bool, bool]] = []  # (person, is main, is representative)
        self.no_notice_reason = ""  # set where the main petitioner is anonymous (R22 Art.23)
        self.repeat_of: int | None = None


@dataclass
class Chunk:
    cases: list[Case] = field(default_factory=list)  # in order of receipt: numbers follow it
    people: list[list] = field(default_factory=list)  # [id, ID number, rest of the row]
    deadlines: list[str] = field(default_factory=list)  # COPY text, ready
    # (id to come, COPY text after the id)
    leaderships: list[tuple[RowId, str]] = field(default_factory=list)
    decisions: list[tuple[RowId, str]] = field(default_factory=list)
    event_count: int = 0  # all but registrations, rendered with each case's number


class Generator:
    """Draw cases, people, steps, clocks, leaderships and decisions as COPY text; ids come later."""

    def __init__(self, world: World, *, seed: int, total: int, now: datetime) -> None:
        self.world, self.total = world, total
        self.rng = random.Random(seed)
        self.fake = FakeSource(seed)
        self.statuses: Counter = Counter()
        # [person, place, leaf index, last case id, registered at, final at (re-reviewed)]
        self.pool: list[list] = []
        self.times = OfficeTimes(world.calendar, now, self.rng)
        self.timeline = Timeline(world, self.rng, self.times)
        self.handling = Handling(world, self.rng, self.times)
        self.channel_cum = list(accumulate(w for _c, w in _CHANNELS))
        self.purpose_cum = list(accumulate(w for _p, w in _PURPOSES))
        self.by_age = [(limit, list(weights), list(accumulate(weights.values())))
                       for limit, weights in BY_AGE]

    def chunk(self, first: int, stop: int, case_ids: list[int]) -> Chunk:
        """Cases ``first`` to ``stop`` of the run, with their ids; no database access."""
        intakes = sorted((self._received(index) for index in range(first, stop)),
                         key=itemgetter(1))
        chunk = Chunk()
        chunk.cases = [self._case(Case(case_id, channel, received_t), chunk)
                       for case_id, (channel, received_t) in zip(case_ids, intakes, strict=True)]
        return chunk

    # --- One case ------------------------------------------------------------------

    def _case(self, case: Case, chunk: Chunk) -> Case:
        r = self.rng.random
        case.registered = self._registered(case.received_t, case.channel)
        case.registered_at = self.times.ts(case.registered)
        case.year = self.times.dates[case.received_t // 1440].year
        purpose = _PURPOSES[bisect(self.purpose_cum, r() * self.purpose_cum[-1])][0]
        repeat = self._repeat(case.received_t) if r() < REPEAT_SHARE else None
        if repeat is not None:
            case.repeat_of = repeat[3]
            place, leaf = repeat[1], (repeat[2] if r() < 0.75 else self._leaf())
        else:
            place, leaf = self.rng.choice(self.world.places), self._leaf()
        case.headcount = self._parties(case, place, purpose, repeat, chunk.people)
        # A repeat of a matter final before it came, with nothing new, is refused (R22 Art.36).
        final_repeat = repeat is not None and repeat[5] is not None and repeat[5] < case.registered
        status = self._status((self.times.now_t - case.received_t) / 1440)
        walk = self.timeline.walk(case, status, place, leaf, chunk.deadlines,
                                  final_repeat=final_repeat)
        status = walk.status  # a case whose request window still runs is not closed yet
        self.statuses[status] += 1
        if case.headcount > 1 or repeat is not None:  # group and repeat petitions are hard
            self.handling.lead(case, status, place, leaf, walk, chunk.leaderships)
        texts = self._texts(case, leaf)
        case.tail = self._case_row(case, status, place, leaf, purpose, walk, texts)
        self.handling.decide(case, leaf, *texts, walk, chunk.decisions)
        case.events = walk.events
        chunk.event_count += len(walk.events)
        final_t = walk.closed_t if status == S.FINAL else None
        if repeat is not None:
            repeat[3], repeat[4], repeat[5] = case.case_id, case.registered, final_t
        elif case.parties[0][0][1] or case.channel == "phone":  # people we can find again
            self._remember([case.parties[0][0], place, leaf, case.case_id, case.registered,
                            final_t])
        return case

    def _received(self, index: int) -> tuple[str, int]:
        """Spread receipt evenly over the window; visits, letters and calls on working days."""
        r = self.rng.random
        workday = self.times.workday
        day = min(WINDOW_DAYS - 1, int((index + r()) * WINDOW_DAYS / self.total))
        channel = _CHANNELS[bisect(self.channel_cum, r() * self.channel_cum[-1])][0]
        if channel != "online" and not workday[day]:
            later = day + 1
            while later < WINDOW_DAYS and not workday[later]:
                later += 1
            if later < WINDOW_DAYS and r() < 0.7:
                day = later
            else:
                channel = "online"
        if channel == "online":
            return channel, day * 1440 + 420 + int(r() * 960)  # 07:00-23:00
        return channel, day * 1440 + WORK_START + int(r() * WORK_MINUTES)

    def _registered(self, received_t: int, channel: str) -> int:
        r = self.rng.random
        if channel in ("visit", "phone"):
            return received_t + 5 + int(r() * 35)
        if channel == "online":
            return self.times.office_time(received_t, received_t + int(r() * 2880))
        return self.times.office_time(received_t, received_t + int(r() * 3 * 1440))

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

    def _parties(self, case: Case, place: Place, purpose: str, repeat, people) -> int:
        """Link the main petitioner and any co-petitioners or representatives; return headcount."""
        r, at = self.rng.random, case.registered_at
        if repeat is not None:
            main = repeat[0]
        elif purpose == "accusation" and case.channel in ("letter", "online") and r() < 0.3:
            main = [None, "", f"匿名\t\t\t{IdType.NONE}\t\t\t\tt\tf\t{at}\t{NULL}"]
            people.append(main)
            case.no_notice_reason = NoNoticeReason.IDENTITY_UNCLEAR
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

    def _person(self, place: Place, registered_at: str, people: list[list], *,
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

    # --- The case row --------------------------------------------------------------

    def _texts(self, case: Case, leaf: int) -> tuple[str, str]:
        """The case's summary (opened to fit its channel) and demands."""
        summary, demands = self.fake.summary(self.world.leaves[leaf][1][2])
        return _opened(summary, case.channel), demands

    def _case_row(self, case: Case, status: str, place: Place, leaf: int, purpose: str,
                  walk: Walk, texts: tuple[str, str]) -> str:
        """Every column after id and number, as COPY text."""
        r, rng, world, ts = self.rng.random, self.rng, self.world, self.times.ts
        summary, demands = texts
        group = case.headcount > 1
        code = "".join(rng.choices(QUERY_CODE_ALPHABET, k=QUERY_CODE_LENGTH))
        postal = f"1{rng.randrange(10**12):012d}" if case.channel == "letter" else ""
        complained_unit, complained_person = NULL, ""
        if purpose == "accusation":
            complained_unit = place.township_id
            complained_person = f"{self.fake.person()['name']}（{rng.choice(COMPLAINED_ROLES)}）"
        tags = rng.sample(_CAUSE_TAGS, 1 + int(r() * 2)) if group or r() < 0.08 else []
        repeat = case.repeat_of
        urgency = ("critical" if r() < (0.1 if group else 0.01) else
                   "urgent" if r() < (0.25 if group or repeat else 0.06) else "normal")
        notes, lead, closed_t = walk.notes, walk.lead, walk.closed_t
        refusal = notes.get("refusal", ("", ""))
        place_id = place.unit_ids[0] if r() < 0.7 else rng.choice(place.unit_ids)
        updated_t = case.registered if walk.updated_t is None else walk.updated_t
        return (
            f"{NULL if repeat is None else repeat}\t{code}\t{case.channel}\t{postal}"
            f"\t{ts(case.received_t)}\t{case.registered_at}\t{case.headcount}"
            f"\t{'t' if group else 'f'}\t{purpose}\t{escape(summary)}\t{escape(demands)}"
            f"\t{complained_person}\t{{{','.join(tags)}}}\t{urgency}\t{status}"
            f"\t{notes.get('answer', '')}\t{refusal[1]}\t{refusal[0]}"
            f"\t{notes.get('return_reason', '')}\t{NULL if closed_t is None else ts(closed_t)}"
            f"\t{ts(updated_t)}\t{complained_unit}\t{NULL if lead is None else lead}"
            f"\t{NULL if walk.leader is None else walk.leader}\t{place_id}\t{world.clerk_id}"
            f"\t{world.office_id}\t{world.leaves[leaf][0]}\t\t{case.no_notice_reason}"
            f"\t{self._marks(case, group, refusal[0])}"
        )

    def _marks(self, case: Case, group: bool, refused_to: str) -> str:
        """The receiving officer and the marks offices report on (DECISIONS.md row F)."""
        r = self.rng.random
        first = case.repeat_of is None and r() < 0.85
        skipping = r() < 0.04
        litigation = refused_to == "court" or r() < 0.05
        threat = self.rng.choice(THREATS) if r() < (0.05 if group else 0.005) else ""
        public = case.channel == "online" and r() < 0.3
        flag = {True: "t", False: "f"}
        return (f"{self.world.clerk_id}\t{flag[first]}\t{flag[skipping]}\t{flag[litigation]}"
                f"\t{flag[bool(threat)]}\t{threat}\tf\t{flag[public]}")


def _opened(summary: str, channel: str) -> str:
    for opener in OPENERS.values():
        if summary.startswith(opener):
            return OPENERS[channel] + summary[len(opener):]
    return summary

