"""Issue 7's whole journey in a real browser, one user after another on the same case:

the clerk registers a group visit of three representatives with a scanned letter, is
shown the earlier case of the same person and links it, routes the case with a leader
in charge and prints the routing slip; the township's handler signs, accepts, records a
commitment and replies; the leader finds the case on "my cases" with its deadline and
writes an instruction; the case page's timeline shows every step.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.choices import Channel, EventKind, Purpose
from cases.deadlines.rules import rules_seed
from cases.idnumbers import check_digit
from cases.models import Attachment, Case, CaseEvent, DeadlineRule
from cases.services.registration import CaseIntake, PetitionerInput, case_register
from cases.tests.factories import CategoryFactory, demo_unit
from tests.browser.helpers import drop_file, sign_in, small_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICE, TOWNSHIP = "341122-D00", "341122100"
WANG_ID = "34112219700305002" + check_digit("34112219700305002")
REPRESENTATIVES = (("王大山", WANG_ID), ("李四", ""), ("赵五", ""))


@pytest.fixture
def earlier(demo_users):
    """Last year's case of 王大山 about the same land: the desk should point it out."""
    rules_seed(DeadlineRule)  # transactional tests truncate the clock rules too
    category = CategoryFactory(name="征地补偿")
    intake = CaseIntake(
        channel=Channel.LETTER, received_at=timezone.now() - timedelta(days=200),
        petitioners=[PetitionerInput(name="王大山", id_number=WANG_ID,
                                     address="城关镇东关社区3号", is_main=True)],
        purpose=Purpose.REMEDY, category=category, summary="东关社区征地补偿款迟迟未发放",
        demands="请求发放补偿款", place_unit=demo_unit(TOWNSHIP))
    return case_register(actor=demo_users["clerk"], office=demo_unit(OFFICE), intake=intake)


def take_step(page, case: Case, name: str) -> None:
    """Open the step from the case page's button, as a user would: htmx brings its form."""
    page.goto(f"/cases/{case.number}/")
    page.click(f"[data-step='{name}'], [data-action='{name}']")
    page.wait_for_selector("#pd-step-panel form")


def submit_step(page, case: Case, form: str = "#pd-step-panel form") -> None:
    """Send the step's form; the answer leads back to the case page."""
    with page.expect_navigation(url=f"**/cases/{case.number}/"):
        page.locator(f"{form} button.btn-primary").click()


