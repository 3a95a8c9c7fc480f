"""Walk the case events' HMAC-SM3 chains and name the first row that does not verify.

    make manage ARGS="verify_audit"
    make manage ARGS="verify_audit --case 341122-2026-000123"
    make manage ARGS="verify_audit --since 2026-10-01"

Read-only; runs as the runtime role, with the audit keys (AUDIT_MAC_KEYS) of the site.
Prints the rows and cases checked and the latest event id (keep them: a later run that
counts fewer means rows went missing at the end of a chain, which the chain itself cannot
show), then "all rows verify" (exit status 0) or the first row that does not, with why
(exit status 1). What the chain can and cannot show: cases/audit_chain.py and
cases/DECISIONS.md ("The audit trail's chain").
"""

from datetime import date, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.audit_chain import Broken, verify
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import Case


class Command(BaseCommand):
    help = gettext_lazy("Verify the HMAC-SM3 chain of the case events and name the first row "
                        "that does not verify.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--case", metavar="NUMBER",
                            help=gettext_lazy("Verify the events of this case only."))
        parser.add_argument("--since", metavar="YYYY-MM-DD",
                            help=gettext_lazy("Verify, whole, every case with an event on or "
                                              "after this day (office time)."))

    def handle(self, *args, case: str | None = None, since: str | None = None,
               **options) -> None:
        case_id, since_at = None, None
        if case:
            case_id = Case.objects.filter(number=case).values_list("pk", flat=True).first()
            if case_id is None:
                raise CommandError(_("No case is numbered %(number)s.") % {"number": case})
        if since:
            try:
                day = date.fromisoformat(since)
            except ValueError:
                raise CommandError(_("--since takes a day as YYYY-MM-DD.")) from None
            since_at = datetime.combine(day, time.min, tzinfo=OFFICE_TZ)
        report = verify(case_id=case_id, since=since_at)
        self.stdout.write(_("Checked %(rows)s events of %(cases)s cases (the latest event "
                            "checked: %(last)s).") % {
            "rows": f"{report.rows:,}", "cases": f"{report.cases:,}",
            "last": report.last_id or "-"})
        if report.broken is None:
            self.stdout.write(_("All rows verify."))
            return
        self.stdout.write(self._describe(report.broken))
        raise CommandError(_("Event %(id)s does not verify.") % {"id": report.broken.id})

    def _describe(self, broken: Broken) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT number FROM cases_case WHERE id = %s", [broken.case_id])
            found = cursor.fetchone()
        why = {
            "no_mac": _("it carries no MAC"),
            "unknown_key": _("its MAC names the key id %(detail)s, which is not configured"),
            "mac": _("its MAC does not match its content and the row it follows: it was "
                     "changed, moved or forged"),
            "prev_missing": _("the row it follows, %(detail)s, is gone: it was deleted"),
            "prev_other_case": _("the row it follows, %(detail)s, belongs to another case"),
            "prev_not_earlier": _("the row it follows, %(detail)s, is not earlier than itself"),
        }[broken.why] % {"detail": broken.detail}
        return _("The first row that does not verify: event %(id)s of case %(number)s "
                 "(%(kind)s, %(at)s): %(why)s.") % {
            "id": broken.id, "number": found[0] if found else f"id {broken.case_id}",
            "kind": broken.kind, "at": broken.at.astimezone(OFFICE_TZ).isoformat(),
            "why": why}
