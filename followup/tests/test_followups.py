"""The staff follow-ups (回头看): scheduled by rule on the office calendar, assigned to
someone whose work they do not check, each attempt kept, the outcome recorded
(followup/DECISIONS.md F1-F9). Real PostgreSQL, the real task code, no mocks."""


import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from cases.choices import CaseStatus, EventKind
from cases.models import CalendarDay, Case, Category
from cases.tests.factories import CaseFactory, CategoryFactory, demo_unit
from cases.tests.helpers import code_of, events_of
from config.celery import app
from followup.followups import (
    AttemptInput,
    OutcomeInput,
    followup_assign,
    followup_attempt_record,
    followup_outcome_record,
)
from followup.models import (
    FollowUp,
    FollowUpRule,
    FollowUpStatus,
    Rating,
    Satisfaction,
    Source,
    Trigger,
)
from followup.rules import DEFAULT_DAYS, default_rule_seed
from followup.schedule import followups_schedule
from followup.selectors import satisfaction_counts
from followup.tasks import followups_schedule_task

from .helpers import TOWNSHIP, D, at, replied

pytestmark = pytest.mark.django_db

# --- Scheduling by rule -----------------------------------------------------------------------

def test_the_follow_up_comes_on_its_rule_day_not_before_and_only_once(rule, handler):
    # given a reply delivered on Monday 2026-03-02: 30 days on is Wednesday 04-01
    case = replied(handler, "2026-03-02")
    # when the scheduler runs the day before, then on the day, then again
    assert followups_schedule(now=at("2026-03-31")) == []
    [made] = followups_schedule(now=at("2026-04-01", 3))
    assert followups_schedule(now=at("2026-04-01", 4)) == []
    # then one follow-up, due that day, unassigned, with its event on the case's timeline
    row = FollowUp.objects.get(case=case)
    assert (row.pk, row.rule, row.trigger, row.trigger_on, row.due_on, row.status) == (
        made.pk, rule, Trigger.REPLY_DELIVERED, D("2026-03-02"), D("2026-04-01"),
        FollowUpStatus.SCHEDULED)
    assert row.assignee is None
    [event] = events_of(case, EventKind.FOLLOW_UP_SCHEDULED)
    assert event.details == {"follow_up": row.pk, "rule": rule.pk, "trigger": "reply_delivered",
                             "trigger_on": "2026-03-02", "due_on": "2026-04-01"}


def test_a_rule_day_on_a_holiday_moves_to_the_next_working_day(rule, handler):
    # given a local holiday on 2026-04-01, the 30th day after the delivery
    CalendarDay.objects.create(day=D("2026-04-01"), is_workday=False, name="County flood day")
    case = replied(handler, "2026-03-02")
    # then nothing is due on the holiday; the follow-up comes the next working day
    assert followups_schedule(now=at("2026-04-01")) == []
    followups_schedule(now=at("2026-04-02"))
    assert FollowUp.objects.get(case=case).due_on == D("2026-04-02")


def test_a_working_day_rule_for_a_category_wins_and_skips_the_holiday(rule, handler):
    # given a rule of 5 working days for land matters (and their subcategories)
    land = CategoryFactory(name="征地")
    compensation = Category.objects.add_child(land, {"name": "补偿", "code": "C-LAND-1"})
    specific = FollowUpRule.objects.create(trigger=Trigger.REPLY_DELIVERED, days=5,
                                           unit="working", category=land,
                                           applies_from=D("2026-01-01"))
    CalendarDay.objects.create(day=D("2026-03-04"), is_workday=False, name="County day")
    case = replied(handler, "2026-03-02", category=compensation)
    other = replied(handler, "2026-03-02")
    # when the scheduler runs on 03-10: 5 working days from Monday 03-02, Wednesday off
    followups_schedule(now=at("2026-03-09"))
    assert not FollowUp.objects.exists()
    followups_schedule(now=at("2026-03-10"))
    # then the land case has its follow-up by the specific rule; the other waits for 30 days
    row = FollowUp.objects.get()
    assert (row.case, row.rule, row.due_on) == (case, specific, D("2026-03-10"))
    assert not FollowUp.objects.filter(case=other).exists()


