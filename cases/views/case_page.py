"""The case page (/cases/<number>/): every field, the people, the clocks, the steps, the timeline.

A user who may not see a case gets 403 and nothing of it; an unknown number is 404.
The reveal (POST) answers htmx with the petitioners' section, a plain form with the
whole page; a missing reason keeps what was typed and says what is missing.
"""

import mimetypes
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ..models import Attachment, Case
from ..selectors.case_page import case_get, case_page
from ..selectors.steps import case_action_links
from ..selectors.wording import display_formats
from ..services.notices import notices_printable
from ..services.privacy import PetitionerView, case_identity_reveal
from ..services.records import attachment_open


def case_or_404(request: HttpRequest, number: str) -> Case:
    """The case the user may see (PermissionDenied → 403), or 404 when no case has the number."""
    try:
        return case_get(user=request.user, number=number)
    except Case.DoesNotExist:
        raise Http404(_("No case has the number %(number)s.") % {"number": number}) from None


def _render_page(request: HttpRequest, case: Case, *,
                 petitioners: list[PetitionerView] | None = None, **extra) -> HttpResponse:
    page = case_page(user=request.user, case=case, petitioners=petitioners)
    day_format, moment_format = display_formats()
    links = case_action_links(user=request.user, case=case)
    context = {"page": page, "case": case, "day_format": day_format,
               "moment_format": moment_format, "action_links": links,
               "action_names": {name for name, _label in links},
               "notices": notices_printable(user=request.user, case=case), **extra}
    return render(request, "cases/case_page.html", context)


@login_required
@require_GET
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _render_page(request, case_or_404(request, number))


@login_required
@require_POST
def identity_reveal(request: HttpRequest, number: str) -> HttpResponse:
    """Show the petitioners unmasked for this answer only; the service logs who and why."""
    case = case_or_404(request, number)
    reason = request.POST.get("reason", "")
    htmx = request.headers.get("HX-Request") == "true"
    try:
        people = case_identity_reveal(actor=request.user, case=case, reason=reason)
    except PermissionDenied as refusal:
        return render(request, "cases/_page_refused.html", {"case": case, "message": str(refusal)},
                      status=403)
    except ValidationError as invalid:
        error = {"reveal_error": invalid.messages[0], "reveal_reason": reason}
        if not htmx:
            return _render_page(request, case, **error)
        response = render(request, "cases/_petitioners_reveal.html",
                          {"case": case, "page": {"may_reveal": True}, **error})
        response["HX-Retarget"], response["HX-Reswap"] = "#pd-reveal", "outerHTML"
        return response
    if not htmx:
        return _render_page(request, case, petitioners=people, revealed=True)
    context = {"case": case, "page": {"petitioners": people, "may_reveal": True}, "revealed": True}
    return render(request, "cases/_petitioners.html", context)


@login_required
@require_GET
def attachment_download(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """Stream one of the case's files the user may open; accusation material never reaches
    the accused (R22 Art.30), who get 404 as if it were not there."""
    case = case_or_404(request, number)
    try:
        attachment = attachment_open(case=case, actor=request.user, pk=pk)
    except Attachment.DoesNotExist:
        raise Http404(_("This case has no such file.")) from None
    prefix = settings.ATTACHMENT_ACCEL_PREFIX
    if not prefix:
        return FileResponse(attachment.file.open("rb"), as_attachment=True,
                            filename=attachment.original_name)
    # nginx sends the file from its internal location (README, Production), under the
    # headers FileResponse would have set.
    kind = mimetypes.guess_type(attachment.original_name)[0] or "application/octet-stream"
    response = HttpResponse(content_type=kind)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=attachment.original_name)
    response["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{quote(attachment.file.name)}"
    return response
