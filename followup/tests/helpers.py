"""What the follow-up tests share: office times and days, and a replied case."""

from datetime import date, datetime

from cases.choices import CaseStatus, Outcome
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import Case, Decision
from cases.tests.factories import CaseFactory, demo_unit

OFFICE, TOWNSHIP = "341122-D00", "341122100"  # 县信访局, 城关镇
D = date.fromisoformat


def at(day: str, hour: int = 10) -> datetime:
    """``hour`` o'clock of ``day`` at the office (Asia/Shanghai)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=OFFICE_TZ)


def replied(handler, delivered_on: str = "2026-03-02", **fields) -> Case:
    """A case of 城关镇 replied by ``handler``, the reply delivered on ``delivered_on``."""
    fields.setdefault("status", CaseStatus.REPLIED)
    case = CaseFactory(lead_unit=demo_unit(TOWNSHIP), **fields)
    Decision.objects.create(case=case, kind="reply", request="请求", facts="事实", reasons="理由",
                            outcome=Outcome.SUPPORT, legal_basis="条例", unit=case.lead_unit,
                            issued_by=handler, issued_at=at(delivered_on, 9),
                            delivered_on=D(delivered_on))
    return case
