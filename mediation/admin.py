"""Admin for mediation and the grid (rights from ``config/admin_site.py``).

* Committees: a system administrator keeps those of the units in their subtree; switched
  off, never deleted (their cases name them).
* Sweep rounds: a system administrator of a county sets a round before a sensitive date
  (mediation/DECISIONS.md M57); the month's rounds are the beat's (``sweep_rounds_open``).
* Grid reports and mediation cases: look, don't touch, to an administrator who also holds a
  role that sees them (三员分立); they change only through their services.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import UnitKind
from accounts.models import OrgUnit, User
from accounts.permissions import Action, can, scope
from config.admin_site import AdministratorOnly

from .models import Committee, GridReport, MediationCase, RoundKind, SweepRound


def _units(user: User, **filters):
    return scope(user, Action.ADMINISTER, OrgUnit.objects.filter(**filters))


@admin.register(Committee)
class CommitteeAdmin(AdministratorOnly, admin.ModelAdmin):
    list_display = ("name", "kind", "unit", "code", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code")
    list_select_related = ("unit",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(unit__in=_units(request.user).values("pk"))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "unit":
            kwargs["queryset"] = _units(request.user).order_by("path")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.ADMINISTER, obj.unit if obj else None)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its cases name it: switched off instead


class SweepRoundForm(forms.ModelForm):
    class Meta:
        model = SweepRound
        fields = ("county", "kind", "name", "opens_on", "due_on")

    def clean_kind(self):
        kind = self.cleaned_data["kind"]
        if self.instance.pk is None and kind != RoundKind.SENSITIVE:
            raise forms.ValidationError(
                _("The month's rounds open by themselves on the 1st; add a round before a "
                  "sensitive date here."), code="monthly")
        return kind

    def clean(self):
        cleaned = super().clean()
        opens_on = cleaned.get("opens_on", self.instance.opens_on)
        due_on = cleaned.get("due_on")
        if opens_on and due_on and due_on < opens_on:
            self.add_error("due_on", _("The returns cannot be due before the round opens."))
        return cleaned


@admin.register(SweepRound)
class SweepRoundAdmin(admin.ModelAdmin):
    """Rounds of the counties in the administrator's reach; only a county's administrator
    adds or changes one. A round's county, kind and opening day stay as made (its returns
    file the reports since then); its name and due day may change."""

    form = SweepRoundForm
    list_display = ("name", "county", "kind", "opens_on", "due_on", "created_by")
    list_filter = ("kind",)
    search_fields = ("name",)
    list_select_related = ("county", "created_by")
    date_hierarchy = "opens_on"
    ordering = ("-opens_on", "-pk")

    def get_queryset(self, request):
        counties = _units(request.user, kind=UnitKind.COUNTY).values("pk")
        return super().get_queryset(request).filter(county__in=counties)

    def get_readonly_fields(self, request, obj=None):
        made = ("created_by", "created_at")
        return ("county", "kind", "opens_on", *made) if obj is not None else made

    def get_changeform_initial_data(self, request):
        return {"kind": RoundKind.SENSITIVE, **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "county":
            kwargs["queryset"] = _units(request.user, kind=UnitKind.COUNTY).order_by("path")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request) -> bool:
        return can(request.user, Action.ADMINISTER)

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.ADMINISTER, obj.county if obj else None)

    def has_add_permission(self, request) -> bool:
        return can(request.user, Action.REFERENCE_EDIT)

    def has_change_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.REFERENCE_EDIT) and (
            obj is None or can(request.user, Action.ADMINISTER, obj.county))

    def has_delete_permission(self, request, obj=None) -> bool:
        # A month's round would open again the next day; a filed round is kept (PROTECT).
        return self.has_change_permission(request, obj) and (
            obj is None or obj.kind == RoundKind.SENSITIVE)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by, obj.created_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)


class _ReadOnlyScoped:
    """Rows the administrator also sees through a role of theirs (``action``), read-only."""

    action: Action

    def get_queryset(self, request):
        return scope(request.user, self.action, super().get_queryset(request))

    def has_module_permission(self, request) -> bool:
        return can(request.user, Action.ADMIN_SITE) and can(request.user, self.action)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(GridReport)
class GridReportAdmin(_ReadOnlyScoped, admin.ModelAdmin):
    action = Action.GRID_REPORT_VIEW
    list_display = ("number", "township", "grid", "kind", "status", "received_at")
    list_filter = ("status", "kind", "threat", "group_involved", "violence_risk")
    search_fields = ("number",)
    list_select_related = ("township", "grid")
    date_hierarchy = "received_at"
    ordering = ("-received_at",)
    show_full_result_count = False
    exclude = ("client_key",)


@admin.register(MediationCase)
class MediationCaseAdmin(_ReadOnlyScoped, admin.ModelAdmin):
    action = Action.MEDIATION_VIEW
    list_display = ("number", "committee", "kind", "dispute_kind", "status", "opened_at")
    list_filter = ("status", "kind", "dispute_kind")
    search_fields = ("number",)
    list_select_related = ("committee",)
    date_hierarchy = "opened_at"
    ordering = ("-opened_at",)
    show_full_result_count = False
