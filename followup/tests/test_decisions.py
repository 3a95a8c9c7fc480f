"""The follow-up's own clock on the ladder, and the leader's decision on a dissatisfied
follow-up or a broken commitment (followup/DECISIONS.md F10-F11). Real PostgreSQL, the real
state machine, the real sweep; no mocks."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cases.choices import CaseStatus, ClockKind, ClockStatus, EventKind
from cases.deadlines.clocks import clock_start, office_calendar
from cases.models import Case, Deadline, Escalation
from cases.services.escalation import escalation_sweep
from cases.services.transitions import case_close
from cases.tests.factories import demo_unit
from cases.tests.helpers import code_of, events_of
from followup.decisions import followup_decide
from followup.followups import (
    AttemptInput,
    OutcomeInput,
    followup_assign,
    followup_attempt_record,
    followup_outcome_record,
)
from followup.models import (
    DecisionOutcome,
    DecisionStatus,
    FollowUp,
    FollowUpDecision,
    FollowUpRule,
    Trigger,
)
from followup.schedule import followups_schedule
from notifications.models import Notification

from .helpers import TOWNSHIP, D, at, replied

pytestmark = pytest.mark.django_db

def replied_case(handler, *, leader=None, status=CaseStatus.REPLIED) -> Case:
    """A case of 城关镇 replied by ``handler``, the reply delivered on Monday 2026-03-02."""
    return replied(handler, leader=leader, status=status)


def made(case) -> FollowUp:
    """The case's follow-up, made by the scheduler on its rule day (2026-04-01)."""
    followups_schedule(now=at("2026-04-01", 3))
    return FollowUp.objects.select_related("case", "deadline").get(case=case)


def reached(follow_up, *, head, clerk, rating="dissatisfied", commitments="kept",
            comment="补偿款只发了一半") -> FollowUp:
    """The clerk is given the follow-up (by ``head``, the unit's or the office's), reaches
    the petitioner and records the outcome."""
    followup_assign(follow_up=follow_up, assignee=clerk, actor=head, version=1)
    followup_attempt_record(follow_up=follow_up, actor=clerk, version=2, at=at("2026-04-02"),
                            attempt=AttemptInput(method="phone", reached=True, whom="本人"))
    return followup_outcome_record(
        follow_up=follow_up, actor=clerk, version=3, at=at("2026-04-02", 11),
        outcome=OutcomeInput(result="reached", rating=rating, comment=comment,
                             commitments=commitments, recurrence_risk="high",
                             repeat_risk=True))


# --- The follow-up's own clock (F10) ------------------------------------------------------

def test_a_follow_up_runs_its_own_clock_that_closing_the_case_leaves_alone(rule, handler):
    # given a replied case whose follow-up the scheduler made on its day
    case = replied_case(handler)
    follow_up = made(case)
    # then it carries an open follow-up clock: 10 working days from the day it was made
    clock = follow_up.deadline
    assert (clock.case_id, clock.kind, clock.status, clock.starts_on) == (
        case.pk, ClockKind.FOLLOW_UP, ClockStatus.OPEN, D("2026-04-01"))
    assert (clock.length, clock.unit) == (10, "working")
    assert clock.due_on == office_calendar().due_date(D("2026-04-01"), 10, "working").due
    assert clock.due_on >= D("2026-04-15")  # ten weekdays at least
    assert clock.next_fire_at is not None  # on the ladder
    [started] = [e for e in events_of(case, EventKind.CLOCK_STARTED)
                 if e.details["clock"] == ClockKind.FOLLOW_UP]
    assert (started.actor, started.details["deadline"]) == (None, clock.pk)
    # when the unit closes the case (its review window long lapsed)
    case_close(case=case, actor=handler, at=at("2026-04-03"))
    # then the follow-up's clock still runs: a concluded case is what it checks
    clock.refresh_from_db()
    assert clock.status == ClockStatus.OPEN


def test_the_sweep_escalates_an_overdue_follow_up(rule, handler, supervisor):
    case = replied_case(handler)
    clock = made(case).deadline
    # when the sweep runs a day after its due day
    escalation_sweep(now=clock.due_at + timedelta(days=1))
    # then the warning and the due level have fired, the second reaching the supervisors
    fired = dict(Escalation.objects.filter(deadline=clock).values_list("level", "recipients"))
    assert set(fired) == {1, 2}
    assert supervisor.pk in fired[2]


def test_recording_the_outcome_meets_the_clock(rule, handler, head, clerk):
    follow_up = made(replied_case(handler))
    reached(follow_up, head=head, clerk=clerk, rating="satisfied", comment="")
    follow_up.deadline.refresh_from_db()
    assert follow_up.deadline.status == ClockStatus.MET
    # a satisfied petitioner with the commitments kept goes to no leader
    assert not FollowUpDecision.objects.exists()


