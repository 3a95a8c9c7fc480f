"""The follow-up rule an installation starts with (followup/DECISIONS.md F3)."""

from __future__ import annotations

from cases.services.undertakings import office_today

# 30 calendar days after the written decision reached the petitioner: the day their
# review window closes (R22 Art.35: a review is asked within 30 days of receiving the
# reply), so the follow-up finds the matter settled or learns why not. The law sets no
# day for 回头看 (DOMAIN.md §8 question 5); this is the office's choice.
DEFAULT_DAYS = 30


def default_rule_seed(model) -> None:
    """Create the default rule unless any rule exists; ``model`` may be a migration's."""
    if model.objects.exists():
        return
    model.objects.create(trigger="reply_delivered", category=None, urgency="",
                         days=DEFAULT_DAYS, unit="calendar", active=True,
                         applies_from=office_today())
