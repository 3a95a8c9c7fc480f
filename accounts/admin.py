from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import MoveNodeForm, movenodeform_factory

from config.admin_site import AdministratorOnly

from .models import OrgUnit, RoleAssignment, User


class OrgUnitMoveForm(MoveNodeForm):
    """treebeard's move form, plus the tree's shape rule (``OrgUnit.clean_parent``)."""

    def target_parent(self) -> OrgUnit | None:
        """The unit this one will sit under once saved, from the reference node and position."""
        reference = self.cleaned_data.get("treebeard_ref_node")
        position = self.cleaned_data.get("treebeard_position")
        if reference is None:
            return None  # a root
        if position in ("sorted-child", "first-child", "last-child"):
            return reference
        return OrgUnit.objects.get_parent(reference)  # a sibling: same parent as the reference

    def clean(self):
        cleaned = super().clean()
        if "treebeard_position" not in cleaned or self.has_error("kind"):
            return cleaned
        try:
            self.instance.kind = cleaned.get("kind", self.instance.kind)
            self.instance.clean_parent(self.target_parent())
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


@admin.register(OrgUnit)
class OrgUnitAdmin(AdministratorOnly, TreeAdmin):
    form = movenodeform_factory(OrgUnit, form=OrgUnitMoveForm)
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
