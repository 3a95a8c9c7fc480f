"""Supervision orders (督办) on the case page, through the Django test client and PostgreSQL:
issue, answer, accept or send back, list on the county's board; who is refused; forms sent
after someone else acted; the section, the timeline and what the page costs."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.choices import Role
from accounts.models import RoleAssignment
from accounts.tests.factories import UserFactory
from cases.choices import ClockKind, EventKind, SupervisionStatus
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import CaseEvent, Deadline, Escalation, SupervisionAnswer, SupervisionOrder
from cases.selectors.wording import day_text
from cases.services.supervision import (
    LadderOpening,
    supervision_answer,
    supervision_decide,
    supervision_due_proposed,
    supervision_issue,
)
from cases.services.transitions import case_accept, case_route, case_sign
from cases.tests.factories import CaseFactory, demo_unit
from cases.tests.test_step_forms import flash, page_url, post_step, signed_in, step_url

pytestmark = pytest.mark.django_db
TOWNSHIP = "341122100"  # 城关镇


def today() -> date:
    return timezone.localtime(timezone.now(), OFFICE_TZ).date()


def in_days(days: int) -> date:
    return today() + timedelta(days=days)


def summary(response) -> str:
    """The error summary at the top of a form sent back."""
    return response.text.split('class="alert alert-danger pd-error-summary"')[1].split("</div>")[0]


def actions(client, case) -> set[str]:
    return set(re.findall(r'data-action="([a-z_]+)"', client.get(page_url(case)).text))


def section(html: str) -> str:
    return html.split('id="pd-h-supervision"')[1].split("</section>")[0]


def timeline(html: str) -> str:
    return html.split('id="pd-h-timeline"')[1]


@pytest.fixture
def handled(clerk, handler, leader):
    """A case 城关镇 accepted and handles (its reply clock runs), led by the demo leader."""
    case = CaseFactory(place_unit=demo_unit("341122100001"), leader=leader)
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
    case_sign(case=case, actor=handler)
    case_accept(case=case, actor=handler)
    return case


@pytest.fixture
def ordered(handled, supervisor):
    """The county's supervisor demands a written report within ten days."""
    return supervision_issue(case=handled, actor=supervisor, demand="请十日内书面报告补偿款发放进展",
                             due_on=in_days(10))


@pytest.fixture
def answered(ordered, handler):
    supervision_answer(order=ordered, actor=handler, text="已约谈村委会，补偿款本周发放")
    return ordered


@pytest.fixture
def other_supervisor(county):
    user = UserFactory(username="other_supervisor", name="吴督查")
    RoleAssignment.objects.create(user=user, role=Role.SUPERVISOR, unit=county)
    return user


# --- Issuing --------------------------------------------------------------------------------

def test_the_supervisor_issues_a_listed_order_from_the_case_page(client, supervisor, handled):
    signed_in(client, supervisor)
    assert "supervise" in actions(client, handled)
    # the form proposes the usual period, as an ISO day for the date picker
    form = client.get(step_url(handled, "supervise")).text
    proposed = supervision_due_proposed()
    assert f'value="{proposed.isoformat()}"' in form and "Proposed:" in form
    assert "List it on the county&#x27;s board (挂牌督办)" in form
    # an empty demand and a day gone by are refused at their fields, the rest kept
    response = post_step(client, handled, "supervise", {"demand": " ", "due_on": in_days(5)})
    assert '<a href="#id_demand">Write what the supervision order demands.</a>' in summary(
        response)
    response = post_step(client, handled, "supervise",
                         {"demand": "请报告进展", "due_on": in_days(-1), "listed": "on"})
    assert '<a href="#id_due_on">The day to answer by must be after today.</a>' in summary(
        response)
    assert "请报告进展" in response.text
    assert re.search(r'<input type="checkbox" name="listed"[^>]*checked', response.text)
    assert not SupervisionOrder.objects.exists()
    # when the demand and the day are right
    response = post_step(client, handled, "supervise",
                         {"demand": "请十日内书面报告进展", "due_on": in_days(10), "listed": "on"},
                         follow=True)
    # then the order is open, listed, addressed to the lead unit, and the message says what next
    order = SupervisionOrder.objects.get(case=handled)
    assert order.listed and order.status == SupervisionStatus.OPEN and order.issued_by == supervisor
    (message,) = [text for text in flash(response) if "supervision order" in text]
    assert message == (
        f"The supervision order on case {handled.number} is issued and listed on the county's "
        f"board (挂牌督办). 城关镇 answers by {order.deadline.due_on.isoformat()}; you accept the "
        "answer or send it back on the case page.")
    shown = section(response.text)
    assert f'data-supervision="{order.pk}"' in shown and "请十日内书面报告进展" in shown
    assert "Listed supervision (挂牌督办)" in shown and "Issued by 周督查" in shown
    assert "To be answered by 城关镇" in shown and "working days left" in shown
    # and a second order is not offered while this one is open; listing it is
    offered = actions(client, handled)
    assert "supervise" not in offered and "list_supervision" in offered
    assert "decide_supervision" not in offered


