"""The supervision page (/cases/supervision/): orders to answer, orders overseen, and the
county's board of listed supervision (挂牌督办). Parse nothing, ask the selector, render."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.decorators import require_action
from accounts.permissions import Action

from ..selectors.supervision import supervision_page
from ..selectors.wording import display_formats


@require_action(Action.SUPERVISION_BOARD)
def supervision(request: HttpRequest) -> HttpResponse:
    day_format, moment_format = display_formats()
    return render(request, "cases/supervision.html", {
        "page": supervision_page(user=request.user), "day_format": day_format,
        "moment_format": moment_format})
