"""The unit's inbox (/cases/unit/) and the leader's cases (/cases/mine/) through the real stack."""

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from accounts.models import RoleAssignment
from accounts.permissions import Action, can, forget_roles, held_roles
from cases.choices import CaseStatus
from cases.deadlines.calendar import Unit
from cases.deadlines.clocks import OFFICE_TZ, office_calendar
from cases.models import Extension, Leadership
from cases.selectors.workspaces import leader_cases, unit_inbox
from cases.tests.factories import CaseFactory, DeadlineFactory, demo_unit
from cases.tests.helpers import at

pytestmark = pytest.mark.django_db

INBOX, MINE = reverse("cases:unit_cases"), reverse("cases:my_cases")
CHENGGUAN, HEKOU = "341122100", "341122101"


def today() -> date:
    return timezone.localtime(timezone.now(), OFFICE_TZ).date()


def due_in(working_days: int) -> date:
    return office_calendar().due_date(today(), working_days, Unit.WORKING).due


def clock(case, kind: str, due_on: date, **fields):
    """A running clock on ``case`` whose last day is ``due_on`` (it ends at 24:00 that day)."""
    due_at = datetime.combine(due_on + timedelta(days=1), time.min, tzinfo=OFFICE_TZ)
    return DeadlineFactory(case=case, kind=kind, due_on=due_on, due_at=due_at, **fields)


def routed(code: str = CHENGGUAN, **fields):
    return CaseFactory(status=CaseStatus.ROUTED, lead_unit=demo_unit(code), **fields)


def section(response, key: str) -> list[str]:
    sections = {s.group.key: s for s in response.context["inbox"].sections}
    return [case.number for case in sections[key].cases]


def sign_in(client, user, language: str = "en"):
    """Sign ``user`` in, working in ``language`` (the interface follows the user's setting)."""
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)


def lead(case, leader, responsible, **duties):
    return Leadership.objects.create(
        case=case, leader=leader, measures="实地核查补偿款发放情况", deadline=date(2026, 10, 30),
        responsible=responsible, assigned_by=responsible, assigned_at=at("2026-09-17"), **duties)


# --- The unit's inbox ----------------------------------------------------------------------

def test_the_handler_sees_a_routed_case_of_their_unit_with_its_objection_days(
        client, handler):
    # given a case routed to 城关镇 with three working days left to object, and one routed elsewhere
    ours = routed(number="T-2026-000201")
    clock(ours, "objection", due_in(3))
    clock(routed(HEKOU, number="T-2026-000202"), "objection", due_in(3))
    # when the handler of 城关镇 opens the inbox
    sign_in(client, handler)
    response = client.get(INBOX)
    # then their case is under "to sign", with its objection window and the days left
    assert response.status_code == 200
    assert section(response, "sign") == ["T-2026-000201"]
    assert [unit.code for unit in response.context["inbox"].units] == [CHENGGUAN]
    due = response.context["inbox"].sections[0].cases[0].next_deadline
    assert (due.kind, due.days, due.tone) == ("objection", 3, "soon")
    page = response.content.decode()
    assert 'href="/cases/T-2026-000201/"' in page
    assert "3 working days left" in page
    assert "T-2026-000202" not in page


def test_each_state_lands_in_its_group_and_overdue_comes_first(client, handler):
    # given cases of the unit in every inbox state; of two in handling, the later one is overdue
    clock(CaseFactory(number="T-2026-000211", status=CaseStatus.SIGNED,
                      lead_unit=demo_unit(CHENGGUAN)), "acceptance_notice", due_in(5))
    on_time = CaseFactory(number="T-2026-000212", status=CaseStatus.IN_HANDLING,
                          lead_unit=demo_unit(CHENGGUAN), received_at=at("2026-09-01"))
    clock(on_time, "reply", due_in(2))
    late = CaseFactory(number="T-2026-000213", status=CaseStatus.ACCEPTED,
                       lead_unit=demo_unit(CHENGGUAN), received_at=at("2026-09-20"))
    clock(late, "reply", today() - timedelta(days=2))
    CaseFactory(number="T-2026-000214", status=CaseStatus.RETURN_REQUESTED,
                lead_unit=demo_unit(CHENGGUAN))
    CaseFactory(number="T-2026-000215", status=CaseStatus.REPLIED, lead_unit=demo_unit(CHENGGUAN))
    CaseFactory(number="T-2026-000216", status=CaseStatus.CLOSED, lead_unit=demo_unit(CHENGGUAN))
    # when the handler opens the inbox
    client.force_login(handler)
    response = client.get(INBOX)
    # then each case is in the group of what it needs next, the overdue one first
    assert section(response, "accept") == ["T-2026-000211"]
    assert section(response, "handle") == ["T-2026-000213", "T-2026-000212"]
    assert section(response, "return") == ["T-2026-000214"]
    assert section(response, "replied") == ["T-2026-000215"]
    assert "T-2026-000216" not in response.content.decode()
    first = response.context["inbox"].sections[3].cases[0]
    assert first.is_overdue and first.next_deadline.tone == "overdue"
    assert first.next_deadline.days == 2