def test_an_order_issued_meanwhile_is_said_so_keeping_the_demand(client, supervisor,
                                                               other_supervisor, handled):
    # given the supervisor opened the form
    signed_in(client, supervisor)
    assert client.get(step_url(handled, "supervise")).status_code == 200
    # when another supervisor issues an order first
    supervision_issue(case=handled, actor=other_supervisor, demand="请核查", due_on=in_days(7))
    response = post_step(client, handled, "supervise",
                         {"demand": "请约谈信访人并报告", "due_on": in_days(10)})
    # then the form comes back with the service's reason and what was typed
    assert response.status_code == 200
    assert "already has an open supervision order" in summary(response)
    assert "请约谈信访人并报告" in response.text
    assert SupervisionOrder.objects.filter(case=handled).count() == 1


# --- Answering, sending back, accepting -------------------------------------------------------

def test_the_unit_answers_the_supervisor_sends_back_then_accepts(client, supervisor, handler,
                                                                 head, ordered, handled):
    # the handler sees the demand on the form and must write something
    signed_in(client, handler)
    assert "answer_supervision" in actions(client, handled)
    form = client.get(step_url(handled, "answer_supervision")).text
    assert "请十日内书面报告补偿款发放进展" in form and f'value="{ordered.pk}"' in form
    response = post_step(client, handled, "answer_supervision",
                         {"order_id": ordered.pk, "text": ""})
    assert '<a href="#id_text">Write the answer to the supervision order.</a>' in summary(
        response)
    response = post_step(client, handled, "answer_supervision",
                         {"order_id": ordered.pk, "text": "已约谈村委会"}, follow=True)
    assert any("Your answer to the supervision order on case" in text
               and "accepts it or sends it back" in text for text in flash(response))
    assert "Answered, awaiting the supervisor" in section(response.text)
    assert "answer_supervision" not in actions(client, handled)
    # the supervisor decides: a send-back needs its reason and a new day
    signed_in(client, supervisor)
    assert "decide_supervision" in actions(client, handled)
    form = client.get(step_url(handled, "decide_supervision")).text
    assert "已约谈村委会" in form and "The unit&#x27;s answer, by 王办理" in form
    response = post_step(client, handled, "decide_supervision", {"order_id": ordered.pk})
    assert ('<a href="#id_decision">Choose to accept the answer or to send it back.</a>'
            in summary(response))
    response = post_step(client, handled, "decide_supervision",
                         {"order_id": ordered.pk, "decision": "send_back",
                          "due_on": in_days(5)})
    assert '<a href="#id_note">Say why the answer is sent back' in summary(response)
    response = post_step(client, handled, "decide_supervision",
                         {"order_id": ordered.pk, "decision": "send_back", "note": "未说明发放时间"})
    assert '<a href="#id_due_on">Give the day by which the unit answers.</a>' in summary(response)
    assert "未说明发放时间" in response.text
    response = post_step(client, handled, "decide_supervision",
                         {"order_id": ordered.pk, "decision": "send_back",
                          "note": "未说明发放时间", "due_on": in_days(5)}, follow=True)
    ordered.refresh_from_db()
    assert ordered.status == SupervisionStatus.OPEN
    new_due = ordered.deadline.due_on.isoformat()
    assert any(f"is sent back to 城关镇 with your reason; it answers again by {new_due}" in text
               for text in flash(response))
    # the head answers again, reading why it came back
    signed_in(client, head)
    form = client.get(step_url(handled, "answer_supervision")).text
    assert "Why the last answer was sent back" in form and "未说明发放时间" in form
    post_step(client, handled, "answer_supervision",
              {"order_id": ordered.pk, "text": "补偿款将于本月二十日前发放到户"})
    # and the supervisor accepts
    signed_in(client, supervisor)
    response = post_step(client, handled, "decide_supervision",
                         {"order_id": ordered.pk, "decision": "accept"}, follow=True)
    ordered.refresh_from_db()
    assert ordered.status == SupervisionStatus.CLOSED and ordered.closed_by == supervisor
    assert any("is accepted; the order is closed" in text for text in flash(response))
    # then the section shows both answers with their verdicts, and a new order may be issued
    shown = section(response.text)
    assert shown.count("data-supervision-answer=") == 2
    assert 'data-verdict="sent_back"' in shown and 'data-verdict="accepted"' in shown
    assert "未说明发放时间" in shown and "Answered in time" in shown
    assert "data-order-action" not in shown
    assert "supervise" in actions(client, handled)
    # and the timeline tells each step in words
    told = timeline(response.text)
    expected = ["Supervision order to 城关镇, to be answered by",
                "Answered in time (due", "Answer sent back, to be answered again by",
                "Reason: 未说明发放时间", "补偿款将于本月二十日前发放到户",
                "Answer accepted; the supervision order is closed."]
    positions = [told.index(text) for text in expected]
    assert positions == sorted(positions)


