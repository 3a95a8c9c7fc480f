"""A petitioner on a phone looks up their case by number and query code, reads the reply
and rates it; the leader then sees the rating on the case page (issue 10)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.choices import Channel, DeliveryMethod, Purpose
from cases.deadlines.rules import rules_seed
from cases.models import DeadlineRule
from cases.services.decisions import decision_deliver
from cases.services.registration import CaseIntake, PetitionerInput, case_register
from cases.services.transitions import case_accept, case_reply, case_route, case_sign
from cases.tests.factories import CategoryFactory, demo_unit, valid_resident_id
from cases.tests.helpers import REPLY, today
from followup.models import Satisfaction
from tests.browser.helpers import axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICE, TOWNSHIP = "341122-D00", "341122100"
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def replied(demo_users):
    """A case the township replied to in writing, the reply delivered to the petitioner."""
    rules_seed(DeadlineRule)  # transactional tests truncate the clock rules too
    clerk, handler = demo_users["clerk"], demo_users["handler"]
    intake = CaseIntake(
        channel=Channel.VISIT, received_at=timezone.now() - timedelta(days=5),
        petitioners=[PetitionerInput(name="张三丰", id_number=valid_resident_id(9),
                                     address="城关镇东关社区", is_main=True)],
        purpose=Purpose.REMEDY, category=CategoryFactory(name="征地补偿"),
        summary="征地补偿款未按期发放", demands="请求尽快发放补偿款",
        place_unit=demo_unit(TOWNSHIP))
    case = case_register(actor=clerk, office=demo_unit(OFFICE), intake=intake)
    case = case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
    case = case_accept(case=case_sign(case=case, actor=handler), actor=handler)
    reply = case_reply(case=case, actor=handler, decision=REPLY)
    decision_deliver(decision=reply, actor=handler, delivered_on=today(),
                     method=DeliveryMethod.IN_PERSON)
    return case


def test_a_petitioner_rates_the_reply_on_a_phone_and_the_leader_sees_it(
        browser, live_server, page, shot, replied):
    # given a phone-sized window, with no account, recording what the policy refuses
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True,
                                has_touch=True, base_url=live_server.url)
    mobile = phone.new_page()
    mobile.set_default_timeout(10_000)
    refused = []
    mobile.on("console", lambda message: refused.append(message.text)
              if "Content Security Policy" in message.text else None)
    try:
        # when the petitioner opens the query page: Chinese, one column, nothing wider
        mobile.goto("/query/")
        assert mobile.locator("html").get_attribute("lang") == "zh-hans"
        assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert axe_violations(mobile) == []
        mobile.screenshot(path=str(_path("80-public-query")),
                          full_page=True)
        # and types the number and the code from the notice, in lower case with a space
        mobile.fill("#id_number", replied.number)
        mobile.fill("#id_code", f"{replied.query_code[:4]} {replied.query_code[4:]}".lower())
        mobile.click("button[type=submit].btn-primary")
        mobile.wait_for_selector(".pd-public-number")
        # then they read where the case stands and the reply
        body = mobile.locator("main").inner_text()
        assert replied.number in body and "城关镇" in body and REPLY.facts in body
        assert "张三丰" not in body
        assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert axe_violations(mobile) == []
        mobile.screenshot(path=str(_path("81-public-query-case")), full_page=True)
        # when they rate it, with a comment
        mobile.locator("label[for=id_rating_0]").tap()
        mobile.fill("#id_comment", "答复清楚，补偿款已到账")
        mobile.locator("form[action='/query/rate/'] button[type=submit]").tap()
        mobile.wait_for_selector(".pd-public-rated")
        mobile.screenshot(path=str(_path("82-public-query-rated")), full_page=True)
        assert Satisfaction.objects.get(case=replied).rating == "satisfied"
        assert refused == []
    finally:
        phone.close()

    # when the leader of the place signs in and opens the case
    sign_in(page, "leader")
    page.goto(f"/cases/{replied.number}/")
    # then the rating is on its timeline
    rating = page.locator("ol.pd-timeline .pd-event-petitioner_rated", has_text="评价：满意")
    assert rating.count() == 1
    rating.scroll_into_view_if_needed()
    shot("83-public-rating-on-case")


def _path(name: str):
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
