"""Pages still to be built: they say what they will do (the overdue audit comes with issue 8)."""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.decorators import require_action
from accounts.permissions import Action


def _placeholder(request, title, intro, upcoming):
    context = {"page_title": title, "page_intro": intro, "upcoming": upcoming}
    return render(request, "placeholder.html", context)


@require_action(Action.OVERDUE_AUDIT)
def overdue(request):
    return _placeholder(request, _("Overdue audit"), _("Every overdue item in your jurisdiction."), [
        _("Overdue and soon-due items, and who each is escalated to."),
        _("Issue supervision orders (督办) with their own deadlines."),
    ])
