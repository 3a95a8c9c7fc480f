"""The grid's pages (/mediation/reports/): the list of reports, one report with its photos,
clocks and trail and the centre's triage, and the county clerk's registration of a 包案
report. The grid worker's form and the phone's side are in ``views_grid_phone.py``.

Parse, call the service in ``grid.py``, answer. Bad input comes back with every typed value
and the message at its field; a stale page gets 409; a refusal the 403 page.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import Action, can
from cases.choices import ClockKind, ClockStatus
from cases.selectors.wording import choice_label, display_formats
from cases.services.intake import intake_offices
from cases.services.privacy import mask_name, mask_phone

from .forms_grid import (
    RegisterForm,
    TriageForm,
)
from .grid import grid_report_register, grid_report_triage
from .grid_pages import (
    identity_shown,
    report_clocks,
    report_identity_viewed,
    report_trail,
    reports_listed,
    reports_to_register,
    reports_visible,
    with_next_clock,
)
from .grid_rules import CONTENT_TYPES, Triage, village_of, worker_grids
from .models import EventKind, GridReport, MediationCase, ReportPhoto, ReportStatus

_STALE = ("stale", "moved_on")


# --- The list -------------------------------------------------------------------------------

@login_required
@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (can(user, Action.GRID_REPORT_VIEW) or can(user, Action.MEDIATION_REPORT)):
        return refused(request, _("Grid reports are for grid workers, the township centres "
                                  "and the petition office."))
    status = request.GET.get("status", "")
    status = status if status in ReportStatus.values else ""
    risky = request.GET.get("risky") == "1"
    page = Paginator(reports_listed(user=user, status=status, risky=risky), 50).get_page(
        request.GET.get("page"))
    rows = list(page.object_list)
    with_next_clock(rows)
    return _page(request, "mediation/grid_list.html", {
        "page": page, "rows": rows, "status": status, "risky": risky,
        "statuses": ReportStatus.choices,
        "may_report": worker_grids(user=user).exists(),
        "to_register": (reports_to_register(user=user)[:50]
                        if can(user, Action.GRID_REPORT_REGISTER) else [])})


# --- One report, its photos, the centre's triage -------------------------------------------

@never_cache
@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _visible_or_404(request, pk))


@login_required
@require_POST
def report_triage(request: HttpRequest, pk: int) -> HttpResponse:
    report = _visible_or_404(request, pk)
    if not can(request.user, Action.GRID_REPORT_TRIAGE, report):
        return refused(request, _("Reports are triaged by the township centre of their grid."))
    form = TriageForm(request.POST)
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            grid_report_triage(report=report, actor=request.user, version=data["version"],
                               to=data["to"], note=data["note"])
        except PermissionDenied as refusal:
            return refused(request, str(refusal))
        except ValidationError as problem:
            status = 409 if getattr(problem, "code", "") in _STALE else 200
            on_to = getattr(problem, "code", "") in ("to", "committee", "no_person")
            form.add_error("to" if on_to else None, problem)
        else:
            messages.success(request, _("Report %(number)s is sent on.")
                             % {"number": report.number})
            return redirect("mediation:report", report.pk)
    report.refresh_from_db()
    return _detail_page(request, report, triage_form=form, status=status)


@login_required
@require_GET
def report_photo(request: HttpRequest, pk: int, photo: int) -> HttpResponse:
    """A photo of a report, to those who see the report; never from a public address."""
    report = _visible_or_404(request, pk)
    row = get_object_or_404(ReportPhoto, report=report, pk=photo)
    ending = row.file.name.rsplit(".", 1)[-1].lower()
    kind = CONTENT_TYPES.get(ending, "application/octet-stream")
    prefix = settings.ATTACHMENT_ACCEL_PREFIX
    if prefix:  # nginx sends the file from its internal location, as the cases' files
        response = HttpResponse(content_type=kind)
        response["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{quote(row.file.name)}"
    else:
        response = FileResponse(row.file.open("rb"), content_type=kind)
    response["Cache-Control"] = "private, max-age=600"
    response["Content-Disposition"] = f'inline; filename="photo-{row.pk}.{ending}"'
    return response


def _visible_or_404(request: HttpRequest, pk: int) -> GridReport:
    return get_object_or_404(reports_visible(user=request.user), pk=pk)


def _detail_page(request, report: GridReport, *, triage_form: TriageForm | None = None,
                 status: int = 200) -> HttpResponse:
    user = request.user
    shown = identity_shown(user=user, report=report)
    parties = [_party_view(party, shown=shown)
               for party in report.parties.select_related("petitioner").order_by("pk")]
    if shown:
        report_identity_viewed(report=report, actor=user)
    may_triage = (report.status == ReportStatus.REPORTED
                  and can(user, Action.GRID_REPORT_TRIAGE, report))
    mediation = MediationCase.objects.filter(report=report).first()
    return _page(request, "mediation/grid_report.html", {
        "report": report, "parties": parties, "photos": report.photos.order_by("pk"),
        "clocks": report_clocks(report),
        "trail": _trail(report),
        "may_triage": may_triage,
        "triage_form": triage_form or (TriageForm(initial={"version": report.version})
                                       if may_triage else None),
        "may_register": (report.status == ReportStatus.TO_COUNTY
                         and can(user, Action.GRID_REPORT_REGISTER, report)),
        "mediation": mediation, "mediation_url": _mediation_url(mediation),
        "village": village_of(report),
    }, status=status)


def _trail(report: GridReport) -> list[dict]:
    """The report's trail as the page words it (personal-data views are the audit's alone)."""
    rows = []
    for event in report_trail(report).exclude(kind=EventKind.VIEWED):
        details, note = event.details, ""
        if event.kind == EventKind.CLOCK:
            action = details.get("action", "")
            word = (_("started") if action == "started"
                    else choice_label(ClockStatus, action))
            note = f"{choice_label(ClockKind, details.get('kind', ''))}: {word}"
        elif event.kind == EventKind.TRIAGED:
            note = choice_label(Triage, details.get("to", ""))
            if details.get("mediation_number"):
                note += f" · {details['mediation_number']}"
        elif event.kind == EventKind.REGISTERED:
            note = details.get("case_number", "")
        rows.append({"event": event, "note": note})
    return rows


def _party_view(party, *, shown: bool) -> dict:
    """A party as the page shows it: ID numbers only masked, to everyone; names and phones
    as on file only to the centre and the county's petition office, not to the grid
    worker, whose typed ID number may have found someone else's row (M18)."""
    person = party.petitioner
    if person is None:
        return {"side": party.get_side_display(), "organisation": party.organisation}
    return {"side": party.get_side_display(),
            "name": person.name if shown else mask_name(person.name),
            "id_number": person.masked_id_number,
            "phone": person.phone if shown else mask_phone(person.phone)}