def test_an_order_answered_meanwhile_is_said_so_keeping_the_answer(client, handler, head,
                                                                   ordered, handled):
    # given the handler opened the answer form
    signed_in(client, handler)
    assert client.get(step_url(handled, "answer_supervision")).status_code == 200
    # when the head answers first
    supervision_answer(order=ordered, actor=head, text="主任已答复")
    response = post_step(client, handled, "answer_supervision",
                         {"order_id": ordered.pk, "text": "办理人的答复"})
    # then the form comes back with the service's message and what the handler typed
    assert response.status_code == 200
    assert "already answered" in summary(response) and "办理人的答复" in response.text
    assert list(SupervisionAnswer.objects.values_list("text", flat=True)) == ["主任已答复"]


def test_an_answer_decided_meanwhile_is_said_so_keeping_the_note(client, supervisor,
                                                                 other_supervisor, answered,
                                                                 handled):
    signed_in(client, supervisor)
    assert client.get(step_url(handled, "decide_supervision")).status_code == 200
    supervision_decide(order=answered, actor=other_supervisor, accept=True)
    response = post_step(client, handled, "decide_supervision",
                         {"order_id": answered.pk, "decision": "send_back",
                          "note": "请补充材料", "due_on": in_days(5)})
    assert response.status_code == 200
    assert "There is no answer awaiting a decision" in summary(response)
    assert "请补充材料" in response.text
    assert SupervisionAnswer.objects.get().verdict == SupervisionAnswer.ACCEPTED


# --- Listing ----------------------------------------------------------------------------------

