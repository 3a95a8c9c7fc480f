"""The supervisors' overdue audit (/cases/overdue/) and its ledger in Excel (export.xlsx).

The export has no row cap of its own: rows come through a server-side cursor
(``overdue_ledger``), go into openpyxl's write-only workbook, which streams each
sheet to a temporary file as rows arrive, and the finished file is sent from
disk by FileResponse. Memory holds one cursor chunk, whatever the total. A sheet
that reaches Excel's row limit is continued on the next sheet.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable
from typing import IO

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from accounts.decorators import require_action
from accounts.permissions import Action

from ..deadlines.clocks import OFFICE_TZ
from ..filters_overdue import OverdueFilter
from ..selectors.overdue import LedgerRow, overdue_filter, overdue_ledger, overdue_page

# Who exported what: operators route this logger to the audit log.
audit_log = logging.getLogger("cases.export")

# Rows a worksheet holds in Excel, the header included (a module constant: a test
# sets it small to see the ledger continue on the next sheet).
SHEET_ROWS = 1_048_576
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (header, column width): no petitioner's data, only the case, its units, leader and clock.
LEDGER_COLUMNS = (
    (gettext_lazy("Case number"), 16), (gettext_lazy("Case state"), 12),
    (gettext_lazy("Received on"), 12), (gettext_lazy("Lead unit"), 22),
    (gettext_lazy("Responsible leader"), 12), (gettext_lazy("Clock"), 14),
    (gettext_lazy("Due day"), 12), (gettext_lazy("Overdue or at risk"), 10),
    (gettext_lazy("Days overdue"), 10), (gettext_lazy("Working days left"), 10),
    (gettext_lazy("Escalation levels fired"), 12), (gettext_lazy("Current level"), 10),
    (gettext_lazy("Last escalated at"), 18), (gettext_lazy("Escalated to"), 30),
)


@require_action(Action.OVERDUE_AUDIT)
def overdue_audit(request: HttpRequest) -> HttpResponse:
    """The audit page, or (for htmx) just its results, for the filters in the query string."""
    page = overdue_page(user=request.user, params=request.GET,
                        after=request.GET.get("after"), before=request.GET.get("before"))
    partial = ("HX-Request" in request.headers
               and "HX-History-Restore-Request" not in request.headers)
    template = "cases/_overdue_results.html" if partial else "cases/overdue.html"
    response = render(request, template, {"page": page, "form": page.form})
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_action(Action.OVERDUE_AUDIT)
def overdue_export(request: HttpRequest) -> FileResponse:
    """The filtered audit as an Excel ledger (台账), every row, streamed from a temporary file."""
    filterset = overdue_filter(user=request.user, params=request.GET)
    # Not a ``with``: FileResponse closes the file once sent, which removes it from disk.
    file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
    try:
        rows, sheets = ledger_write(overdue_ledger(filterset), file)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    audit_log.info("overdue ledger exported: user=%s (id %s) rows=%d sheets=%d filters=%s",
                   request.user.username, request.user.pk, rows, sheets, _applied(filterset))
    stem, today = _("overdue-ledger"), timezone.localtime(filterset.now, OFFICE_TZ).date()
    return FileResponse(file, as_attachment=True, content_type=XLSX,
                        filename=f"{stem}-{today.isoformat()}.xlsx")


def ledger_write(rows: Iterable[LedgerRow], file: IO[bytes]) -> tuple[int, int]:
    """Write the ledger to ``file``, a new sheet each ``SHEET_ROWS`` rows; return (rows, sheets)."""
    workbook = Workbook(write_only=True)
    title, sheet, used, count, sheets = _("Overdue ledger"), None, SHEET_ROWS, 0, 0
    for row in rows:
        if used >= SHEET_ROWS:
            sheets += 1
            sheet = _sheet_start(workbook, title if sheets == 1 else f"{title} ({sheets})")
            used = 1
        sheet.append(_cells(sheet, row))
        used += 1
        count += 1
    if sheet is None:  # nothing matched: the header alone, so the file still opens
        sheets = 1
        _sheet_start(workbook, title)
    workbook.save(file)
    return count, sheets


def _sheet_start(workbook: Workbook, title: str):
    """A new sheet with its column widths, the header row in bold, frozen in view."""
    sheet = workbook.create_sheet(title)
    for index, (_label, width) in enumerate(LEDGER_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for label, _width in LEDGER_COLUMNS:
        cell = WriteOnlyCell(sheet, value=str(label))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    return sheet


def _cells(sheet, row: LedgerRow) -> list:
    """One ledger row as cells; days as ISO dates (yyyy-mm-dd), numbers as numbers."""
    separator = pgettext("list separator", ", ")
    standing = _("Overdue") if row.standing == "overdue" else _("At risk")
    return [row.number, row.status, _date(sheet, row.received_on, "yyyy-mm-dd"), row.lead_unit,
            row.leader, row.clock, _date(sheet, row.due_on, "yyyy-mm-dd"), standing,
            row.days_overdue, row.working_days_left,
            separator.join(str(level) for level in row.levels), row.last_level,
            _date(sheet, row.last_fired_at, "yyyy-mm-dd hh:mm"), separator.join(row.escalated_to)]


def _date(sheet, value, number_format: str):
    if value is None:
        return None
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _applied(filterset: OverdueFilter) -> str:
    """The filters the export used, as a query string of ids, codes and dates (no names)."""
    filterset.is_valid()
    applied = sorted((name, getattr(value, "pk", value))
                     for name, value in filterset.form.cleaned_data.items()
                     if value not in (None, ""))
    return urlencode(applied) or "-"