def test_answered_and_closed_cases_by_their_own_rules_in_a_constant_number_of_queries(
        rule, handler, django_assert_max_num_queries):
    # given rules of 7 days after an answer on the spot and after the closing
    for trigger in (Trigger.ANSWERED, Trigger.CLOSED):
        FollowUpRule.objects.create(trigger=trigger, days=7, unit="calendar",
                                    applies_from=D("2026-01-01"))
    answered = [CaseFactory(status=CaseStatus.ANSWERED, closed_at=at("2026-03-02", 11))
                for _n in range(3)]
    closed = CaseFactory(status=CaseStatus.CLOSED, closed_at=at("2026-03-03", 23),
                         lead_unit=demo_unit(TOWNSHIP))
    # when the scheduler runs on 03-09: the answers' day (03-09) came, the closing's (03-10) not
    with django_assert_max_num_queries(17):  # none per case (with the clocks: 5 more)
        followups_schedule(now=at("2026-03-09"))
    # then the three answered cases have theirs, the closed case waits a day
    assert set(FollowUp.objects.values_list("case", "trigger")) == {
        (case.pk, Trigger.ANSWERED) for case in answered}
    followups_schedule(now=at("2026-03-10"))
    assert FollowUp.objects.get(case=closed).due_on == D("2026-03-10")


def test_triggers_before_the_rule_applies_get_none_and_the_task_runs_the_service(rule, handler):
    # given a reply delivered before the rule applies, and one after, both long past
    rule.applies_from = D("2026-02-01")
    rule.save()
    replied(handler, "2026-01-15")
    recent = replied(handler, "2026-02-02")
    # when beat's task runs today (it is declared in the schedule)
    entry = settings.CELERY_BEAT_SCHEDULE["followups-schedule-daily"]
    assert entry["task"] in app.tasks
    followups_schedule_task()
    # then only the case the rule covers has a follow-up
    assert list(FollowUp.objects.values_list("case", flat=True)) == [recent.pk]


def test_one_open_follow_up_per_case(rule, handler):
    # given a case with an open follow-up from its closing
    case = replied(handler, "2026-03-02")
    FollowUp.objects.create(case=case, rule=rule, trigger=Trigger.CLOSED,
                            trigger_on=D("2026-02-01"), due_on=D("2026-03-03"),
                            created_at=at("2026-03-03"))
    # when the reply's day comes, the scheduler adds nothing while that one is open
    assert followups_schedule(now=at("2026-04-01")) == []
    assert not events_of(case, EventKind.FOLLOW_UP_SCHEDULED)
    # and the database refuses a second open one however it is written
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.create(case=case, rule=rule, trigger=Trigger.REPLY_DELIVERED,
                                trigger_on=D("2026-03-02"), due_on=D("2026-04-01"),
                                created_at=at("2026-04-01"))


def test_the_default_rule_is_thirty_days_after_the_delivery(db):
    FollowUpRule.objects.all().delete()
    default_rule_seed(FollowUpRule)
    rule = FollowUpRule.objects.get()
    assert (rule.trigger, rule.days, rule.unit, rule.category, rule.urgency, rule.active) == (
        Trigger.REPLY_DELIVERED, DEFAULT_DAYS, "calendar", None, "", True)
    assert DEFAULT_DAYS == 30


# --- Assigning and recording --------------------------------------------------------------------

@pytest.fixture
def follow_up(rule, handler) -> FollowUp:
    case = replied(handler, "2026-03-02")
    followups_schedule(now=at("2026-04-01"))
    return FollowUp.objects.select_related("case").get(case=case)


def test_the_handler_whose_work_is_checked_may_not_take_the_follow_up(follow_up, head,
                                                                          handler, clerk):
    # when the unit's head gives it to the handler who issued the reply
    with pytest.raises(ValidationError) as refused:
        followup_assign(follow_up=follow_up, assignee=handler, actor=head, version=1)
    assert code_of(refused) == "checked"
    # then it stays unassigned; the petition office's clerk may take it
    row = followup_assign(follow_up=follow_up, assignee=clerk, actor=head, version=1)
    assert (row.assignee, row.assigned_by, row.version) == (clerk, head, 2)
    [event] = events_of(follow_up.case, EventKind.FOLLOW_UP_ASSIGNED)
    assert (event.actor, event.details["assignee"]) == (head, clerk.pk)


