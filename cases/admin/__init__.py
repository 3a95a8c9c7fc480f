"""Admin for the case core: cases (case.py) and calendar and clocks (calendar.py)."""

from . import calendar, case  # noqa: F401  (registration happens on import)
