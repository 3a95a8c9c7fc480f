"""The public query page (/query/): no account, Chinese by default, nothing cached.

A right number and code render the case in the POST's own answer (no code in a URL) and
open the rating for QUERY_SESSION_MINUTES in this session, for as long as the code is the
one it was opened with. A wrong number and a wrong code get the same answer; the code typed
is never written back into the page (followup/DECISIONS.md Q3).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.middleware import client_ip
from cases.models import Case

from .forms import QueryForm, RatingForm
from .selectors import public_case
from .services import case_query, case_verified, code_digest, satisfaction_rate_by_petitioner

SESSION_KEY = "followup_verified"


@never_cache
@require_http_methods(["GET", "POST"])
def query(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _form_page(request, QueryForm())
    form = QueryForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form)
    found = case_query(number=form.cleaned_data["number"], code=form.cleaned_data["code"],
                       address=client_ip(request))
    if found.case is None:
        if found.locked:
            message = _("Too many wrong codes were tried for this case number or from this "
                        "connection. Try again in %(minutes)d minutes, or ask the petition "
                        "office.") % {"minutes": settings.QUERY_LOCK_MINUTES}
        else:
            message = _("No case matches this case number and query code. Check both "
                        "against your notice of acceptance and try again.")
        form.add_error(None, message)
        return _form_page(request, form)
    request.session.cycle_key()  # a fresh session for what this lookup opens
    _grant(request, found.case)
    return _case_page(request, found.case, RatingForm())


@never_cache
@require_POST
def rate(request: HttpRequest) -> HttpResponse:
    case = _verified(request)
    if case is None:
        return _form_page(request, QueryForm(), problem=_(
            "Your lookup has ended. Enter the case number and query code again to rate the "
            "handling."))
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            satisfaction_rate_by_petitioner(case=case, rating=form.cleaned_data["rating"],
                                            comment=form.cleaned_data["comment"])
        except ValidationError as refused:
            for error in refused.error_list:
                form.add_error("comment" if error.code == "comment" else None, error)
        else:
            return _case_page(request, case, RatingForm(), rated=True)
    return _case_page(request, case, form)


def _grant(request: HttpRequest, case: Case) -> None:
    until = timezone.now() + timedelta(minutes=settings.QUERY_SESSION_MINUTES)
    request.session[SESSION_KEY] = {"case": case.pk, "until": until.timestamp(),
                                    "code": code_digest(case.query_code)}


def _verified(request: HttpRequest) -> Case | None:
    """The case this session's lookup opened, while in time and its code unchanged."""
    granted = request.session.get(SESSION_KEY)
    if not isinstance(granted, dict) or granted.get("until", 0) < timezone.now().timestamp():
        request.session.pop(SESSION_KEY, None)
        return None
    case = case_verified(case_id=granted.get("case"), digest=granted.get("code", ""))
    if case is None:  # the code was reissued: what it opened ends
        request.session.pop(SESSION_KEY, None)
    return case


def _form_page(request: HttpRequest, form: QueryForm, *, problem: str = "") -> HttpResponse:
    return render(request, "followup/query.html", {"form": form, "problem": problem})


def _case_page(request: HttpRequest, case: Case, form: RatingForm, *,
               rated: bool = False) -> HttpResponse:
    context = {"view": public_case(case), "form": form, "rated": rated,
               "minutes": settings.QUERY_SESSION_MINUTES}
    return render(request, "followup/result.html", context)