# --- The dissatisfied path to the leader's decision (F11) ---------------------------------

def test_a_dissatisfied_petitioner_goes_to_the_leader_with_a_clock(rule, handler, head, clerk,
                                                                   leader):
    # given a case led by the county's leader, dissatisfied at the follow-up
    case = replied_case(handler, leader=leader)
    follow_up = reached(made(case), head=head, clerk=clerk)
    # then a decision awaits the leader, with its own clock of 5 working days
    decision = FollowUpDecision.objects.select_related("deadline").get()
    assert (decision.follow_up, decision.leader, decision.unit, decision.status) == (
        follow_up, leader, demo_unit(TOWNSHIP), DecisionStatus.OPEN)
    clock = decision.deadline
    assert (clock.kind, clock.status, clock.length, clock.unit) == (
        ClockKind.FOLLOW_UP_DECISION, ClockStatus.OPEN, 5, "working")
    # the leader is told, and the case's timeline says so
    note = Notification.objects.get(user=leader, message="followup.decision_due")
    assert note.url == reverse("followup_staff:decision", args=[decision.pk])
    [opened] = events_of(case, EventKind.FOLLOW_UP_DECISION_OPENED)
    assert opened.details["leader"] == leader.pk
    # and the sweep escalates it when the leader lets it lapse
    escalation_sweep(now=clock.due_at + timedelta(hours=1))
    assert set(Escalation.objects.filter(deadline=clock).values_list("level", flat=True)) == {
        1, 2}


def test_a_commitment_partly_kept_goes_to_the_leader_too(rule, handler, head, clerk, leader):
    case = replied_case(handler, leader=leader)
    reached(made(case), head=head, clerk=clerk, rating="satisfied", commitments="partly",
            comment="")
    assert FollowUpDecision.objects.get().leader == leader


def test_the_leader_reopens_a_closed_case(rule, handler, head, clerk, leader):
    # given a dissatisfied follow-up of a closed case
    case = replied_case(handler, leader=leader, status=CaseStatus.CLOSED)
    reached(made(case), head=head, clerk=clerk)
    decision = FollowUpDecision.objects.get()
    # when the leader decides to reopen it
    row = followup_decide(decision=decision, outcome=DecisionOutcome.REOPEN, actor=leader,
                          reason="补偿款发放不足，重新办理", version=1, at=at("2026-04-03"))
    # then the decision is recorded, its clock met, and the case is back in handling with
    # a new reply period, by the case's own reopen step
    assert (row.status, row.outcome, row.decided_by) == (DecisionStatus.DECIDED, "reopen",
                                                         leader)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_HANDLING
    assert Deadline.objects.get(case=case, kind=ClockKind.FOLLOW_UP_DECISION).status == (
        ClockStatus.MET)
    assert Deadline.objects.filter(case=case, kind=ClockKind.REPLY,
                                   status=ClockStatus.OPEN).exists()
    [step] = [e for e in events_of(case, EventKind.TRANSITION)
              if e.details.get("step") == "reopen"]
    # the step names the decision; its reason stays on the decision (it may name people)
    assert (step.actor, step.details.get("follow_up_decision")) == (leader, decision.pk)
    assert "补偿款" not in str(step.details)
    [decided] = events_of(case, EventKind.FOLLOW_UP_DECIDED)
    assert decided.details["outcome"] == "reopen"


def test_reopening_a_case_still_replied_is_refused_with_the_reason(rule, handler, head, clerk,
                                                                   leader, english):
    case = replied_case(handler, leader=leader)
    reached(made(case), head=head, clerk=clerk)
    decision = FollowUpDecision.objects.get()
    with pytest.raises(ValidationError) as refused:
        followup_decide(decision=decision, outcome=DecisionOutcome.REOPEN, actor=leader,
                        reason="重新办理", version=1)
    assert "Only a closed case" in str(refused.value)
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.OPEN


def test_directing_to_a_review_needs_the_window_open(rule, handler, head, clerk, leader):
    case = replied_case(handler, leader=leader)
    reached(made(case), head=head, clerk=clerk)
    decision = FollowUpDecision.objects.get()
    # when no review window runs, the leader cannot direct the petitioner to one
    with pytest.raises(ValidationError):
        followup_decide(decision=decision, outcome=DecisionOutcome.DIRECT_TO_REVIEW,
                        actor=leader, reason="请申请复查", version=1, at=at("2026-04-03"))
    # given the review window opened on a later delivery and still running
    clock_start(case=case, kind=ClockKind.REVIEW_REQUEST, start=at("2026-04-01"), actor=handler,
                at=at("2026-04-01"))
    row = followup_decide(decision=decision, outcome=DecisionOutcome.DIRECT_TO_REVIEW,
                          actor=leader, reason="告知其可在期限内申请复查", version=1,
                          at=at("2026-04-03"))
    assert row.outcome == "review"
    case.refresh_from_db()
    assert case.status == CaseStatus.REPLIED  # the petitioner decides whether to ask


