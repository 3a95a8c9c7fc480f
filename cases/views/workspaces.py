"""The handling unit's inbox (/cases/unit/) and the leader's cases (/cases/mine/), issue 7.

Parse nothing (both pages are the user's own lists), ask the selector, render.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.decorators import require_action
from accounts.permissions import Action

from ..selectors.wording import display_formats
from ..selectors.workspaces import leader_cases, unit_inbox


def _formats() -> dict[str, str]:
    day_format, moment_format = display_formats()
    return {"day_format": day_format, "moment_format": moment_format}


@require_action(Action.CASE_LIST_UNIT)
def unit_cases(request: HttpRequest) -> HttpResponse:
    """The unit's open cases grouped by what they need next, overdue first."""
    inbox = unit_inbox(user=request.user)
    return render(request, "cases/unit_inbox.html", {"inbox": inbox, **_formats()})


@require_action(Action.CASE_LIST_LED)
def my_cases(request: HttpRequest) -> HttpResponse:
    """The cases the user leads, with their next deadline and 四定四包 items, overdue first."""
    led = leader_cases(user=request.user)
    return render(request, "cases/my_cases.html", {"led": led, **_formats()})
