"""Admin for cases: look, don't touch.

A case changes only through the services (cases/services/), which check the
permission module and write the audit trail; the admin therefore shows cases,
their parties, clocks and events, and changes none of them.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from config.admin_site import ReadOnlyCaseContent

from ..models import Case, CaseEvent, CasePetitioner, Deadline, Decision

# An administrator sees a case only through a case role held as well (三员分立).
ReadOnly = ReadOnlyCaseContent


class PartyInline(ReadOnly, admin.TabularInline):
    model = CasePetitioner
    fields = ("petitioner", "is_main", "is_representative")
    readonly_fields = fields
    extra = 0
    verbose_name_plural = _("petitioners")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("petitioner")


class DeadlineInline(ReadOnly, admin.TabularInline):
    model = Deadline
    fields = ("kind", "status", "is_window", "starts_on", "length", "unit", "extension_days",
              "paused_days", "due_on", "provisional", "closed_at")
    readonly_fields = fields
    ordering = ("pk",)
    extra = 0


class DecisionInline(ReadOnly, admin.TabularInline):
    model = Decision
    fields = ("kind", "outcome", "review_outcome", "unit", "body_name", "issued_by", "issued_at",
              "delivered_on", "delivery_method", "superseded_at")
    readonly_fields = fields
    ordering = ("pk",)
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit", "issued_by")


class EventInline(ReadOnly, admin.TabularInline):
    model = CaseEvent
    fields = ("at", "kind", "actor", "from_status", "to_status", "details")
    readonly_fields = fields
    ordering = ("at", "pk")
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Case)
class CaseAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("number", "status", "channel", "registered_unit", "lead_unit", "received_at")
    list_filter = ("status", "channel", "urgency")
    search_fields = ("number",)
    list_select_related = ("registered_unit", "lead_unit")
    date_hierarchy = "received_at"
    ordering = ("-received_at",)
    show_full_result_count = False  # no COUNT(*) over a million rows on every page
    inlines = (PartyInline, DeadlineInline, DecisionInline, EventInline)
    fieldsets = (
        (None, {"fields": ("number", "status", "channel", "postal_reference", "received_at",
                           "registered_at", "registered_by", "registered_unit")}),
        (_("Matter"), {"fields": ("purpose", "category", "summary", "demands", "headcount",
                                  "is_group", "place_unit", "complained_unit",
                                  "complained_person", "cause_tags", "urgency", "repeat_of",
                                  "new_facts", "no_notice_reason")}),
        (_("Handling"), {"fields": ("lead_unit", "co_units", "leader", "spot_answer",
                                    "refusal_reason", "diversion_channel", "return_reason",
                                    "closed_at")}),
    )
    readonly_fields = [name for _title, options in fieldsets for name in options["fields"]]

    def get_queryset(self, request):
        """Only the cases the permission module lets this administrator see."""
        return super().get_queryset(request).visible_to(request.user)