def _mediation_url(mediation: MediationCase | None) -> str:
    if mediation is None:
        return ""
    try:
        return reverse("mediation:case", args=[mediation.pk])
    except NoReverseMatch:  # the mediation pages are another module's
        return ""


# --- County 包案: the petition office registers the report ---------------------------------

# Where the registration's refusals belong on its form; others go on top.
_REGISTER_FIELDS = {"leader_county": "leader", "leader_place": "leader", "measures": "measures",
                    "deadline": "deadline", "office": "office", "demands": "demands"}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def report_register(request: HttpRequest, pk: int) -> HttpResponse:
    report = _visible_or_404(request, pk)
    if not can(request.user, Action.GRID_REPORT_REGISTER, report):
        return refused(request, _("Reports sent to county 包案 are registered by the county's "
                                  "petition office."))
    if report.status != ReportStatus.TO_COUNTY and request.method == "GET":
        messages.info(request, _("This report is not waiting for registration."))
        return redirect("mediation:report", report.pk)
    offices = intake_offices(user=request.user)
    if request.method == "GET":
        form = RegisterForm(initial={"version": report.version}, report=report, offices=offices)
        return _register_page(request, report, form)
    form = RegisterForm(request.POST, report=report, offices=offices)
    if not form.is_valid():
        return _register_page(request, report, form)
    try:
        case = grid_report_register(report=report, actor=request.user,
                                    version=form.cleaned_data["version"],
                                    registration=form.to_registration())
    except PermissionDenied as refusal:
        return refused(request, str(refusal))
    except ValidationError as problem:
        form.add_error(_REGISTER_FIELDS.get(getattr(problem, "code", "")), problem)
        report.refresh_from_db()
        return _register_page(request, report, form,
                              status=409 if getattr(problem, "code", "") in _STALE else 200)
    messages.success(request, _("Report %(report)s is registered as petition case %(case)s, "
                                "with its responsible leader.")
                     % {"report": report.number, "case": case.number})
    return redirect("cases:detail", case.number)


def _register_page(request, report, form, *, status: int = 200) -> HttpResponse:
    people = [party.petitioner for party in report.parties.select_related("petitioner")
              .order_by("pk") if party.petitioner_id]
    return _page(request, "mediation/grid_register.html", {
        "report": report, "form": form, "people": people, "village": village_of(report)},
        status=status)


def refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "mediation/refused.html", {"message": message}, status=403)


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    """Render with the active language's day and time formats (2026年10月8日 / 2026-10-08)."""
    day_format, moment_format = display_formats()
    return render(request, template, {**context, "day_format": day_format,
                                      "moment_format": moment_format}, status=status)


