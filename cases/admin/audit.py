"""The case events for the audit administrator: who did what to which case, and when.

Read-only and exportable like the other audit lists (``accounts/admin/audit.py``). The
event's details are case content (notes, reasons, instructions) and are not shown; the one
exception is the reason given for revealing a petitioner's identity, which is written for
the audit (cases/DECISIONS.md). The case is named by its number only.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin.audit import AuditLogAdmin
from accounts.permissions import Action

from ..choices import EventKind
from ..models import CaseEvent


@admin.register(CaseEvent)
class CaseEventAdmin(AuditLogAdmin):
    audit_action = Action.AUDIT_CASE_EVENTS
    export_name = "case-events"
    list_display = ("at", "kind", "actor", "case_number", "from_status", "to_status",
                    "stated_reason")
    list_filter = (("at", admin.DateFieldListFilter), "kind")
    date_hierarchy = "at"
    search_fields = ("case__number",)
    list_select_related = ("case", "actor")
    ordering = ("-at", "-pk")
    fields = ("at", "kind", "actor", "case_number", "from_status", "to_status", "stated_reason")
    readonly_fields = fields
    export_columns = (
        (_("at"), lambda event: event.at),
        (_("kind"), lambda event: event.get_kind_display()),
        (_("actor"), lambda event: event.actor.username if event.actor else ""),
        (_("case"), lambda event: event.case.number),
        (_("from"), lambda event: event.from_status),
        (_("to"), lambda event: event.to_status),
        (_("stated reason"), lambda event: CaseEventAdmin.stated_reason(None, event)),
    )

    @admin.display(description=_("case"), ordering="case__number")
    def case_number(self, event: CaseEvent) -> str:
        return event.case.number

    @admin.display(description=_("stated reason"))
    def stated_reason(self, event: CaseEvent) -> str:
        if event.kind != EventKind.IDENTITY_REVEALED:
            return ""
        return event.details.get("reason", "")
