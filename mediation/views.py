from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.decorators import require_action
from accounts.permissions import Action


@require_action(Action.MEDIATION_REPORT)
def reports(request):
    context = {
        "page_title": _("Grid reports"),
        "page_intro": _("Disputes reported by grid workers before they become petitions."),
        "upcoming": [_("Report a dispute found in your grid."),
                     _("Resolve it on the spot or pass it to the township centre.")],
    }
    return render(request, "placeholder.html", context)


@require_action(Action.MEDIATION_HANDLE)
def home(request):
    context = {
        "page_title": _("Mediation"),
        "page_intro": _("People's, administrative and court mediation linked to cases."),
        "upcoming": [_("Sessions, parties and agreements."),
                     _("Follow-up of how agreements are fulfilled.")],
    }
    return render(request, "placeholder.html", context)
