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
    # A follow-up (回头看): the petition office that assigns it is warned two working days
    # before its day and told with the supervisors when it falls due; the leader hears of
    # it five working days late. A follow-up opens no supervision order (the case is
    # concluded; the supervisor sees it on the overdue audit).
    Rung("follow_up", 1, -2, ("office",)),
    Rung("follow_up", 2, 0, ("office", "supervisor")),
    Rung("follow_up", 3, 5, ("supervisor", "leader")),
    # The leader's decision on a dissatisfied follow-up: the leader (or, on a case without
    # one, the petition office's heads) is reminded the day before, then the supervisors,
    # then the county's principal leaders.
    Rung("follow_up_decision", 1, -1, ("leader", "office")),
    Rung("follow_up_decision", 2, 0, ("leader", "office", "supervisor")),
    Rung("follow_up_decision", 3, 5, ("principal", "supervisor")),
    # The grid and mediation (mediation/DECISIONS.md M-clocks; who each audience is for a
    # report or a mediation is there too). The centre takes a report up within a working
    # day: told at the due time, the township's leaders a day late, the supervisors after 3.
    Rung("report_ack", 1, 0, ("unit",)),
    Rung("report_ack", 2, 1, ("unit", "leader")),
    Rung("report_ack", 3, 3, ("supervisor", "leader")),
    *_ladder("report_settle", ("unit",))[:2],
    Rung("report_settle", 3, 5, ("supervisor", "leader")),
    Rung("report_settle", 4, 10, ("principal", "supervisor")),
    *_ladder("mediation", ("unit",))[:2],
    Rung("mediation", 3, 5, ("supervisor", "leader")),
    # A term falls due: the mediators follow it up (回访); late, the township's leaders.
    Rung("performance", 1, 0, ("unit",)),
    Rung("performance", 2, 5, ("unit", "leader")),
)


def ladder_seed(step_model) -> None:
    """Add the missing rungs. Takes the model so a migration can pass its own."""
    for rung in DEFAULT_LADDER:
        step_model.objects.get_or_create(
            clock_kind=rung.clock_kind, level=rung.level,
            defaults={"offset": rung.offset, "audiences": list(rung.audiences),
                      "action": rung.action})
