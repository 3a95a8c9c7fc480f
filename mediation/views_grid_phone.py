"""The grid worker's side of /mediation/reports/ (M19): the report form and its JSON twin
for the phone's script (a report kept offline is sent there), the empty form the service
worker keeps for a phone without signal, the script's "who is signed in", and the service
worker itself (served under /mediation/ so that its scope covers the form).

Parse, call ``grid_report_submit``, answer. Bad input comes back with every typed value and
the message at its field (as JSON to the script).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import OrgUnit

from .forms_grid import (
    FIELD_OF_CODE,
    FIRST_PARTIES,
    PARTIES,
    PartyFormSet,
    ReportForm,
)
from .grid import Submitted, grid_report_submit
from .grid_rules import worker_grids
from .models import ReportStatus
from .views_grid import _page, refused

# --- The grid worker's report ----------------------------------------------------------------

@never_cache
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.GET.get("offline") == "1":
        return _offline_form(request)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    grids = worker_grids(user=request.user)
    if not grids.exists():
        return refused(request, _("Only grid workers report disputes, from their own grids."))
    if request.method == "GET":
        form = ReportForm(grids=grids, initial={
            "client_key": uuid.uuid4(),
            "found_at": timezone.localtime().replace(second=0, microsecond=0)})
        return _form_page(request, form, PartyFormSet(prefix=PARTIES, initial=FIRST_PARTIES))
    form, parties = _bound(request, grids)
    done = _submit(request, form, parties)
    if done is None:
        return _form_page(request, form, parties,
                          photos_dropped=bool(request.FILES.getlist("photos")))
    messages.success(request, _sent_message(done))
    return redirect("mediation:report", done.report.pk)


@never_cache
@require_POST
def report_sync(request: HttpRequest) -> JsonResponse:
    """The report form sent by the phone's script, now or when the signal came back: JSON."""
    if not request.user.is_authenticated:
        return JsonResponse({"ok": False, "signin": reverse("login"),
                             "error": _("Sign in again to send the reports kept on this "
                                        "phone.")}, status=401)
    if request.POST.get("typed_by") != str(request.user.pk):  # M19: never another's report
        return JsonResponse({"ok": False, "error": _(
            "This report was typed under another account on this phone. It stays on the "
            "phone, and is sent when that account signs in.")}, status=409)
    grids = worker_grids(user=request.user)
    if not grids.exists():
        return JsonResponse({"ok": False, "error": _("Only grid workers report disputes, from "
                                                     "their own grids.")}, status=403)
    form, parties = _bound(request, grids)
    try:
        done = _submit(request, form, parties)
    except PermissionDenied as refusal:
        return JsonResponse({"ok": False, "error": str(refusal)}, status=403)
    if done is None:
        return JsonResponse({"ok": False, "errors": _errors(form, parties)}, status=400)
    if request.POST.get("live"):  # sent from the open form, whose page goes to the report
        messages.success(request, _sent_message(done))
    return JsonResponse({"ok": True, "created": done.created, "number": done.report.number,
                         "url": reverse("mediation:report", args=[done.report.pk]),
                         "message": _sent_message(done)}, status=201 if done.created else 200)


def _bound(request: HttpRequest, grids) -> tuple[ReportForm, PartyFormSet]:
    return (ReportForm(request.POST, request.FILES, grids=grids),
            PartyFormSet(request.POST, prefix=PARTIES))


def _submit(request: HttpRequest, form: ReportForm, parties: PartyFormSet) -> Submitted | None:
    """The report recorded (or found again by its key), or None with the problems on the forms."""
    if not (form.is_valid() & parties.is_valid()):  # every error at once
        return None
    entered = parties.entered()
    try:
        return grid_report_submit(actor=request.user, report=form.to_input(
            tuple(party.to_input() for _index, party in entered)))
    except ValidationError as refusal:
        for problem in refusal.error_list:
            code = problem.code or ""
            if code.startswith(("party_id:", "party_name:")):
                field, index = code.split(":")
                row = entered[int(index)][0]
                parties.forms[row].add_error("id_number" if field == "party_id" else "name",
                                             problem)
            else:
                form.add_error(FIELD_OF_CODE.get(code), problem)
        return None


