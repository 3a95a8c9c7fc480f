"""The supervisor audits what is late: filters by unit, reads a row's escalations, exports the ledger."""

from datetime import datetime, time, timedelta

import openpyxl
import pytest
from django.utils import timezone

from cases.deadlines.clocks import OFFICE_TZ
from cases.deadlines.rules import rules_seed
from cases.models import Audience, DeadlineRule, Escalation
from cases.tests.factories import CaseFactory, DeadlineFactory, demo_unit
from tests.browser.helpers import axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOWN, RIVER = "T-2026-000301", "T-2026-000302"


def late(case, kind: str, days: int):
    """A duty clock of ``case`` whose last day was ``days`` days ago."""
    due_on = timezone.localtime(timezone.now(), OFFICE_TZ).date() - timedelta(days=days)
    due_at = datetime.combine(due_on + timedelta(days=1), time.min, tzinfo=OFFICE_TZ)
    return DeadlineFactory(case=case, kind=kind, due_on=due_on, due_at=due_at)


@pytest.fixture
def audit(demo_users):
    # Transactional tests truncate tables, the statutory clock rules included.
    rules_seed(DeadlineRule)
    town = CaseFactory(number=TOWN, lead_unit=demo_unit("341122100"), leader=demo_users["leader"],
                       summary="征地补偿款未按期发放", registered_by=demo_users["clerk"])
    river = CaseFactory(number=RIVER, lead_unit=demo_unit("341122101"),
                        place_unit=demo_unit("341122101001"), summary="河道采砂噪音扰民",
                        registered_by=demo_users["clerk"])
    reply = late(town, "reply", 6)
    late(river, "acceptance_notice", 2)
    fired = timezone.now() - timedelta(days=2)
    for level, audience, user in ((1, Audience.UNIT, "head"), (2, Audience.LEADER, "leader")):
        Escalation.objects.create(deadline=reply, case=town, level=level, offset=level - 2,
                                  audiences=[audience], action="notify",
                                  recipients=[demo_users[user].pk], fire_at=fired,
                                  fired_at=fired + timedelta(hours=level))
    return {"town": town, "river": river}


def test_the_supervisor_filters_the_audit_reads_a_history_and_exports(page, shot, audit, tmp_path):
    # given the supervisor, signed in: the audit is their home
    sign_in(page, "supervisor")
    page.goto("/cases/overdue/")
    rows = page.locator("tr.pd-overdue-row")
    assert rows.count() == 2
    assert axe_violations(page) == []
    shot("40-overdue-audit")
    # when they filter by 城关镇
    page.select_option("#id_unit", str(demo_unit("341122100").pk))
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**/cases/overdue/?*unit=*")
    page.locator(f"tr.pd-overdue-row a[href='/cases/{RIVER}/']").wait_for(state="detached")
    # then only its case is listed, linked to its page
    assert rows.count() == 1
    assert page.locator(f"tr.pd-overdue-row a[href='/cases/{TOWN}/']").is_visible()
    # when they open the row's escalation history
    history = rows.first.locator("details.pd-escalation-history")
    names = history.locator("ol")
    assert not names.is_visible()
    history.locator("summary").click()
    # then each level says whom it reached: the unit head, then the leader
    assert names.is_visible()
    assert "赵主任" in names.inner_text() and "陈副县长" in names.inner_text()
    shot("41-overdue-audit-history")
    # when they export the filtered audit
    with page.expect_download() as info:
        page.click("#pd-overdue-export")
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    # then the workbook holds the filtered clock only, under a header
    assert path.suffix == ".xlsx"
    sheet = openpyxl.load_workbook(path).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 2 and values[1][0] == TOWN
    assert values[1][11] == 2  # the current escalation level
