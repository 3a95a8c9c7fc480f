"""The top navigation and each role's home page, derived from the permission module."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .permissions import Action, can


@dataclass(frozen=True)
class NavEntry:
    action: Action
    url_name: str
    label: Promise
    icon: str


# In order of precedence: a user's home is the first entry they may open, so a
# clerk lands on intake, a handler on the unit's cases, a leader on their
# cases, a supervisor on the overdue audit.
ENTRIES = (
    NavEntry(Action.CASE_REGISTER, "cases:intake", _("Intake"), "pencil-square"),
    NavEntry(Action.CASE_LIST_UNIT, "cases:unit_cases", _("Unit cases"), "inbox"),
    NavEntry(Action.CASE_LIST_LED, "cases:my_cases", _("My cases"), "person-check"),
    NavEntry(Action.OVERDUE_AUDIT, "cases:overdue", _("Overdue audit"), "alarm"),
    NavEntry(Action.MEDIATION_REPORT, "mediation:reports", _("Grid reports"), "geo-alt"),
    NavEntry(Action.MEDIATION_HANDLE, "mediation:home", _("Mediation"), "people"),
    NavEntry(Action.ADMINISTER, "admin:index", _("Administration"), "gear"),
)


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool
    icon: str


def nav_items(user, current_path: str = "") -> list[NavItem]:
    """The entries ``user`` may open, marking the one ``current_path`` is under."""
    items = []
    for entry in ENTRIES:
        if can(user, entry.action):
            url = reverse(entry.url_name)
            items.append(NavItem(str(entry.label), url, current_path.startswith(url), entry.icon))
    return items


def home_url(user) -> str | None:
    """Where ``user`` lands after signing in; None when they hold no role."""
    for entry in ENTRIES:
        if can(user, entry.action):
            return reverse(entry.url_name)
    return None