def _errors(form: ReportForm, parties: PartyFormSet) -> list[dict]:
    """Each problem with the id of the field it belongs to ("" for the form as a whole)."""
    found = [{"field": "", "message": message} for message in form.non_field_errors()]
    found += [{"field": "", "message": message} for message in parties.non_form_errors()]
    for bound in (*parties.forms, form):
        found += [{"field": bound[name].auto_id, "message": message}
                  for name, errors in bound.errors.items() if name != "__all__"
                  for message in errors]
    return found


def _sent_message(done: Submitted) -> str:
    report = done.report
    if not done.created:
        return _("Report %(number)s had already arrived; it was not sent twice.") % {
            "number": report.number}
    if report.status == ReportStatus.SETTLED:
        return _("Report %(number)s is recorded as settled on the spot.") % {
            "number": report.number}
    return _("Report %(number)s is sent to the township centre, which takes it up within "
             "its time limit.") % {"number": report.number}


def _form_page(request, form, parties, *, photos_dropped: bool = False,
               offline: dict | None = None) -> HttpResponse:
    return _page(request, "mediation/grid_form.html", {
        "form": form, "parties": parties, "photos_dropped": photos_dropped,
        "sync_url": reverse("mediation:report_sync"), "sw_url": reverse("mediation:grid_sw"),
        "form_url": reverse("mediation:report_new"), "me_url": reverse("mediation:report_me"),
        **(offline or {})})


def _offline_form(request: HttpRequest) -> HttpResponse:
    """The form with nothing of anyone's in it (no name, grid, menu, message or CSRF token):
    what the service worker keeps for a phone without signal; grid.js puts in the account
    and its grids this phone last saw signed in (M19)."""
    form = ReportForm(grids=OrgUnit.objects.none())
    return _form_page(request, form, PartyFormSet(prefix=PARTIES, initial=FIRST_PARTIES),
                      offline={"offline": True, "user": AnonymousUser(), "messages": (),
                               "csrf_token": "", "nav": ()})


@never_cache
@require_GET
def report_me(request: HttpRequest) -> JsonResponse:
    """Who the phone's script reports as now: the account, its grids and a CSRF token; asked
    past the service worker, never kept by it (M19)."""
    if not request.user.is_authenticated:
        return JsonResponse({"ok": False, "signin": reverse("login")}, status=401)
    grids = worker_grids(user=request.user)
    if not grids.exists():
        return JsonResponse({"ok": False}, status=403)
    label = ReportForm(grids=grids).fields["grid"].label_from_instance
    return JsonResponse({"ok": True, "user": request.user.pk,
                         "name": request.user.display_name or request.user.get_username(),
                         "grids": [{"id": grid.pk, "label": label(grid)} for grid in grids],
                         "csrf": get_token(request), "logout": reverse("logout")})




# --- The service worker ------------------------------------------------------------------

# What the form needs to open without signal; the worker caches these and the form itself.
_OFFLINE_STATIC = ("vendor/bootstrap/css/bootstrap.min.css",
                   "vendor/bootstrap-icons/bootstrap-icons.min.css", "css/app.css",
                   "mediation/grid.css", "vendor/bootstrap/js/bootstrap.bundle.min.js",
                   "vendor/htmx/htmx.min.js", "js/app.js", "mediation/grid.js")


@require_GET
def grid_sw(request: HttpRequest) -> HttpResponse:
    """static/mediation/grid-sw.js, served under /mediation/ so that its scope covers the
    report form, with the addresses it caches (hashed names in production) put before it."""
    source = finders.find("mediation/grid-sw.js")
    if source is None:
        raise Http404
    assets = [static(name) for name in _OFFLINE_STATIC]
    form = reverse("mediation:report_new")
    config = {"form": form, "offline": f"{form}?offline=1", "assets": assets,
              "version": hashlib.sha256("|".join(assets).encode()
                                        + Path(source).read_bytes()).hexdigest()[:12]}
    body = f"var GRID_SW = {json.dumps(config)};\n" + Path(source).read_text(encoding="utf-8")
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response

