"""A case's life after registration: its steps, their times, its clocks and its events.

A step is a transition of ``Case`` or the delivery of a written decision; the
clocks each meets, cancels and starts are ``STEP_CLOCKS``' (through
``states.STEPS``), moved as ``move_clocks`` and ``_clock_close`` move them: a
window closed after its due time lapses, and a clock that does not apply to the
case (no acceptance notice for an anonymous petitioner) never starts.
"""

from __future__ import annotations

import random
from bisect import bisect, bisect_right
from itertools import accumulate
from operator import itemgetter

from cases.choices import ClockStatus, DiversionChannel, EventKind
from cases.deadlines.calendar import Unit
from cases.deadlines.clocks import OFFICE_TZ
from cases.services.step_clocks import StepClocks, clock_applies

from . import details
from .rows import NULL, RowId, WithId
from .states import (
    CHANGED,
    CHANGED_TO,
    CLOSED_STATES,
    DECISION_STEPS,
    DELIVERY_METHODS,
    HANDLING_UNTIL,
    OFFICE,
    REGISTRATION_CLOCKS,
    REPLY_OUTCOMES,
    REREVIEW,
    RETURNED,
    REVIEW,
    STEPS,
    UNDELIVERED_SHARE,
    UPHELD,
    UPHELD_SHARE,
    K,
    S,
    Step,
    delivery_step,
    handling_until,
)
from .texts import FINAL_REFUSAL, REFUSALS, REREVIEW_BODY, RETURN_REASONS, SPOT_ANSWERS
from .times import OfficeTimes
from .world import Place, World

MET, CANCELLED, LAPSED = ClockStatus.MET, ClockStatus.CANCELLED, ClockStatus.LAPSED


class Issued:
    """A written decision a step issued, and its delivery (送达) once recorded."""

    __slots__ = ("kind", "row_id", "t", "by", "outcome", "review_outcome", "unit", "body_name",
                 "delivered_day", "method", "recorded_by")

    def __init__(self, kind: str, t: int, by: str, outcome: str, review_outcome: str,
                 unit: int | None, body_name: str) -> None:
        self.kind, self.row_id, self.t, self.by = kind, RowId(), t, by
        self.outcome, self.review_outcome = outcome, review_outcome
        self.unit, self.body_name = unit, body_name
        self.delivered_day: int | None = None
        self.method, self.recorded_by = "", NULL


