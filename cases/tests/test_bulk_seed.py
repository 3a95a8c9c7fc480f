"""The bulk demo seeder (cases/demo/bulk/) and the bench command that times it."""

import io
import re
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, F, Q
from django.test import override_settings
from django.utils import timezone

from accounts.choices import Role
from accounts.models import OrgUnit
from cases.choices import (
    CaseStatus,
    ClockKind,
    ClockStatus,
    DecisionKind,
    EventKind,
    IdType,
    Outcome,
    ReviewOutcome,
)
from cases.demo.bulk import LIVE_CLOCKS, demo_cases_seed
from cases.idnumbers import validate_resident_id
from cases.models import (
    Case,
    CaseEvent,
    CaseNumberSequence,
    CasePetitioner,
    Deadline,
    Decision,
    Leadership,
    Petitioner,
)

CASES = 3000  # enough for the rarest status (a return awaiting decision) to appear
LIVE = (ClockStatus.OPEN, ClockStatus.PAUSED)
S = CaseStatus
REPLIED_OR_LATER = {S.REPLIED, S.REVIEW_REQUESTED, S.REVIEWED, S.REREVIEW_REQUESTED, S.FINAL,
                    S.CLOSED}
NOT_ROUTED = {S.REGISTERED, S.ANSWERED, S.NOT_ACCEPTED}
STEP_KINDS = {"reply": DecisionKind.REPLY, "decide_review": DecisionKind.REVIEW,
              "decide_rereview": DecisionKind.REREVIEW}


@pytest.fixture
def seeded(supervisor):
    """3,000 cases in the demo county (the supervisor fixture seeds the county and logins)."""
    return demo_cases_seed(count=CASES, seed=7)


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_the_report_counts_what_was_written(seeded):
    assert seeded.cases == Case.objects.count() == CASES
    assert seeded.petitioners == Petitioner.objects.count()
    assert seeded.parties == CasePetitioner.objects.count()
    assert seeded.deadlines == Deadline.objects.count()
    assert seeded.leaderships == Leadership.objects.count() > 0
    assert seeded.decisions == Decision.objects.count() > 0
    assert seeded.events == CaseEvent.objects.count()
    assert sum(seeded.statuses.values()) == CASES
    assert seeded.seconds > 0 and seeded.cases_per_s > 0


def test_every_id_number_is_valid_and_on_one_person_only(seeded):
    numbers = list(Petitioner.objects.exclude(id_number="").values_list("id_type", "id_number"))
    assert len(numbers) > CASES * 0.8
    for id_type, number in numbers:
        assert id_type == IdType.RESIDENT_ID
        assert validate_resident_id(number) == number
    assert len(set(numbers)) == len(numbers)
    # Those without a number: anonymous letters, calls where none was given.
    assert not Petitioner.objects.filter(id_number="").exclude(id_type=IdType.NONE).exists()
    local = sum(number.startswith("341122") for _type, number in numbers)
    assert local / len(numbers) > 0.7  # most were first registered in the county itself


def test_parties_follow_the_registration_rules(seeded):
    per_case = Case.objects.annotate(
        mains=Count("parties", filter=Q(parties__is_main=True)),
        representatives=Count("parties", filter=Q(parties__is_representative=True)),
        people=Count("parties"),
    ).values_list("headcount", "is_group", "mains", "representatives", "people")
    for headcount, is_group, mains, representatives, people in per_case:
        assert mains == 1
        assert representatives <= 5
        assert headcount >= people
        assert is_group == (headcount > 1)
    assert any(is_group for _h, is_group, *_rest in per_case)
    # Some people come back: one person row, several cases, repeat_of set.
    assert (CasePetitioner.objects.values("petitioner").annotate(n=Count("case"))
            .filter(n__gt=1).exists())
    repeats = Case.objects.filter(repeat_of__isnull=False).select_related("repeat_of")
    assert repeats.count() > CASES * 0.1
    for case in repeats[:200]:
        assert case.repeat_of.received_at < case.received_at
        assert (case.parties.get(is_main=True).petitioner_id
                == case.repeat_of.parties.get(is_main=True).petitioner_id)