def test_only_the_leaders_decide_and_a_stale_or_empty_decision_is_refused(
        rule, handler, head, clerk, leader, supervisor):
    case = replied_case(handler, leader=leader)
    reached(made(case), head=head, clerk=clerk)
    decision = FollowUpDecision.objects.get()
    for outsider in (handler, clerk, supervisor):  # they see it, or not; none decides
        with pytest.raises(PermissionDenied):
            followup_decide(decision=decision, outcome="keep", reason="已妥善处理",
                            actor=outsider, version=1)
    with pytest.raises(ValidationError) as empty:
        followup_decide(decision=decision, outcome="keep", reason="  ", actor=leader, version=1)
    assert "reason" in empty.value.error_dict
    followup_decide(decision=decision, outcome="keep", reason="诉求已依法处理到位",
                    actor=leader, version=1)
    with pytest.raises(ValidationError) as stale:
        followup_decide(decision=decision, outcome="reopen", reason="再议", actor=leader,
                        version=1)
    assert code_of(stale) == "stale"
    decision.refresh_from_db()
    assert (decision.outcome, decision.reason) == ("keep", "诉求已依法处理到位")


def test_a_case_without_a_leader_goes_to_the_leaders_of_its_place(rule, handler, head, clerk,
                                                                  leader):
    # given a case with no responsible leader, of 城关镇, where the demo leader is a leader
    case = replied_case(handler)
    reached(made(case), head=head, clerk=clerk)
    decision = FollowUpDecision.objects.get()
    assert (decision.leader, decision.unit) == (None, demo_unit(TOWNSHIP))
    # then the township's leader and head are told, and the leader may decide
    told = set(Notification.objects.filter(message="followup.decision_due")
               .values_list("user", flat=True))
    assert told == {leader.pk, head.pk}
    followup_decide(decision=decision, outcome="keep", reason="已答复到位", actor=leader,
                    version=1)


# --- The pages --------------------------------------------------------------------------------

def test_the_leader_decides_on_the_page_and_bad_input_keeps_what_was_typed(
        rule, handler, head, clerk, leader, client):
    case = replied_case(handler, leader=leader, status=CaseStatus.CLOSED)
    reached(made(case), head=head, clerk=clerk)
    decision = FollowUpDecision.objects.get()
    leader.language = "en"
    leader.save(update_fields=["language"])
    client.force_login(leader)
    # the list shows it awaiting
    page = client.get(reverse("followup_staff:decisions")).content.decode()
    assert case.number in page and "awaiting" in page
    url = reverse("followup_staff:decision", args=[decision.pk])
    # a decision without its reason: a message, the choice kept, nothing recorded
    answer = client.post(url, {"version": 1, "outcome": "keep", "reason": ""})
    assert answer.status_code == 200
    text = answer.content.decode()
    assert "Write the reason for the decision." in text
    assert 'value="keep" id="id_outcome_2" checked' in text
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.OPEN
    # a proper one is recorded
    answer = client.post(url, {"version": 1, "outcome": "reopen", "reason": "重新办理"})
    assert answer.status_code == 302
    decision.refresh_from_db()
    assert decision.outcome == "reopen"


def test_another_user_cannot_decide_on_the_page(rule, handler, head, clerk, leader, client):
    case = replied_case(handler, leader=leader)
    reached(made(case), head=head, clerk=clerk)
    decision = FollowUpDecision.objects.get()
    url = reverse("followup_staff:decision", args=[decision.pk])
    client.force_login(handler)  # not in the decision's scope at all
    assert client.get(url).status_code == 404
    client.force_login(clerk)  # sees it (the office registered the case) but does not decide
    assert client.get(url).status_code == 200
    assert client.post(url, {"version": 1, "outcome": "keep",
                             "reason": "x"}).status_code == 403
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.OPEN


def test_the_case_page_links_the_follow_up_and_the_decision(rule, handler, head, clerk, leader,
                                                            client):
    case = replied_case(handler, leader=leader)
    follow_up = reached(made(case), head=head, clerk=clerk)
    decision = FollowUpDecision.objects.get()
    # the unit's head sees the follow-up and the decision on it
    client.force_login(head)
    page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert reverse("followup_staff:followup", args=[follow_up.pk]) in page
    assert reverse("followup_staff:decision", args=[decision.pk]) in page
    # the leader, who does not see follow-ups, sees the decision put to them
    client.force_login(leader)
    page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert reverse("followup_staff:followup", args=[follow_up.pk]) not in page
    assert reverse("followup_staff:decision", args=[decision.pk]) in page


