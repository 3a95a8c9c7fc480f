"""The case list (/cases/): every case the user may see, filtered in the query string."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from accounts.decorators import require_action
from accounts.permissions import Action

from ..selectors.lists import case_list_page


# Anyone who may view cases anywhere opens the list; ``visible_to`` decides the rows.
@require_action(Action.CASE_VIEW)
def case_list_view(request: HttpRequest) -> HttpResponse:
    """The list page, or (for htmx) just its results, for the filters in the query string."""
    page = case_list_page(user=request.user, params=request.GET,
                          after=request.GET.get("after"), before=request.GET.get("before"))
    partial = ("HX-Request" in request.headers
               and "HX-History-Restore-Request" not in request.headers)
    template = "cases/_case_table.html" if partial else "cases/case_list.html"
    response = render(request, template, {"page": page, "form": page.form})
    patch_vary_headers(response, ["HX-Request"])
    return response