def test_every_status_is_there_and_most_cases_are_closed(seeded):
    statuses = Counter(Case.objects.values_list("status", flat=True))
    assert set(statuses) == set(CaseStatus.values)
    closed = sum(statuses[status] for status in Case.CLOSED_STATES)
    assert 0.7 < closed / CASES < 0.95
    assert statuses[CaseStatus.CLOSED] == max(statuses.values())


def test_live_clocks_are_exactly_those_of_each_status(seeded):
    live: dict[int, set[str]] = defaultdict(set)
    for case_id, kind in Deadline.objects.filter(status__in=LIVE).values_list("case_id", "kind"):
        live[case_id].add(kind)
    for case_id, status, closed_at in Case.objects.values_list("id", "status", "closed_at"):
        assert live[case_id] == LIVE_CLOCKS[status], (case_id, status)
        assert (closed_at is not None) == (status in Case.CLOSED_STATES)
    # Stopped clocks say when; running ones do not.
    assert not Deadline.objects.filter(status__in=LIVE, closed_at__isnull=False).exists()
    assert not Deadline.objects.exclude(status__in=LIVE).filter(closed_at__isnull=True).exists()
    # A replied case met its reply clock; paused clocks say since when.
    replied = Case.objects.filter(status=CaseStatus.REPLIED)
    assert not replied.exclude(deadlines__kind=ClockKind.REPLY,
                               deadlines__status=ClockStatus.MET).exists()
    paused = Deadline.objects.filter(status=ClockStatus.PAUSED)
    assert paused.exists()
    assert not paused.filter(paused_on__isnull=True).exists()
    assert not paused.exclude(kind=ClockKind.REPLY).exists()


def test_some_running_clocks_are_overdue_and_due_dates_are_consistent(seeded):
    now = timezone.now()
    running = Deadline.objects.filter(status=ClockStatus.OPEN)
    overdue = running.filter(due_at__lt=now).count()
    assert 0 < overdue < running.count() * 0.4  # some, for the sweep; not most
    mismatched = _rows(
        "SELECT count(*) FROM cases_deadline WHERE due_on < starts_on "
        "OR (due_at AT TIME ZONE 'Asia/Shanghai')::date <> due_on + 1")
    assert mismatched == [(0,)]


def test_texts_fit_the_channel(seeded):
    openers = {"visit": "来访人称", "letter": "信访人来信", "phone": "信访人来电", "online": "信访人反映"}
    for channel, summary, postal in Case.objects.values_list("channel", "summary",
                                                             "postal_reference"):
        assert summary.startswith(openers[channel]), (channel, summary)
        assert bool(postal) == (channel == "letter")


def test_times_run_forward_and_never_past_now(seeded):
    now = timezone.now()
    assert not Case.objects.filter(registered_at__lt=F("received_at")).exists()
    assert not Case.objects.filter(updated_at__lt=F("registered_at")).exists()
    assert not Case.objects.filter(Q(updated_at__gt=now) | Q(closed_at__gt=now)).exists()
    assert not CaseEvent.objects.filter(at__gt=now).exists()
    oldest = Case.objects.order_by("received_at").values_list("received_at", flat=True)[0]
    assert (now - oldest).days > 365  # about 18 months of cases


def test_events_replay_each_case_to_its_status(seeded):
    chains: dict[int, list[tuple]] = defaultdict(list)
    status_events = CaseEvent.objects.filter(kind__in=[EventKind.REGISTERED, EventKind.TRANSITION])
    for row in status_events.order_by("case_id", "at", "id").values_list(
            "case_id", "kind", "from_status", "to_status"):
        chains[row[0]].append(row[1:])
    for case_id, status in Case.objects.values_list("id", "status"):
        chain = chains[case_id]
        assert chain[0] == (EventKind.REGISTERED, "", CaseStatus.REGISTERED)
        for (_k, _f, before), (kind, after_from, _t) in zip(chain, chain[1:], strict=False):
            assert kind == EventKind.TRANSITION
            assert after_from == before
        assert chain[-1][2] == status


