"""Show the due day of a period and how it was counted, against the office calendar.

    manage.py explain_deadline --start 2026-09-16 --length 15 --unit calendar

The first line is the due day alone (``2026-10-08``), followed by the word
``provisional`` when it rests on fallback holiday data (``2027-01-04 provisional``),
so scripts can read it; the explanation lines follow.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.deadlines.calendar import Unit
from cases.deadlines.clocks import office_calendar


class Command(BaseCommand):
    help = gettext_lazy("Compute a due day by PetitionDesk's counting rule and explain it.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--start", required=True,
                            help=gettext_lazy("Start day, not counted (YYYY-MM-DD)."))
        parser.add_argument("--length", required=True,
                            help=gettext_lazy("Length of the period in days (1 or more)."))
        parser.add_argument("--unit", default=Unit.CALENDAR,
                            help=gettext_lazy("'calendar' or 'working' days (default: calendar)."))

    def handle(self, *args, start: str, length: str, unit: str, **options) -> None:
        """Print the due day under 民法典 Art. 201/203, then the explanation lines."""
        start_day, days, unit = _parse(start, length, unit)
        try:
            due = office_calendar().due_date(start_day, days, unit)
        except ValueError as exc:  # e.g. a year beyond the fallback holiday data
            raise CommandError(str(exc)) from exc
        except OverflowError as exc:  # past year 9999
            raise CommandError(_("The period runs past the last date the calendar can count.")
                               ) from exc
        # A fixed token, not translated: scripts read the first line.
        self.stdout.write(f"{due.due.isoformat()}{' provisional' if due.provisional else ''}")
        for line in due.explain():
            self.stdout.write(line)


def _parse(start: str, length: str, unit: str) -> tuple[date, int, Unit]:
    """Check the three inputs; raise CommandError with a plain message on the first bad one."""
    try:
        start_day = date.fromisoformat(start)
    except ValueError:
        raise CommandError(_("--start must be a date like 2026-09-16, not %(value)r.")
                           % {"value": start}) from None
    try:
        days = int(length)
    except ValueError:
        days = 0
    if days < 1:
        raise CommandError(_("--length must be a whole number of days, 1 or more, not %(value)r.")
                           % {"value": length})
    if unit not in {member.value for member in Unit}:
        raise CommandError(_("--unit must be 'calendar' or 'working', not %(value)r.")
                           % {"value": unit})
    return start_day, days, Unit(unit)
