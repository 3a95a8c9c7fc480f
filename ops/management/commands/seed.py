import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.demo import COUNTY, demo_org_seed, demo_users_seed
from accounts.models import OrgUnit
from cases.demo.bulk import demo_cases_seed
from cases.models import Case
from mediation.demo import demo_committees_seed, demo_disputes_seed


class Command(BaseCommand):
    help = ("Load the demo county and one login per role (idempotent); with --cases N, also add "
            "N generated demo cases (each run adds more). Refused in production, and on a "
            "database holding units other than the demo county's.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cases", type=int, default=0, metavar="N",
                            help="Also add N demo cases, written with COPY (default 0).")
        parser.add_argument("--cases-if-empty", type=int, default=0, metavar="N",
                            help="Add N demo cases only when there are no cases yet "
                                 "(what `make run` does, so a first run has cases to show).")
        parser.add_argument("--seed", type=int, default=2026, metavar="S",
                            help="Random seed of the generated cases (default 2026).")

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(_("Demo data is not allowed with these settings (production)."))
        foreign = _foreign_units()
        if foreign.exists():
            examples = foreign.order_by("code").values_list("code", flat=True)[:3]
            raise CommandError(_(
                "This database holds %(count)s units outside the demo county %(code)s (e.g. "
                "%(example)s): it is a real office's, and demo logins and cases stay out of it."
            ) % {"count": foreign.count(), "code": COUNTY[0], "example": ", ".join(examples)})
        if options["cases"] < 0:
            raise CommandError(_("--cases must be 0 or more."))
        password = os.environ.get("DEMO_PASSWORD", "demo")
        county = demo_org_seed()
        logins = demo_users_seed(password=password)
        demo_committees_seed()
        demo_disputes_seed()
        self.stdout.write(_("Demo county: %(name)s") % {"name": county.name})
        self.stdout.write(_("Demo logins (password: %(password)s):") % {"password": password})
        for login in logins:
            self.stdout.write(f"  {login.username:<11} {login.name:<6} {login.describe()}")
        count = options["cases"]
        if not count and options["cases_if_empty"] and not Case.objects.exists():
            count = options["cases_if_empty"]
        if count:
            self._seed_cases(count=count, seed=options["seed"])

    def _seed_cases(self, *, count: int, seed: int) -> None:
        report = demo_cases_seed(count=count, seed=seed, stdout=self.stdout)
        self.stdout.write(_(
            "Seeded %(cases)s cases in %(seconds).1f s (%(rate)s cases/s): %(petitioners)s new "
            "petitioners, %(parties)s case petitioners, %(clocks)s clocks, %(events)s events."
        ) % {"cases": f"{report.cases:,}", "seconds": report.seconds,
             "rate": f"{report.cases_per_s:,.0f}", "petitioners": f"{report.petitioners:,}",
             "parties": f"{report.parties:,}", "clocks": f"{report.deadlines:,}",
             "events": f"{report.events:,}"})


def _foreign_units():
    """The units that are neither the demo county nor below it in its tree."""
    county = OrgUnit.objects.filter(code=COUNTY[0]).first()
    units = OrgUnit.objects.all()
    if county is not None:
        units = units.exclude(path__startswith=county.path)
    return units
