"""The 回头看 campaign (followup/DECISIONS.md F12): a supervisor's selection of concluded
cases by the case list's filters, every one given a follow-up and its clock in one step and
a fixed number of statements, its progress and its outcomes by unit. Real PostgreSQL, the
real services and pages, no mocks."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.choices import Role
from accounts.services import role_grant
from accounts.tests.factories import UserFactory
from cases.choices import CaseStatus, ClockKind, ClockStatus, EventKind, Outcome
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import Case, CaseEvent, Category, Deadline, Decision
from cases.tests.factories import CaseFactory, CategoryFactory, demo_unit
from cases.tests.helpers import code_of, events_of, in_days
from followup import campaigns
from followup.campaigns import (
    campaign_candidates,
    campaign_create,
    campaign_progress,
    campaign_summary,
    campaigns_visible,
)
from followup.followups import (
    AttemptInput,
    OutcomeInput,
    followup_assign,
    followup_attempt_record,
    followup_outcome_record,
)
from followup.models import Campaign, FollowUp, FollowUpRule, FollowUpStatus, Trigger

pytestmark = pytest.mark.django_db

OFFICE, TOWNSHIP, RIVER = "341122-D00", "341122100", "341122101"  # 县信访局, 城关镇, 河口镇
D = date.fromisoformat
NOW = datetime(2026, 10, 12, 10, 0, tzinfo=OFFICE_TZ)  # a Monday
FINISH_BY = D("2026-10-31")  # a Saturday: the clock runs to Monday 11-02


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=OFFICE_TZ)


def concluded(count: int, *, status=CaseStatus.CLOSED, closed: str | None = "2026-09-30",
              township: str = TOWNSHIP, category=None, **fields) -> list[Case]:
    """``count`` cases of ``township`` (lead and place), concluded, written in one INSERT."""
    unit = demo_unit(township)
    fields.setdefault("lead_unit", unit)
    cases = CaseFactory.build_batch(
        count, status=status, closed_at=at(closed, 15) if closed else None,
        registered_by=UserFactory(), registered_unit=demo_unit(OFFICE),
        category=category or CategoryFactory(), place_unit=unit, **fields)
    return Case.objects.bulk_create(cases)


def decided(case: Case, *, issued: str, delivered: str | None, superseded: bool = False):
    return Decision.objects.create(
        case=case, kind="review" if superseded else "reply", request="请求", facts="事实",
        reasons="理由", outcome=Outcome.SUPPORT, legal_basis="条例", unit=case.lead_unit,
        issued_by=case.registered_by, issued_at=at(issued, 9),
        delivered_on=D(delivered) if delivered else None,
        superseded_at=at(issued, 12) if superseded else None)


def start(actor, filters, *, name="征地回头看", finish_by=FINISH_BY, now=NOW) -> Campaign:
    return campaign_create(actor=actor, name=name, filters=filters, finish_by=finish_by, at=now)


@pytest.fixture
def no_rules(db):
    """No rule-made follow-ups get in the way (the campaign does not need a rule)."""
    FollowUpRule.objects.update(active=False)


# --- One step, whatever the count ----------------------------------------------------------

def test_a_campaign_of_a_thousand_cases_in_one_step_and_a_fixed_number_of_statements(
        supervisor, no_rules):
    # given a thousand concluded cases of one category, ten of another, one of a third
    big, small, warm = CategoryFactory(), CategoryFactory(), CategoryFactory()
    thousand = concluded(1000, category=big)
    concluded(10, category=small)
    concluded(1, category=warm)
    start(supervisor, {"category": warm.pk}, name="预热")  # the caches of the process
    # when the supervisor starts a campaign over the ten, then one over the thousand
    counted = []
    for category in (small, big):
        actor = type(supervisor).objects.get(pk=supervisor.pk)  # roles read afresh, each
        with CaptureQueriesContext(connection) as queries:
            campaign = start(actor, {"category": category.pk})
        counted.append(len(queries))
    # then the statements are as many for a thousand as for ten
    assert counted[0] == counted[1], counted
    # and every one of the thousand has its follow-up, made today, unassigned
    assert (campaign.selected, campaign.made, campaign.unit.code) == (1000, 1000, "341122")
    rows = FollowUp.objects.filter(campaign=campaign)
    assert rows.count() == 1000
    assert set(rows.values_list("trigger", "trigger_on", "due_on", "status", "rule")) == {
        (Trigger.CAMPAIGN, D("2026-10-12"), D("2026-10-12"), FollowUpStatus.SCHEDULED, None)}
    assert set(rows.values_list("case", flat=True)) == {case.pk for case in thousand}
    # with an open follow-up clock due on the day to finish by, moved off the weekend
    clocks = Deadline.objects.filter(pk__in=rows.values("deadline"))
    assert clocks.count() == 1000
    assert set(clocks.values_list("kind", "status", "due_on", "unit", "length")) == {
        (ClockKind.FOLLOW_UP, ClockStatus.OPEN, D("2026-11-02"), "calendar", 19)}
    # and the events on each case's timeline: the follow-up and its clock
    made = CaseEvent.objects.filter(kind=EventKind.FOLLOW_UP_CAMPAIGNED, case__category=big)
    assert made.count() == 1000
    event = made.select_related("actor").first()
    assert event.actor == supervisor
    assert event.details["campaign"] == campaign.pk
    assert CaseEvent.objects.filter(kind=EventKind.CLOCK_STARTED,
                                    case__category=big).count() == 1000


def test_the_clock_runs_to_the_day_to_finish_by_when_that_is_a_working_day(supervisor,
                                                                             no_rules):
    [case] = concluded(1)
    campaign = start(supervisor, {}, finish_by=D("2026-10-30"))
    row = FollowUp.objects.select_related("deadline").get(campaign=campaign, case=case)
    assert (row.deadline.due_on, row.deadline.length) == (D("2026-10-30"), 18)


# --- What the filters select -----------------------------------------------------------------

def test_the_filters_select_only_concluded_cases_in_scope_by_category_unit_and_day(no_rules):
    # given a supervisor of 城关镇 only
    supervisor = UserFactory()
    role_grant(user=supervisor, role=Role.SUPERVISOR, unit=demo_unit(TOWNSHIP))
    land = CategoryFactory(name="征地")
    compensation = Category.objects.add_child(land, {"name": "补偿", "code": "C-LAND-9"})
    other = CategoryFactory(name="劳动")
    # concluded land cases of 城关镇: closed in Q3, one in its subcategory, one answered
    [closed_q3] = concluded(1, category=land, closed="2026-07-15")
    [sub_q3] = concluded(1, category=compensation, closed="2026-09-30")
    [answered] = concluded(1, category=land, status=CaseStatus.ANSWERED, closed="2026-08-01",
                           lead_unit=None)
    [closed_q4] = concluded(1, category=land, closed="2026-10-02")
    # a replied case: its reply delivered in Q3; one whose standing reply is not delivered
    # (its issue day counts); one whose Q3 decision was superseded by a Q4 one
    [replied] = concluded(1, category=land, status=CaseStatus.REPLIED, closed=None)
    decided(replied, issued="2026-08-05", delivered="2026-08-10")
    [undelivered] = concluded(1, category=land, status=CaseStatus.REPLIED, closed=None)
    decided(undelivered, issued="2026-08-20", delivered=None)
    [redecided] = concluded(1, category=land, status=CaseStatus.REVIEWED, closed=None)
    decided(redecided, issued="2026-07-01", delivered="2026-07-05", superseded=True)
    decided(redecided, issued="2026-10-05", delivered="2026-10-08")
    # in 城关镇 but handled by 河口镇: the supervisor sees it (the place is theirs)
    [led_elsewhere] = concluded(1, category=land, closed="2026-08-01",
                                lead_unit=demo_unit(RIVER))
    # not concluded, or not the filters', or not the supervisor's (河口镇's own)
    concluded(1, category=land, status=CaseStatus.IN_HANDLING, closed=None)
    concluded(1, category=land, status=CaseStatus.NOT_ACCEPTED, closed="2026-08-01")
    concluded(1, category=other, closed="2026-08-01")
    concluded(1, category=land, closed="2026-08-01", township=RIVER)

    def chosen(**filters):
        return set(campaign_candidates(user=supervisor, filters=filters).values_list("pk",
                                                                                    flat=True))

    # then the category takes the ones below it; the lead unit and the days narrow it
    assert chosen(category=land.pk) == {closed_q3.pk, sub_q3.pk, answered.pk, closed_q4.pk,
                                        replied.pk, undelivered.pk, redecided.pk,
                                        led_elsewhere.pk}
    assert chosen(category=compensation.pk) == {sub_q3.pk}
    assert chosen(category=land.pk, lead_unit=demo_unit(TOWNSHIP).pk,
                  concluded_from="2026-07-01", concluded_to="2026-09-30") == {
        closed_q3.pk, sub_q3.pk, replied.pk, undelivered.pk}
    assert chosen(category=land.pk, concluded_from="2026-10-01") == {closed_q4.pk,
                                                                      redecided.pk}
    assert chosen(category=land.pk, concluded_to="2026-08-01") == {closed_q3.pk, answered.pk, led_elsewhere.pk}


def test_bad_filters_are_a_clear_message(supervisor, english):
    for filters, words in (({"category": "abc"}, "Category"),
                           ({"concluded_from": "2026-02-30"}, "Concluded from"),
                           ({"concluded_from": "2026-09-01", "concluded_to": "2026-08-01"},
                            "The end date is before the start date.")):
        with pytest.raises(ValidationError) as bad:
            campaign_candidates(user=supervisor, filters=filters)
        assert code_of(bad) == "filters" and words in " ".join(bad.value.messages)


# --- Skips, twice a day, refusals, the cap ---------------------------------------------------

def test_a_case_with_an_open_follow_up_is_skipped_and_counted(supervisor, head, clerk,
                                                              no_rules):
    cases = concluded(5)
    first = start(supervisor, {"q": cases[0].number})
    assert first.made == 1
    # when a campaign over all five is started the same day
    second = start(supervisor, {}, name="第二轮")
    # then the case with the open follow-up is skipped, and counted
    assert (second.selected, second.made) == (5, 4)
    assert FollowUp.objects.filter(case=cases[0]).count() == 1
    assert FollowUp.objects.get(case=cases[0]).campaign == first


def test_a_second_campaign_the_same_day_over_an_overlapping_selection_doubles_nothing(
        supervisor, clerk, no_rules):
    land, other = CategoryFactory(), CategoryFactory()
    both = concluded(3, category=land, closed="2026-08-10")
    concluded(2, category=other, closed="2026-08-10")
    first = start(supervisor, {"category": land.pk})
    # one of the first campaign's follow-ups is finished (reached, satisfied) that morning
    done = FollowUp.objects.get(campaign=first, case=both[0])
    _finish(done, clerk, rating="satisfied")
    # when the supervisor starts a campaign over everything concluded in August
    second = start(supervisor, {"concluded_from": "2026-08-01", "concluded_to": "2026-08-31"},
                   name="八月办结件", now=NOW + timedelta(hours=3))
    # then only the two cases of the other category get one: the open two are skipped, and
    # so is the one done today (one follow-up per case and trigger day)
    assert (second.selected, second.made) == (5, 2)
    for case in both:
        assert FollowUp.objects.filter(case=case).count() == 1
        assert len(events_of(case, EventKind.FOLLOW_UP_CAMPAIGNED)) == 1
        assert Deadline.objects.filter(case=case, kind=ClockKind.FOLLOW_UP).count() == 1
    # and a third over the same cases makes nothing and starts no campaign
    with pytest.raises(ValidationError) as nothing:
        start(supervisor, {"concluded_from": "2026-08-01"}, name="再来一次")
    assert code_of(nothing) == "nothing_made"
    assert Campaign.objects.count() == 2


def test_only_a_supervisor_starts_a_campaign(handler, head, clerk, grid, client, no_rules):
    concluded(2)
    for actor in (handler, head, clerk):
        with pytest.raises(PermissionDenied):
            start(actor, {})
    assert not FollowUp.objects.exists() and not Campaign.objects.exists()
    client.force_login(head)  # follows the campaigns of the unit, does not start them
    assert client.get("/cases/follow-ups/campaigns/").status_code == 200
    response = client.get("/cases/follow-ups/campaigns/new/")
    assert response.status_code == 403
    assert client.post("/cases/follow-ups/campaigns/new/", {
        "name": "越权", "finish_by": in_days(10).isoformat()}).status_code == 403
    client.force_login(grid)
    assert client.get("/cases/follow-ups/campaigns/").status_code == 403
    assert not Campaign.objects.exists()


def test_the_name_the_day_and_the_cap_are_checked(supervisor, no_rules, monkeypatch):
    concluded(3)
    for name, finish_by, code in (("", FINISH_BY, "required"), ("名" * 101, FINISH_BY,
                                                                  "max_length"),
                                  ("回头看", D("2026-10-12"), "finish_by_past"),
                                  ("回头看", D("2027-01-11"), "finish_by_far")):
        with pytest.raises(ValidationError) as bad:
            start(supervisor, {}, name=name, finish_by=finish_by)
        assert [error.code for errors in bad.value.error_dict.values()
                for error in errors] == [code]
    monkeypatch.setattr(campaigns, "CAMPAIGN_LIMIT", 2)
    with pytest.raises(ValidationError) as many:
        start(supervisor, {})
    assert code_of(many) == "too_many"
    assert not Campaign.objects.exists() and not FollowUp.objects.exists()


# --- The pages -------------------------------------------------------------------------------

@pytest.fixture
def supervisor_en(supervisor, client):
    supervisor.language = "en"
    supervisor.save(update_fields=["language"])
    client.force_login(supervisor)
    return supervisor


def test_the_page_counts_the_selection_and_starts_the_campaign(supervisor_en, client,
                                                                 no_rules):
    land = CategoryFactory()
    cases = concluded(4, category=land)
    concluded(1, category=land, status=CaseStatus.IN_HANDLING, closed=None)
    start(supervisor_en, {"q": cases[0].number}, name="单件", now=datetime.now(tz=OFFICE_TZ),
          finish_by=in_days(5))
    url = f"/cases/follow-ups/campaigns/new/?category={land.pk}"
    # the page shows the case list's filters and what they select
    page = client.get(url).content.decode()
    assert "4 concluded cases match; 1 of them already have an open follow-up" in page
    assert 'name="lead_unit"' in page and 'name="concluded_from"' in page
    # when the supervisor names the campaign and starts it
    response = client.post(url, {"name": "征地回头看", "finish_by": in_days(30).isoformat()})
    campaign = Campaign.objects.get(name="征地回头看")
    assert response.status_code == 302
    assert response["Location"] == f"/cases/follow-ups/campaigns/{campaign.pk}/"
    assert (campaign.selected, campaign.made, campaign.filters) == (4, 3,
                                                                    {"category": str(land.pk)})
    # then its page and the list show it
    detail = client.get(response["Location"]).content.decode()
    assert "3 follow-ups made; 1 cases skipped" in detail and "0 of 3 follow-ups done." in detail
    assert "征地回头看" in client.get("/cases/follow-ups/campaigns/").content.decode()


def test_bad_input_gives_a_message_and_keeps_what_was_typed(supervisor_en, client, no_rules,
                                                            monkeypatch):
    concluded(3)
    url = "/cases/follow-ups/campaigns/new/"
    # an empty name and a day that is not one
    page = client.post(url, {"name": "", "finish_by": "2026-13-45"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Give the campaign a name." in html and "Enter a date" in html
    assert 'value="2026-13-45"' in html
    # a day in the past: the service says so, the name stays
    page = client.post(url, {"name": "秋季回头看",
                             "finish_by": (in_days(0) - timedelta(days=1)).isoformat()})
    html = page.content.decode()
    assert "The day to finish by must be after today." in html and 'value="秋季回头看"' in html
    # too many cases: narrow the filters
    monkeypatch.setattr(campaigns, "CAMPAIGN_LIMIT", 2)
    page = client.post(url + "?status=closed", {"name": "秋季回头看",
                                                "finish_by": in_days(20).isoformat()})
    html = page.content.decode()
    assert "More than 2 cases match" in html and "Narrow the filters" in html
    assert 'value="秋季回头看"' in html
    # a filter that cannot be read is a message, not a 500, and starts nothing
    page = client.post(url + "?category=abc&concluded_to=2026-99-01", {
        "name": "秋季回头看", "finish_by": in_days(20).isoformat()})
    html = page.content.decode()
    assert page.status_code == 200 and "There is a problem" in html
    assert "Concluded until: Enter a date" in html
    assert not Campaign.objects.exists()


# --- Progress and outcomes by unit -------------------------------------------------------------

def _finish(row: FollowUp, clerk, *, rating: str = "", commitments: str = "kept",
            risk: str = "low", unreachable: bool = False) -> None:
    """The office's clerk takes the follow-up and records it (reached, or three misses)."""
    row = FollowUp.objects.get(pk=row.pk)
    followup_assign(follow_up=row, assignee=clerk, actor=clerk, version=row.version)
    if unreachable:
        for number, day in enumerate(("2026-10-13", "2026-10-13", "2026-10-14"), start=2):
            followup_attempt_record(follow_up=row, actor=clerk, version=number,
                                    at=at(day, 9 + number),
                                    attempt=AttemptInput(method="phone", reached=False))
        followup_outcome_record(follow_up=row, actor=clerk, version=5,
                                outcome=OutcomeInput(result="unreachable"))
        return
    followup_attempt_record(follow_up=row, actor=clerk, version=2,
                            attempt=AttemptInput(method="phone", reached=True, whom="本人"))
    followup_outcome_record(follow_up=row, actor=clerk, version=3, outcome=OutcomeInput(
        result="reached", rating=rating, commitments=commitments, recurrence_risk=risk,
        comment="仍有意见" if rating == "dissatisfied" else ""))