def test_the_supervisor_lists_an_order_and_takes_it_off(client, supervisor, ordered, handled):
    signed_in(client, supervisor)
    form = client.get(step_url(handled, "list_supervision")).text
    assert re.search(r'value="list"[^>]*checked', form)  # the change on offer
    response = post_step(client, handled, "list_supervision",
                         {"order_id": ordered.pk, "listing": "list", "reason": ""})
    assert '<a href="#id_reason">Say why the order is listed' in summary(response)
    response = post_step(client, handled, "list_supervision",
                         {"order_id": ordered.pk, "listing": "unlist", "reason": "无需挂牌"})
    assert '<a href="#id_listing">The order is not listed.</a>' in summary(response)
    response = post_step(client, handled, "list_supervision",
                         {"order_id": ordered.pk, "listing": "list",
                          "reason": "群体性事项，县委关注"}, follow=True)
    assert any("is listed on the county's board" in text for text in flash(response))
    assert "Listed supervision (挂牌督办)" in section(response.text)
    response = post_step(client, handled, "list_supervision",
                         {"order_id": ordered.pk, "listing": "unlist", "reason": "已化解"},
                         follow=True)
    assert any("is taken off the county's board; it stays open" in text
               for text in flash(response))
    assert "data-supervision-listed" not in section(response.text)
    told = timeline(response.text)
    assert told.index("Reason: 群体性事项，县委关注") < told.index("Taken off the county&#x27;s "
                                                               "board. Reason: 已化解")
    assert [e.details["listed"] for e in CaseEvent.objects.filter(
        case=handled, kind=EventKind.SUPERVISION_LISTED).order_by("pk")] == [True, False]


# --- Who is refused ----------------------------------------------------------------------------

@pytest.mark.parametrize(("username", "name"), [
    ("handler", "supervise"), ("leader", "supervise"), ("clerk", "supervise"),
    ("clerk", "answer_supervision"), ("leader", "answer_supervision"),
    ("supervisor", "answer_supervision"),
    ("handler", "decide_supervision"), ("head", "decide_supervision"),
    ("leader", "decide_supervision"), ("handler", "list_supervision"),
    ("leader", "list_supervision"),
])
def test_those_who_may_not_get_403(client, demo_users, answered, handled, username, name):
    # given an answered order (the unit owes nothing; the supervisor owes the verdict)
    signed_in(client, demo_users[username])
    events = CaseEvent.objects.filter(case=handled).count()
    # then neither the form nor a forged submission is served, and nothing is written
    assert client.get(step_url(handled, name)).status_code == 403
    response = post_step(client, handled, name, {
        "order_id": answered.pk, "demand": "x", "due_on": in_days(5), "text": "x",
        "decision": "accept", "listing": "list", "reason": "x"})
    assert response.status_code == 403
    assert CaseEvent.objects.filter(case=handled).count() == events
    assert SupervisionOrder.objects.get().status == SupervisionStatus.ANSWERED


def test_a_unit_with_nothing_owed_is_not_offered_to_answer(client, handler, supervisor, answered,
                                                          handled):
    # the order is answered: the unit is offered nothing until it is sent back
    signed_in(client, handler)
    offered = actions(client, handled)
    assert not {"answer_supervision", "decide_supervision", "list_supervision",
                "supervise"} & offered
    assert client.get(step_url(handled, "answer_supervision")).status_code == 403


def test_a_decision_or_listing_without_any_order_is_refused(client, supervisor, handled):
    signed_in(client, supervisor)
    for name in ("decide_supervision", "list_supervision", "answer_supervision"):
        assert client.get(step_url(handled, name)).status_code == 403
    # a forged decision on a case without an order says so on the form
    response = post_step(client, handled, "decide_supervision", {"decision": "accept"})
    assert response.status_code == 200
    assert f"Case {handled.number} has no supervision order." in summary(response)


# --- Orders the escalation ladder opened -----------------------------------------------------------

