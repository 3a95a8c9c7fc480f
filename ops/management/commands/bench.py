"""`make bench`: how fast the demo seeder writes cases into the database it is pointed at."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cases.demo.bulk import demo_cases_seed

DEFAULT_CASES = 100_000


class Command(BaseCommand):
    help = (f"Add N demo cases (default {DEFAULT_CASES:,}: a minute or two on two cores) to the "
            "database this command is pointed at, and print the rates as "
            "'bench: seed_cases_per_s <value> cases/s' and "
            "'bench: seed_events_per_s <value> events/s'. Each run adds N more cases. "
            "Progress goes to stderr. Refused in production.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cases", type=int, default=DEFAULT_CASES, metavar="N",
                            help=f"How many cases to add (default {DEFAULT_CASES:,}).")
        parser.add_argument("--seed", type=int, default=2026, metavar="S",
                            help="Random seed of the generated cases (default 2026).")

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(_("bench writes demo cases, which these settings (production: "
                                 "DEMO_DATA_ALLOWED is False) do not allow. Point it at a "
                                 "development database instead."))
        if options["cases"] < 1:
            raise CommandError(_("--cases must be at least 1."))
        report = demo_cases_seed(count=options["cases"], seed=options["seed"], stdout=self.stderr)
        self.stderr.write(
            f"{report.cases:,} cases, {report.petitioners:,} new petitioners, "
            f"{report.deadlines:,} clocks and {report.events:,} events in {report.seconds:.1f} s")
        self.stdout.write(f"bench: seed_cases_per_s {report.cases_per_s:.0f} cases/s")
        self.stdout.write(f"bench: seed_events_per_s {report.events_per_s:.0f} events/s")
