"""The notification centre: the list, mark one read, mark all read (htmx or plain POST).

Parse, select or call the service, render; the rules live in services and selectors.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .messages import message_render, moment_format
from .models import Notification
from .selectors import BADGE_CAP, notification_page, unread_count
from .services import notification_mark_read, notifications_mark_all_read


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first, fifty a page."""
    unread_only = request.GET.get("unread") == "1"
    page = notification_page(user=request.user, cursor=request.GET.get("after", ""),
                             unread_only=unread_only)
    return render(request, "notifications/list.html",
                  {"page": page, "unread_only": unread_only, "first_page": not request.GET.get("after"),
                   "moment_format": moment_format()})


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read; htmx gets the row back with the header's new count."""
    try:
        notification = notification_mark_read(user=request.user, notification_id=notification_id,
                                              at=timezone.now())
    except Notification.DoesNotExist:
        raise Http404 from None
    if request.headers.get("HX-Request"):
        notification.text = message_render(notification.message, notification.params)
        return render(request, "notifications/_read_response.html",
                      {"row": notification, "moment_format": moment_format(), **_badge(request)})
    return redirect("notifications:list")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    """Mark all the user's notifications read and show the list again."""
    notifications_mark_all_read(user=request.user, at=timezone.now())
    return redirect("notifications:list")


def _badge(request: HttpRequest) -> dict:
    return {"notifications_unread": unread_count(user=request.user),
            "notifications_badge_cap": BADGE_CAP}
