"""The system administrator's pages: the unit tree, users and role grants, in their subtree.

An administrator manages units strictly below their own, grants roles only there, and
edits only users whose every role lies in their subtree (``accounts/permissions.py``:
``UNIT_MANAGE``, ``ROLE_MANAGE``, ``USER_MANAGE``). Users are deactivated, never deleted,
so every audit row keeps its actor; passwords are the security administrator's.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.exceptions import InvalidMoveToDescendant, InvalidPosition, PathOverflow
from treebeard.forms import MoveNodeForm, movenodeform_factory

from config.admin_site import AdministratorOnly

from ..choices import ADMIN_ROLES
from ..models import OrgUnit, RoleAssignment, User
from ..permissions import Action, can, scope
from ..services import (
    org_unit_move,
    org_unit_move_record,
    role_grant,
    role_grant_check,
    role_revoke,
    user_deactivate,
)


class OrgUnitMoveForm(MoveNodeForm):
    """treebeard's move form, plus the tree's shape rule and the administrator's subtree."""

    actor: User | None = None  # set per request by OrgUnitAdmin.get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.actor is not None and not self.actor.is_superuser:
            field = self.fields["treebeard_ref_node"]
            field.queryset = scope(self.actor, Action.ADMINISTER, field.queryset)
            field.empty_label = None  # only the break-glass account adds a county

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
        parent = self.target_parent()
        try:
            self.instance.kind = cleaned.get("kind", self.instance.kind)
            self.instance.clean_parent(parent)
        except ValidationError as error:
            self.add_error(None, error)
        if self.actor is not None and not (
                can(self.actor, Action.ADMINISTER, parent) if parent is not None
                else self.actor.is_superuser):
            self.add_error(None, _("A unit can be placed only under your own unit or below it."))
        return cleaned


class _NodeMoveForm(forms.Form):
    """What treebeard's drag and drop posts."""

    node = forms.ModelChoiceField(queryset=OrgUnit.objects.all())
    target = forms.ModelChoiceField(queryset=OrgUnit.objects.all())
    relation = forms.ChoiceField(choices=(("child", "child"), ("sibling", "sibling")))


@admin.register(OrgUnit)
class OrgUnitAdmin(AdministratorOnly, TreeAdmin):
    form = movenodeform_factory(OrgUnit, form=OrgUnitMoveForm)
    list_display = ("name", "kind", "code", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_queryset(self, request):
        queryset = scope(request.user, Action.ADMINISTER, super().get_queryset(request))
        if (getattr(request, "_treebeard_parent_id", "") is None
                and not getattr(request, "_ignore_treebeard_filters", False)
                and not self.is_filtered(request) and not request.user.is_superuser):
            # The top of the tree as this administrator sees it: their own units.
            return scope(request.user, Action.ADMINISTER, OrgUnit.objects.all()).exclude(
                pk__in=scope(request.user, Action.UNIT_MANAGE, OrgUnit.objects.all()))
        return queryset

    def get_search_results(self, request, queryset, search_term):
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "autocomplete":
            # The only unit picker with a search is a role grant's: units below one's own.
            queryset = scope(request.user, Action.UNIT_MANAGE, queryset)
        return super().get_search_results(request, queryset, search_term)

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.ADMINISTER, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.UNIT_MANAGE, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.UNIT_MANAGE, obj)

    def save_form(self, request, form, change):
        before = OrgUnit.objects.get_parent(form.instance, update=True) if change else None
        unit = super().save_form(request, form, change)  # treebeard moves the unit here
        if change:
            org_unit_move_record(unit=unit, before=before, actor=request.user)
        return unit

    def move_node(self, request):
        """treebeard's drag and drop, through the same checks and log as the form."""
        form = _NodeMoveForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest("Invalid form data provided")
        node, target = form.cleaned_data["node"], form.cleaned_data["target"]
        position = {"child": "sorted-child", "sibling": "sorted-sibling"}[
            form.cleaned_data["relation"]]
        try:
            org_unit_move(unit=node, target=target, position=position, actor=request.user)
        except PermissionDenied as error:
            messages.error(request, str(error))
            raise
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return HttpResponseBadRequest("Refused move")
        except (PathOverflow, InvalidMoveToDescendant, InvalidPosition) as error:
            messages.error(request, str(error))
            return HttpResponseBadRequest("Refused move")
        messages.info(request, _("Moved %(unit)s; the jurisdictions under it moved with it.")
                      % {"unit": node})
        return HttpResponse("OK")


