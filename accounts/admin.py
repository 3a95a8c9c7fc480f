from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from config.admin_site import AdministratorOnly

from .models import OrgUnit, RoleAssignment, User


@admin.register(OrgUnit)
class OrgUnitAdmin(AdministratorOnly, TreeAdmin):
    form = movenodeform_factory(OrgUnit)
    list_display = ("name", "kind", "code", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code")


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 1
    autocomplete_fields = ("unit",)

    # Inline rights follow the parent: the AdministratorOnly mixin on UserAdmin.
    def has_add_permission(self, request, obj=None) -> bool:
        return True

    def has_change_permission(self, request, obj=None) -> bool:
        return True

    def has_delete_permission(self, request, obj=None) -> bool:
        return True

    def has_view_permission(self, request, obj=None) -> bool:
        return True


@admin.register(User)
class UserAdmin(AdministratorOnly, DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("name", "phone", "email", "language")}),
        (_("Status"), {"fields": ("is_active", "is_staff", "last_login", "date_joined")}),
    )
    list_display = ("username", "name", "phone", "is_active", "last_login")
    search_fields = ("username", "name", "phone")
    list_filter = ("is_active", "role_assignments__role")
    inlines = (RoleAssignmentInline,)
    readonly_fields = ("last_login", "date_joined")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AdministratorOnly, admin.ModelAdmin):
    list_display = ("user", "role", "unit", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__name", "unit__name")
    autocomplete_fields = ("user", "unit")
