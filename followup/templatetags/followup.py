"""What the case pages ask of followup: whether this user may reissue the query code; the
case's follow-ups and leader's decisions this user sees (links to their pages); whether
the case list may offer a 回头看 campaign over its filters."""

from django import template

from accounts.permissions import Action, can

register = template.Library()


@register.simple_tag
def query_code_reissuable(user, case) -> bool:
    return can(user, Action.CASE_REISSUE_QUERY_CODE, case)


@register.simple_tag
def campaign_startable(user) -> bool:
    return can(user, Action.CAMPAIGN_CREATE)


@register.simple_tag
def case_follow_ups(user, case) -> list:
    """The follow-ups of ``case`` the user sees, newest first, each with the leader's
    decision the user sees on it (``seen_decision``, or None)."""
    from followup.models import FollowUp, FollowUpDecision

    # Most cases have none: one indexed query each, and ``can`` on the few rows there are
    # (the permission module's object check, the same table as the lists' scope).
    rows = [row for row in FollowUp.objects.filter(case=case).order_by("-due_on", "-pk")
            if _of(row, case) and can(user, Action.FOLLOW_UP_VIEW, row)]
    decisions = {d.follow_up_id: d
                 for d in FollowUpDecision.objects.filter(case=case).select_related("unit")
                 if _of(d, case) and can(user, Action.FOLLOW_UP_DECISION_VIEW, d)}
    for row in rows:
        row.seen_decision = decisions.pop(row.pk, None)
    # A leader sees the decision put to them without seeing the follow-up's page.
    return rows + [_Alone(d) for d in decisions.values()]


def _of(row, case) -> bool:
    """Give ``row`` the page's case, so the permission check reads no case again."""
    row.case = case
    return True


class _Alone:
    """A decision whose follow-up the user does not see: listed on its own."""

    def __init__(self, decision) -> None:
        self.pk, self.seen_decision, self.alone = None, decision, True
