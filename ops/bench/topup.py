"""Top the database up to N demo cases: the county, the demo logins, then the missing cases."""

from __future__ import annotations

import os

from accounts.demo import demo_org_seed, demo_users_seed
from cases.demo.bulk import BulkReport, demo_cases_seed
from cases.models import Case


def demo_logins_ensure() -> None:
    """The demo county and its logins (clerk, handler, leader, supervisor, ...), if missing."""
    demo_org_seed()
    demo_users_seed(password=os.environ.get("DEMO_PASSWORD", "demo"))  # keeps a set password


def cases_topup(*, target: int, seed: int, progress=None) -> tuple[int, BulkReport | None]:
    """Add the cases missing to reach ``target``; return the count before and the report."""
    demo_logins_ensure()
    before = Case.objects.count()
    if before >= target:
        return before, None
    return before, demo_cases_seed(count=target - before, seed=seed, stdout=progress)
