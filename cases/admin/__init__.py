"""Admin for the case core: cases (case.py), calendar and clocks (calendar.py), the
escalation ladder (ladder.py), the case events for the audit administrator (audit.py)."""

from . import audit, calendar, case, ladder  # noqa: F401  (registration happens on import)