def test_a_group_visit_from_the_desk_to_the_leaders_instruction(page, shot, earlier,
                                                                  demo_users):
    # --- the clerk registers the group visit -------------------------------------------
    sign_in(page, "clerk")
    page.wait_for_url("**/cases/intake/")
    page.click("button[name=add_petitioner]")
    page.click("button[name=add_petitioner]")
    for index, (name, id_number) in enumerate(REPRESENTATIVES):
        page.fill(f"input[name='petitioners-{index}-name']", name)
        if id_number:
            page.type(f"input[name='petitioners-{index}-id_number']", id_number)
        page.fill(f"input[name='petitioners-{index}-address']", "城关镇东关社区")
        page.check(f"input[name='petitioners-{index}-is_representative']")
    page.fill("input[name=headcount]", "30")
    page.select_option("select[name=category]", label="征地补偿")
    page.select_option("select[name=place_unit]", value=str(demo_unit(TOWNSHIP).pk))
    page.fill("textarea[name=summary]", "东关社区三十户村民反映征地补偿款至今未发放")
    page.fill("textarea[name=demands]", "请求尽快足额发放征地补偿款")
    # then the earlier case of the same person is pointed out; the clerk links it
    repeat_button = page.locator(f"#pd-repeats [data-repeat-number='{earlier.number}']")
    repeat_button.wait_for()
    assert "王大山" not in page.locator("#pd-repeats").inner_text()  # the case, not the person
    repeat_button.click()
    assert page.input_value("[name=repeat_of]") == earlier.number
    assert not page.is_checked("[name=is_first_petition]")
    # and drops the scanned letter the group brought
    drop_file(page, "[data-intake-drop]", "联名信.png", small_png(), "image/png")
    page.wait_for_selector("[data-new-file='联名信.png']")
    shot("40-journey-intake")
    page.locator("#pd-intake-form button.btn-primary[name=register]").click()
    page.wait_for_url("**/cases/341122-*/")
    case = Case.objects.exclude(pk=earlier.pk).get()
    assert (case.is_group, case.headcount, case.repeat_of_id) == (True, 30, earlier.pk)
    assert case.parties.filter(is_representative=True).count() == 3
    assert Attachment.objects.get(case=case).original_name == "联名信.png"
    shot("41-journey-registered")

    # --- the clerk routes it with a leader in charge and prints the routing slip ----------
    take_step(page, case, "route")
    page.select_option("select[name=lead_unit]", label="城关镇")
    submit_step(page, case)
    take_step(page, case, "assign_leader")
    page.select_option("select[name=leader]", label="陈副县长")
    page.fill("textarea[name=measures]", "包案领导约谈村委会，督促限期发放补偿款")
    page.fill("input[name=deadline]", (timezone.localdate() + timedelta(days=30)).isoformat())
    page.select_option("select[name=responsible]", value=str(demo_users["handler"].pk))
    submit_step(page, case)
    page.goto(f"/cases/{case.number}/notices/routing_slip/")
    page.click("button.pd-notice-print")
    page.wait_for_url("**/notices/routing_slip/?printed=1")
    assert "交〔" in page.content() and "城关镇" in page.content()
    shot("42-journey-routing-slip")

    # --- the township's handler signs, accepts, promises and replies ----------------------
    sign_in(page, "handler")
    page.goto("/cases/unit/")
    assert case.number in page.content()
    take_step(page, case, "sign")
    submit_step(page, case)
    take_step(page, case, "accept")
    submit_step(page, case)
    take_step(page, case, "commit")
    page.fill("textarea[name=text]", "十五日内核实名单并公示补偿标准")
    page.fill("input[name=due_on]", (timezone.localdate() + timedelta(days=15)).isoformat())
    submit_step(page, case)
    take_step(page, case, "reply")
    page.fill("textarea[name=request]", "请求发放东关社区征地补偿款")
    page.fill("textarea[name=facts]", "经核实，补偿款已拨付至镇财政所，尚未发放到户")
    page.fill("textarea[name=reasons]", "补偿款应依法及时足额发放")
    page.check("input[name=outcome][value=support]")
    page.fill("textarea[name=legal_basis]", "《中华人民共和国土地管理法》第四十八条")
    submit_step(page, case)
    case.refresh_from_db()
    assert case.status == "replied"
    shot("43-journey-replied")

    # --- the leader sees it on "my cases" and writes an instruction ----------------------
    sign_in(page, "leader")
    page.goto("/cases/mine/")
    row = page.locator("section.pd-ws-card", has_text=case.number)
    assert row.count() == 1
    # the reply awaits delivery, so no statutory clock runs: the unit's promise is what is due
    assert "十五日内核实名单" in row.inner_text()
    assert row.locator(".pd-due-on_track").count() >= 1 and row.locator(".pd-due-none").count() == 0
    shot("44-journey-my-cases")
    row.locator("a[data-action='instruct']").click()
    page.wait_for_url("**/steps/instruct/**")
    page.fill("textarea[name=text]", "请镇政府本周内发放到位，并做好群众解释工作")
    submit_step(page, case, form="main form")  # the step's own page, opened from the list
    assert "请镇政府本周内发放到位" in page.content()

    # --- the case page tells the whole story ----------------------------------------------
    kinds = set(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert {EventKind.REGISTERED, EventKind.ATTACHMENT, EventKind.LEADER_ASSIGNED,
            EventKind.NOTICE_PRINTED, EventKind.COMMITMENT_MADE,
            EventKind.INSTRUCTION_GIVEN} <= kinds
    steps = set(CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION)
                .values_list("details__step", flat=True))
    assert {"route", "sign", "accept", "reply"} <= steps
    timeline = page.locator("ol.pd-timeline").first.inner_text()  # the steps, not the views
    for words in ("陈副县长", "十五日内核实名单", "请镇政府本周内发放到位", "联名信.png"):
        assert words in timeline, words
    shot("45-journey-timeline")
