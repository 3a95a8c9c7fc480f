"""A supervision order (督办) in a real browser, one user after another on the same case:

the county's supervisor issues a listed order (挂牌督办) on a case the township handles, from
its page; the township's handler answers; the supervisor sends the answer back with the
reason and a new day; the handler answers again, reading why; the supervisor accepts. The
case page's section and timeline show each step.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.choices import Channel, EventKind, Purpose, SupervisionStatus
from cases.deadlines.ladder import ladder_seed
from cases.deadlines.rules import rules_seed
from cases.models import CaseEvent, DeadlineRule, LadderStep, SupervisionOrder
from cases.services.registration import CaseIntake, PetitionerInput, case_register
from cases.services.transitions import case_accept, case_route, case_sign
from cases.tests.factories import CategoryFactory, demo_unit, valid_resident_id
from tests.browser.helpers import axe_violations, sign_in
from tests.browser.test_full_journey import submit_step, take_step

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICE, TOWNSHIP = "341122-D00", "341122100"
DEMAND = "请于十日内书面报告东关社区征地补偿款发放进展"
FIRST, SECOND = "已约谈村委会，正在核实名单", "补偿款将于本月二十日前全部发放到户，已张榜公示"
SENT_BACK = "未说明发放时间和公示安排"


@pytest.fixture
def handled(demo_users):
    """A case 城关镇 signed for and accepted: its written reply is due."""
    rules_seed(DeadlineRule)  # transactional tests truncate the reference rows
    ladder_seed(LadderStep)
    intake = CaseIntake(
        channel=Channel.VISIT, received_at=timezone.now() - timedelta(days=3),
        petitioners=[PetitionerInput(name="王大山", id_number=valid_resident_id(11),
                                     address="城关镇东关社区3号", is_main=True)],
        purpose=Purpose.REMEDY, category=CategoryFactory(name="征地补偿"),
        summary="东关社区征地补偿款迟迟未发放", demands="请求发放补偿款",
        place_unit=demo_unit(TOWNSHIP))
    case = case_register(actor=demo_users["clerk"], office=demo_unit(OFFICE), intake=intake)
    case_route(case=case, actor=demo_users["clerk"], lead_unit=demo_unit(TOWNSHIP))
    case_sign(case=case, actor=demo_users["handler"])
    return case_accept(case=case, actor=demo_users["handler"])


def day(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def answer(page, case, text: str) -> None:
    """The handler answers from the button beside the order."""
    page.goto(f"/cases/{case.number}/")
    page.click("[data-order-action='answer_supervision']")
    page.wait_for_url("**/steps/answer_supervision/")
    page.fill("textarea[name=text]", text)
    submit_step(page, case, form="main form")


def test_a_listed_order_is_answered_sent_back_and_accepted(page, shot, handled):
    case = handled
    # --- the supervisor issues a listed order from the case page --------------------------
    sign_in(page, "supervisor")
    take_step(page, case, "supervise")
    assert page.input_value("#pd-step-panel input[name=due_on]")  # the proposed day
    page.fill("textarea[name=demand]", DEMAND)
    page.fill("input[name=due_on]", day(10))
    page.check("input[name=listed]")
    shot("70-supervision-issue")
    submit_step(page, case)
    order = SupervisionOrder.objects.get(case=case)
    assert order.listed and order.status == SupervisionStatus.OPEN
    section = page.locator(f"[data-supervision='{order.pk}']")
    assert DEMAND in section.inner_text()
    assert section.locator("[data-supervision-listed]").count() == 1
    assert section.locator(".pd-due").count() == 1  # the day the unit answers by
    assert page.locator("[data-action='supervise']").count() == 0  # one open order a case
    assert axe_violations(page) == []
    shot("71-supervision-issued")

    # --- the handler answers ---------------------------------------------------------------
    sign_in(page, "handler")
    answer(page, case, FIRST)
    order.refresh_from_db()
    assert order.status == SupervisionStatus.ANSWERED
    assert FIRST in page.locator(f"[data-supervision='{order.pk}']").inner_text()
    assert page.locator("[data-order-action]").count() == 0  # nothing more owed for now

    # --- the supervisor sends it back with the reason and a new day -------------------------
    sign_in(page, "supervisor")
    take_step(page, case, "decide_supervision")
    assert FIRST in page.locator("#pd-step-panel").inner_text()  # the answer being decided
    page.check("input[name=decision][value=send_back]")
    page.fill("textarea[name=note]", SENT_BACK)
    page.fill("input[name=due_on]", day(5))
    shot("72-supervision-send-back")
    submit_step(page, case)
    order.refresh_from_db()
    assert order.status == SupervisionStatus.OPEN

    # --- the handler reads why and answers again ---------------------------------------------
    sign_in(page, "handler")
    page.goto(f"/cases/{case.number}/steps/answer_supervision/")
    assert SENT_BACK in page.locator("main").inner_text()
    answer(page, case, SECOND)

    # --- the supervisor accepts ---------------------------------------------------------------
    sign_in(page, "supervisor")
    take_step(page, case, "decide_supervision")
    assert SECOND in page.locator("#pd-step-panel").inner_text()
    page.check("input[name=decision][value=accept]")
    submit_step(page, case)
    order.refresh_from_db()
    assert order.status == SupervisionStatus.CLOSED
    section = page.locator(f"[data-supervision='{order.pk}']")
    assert section.locator("[data-verdict='sent_back']").count() == 1
    assert section.locator("[data-verdict='accepted']").count() == 1
    assert page.locator("[data-action='supervise']").count() == 1  # a new one may be issued
    shot("73-supervision-accepted")

    # --- the timeline tells each step, in order ------------------------------------------------
    kinds = list(CaseEvent.objects.filter(case=case, kind__startswith="supervision_")
                 .order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == [EventKind.SUPERVISION_ISSUED, EventKind.SUPERVISION_ANSWERED,
                     EventKind.SUPERVISION_DECIDED, EventKind.SUPERVISION_ANSWERED,
                     EventKind.SUPERVISION_DECIDED]
    timeline = page.locator("ol.pd-timeline").first.inner_text()
    positions = [timeline.index(words) for words in (DEMAND, FIRST, SENT_BACK, SECOND)]
    assert positions == sorted(positions)
    page.locator("#pd-h-timeline").scroll_into_view_if_needed()
    shot("74-supervision-timeline")
