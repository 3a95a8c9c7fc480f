"""Which statutory clocks each step meets, cancels and starts: the one table (DOMAIN.md §2).

The services read it (``cases/services/transitions/``, registration, delivery)
and so does the demo seeder, so a case walked by either is left with the same
live clocks. Steps are the ``Case`` transitions by name, plus the three events
that move clocks without a status change: registration and the delivery (送达)
of a written reply or review decision. The readings behind each row are in
cases/DECISIONS.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from accounts.models import User

from ..choices import AFTER_CONCLUSION_CLOCKS
from ..choices import ClockKind as K
from ..deadlines.clocks import clock_cancel, clock_meet, clock_start
from ..models import Case, Deadline


class StepClocks(NamedTuple):
    meet: tuple[str, ...] = ()  # met in time, or lapsed when a window had run out
    cancel: tuple[str, ...] = ()
    start: tuple[str, ...] = ()


REGISTER = "register"
# Delivering a reply opens the review window; a review decision that upholds or
# changes opens the re-review window; any other decision (re-review, revocation) none.
DELIVER_REPLY, DELIVER_REVIEW, DELIVER_NO_WINDOW = (
    "deliver_reply", "deliver_review", "deliver_no_window")

STEP_CLOCKS: dict[str, StepClocks] = {
    # The petition office routes, answers or refuses within 15 days (R22 Art.22).
    REGISTER: StepClocks(start=(K.ROUTING,)),
    "answer_on_spot": StepClocks(meet=(K.ROUTING,)),
    "refuse": StepClocks(meet=(K.ROUTING,)),
    # The lead unit's acceptance notice counts from its receipt, i.e. the routing
    # (R22 Art.23 自收到信访事项之日起); its 5-working-day objection window opens.
    "route": StepClocks(meet=(K.ROUTING,), start=(K.ACCEPTANCE_NOTICE, K.OBJECTION)),
    "sign": StepClocks(meet=(K.OBJECTION,)),
    "request_return": StepClocks(meet=(K.OBJECTION,)),
    # An agreed return: the unit owes no notice; the office must route again.
    "agree_return": StepClocks(cancel=(K.ACCEPTANCE_NOTICE, K.OBJECTION), start=(K.ROUTING,)),
    # The ladder's return of an unsigned case: as an agreed return (DECISIONS.md E7).
    "return_unsigned": StepClocks(cancel=(K.ACCEPTANCE_NOTICE, K.OBJECTION), start=(K.ROUTING,)),
    "refuse_return": StepClocks(),
    "accept": StepClocks(meet=(K.ACCEPTANCE_NOTICE,), start=(K.REPLY,)),
    "start_handling": StepClocks(),
    # The request windows open on delivery, not on issue (自收到书面答复之日起).
    "reply": StepClocks(meet=(K.REPLY,)),
    DELIVER_REPLY: StepClocks(start=(K.REVIEW_REQUEST,)),
    "request_review": StepClocks(meet=(K.REVIEW_REQUEST,), start=(K.REVIEW_DECISION,)),
    "decide_review": StepClocks(meet=(K.REVIEW_DECISION,)),
    "revoke_on_review": StepClocks(meet=(K.REVIEW_DECISION,), start=(K.REPLY,)),
    DELIVER_REVIEW: StepClocks(start=(K.REREVIEW_REQUEST,)),
    "request_rereview": StepClocks(meet=(K.REREVIEW_REQUEST,), start=(K.REREVIEW_DECISION,)),
    "decide_rereview": StepClocks(meet=(K.REREVIEW_DECISION,)),
    "revoke_on_rereview": StepClocks(meet=(K.REREVIEW_DECISION,), start=(K.REPLY,)),
    DELIVER_NO_WINDOW: StepClocks(),
    # Closing ends every clock of the handling; a follow-up's run on after it.
    "close": StepClocks(cancel=tuple(k for k in K.values if k not in AFTER_CONCLUSION_CLOCKS)),
    "reopen": StepClocks(start=(K.REPLY,)),
}


def clock_applies(kind: str, *, no_notice_reason: str) -> bool:
    """Whether a clock of ``kind`` runs on a case at all: no acceptance notice is due
    where the petitioner's name or address is unclear (R22 Art.23 …不清的除外)."""
    return not (kind == K.ACCEPTANCE_NOTICE and no_notice_reason)


def move_clocks(*, case: Case, step_name: str, actor: User | None, at: datetime,
                start_at: datetime | None = None, reason: str = "") -> None:
    """Meet, cancel, then start the clocks ``STEP_CLOCKS`` names for the step.

    A clock that is not running is left alone; a clock that does not apply to the
    case (no notice where the name or address is unclear) is not started.
    """
    clocks = STEP_CLOCKS[step_name]
    live = set(Deadline.objects.filter(case=case).live().values_list("kind", flat=True))
    for kind in clocks.meet:
        if kind in live:
            clock_meet(case=case, kind=kind, actor=actor, at=at)
    for kind in clocks.cancel:
        if kind in live:
            clock_cancel(case=case, kind=kind, actor=actor, at=at, reason=reason or step_name)
    for kind in clocks.start:
        if clock_applies(kind, no_notice_reason=case.no_notice_reason):
            clock_start(case=case, kind=kind, start=start_at or at, actor=actor, at=at)
