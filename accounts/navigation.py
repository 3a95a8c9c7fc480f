"""The top navigation and each role's home page, derived from the permission module."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .permissions import Action, can


@dataclass(frozen=True)
class NavEntry:
    action: Action | tuple[Action, ...]  # any of these opens it
    url_name: str
    label: Promise
    icon: str

    def allowed(self, user) -> bool:
        actions = self.action if isinstance(self.action, tuple) else (self.action,)
        return any(can(user, action) for action in actions)


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
    # Dispute sweeps (矛盾纠纷排查): a grid's or village's return, the township's overview.
    NavEntry((Action.SWEEP_FILE, Action.SWEEP_VIEW), "mediation:sweeps", _("Dispute sweeps"),
             "clipboard-check"),
    # The township centre triages the grid's reports; the county's petition office registers
    # those sent to 包案 (the grid worker's own entry is above).
    NavEntry((Action.GRID_REPORT_TRIAGE, Action.GRID_REPORT_REGISTER), "mediation:reports",
             _("Grid reports"), "geo-alt"),
    # The three administrators (system, security, audit) all work in the admin site.
    NavEntry(Action.ADMIN_SITE, "admin:index", _("Administration"), "gear"),
    # Every member of staff sees the county's board of listed supervision (挂牌督办).
    NavEntry(Action.SUPERVISION_BOARD, "cases:supervision", _("Supervision"), "flag"),
    # The staff follow-ups (回头看) of the office's and the units' cases.
    NavEntry(Action.FOLLOW_UP_LIST, "followup_staff:followups", _("Follow-ups"), "telephone"),
    # The leaders' decisions on dissatisfied follow-ups (the leaders' own entry to them).
    NavEntry(Action.FOLLOW_UP_DECISIONS, "followup_staff:decisions", _("Follow-up decisions"),
             "signpost-split"),
    # Every case the user may see; last, so it is nobody's home.
    NavEntry(Action.CASE_VIEW, "cases:list", _("All cases"), "list-ul"),
)


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool
    icon: str


def nav_items(user, current_path: str = "") -> list[NavItem]:
    """The entries ``user`` may open, marking the one ``current_path`` is under."""
    allowed, seen = [], set()
    for entry in ENTRIES:  # an address reached by two entries is listed once, the first
        url = reverse(entry.url_name)
        if url not in seen and entry.allowed(user):
            allowed.append((entry, url))
            seen.add(url)
    # The longest address the page is under is the active one: /cases/intake/ is "Intake",
    # not also "All cases" (/cases/).
    matches = [url for _entry, url in allowed if current_path.startswith(url)]
    active = max(matches, key=len, default=None)
    return [NavItem(str(entry.label), url, url == active, entry.icon) for entry, url in allowed]


def home_url(user) -> str | None:
    """Where ``user`` lands after signing in; None when they hold no role."""
    for entry in ENTRIES:
        if entry.allowed(user):
            return reverse(entry.url_name)
    return None
