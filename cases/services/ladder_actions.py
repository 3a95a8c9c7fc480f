"""What a level of the escalation ladder does besides telling people (``LadderStep.action``).

The sweep (``escalation.py``) calls :func:`ladder_act` at the end of each batch, in the
batch's transaction, with the levels it fired:

* ``supervise`` opens a supervision order on the case, addressed to the unit that owes
  the clock, unless one is open (DECISIONS.md E6), in bulk: a fixed number of statements;
* ``return`` sends a routed case its unit has not signed for back to the petition office
  (E7), through the state machine, case by case; the default ladder has no such level.

It runs after the sweep has written each clock's next level, because a return cancels the
clock that fired and its cancellation must be what stays.
"""

from __future__ import annotations

from datetime import datetime

from ..choices import ClockKind
from ..models import LadderAction
from .supervision import LadderOpening, supervision_open_by_ladder
from .transitions.desk import cases_return_unsigned


def ladder_act(fired: list, *, cases: dict, escalations: dict[tuple[int, int], int],
               now: datetime) -> None:
    """Act on the levels fired in a batch (each with ``.clock`` and ``.step``); ``cases``:
    the batch's case rows by id (number, lead and registering units); ``escalations``: the
    ids of the escalation rows written, by (clock, level)."""
    supervise = {}
    for firing in fired:  # one order per case, whichever of its clocks reached the level
        if (firing.step.action == LadderAction.SUPERVISE
                and firing.clock.kind != ClockKind.SUPERVISION):
            supervise.setdefault(firing.clock.case_id, firing)
    if supervise:
        supervision_open_by_ladder([
            LadderOpening(case_id=case_id, number=cases[case_id].number,
                          unit_id=cases[case_id].lead_unit_id or cases[case_id].registered_unit_id,
                          escalation_id=escalations[(firing.clock.pk, firing.step.level)])
            for case_id, firing in supervise.items()], now=now)
    returns = sorted({firing.clock.case_id for firing in fired
                      if firing.step.action == LadderAction.RETURN_TO_OFFICE})
    if returns:
        cases_return_unsigned(case_ids=returns, at=now)
