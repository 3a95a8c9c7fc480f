"""Staff pages of followup: the clerk's reissue of a case's query code (a confirmation,
then the new code shown once), and the follow-ups (回头看): the list of those due, one
follow-up with its attempts, and the forms that assign it and record it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.permissions import Action, can
from cases.selectors.wording import display_formats
from cases.services.notices import notices_printable
from cases.services.undertakings import office_today
from cases.views.case_page import case_or_404

from .decisions import decisions_visible, followup_decide, outcomes_open
from .followups import (
    AttemptInput,
    OutcomeInput,
    assignable_users,
    followup_assign,
    followup_attempt_record,
    followup_outcome_record,
    followups_visible,
)
from .forms import AssignForm, AttemptForm, DecisionForm, OutcomeForm
from .models import OPEN_STATUSES, DecisionStatus, FollowUp, FollowUpStatus
from .services import query_code_reissue


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reissue(request: HttpRequest, number: str) -> HttpResponse:
    case = case_or_404(request, number)
    try:
        if not can(request.user, Action.CASE_REISSUE_QUERY_CODE, case):
            raise PermissionDenied(_("Query codes are reissued by the petition office that "
                                     "registered the case."))
        if request.method == "GET":
            return render(request, "followup/reissue.html", {"case": case})
        code = query_code_reissue(case=case, actor=request.user)
    except PermissionDenied as refusal:
        return render(request, "cases/_page_refused.html", {"case": case,
                                                             "message": str(refusal)},
                      status=403)
    printable = {kind for kind, _label in notices_printable(user=request.user, case=case)}
    return render(request, "followup/reissued.html", {
        "case": case, "code": code, "acceptance_printable": "acceptance" in printable,
        "day_format": display_formats()[0]})



# --- The staff follow-ups (回头看): the list, one follow-up, and its three forms ------------

_SHOW = {"due": gettext_lazy("Due now"), "open": gettext_lazy("Open"),
         "done": gettext_lazy("Done"), "all": gettext_lazy("All")}


@login_required
@require_http_methods(["GET"])
def followup_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.FOLLOW_UP_LIST):
        return refused(request, _("The follow-up list is for the staff of the petition office "
                                   "and the units."))
    show = request.GET.get("show") if request.GET.get("show") in _SHOW else "due"
    mine = request.GET.get("mine") == "1"
    campaign = request.GET.get("campaign", "")
    campaign = int(campaign) if campaign.isdigit() else None
    rows = followups_visible(user=request.user)
    if campaign is not None:
        rows = rows.filter(campaign_id=campaign)
    today = office_today(timezone.now())
    rows = {"due": rows.filter(status__in=OPEN_STATUSES, due_on__lte=today),
            "open": rows.filter(status__in=OPEN_STATUSES),
            "done": rows.filter(status=FollowUpStatus.DONE), "all": rows}[show]
    if mine:
        rows = rows.filter(assignee=request.user)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "followup/followups.html", {
        "page": page, "show": show, "mine": mine, "choices": _SHOW.items(), "today": today,
        "campaign": campaign,
        "may_campaign": can(request.user, Action.CAMPAIGN_VIEW)})


@never_cache
@login_required
@require_http_methods(["GET"])
def followup_detail(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = _visible_or_404(request, pk)
    return _detail_page(request, follow_up)


@login_required
@require_http_methods(["POST"])
def followup_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = _visible_or_404(request, pk)
    form = AssignForm(request.POST, people=assignable_users(follow_up))
    return _act(request, follow_up, "assign_form", form, lambda data: followup_assign(
        follow_up=follow_up, assignee=User.objects.get(pk=data["assignee"]),
        actor=request.user, version=data["version"]), _("The follow-up is assigned."))


@login_required
@require_http_methods(["POST"])
def followup_attempt_view(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = _visible_or_404(request, pk)
    form = AttemptForm(request.POST)
    return _act(request, follow_up, "attempt_form", form, lambda data: followup_attempt_record(
        follow_up=follow_up, actor=request.user, version=data["version"],
        attempt=AttemptInput(method=data["method"], reached=data["reached"] == "yes",
                             whom=data["whom"], note=data["note"])),
        _("The attempt is recorded; the follow-up stays open until its outcome is recorded."))


@login_required
@require_http_methods(["POST"])
def followup_outcome_view(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = _visible_or_404(request, pk)
    form = OutcomeForm(request.POST)
    fields = ("result", "rating", "comment", "commitments", "recurrence_risk", "repeat_risk",
              "pestering_risk", "notes")
    return _act(request, follow_up, "outcome_form", form, lambda data: followup_outcome_record(
        follow_up=follow_up, actor=request.user, version=data["version"],
        outcome=OutcomeInput(**{name: data[name] for name in fields})),
        _("The follow-up is done and its outcome recorded."))


def refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "followup/refused.html", {"message": message}, status=403)


def _visible_or_404(request: HttpRequest, pk: int) -> FollowUp:
    rows = followups_visible(user=request.user).select_related("case__complained_unit")
    return get_object_or_404(rows, pk=pk)


def _act(request, follow_up, name, form, service, done_message) -> HttpResponse:
    """Validate the form, call the service, and answer: back to the follow-up when done;
    the page again with the typed values and the message when not (403 refused, 409 stale)."""
    action = Action.FOLLOW_UP_ASSIGN if name == "assign_form" else Action.FOLLOW_UP_RECORD
    if not can(request.user, action, follow_up):  # asked first; the service asks again
        return refused(request, _("You may not change this follow-up."))
    status = 200
    if form.is_valid():
        try:
            service(form.cleaned_data)
        except PermissionDenied as refusal:
            return refused(request, str(refusal))
        except ValidationError as problem:
            status = 409 if getattr(problem, "code", "") in ("stale", "closed") else 200
            form.add_error(None, problem)
        else:
            messages.success(request, done_message)
            return redirect("followup_staff:followup", pk=follow_up.pk)
    follow_up.refresh_from_db()
    return _detail_page(request, follow_up, **{name: form}, status=status)


def _detail_page(request, follow_up: FollowUp, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    may_assign = follow_up.is_open and can(user, Action.FOLLOW_UP_ASSIGN, follow_up)
    may_record = follow_up.is_open and can(user, Action.FOLLOW_UP_RECORD, follow_up)
    initial = {"version": follow_up.version}
    context = {
        "follow_up": follow_up, "case": follow_up.case, "may_assign": may_assign,
        "may_record": may_record,
        "attempts": follow_up.attempts.select_related("by").order_by("at", "pk"),
        "assign_form": forms.get("assign_form") or (
            AssignForm(initial=initial, people=assignable_users(follow_up))
            if may_assign else None),
        "attempt_form": forms.get("attempt_form") or AttemptForm(initial=initial),
        "outcome_form": forms.get("outcome_form") or OutcomeForm(initial=initial),
        "decision": next((d for d in decisions_visible(user=user).filter(follow_up=follow_up)
                          if can(user, Action.FOLLOW_UP_DECISION_VIEW, d)), None),
    }
    return render(request, "followup/followup.html", context, status=status)


# --- The leader's decision on a follow-up (DECISIONS F11) ---------------------------------

@login_required
@require_http_methods(["GET"])
def decision_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.FOLLOW_UP_DECISIONS):
        return refused(request, _("The decisions on follow-ups are for the leaders and the "
                                   "staff of the petition office."))
    show_all = request.GET.get("show") == "all"
    rows = decisions_visible(user=request.user)
    if not show_all:
        rows = rows.filter(status=DecisionStatus.OPEN)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "followup/decisions.html", {
        "page": page, "show_all": show_all, "now": timezone.now()})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    decision = get_object_or_404(decisions_visible(user=request.user)
                                 .select_related("case__complained_unit", "decided_by"), pk=pk)
    if not can(request.user, Action.FOLLOW_UP_DECISION_VIEW, decision):  # accused, recused
        return refused(request, _("You may not see this decision."))
    may_decide = (decision.status == DecisionStatus.OPEN
                  and can(request.user, Action.FOLLOW_UP_DECIDE, decision))
    barred = outcomes_open(decision) if may_decide else {}
    status = 200
    if request.method == "POST":
        if not may_decide:
            return refused(request, _("You may not take this decision, or it has been taken."))
        form = DecisionForm(request.POST, refused=barred)
        if form.is_valid():
            data = form.cleaned_data
            try:
                followup_decide(decision=decision, outcome=data["outcome"],
                                reason=data["reason"], actor=request.user,
                                version=data["version"])
            except PermissionDenied as refusal:
                return refused(request, str(refusal))
            except ValidationError as problem:
                status = 409 if getattr(problem, "code", "") in ("stale", "closed") else 200
                form.add_error(None, problem)
            else:
                messages.success(request, _("The decision is recorded."))
                return redirect("followup_staff:decision", pk=decision.pk)
        decision.refresh_from_db()
        may_decide = decision.status == DecisionStatus.OPEN
    else:
        form = DecisionForm(initial={"version": decision.version}, refused=barred)
    follow_up = decision.follow_up
    return render(request, "followup/decision.html", {
        "decision": decision, "case": decision.case, "follow_up": follow_up,
        "may_decide": may_decide, "form": form, "now": timezone.now()}, status=status)
