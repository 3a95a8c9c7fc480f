"""Reads, ready for the page; every list of cases starts from ``Case.objects.visible_to(user)``.

``windows``: a case's clocks and windows and the steps a user may take now;
``lists``: the case list; ``case_page``: one case and what its page shows.
"""

from .case_page import case_get
from .lists import case_list
from .windows import (
    REQUEST_WINDOW_BEFORE_CLOSE,
    case_available_transitions,
    close_window_deadline,
    live_deadline,
    objection_deadline,
    objection_window_open,
    request_window_lapsed,
    rereview_window_open,
    review_window_open,
    undelivered_decision,
)

__all__ = [
    "REQUEST_WINDOW_BEFORE_CLOSE", "case_available_transitions", "case_get", "case_list",
    "close_window_deadline", "live_deadline", "objection_deadline", "objection_window_open",
    "request_window_lapsed", "rereview_window_open", "review_window_open", "undelivered_decision",
]
