"""包案 on hard cases and the written decisions of replied ones, as the services record them.

``cases.services.leadership.case_assign_leader`` puts a leader in charge with
measures, a deadline and a person responsible, and writes a LEADER_ASSIGNED
event; ``leadership_mark_duty`` marks each 包 duty done with a DUTY_DONE event.
``cases.services.transitions`` writes one ``Decision`` per reply, review and
re-review, naming the body that decided; ``decision_deliver`` records its delivery.
The rows here say the same, drawn in the generator thread; their ids come from
the writer (``rows.RowId``), their events' details from the builders (``details``).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from cases.choices import EventKind
from cases.models import Leadership

from . import details
from .rows import NULL, RowId, WithId, escape
from .states import ROUTED_OR_LATER, K, S
from .texts import (
    ARTICLES,
    DEFAULT_LAW,
    FACTS,
    MEASURES,
    OPENERS,
    REASONS,
    REQUESTS,
    REVIEW_FACTS,
    REVIEW_REASONS,
    REVIEW_STAGES,
    TOPIC_LAWS,
)
from .timeline import Walk
from .times import OfficeTimes
from .world import Place, World

INVESTIGATED_IN_HANDLING = 0.6  # cases still in handling whose leader has investigated
CONSOLIDATED_SHARE = 0.7  # closed cases the leader has since marked settled for good
DUTIES = tuple(Leadership.DUTIES)  # 包调查、包处理、包稳定、包稳固, in order
ASSIGNED, DUTY_DONE = EventKind.LEADER_ASSIGNED, EventKind.DUTY_DONE


class Handling:
    """Leaderships and decisions of one case at a time, as COPY text with ids to come."""

    def __init__(self, world: World, rng: random.Random, times: OfficeTimes) -> None:
        self.world, self.rng, self.times = world, rng, times
        self.reply_rule = world.rules[K.REPLY][:2]
        self.due_dates: dict[int, date] = {}
        self.wordings: dict[tuple, tuple[str, str, str, str]] = {}
        self.duty_json: dict[str, tuple[str, str]] = {}

    # --- 包案 -------------------------------------------------------------------------

    def lead(self, case, status: str, place: Place, leaf: int, walk: Walk,
             leaderships: list) -> None:
        """Put the place's leader, if any, in charge of a routed hard case (R22 Art.18)."""
        responsible_ids = self.world.responsible_ids
        if place.leader_id is None or status not in ROUTED_OR_LATER or not responsible_ids:
            return
        rng, ts, clerk = self.rng, self.times.ts, self.world.clerk_id
        assigned = self._after(walk.step_time("route"), self._next_step(walk, "route"))
        deadline = self._deadline(walk, assigned)
        # The unit head (first) or the handler carries the measures out.
        responsible = responsible_ids[0] if rng.random() < 0.4 else responsible_ids[-1]
        measures = rng.choice(MEASURES).format(topic=self.world.leaves[leaf][1][1])
        duties = self._duties(status, walk, assigned)
        row_id, leader, prefix = RowId(), place.leader_id, f"{case.case_id}\t"
        leaderships.append((row_id, (
            f"{prefix}{leader}\t{measures}\t{deadline}\t{responsible}\t{clerk}\t{ts(assigned)}\tt"
            + "".join(f"\t{NULL if t is None else ts(t)}" for t in duties) + "\n")))
        head, tail = details.leader_assigned().around(
            "leadership", leader=leader, responsible=responsible, deadline=deadline.isoformat())
        events = [(assigned, WithId(f"{prefix}{ASSIGNED}\t{ts(assigned)}\t\t\t{head}", row_id,
                                    f"{tail}\t{clerk}\n"))]
        for duty, t in zip(DUTIES, duties, strict=True):
            if t is not None:  # marked done by the leader
                head, tail = self._duty_json(duty)
                events.append((t, WithId(f"{prefix}{DUTY_DONE}\t{ts(t)}\t\t\t{head}", row_id,
                                         f"{tail}\t{leader}\n")))
        walk.merge_events(events)
        walk.leader, walk.assigned_t = leader, assigned

    def _duties(self, status: str, walk: Walk, assigned: int) -> tuple:
        """When each 包 duty was marked done, as far as the case has come (None: not yet)."""
        investigated = handled = stabilised = consolidated = None
        started = walk.step_time("start_handling") or walk.step_time("accept")
        replied = walk.step_time("reply")
        if replied is not None:
            investigated = self._after(max(started, assigned), replied)
            handled = self._after(replied, self._next_step(walk, "reply"))
        elif status == S.IN_HANDLING and self.rng.random() < INVESTIGATED_IN_HANDLING:
            investigated = self._after(max(started, assigned), self.times.now_t)
        if status in (S.CLOSED, S.FINAL):
            stabilised = self._after(walk.closed_t, self.times.now_t)
            if self.rng.random() < CONSOLIDATED_SHARE:
                consolidated = self._after(stabilised, self.times.now_t)
        return investigated, handled, stabilised, consolidated

    def _duty_json(self, duty: str) -> tuple[str, str]:
        """The DUTY_DONE details around the leadership's id (cached: one per duty)."""
        pieces = self.duty_json.get(duty)
        if pieces is None:
            pieces = self.duty_json[duty] = details.duty_done().around("leadership", duty=duty)
        return pieces

    def _deadline(self, walk: Walk, assigned: int) -> date:
        """A day in the reply window: from assignment to the reply clock's due date."""
        accepted = walk.step_time("accept")
        start_day = (assigned if accepted is None else accepted) // 1440
        due = self.due_dates.get(start_day)
        if due is None:
            length, unit = self.reply_rule
            due = self.due_dates[start_day] = self.world.calendar.due_date(
                self.times.dates[start_day], length, unit).due
        first = self.times.dates[assigned // 1440]
        room = max((due - first).days, 0)
        return first + timedelta(days=min(room, 7 + int(self.rng.random() * max(room - 7, 0))))

    def _after(self, start: int, end: int) -> int:
        """A minute soon after ``start``, in office hours if it fits before ``end``, not after now."""
        end = min(end, self.times.now_t)
        if end - start <= 1:
            return max(start, end)
        t = start + 1 + int((end - start - 1) * (0.1 + 0.5 * self.rng.random()))
        in_hours = self.times.office_time(start, t)
        return in_hours if in_hours <= end else t

    def _next_step(self, walk: Walk, name: str) -> int:
        """When the step after the last ``name`` was taken, or now if none came after."""
        last = len(walk.steps) - 1 - walk.steps[::-1].index(name)
        return walk.times[last + 1] if last + 1 < len(walk.times) else self.times.now_t

    # --- Written decisions ------------------------------------------------------------

    def decide(self, case, leaf: int, summary: str, demands: str, walk: Walk,
               decisions: list) -> None:
        """Word the decisions the case's steps issued, from its summary and category."""
        if not walk.issued:
            return
        opener = OPENERS[case.channel]
        reported = summary[len(opener):] if summary.startswith(opener) else summary
        reported = escape(reported[:reported.find("。") + 1] or reported)
        demands, path = escape(demands), self.world.leaves[leaf][1]
        for issued in walk.issued:
            key = (issued.kind, issued.outcome, issued.review_outcome, path)
            wording = self.wordings.get(key) or self.wordings.setdefault(key, _wording(*key))
            asked, facts, reasons, basis = wording
            if not issued.review_outcome:  # a written reply restates what was reported
                facts = f"信访人反映：{reported}{facts}"
            day = issued.delivered_day
            delivered = NULL if day is None else self.times.iso[day]
            decisions.append((issued.row_id, (
                f"{case.case_id}\t{issued.kind}\t{asked}{demands}\t{facts}\t{reasons}"
                f"\t{issued.outcome}\t{issued.review_outcome}\t{basis}\t{issued.by}"
                f"\t{self.times.ts(issued.t)}\t{NULL if issued.unit is None else issued.unit}"
                f"\t{issued.body_name}\t{delivered}\t{issued.method}\t{issued.recorded_by}\n")))


def _wording(kind: str, outcome: str, review_outcome: str,
             path: tuple[str, str, str]) -> tuple[str, str, str, str]:
    """(request before the demands, facts found, reasons, legal basis) of a decision."""
    law = TOPIC_LAWS.get(path[1], DEFAULT_LAW)
    basis = f"{law}；{ARTICLES[kind]}"
    if not review_outcome:  # the written reply
        return (REQUESTS[kind], FACTS[outcome].format(topic=path[1]),
                REASONS[outcome].format(law=law), basis)
    stage, earlier = REVIEW_STAGES[kind]
    return (REQUESTS[kind], REVIEW_FACTS[review_outcome].format(stage=stage, earlier=earlier),
            REVIEW_REASONS[review_outcome].format(earlier=earlier, law=law), basis)
