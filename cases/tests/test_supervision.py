"""Supervision orders (督办): issue, answer, accept or send back, list; their clock is
escalated like any other, and the ladder's level 3 opens them (on PostgreSQL, no mocks)."""

import threading
from datetime import date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from accounts.choices import Role
from accounts.models import RoleAssignment
from accounts.tests.factories import UserFactory
from cases.choices import CaseStatus, ClockKind, ClockStatus, EventKind, SupervisionStatus
from cases.deadlines.clocks import OFFICE_TZ
from cases.deadlines.ladder import ladder_seed
from cases.deadlines.rules import rules_seed
from cases.models import (
    Deadline,
    DeadlineRule,
    Escalation,
    LadderStep,
    Recusal,
    SupervisionAnswer,
    SupervisionOrder,
)
from cases.services.escalation import escalation_sweep
from cases.services.supervision import (
    supervision_answer,
    supervision_decide,
    supervision_due_proposed,
    supervision_issue,
    supervision_list,
)
from cases.tests.factories import CaseFactory, DeadlineFactory, demo_unit
from cases.tests.helpers import at, code_of, events_of, in_days, today
from notifications.models import Notification

pytestmark = pytest.mark.django_db
CHENGGUAN, HEKOU = "341122100", "341122101"



@pytest.fixture
def handled(leader):
    """A case 城关镇 is handling, led by the demo leader."""
    return CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(CHENGGUAN),
                       leader=leader)



def issue(case, supervisor, *, days=10, **extra):
    return supervision_issue(case=case, actor=supervisor, demand="请于期限内书面报告办理进展",
                             due_on=in_days(days), **extra)


# --- Issuing --------------------------------------------------------------------------------

def test_a_supervisor_issues_an_order_with_a_clock_of_its_own(supervisor, handler, head,
                                                             handled):
    # when the county's supervisor demands a written report within ten days
    order = issue(handled, supervisor, days=10)
    # then the order is open, addressed to the lead unit, and its answer clock runs
    assert order.status == SupervisionStatus.OPEN and order.unit.code == CHENGGUAN
    clock = order.deadline
    assert clock.kind == ClockKind.SUPERVISION and clock.status == ClockStatus.OPEN
    assert clock.starts_on == today() and clock.due_on >= in_days(10)  # a rest day moves it on
    assert clock.next_fire_at is not None  # the ladder warns and escalates it
    # and the trail and the unit's staff know
    (event,) = events_of(handled, EventKind.SUPERVISION_ISSUED)
    assert event.actor == supervisor and event.details["order"] == order.pk
    assert event.details["due_on"] == clock.due_on.isoformat()
    told = set(Notification.objects.filter(message="supervision.ordered")
               .values_list("user_id", flat=True))
    assert told == {handler.pk, head.pk}


def test_an_order_before_routing_is_addressed_to_the_petition_office(supervisor, clerk):
    case = CaseFactory(status=CaseStatus.REGISTERED)
    order = issue(case, supervisor)
    assert order.unit == case.registered_unit
    # and the office's clerk answers it
    supervision_answer(order=order, actor=clerk, text="已于今日转送城关镇")


def test_the_proposed_day_is_the_rules_thirty_days(county):
    # 30 calendar days from Friday 13 November 2026: Sunday 13 December moves to Monday
    assert supervision_due_proposed(at=at("2026-11-13")) == date(2026, 12, 14)


def test_only_a_supervisor_over_the_case_issues(handler, leader, handled, english):
    for outsider in (handler, leader):
        with pytest.raises(PermissionDenied, match="Only a supervisor over case"):
            issue(handled, outsider)
    # a township supervisor elsewhere in the county is not over it either
    elsewhere = UserFactory()
    RoleAssignment.objects.create(user=elsewhere, role=Role.SUPERVISOR, unit=demo_unit(HEKOU))
    with pytest.raises(PermissionDenied):
        issue(handled, elsewhere)
    assert not SupervisionOrder.objects.exists()