class RoleAssignmentForm(forms.ModelForm):
    """A grant, checked against the acting administrator's reach and the separation of duties."""

    actor: User | None = None  # set per request by the admin

    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "unit")

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user") or getattr(self.instance, "user", None)
        if user is None or not cleaned.get("role") or not cleaned.get("unit"):
            return cleaned
        try:
            role_grant_check(user=user, role=cleaned["role"], unit=cleaned["unit"],
                             actor=self.actor)
        except PermissionDenied as error:
            raise ValidationError(str(error), code="out_of_reach") from error
        return cleaned


class RoleAssignmentFormSet(BaseInlineFormSet):
    """The user's grants: revoked only below the administrator; one administrator role."""

    actor: User | None = None

    def clean(self):
        super().clean()
        kept = [form for form in self.forms
                if form.cleaned_data and not self._should_delete_form(form)]
        admin_roles = {form.cleaned_data.get("role") for form in kept} & ADMIN_ROLES
        if len(admin_roles) > 1:
            raise ValidationError(_("One person holds only one of the three administrator roles."))
        for form in self.deleted_forms:
            if form.instance.pk and not can(self.actor, Action.ROLE_MANAGE, form.instance):
                raise ValidationError(_("You may revoke roles only in units below your own."))


class RoleAssignmentInline(admin.TabularInline):
    """A grant is added or revoked, never edited; each goes through role_grant/role_revoke."""

    model = RoleAssignment
    form = RoleAssignmentForm
    formset = RoleAssignmentFormSet
    fields = ("role", "unit", "created_at")
    readonly_fields = ("created_at",)
    extra = 1
    autocomplete_fields = ("unit",)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        form = type(formset.form.__name__, (formset.form,), {"actor": request.user})
        return type(formset.__name__, (formset,), {"actor": request.user, "form": form})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "unit":
            kwargs["queryset"] = scope(request.user, Action.UNIT_MANAGE, OrgUnit.objects.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.ADMINISTER)

    def has_add_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.ADMINISTER) and (
            obj is None or can(request.user, Action.USER_MANAGE, obj))

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_add_permission(request, obj)


@admin.register(User)
class UserAdmin(AdministratorOnly, DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("Personal info"), {"fields": ("name", "phone", "email", "language")}),
        (_("Status"), {"fields": ("is_active", "must_change_password", "is_staff", "last_login",
                                  "date_joined")}),
    )
    list_display = ("username", "name", "phone", "is_active", "last_login")
    search_fields = ("username", "name", "phone")
    list_filter = ("is_active", "role_assignments__role")
    inlines = (RoleAssignmentInline,)
    readonly_fields = ("must_change_password", "is_staff", "last_login", "date_joined")
    actions = ("deactivate",)

    def get_queryset(self, request):
        return scope(request.user, Action.USER_MANAGE, super().get_queryset(request))

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return can(request.user, Action.ADMINISTER)
        return can(request.user, Action.USER_MANAGE, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: the audit rows name their actor

    def user_change_password(self, request, id, form_url=""):
        raise PermissionDenied  # the security administrator's (accounts/admin/security.py)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.must_change_password = True  # the administrator chose it, not the user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not RoleAssignment:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for assignment in formset.deleted_objects:
            role_revoke(user=form.instance, role=assignment.role, unit=assignment.unit,
                        actor=request.user)
        for assignment in formset.new_objects:
            role_grant(user=form.instance, role=assignment.role, unit=assignment.unit,
                       actor=request.user)
        return None

    @admin.action(description=_("Deactivate the selected users"), permissions=["change"])
    def deactivate(self, request, queryset) -> None:
        users = [user for user in queryset if user.is_active]
        for user in users:
            user_deactivate(user=user, actor=request.user)
        self.message_user(request, _("%(count)d users deactivated; their sessions ended.")
                          % {"count": len(users)}, messages.SUCCESS)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AdministratorOnly, admin.ModelAdmin):
    form = RoleAssignmentForm
    list_display = ("user", "role", "unit", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__name", "unit__name")
    autocomplete_fields = ("user", "unit")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_queryset(self, request):
        return scope(request.user, Action.ROLE_MANAGE,
                     super().get_queryset(request).select_related("user", "unit"))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "unit":
            kwargs["queryset"] = scope(request.user, Action.UNIT_MANAGE, OrgUnit.objects.all())
        elif db_field.name == "user":
            kwargs["queryset"] = scope(request.user, Action.USER_MANAGE, User.objects.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a grant is added or revoked, never edited

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is None:
            return can(request.user, Action.ADMINISTER)
        return (can(request.user, Action.ROLE_MANAGE, obj)
                and can(request.user, Action.USER_MANAGE, obj.user))

    def save_model(self, request, obj, form, change) -> None:
        obj.pk = role_grant(user=obj.user, role=obj.role, unit=obj.unit, actor=request.user).pk

    def delete_model(self, request, obj) -> None:
        role_revoke(user=obj.user, role=obj.role, unit=obj.unit, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)