def test_only_the_assignee_records_and_a_stale_form_is_refused(follow_up, head, clerk,
                                                               handler):
    followup_assign(follow_up=follow_up, assignee=clerk, actor=head, version=1)
    call = AttemptInput(method="phone", reached=False)
    with pytest.raises(PermissionDenied):
        followup_attempt_record(follow_up=follow_up, attempt=call, actor=handler, version=2)
    with pytest.raises(PermissionDenied):  # the handler does not assign either
        followup_assign(follow_up=follow_up, assignee=clerk, actor=handler, version=2)
    with pytest.raises(ValidationError) as stale:  # read before the assignment
        followup_attempt_record(follow_up=follow_up, attempt=call, actor=clerk, version=1)
    assert code_of(stale) == "stale"
    assert not follow_up.attempts.exists()


def test_an_assignee_whose_work_it_has_since_become_records_nothing(follow_up, head, clerk):
    # given the follow-up given to the office's clerk, who is then made the case's
    # responsible leader: the follow-up now checks their work
    followup_assign(follow_up=follow_up, assignee=clerk, actor=head, version=1)
    Case.objects.filter(pk=follow_up.case_id).update(leader=clerk)
    # when they try to record an attempt, then it is refused and nothing is kept
    with pytest.raises(PermissionDenied):
        followup_attempt_record(follow_up=follow_up, actor=clerk, version=2,
                                attempt=AttemptInput(method="phone", reached=True))
    assert not follow_up.attempts.exists()


def test_an_unreachable_petitioner_keeps_each_attempt_and_the_follow_up_open(follow_up, head,
                                                                              clerk):
    followup_assign(follow_up=follow_up, assignee=clerk, actor=head, version=1)
    # when the clerk calls once and nobody answers
    followup_attempt_record(follow_up=follow_up, actor=clerk, version=2,
                            at=at("2026-04-01", 15),
                            attempt=AttemptInput(method="phone", reached=False, note="无人接听"))
    # then the attempt is kept and the follow-up stays open, in progress
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.attempts.count()) == (FollowUpStatus.IN_PROGRESS, 1)
    # and it cannot be closed as unreachable after one attempt
    with pytest.raises(ValidationError) as early:
        followup_outcome_record(follow_up=follow_up, actor=clerk, version=3,
                                outcome=OutcomeInput(result="unreachable"))
    assert code_of(early) == "unreachable"
    # after three attempts on two days it can, with no rating
    for version, (day, method) in enumerate([("2026-04-01", "sms"), ("2026-04-02", "visit")],
                                            start=3):
        followup_attempt_record(follow_up=follow_up, actor=clerk, version=version,
                                at=at(day, 16), attempt=AttemptInput(method=method,
                                                                     reached=False))
    row = followup_outcome_record(follow_up=follow_up, actor=clerk, version=5,
                                  outcome=OutcomeInput(result="unreachable", notes="三次未联系上"))
    assert (row.status, row.result, row.satisfaction) == (FollowUpStatus.DONE, "unreachable",
                                                         None)
    assert [e.details.get("reached") for e in events_of(follow_up.case,
                                                        EventKind.FOLLOW_UP_RECORDED)] == [
        False, False, False, None]


def test_a_dissatisfied_outcome_is_a_rating_counted_with_the_petitioners(follow_up, head, clerk):
    followup_assign(follow_up=follow_up, assignee=clerk, actor=head, version=1)
    followup_attempt_record(follow_up=follow_up, actor=clerk, version=2,
                            attempt=AttemptInput(method="phone", reached=True, whom="信访人本人"))
    before = satisfaction_counts()[Rating.DISSATISFIED]
    # when the clerk records the petitioner dissatisfied, the commitment not kept
    row = followup_outcome_record(follow_up=follow_up, actor=clerk, version=3, outcome=OutcomeInput(
        result="reached", rating=Rating.DISSATISFIED, comment="补偿款仍未到位",
        commitments="not_kept", recurrence_risk="high", repeat_risk=True))
    # then a Satisfaction row of source follow_up, with its recorder, and the event
    rating = Satisfaction.objects.get(case=follow_up.case)
    assert (rating.source, rating.rating, rating.recorded_by, rating.comment) == (
        Source.FOLLOW_UP, Rating.DISSATISFIED, clerk, "补偿款仍未到位")
    assert row.satisfaction == rating and row.status == FollowUpStatus.DONE
    assert satisfaction_counts()[Rating.DISSATISFIED] == before + 1
    event = events_of(follow_up.case, EventKind.FOLLOW_UP_RECORDED)[-1]
    assert (event.actor, event.details["rating"], event.details["commitments"],
            event.details["repeat_risk"]) == (clerk, "dissatisfied", "not_kept", True)


