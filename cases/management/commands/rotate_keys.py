"""Re-encrypt the personal data sealed under an older key (issue 9).

    make manage ARGS="rotate_keys"

To rotate: add a new key to PETITIONDESK_FIELD_KEYS (or the key file), make it
PETITIONDESK_FIELD_KEY_CURRENT, restart, run this; once it reports nothing left
under the old key, remove that key. Safe to stop and run again, and beside the
running site (a value changed meanwhile is left as the change wrote it).
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.fields import encrypted_values_reseal
from config.crypto import DecryptionError, current_key_id


class Command(BaseCommand):
    help = gettext_lazy("Re-encrypt every encrypted value not under the current key, in "
                        "batches, and print the counts.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=5000,
                            help=gettext_lazy("Values per transaction (default 5000)."))

    def handle(self, *args, batch: int, **options) -> None:
        if batch < 1:
            raise CommandError(_("--batch must be at least 1."))
        current = current_key_id()
        try:
            reports = encrypted_values_reseal(batch=batch, progress=lambda report: self.stderr.write(
                f"  {report.label}: {report.resealed:,}"))
        except DecryptionError as error:
            raise CommandError(str(error)) from error
        for report in reports:
            total = sum(report.before.values())
            before = ", ".join(f"{key} {count:,}" for key, count in sorted(report.before.items()))
            self.stdout.write(_("%(column)s: %(total)s values (%(before)s); re-encrypted "
                                "%(done)s under %(key)s, %(left)s left under other keys.") % {
                "column": report.label, "total": f"{total:,}", "before": before or "-",
                "done": f"{report.resealed:,}", "key": current,
                "left": f"{sum(report.after.values()) - report.after[current]:,}"})
