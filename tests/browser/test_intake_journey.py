"""The clerk registers a visit at the desk, keyboard and card reader style, routes it and
prints the routing slip."""

import pytest

from cases.deadlines.rules import rules_seed
from cases.idnumbers import check_digit
from cases.models import Case, DeadlineRule
from cases.tests.factories import CategoryFactory
from tests.browser.helpers import axe_violations, drop_file, sign_in, small_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZHANG_ID = "34112219800101001" + check_digit("34112219800101001")


@pytest.fixture
def desk(demo_users):
    # Transactional tests truncate tables, the statutory clock rules included.
    rules_seed(DeadlineRule)
    return CategoryFactory(name="征地补偿")


def test_the_clerk_registers_a_visit_and_routes_it(page, shot, desk):
    # given the clerk, signed in, on the intake form
    sign_in(page, "clerk")
    page.wait_for_url("**/cases/intake/")
    # when the card reader types the ID number, and the clerk fills in the matter
    page.fill("input[name='petitioners-0-name']", "张三")
    page.type("input[name='petitioners-0-id_number']", ZHANG_ID)
    page.fill("input[name='petitioners-0-address']", "城关镇东关社区8号")
    page.select_option("select[name=category]", label="征地补偿")
    page.select_option("select[name=place_unit]", index=1)
    page.fill("textarea[name=summary]", "征地补偿款未按期发放")
    page.fill("textarea[name=demands]", "请求尽快发放补偿款")
    shot("20-intake-filled")
    page.locator("#pd-intake-form button.btn-primary[name=register]").click()
    # then the new case's page, with its number and query code announced
    page.wait_for_url("**/cases/341122-*/")
    case = Case.objects.get()
    assert case.number in page.content()
    shot("21-intake-registered")
    # when the clerk routes it to the township from the case page
    page.goto(f"/cases/{case.number}/steps/route/")
    page.select_option("select[name=lead_unit]", label="城关镇")
    page.locator("form button.btn-primary").click()
    page.wait_for_url(f"**/cases/{case.number}/")
    shot("22-routed")
    case.refresh_from_db()
    assert case.status == "routed" and case.lead_unit.name == "城关镇"
    # when the clerk prints the routing slip (交办单), then it is numbered, laid out for A4
    page.goto(f"/cases/{case.number}/notices/routing_slip/")
    assert "城关镇" in page.content() and "〔" not in page.content()  # a draft until printed
    page.click("button.pd-notice-print")
    page.wait_for_url("**/notices/routing_slip/?printed=1")
    assert "〔" in page.content() and "城关镇" in page.content()
    shot("23-routing-slip")


def test_a_dropped_letter_survives_an_error_and_lands_on_the_case(page, shot, desk):
    from cases.models import Attachment, IntakeUpload

    # given the clerk, signed in, on the intake form
    sign_in(page, "clerk")
    page.wait_for_url("**/cases/intake/")
    # when the clerk fills in the person and drops a scanned letter on the drop zone,
    # but forgets the facts
    page.fill("input[name='petitioners-0-name']", "张三")
    page.type("input[name='petitioners-0-id_number']", ZHANG_ID)
    page.fill("input[name='petitioners-0-address']", "城关镇东关社区8号")
    page.select_option("select[name=category]", label="征地补偿")
    page.select_option("select[name=place_unit]", index=1)
    page.fill("textarea[name=demands]", "请求尽快发放补偿款")
    drop_file(page, "[data-intake-drop]", "来信扫描.png", small_png(), "image/png")
    page.wait_for_selector("[data-new-file='来信扫描.png']")
    assert page.eval_on_selector("#id_files", "input => input.files.length") == 1
    page.check("#pd-new-file-0-accusation")
    shot("24-intake-file-dropped")
    page.locator("#pd-intake-form button.btn-primary[name=register]").click()
    # then the form comes back with the error, and the letter is kept and listed
    page.wait_for_selector("#pd-error-summary")
    assert page.locator(".pd-kept-files").inner_text().count("来信扫描.png") == 1
    assert IntakeUpload.objects.get().is_accusation_material
    assert axe_violations(page) == []
    shot("25-intake-error-keeps-file")
    # when the clerk writes the facts and registers
    page.fill("textarea[name=summary]", "征地补偿款未按期发放")
    page.locator("#pd-intake-form button.btn-primary[name=register]").click()
    # then the case page lists the letter, once
    page.wait_for_url("**/cases/341122-*/")
    attachment = Attachment.objects.get()
    assert attachment.original_name == "来信扫描.png" and attachment.is_accusation_material
    assert "来信扫描.png" in page.content()
    assert not IntakeUpload.objects.exists()
    shot("26-intake-file-on-case")
