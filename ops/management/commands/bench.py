"""`make bench`: top the development database up to N demo cases, then time the case screens."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ops.bench.screens import Screens
from ops.bench.sweep import bench_sweep
from ops.bench.topup import cases_topup

DEFAULT_CASES = 100_000


class Command(BaseCommand):
    help = (f"Top the database this command is pointed at up to N demo cases (default "
            f"{DEFAULT_CASES:,}; only the missing ones are added, with COPY), seeding the demo "
            "logins if missing, then time the case list, a case page and intake in-process "
            "(Django's test Client: view, middleware and templates, no network). Prints one "
            "'bench: <name> <value> <unit>' line per figure; progress goes to stderr. "
            "Refused in production.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cases", type=int, default=DEFAULT_CASES, metavar="N",
                            help=f"Cases the database should hold (default {DEFAULT_CASES:,}).")
        parser.add_argument("--seed", type=int, default=2026, metavar="S",
                            help="Random seed of the generated cases (default 2026).")
        parser.add_argument("--runs", type=int, default=20, metavar="R",
                            help="Measured requests per figure; the median is printed "
                                 "(default 20).")
        parser.add_argument("--warmups", type=int, default=3, metavar="W",
                            help="Unmeasured requests before each figure (default 3).")

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(_("bench writes demo cases, which these settings (production: "
                                 "DEMO_DATA_ALLOWED is False) do not allow. Point it at a "
                                 "development database instead."))
        if options["cases"] < 1:
            raise CommandError(_("--cases must be at least 1."))
        if options["runs"] < 1 or options["warmups"] < 0:
            raise CommandError(_("--runs must be at least 1 and --warmups 0 or more."))
        before, report = cases_topup(target=options["cases"], seed=options["seed"],
                                     progress=self.stderr)
        if report is None:
            self.stderr.write(f"{before:,} cases already, {options['cases']:,} asked: "
                              "nothing to add")
        else:
            self.stderr.write(
                f"{before:,} cases before: added {report.cases:,} cases, "
                f"{report.petitioners:,} new petitioners, {report.deadlines:,} clocks and "
                f"{report.events:,} events in {report.seconds:.1f} s")
            self.stdout.write(f"bench: seed_cases_per_s {report.cases_per_s:.0f} cases/s")
            self.stdout.write(f"bench: seed_events_per_s {report.events_per_s:.0f} events/s")
        self.stdout.write(f"bench: cases {before + (report.cases if report else 0)} cases")
        Screens(runs=options["runs"], warmups=options["warmups"], out=self.stdout.write,
                err=self.stderr.write).run()
        bench_sweep(line=lambda name, value, unit: self.stdout.write(
            f"bench: {name} {value} {unit}"), err=self.stderr.write)
