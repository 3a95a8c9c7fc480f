"""Admin for the case core: cases (case.py), calendar and clocks (calendar.py), the
escalation ladder (ladder.py)."""

from . import calendar, case, ladder  # noqa: F401  (registration happens on import)
