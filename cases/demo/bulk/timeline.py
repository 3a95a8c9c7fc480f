"""A case's life after registration: its steps, their times, its clocks and TRANSITION events."""

from __future__ import annotations

import json
import random
from bisect import bisect, bisect_right
from itertools import accumulate
from operator import itemgetter
from typing import Any, NamedTuple

from cases.choices import ClockStatus, EventKind
from cases.deadlines.clocks import OFFICE_TZ

from .rows import NULL, RowId, WithId
from .states import (
    CHANGED,
    CHANGED_TO,
    CLOSED_STATES,
    DECISION_STEPS,
    HANDLING,
    HANDLING_END,
    OFFICE,
    REPLY_OUTCOMES,
    RETURNED,
    REVIEW,
    STEPS,
    UPHELD,
    UPHELD_SHARE,
    K,
    S,
)
from .texts import REFUSALS, RETURN_REASONS, SPOT_ANSWERS
from .times import OfficeTimes
from .world import Place, World


class Issued(NamedTuple):
    """A written decision a step issued; its texts are written with the case's summary."""

    kind: str
    row_id: RowId
    t: int
    by: int
    outcome: str
    review_outcome: str


class Walk:
    """Where the steps left a case: the texts and units they set, and its events as COPY text."""

    __slots__ = ("steps", "times", "lead", "closed_t", "notes", "events", "issued", "leader",
                 "assigned_t")

    def __init__(self, steps: tuple[str, ...], times: list[int]) -> None:
        self.steps, self.times = steps, times  # each step, and when it was taken
        self.lead: int | None = None  # the lead unit
        self.closed_t: int | None = None
        self.notes: dict = {}  # answer, refusal, return reason, last outcome
        self.events: list[str | WithId] = []  # one per step until others are merged in
        self.issued: list[Issued] = []
        self.leader: int | None = None  # set with a leadership (包案)
        self.assigned_t: int | None = None

    @property
    def updated_t(self) -> int | None:
        """When the case row last changed: its last step, or a leader's assignment after it."""
        last = self.times[-1] if self.times else None
        if self.assigned_t is not None and (last is None or self.assigned_t > last):
            return self.assigned_t
        return last

    def step_time(self, name: str) -> int | None:
        """When the step was last taken, if it was."""
        for step, t in zip(reversed(self.steps), reversed(self.times), strict=True):
            if step == name:
                return t
        return None

    def merge_events(self, timed: list[tuple[int, str | WithId]]) -> None:
        """Put (minute, event) among the steps' events by time; a step goes first in its minute."""
        merged, done = [], 0
        for t, event in sorted(timed, key=itemgetter(0)):
            until = bisect_right(self.times, t)
            merged += self.events[done:until]
            merged.append(event)
            done = until
        self.events = merged + self.events[done:]