# --- The pages --------------------------------------------------------------------------------------

def test_the_list_shows_the_due_follow_ups_and_refuses_the_grid_worker(follow_up, client, head,
                                                                       grid):
    client.force_login(head)
    page = client.get("/cases/follow-ups/?show=open")
    assert page.status_code == 200 and follow_up.case.number in page.content.decode()
    client.force_login(grid)
    assert client.get("/cases/follow-ups/").status_code == 403
    assert client.get(f"/cases/follow-ups/{follow_up.pk}/").status_code == 404


def test_bad_input_keeps_what_was_typed(follow_up, head, clerk, client, english):
    followup_assign(follow_up=follow_up, assignee=clerk, actor=head, version=1)
    followup_attempt_record(follow_up=follow_up, actor=clerk, version=2,
                            attempt=AttemptInput(method="phone", reached=True, whom="本人"))
    clerk.language = "en"  # the pages speak the user's language; the messages are read in English
    clerk.save(update_fields=["language"])
    client.force_login(clerk)
    # when the outcome is sent dissatisfied with no word of what about
    response = client.post(f"/cases/follow-ups/{follow_up.pk}/outcome/", {
        "version": 3, "result": "reached", "rating": "dissatisfied", "commitments": "partly",
        "recurrence_risk": "medium", "notes": "家属在场，情绪平稳"})
    # then the page says so, keeps the notes and the choices, and nothing is recorded
    html = response.content.decode()
    assert response.status_code == 200
    assert "Say what the petitioner is dissatisfied with." in html
    assert "家属在场，情绪平稳" in html and 'value="partly" class="form-check-input" ' \
        'id="id_commitments_1" checked' in html.replace("\n", "")
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.IN_PROGRESS
    # and a stale form is a conflict with a message, not a 500
    stale = client.post(f"/cases/follow-ups/{follow_up.pk}/attempt/", {
        "version": 1, "method": "sms", "reached": "no", "note": "短信未回"})
    assert stale.status_code == 409 and "短信未回" in stale.content.decode()
    assert "Someone else changed this follow-up" in stale.content.decode()


def test_the_detail_page_records_an_attempt(follow_up, head, clerk, client):
    followup_assign(follow_up=follow_up, assignee=clerk, actor=head, version=1)
    client.force_login(clerk)
    assert client.get(f"/cases/follow-ups/{follow_up.pk}/").status_code == 200
    response = client.post(f"/cases/follow-ups/{follow_up.pk}/attempt/", {
        "version": 2, "method": "phone", "reached": "no", "note": "关机"})
    assert response.status_code == 302
    assert follow_up.attempts.get().note == "关机"


def test_the_county_administrator_edits_the_rules(rule, client, admin_user, head):
    client.force_login(admin_user)
    assert client.get(f"/admin/followup/followuprule/{rule.pk}/change/").status_code == 200
    client.force_login(head)
    assert client.get("/admin/followup/followuprule/").status_code in (302, 403)


def test_a_form_sent_by_someone_not_assigned_is_refused(follow_up, head, clerk, handler, client):
    followup_assign(follow_up=follow_up, assignee=clerk, actor=head, version=1)
    client.force_login(head)  # sees and assigns it, but does not make it
    response = client.post(f"/cases/follow-ups/{follow_up.pk}/attempt/", {
        "version": 2, "method": "phone", "reached": "no"})
    assert response.status_code == 403 and not follow_up.attempts.exists()
