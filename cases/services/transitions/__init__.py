"""One service per step of the case's state machine (R22 Art.21-36).

Each service asks the permission module once (``base.authorize``), runs the
transition, saves, writes one TRANSITION event and moves the clocks that
``STEP_CLOCKS`` names, all in one transaction: a refusal or a concurrent change
leaves nothing half-saved. By who acts: ``desk`` (the petition office), ``unit``
(the lead unit), ``review`` (the level above), ``closing``.
"""

from ...choices import STEP_LABELS
from ..decisions import DecisionInput
from .closing import case_close, case_reopen
from .desk import (
    case_agree_return,
    case_answer_on_spot,
    case_refuse,
    case_refuse_return,
    case_route,
    route_units_check,
)
from .review import (
    case_decide_rereview,
    case_decide_review,
    case_request_rereview,
    case_request_review,
)
from .unit import case_accept, case_reply, case_request_return, case_sign, case_start_handling

__all__ = [
    "STEP_LABELS", "DecisionInput", "case_accept", "case_agree_return", "case_answer_on_spot",
    "case_close", "case_decide_review", "case_decide_rereview", "case_refuse",
    "case_refuse_return", "case_reopen", "case_reply", "case_request_return",
    "case_request_review", "case_request_rereview", "case_route", "case_sign",
    "case_start_handling", "route_units_check",
]