def test_every_replied_case_has_its_written_decisions(seeded):
    kinds: dict[int, set[str]] = defaultdict(set)
    for case_id, kind in Decision.objects.values_list("case_id", "kind"):
        kinds[case_id].add(kind)
    reviewed = set(CaseEvent.objects.filter(details__step="decide_review")
                   .values_list("case_id", flat=True))
    for case_id, status in Case.objects.values_list("id", "status"):
        assert (DecisionKind.REPLY in kinds[case_id]) == (status in REPLIED_OR_LATER), case_id
        assert (DecisionKind.REVIEW in kinds[case_id]) == (case_id in reviewed), case_id
        assert (DecisionKind.REREVIEW in kinds[case_id]) == (status == S.FINAL), case_id
    after_review = Case.objects.filter(status__in=[S.REVIEWED, S.REREVIEW_REQUESTED, S.FINAL])
    assert after_review.exists()
    assert not after_review.exclude(decisions__kind=DecisionKind.REVIEW).exists()


def test_no_decision_before_the_reply(seeded):
    assert Case.objects.exclude(status__in=REPLIED_OR_LATER).exists()
    assert not Decision.objects.exclude(case__status__in=REPLIED_OR_LATER).exists()


def test_decisions_are_recorded_as_the_transition_services_do(seeded, handler, supervisor):
    decisions = {row.pk: row for row in Decision.objects.all()}
    events = CaseEvent.objects.filter(kind=EventKind.TRANSITION, details__step__in=STEP_KINDS)
    assert events.count() == len(decisions)
    for event in events:
        decision = decisions.pop(event.details["decision"])
        assert decision.case_id == event.case_id
        assert decision.kind == STEP_KINDS[event.details["step"]]
        assert decision.issued_at == event.at
        assert decision.outcome == event.details["outcome"]
        assert decision.review_outcome == event.details.get("review_outcome", "")
        assert decision.issued_by_id == (handler.pk if decision.kind == DecisionKind.REPLY
                                         else supervisor.pk)
        assert all((decision.request, decision.facts, decision.reasons, decision.legal_basis))
    assert not decisions
    replies = Counter(Decision.objects.filter(kind=DecisionKind.REPLY)
                      .values_list("outcome", flat=True))
    assert set(replies) == set(Outcome.values)
    assert replies.most_common(1)[0][0] == Outcome.EXPLAIN
    reviews = Decision.objects.exclude(kind=DecisionKind.REPLY)
    assert set(reviews.values_list("review_outcome", flat=True)) <= {ReviewOutcome.UPHELD,
                                                                     ReviewOutcome.CHANGED}


def test_leaders_lead_hard_cases_only_where_they_lead(seeded, leader):
    roots = (OrgUnit.objects.filter(role_assignments__user=leader,
                                    role_assignments__role=Role.LEADER)
             .values_list("path", flat=True))
    assert len(roots) == 2  # 城关镇 and 河口镇
    under = Q(pk__in=[])
    for root in roots:
        under |= Q(path__startswith=root)
    led_places = OrgUnit.objects.filter(under)
    hard = (Q(is_group=True) | Q(repeat_of__isnull=False)) & ~Q(status__in=NOT_ROUTED)
    expected = Case.objects.filter(hard, place_unit__in=led_places)
    led = Case.objects.filter(leader__isnull=False)
    assert led.exists() and Case.objects.filter(hard).exclude(place_unit__in=led_places).exists()
    assert set(led.values_list("id", flat=True)) == set(expected.values_list("id", flat=True))
    assert set(led.values_list("leader", flat=True)) == {leader.pk}
    current = Leadership.objects.filter(is_current=True)
    assert sorted(current.values_list("case_id", "leader_id")) == sorted(
        led.values_list("id", "leader_id"))
    assert Leadership.objects.count() == current.count()


def test_the_leader_sees_every_case_he_leads(seeded, leader):
    led = Case.objects.filter(leader=leader)
    assert led.exists()
    assert not led.difference(Case.objects.visible_to(leader)).exists()


