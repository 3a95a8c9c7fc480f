"""The demo's disputes: `make run` shows a newcomer the grid and mediation at work."""

import pytest

from mediation.demo import demo_disputes_seed
from mediation.models import GridReport, MediationCase, ReportStatus

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_settled_a_waiting_and_a_mediated_report_once(demo_users):
    # when the demo's disputes are seeded, twice
    assert demo_disputes_seed() == 3
    assert demo_disputes_seed() == 0
    # then the grid worker's three reports stand as the services left them
    statuses = sorted(GridReport.objects.values_list("status", flat=True))
    assert statuses == sorted([ReportStatus.SETTLED, ReportStatus.REPORTED,
                               ReportStatus.TO_VILLAGE])
    mediation = MediationCase.objects.get()
    assert mediation.report.status == ReportStatus.TO_VILLAGE
    assert mediation.committee.unit.code == "341122100001"
