"""A hearing pauses the re-review decision clock; its days are added back."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases.choices import CaseStatus, ClockKind, ClockStatus
from cases.deadlines.clocks import clock_start
from cases.services.hearings import case_hearing_end, case_hearing_start
from cases.tests.factories import CaseFactory
from cases.tests.helpers import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def rereview(supervisor):
    case = CaseFactory(status=CaseStatus.REREVIEW_REQUESTED)
    clock_start(case=case, kind=ClockKind.REREVIEW_DECISION, start=at("2026-03-02"),
                actor=supervisor, at=at("2026-03-02"))
    return case


def test_the_hearing_days_are_added_to_the_decision_clock(rereview, supervisor):
    # given a 30-day clock from 2026-03-02: due 2026-04-01
    # when a hearing runs from 03-10 to 03-17
    paused = case_hearing_start(case=rereview, actor=supervisor, reason="3月10日听证",
                                at=at("2026-03-10"))
    resumed = case_hearing_end(case=rereview, actor=supervisor, at=at("2026-03-17"))
    # then the clock was paused, and now runs 7 days longer
    assert paused.status == ClockStatus.PAUSED
    assert resumed.status == ClockStatus.OPEN
    assert resumed.paused_days == 7
    assert resumed.due_on == date(2026, 4, 8)


def test_a_hearing_needs_a_reason_the_right_and_a_pending_rereview(rereview, supervisor, handler):
    with pytest.raises(ValidationError):
        case_hearing_start(case=rereview, actor=supervisor, reason=" ", at=at("2026-03-10"))
    with pytest.raises(PermissionDenied):
        case_hearing_start(case=rereview, actor=handler, reason="听证", at=at("2026-03-10"))
    replied = CaseFactory(status=CaseStatus.REPLIED)
    with pytest.raises(ValidationError) as refused:
        case_hearing_start(case=replied, actor=supervisor, reason="听证", at=at("2026-03-10"))
    assert refused.value.code == "not_in_rereview"
