from functools import cache

from .selectors import BADGE_CAP, unread_count


def notifications(request) -> dict:
    """The header's unread count, counted only when a page shows it (one capped query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def unread() -> int:
        return unread_count(user=user)

    return {"notifications_unread": unread, "notifications_badge_cap": BADGE_CAP}
