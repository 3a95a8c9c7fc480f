"""Extending the reply clock (cases/services/extensions.py, R22 Art.34)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases.choices import CaseStatus, ClockKind, ClockStatus, EventKind, ExtensionStatus
from cases.models import CaseEvent, Deadline, Extension
from cases.services.extensions import extension_decide, extension_request
from cases.services.transitions import case_accept
from cases.tests.factories import CaseFactory, demo_unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def case(head):
    """An accepted case of 城关镇 whose 60-day reply clock runs."""
    case = CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit("341122100"))
    return case_accept(case=case, actor=head)


def reply_clock(case) -> Deadline:
    return Deadline.objects.get(case=case, kind=ClockKind.REPLY, status=ClockStatus.OPEN)


def test_the_head_approves_and_the_reply_due_day_moves(case, handler, head):
    # given
    due = reply_clock(case).due_on
    extension = extension_request(case=case, actor=handler, days=30, reason="需现场测量")
    assert CaseEvent.objects.filter(case=case, kind=EventKind.EXTENSION_REQUESTED).count() == 1
    # when
    extension_decide(extension=extension, actor=head, approve=True, note="同意")
    # then
    extension.refresh_from_db()
    assert (extension.status, extension.decided_by) == (ExtensionStatus.APPROVED, head)
    clock = reply_clock(case)
    assert clock.extension_days == 30 and clock.due_on > due
    decided = CaseEvent.objects.get(case=case, kind=EventKind.EXTENSION_DECIDED)
    assert decided.details["approved"] is True


def test_a_refusal_leaves_the_clock_alone(case, handler, head):
    due = reply_clock(case).due_on
    extension = extension_request(case=case, actor=handler, days=10, reason="材料未齐")
    extension_decide(extension=extension, actor=head, approve=False, note="应按期办结")
    assert reply_clock(case).due_on == due
    with pytest.raises(ValidationError):  # decided once
        extension_decide(extension=extension, actor=head, approve=True)


def test_only_the_unit_head_decides(case, handler, clerk, supervisor):
    extension = extension_request(case=case, actor=handler, days=10, reason="材料未齐")
    for user in (handler, clerk, supervisor):
        with pytest.raises(PermissionDenied):
            extension_decide(extension=extension, actor=user, approve=True)
    assert Extension.objects.get().status == ExtensionStatus.PENDING


@pytest.mark.parametrize("username", ["clerk", "leader", "supervisor", "grid"])
def test_only_the_handling_unit_asks(demo_users, case, username):
    with pytest.raises(PermissionDenied):
        extension_request(case=case, actor=demo_users[username], days=10, reason="理由")


@pytest.mark.parametrize("days", [0, 31])
def test_an_extension_is_one_to_thirty_days(case, handler, days):
    with pytest.raises(ValidationError) as caught:
        extension_request(case=case, actor=handler, days=days, reason="理由")
    assert caught.value.code == "days"


def test_at_most_one_extension_and_always_a_reason(case, handler, head):
    with pytest.raises(ValidationError):
        extension_request(case=case, actor=handler, days=10, reason=" ")
    extension = extension_request(case=case, actor=handler, days=10, reason="理由")
    extension_decide(extension=extension, actor=head, approve=True)
    with pytest.raises(ValidationError) as caught:
        extension_request(case=case, actor=handler, days=5, reason="再次延期")
    assert caught.value.code == "once"


def test_no_extension_before_acceptance(handler):
    case = CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit("341122100"))
    with pytest.raises(ValidationError):
        extension_request(case=case, actor=handler, days=10, reason="理由")