def test_an_order_needs_a_demand_and_a_day_ahead_within_a_year(supervisor, handled, english):
    with pytest.raises(ValidationError) as raised:
        supervision_issue(case=handled, actor=supervisor, demand="  ", due_on=in_days(5))
    assert code_of(raised) == "required"
    for day in (None, today(), in_days(-3), in_days(400)):
        with pytest.raises(ValidationError) as raised:
            supervision_issue(case=handled, actor=supervisor, demand="报告进展", due_on=day)
        assert code_of(raised) == "due_on"
    assert not SupervisionOrder.objects.exists() and not Deadline.objects.exists()


def test_one_open_order_per_case(supervisor, handled, english):
    first = issue(handled, supervisor)
    with pytest.raises(ValidationError) as raised:
        issue(handled, supervisor)
    assert code_of(raised) == "open_order" and "already has an open supervision order" in str(
        raised.value)
    assert list(SupervisionOrder.objects.all()) == [first]


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_issuing_at_once_open_one_order(county, demo_users):
    # given a handled case and two supervisors over it
    rules_seed(DeadlineRule)
    ladder_seed(LadderStep)
    case = CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(CHENGGUAN))
    second = UserFactory()
    RoleAssignment.objects.create(user=second, role=Role.SUPERVISOR, unit=county)
    actors = [demo_users["supervisor"], second]
    outcomes, barrier = [], threading.Barrier(2)

    def run(actor):
        try:
            barrier.wait()
            outcomes.append(issue(case, actor).pk)
        except ValidationError as refused:
            outcomes.append(refused.error_list[0].code)
        finally:
            connection.close()

    # when both issue at the same moment
    threads = [threading.Thread(target=run, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then one order is open, with one clock, and the other is told why
    assert sorted(map(str, outcomes))[-1] == "open_order"
    assert SupervisionOrder.objects.count() == 1
    assert Deadline.objects.filter(kind=ClockKind.SUPERVISION).count() == 1


# --- Answering and deciding -------------------------------------------------------------------

def test_the_unit_answers_and_the_clock_is_met(supervisor, handler, handled):
    order = issue(handled, supervisor)
    answer = supervision_answer(order=order, actor=handler, text="已约谈当事人，十日内兑现补偿")
    order.refresh_from_db()
    assert order.status == SupervisionStatus.ANSWERED
    assert order.deadline.status == ClockStatus.MET
    (event,) = events_of(handled, EventKind.SUPERVISION_ANSWERED)
    assert event.details["on_time"] is True and event.details["answer"] == answer.text
    # the supervisor who issued it is told
    assert Notification.objects.filter(user=supervisor, message="supervision.answered").exists()


def test_only_the_addressed_unit_answers_and_not_twice(supervisor, handler, leader, handled,
                                                       english):
    order = issue(handled, supervisor)
    with pytest.raises(PermissionDenied, match="to which the supervision order"):
        supervision_answer(order=order, actor=leader, text="已办")
    supervision_answer(order=order, actor=handler, text="已办")
    with pytest.raises(ValidationError) as raised:
        supervision_answer(order=order, actor=handler, text="再报")
    assert code_of(raised) == "answered"
    assert SupervisionAnswer.objects.count() == 1


def test_a_recused_handler_cannot_answer(supervisor, handler, handled):
    order = issue(handled, supervisor)
    Recusal.objects.create(case=handled, user=handler, reason="亲属关系", declared_at=timezone.now())
    with pytest.raises(PermissionDenied):
        supervision_answer(order=order, actor=handler, text="已办")


def test_the_supervisor_sends_an_answer_back_with_a_reason_and_a_new_day(supervisor, handler,
                                                                        head, handled):
    order = issue(handled, supervisor)
    first_clock = order.deadline
    supervision_answer(order=order, actor=handler, text="正在办理")
    # a send-back needs a reason
    with pytest.raises(ValidationError) as raised:
        supervision_decide(order=order, actor=supervisor, accept=False, note=" ",
                           due_on=in_days(5))
    assert code_of(raised) == "required"
    # when it is sent back with the reason and a new day
    answer = supervision_decide(order=order, actor=supervisor, accept=False,
                                note="未说明兑现时间", due_on=in_days(5))
    order.refresh_from_db()
    # then the order is open again on a new clock; the old one stays met
    assert answer.verdict == SupervisionAnswer.SENT_BACK
    assert order.status == SupervisionStatus.OPEN and order.deadline != first_clock
    assert order.deadline.status == ClockStatus.OPEN
    first_clock.refresh_from_db()
    assert first_clock.status == ClockStatus.MET
    assert Notification.objects.filter(user=head, message="supervision.sent_back").exists()
    # and a second answer, accepted, closes it
    supervision_answer(order=order, actor=head, text="十日内兑现，已书面承诺")
    supervision_decide(order=order, actor=supervisor, accept=True)
    order.refresh_from_db()
    assert order.status == SupervisionStatus.CLOSED and order.closed_by == supervisor
    assert [a.verdict for a in order.answers.all()] == ["sent_back", "accepted"]
    decided = events_of(handled, EventKind.SUPERVISION_DECIDED)
    assert [e.details["verdict"] for e in decided] == ["sent_back", "accepted"]
    # once closed, another order may be issued
    assert issue(handled, supervisor).pk != order.pk


def test_no_decision_before_an_answer_or_after_one(supervisor, handler, handled, english):
    order = issue(handled, supervisor)
    with pytest.raises(ValidationError) as raised:
        supervision_decide(order=order, actor=supervisor, accept=True)
    assert code_of(raised) == "not_answered"
    supervision_answer(order=order, actor=handler, text="已办")
    supervision_decide(order=order, actor=supervisor, accept=True)
    with pytest.raises(ValidationError):
        supervision_decide(order=order, actor=supervisor, accept=True)


def test_a_decision_on_an_answer_replaced_meanwhile_is_refused(supervisor, handler, handled,
                                                               english):
    # given an answer that supervisor A reads
    order = issue(handled, supervisor)
    read = supervision_answer(order=order, actor=handler, text="正在办理")
    # when supervisor B sends it back and the unit answers again before A decides
    supervision_decide(order=order, actor=supervisor, accept=False, note="未说明时间",
                       due_on=in_days(5), answer_id=read.pk)
    newer = supervision_answer(order=order, actor=handler, text="十日内兑现")
    # then A's acceptance of the answer A read is refused, and the new one waits
    with pytest.raises(ValidationError) as raised:
        supervision_decide(order=order, actor=supervisor, accept=True, answer_id=read.pk)
    assert code_of(raised) == "answer_changed" and "answered again" in str(raised.value)
    newer.refresh_from_db()
    assert newer.verdict == ""


def test_only_a_supervisor_decides(supervisor, handler, head, handled):
    order = issue(handled, supervisor)
    supervision_answer(order=order, actor=handler, text="已办")
    with pytest.raises(PermissionDenied):
        supervision_decide(order=order, actor=head, accept=True)


# --- Listed supervision -----------------------------------------------------------------------

def test_listing_and_unlisting_an_order_is_recorded_with_its_reason(supervisor, handled):
    order = issue(handled, supervisor)
    supervision_list(order=order, actor=supervisor, listed=True, reason="群体性事项，县委关注")
    order.refresh_from_db()
    assert order.listed and order.listed_at
    with pytest.raises(ValidationError):
        supervision_list(order=order, actor=supervisor, listed=True, reason="再挂")
    supervision_list(order=order, actor=supervisor, listed=False, reason="已化解")
    assert [e.details["listed"] for e in events_of(handled, EventKind.SUPERVISION_LISTED)] == [
        True, False]


def test_an_order_can_be_issued_listed(supervisor, handled):
    order = issue(handled, supervisor, listed=True)
    assert order.listed and events_of(handled, EventKind.SUPERVISION_ISSUED)[0].details["listed"]


# --- The ladder -------------------------------------------------------------------------------

def reply_clock(case):
    """A reply clock due 2026-09-30, the eve of National Day (24:00 of that day)."""
    return DeadlineFactory(case=case, kind=ClockKind.REPLY, due_on=date(2026, 9, 30),
                           due_at=datetime(2026, 10, 1, tzinfo=OFFICE_TZ),
                           starts_on=date(2026, 8, 1), length=60, unit="calendar")


def test_the_ladders_third_level_opens_an_order_once(handler, head, supervisor, handled):
    # given a reply clock due 2026-09-30 and scheduled on the default ladder
    from cases.services.escalation import escalation_reschedule

    reply_clock(handled)
    escalation_reschedule()
    # when the sweep runs after level 3 (3 working days overdue: 10-11 00:00)
    escalation_sweep(now=at("2026-10-12"))
    # then one order is open on the case, addressed to the lead unit, naming level 3
    (order,) = SupervisionOrder.objects.filter(case=handled)
    level3 = Escalation.objects.get(case=handled, level=3)
    assert order.escalation == level3 and order.issued_by is None and order.demand == ""
    assert order.unit.code == CHENGGUAN and order.status == SupervisionStatus.OPEN
    assert order.deadline.kind == ClockKind.SUPERVISION
    assert order.deadline.starts_on == date(2026, 10, 12)
    assert order.deadline.next_fire_at is not None
    assert Notification.objects.filter(user=handler, message="supervision.ordered").exists()
    issued = events_of(handled, EventKind.SUPERVISION_ISSUED)
    assert len(issued) == 1 and issued[0].actor is None
    # and a rerun opens nothing more
    escalation_sweep(now=at("2026-10-12", 12))
    assert SupervisionOrder.objects.filter(case=handled).count() == 1


def test_an_answer_to_a_ladder_order_reaches_the_supervisors_over_the_case(supervisor, handler,
                                                                          handled):
    from cases.services.escalation import escalation_reschedule

    reply_clock(handled)
    escalation_reschedule()
    escalation_sweep(now=at("2026-10-12"))
    (order,) = SupervisionOrder.objects.filter(case=handled)
    supervision_answer(order=order, actor=handler, text="已约谈，十日内兑现")
    # the order names no issuer: the county's supervisor, over the case, is told
    assert set(Notification.objects.filter(message="supervision.answered")
               .values_list("user_id", flat=True)) == {supervisor.pk}


def test_the_ladder_leaves_an_open_order_alone(supervisor, handled):
    from cases.services.escalation import escalation_reschedule

    mine = issue(handled, supervisor)
    reply_clock(handled)
    escalation_reschedule()
    escalation_sweep(now=at("2026-10-12"))
    assert list(SupervisionOrder.objects.filter(case=handled)) == [mine]
    assert Escalation.objects.filter(case=handled, level=3).exists()


def test_an_unanswered_order_is_escalated_like_any_clock(supervisor, handled):
    # given an order opened on 2026-11-13 to answer by 2026-11-20
    order = supervision_issue(case=handled, actor=supervisor, demand="报告进展",
                              due_on=date(2026, 11, 20), at=at("2026-11-13"))
    assert order.deadline.due_on == date(2026, 11, 20)
    # when the sweep runs once it is due (24:00 of the 20th)
    escalation_sweep(now=at("2026-11-21"))
    # then levels 1 and 2 of the supervision ladder fired on its clock
    fired = set(Escalation.objects.filter(deadline=order.deadline).values_list("level", flat=True))
    assert fired == {1, 2}
    # and its level 3 would not open an order on the order
    assert not LadderStep.objects.filter(clock_kind=ClockKind.SUPERVISION,
                                         action="supervise").exists()
