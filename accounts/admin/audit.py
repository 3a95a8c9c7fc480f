"""The audit administrator's pages: the admin's log and the login log, read and exported.

Nothing here adds, changes or deletes (``AuditOnly``). Each list exports what it shows,
with its filters (a period through the date filter or the date drill-down), as CSV or
XLSX, streamed row by row. The case events are in ``cases/admin/audit.py``.
"""

import csv
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from axes.admin import AccessFailureLogAdmin as AxesFailureLogAdmin
from axes.admin import AccessLogAdmin as AxesAccessLogAdmin
from axes.models import AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from config.admin_site import AuditOnly

from ..permissions import Action, can, scope

Column = tuple[Any, Callable[[Any], Any]]  # (heading, value of a row)


class ExportsByPeriod:
    """ModelAdmin mixin: ``export/?format=csv|xlsx`` plus the list's own filters."""

    export_columns: tuple[Column, ...] = ()
    export_name = "audit"

    def get_urls(self):
        view = self.admin_site.admin_view(self.export_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        return [path("export/", view, name=name), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        query = {key: value for key, value in request.GET.items()}
        links = {fmt: "export/?" + urlencode({**query, "format": fmt}) for fmt in ("csv", "xlsx")}
        return super().changelist_view(request, {**(extra_context or {}), "export_links": links})

    def export_view(self, request):
        """Stream the rows the list shows with these filters (the period among them)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        request.GET = request.GET.copy()
        fmt = request.GET.pop("format", ["csv"])[-1]
        changelist = self.get_changelist_instance(request)
        rows = changelist.get_queryset(request).iterator(chunk_size=2000)
        filename = f"{self.export_name}-{timezone.localdate():%Y%m%d}"
        if fmt == "xlsx":
            return self._xlsx(rows, filename)
        return self._csv(rows, filename)

    def _values(self, rows) -> Iterator[list[Any]]:
        yield [str(heading) for heading, _value in self.export_columns]
        for row in rows:
            yield [_cell(value(row)) for _heading, value in self.export_columns]

    def _csv(self, rows, filename: str) -> StreamingHttpResponse:
        writer = csv.writer(_Echo())
        lines = (writer.writerow(values) for values in self._values(rows))
        response = StreamingHttpResponse(_with_bom(lines), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response

    def _xlsx(self, rows, filename: str) -> FileResponse:
        # Write-only mode keeps one row in memory; the file is streamed back in chunks.
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        for values in self._values(rows):
            sheet.append(values)
        spool = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it when sent)
        book.save(spool)
        spool.seek(0)
        return FileResponse(spool, as_attachment=True, filename=f"{filename}.xlsx")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _with_bom(lines: Iterator[str]) -> Iterator[str]:
    yield "\ufeff"  # Excel opens UTF-8 CSV as Chinese only with the byte-order mark
    yield from lines


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        return timezone.localtime(value).replace(tzinfo=None)
    return value if isinstance(value, int | float) else str(value)


class AuditLogAdmin(AuditOnly, ExportsByPeriod, admin.ModelAdmin):
    """A read-only, exportable list scoped by ``audit_action``."""

    audit_action: Action
    change_list_template = "admin/audit_change_list.html"
    show_full_result_count = False
    actions = None

    def get_queryset(self, request):
        return scope(request.user, self.audit_action, super().get_queryset(request))

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, self.audit_action, obj)


@admin.register(LogEntry)
class LogEntryAdmin(AuditLogAdmin):
    """Every change made in the admin, and the administrators' actions (services.admin_log)."""

    audit_action = Action.AUDIT_ADMIN_LOG
    export_name = "admin-log"
    list_display = ("action_time", "user", "content_type", "object_repr", "action_flag",
                    "change_message_text")
    list_filter = (("action_time", admin.DateFieldListFilter), "action_flag", "content_type")
    date_hierarchy = "action_time"
    search_fields = ("object_repr", "user__username", "user__name")
    list_select_related = ("user", "content_type")
    fields = ("action_time", "user", "content_type", "object_id", "object_repr", "action_flag",
              "change_message_text")
    readonly_fields = fields
    export_columns = (
        (_("action time"), lambda entry: entry.action_time),
        (_("user"), lambda entry: entry.user.username),
        (_("content type"), lambda entry: entry.content_type),
        (_("object id"), lambda entry: entry.object_id),
        (_("object repr"), lambda entry: entry.object_repr),
        (_("action flag"), lambda entry: entry.get_action_flag_display()),
        (_("change message"), lambda entry: entry.get_change_message()),
    )

    @admin.display(description=_("change message"))
    def change_message_text(self, entry: LogEntry) -> str:
        return entry.get_change_message()


_LOGIN_COLUMNS = (
    (_("Attempt Time"), lambda row: row.attempt_time),
    (_("Username"), lambda row: row.username),
    (_("IP Address"), lambda row: row.ip_address),
    (_("User Agent"), lambda row: row.user_agent),
    (_("Path"), lambda row: row.path_info),
)

for _model in (AccessLog, AccessFailureLog):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(AccessLog)
class AccessLogAdmin(AuditLogAdmin, AxesAccessLogAdmin):
    """Sign-ins and sign-outs (django-axes)."""

    audit_action = Action.AUDIT_LOGINS
    export_name = "logins"
    export_columns = (*_LOGIN_COLUMNS, (_("Logout Time"), lambda row: row.logout_time))


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(AuditLogAdmin, AxesFailureLogAdmin):
    """Failed sign-ins (django-axes), lockouts marked."""

    audit_action = Action.AUDIT_LOGINS
    export_name = "login-failures"
    export_columns = (*_LOGIN_COLUMNS, (_("Locked out"), lambda row: row.locked_out))