def test_progress_and_the_outcomes_by_unit(supervisor, clerk, head, no_rules, client,
                                           django_assert_num_queries):
    town = concluded(4)
    river = concluded(2, township=RIVER)
    [spot] = concluded(1, status=CaseStatus.ANSWERED, lead_unit=None)
    campaign = start(supervisor, {})
    rows = {row.case_id: row for row in FollowUp.objects.filter(campaign=campaign)}
    # 城关镇: satisfied; basically satisfied with a commitment partly kept; dissatisfied,
    # high risk; one still open. 河口镇: unreachable; one assigned, not done. The office:
    # the case answered on the spot, satisfied.
    _finish(rows[town[0].pk], clerk, rating="satisfied")
    _finish(rows[town[1].pk], clerk, rating="basically_satisfied", commitments="partly")
    _finish(rows[town[2].pk], clerk, rating="dissatisfied", commitments="not_kept", risk="high")
    _finish(rows[river[0].pk], clerk, unreachable=True)
    followup_assign(follow_up=rows[river[1].pk], assignee=clerk, actor=clerk, version=1)
    _finish(rows[spot.pk], clerk, rating="satisfied")
    # then the progress, in one query, the open ones overdue once their clock ran out
    with django_assert_num_queries(1):
        progress = campaign_progress(campaign, now=at("2026-10-20"))
    assert {key: progress[key] for key in ("total", "scheduled", "in_progress", "done", "open",
                                           "unassigned", "overdue", "unreachable",
                                           "percent_done")} == {
        "total": 7, "scheduled": 2, "in_progress": 0, "done": 5, "open": 2, "unassigned": 1,
        "overdue": 0, "unreachable": 1, "percent_done": 71}
    assert campaign_progress(campaign, now=at("2026-11-03"))["overdue"] == 2
    # and the outcomes by the unit that handled each case, in one query
    with django_assert_num_queries(1):
        summary = campaign_summary(campaign)
    by_unit = {row["unit_name"]: {key: value for key, value in row.items()
                                  if key not in ("unit_pk", "unit_name", "unit_path")}
               for row in summary}
    assert by_unit == {
        "县信访局": {"cases": 1, "done": 1, "satisfied": 1, "basically_satisfied": 0,
                 "dissatisfied": 0, "unreachable": 0, "commitments_broken": 0, "high_risk": 0},
        "城关镇": {"cases": 4, "done": 3, "satisfied": 1, "basically_satisfied": 1,
                "dissatisfied": 1, "unreachable": 0, "commitments_broken": 2, "high_risk": 1},
        "河口镇": {"cases": 2, "done": 1, "satisfied": 0, "basically_satisfied": 0,
                "dissatisfied": 0, "unreachable": 1, "commitments_broken": 0, "high_risk": 0},
    }
    # the page shows both; the campaign's unit's head follows it, a township's does not
    client.force_login(supervisor)
    page = client.get(f"/cases/follow-ups/campaigns/{campaign.pk}/")
    assert page.status_code == 200 and "城关镇" in page.content.decode()
    assert list(campaigns_visible(user=supervisor)) == [campaign]
    assert list(campaigns_visible(user=head)) == []
    client.force_login(head)
    assert client.get(f"/cases/follow-ups/campaigns/{campaign.pk}/").status_code == 404