class Timeline:
    """Walk a case to its status as the services would, one step at a time."""

    def __init__(self, world: World, rng: random.Random, times: OfficeTimes) -> None:
        self.world, self.rng, self.times = world, rng, times
        self.dues: dict[tuple[int, int, str], tuple[str, str, str]] = {}
        self.json: dict[tuple, str] = {}
        self.decision_json: dict[tuple, tuple[str, str]] = {}
        self.refusal_cum = list(accumulate(w for _c, _r, w in REFUSALS))
        self.reply_cum = list(accumulate(w for _o, w in REPLY_OUTCOMES))
        self.issuer = world.handler_id or world.supervisor_id  # the reply's issued_by

    def walk(self, case, status: str, place: Place, leaf: int, deadlines: list[str]) -> Walk:
        """Take the steps to ``status``: clocks (as COPY text) and one event per step."""
        steps = self._steps(status)
        times = self._step_times(case.registered, steps)
        received_day = case.received_t // 1440
        clocks = [self._clock(K.ROUTING, received_day),
                  self._clock(K.ACCEPTANCE_NOTICE, received_day)]
        live = {clock[0]: clock for clock in clocks}
        walk = Walk(steps, times)
        current, prefix = S.REGISTERED, f"{case.case_id}\t"
        for name, t in zip(steps, times, strict=True):
            step = STEPS[name]
            self._move_clocks(step, t, clocks, live)
            if name in DECISION_STEPS:
                details = self._issue(name, t, walk)
            else:
                walk.lead, details = self._step_fields(name, walk.lead, place, leaf, walk.notes)
            walk.closed_t = t if step.target in CLOSED_STATES else walk.closed_t
            head = f"{prefix}{EventKind.TRANSITION}\t{self.times.ts(t)}\t{current}\t{step.target}\t"
            tail = f"\t{self._actor(step.who, walk.lead)}\n"
            if details.__class__ is str:
                walk.events.append(head + details + tail)
            else:  # a decision's: its id is known when the chunk is written
                walk.events.append(WithId(head + details[0], details[1], details[2] + tail))
            current = step.target
        assert current == status, (steps, status)
        self._pauses(status, clocks, live)
        deadlines += [f"{prefix}{self._clock_row(clock)}\n" for clock in clocks]
        return walk

    def _move_clocks(self, step, t: int, clocks: list[list], live: dict) -> None:
        """Meet, cancel, then start the step's clocks, as ``transitions._clocks`` does."""
        for kinds, outcome in ((step.meet, ClockStatus.MET), (step.cancel, ClockStatus.CANCELLED)):
            for kind in kinds:
                clock = live.pop(kind, None)
                if clock is not None:
                    clock[2], clock[3] = outcome, t
        for kind in step.start:
            live[kind] = self._clock(kind, t // 1440)
            clocks.append(live[kind])

    def _steps(self, status: str) -> tuple[str, ...]:
        """The steps that take a new case to ``status``, with the occasional return or shortcut."""
        r = self.rng.random
        if status == S.ANSWERED:
            return ("answer_on_spot",)
        if status == S.NOT_ACCEPTED:
            return ("refuse",)
        if status == S.REGISTERED:
            return RETURNED if r() < 0.08 else ()
        if status == S.ROUTED:
            return (*RETURNED, "route") if r() < 0.05 else ("route",)
        if status == S.RETURN_REQUESTED:
            return ("route", "request_return")
        draw = r()
        prefix = (("route", "sign") if draw < 0.92 else
                  ("route", "request_return", "refuse_return") if draw < 0.97 else
                  (*RETURNED, "route", "sign"))
        if status == S.SIGNED:
            return prefix
        if status == S.CLOSED:  # after the reply, or after the review decision
            handling = (*HANDLING[:5 if r() < 0.12 else 3], "close")
        else:
            handling = HANDLING[:HANDLING_END[status]]
        if len(handling) > 2 and r() < 0.15:  # replied straight from accepted
            handling = handling[:1] + handling[2:]
        return prefix + handling

    def _step_times(self, registered_t: int, steps: tuple[str, ...]) -> list[int]:
        """Draw each step's delay; squeeze them into the time between registration and now."""
        r = self.rng.random
        delays = []
        for name in steps:
            step = STEPS[name]
            low, high = step.late_days if step.late and r() < step.late else step.days
            delays.append((low + (high - low) * r()) * 1440)
        total, room = sum(delays), self.times.now_t - registered_t
        if total > room * 0.98:
            scale = room * (0.35 + 0.6 * r()) / total
            delays = [delay * scale for delay in delays]
        times, t, exact = [], registered_t, float(registered_t)
        for delay in delays:
            exact += delay
            t = self.times.office_time(t, exact)
            times.append(t)
        return times

    def _step_fields(self, step: str, lead, place: Place, leaf: int, notes: dict):
        """Apply a step to the lead unit and the case's texts; return (lead, event details)."""
        r = self.rng.random
        if step == "route":
            lead = self._lead(place, leaf, notes.pop("returned_by", None))
            notes.pop("return_reason", None)
            return lead, self._details(step, lead)
        if step == "request_return":
            notes["return_reason"] = self.rng.choice(RETURN_REASONS)
            return lead, self._details(step, notes["return_reason"])
        if step == "agree_return":
            notes["returned_by"] = lead
            return None, self._details(step, lead)
        if step == "refuse":
            notes["refusal"] = REFUSALS[bisect(self.refusal_cum, r() * self.refusal_cum[-1])]
            return lead, self._details(step, notes["refusal"][0])
        if step == "answer_on_spot":
            notes["answer"] = self.rng.choice(SPOT_ANSWERS)
        return lead, self._details(step, None)

    def _issue(self, step: str, t: int, walk: Walk) -> tuple[str, RowId, str]:
        """Issue the step's written decision; return its event details around the decision id."""
        r = self.rng.random
        if step == "reply":
            outcome = REPLY_OUTCOMES[bisect(self.reply_cum, r() * self.reply_cum[-1])][0]
            review_outcome, by = "", self.issuer
        else:  # the review office upholds the earlier decision, or changes it
            earlier = walk.notes["outcome"]
            upheld = r() < UPHELD_SHARE[step]
            outcome = earlier if upheld else CHANGED_TO[earlier]
            review_outcome, by = (UPHELD if upheld else CHANGED), self.world.supervisor_id
        walk.notes["outcome"] = outcome
        row_id = RowId()
        walk.issued.append(Issued(DECISION_STEPS[step], row_id, t, by, outcome, review_outcome))
        head, tail = self._decision_details(step, outcome, review_outcome)
        return head, row_id, tail

    def _decision_details(self, step: str, outcome: str, review_outcome: str) -> tuple[str, str]:
        """The JSON around the decision id, keys in the services' order (cached)."""
        key = (step, outcome, review_outcome)
        pieces = self.decision_json.get(key)
        if pieces is None:
            details: dict[str, Any] = {"step": step, "decision": 0, "outcome": outcome}
            if review_outcome:
                details["review_outcome"] = review_outcome
            head, tail = json.dumps(details, ensure_ascii=False).split('"decision": 0', 1)
            pieces = self.decision_json[key] = (head + '"decision": ', tail)
        return pieces

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
            text = self.json[key] = json.dumps(details, ensure_ascii=False)
        return text

    def _lead(self, place: Place, leaf: int, returned_by: int | None) -> int:
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
        return str(world.handler_id) if lead == world.handler_unit_id and lead else NULL

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
            today = self.times.now_t // 1440
            reply[2], reply[5] = ClockStatus.PAUSED, reply[1] + int(r() * (today - reply[1] + 1))

    def _clock_row(self, clock: list) -> str:
        kind, start_day, status, closed_t, paused_days, paused_day = clock
        length, unit = self.world.rules[kind]
        due = self.due(start_day, length + paused_days, unit)
        paused_on = NULL if paused_day is None else self.times.iso[paused_day]
        closed = NULL if closed_t is None else self.times.ts(closed_t)
        return (f"{kind}\t{status}\t{self.times.iso[start_day]}\t{length}\t{unit}\t0\t{paused_days}"
                f"\t{paused_on}\t{due[0]}\t{due[1]}\t{due[2]}\t{closed}")

    def due(self, start_day: int, length: int, unit: str) -> tuple[str, str, str]:
        """(due date, end of it as a timestamp, provisional) of a clock, as COPY text; cached."""
        key = (start_day, length, unit)
        due = self.dues.get(key)
        if due is None:
            found = self.world.calendar.due_date(self.times.dates[start_day], length, unit)
            due = self.dues[key] = (found.due.isoformat(), found.ends_at(OFFICE_TZ).isoformat(),
                                    "t" if found.provisional else "f")
        return due
