"""The demo county's mediation bodies: a people's mediation committee in every village and
community and in every township, and the county's mediation joint conference."""

from django.db import transaction

from accounts.choices import UnitKind
from accounts.models import OrgUnit

from .models import Committee, CommitteeKind

# The unit kinds a committee of each kind sits in.
_KINDS = {
    UnitKind.VILLAGE: CommitteeKind.VILLAGE,
    UnitKind.COMMUNITY: CommitteeKind.VILLAGE,
    UnitKind.TOWNSHIP: CommitteeKind.TOWNSHIP,
    UnitKind.STREET: CommitteeKind.TOWNSHIP,
    UnitKind.COUNTY: CommitteeKind.COUNTY,
}
_SUFFIX = {CommitteeKind.VILLAGE: "人民调解委员会", CommitteeKind.TOWNSHIP: "人民调解委员会",
           CommitteeKind.COUNTY: "矛盾纠纷调解工作联席会议"}


@transaction.atomic
def demo_committees_seed() -> list[Committee]:
    """One committee per village, community, township and street, and the county's
    joint conference; an existing one is kept. Its code is its unit's code and "-TW"."""
    made = []
    for unit in OrgUnit.objects.filter(kind__in=list(_KINDS)).order_by("path"):
        kind = _KINDS[unit.kind]
        committee, _created = Committee.objects.get_or_create(
            code=f"{unit.code}-TW",
            defaults={"name": f"{unit.name}{_SUFFIX[kind]}", "kind": kind, "unit": unit})
        made.append(committee)
    return made


def demo_disputes_seed() -> int:
    """Three grid reports of the demo county's first grid, if it has none yet: one settled
    on the spot, one passed to the township centre with a threat, one the centre sent to
    the village committee (a mediation case), all through the services. Returns how many
    were made (0 on a database that has reports)."""
    from datetime import timedelta
    from uuid import NAMESPACE_URL, uuid5

    from django.utils import timezone

    from accounts.models import User

    from .grid import PartyInput, ReportInput, RiskFlags, grid_report_submit, grid_report_triage
    from .models import DisputeKind, GridReport, Side

    if GridReport.objects.exists():
        return 0
    demo_committees_seed()
    worker = User.objects.filter(username="grid").first()
    centre = User.objects.filter(username="mediator").first()
    grid = OrgUnit.objects.filter(code="341122100001-G1").first()
    if worker is None or centre is None or grid is None:
        return 0
    now = timezone.now()
    reports = [
        ReportInput(client_key=uuid5(NAMESPACE_URL, "petitiondesk-demo-report-1"), grid=grid,
                    found_at=now - timedelta(days=2), kind=DisputeKind.NEIGHBOURS,
                    place="东关社区3号楼2单元", summary="楼上住户装修漏水，楼下住户要求赔偿。",
                    parties=(PartyInput(side=Side.APPLICANT, name="刘桂芳"),
                             PartyInput(side=Side.RESPONDENT, name="孙建国")),
                    settled=True, settled_how="网格员现场协调，双方同意由楼上住户负责维修。"),
        ReportInput(client_key=uuid5(NAMESPACE_URL, "petitiondesk-demo-report-2"), grid=grid,
                    found_at=now - timedelta(hours=5), kind=DisputeKind.LABOUR,
                    place="东关社区建筑工地", summary="十余名工人称工程款拖欠，工资三个月未发。",
                    parties=(PartyInput(side=Side.APPLICANT, name="马永强", phone="13955501001"),
                             PartyInput(side=Side.RESPONDENT, organisation="清河县某建筑公司")),
                    settled=False,
                    risks=RiskFlags(threat=True, threat_words="再不发工资就去县政府门口讨说法",
                                    group_involved=True, group_size=12)),
        ReportInput(client_key=uuid5(NAMESPACE_URL, "petitiondesk-demo-report-3"), grid=grid,
                    found_at=now - timedelta(days=1), kind=DisputeKind.LAND,
                    place="东关社区菜地", summary="两户因菜地边界争执，多次发生口角。",
                    parties=(PartyInput(side=Side.APPLICANT, name="周德明"),
                             PartyInput(side=Side.RESPONDENT, name="吴秀英")),
                    settled=False),
    ]
    made = [grid_report_submit(actor=worker, report=report, at=now).report for report in reports]
    grid_report_triage(report=made[2], actor=centre, version=made[2].version, to="village",
                       note="邻里小事，由社区调委会调解。", at=now)
    return len(made)
