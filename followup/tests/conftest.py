"""Fixtures of the follow-up tests."""

import pytest

from followup.models import FollowUpRule, Trigger

from .helpers import D


@pytest.fixture
def rule(db) -> FollowUpRule:
    """The office's default rule alone: 30 calendar days after a decision is delivered."""
    FollowUpRule.objects.update(active=False)
    return FollowUpRule.objects.create(trigger=Trigger.REPLY_DELIVERED, days=30,
                                       unit="calendar", applies_from=D("2026-01-01"))
