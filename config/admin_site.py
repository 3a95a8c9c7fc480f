from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Action, can


class PetitionDeskAdminSite(admin.AdminSite):
    """Django admin, opened to whoever the permission module calls an administrator."""

    site_header = _("PetitionDesk administration")
    site_title = _("PetitionDesk")
    index_title = _("Administration")

    def has_permission(self, request) -> bool:
        return can(request.user, Action.ADMINISTER)

    def login(self, request, extra_context=None):
        """Use the application's login; a signed-in non-administrator is refused."""
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", reverse("admin:index")))


class AdministratorOnly:
    """ModelAdmin mixin: every admin right comes from the permission module."""

    def _administers(self, request) -> bool:
        return can(request.user, Action.ADMINISTER)

    def has_module_permission(self, request) -> bool:
        return self._administers(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._administers(request)

    def has_add_permission(self, request, *args) -> bool:
        return self._administers(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._administers(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._administers(request)


class ReadOnlyForAdministrators(AdministratorOnly):
    """Administrators may look; nobody adds, changes or deletes (services own these rows)."""

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
