from .navigation import nav_items
from .selectors import roles_summary


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": [], "roles_summary": ""}
    return {"nav": nav_items(user, request.path), "roles_summary": roles_summary(user=user)}
