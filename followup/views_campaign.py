"""The 回头看 campaign's pages (followup/DECISIONS.md F12): the campaigns of one's units,
starting one (the case list's filters in the query string, a count of what they select,
then the name and the day to finish by, posted), and one campaign's progress and its
outcomes by unit."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.permissions import Action, can
from cases.services.undertakings import office_today

from . import campaigns
from .campaigns import (
    CONCLUDED_KEYS,
    Selection,
    campaign_create,
    campaign_preview,
    campaign_progress,
    campaign_selection,
    campaign_summary,
    campaigns_visible,
    summary_total,
)
from .forms_campaign import CampaignForm
from .views_staff import refused

# The day to finish by that the form proposes: a month from today.
PROPOSED_DAYS = 30


@login_required
@require_http_methods(["GET"])
def campaign_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.CAMPAIGN_VIEW):
        return refused(request, _("Campaigns are followed by the supervisors, heads and "
                                   "clerks of the unit that started them."))
    page = Paginator(campaigns_visible(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "followup/campaigns.html", {
        "page": page, "may_create": can(request.user, Action.CAMPAIGN_CREATE)})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    """GET: the filters and what they select; POST (the filters still in the query string):
    start the campaign, or the page again with the message and what was typed."""
    if not can(request.user, Action.CAMPAIGN_CREATE):
        return refused(request, _("A 回头看 campaign is started by a supervisor."))
    selection = campaign_selection(user=request.user, filters=request.GET)
    if request.method == "GET":
        proposed = office_today(timezone.now()) + timedelta(days=PROPOSED_DAYS)
        return _new_page(request, selection, CampaignForm(initial={"finish_by": proposed}))
    form = CampaignForm(request.POST)
    if form.is_valid() and not selection.errors:
        try:
            campaign = campaign_create(actor=request.user, filters=request.GET,
                                       name=form.cleaned_data["name"],
                                       finish_by=form.cleaned_data["finish_by"])
        except PermissionDenied as refusal:
            return refused(request, str(refusal))
        except ValidationError as problem:
            form.add_error(None, problem)
        else:
            messages.success(request, _(
                "The campaign is started: %(made)d follow-ups made; %(skipped)d cases "
                "skipped, as they already had an open follow-up.") % {
                "made": campaign.made, "skipped": campaign.selected - campaign.made})
            return redirect("followup_staff:campaign", pk=campaign.pk)
    return _new_page(request, selection, form)


def _new_page(request: HttpRequest, selection: Selection, form: CampaignForm) -> HttpResponse:
    preview = None if selection.errors else campaign_preview(selection.cases)
    return render(request, "followup/campaign_new.html", {
        "selection": selection, "filter_form": selection.filterset.form,
        "concluded_form": selection.concluded, "form": form, "preview": preview,
        "limit": campaigns.CAMPAIGN_LIMIT, "query": request.GET.urlencode(),
        "concluded_keys": CONCLUDED_KEYS})


@never_cache
@login_required
@require_http_methods(["GET"])
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not can(request.user, Action.CAMPAIGN_VIEW):
        return refused(request, _("Campaigns are followed by the supervisors, heads and "
                                   "clerks of the unit that started them."))
    campaign = get_object_or_404(campaigns_visible(user=request.user), pk=pk)
    rows = campaign_summary(campaign)
    return render(request, "followup/campaign.html", {
        "campaign": campaign, "progress": campaign_progress(campaign),
        "rows": rows, "total": summary_total(rows),
        "filters": _described(request, campaign.filters)})


def _described(request: HttpRequest, filters: dict) -> list[tuple[str, str]]:
    """The campaign's filters in words: each field's label and the value chosen."""
    selection = campaign_selection(user=request.user, filters=filters)
    described = []
    for form in (selection.filterset.form, selection.concluded):
        form.is_valid()
        for name, field in form.fields.items():
            value = form.cleaned_data.get(name)
            if name not in filters or value in (None, ""):
                continue
            if isinstance(value, bool):
                value = _("Yes") if value else _("No")
            elif hasattr(field, "choices") and not hasattr(field, "queryset"):
                value = dict(field.choices).get(value, value)
            described.append((str(field.label), str(value)))
    return described
