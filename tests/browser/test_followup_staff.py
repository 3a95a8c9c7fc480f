"""A staff follow-up (回头看) in a real browser, one user after another (issue 10):

the township's head finds the follow-up of a replied case on the list and gives it to the
petition office's clerk; the clerk records the call that reached the petitioner, then the
outcome (dissatisfied, a commitment not kept), which puts the case to its responsible
leader; the leader sees which decisions the case allows, is told the reason is missing,
and directs the petitioner to a review.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from cases.choices import Channel, DeliveryMethod, Purpose
from cases.deadlines.ladder import ladder_seed
from cases.deadlines.rules import rules_seed
from cases.models import DeadlineRule, LadderStep
from cases.services.decisions import decision_deliver
from cases.services.registration import CaseIntake, PetitionerInput, case_register
from cases.services.transitions import case_accept, case_reply, case_route, case_sign
from cases.tests.factories import CategoryFactory, demo_unit, valid_resident_id
from cases.tests.helpers import REPLY, today
from followup.models import (
    DecisionOutcome,
    DecisionStatus,
    FollowUp,
    FollowUpDecision,
    FollowUpRule,
    FollowUpStatus,
    Trigger,
)
from followup.schedule import followups_schedule
from tests.browser.helpers import axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICE, TOWNSHIP = "341122-D00", "341122100"
SAID = "补偿款只发了一半"
REASON = "答复已送达五日，复查期限未过，引导信访人向县政府申请复查"


@pytest.fixture
def followed_up(demo_users):
    """A case 城关镇 replied to, the reply delivered five days ago, 陈副县长 its leader, and
    the follow-up its rule (a day after the delivery) made."""
    rules_seed(DeadlineRule)  # transactional tests truncate the reference rows
    ladder_seed(LadderStep)
    FollowUpRule.objects.update(active=False)
    FollowUpRule.objects.create(trigger=Trigger.REPLY_DELIVERED, days=1, unit="calendar",
                                applies_from=today() - timedelta(days=30))
    # the three who work the pages read them in English
    User.objects.filter(username__in=("head", "clerk", "leader")).update(language="en")
    clerk, handler = demo_users["clerk"], demo_users["handler"]
    now = timezone.now()
    intake = CaseIntake(
        channel=Channel.VISIT, received_at=now - timedelta(days=9),
        petitioners=[PetitionerInput(name="刘长河", id_number=valid_resident_id(13),
                                     address="城关镇东关社区5号", is_main=True)],
        purpose=Purpose.REMEDY, category=CategoryFactory(name="征地补偿"),
        summary="征地补偿款未按期发放", demands="请求尽快发放补偿款",
        place_unit=demo_unit(TOWNSHIP))
    case = case_register(actor=clerk, office=demo_unit(OFFICE), intake=intake)
    case = case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP),
                      at=now - timedelta(days=8))
    case = case_sign(case=case, actor=handler, at=now - timedelta(days=7))
    case = case_accept(case=case, actor=handler, at=now - timedelta(days=7))
    reply = case_reply(case=case, actor=handler, decision=REPLY, at=now - timedelta(days=6))
    decision_deliver(decision=reply, actor=handler, delivered_on=today() - timedelta(days=5),
                     method=DeliveryMethod.IN_PERSON, at=now - timedelta(days=5))
    case.leader = demo_users["leader"]
    case.save(update_fields=["leader"])
    [follow_up] = followups_schedule(now=now)
    return FollowUp.objects.select_related("case", "deadline").get(pk=follow_up.pk)


def test_the_head_assigns_the_clerk_records_and_the_leader_decides(page, shot, followed_up):
    follow_up, case = followed_up, followed_up.case
    finish_by = follow_up.deadline.due_on.isoformat()

    # --- the township's head finds it on the list, with its day, and assigns the clerk -----
    sign_in(page, "head")
    page.goto("/cases/follow-ups/")
    row = page.locator("tbody tr", has_text=case.number)
    assert row.count() == 1
    assert finish_by in row.inner_text() and "not assigned" in row.inner_text()
    assert axe_violations(page) == []
    shot("90-followup-list")
    row.get_by_role("link", name="Open the follow-up").click()
    page.wait_for_url(f"**/cases/follow-ups/{follow_up.pk}/")
    assert finish_by in page.locator("dl").inner_text()
    page.select_option("select[name=assignee]", label="李接待")
    page.get_by_role("button", name="Assign the follow-up").click()
    page.wait_for_load_state()
    assert "The follow-up is assigned." in page.locator("#pd-messages").inner_text()
    assert page.locator("form[action$='/attempt/']").count() == 0  # the clerk records it
    follow_up.refresh_from_db()
    assert follow_up.assignee.username == "clerk"

    # --- the clerk reaches the petitioner by phone and records the outcome -----------------
    sign_in(page, "clerk")
    page.goto(f"/cases/follow-ups/{follow_up.pk}/")
    attempt = page.locator(f"form[action='/cases/follow-ups/{follow_up.pk}/attempt/']")
    attempt.locator("input[name=method][value=phone]").check()
    attempt.locator("input[name=reached][value=yes]").check()
    attempt.locator("input[name=whom]").fill("本人")
    attempt.get_by_role("button", name="Record the attempt").click()
    page.wait_for_load_state()
    assert "The attempt is recorded" in page.locator("#pd-messages").inner_text()
    attempts = page.locator("#pd-h-attempts + table tbody")
    assert "Phone call" in attempts.inner_text() and "yes: 本人" in attempts.inner_text()

    outcome = page.locator(f"form[action='/cases/follow-ups/{follow_up.pk}/outcome/']")
    outcome.locator("input[name=result][value=reached]").check()
    outcome.locator("input[name=rating][value=dissatisfied]").check()
    outcome.locator("textarea[name=comment]").fill(SAID)
    outcome.locator("input[name=commitments][value=not_kept]").check()
    outcome.locator("input[name=recurrence_risk][value=high]").check()
    outcome.get_by_role("button", name="Finish the follow-up").click()
    page.wait_for_load_state()
    assert "The follow-up is done" in page.locator("#pd-messages").inner_text()
    facts = page.locator("dl").inner_text()
    assert "Done" in facts and "Dissatisfied" in facts and "Not kept" in facts
    assert "awaiting the decision" in facts
    assert page.locator("form[action$='/outcome/']").count() == 0  # finished
    assert axe_violations(page) == []
    shot("91-followup-outcome")

    # --- the leader finds the case awaiting a decision --------------------------------------
    sign_in(page, "leader")
    page.goto("/cases/follow-ups/decisions/")
    row = page.locator("tbody tr", has_text=case.number)
    assert row.count() == 1 and "awaiting" in row.inner_text()
    row.get_by_role("link", name="Open the decision").click()
    page.wait_for_url("**/cases/follow-ups/decisions/*/")
    assert SAID in page.locator("dl").inner_text()
    # reopening is greyed out with its reason: the case is replied, not closed
    reopen = page.locator(f"input[name=outcome][value={DecisionOutcome.REOPEN}]")
    assert reopen.is_disabled()
    why = page.locator(f"#{reopen.get_attribute('id')}-why").inner_text()
    assert "Only a closed case" in why and case.number in why
    # the reply was delivered five days ago: the review window runs, so a review is offered
    review = page.locator(f"input[name=outcome][value={DecisionOutcome.DIRECT_TO_REVIEW}]")
    assert review.is_enabled()
    assert page.locator(f"#{review.get_attribute('id')}-why").count() == 0
    assert axe_violations(page) == []
    shot("92-followup-decision")

    # without a reason the browser refuses to send the form (the reason is required)
    review.check()
    page.get_by_role("button", name="Record the decision").click()
    assert page.eval_on_selector("textarea[name=reason]", "field => !field.validity.valid")
    assert FollowUpDecision.objects.get(case=case).status == DecisionStatus.OPEN
    # and a reason of blanks only is sent, and refused by the server, the choice kept
    page.fill("textarea[name=reason]", "   ")
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_selector(".pd-error-summary")
    assert "Write the reason for the decision." in page.locator(".pd-error-summary").inner_text()
    assert page.locator(
        f"input[name=outcome][value={DecisionOutcome.DIRECT_TO_REVIEW}]").is_checked()
    assert FollowUpDecision.objects.get(case=case).status == DecisionStatus.OPEN
    shot("93-followup-decision-error")

    page.fill("textarea[name=reason]", REASON)
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_load_state()
    assert "The decision is recorded." in page.locator("#pd-messages").inner_text()
    facts = page.locator("dl").inner_text()
    assert "Direct the petitioner to a review" in facts and REASON in facts
    assert "陈副县长" in facts
    assert page.get_by_role("button", name="Record the decision").count() == 0
    shot("94-followup-decided")

    # --- what the database holds ------------------------------------------------------------
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.DONE
    assert (follow_up.result, follow_up.commitments, follow_up.recurrence_risk) == (
        "reached", "not_kept", "high")
    assert follow_up.done_by.username == "clerk"
    assert (follow_up.satisfaction.rating, follow_up.satisfaction.comment) == (
        "dissatisfied", SAID)
    assert follow_up.attempts.get().whom == "本人"
    decision = FollowUpDecision.objects.get(follow_up=follow_up)
    assert (decision.status, decision.outcome, decision.reason) == (
        DecisionStatus.DECIDED, DecisionOutcome.DIRECT_TO_REVIEW, REASON)
    assert decision.decided_by.username == "leader"
    assert decision.leader.username == "leader"
