"""Helpers every test module shares: one way to name an instant of the office's day, the
office's today, one reply, and the reads of a refusal's code and a case's events."""

from datetime import date, datetime, timedelta

from django.utils import timezone

from cases.choices import Outcome
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import CaseEvent
from cases.services.decisions import DecisionInput

# A written reply with every part R22 Art.32 asks for.
REPLY = DecisionInput(request="请求发放征地补偿款", facts="补偿款已拨付至镇财政所",
                      reasons="依据补偿方案应予发放", outcome=Outcome.SUPPORT,
                      legal_basis="《信访工作条例》第三十二条")


def at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    """The instant ``hour``:``minute`` of ``day`` ("2026-09-16") in the office's time zone."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=OFFICE_TZ)


def today() -> date:
    """The office's day now (Asia/Shanghai), whatever the server's zone."""
    return timezone.localtime(timezone.now(), OFFICE_TZ).date()


def in_days(days: int) -> date:
    """The office's day ``days`` from today."""
    return today() + timedelta(days=days)


def events_of(case, kind) -> list[CaseEvent]:
    """The case's audit rows of ``kind``, in the order written."""
    return list(CaseEvent.objects.filter(case=case, kind=kind).order_by("pk"))


def code_of(raised) -> str:
    """The code of the ValidationError a ``pytest.raises`` caught."""
    return raised.value.error_list[0].code
