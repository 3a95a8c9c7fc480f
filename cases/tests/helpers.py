"""Helpers every test module shares: one way to name an instant of the office's day, one reply."""

from datetime import datetime

from cases.choices import Outcome
from cases.deadlines.clocks import OFFICE_TZ
from cases.services.decisions import DecisionInput

# A written reply with every part R22 Art.32 asks for.
REPLY = DecisionInput(request="请求发放征地补偿款", facts="补偿款已拨付至镇财政所",
                      reasons="依据补偿方案应予发放", outcome=Outcome.SUPPORT,
                      legal_basis="《信访工作条例》第三十二条")


def at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    """The instant ``hour``:``minute`` of ``day`` ("2026-09-16") in the office's time zone."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=OFFICE_TZ)
