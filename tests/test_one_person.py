"""One person across it all (issue 11): a person met in a grid report, a mediation case and
a petition case is one Petitioner row, and intake's repeat check shows their reports and
mediations beside their petitions, as far as the clerk may see them."""

from datetime import datetime

import pytest
from django.urls import reverse

from cases.deadlines.clocks import OFFICE_TZ
from cases.services.registration import petitioner_find_or_create
from cases.tests.factories import valid_resident_id
from mediation.models import (
    DisputeKind,
    GridReport,
    MediationCase,
    MediationKind,
    MediationParty,
    MediationSource,
    ReportParty,
    ReportStatus,
    Side,
)

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 2, 10, tzinfo=OFFICE_TZ)
ZHANG_ID = valid_resident_id(7)


@pytest.fixture
def zhang_matters(unit, grid, mediator, committees):
    """张三, found again by his ID number, in a grid report and a mediation case."""
    zhang = petitioner_find_or_create(name="张三", id_type="resident_id", id_number=ZHANG_ID)
    report = GridReport.objects.create(
        number="341122100-WG2026-00001", client_key="0b9b8a3e-1a2b-4c5d-8e9f-000000000001",
        grid=unit("341122100001-G1"), township=unit("341122100"), reported_by=grid,
        found_at=AT, received_at=AT, kind=DisputeKind.NEIGHBOURS, place="东关社区3号楼",
        summary="邻里漏水纠纷", status=ReportStatus.REPORTED)
    ReportParty.objects.create(report=report, side=Side.APPLICANT, petitioner=zhang)
    # the same man again, typed with his phone only: the same row
    again = petitioner_find_or_create(name="张三", id_type="resident_id", id_number=ZHANG_ID,
                                      phone="13955501234")
    mediation = MediationCase.objects.create(
        number="341122100-TW-2026-0001", committee=committees["341122100"],
        kind=MediationKind.PEOPLES, dispute_kind=DisputeKind.NEIGHBOURS, summary="邻里漏水纠纷",
        source=MediationSource.WALK_IN, opened_at=AT, opened_by=mediator)
    MediationParty.objects.create(case=mediation, side=Side.APPLICANT, petitioner=again)
    assert again.pk == zhang.pk
    return report, mediation


def test_intake_shows_the_persons_reports_and_mediations(client, clerk, zhang_matters):
    report, mediation = zhang_matters
    # given the county's intake clerk typing 张三's ID number on the intake form
    client.force_login(clerk)
    response = client.get(reverse("cases:intake_repeats"),
                          {"petitioners-0-id_number": ZHANG_ID})
    # then the grid report (the county's petition office sees the county's reports) is shown
    body = response.content.decode()
    assert response.status_code == 200
    assert report.number in body
    # and the mediation, which only the mediators and those over the committee see, is not
    assert mediation.number not in body


def test_the_township_mediator_finds_both(zhang_matters, mediator):
    from cases.selectors.repeats import related_matters

    report, mediation = zhang_matters
    found = related_matters(user=mediator, phones=["13955501234"])
    assert {matter.number for matter in found} == {report.number, mediation.number}


def test_someone_outside_sees_nothing(zhang_matters, handler):
    from cases.selectors.repeats import related_matters

    assert related_matters(user=handler, id_numbers=[ZHANG_ID]) == []


def test_a_township_clerk_is_not_a_county_office_clerk(zhang_matters, unit):
    """``InUnit(county_office=True)``: only a clerk of the county's own offices reaches the
    county's reports; ``can`` and ``scope`` give the same answer."""
    from accounts.models import User
    from accounts.permissions import Action, can, scope
    from accounts.services import role_grant

    report, _mediation = zhang_matters
    township_clerk = User.objects.create(username="tclerk", name="乡镇接待")
    role_grant(user=township_clerk, role="clerk", unit=unit("341122101"))  # 河口镇
    assert not can(township_clerk, Action.GRID_REPORT_VIEW, report)
    assert not scope(township_clerk, Action.GRID_REPORT_VIEW, GridReport.objects.all()).exists()
    county_clerk = User.objects.get(username="clerk")  # 县信访局, a department of the county
    assert can(county_clerk, Action.GRID_REPORT_VIEW, report)
    assert list(scope(county_clerk, Action.GRID_REPORT_VIEW, GridReport.objects.all())) == [
        report]
