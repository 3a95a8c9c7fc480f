"""What every paged list's template needs: the address of another page of the same list."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_query(context, number: int) -> str:
    """The list's query string with ``page`` set to ``number``: its filters and choices (the
    rest of ``request.GET``) are kept as the user gave them. Escaped by the template."""
    query = context["request"].GET.copy()
    query["page"] = number
    return query.urlencode()