def test_a_window_that_ran_out_is_grey_not_overdue(handler):
    # given a routed case whose objection window has passed (a right, not a duty)
    case = routed(number="T-2026-000221")
    clock(case, "objection", today() - timedelta(days=1))
    # then it is not counted as overdue and its clock reads as lapsed
    row = unit_inbox(user=handler).sections[0].cases[0]
    assert not row.is_overdue
    assert row.next_deadline.tone == "lapsed"


def test_the_head_of_the_unit_sees_the_same_inbox(client, head):
    routed(number="T-2026-000231")
    client.force_login(head)
    assert section(client.get(INBOX), "sign") == ["T-2026-000231"]


def test_an_empty_inbox_says_what_to_do(client, handler):
    sign_in(client, handler)
    page = client.get(INBOX).content.decode()
    assert "Your unit has no open cases" in page
    assert 'href="/cases/"' in page


@pytest.mark.parametrize(("username", "path"), [("clerk", INBOX), ("handler", MINE),
                                                ("clerk", MINE)])
def test_other_roles_are_refused(client, demo_users, username, path):
    client.force_login(demo_users[username])
    assert client.get(path).status_code == 403


def test_the_inbox_renders_in_chinese_and_english(client, handler):
    case = routed(number="T-2026-000241")
    clock(case, "objection", due_in(2))
    sign_in(client, handler, "zh-hans")
    chinese = client.get(INBOX).content.decode()
    sign_in(client, handler, "en")
    english = client.get(INBOX).content.decode()
    assert "还剩2个工作日" in chinese and "本单位信访件" in chinese
    assert "2 working days left" in english and "Unit cases" in english


@pytest.mark.parametrize("count", [3, 30])
def test_the_inbox_costs_the_same_queries_for_3_or_30_cases(
        handler, django_assert_num_queries, count):
    # given ``count`` routed cases, each with a clock and a leader
    for n in range(count):
        case = routed(number=f"T-2026-{300 + n:06d}", leader=handler)
        clock(case, "objection", due_in(n % 5 + 1))
    held_roles(handler)
    unit_inbox(user=handler)  # warm the office calendar
    # then the units, the rows, their clocks, the calendar's version check, the open
    # commitments and instructions the unit owes, and the supervision orders it must
    # answer: seven queries
    with django_assert_num_queries(7):
        inbox = unit_inbox(user=handler)
    assert len(inbox.sections[0].cases) == count


# --- The leader's cases --------------------------------------------------------------------

def test_the_leader_sees_the_case_they_lead_with_its_duties(client, leader, handler):
    # given a case led by the demo leader with two of four duties done, and one led by no one
    case = CaseFactory(number="T-2026-000401", status=CaseStatus.IN_HANDLING, leader=leader,
                       lead_unit=demo_unit(CHENGGUAN))
    clock(case, "reply", due_in(2))
    lead(case, leader, handler, investigated_at=at("2026-09-20"), handled_at=at("2026-09-25"))
    CaseFactory(number="T-2026-000402", status=CaseStatus.IN_HANDLING,
                lead_unit=demo_unit(CHENGGUAN))
    # when the leader opens "my cases"
    sign_in(client, leader)
    response = client.get(MINE)
    # then only their case is listed, with its deadline, its items and the duties done
    rows = response.context["led"].rows
    assert [row.case.number for row in rows] == ["T-2026-000401"]
    assert rows[0].duties_done == 2
    assert rows[0].case.next_deadline.tone == "soon"
    page = response.content.decode()
    assert "实地核查补偿款发放情况" in page and handler.display_name in page
    assert "2 working days left" in page
    assert page.count("not yet done") == 2


