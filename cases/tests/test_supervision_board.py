"""The supervision page (/cases/supervision/): orders to answer, orders overseen, and the
county's board of listed supervision that every member of staff sees (cases/DECISIONS.md S7)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role, UnitKind
from accounts.models import RoleAssignment
from accounts.services import org_unit_create
from accounts.tests.factories import UserFactory
from cases.choices import CaseStatus
from cases.deadlines.clocks import OFFICE_TZ
from cases.selectors.supervision import supervision_page
from cases.services.supervision import supervision_answer, supervision_issue
from cases.tests.factories import CaseFactory, CasePetitionerFactory, PetitionerFactory, demo_unit

pytestmark = pytest.mark.django_db
PAGE = "/cases/supervision/"
CHENGGUAN, HEKOU = "341122100", "341122101"


def in_days(days: int):
    return timezone.localtime(timezone.now(), OFFICE_TZ).date() + timedelta(days=days)


def sign_in(client, user, language="zh-hans"):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)


def ordered(supervisor, *, number, unit=CHENGGUAN, listed=False, days=10, **case_fields):
    case = CaseFactory(number=number, status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(unit),
                       **case_fields)
    return supervision_issue(case=case, actor=supervisor, demand=f"督办{number}",
                             due_on=in_days(days), listed=listed)


def test_every_member_of_staff_sees_the_countys_board_without_the_petitioner(
        client, supervisor, grid, leader):
    # given a listed order on a case with a named petitioner, and an unlisted one
    listed = ordered(supervisor, number="T-2026-000501", listed=True, leader=leader)
    CasePetitionerFactory(case=listed.case, petitioner=PetitionerFactory(name="张秀英"),
                          is_main=True)
    ordered(supervisor, number="T-2026-000502", unit=HEKOU)
    # when the grid worker, who may not open either case, opens the page
    sign_in(client, grid)
    html = client.get(PAGE).content.decode()
    # then the board shows the listed case, its unit, leader and demand, unlinked
    assert "挂牌督办" in html and "T-2026-000501" in html and "城关镇" in html
    assert "督办T-2026-000501" in html and leader.display_name in html
    assert 'href="/cases/T-2026-000501/"' not in html
    # and neither the unlisted order nor the petitioner
    assert "T-2026-000502" not in html and "张秀英" not in html


def test_the_board_links_the_case_for_those_who_may_open_it(client, supervisor, handler):
    ordered(supervisor, number="T-2026-000511", listed=True)
    sign_in(client, handler)
    assert 'href="/cases/T-2026-000511/"' in client.get(PAGE).content.decode()


def test_another_countys_staff_do_not_see_the_board(client, supervisor):
    ordered(supervisor, number="T-2026-000521", listed=True)
    other = org_unit_create(name="临河县", kind=UnitKind.COUNTY, code="341123", parent=None)
    outsider = UserFactory()
    RoleAssignment.objects.create(user=outsider, role=Role.CLERK, unit=other)
    sign_in(client, outsider, "en")
    response = client.get(PAGE)
    assert response.status_code == 200 and "T-2026-000521" not in response.content.decode()
    assert "No order is listed now" in response.content.decode()


def test_the_unit_sees_what_it_must_answer_and_the_supervisor_what_it_oversees(
        client, supervisor, handler, head):
    mine = ordered(supervisor, number="T-2026-000531")
    theirs = ordered(supervisor, number="T-2026-000532", unit=HEKOU)
    answered = ordered(supervisor, number="T-2026-000533")
    supervision_answer(order=answered, actor=head, text="已办结")
    page = supervision_page(user=handler)
    assert [row.order for row in page.to_answer] == [mine]  # not 河口镇's, not the answered one
    overseen = supervision_page(user=supervisor).overseen
    assert {row.order for row in overseen} == {mine, theirs, answered}
    assert next(row for row in overseen if row.order == answered).due is None
    # and in English the page says so
    sign_in(client, supervisor, "en")
    html = client.get(PAGE).content.decode()
    assert "Open orders in your jurisdiction" in html
    assert "Answered, awaiting the supervisor" in html


def test_a_ladder_order_reads_its_escalation_as_the_demand(supervisor, handler):
    from cases.models import Escalation, SupervisionOrder
    from cases.tests.factories import DeadlineFactory

    case = CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(CHENGGUAN))
    clock = DeadlineFactory(case=case, kind="reply", length=60, unit="calendar")
    escalation = Escalation.objects.create(
        deadline=clock, case=case, level=3, offset=3, audiences=["supervisor"],
        action="supervise", fire_at=timezone.now(), fired_at=timezone.now())
    SupervisionOrder.objects.create(case=case, unit=case.lead_unit, escalation=escalation,
                                    issued_at=timezone.now())
    from django.utils import translation
    with translation.override("en"):
        (row,) = supervision_page(user=handler).to_answer
        assert row.demand == ("Opened by the escalation ladder (level 3): the clock "
                              "“Written reply” was 3 working days overdue.")


@pytest.mark.parametrize("count", [2, 20])
def test_the_page_costs_the_same_queries_for_2_or_20_orders(supervisor, django_assert_num_queries,
                                                            count):
    for n in range(count):
        ordered(supervisor, number=f"T-2026-{600 + n:06d}", listed=n % 2 == 0)
    supervision_page(user=supervisor)  # warm the calendar and the roles
    # the calendar's version, the overseen orders and which the user may open, the board
    # and which the user may open
    with django_assert_num_queries(5):
        page = supervision_page(user=supervisor)
    assert len(page.overseen) == count


def test_the_navigation_offers_the_page_to_every_role(client, demo_users):
    for username in ("clerk", "handler", "leader", "grid", "mediator"):
        client.force_login(demo_users[username])
        assert f'href="{PAGE}"' in client.get("/cases/supervision/").content.decode()


def test_no_role_no_page(client):
    client.force_login(UserFactory())
    assert client.get(PAGE).status_code == 403


def test_the_units_inbox_points_to_the_orders_it_must_answer(client, supervisor, handler):
    ordered(supervisor, number="T-2026-000541")
    sign_in(client, handler, "en")
    html = client.get("/cases/unit/").content.decode()
    assert "1 supervision order (督办) awaits your unit's answer." in html
    assert f'href="{PAGE}"' in html
