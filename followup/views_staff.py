"""The clerk's reissue of a case's query code: a confirmation, then the new code shown once."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.permissions import Action, can
from cases.selectors.wording import display_formats
from cases.services.notices import notices_printable
from cases.views.case_page import case_or_404

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

