from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.decorators import require_action
from accounts.permissions import Action


def _placeholder(request, title, intro, upcoming):
    context = {"page_title": title, "page_intro": intro, "upcoming": upcoming}
    return render(request, "placeholder.html", context)


@require_action(Action.CASE_REGISTER)
def intake(request):
    return _placeholder(request, _("Intake"), _("Register visits, letters, calls and online petitions."), [
        _("Register a visit, letter, call or online petition with its petitioners."),
        _("Register a group visit: headcount and up to five representatives."),
        _("Answer on the spot, refuse with the competent channel, or route to a unit."),
    ])


@require_action(Action.CASE_LIST_UNIT)
def unit_cases(request):
    return _placeholder(request, _("Unit cases"), _("Cases routed to your unit."), [
        _("Sign for a routed case, or return it within the objection window."),
        _("Accept, handle and reply in writing; ask for an extension."),
    ])


@require_action(Action.CASE_LIST_LED)
def my_cases(request):
    return _placeholder(request, _("My cases"), _("Cases you lead, with their deadlines."), [
        _("Every case you lead with its next deadline."),
        _("Measures, deadline and responsibility for each case (四定四包)."),
    ])


@require_action(Action.OVERDUE_AUDIT)
def overdue(request):
    return _placeholder(request, _("Overdue audit"), _("Every overdue item in your jurisdiction."), [
        _("Overdue and soon-due items, and who each is escalated to."),
        _("Issue supervision orders (督办) with their own deadlines."),
    ])