class Walk:
    """Where the steps left a case: its status, the texts and units they set, its events."""

    __slots__ = ("steps", "times", "status", "lead", "moved_t", "closed_t", "notes", "events",
                 "issued", "leader", "assigned_t")

    def __init__(self, steps: list[str], times: list[int]) -> None:
        self.steps, self.times = steps, times  # each step, and when it was taken
        self.status = S.REGISTERED
        self.lead: int | None = None  # the lead unit
        self.moved_t: int | None = None  # the last status change
        self.closed_t: int | None = None
        self.notes: dict = {}  # answer, refusal, return reason, last outcome
        self.events: list[str | WithId] = []  # one per step until others are merged in
        self.issued: list[Issued] = []
        self.leader: int | None = None  # set with a leadership (包案)
        self.assigned_t: int | None = None

    @property
    def updated_t(self) -> int | None:
        """When the case row last changed: its last status change, or a leader's assignment."""
        last, assigned = self.moved_t, self.assigned_t
        if assigned is not None and (last is None or assigned > last):
            return assigned
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
        self.dues: dict[tuple[int, int, str], tuple[str, str, str, int]] = {}
        self.json: dict[tuple, str] = {}
        self.decision_json: dict[tuple, tuple[str, str]] = {}
        self.refusal_cum = list(accumulate(w for _c, _r, w in REFUSALS))
        self.reply_cum = list(accumulate(w for _o, w in REPLY_OUTCOMES))
        self.method_cum = list(accumulate(w for _m, w in DELIVERY_METHODS))
        self.issuer = world.handler_id or world.supervisor_id  # the reply's issued_by
        self.county_name = world.unit_names[world.county_id]

    def walk(self, case, status: str, place: Place, leaf: int, deadlines: list[str], *,
             final_repeat: bool = False) -> Walk:
        """Take the steps towards ``status``: clocks (as COPY text) and one event per step.

        A repeat of a matter already final is refused at registration (R22 Art.36). A
        case cannot be closed before its request window ran out; one that would be
        stays in the state before (``walk.status`` says where it ended).
        """
        if final_repeat:
            steps, times = ["refuse"], [case.registered]
        else:
            steps = self._steps(status)
            times = self._step_times(case.registered, steps)
        walk = Walk(steps, times)
        if final_repeat:
            walk.notes["refusal"] = (DiversionChannel.FINAL, FINAL_REFUSAL)
        clocks: list[list] = []
        live: dict[str, list] = {}
        notice = case.no_notice_reason
        self._move_clocks(REGISTRATION_CLOCKS, case.registered, case.received_t // 1440, clocks,
                          live, notice)
        prefix = f"{case.case_id}\t"
        for index, name in enumerate(steps):
            step, t = STEPS[name], times[index]
            if step.after_window:
                t = self._after_windows(t, live)
                if t is None:  # the petitioner may still ask: it cannot be closed yet
                    del steps[index:], times[index:]
                    break
                times[index] = t
            if step.target is None:
                walk.events.append(self._deliver(step, t, walk, clocks, live, notice, prefix))
                continue
            self._move_clocks(step.clocks, t, t // 1440, clocks, live, notice)
            walk.events.append(self._transition(step, t, walk, place, leaf, prefix))
        self._pauses(walk.status, clocks, live)
        deadlines += [f"{prefix}{self._clock_row(clock)}\n" for clock in clocks]
        return walk

    def _transition(self, step: Step, t: int, walk: Walk, place: Place, leaf: int,
                    prefix: str) -> str | WithId:
        """Take a status change: its fields, its decision if it issues one, its event."""
        name = step.name
        if name in DECISION_STEPS:
            details_text = self._issue(step, t, walk)
        else:
            walk.lead, details_text = self._step_fields(name, walk.lead, place, leaf, walk.notes)
        if step.target in CLOSED_STATES:
            walk.closed_t = t
        head = f"{prefix}{EventKind.TRANSITION}\t{self.times.ts(t)}\t{walk.status}\t{step.target}\t"
        walk.status, walk.moved_t = step.target, t
        tail = f"\t{self._actor(step.who, walk.lead)}\n"
        if details_text.__class__ is str:
            return head + details_text + tail
        return WithId(head + details_text[0], details_text[1], details_text[2] + tail)

    def _move_clocks(self, clocks: StepClocks, t: int, start_day: int, rows: list[list],
                     live: dict, notice: str) -> None:
        """Meet, cancel, then start the clocks, as ``move_clocks`` does; a window closed
        after its due time lapses, as in ``_clock_close``."""
        for kinds, status in ((clocks.meet, MET), (clocks.cancel, CANCELLED)):
            for kind in kinds:
                clock = live.pop(kind, None)
                if clock is not None:
                    clock[2] = LAPSED if clock[6] and t > self._due_t(clock) else status
                    clock[3] = t
        for kind in clocks.start:
            if clock_applies(kind, no_notice_reason=notice):
                live[kind] = clock = self._clock(kind, start_day)
                rows.append(clock)

    def _after_windows(self, t: int, live: dict) -> int | None:
        """``t``, or the first office time after the live windows ran out; None if not yet."""
        ends = [self._due_t(clock) for clock in live.values() if clock[6]]
        if not ends or t > max(ends):
            return t
        end = max(ends)
        t = self.times.office_time(end, end + 60 + self.rng.random() * 2880)
        return t if t > end else None

    def _deliver(self, step: Step, t: int, walk: Walk, clocks: list[list], live: dict,
                 notice: str, prefix: str) -> WithId:
        """Record the delivery of the last decision; its window starts on the day received."""
        issued = walk.issued[-1]
        assert delivery_step(issued.kind, issued.review_outcome) == step.name, step.name
        r = self.rng.random
        day = max(issued.t // 1440, t // 1440 - int(r() * 3))  # received, then recorded
        issued.delivered_day = day
        issued.method = DELIVERY_METHODS[bisect(self.method_cum, r() * self.method_cum[-1])][0]
        issued.recorded_by = actor = self._actor(step.who, walk.lead)
        self._move_clocks(step.clocks, t, day, clocks, live, notice)
        head, tail = details.decision_delivered().around(
            "decision", kind=issued.kind, delivered_on=self.times.iso[day], method=issued.method)
        return WithId(f"{prefix}{EventKind.DECISION_DELIVERED}\t{self.times.ts(t)}\t\t\t{head}",
                      issued.row_id, f"{tail}\t{actor}\n")

    def _steps(self, status: str) -> list[str]:
        """The steps that take a new case to ``status``, with the occasional return or shortcut."""
        r = self.rng.random
        if status == S.ANSWERED:
            return ["answer_on_spot"]
        if status == S.NOT_ACCEPTED:
            return ["refuse"]
        if status == S.REGISTERED:
            return list(RETURNED) if r() < 0.08 else []
        if status == S.ROUTED:
            return [*RETURNED, "route"] if r() < 0.05 else ["route"]
        if status == S.RETURN_REQUESTED:
            return ["route", "request_return"]
        draw = r()
        prefix = (["route", "sign"] if draw < 0.92 else
                  ["route", "request_return", "refuse_return"] if draw < 0.97 else
                  [*RETURNED, "route", "sign"])
        if status == S.SIGNED:
            return prefix
        if status == S.CLOSED:  # after the reply, or after the review decision, delivered
            handling = [*handling_until(S.REVIEWED if r() < 0.12 else S.REPLIED), "close"]
        else:
            handling = list(HANDLING_UNTIL[status])
            if STEPS[handling[-1]].target is None and r() < UNDELIVERED_SHARE:
                handling.pop()  # the decision is not delivered yet
        if len(handling) > 2 and r() < 0.15:  # replied straight from accepted
            del handling[1]
        return prefix + handling

    def _step_times(self, registered_t: int, steps: list[str]) -> list[int]:
        """Draw each step's delay; squeeze them into the time between registration and now.

        A step that waits for a request window (closing) waits its full length; only
        the other delays are squeezed.
        """
        r = self.rng.random
        delays, waits = [], []
        for index, name in enumerate(steps):
            step = STEPS[name]
            low, high = step.late_days if step.late and r() < step.late else step.days
            delays.append((low + (high - low) * r()) * 1440)
            waits.append(self._window_minutes(steps[index - 1])
                         if step.after_window and index else 0)
        total, room = sum(delays), self.times.now_t - registered_t - sum(waits)
        if total > room * 0.98:
            scale = max(room, 0) * (0.35 + 0.6 * r()) / total
            delays = [delay * scale for delay in delays]
        times, t, exact = [], registered_t, float(registered_t)
        for delay, wait in zip(delays, waits, strict=True):
            exact += delay + wait
            t = self.times.office_time(t, exact)
            times.append(t)
        return times

    def _window_minutes(self, name: str) -> int:
        """About how long the windows the step opens run, in minutes."""
        longest = 0
        for kind in STEPS[name].clocks.start:
            length, unit, is_window = self.world.rules[kind]
            if is_window:
                longest = max(longest, length if unit == Unit.CALENDAR else length * 7 // 5 + 2)
        return longest * 1440

    def _step_fields(self, step: str, lead, place: Place, leaf: int, notes: dict):
        """Apply a step to the lead unit and the case's texts; return (lead, event details)."""
        r = self.rng.random
        if step == "route":
            lead = self._lead(place, leaf, notes.pop("returned_by", None))
            notes.pop("return_reason", None)
            return lead, self._details(step, lead_unit=self.world.unit_codes[lead], co_units=())
        if step == "request_return":
            notes["return_reason"] = self.rng.choice(RETURN_REASONS)
            return lead, self._details(step, reason=notes["return_reason"])
        if step == "agree_return":
            notes["returned_by"] = lead
            return None, self._details(step, previous_lead_unit=self.world.unit_codes[lead],
                                       reason=notes["return_reason"])
        if step == "refuse":
            if "refusal" not in notes:
                notes["refusal"] = REFUSALS[bisect(self.refusal_cum,
                                                   r() * self.refusal_cum[-1])][:2]
            channel, reason = notes["refusal"]
            return lead, self._details(step, reason=reason, channel=channel)
        if step == "answer_on_spot":
            notes["answer"] = self.rng.choice(SPOT_ANSWERS)
        return lead, self._details(step)

    def _details(self, step: str, **values) -> str:
        """The TRANSITION event's details, shaped by ``events.transition`` (cached: few differ)."""
        key = (step, *values.values())
        text = self.json.get(key)
        if text is None:
            text = self.json[key] = details.transition(step).text(**values)
        return text

    def _issue(self, step: Step, t: int, walk: Walk) -> tuple[str, RowId, str]:
        """Issue the step's written decision; return its event details around the decision id.

        A reply is decided by the lead unit; a review by the level above it, the county;
        a re-review by the level above the county, outside this installation.
        """
        r, name = self.rng.random, step.name
        unit, body_name = None, ""
        if name == "reply":
            outcome = REPLY_OUTCOMES[bisect(self.reply_cum, r() * self.reply_cum[-1])][0]
            review_outcome, by, unit = "", str(self.issuer), walk.lead
            body = self.world.unit_names[unit]
        else:  # the review office upholds the earlier decision, or changes it
            earlier = walk.notes["outcome"]
            upheld = r() < UPHELD_SHARE[name]
            outcome = earlier if upheld else CHANGED_TO[earlier]
            review_outcome = UPHELD if upheld else CHANGED
            by = self._actor(step.who, walk.lead)
            if name == "decide_review":
                unit, body = self.world.county_id, self.county_name
            else:
                body = body_name = REREVIEW_BODY
        walk.notes["outcome"] = outcome
        issued = Issued(DECISION_STEPS[name], t, by, outcome, review_outcome, unit, body_name)
        walk.issued.append(issued)
        key = (name, outcome, review_outcome, body)
        pieces = self.decision_json.get(key)
        if pieces is None:
            pieces = self.decision_json[key] = details.transition(name, decision=True).around(
                "decision", outcome=outcome, review_outcome=review_outcome, deciding_body=body)
        return pieces[0], issued.row_id, pieces[1]

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
        if who == REREVIEW:
            return str(world.rereviewer_id)
        return str(world.handler_id) if lead == world.handler_unit_id and lead else NULL

    def _clock(self, kind: str, start_day: int) -> list:
        # [kind, start day, status, closed at, paused days, paused on (day), window]
        return [kind, start_day, ClockStatus.OPEN, None, 0, None, self.world.rules[kind][2]]

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
        kind, start_day, status, closed_t, paused_days, paused_day, is_window = clock
        length, unit, _window = self.world.rules[kind]
        due = self.due(start_day, length + paused_days, unit)
        paused_on = NULL if paused_day is None else self.times.iso[paused_day]
        closed = NULL if closed_t is None else self.times.ts(closed_t)
        return (f"{kind}\t{status}\t{self.times.iso[start_day]}\t{length}\t{unit}\t0\t{paused_days}"
                f"\t{paused_on}\t{due[0]}\t{due[1]}\t{due[2]}\t{closed}"
                f"\t{'t' if is_window else 'f'}")

    def _due_t(self, clock: list) -> int:
        """The minute a clock runs out: 24:00 of its due day."""
        length, unit, _window = self.world.rules[clock[0]]
        return self.due(clock[1], length + clock[4], unit)[3]

    def due(self, start_day: int, length: int, unit: str) -> tuple[str, str, str, int]:
        """(due date, end of it, provisional) of a clock as COPY text, and its end in minutes."""
        key = (start_day, length, unit)
        due = self.dues.get(key)
        if due is None:
            found = self.world.calendar.due_date(self.times.dates[start_day], length, unit)
            end_t = ((found.due - self.times.base).days + 1) * 1440
            due = self.dues[key] = (found.due.isoformat(), found.ends_at(OFFICE_TZ).isoformat(),
                                    "t" if found.provisional else "f", end_t)
        return due