def test_overdue_led_cases_come_first(leader):
    calm = CaseFactory(number="T-2026-000411", status=CaseStatus.ACCEPTED, leader=leader,
                       lead_unit=demo_unit(CHENGGUAN), received_at=at("2026-09-01"))
    clock(calm, "reply", due_in(10))
    late = CaseFactory(number="T-2026-000412", status=CaseStatus.ACCEPTED, leader=leader,
                       lead_unit=demo_unit(CHENGGUAN), received_at=at("2026-09-30"))
    clock(late, "reply", today() - timedelta(days=1))
    rows = leader_cases(user=leader).rows
    assert [row.case.number for row in rows] == ["T-2026-000412", "T-2026-000411"]
    assert rows[0].case.next_deadline.tone == "overdue"


def test_pending_extensions_show_only_where_the_leader_may_decide(client, leader, handler):
    # given two led cases with a pending extension; the leader is also head of 城关镇 only
    RoleAssignment.objects.create(user=leader, role=Role.UNIT_HEAD, unit=demo_unit(CHENGGUAN))
    forget_roles(leader)
    mine = CaseFactory(number="T-2026-000421", status=CaseStatus.IN_HANDLING, leader=leader,
                       lead_unit=demo_unit(CHENGGUAN))
    other = CaseFactory(number="T-2026-000422", status=CaseStatus.IN_HANDLING, leader=leader,
                        lead_unit=demo_unit(HEKOU))
    for case in (mine, other):
        Extension.objects.create(case=case, deadline=clock(case, "reply", due_in(4)), days=15,
                                 reason="需补充调查", requested_by=handler,
                                 requested_at=at("2026-10-01"))
    # then both are listed, and only the one the permission module lets them decide is decidable
    rows = {row.case.number: row for row in leader_cases(user=leader).rows}
    assert [(e.days, e.may_decide) for e in rows["T-2026-000421"].extensions] == [(15, True)]
    assert [(e.days, e.may_decide) for e in rows["T-2026-000422"].extensions] == [(15, False)]
    assert can(leader, Action.CASE_APPROVE_EXTENSION, mine)
    assert not can(leader, Action.CASE_APPROVE_EXTENSION, other)
    client.force_login(leader)
    assert "需补充调查" in client.get(MINE).content.decode()


def test_my_cases_renders_in_chinese_with_an_empty_state(client, leader, handler):
    sign_in(client, leader, "zh-hans")
    empty = client.get(MINE).content.decode()
    case = CaseFactory(number="T-2026-000431", status=CaseStatus.ACCEPTED, leader=leader,
                       lead_unit=demo_unit(CHENGGUAN))
    clock(case, "reply", today() - timedelta(days=2))
    lead(case, leader, handler, investigated_at=at("2026-09-20"))
    page = client.get(MINE).content.decode()
    assert "我的包案" in empty and 'href="/cases/"' in empty
    assert "已超期2天" in page and "实地核查补偿款发放情况" in page


@pytest.mark.parametrize("count", [3, 30])
def test_my_cases_costs_the_same_queries_for_3_or_30_cases(
        leader, handler, django_assert_num_queries, count):
    for n in range(count):
        case = CaseFactory(number=f"T-2026-{500 + n:06d}", status=CaseStatus.IN_HANDLING,
                           leader=leader, lead_unit=demo_unit(CHENGGUAN))
        clock(case, "reply", due_in(n % 7 + 1))
        lead(case, leader, handler)
    held_roles(leader)
    leader_cases(user=leader)  # warm the office calendar
    # then rows, clocks, the calendar's version check, the leaderships, the pending
    # extensions, the instructions and the open commitments: seven queries
    with django_assert_num_queries(7):
        led = leader_cases(user=leader)
    assert len(led.rows) == count
