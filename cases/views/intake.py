"""Intake: registering a visit, letter, call or online petition (issue 7)."""

from .placeholders import intake

__all__ = ["intake"]
