"""Printable notices (/cases/<number>/notices/<kind>/): print-ready HTML after GB/T 9704-2012.

GET shows the notice and writes nothing; a notice never printed shows no number yet.
The Print button POSTs: the service numbers the notice on its first print (the number
stays for every later print) and records the print as an event, and the answer
redirects to the numbered notice, which opens the browser's print dialogue. A notice
the case's state does not allow yet is refused with a page that says why (409).
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..choices import ClockKind
from ..deadlines.clocks import OFFICE_TZ
from ..models import Case, Deadline, Notice, NoticeKind
from ..selectors.wording import display_formats
from ..services.notices import (
    notice_addressee,
    notice_may_print,
    notice_may_show_query_code,
    notice_preview,
    notice_print,
)
from .case_page import case_or_404


@login_required
@require_http_methods(["GET", "POST"])
def notice(request: HttpRequest, number: str, kind: str) -> HttpResponse:
    case = case_or_404(request, number)
    if kind not in NoticeKind.values:
        raise Http404(_("There is no such notice."))
    try:
        if request.method == "POST":
            notice_print(case=case, actor=request.user, kind=kind)
            return redirect(f"{reverse('cases:notice', args=[case.number, kind])}?printed=1")
        row = notice_preview(case=case, user=request.user, kind=kind)
    except ValidationError as refusal:
        return render(request, "cases/notices/refused.html",
                      {"case": case, "message": refusal.messages[0]}, status=409)
    context = {**_context(request, case, row), "print_now": request.GET.get("printed") == "1"}
    return render(request, f"cases/notices/{kind}.html", context)


def _context(request: HttpRequest, case: Case, row: Notice) -> dict:
    """What every notice shows: the issuing body, the number, the addressee, the date."""
    return {
        "case": case, "notice": row, "decision": row.decision, "issuer": _issuer(case, row),
        "addressee": notice_addressee(user=request.user, case=case),
        "show_query_code": notice_may_show_query_code(user=request.user, case=case),
        "may_print": notice_may_print(user=request.user, case=case),
        "issued_on": row.issued_at.astimezone(OFFICE_TZ).date(),
        "day_format": display_formats()[0],
        "acceptance_due": _acceptance_due(case) if row.kind == NoticeKind.ROUTING_SLIP else None,
    }


def _issuer(case: Case, row: Notice) -> str:
    """The body that issues the notice: the deciding body, the lead unit, else the office."""
    if row.decision is not None:
        return row.decision.deciding_body
    if row.kind == NoticeKind.ACCEPTANCE and case.lead_unit_id:
        return case.lead_unit.name
    return case.registered_unit.name


def _acceptance_due(case: Case) -> Deadline | None:
    """The acceptance-notice clock the routing slip carries to the lead unit (R22 Art.23)."""
    return Deadline.objects.filter(case=case, kind=ClockKind.ACCEPTANCE_NOTICE).order_by("-pk").first()
