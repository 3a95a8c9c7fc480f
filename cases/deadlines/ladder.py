"""The escalation ladder as first installed (cases/DECISIONS.md, "The escalation ladder").

Offices edit the rows in the admin afterwards; this table seeds them (a migration, and
the tests after a transactional test truncated the table). Each duty clock warns the
ones who owe it three working days before its due day, tells the responsible leader when
it falls due, opens a supervision order three working days later and reaches the county's
principal leaders after ten. Windows (objection, review and re-review requests) are
rights, not duties, and have no ladder.
"""

from typing import NamedTuple


class Rung(NamedTuple):
    clock_kind: str
    level: int
    offset: int  # working days from the due time; negative: before it
    audiences: tuple[str, ...]
    action: str = "notify"


def _ladder(kind: str, owes: tuple[str, ...]) -> tuple[Rung, ...]:
    return (
        Rung(kind, 1, -3, owes),
        Rung(kind, 2, 0, (*owes, "leader")),
        Rung(kind, 3, 3, ("supervisor", "leader"), "supervise"),
        Rung(kind, 4, 10, ("principal", "supervisor")),
    )


DEFAULT_LADDER = (
    # The petition office owes the routing; the lead unit the rest.
    *_ladder("routing", ("office",)),
    *_ladder("acceptance_notice", ("unit",)),
    *_ladder("reply", ("unit",)),
    # Review and re-review decisions are recorded by the petition office for the level above.
    *_ladder("review_decision", ("office",)),
    *_ladder("rereview_decision", ("office",)),
    # A supervision order's answer: the unit is warned, the supervisor told at the due
    # time, the leader after three working days, the principal leaders after ten. No
    # level opens a supervision order on a supervision order.
    Rung("supervision", 1, -3, ("unit",)),
    Rung("supervision", 2, 0, ("unit", "supervisor")),
    Rung("supervision", 3, 3, ("supervisor", "leader")),
    Rung("supervision", 4, 10, ("principal", "supervisor")),
)


def ladder_seed(step_model) -> None:
    """Add the missing rungs. Takes the model so a migration can pass its own."""
    for rung in DEFAULT_LADDER:
        step_model.objects.get_or_create(
            clock_kind=rung.clock_kind, level=rung.level,
            defaults={"offset": rung.offset, "audiences": list(rung.audiences),
                      "action": rung.action})
