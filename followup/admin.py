"""The follow-up rules in the admin: a reference table like the clock rules (every system
administrator reads them, one of a county edits them). An edit applies from the next
scheduler run; follow-ups already made keep their day (followup/DECISIONS.md F2-F3)."""

from django.contrib import admin

from config.admin_site import ReferenceTable

from .models import FollowUpRule


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(ReferenceTable, admin.ModelAdmin):
    list_display = ("trigger", "category", "urgency", "days", "unit", "applies_from", "active")
    list_filter = ("trigger", "active")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # follow-ups name their rule; a rule is switched off, not deleted
