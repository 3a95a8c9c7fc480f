"""Events' details as COPY text, in the shape the builders of ``cases/events.py`` give them.

A service never writes a ``details`` dict of its own, and neither does the seeder.
Each kind's JSON is made once, by calling its builder on stand-in rows whose
values are named holes, and then filled per event with the seeder's values: the
keys, their order and the keys left out stay the builder's, and an event costs a
string join instead of a model instance.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from cases import events
from cases.models import Case, CaseEvent, Decision, Leadership

from .rows import escape

_HOLE = re.compile(r'"@@(\w+)@@"')

# What each service passes to ``events.transition`` besides the step and the decision
# (cases/services/transitions/): the seeder fills the same keys with its own values.
TRANSITION_KEYS = {
    "refuse": ("reason", "channel"),
    "route": ("lead_unit", "co_units"),
    "request_return": ("reason",),
    "agree_return": ("previous_lead_unit", "reason"),
    "reopen": ("reason",),
}


class Hole(str):
    """A value filled in per event; it passes for a date too (``isoformat``)."""

    def __new__(cls, name: str) -> Hole:
        return super().__new__(cls, f"@@{name}@@")

    def isoformat(self) -> str:
        return str(self)


class Shape:
    """One event kind's details, as its builder shapes them, with named holes to fill."""

    __slots__ = ("literals", "names")

    def __init__(self, event: CaseEvent) -> None:
        parts = _HOLE.split(escape(json.dumps(event.details, ensure_ascii=False)))
        self.literals, self.names = parts[0::2], parts[1::2]

    def text(self, **values: Any) -> str:
        """The details with every hole filled, as COPY text."""
        return self._join(0, len(self.names), values)

    def around(self, hole: str, **values: Any) -> tuple[str, str]:
        """The details before and after ``hole`` (an id known only when the chunk is written)."""
        at = self.names.index(hole)
        return self._join(0, at, values), self._join(at + 1, len(self.names), values)

    def _join(self, first: int, stop: int, values: dict) -> str:
        """Literal ``first``, then each hole from ``first`` to ``stop`` and the literal after it."""
        literals, names = self.literals, self.names
        out = [literals[first]]
        for index in range(first, stop):
            out.append(_json(values[names[index]]))
            out.append(literals[index + 1])
        return "".join(out)


def _json(value: Any) -> str:
    """A JSON value as COPY text; plain strings and ints skip the encoder."""
    if value.__class__ is int:
        return str(value)
    if isinstance(value, str) and '"' not in value and "\\" not in value and value.isprintable():
        return f'"{value}"'
    return escape(json.dumps(value, ensure_ascii=False))


def _holes(*names: str) -> dict[str, Hole]:
    return {name: Hole(name) for name in names}


@cache
def registered() -> Shape:
    case = Case(number=Hole("number"), channel=Hole("channel"), headcount=Hole("headcount"),
                no_notice_reason=Hole("no_notice_reason"), repeat_of_id=Hole("repeat_of"))
    return Shape(events.registered(case=case, actor=None, at=None,
                                   petitioners=Hole("petitioners")))


@cache
def transition(step: str, *, decision: bool = False) -> Shape:
    """A TRANSITION event of ``step``; with a decision: its id, outcomes and deciding body."""
    row = None
    if decision:
        row = Decision(id=Hole("decision"), outcome=Hole("outcome"),
                       review_outcome=Hole("review_outcome"), body_name=Hole("deciding_body"))
    return Shape(events.transition(case=Case(), actor=None, at=None, step=step, previous="",
                                   decision=row, **_holes(*TRANSITION_KEYS.get(step, ()))))


@cache
def decision_delivered() -> Shape:
    row = Decision(id=Hole("decision"), kind=Hole("kind"), delivered_on=Hole("delivered_on"),
                   delivery_method=Hole("method"))
    return Shape(events.decision_delivered(case=Case(), actor=None, at=None, decision=row))


@cache
def leader_assigned() -> Shape:
    row = Leadership(id=Hole("leadership"), leader_id=Hole("leader"),
                     responsible_id=Hole("responsible"), deadline=Hole("deadline"))
    return Shape(events.leader_assigned(case=Case(), actor=None, at=None, leadership=row,
                                        previous=None))


@cache
def duty_done() -> Shape:
    return Shape(events.duty_done(case=Case(), actor=None, at=None,
                                  leadership=Leadership(id=Hole("leadership")),
                                  duty=Hole("duty")))