def test_an_order_the_ladder_opened_says_why(client, handler, handled):
    # given level 3 of the reply clock's ladder fired, 3 working days after its due time
    from cases.services.supervision import supervision_open_by_ladder

    now = timezone.now()
    clock = Deadline.objects.get(case=handled, kind=ClockKind.REPLY)
    level3 = Escalation.objects.create(deadline=clock, case=handled, level=3, offset=3,
                                       audiences=["supervisor"], action="supervise",
                                       fire_at=now, fired_at=now)
    supervision_open_by_ladder([LadderOpening(case_id=handled.pk, number=handled.number,
                                              unit_id=demo_unit(TOWNSHIP).pk,
                                              escalation_id=level3.pk)], now=now)
    # when the handler opens the case and the answer form
    signed_in(client, handler)
    html = client.get(page_url(handled)).text
    reason = ("Opened by the escalation ladder (level 3): the clock “Written reply” was 3 "
              "working days overdue.")
    # then the section, the timeline and the form word the demand from the escalation
    shown = section(html)
    assert reason in shown and "Opened by the escalation ladder</" not in shown
    assert "Opened by the escalation ladder" in shown and "Issued by" not in shown
    assert f"{reason} 城关镇 answers by" in timeline(html)
    assert reason in client.get(step_url(handled, "answer_supervision")).text


# --- Languages -----------------------------------------------------------------------------------

def test_the_section_and_the_messages_in_chinese_and_in_english(client, supervisor, handled):
    due = in_days(10)
    # in Chinese (the default): the page, the day in the message, the order's state
    signed_in(client, supervisor, "zh-hans")
    response = post_step(client, handled, "supervise",
                         {"demand": "请报告进展", "due_on": due}, follow=True)
    order = SupervisionOrder.objects.get()
    with translation.override("zh-hans"):
        chinese_day = day_text(order.deadline.due_on)
    assert '<html lang="zh-hans">' in response.text and "年" in chinese_day
    (message,) = [text for text in flash(response) if handled.number in text]
    assert chinese_day in message
    assert "待承办单位回复" in section(response.text)
    # the service's refusal comes in the user's language
    refusal = ("Case %(number)s already has an open supervision order, issued on %(day)s. Add "
               "your demand when you decide its answer (send it back), or wait until it is "
               "closed.")
    params = {"number": handled.number, "day": today().isoformat()}
    again = {"demand": "再次督办", "due_on": due}
    with translation.override("zh-hans"):
        expected = translation.gettext(refusal) % params
    assert expected in summary(post_step(client, handled, "supervise", again))
    # in English: ISO days, English words
    signed_in(client, supervisor, "en")
    assert refusal % params in summary(post_step(client, handled, "supervise", again))
    english = section(client.get(page_url(handled)).text)
    assert "Awaiting the unit&#x27;s answer" in english and "年" not in english
    assert order.deadline.due_on.isoformat() in english


# --- Cost ---------------------------------------------------------------------------------------

def test_the_case_page_costs_the_same_with_one_answer_or_three(client, clerk, handler,
                                                               supervisor, leader,
                                                               django_assert_num_queries):
    # given two cases alike but for how often the answer was sent back
    def build(send_backs: int):
        case = CaseFactory(place_unit=demo_unit("341122100001"), leader=leader)
        case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
        case_sign(case=case, actor=handler)
        case_accept(case=case, actor=handler)
        order = supervision_issue(case=case, actor=supervisor, demand="报告进展",
                                  due_on=in_days(10), listed=True)
        supervision_answer(order=order, actor=handler, text="第1次反馈")
        for n in range(send_backs):
            supervision_decide(order=order, actor=supervisor, accept=False, note="不具体",
                               due_on=in_days(5))
            supervision_answer(order=order, actor=handler, text=f"第{n + 2}次反馈")
        return case

    one, three = build(0), build(2)
    for user in (supervisor, handler):
        signed_in(client, user)
        # when / then
        with CaptureQueriesContext(connection) as one_queries:
            assert client.get(page_url(one)).status_code == 200
        with django_assert_num_queries(len(one_queries)):
            response = client.get(page_url(three))
        assert section(response.text).count("data-supervision-answer=") == 3