def test_leaderships_are_recorded_as_the_leadership_services_do(seeded, clerk, head, handler):
    now = timezone.now()
    reply_due = dict(Deadline.objects.filter(kind=ClockKind.REPLY).values_list("case_id", "due_on"))
    events = defaultdict(list)
    for event in CaseEvent.objects.filter(kind__in=[EventKind.LEADER_ASSIGNED,
                                                    EventKind.DUTY_DONE]):
        events[event.details["leadership"]].append(event)
    for leadership in Leadership.objects.select_related("case"):
        assigned, *duties = sorted(events.pop(leadership.pk), key=lambda e: (e.at, e.pk))
        assert (assigned.kind, assigned.actor_id, assigned.at) == (
            EventKind.LEADER_ASSIGNED, clerk.pk, leadership.assigned_at)
        assert assigned.details == {
            "leadership": leadership.pk, "leader": leadership.leader_id,
            "responsible": leadership.responsible_id, "deadline": leadership.deadline.isoformat()}
        assert leadership.responsible_id in (head.pk, handler.pk)
        assert leadership.measures and leadership.assigned_by_id == clerk.pk
        assert leadership.deadline >= timezone.localdate(leadership.assigned_at)
        assert leadership.deadline <= reply_due.get(leadership.case_id, leadership.deadline)
        done = [getattr(leadership, field) for field in Leadership.DUTIES]
        assert [d for d in done if d] == sorted(d for d in done if d)
        assert all(leadership.assigned_at <= d <= now for d in done if d)
        assert [(e.kind, e.actor_id, e.at) for e in duties] == [
            (EventKind.DUTY_DONE, leadership.leader_id, d) for d in done if d]
        status = leadership.case.status
        assert (leadership.handled_at is not None) == (status in REPLIED_OR_LATER)
        assert (leadership.stabilised_at is not None) == (status in Case.CLOSED_STATES)
    assert not events
    assert Leadership.objects.filter(stabilised_at__isnull=False).exists()


def test_numbers_are_unique_per_year_and_the_sequence_continues(supervisor):
    # given a first run
    demo_cases_seed(count=1200, seed=11)
    first = _last_numbers()
    people = Petitioner.objects.count()
    # when a second run adds more
    report = demo_cases_seed(count=800, seed=11)
    # then numbers continue after the first run's, with no gap and no duplicate
    assert Case.objects.count() == 2000
    assert report.petitioners == Petitioner.objects.count() - people
    later = _last_numbers()
    for year, last in later.items():
        assert last >= first.get(year, 0)
        numbers = sorted(int(n.rsplit("-", 1)[1]) for n in
                         Case.objects.filter(number__startswith=f"341122-{year}-")
                         .values_list("number", flat=True))
        assert numbers == list(range(1, last + 1))
    assert sum(later.values()) == 2000
    # and nobody is on file twice, even though the seed is the same
    duplicates = (Petitioner.objects.exclude(id_number="").values("id_type", "id_number")
                  .annotate(n=Count("id")).filter(n__gt=1))
    assert not duplicates.exists()


def test_numbers_follow_the_order_of_receipt(seeded):
    for year in _last_numbers():
        in_number_order = list(Case.objects.filter(number__startswith=f"341122-{year}-")
                               .order_by("number").values_list("received_at", flat=True))
        assert in_number_order == sorted(in_number_order)
        assert all(re.fullmatch(r"341122-\d{4}-\d{6}", number) for number in
                   Case.objects.values_list("number", flat=True)[:50])


def test_the_supervisor_sees_every_seeded_case(seeded, supervisor):
    assert Case.objects.visible_to(supervisor).count() == CASES


def test_bench_prints_the_rate_lines(supervisor):
    out, err = StringIO(), StringIO()
    call_command("bench", "--cases", "300", stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"bench: seed_cases_per_s \d+ cases/s", lines[0])
    assert re.fullmatch(r"bench: seed_events_per_s \d+ events/s", lines[1])
    assert Case.objects.count() == 300


@pytest.mark.django_db
def test_bench_and_seed_refuse_production_settings():
    with override_settings(DEMO_DATA_ALLOWED=False):
        with pytest.raises(CommandError, match="DEMO_DATA_ALLOWED"):
            call_command("bench", "--cases", "10")
        with pytest.raises(CommandError):
            call_command("seed", "--cases", "10")
    assert not Case.objects.exists()


def _last_numbers() -> dict[int, int]:
    return dict(CaseNumberSequence.objects.values_list("year", "last"))


def test_cases_if_empty_seeds_a_first_run_only(db):
    from django.core.management import call_command

    from cases.models import Case

    call_command("seed", cases_if_empty=40, stdout=io.StringIO())
    assert Case.objects.count() == 40
    call_command("seed", cases_if_empty=40, stdout=io.StringIO())
    assert Case.objects.count() == 40
