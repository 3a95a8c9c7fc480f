"""What the case page asks of followup: whether this user may reissue the query code."""

from django import template

from accounts.permissions import Action, can

register = template.Library()


@register.simple_tag
def query_code_reissuable(user, case) -> bool:
    return can(user, Action.CASE_REISSUE_QUERY_CODE, case)
