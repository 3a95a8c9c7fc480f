"""Run one escalation sweep in the foreground and say what it fired (for operators)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from cases.services.escalation import escalation_reschedule, escalation_sweep
from cases.services.undertaking_warnings import undertakings_warn


class Command(BaseCommand):
    help = "Fire the escalation ladder on every clock whose next level has come due."

    def add_arguments(self, parser):
        parser.add_argument("--reschedule", action="store_true",
                            help="First recompute every open clock's next escalation (after "
                                 "a bulk load or a ladder edit made outside the admin).")

    def handle(self, *args, reschedule: bool = False, **options):
        if reschedule:
            count = escalation_reschedule()
            self.stdout.write(f"rescheduled {count} open clocks")
        now = timezone.now()
        report = escalation_sweep(now=now)
        for (kind, level), count in sorted(report.fired.items()):
            self.stdout.write(f"fired {count} × {kind} level {level}")
        self.stdout.write(f"sweep: {report.total} escalations on {report.clocks} clocks "
                          f"in {report.batches} batches")
        told = undertakings_warn(now=now)
        self.stdout.write(f"told the units of {told} commitments and instructions due")
