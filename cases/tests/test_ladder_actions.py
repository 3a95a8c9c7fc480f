"""What a ladder level does besides telling people: the ``return`` action sends an unsigned
routed case back to the petition office (cases/DECISIONS.md E7), on the real sweep."""

from datetime import date, datetime

import pytest

from cases.choices import CaseStatus, ClockKind, ClockStatus, EventKind
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import CaseEvent, Deadline, LadderAction, LadderStep
from cases.services.escalation import escalation_reschedule, escalation_sweep
from cases.tests.factories import CaseFactory, DeadlineFactory, demo_unit

pytestmark = pytest.mark.django_db
CHENGGUAN = "341122100"
DUE_AT = datetime(2026, 11, 14, tzinfo=OFFICE_TZ)  # 24:00 of Friday 13 November


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=OFFICE_TZ)


@pytest.fixture
def returning_ladder(county):
    """The acceptance-notice clock's level 2 (at the due time) returns the case."""
    LadderStep.objects.filter(clock_kind=ClockKind.ACCEPTANCE_NOTICE, level=2).update(
        action=LadderAction.RETURN_TO_OFFICE)


def routed(status=CaseStatus.ROUTED):
    case = CaseFactory(status=status, lead_unit=demo_unit(CHENGGUAN))
    DeadlineFactory(case=case, kind=ClockKind.ACCEPTANCE_NOTICE, due_at=DUE_AT,
                    starts_on=date(2026, 10, 29), length=15, unit="calendar")
    return case


def test_an_unsigned_case_goes_back_to_the_office_at_that_level(returning_ladder):
    # given a case routed to 城关镇 and not signed for, its notice due on 11-13
    case = routed()
    escalation_reschedule()
    # when the sweep runs after the due time
    escalation_sweep(now=at("2026-11-14T08:00"))
    case.refresh_from_db()
    # then the case is back with the office, with a new routing clock
    assert case.status == CaseStatus.REGISTERED and case.lead_unit is None
    notice = Deadline.objects.get(case=case, kind=ClockKind.ACCEPTANCE_NOTICE)
    assert notice.status == ClockStatus.CANCELLED
    assert notice.next_fire_at is None  # the sweep's schedule did not bring it back
    routing = Deadline.objects.get(case=case, kind=ClockKind.ROUTING)
    assert routing.status == ClockStatus.OPEN and routing.starts_on == date(2026, 11, 14)
    (event,) = CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION)
    assert event.actor is None and event.details["step"] == "return_unsigned"
    assert event.details["previous_lead_unit"] == CHENGGUAN
    # and a rerun fires nothing more on the cancelled clock
    report = escalation_sweep(now=at("2026-11-30T08:00"))
    assert ("acceptance_notice", 3) not in report.fired


def test_a_case_signed_for_meanwhile_stays_with_its_unit(returning_ladder):
    case = routed(status=CaseStatus.SIGNED)
    escalation_reschedule()
    escalation_sweep(now=at("2026-11-14T08:00"))
    case.refresh_from_db()
    assert case.status == CaseStatus.SIGNED and case.lead_unit.code == CHENGGUAN


def test_no_one_may_take_the_return_by_hand(clerk, head, returning_ladder):
    from cases.selectors.windows import case_available_transitions

    case = routed()
    for user in (clerk, head):
        assert "return_unsigned" not in case_available_transitions(user=user, case=case)
