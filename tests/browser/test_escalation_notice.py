"""A leader's overdue case escalates, and the leader sees it in the header, in a real browser."""

from datetime import date, datetime

import pytest

from cases.choices import CaseStatus
from cases.deadlines.clocks import OFFICE_TZ
from cases.deadlines.ladder import ladder_seed
from cases.deadlines.rules import rules_seed
from cases.models import DeadlineRule, LadderStep
from cases.services.escalation import escalation_reschedule, escalation_sweep
from cases.tests.factories import CaseFactory, DeadlineFactory, demo_unit
from tests.browser.helpers import axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def overdue(demo_users):
    """A reply clock of a case the demo leader leads, past its due time (2026-09-30)."""
    rules_seed(DeadlineRule)  # transactional tests truncate the seeded rows
    ladder_seed(LadderStep)
    case = CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit("341122100"),
                       leader=demo_users["leader"])
    DeadlineFactory(case=case, kind="reply", length=60, unit="calendar",
                    due_on=date(2026, 9, 30), due_at=datetime(2026, 10, 1, tzinfo=OFFICE_TZ))
    escalation_reschedule()
    return case


def test_the_leader_sees_the_escalation_in_the_header_and_reads_it(page, shot, overdue):
    # given the sweep has run over the overdue clock
    assert escalation_sweep().total == 4
    # when the leader signs in, then the bell in the header counts one unread notification
    sign_in(page, "leader")
    badge = page.locator("#pd-notification-badge")
    assert badge.inner_text().strip().startswith("1")
    shot("50-escalation-badge")
    # when they open the notification centre, then the case's escalation is listed
    page.click("a[href='/notifications/']")
    page.wait_for_url("**/notifications/")
    row = page.locator("li.pd-unread", has_text=overdue.number)
    assert row.count() == 1
    assert axe_violations(page) == []
    shot("51-notification-centre")
    # when they mark it read, then the badge empties, and the link leads to the case
    row.locator("button[type=submit]").click()
    page.locator("li.pd-unread").wait_for(state="detached")
    assert page.locator("#pd-notification-badge").inner_text().strip() == ""
    page.click(f"a.pd-notification-text[href='/cases/{overdue.number}/']")
    page.wait_for_url(f"**/cases/{overdue.number}/")
