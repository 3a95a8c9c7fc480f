"""A supervisor finds a case in the list, filters it, and reads its page, in a real browser."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.choices import Channel, Purpose
from cases.deadlines.rules import rules_seed
from cases.models import DeadlineRule
from cases.services.registration import CaseIntake, PetitionerInput, case_register
from cases.services.transitions import case_route
from cases.tests.factories import CategoryFactory, demo_unit, valid_resident_id
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def routed(demo_users):
    # Transactional tests truncate tables, the statutory clock rules included.
    rules_seed(DeadlineRule)
    intake = CaseIntake(
        channel=Channel.VISIT, received_at=timezone.now() - timedelta(days=2),
        petitioners=[PetitionerInput(name="张三", id_number=valid_resident_id(7),
                                     address="城关镇东关社区", is_main=True)],
        purpose=Purpose.REMEDY, category=CategoryFactory(name="征地补偿"),
        summary="征地补偿款未按期发放", demands="请求尽快发放补偿款",
        place_unit=demo_unit("341122100"))
    case = case_register(actor=demo_users["clerk"], office=demo_unit("341122-D00"), intake=intake)
    return case_route(case=case, actor=demo_users["clerk"], lead_unit=demo_unit("341122100"))


def test_the_supervisor_filters_the_list_and_reads_the_case(page, shot, routed):
    # given the supervisor, signed in
    sign_in(page, "supervisor")
    # when they open the case list and search by words of the summary
    page.goto("/cases/")
    page.fill("input[name=q]", "补偿款")
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases/?*q=*")
    # then the case is listed, its number a link, with its next deadline
    link = page.locator(f"a[href='/cases/{routed.number}/']").first
    assert link.is_visible()
    shot("10-case-list-filtered")
    # when they open it
    link.click()
    page.wait_for_url(f"**/cases/{routed.number}/")
    # then the page shows the case, its running clocks and the timeline of every step
    body = page.content()
    assert routed.number in body and "征地补偿款未按期发放" in body
    assert "受理告知" in body  # the lead unit's acceptance-notice clock, from routing
    shot("11-case-page")
