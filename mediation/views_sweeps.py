"""The dispute sweep pages (矛盾纠纷排查): the landing page (the user's current rounds: the
return form of their grid or village, and for the township and the county each round's
tally and the early-warning list), one round's page (every unit's return, and who has not
filed), and the form that files a return."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import OrgUnit
from accounts.permissions import Action, can
from cases.selectors.wording import display_formats
from cases.services.undertakings import office_today

from .forms_sweeps import ZERO, ReturnForm
from .models import SweepReturn, SweepRound
from .sweeps import (
    ReturnInput,
    early_warnings,
    is_late,
    report_new_url,
    round_due,
    sweep_candidates,
    sweep_filing_units,
    sweep_overview,
    sweep_return_file,
    sweep_rounds_current,
    sweep_rounds_visible,
    sweep_units_due,
)

EARLIER_SHOWN = 12


@never_cache
@login_required
@require_http_methods(["GET"])
def sweeps(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (can(user, Action.SWEEP_FILE) or can(user, Action.SWEEP_VIEW)):
        return _refused(request)
    today = office_today()
    current = list(sweep_rounds_current(user=user, today=today))
    follows = can(user, Action.SWEEP_VIEW)
    earlier = (sweep_rounds_visible(user=user).filter(opens_on__lte=today)
               .exclude(pk__in=[round_.pk for round_ in current])
               .order_by("-opens_on", "-pk")[:EARLIER_SHOWN])
    return render(request, "mediation/sweep_home.html", {
        **_formats(),
        "rounds": [_round_block(request, round_, today, follows=follows) for round_ in current],
        "warnings": early_warnings(user=user) if follows else None,
        "earlier": earlier, "report_new_url": report_new_url()})


@never_cache
@login_required
@require_http_methods(["GET"])
def sweep_round(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_object_or_404(sweep_rounds_visible(user=request.user), pk=pk)
    return _round_page(request, round_)


@login_required
@require_http_methods(["POST"])
def sweep_file(request: HttpRequest, pk: int, unit_pk: int) -> HttpResponse:
    round_ = get_object_or_404(sweep_rounds_visible(user=request.user), pk=pk)
    unit = get_object_or_404(sweep_units_due(round_), pk=unit_pk)
    if not can(request.user, Action.SWEEP_FILE, unit):  # asked first; the service asks again
        return _refused(request, _("A sweep return is filed by the grid worker of the grid or "
                                   "the mediator of the village."))
    form = ReturnForm(request.POST, candidates=sweep_candidates(round_=round_, unit=unit),
                      prefix=_prefix(round_, unit))
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            filed = sweep_return_file(round_=round_, unit=unit, actor=request.user,
                                      filing=ReturnInput(
                                          zero=data["filing"] == ZERO, note=data["note"],
                                          reports=tuple(r.pk for r in data["reports"])))
        except PermissionDenied as refusal:
            return _refused(request, str(refusal))
        except ValidationError as problem:
            status = 409 if problem.code in ("filed", "stale") else 200
            form.add_error(None, problem)
        else:
            messages.success(request, _filed_message(filed))
            return redirect("mediation:sweep_round", pk=round_.pk)
    return _round_page(request, round_, bound=(unit, form), status=status)


def _round_page(request: HttpRequest, round_: SweepRound,
                bound: tuple[OrgUnit, ReturnForm] | None = None,
                status: int = 200) -> HttpResponse:
    user = request.user
    follows = can(user, Action.SWEEP_VIEW)  # the overview shows the units below their roles
    missing_only = request.GET.get("show") == "missing"
    block = _round_block(request, round_, office_today(), follows=follows, bound=bound,
                         missing_only=missing_only)
    return render(request, "mediation/sweep_round.html", {
        **_formats(), "sweep": block, "missing_only": missing_only,
        "bound_form": bound[1] if bound else None, "report_new_url": report_new_url()},
        status=status)


def _round_block(request: HttpRequest, round_: SweepRound, today: date, *, follows: bool,
                 bound: tuple[OrgUnit, ReturnForm] | None = None,
                 missing_only: bool = False) -> dict:
    """One round as a page shows it: its due state, the user's returns or their forms, and
    (to who follows the sweep) who filed and who has not."""
    units = sweep_filing_units(user=request.user, round_=round_)
    returns = {row.unit_id: row for row in SweepReturn.objects.filter(
        round=round_, unit__in=units).select_related("filed_by").prefetch_related("reports")}
    slots = []
    for unit in units:
        filed = returns.get(unit.pk)
        form = None
        if filed is None:
            form = bound[1] if bound and bound[0].pk == unit.pk else ReturnForm(
                candidates=sweep_candidates(round_=round_, unit=unit),
                prefix=_prefix(round_, unit))
        slots.append({"unit": unit, "filed": filed, "form": form,
                      "late": filed is not None and is_late(round_, filed.filed_at)})
    return {"round": round_, "due": round_due(round_, today), "slots": slots,
            "overview": (sweep_overview(round_=round_, user=request.user,
                                        missing_only=missing_only) if follows else None)}


def _prefix(round_: SweepRound, unit: OrgUnit) -> str:
    return f"r{round_.pk}-u{unit.pk}"


def _filed_message(filed: SweepReturn) -> str:
    params = {"unit": filed.unit.name}
    if is_late(filed.round, filed.filed_at):
        return _("The return of %(unit)s is filed after the round's due day: it is accepted "
                 "and shown as late.") % params
    return _("The return of %(unit)s is filed. The township centre sees it in the round's "
             "overview.") % params


def _formats() -> dict:
    day_format, time_format = display_formats()
    return {"day_format": day_format, "time_format": time_format}


def _refused(request: HttpRequest, message: str = "") -> HttpResponse:
    message = message or _("Dispute sweeps are filed by the grid workers and the village "
                           "mediators, and followed by the township centre, the leaders and "
                           "the supervisors.")
    return render(request, "mediation/refused.html", {"message": message}, status=403)
