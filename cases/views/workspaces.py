"""The unit's inbox and the leader's workspace (issue 7)."""

from .placeholders import my_cases, unit_cases

__all__ = ["my_cases", "unit_cases"]