def test_the_case_list_offers_a_supervisor_a_campaign_over_its_filters(supervisor, head,
                                                                       client):
    client.force_login(supervisor)
    page = client.get(reverse("cases:list"), {"status": "closed", "sort": "number"})
    link = reverse("followup_staff:campaign_new") + "?status=closed"
    assert f'href="{link}"' in page.content.decode()
    client.force_login(head)  # not a supervisor: no campaign
    page = client.get(reverse("cases:list"), {"status": "closed"})
    assert reverse("followup_staff:campaign_new") not in page.content.decode()


def test_a_second_dissatisfied_follow_up_shares_the_open_decisions_clock(rule, handler, head,
                                                                        clerk, leader):
    # given a decision awaiting the leader on the reply's follow-up
    case = replied_case(handler, leader=leader)
    reached(made(case), head=head, clerk=clerk)
    first = FollowUpDecision.objects.get()
    # when a second follow-up of the case (a closing rule's) also finds them dissatisfied
    second_rule = FollowUpRule.objects.create(trigger=Trigger.CLOSED, days=1, unit="calendar",
                                              applies_from=D("2026-01-01"))
    again = FollowUp.objects.create(case=case, rule=second_rule, trigger=Trigger.CLOSED,
                                    trigger_on=D("2026-04-02"), due_on=D("2026-04-03"),
                                    created_at=at("2026-04-03"))
    reached(again, head=head, clerk=clerk, comment="仍不满意")
    # then it is put to the leader too, on the same clock (one answer owed on the case)
    second = FollowUpDecision.objects.exclude(pk=first.pk).get()
    assert second.deadline_id == first.deadline_id
    # and the clock is met only once both are decided
    followup_decide(decision=first, outcome="keep", reason="已依法答复", actor=leader, version=1)
    assert Deadline.objects.get(pk=first.deadline_id).status == ClockStatus.OPEN
    followup_decide(decision=second, outcome="keep", reason="已依法答复", actor=leader,
                    version=1)
    assert Deadline.objects.get(pk=first.deadline_id).status == ClockStatus.MET


def test_the_unit_complained_about_neither_decides_nor_sees(rule, handler, head, clerk, leader,
                                                            client, county):
    # given a case of 城关镇 complaining about 城关镇 itself, with no responsible leader
    case = replied_case(handler)
    Case.objects.filter(pk=case.pk).update(complained_unit=demo_unit(TOWNSHIP))
    reached(made(Case.objects.get(pk=case.pk)), head=clerk, clerk=clerk)
    decision = FollowUpDecision.objects.get()
    # then the decision goes above the township, to the county
    assert decision.unit == county
    # and the township's leader may neither take it nor read it
    with pytest.raises(PermissionDenied):
        followup_decide(decision=decision, outcome="keep", reason="无需处理", actor=leader,
                        version=1)
    assert not Notification.objects.filter(user=leader, message="followup.decision_due")
    client.force_login(leader)
    url = reverse("followup_staff:decision", args=[decision.pk])
    assert client.get(url).status_code in (403, 404)


def test_an_unreachable_petitioner_opens_no_decision(rule, handler, head, clerk, leader):
    case = replied_case(handler, leader=leader)
    follow_up = made(case)
    followup_assign(follow_up=follow_up, assignee=clerk, actor=head, version=1)
    for version, day in enumerate(["2026-04-01", "2026-04-01", "2026-04-02"], start=2):
        followup_attempt_record(follow_up=follow_up, actor=clerk, version=version,
                                at=at(day, 9 + version),
                                attempt=AttemptInput(method="phone", reached=False))
    # when it is finished as unreachable, with "not kept" sent along by a stale form
    row = followup_outcome_record(follow_up=follow_up, actor=clerk, version=5,
                                  outcome=OutcomeInput(result="unreachable",
                                                       commitments="not_kept"))
    # then nothing the petitioner did not say is kept, and no decision is opened
    assert (row.commitments, row.satisfaction) == ("", None)
    assert not FollowUpDecision.objects.exists()


def test_a_follow_up_clock_still_running_makes_the_scheduler_wait_not_fail(rule, handler):
    # given one case with a follow-up clock left running, and another case due
    stuck, fine = replied_case(handler), replied_case(handler)
    clock_start(case=stuck, kind=ClockKind.FOLLOW_UP, start=at("2026-03-20"), actor=None,
                at=at("2026-03-20"))
    # when the scheduler runs on the rule day
    made_now = followups_schedule(now=at("2026-04-01", 3))
    # then the other case gets its follow-up; the stuck one waits
    assert [row.case_id for row in made_now] == [fine.pk]
