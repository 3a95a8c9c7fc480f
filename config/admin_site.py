"""The admin site of the three administrators (三员分立), every right from the permission module.

Each ModelAdmin takes one of the mixins below, which name the action that opens it:

* :class:`AdministratorOnly` — the system administrator's pages (units, users, roles);
* :class:`ReferenceTable` — the calendar, clock rules, ladder and categories: every system
  administrator reads them, only one of a county edits them;
* :class:`SecurityOnly` — the security administrator's (passwords, lockouts, sessions);
* :class:`AuditOnly` — the audit administrator's, read-only;
* :class:`ReadOnlyCaseContent` — cases and their clocks, read-only, to whoever holds a case
  role besides an administrator role (an administrator alone sees no case).

A Django superuser (``createsuperuser``, the break-glass account) passes every
administrator's check; see ``BREAK_GLASS`` in ``accounts/permissions.py``.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.password_validation import password_validators_help_texts
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action, can


class PetitionDeskAdminSite(admin.AdminSite):
    """Django admin, opened to the three administrators the permission module names."""

    site_header = _("PetitionDesk administration")
    site_title = _("PetitionDesk")
    index_title = _("Administration")

    def has_permission(self, request) -> bool:
        return can(request.user, Action.ADMIN_SITE)

    def login(self, request, extra_context=None):
        """Use the application's login; a signed-in non-administrator is refused."""
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", reverse("admin:index")))

    def get_urls(self):
        return [
            path("security/password-policy/", self.admin_view(self.password_policy_view),
                 name="password_policy"),
            *super().get_urls(),
        ]

    def get_app_list(self, request, app_label=None):
        """The apps and models, plus the security administrator's password policy page."""
        apps = super().get_app_list(request, app_label)
        if app_label is None and can(request.user, Action.SECURITY_ADMINISTER):
            url = reverse("admin:password_policy", current_app=self.name)
            apps.append({
                "name": _("Security policy"), "app_label": "security_policy", "app_url": url,
                "has_module_perms": True,
                "models": [{"name": _("Password policy"), "object_name": "PasswordPolicy",
                            "admin_url": url, "add_url": None, "view_only": True,
                            "perms": {"view": True}}],
            })
        return apps

    def password_policy_view(self, request):
        """The password, lockout and session rules in force (read-only: they are settings)."""
        if not can(request.user, Action.SECURITY_ADMINISTER):
            raise PermissionDenied
        context = {**self.each_context(request), "title": _("Password policy"),
                   "policy": _password_policy()}
        return TemplateResponse(request, "admin/password_policy.html", context)


def _password_policy() -> list[tuple[str, list[str]]]:
    """The rules in force, as (heading, lines): they are settings, changed at deployment."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return [
        (_("Passwords"), password_validators_help_texts()),
        (_("Lockout"), [_("%(limit)d failed logins for one user name from one address lock "
                          "that pair for %(minutes)d minutes.")
                        % {"limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}]),
        (_("Sessions"), [_("A session ends after %(minutes)d minutes without a request, and "
                           "when the browser closes.")
                         % {"minutes": settings.SESSION_COOKIE_AGE // 60}]),
        (_("Second factor"), [_second_factor_policy()]),
    ]


def _second_factor_policy() -> str:
    from accounts.otp import required_roles

    roles = sorted(str(role.label) for role in required_roles())
    if not roles:
        return str(_("An authenticator app is optional for every role (OTP_REQUIRED_ROLES is "
                      "empty); whoever has set one up is asked for its code."))
    return str(_("Required, with an authenticator app, for: %(roles)s.")
               % {"roles": "、".join(roles)})


class _Guarded:
    """ModelAdmin mixin: view with ``view_action``, write with ``write_action`` (None: never)."""

    view_action: Action
    write_action: Action | None = None

    def has_module_permission(self, request) -> bool:
        return can(request.user, self.view_action)

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, self.view_action)

    def has_add_permission(self, request, *args) -> bool:
        return self.write_action is not None and can(request.user, self.write_action)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.write_action is not None and can(request.user, self.write_action)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.write_action is not None and can(request.user, self.write_action)


class AdministratorOnly(_Guarded):
    """The system administrator's pages; querysets and objects are scoped by each admin."""

    view_action = Action.ADMINISTER
    write_action = Action.ADMINISTER


class ReadOnlyForAdministrators(AdministratorOnly):
    """System administrators may look; nobody adds, changes or deletes (services own these rows)."""

    write_action = None


class ReferenceTable(_Guarded):
    """The reference tables: every system administrator reads, one of a county edits."""

    view_action = Action.ADMINISTER
    write_action = Action.REFERENCE_EDIT


class SecurityOnly(_Guarded):
    """The security administrator's pages; each admin says what it lets them change."""

    view_action = Action.SECURITY_ADMINISTER
    write_action = None


class AuditOnly(_Guarded):
    """The audit administrator's pages: read and export, change nothing."""

    view_action = Action.AUDIT_READ
    write_action = None


class ReadOnlyCaseContent(_Guarded):
    """Cases and their clocks, read-only; each admin scopes its rows by ``visible_to``.

    Open to an administrator who also holds a case role: the case role shows the case,
    the administrator role only lets them in (三员分立: no case content by office alone).
    """

    view_action = Action.CASE_VIEW
    write_action = None

    def has_module_permission(self, request) -> bool:
        return can(request.user, Action.ADMIN_SITE) and can(request.user, Action.CASE_VIEW)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)
