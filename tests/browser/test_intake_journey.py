"""The clerk registers a visit at the desk, keyboard and card reader style, routes it and
prints the routing slip."""

from pathlib import Path

import pytest

from cases.deadlines.rules import rules_seed
from cases.idnumbers import check_digit
from cases.models import Case, DeadlineRule
from cases.tests.factories import CategoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZHANG_ID = "34112219800101001" + check_digit("34112219800101001")


@pytest.fixture
def desk(demo_users):
    # Transactional tests truncate tables, the statutory clock rules included.
    rules_seed(DeadlineRule)
    return CategoryFactory(name="征地补偿")


def test_the_clerk_registers_a_visit_and_routes_it(page, shot, desk):
    # given the clerk, signed in, on the intake form
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "demo")
    page.click("form[action='/accounts/login/'] button[type=submit]")
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


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def serious_violations(page) -> list[str]:
    """The serious and critical accessibility violations axe-core finds on the page."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run()).violations"
                          ".filter(v => ['serious', 'critical'].includes(v.impact))"
                          ".map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '))")
    return found


def small_png() -> bytes:
    """A real 2×2 grey PNG, made here, standing in for a scanned letter."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"\x80" * 2 for _row in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_a_dropped_letter_survives_an_error_and_lands_on_the_case(page, shot, desk):
    from cases.models import Attachment, IntakeUpload

    # given the clerk, signed in, on the intake form
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "demo")
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url("**/cases/intake/")
    # when the clerk fills in the person and drops a scanned letter on the drop zone,
    # but forgets the facts
    page.fill("input[name='petitioners-0-name']", "张三")
    page.type("input[name='petitioners-0-id_number']", ZHANG_ID)
    page.fill("input[name='petitioners-0-address']", "城关镇东关社区8号")
    page.select_option("select[name=category]", label="征地补偿")
    page.select_option("select[name=place_unit]", index=1)
    page.fill("textarea[name=demands]", "请求尽快发放补偿款")
    transfer = page.evaluate_handle(
        """bytes => {
             const transfer = new DataTransfer();
             transfer.items.add(new File([new Uint8Array(bytes)], "来信扫描.png",
                                         {type: "image/png"}));
             return transfer;
           }""", list(small_png()))
    page.dispatch_event("[data-intake-drop]", "drop", {"dataTransfer": transfer})
    page.wait_for_selector("[data-new-file='来信扫描.png']")
    assert page.eval_on_selector("#id_files", "input => input.files.length") == 1
    page.check("#pd-new-file-0-accusation")
    shot("24-intake-file-dropped")
    page.locator("#pd-intake-form button.btn-primary[name=register]").click()
    # then the form comes back with the error, and the letter is kept and listed
    page.wait_for_selector("#pd-error-summary")
    assert page.locator(".pd-kept-files").inner_text().count("来信扫描.png") == 1
    assert IntakeUpload.objects.get().is_accusation_material
    assert serious_violations(page) == []
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
