"""Commitments to the petitioner and leaders' instructions: the services on PostgreSQL."""

import threading
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import translation

from cases.choices import CaseStatus, EventKind
from cases.deadlines.clocks import OFFICE_TZ
from cases.deadlines.rules import rules_seed
from cases.models import CaseEvent, Commitment, DeadlineRule, Instruction
from cases.services.undertakings import (
    commitment_keep,
    commitment_make,
    due_at_of,
    instruction_answer,
    instruction_due_proposed,
    instruction_give,
)
from cases.tests.factories import CaseFactory, demo_unit
from cases.tests.helpers import at, code_of, events_of, in_days, today

pytestmark = pytest.mark.django_db
CHENGGUAN, HEKOU = "341122100", "341122101"



@pytest.fixture
def handled(leader):
    """A case 城关镇 is handling, led by the demo leader."""
    return CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(CHENGGUAN),
                       leader=leader)



# --- The due instant and the proposed day ---------------------------------------------------

def test_a_day_falls_due_at_midnight_ending_it_in_office_time():
    assert due_at_of(date(2026, 10, 8)) == datetime(2026, 10, 9, 0, 0, tzinfo=OFFICE_TZ)


def test_the_proposed_answer_day_is_five_working_days_on_the_office_calendar(county):
    # given Friday 13 November 2026: the next five working days are 16 to 20 November
    assert instruction_due_proposed(at=at("2026-11-13")) == date(2026, 11, 20)
    # and around the National Day holiday the rest days are skipped
    assert instruction_due_proposed(at=at("2026-09-30")) > date(2026, 10, 7)


# --- Commitments ------------------------------------------------------------------------------

def test_the_handler_records_a_commitment_with_its_own_clock(handler, handled):
    # when the handler promises to pay within ten days
    row = commitment_make(case=handled, actor=handler, text="  十日内发放补偿款 ", due_on=in_days(10))
    # then it is stored open, due at 24:00 of that day, with one audit row
    assert row.is_open and row.text == "十日内发放补偿款" and row.made_by == handler
    assert row.due_at == due_at_of(in_days(10))
    (event,) = events_of(handled, EventKind.COMMITMENT_MADE)
    assert event.actor == handler
    assert event.details == {"commitment": row.pk, "text": "十日内发放补偿款",
                             "due_on": in_days(10).isoformat()}


@pytest.mark.parametrize("status", [CaseStatus.ACCEPTED, CaseStatus.IN_HANDLING,
                                    CaseStatus.REPLIED])
def test_a_commitment_may_be_made_while_the_unit_handles(handler, status):
    case = CaseFactory(status=status, lead_unit=demo_unit(CHENGGUAN))
    assert commitment_make(case=case, actor=handler, text="上门解释", due_on=today()).pk


@pytest.mark.parametrize("status", [CaseStatus.SIGNED, CaseStatus.REVIEW_REQUESTED,
                                    CaseStatus.CLOSED])
def test_no_commitment_outside_handling(handler, english, status):
    case = CaseFactory(status=status, lead_unit=demo_unit(CHENGGUAN))
    with pytest.raises(ValidationError) as raised:
        commitment_make(case=case, actor=handler, text="上门解释", due_on=in_days(3))
    assert code_of(raised) == "state" and "only while the case is handled" in str(raised.value)
    assert not Commitment.objects.exists() and not CaseEvent.objects.filter(case=case).exists()


def test_a_commitment_needs_words_and_a_day_not_past(handler, handled):
    with pytest.raises(ValidationError) as raised:
        commitment_make(case=handled, actor=handler, text="  ", due_on=in_days(3))
    assert code_of(raised) == "required"
    with pytest.raises(ValidationError) as raised:
        commitment_make(case=handled, actor=handler, text="上门解释", due_on=in_days(-1))
    assert code_of(raised) == "due_on"
    assert not Commitment.objects.exists()


def test_only_the_lead_unit_commits(clerk, leader, handled, english):
    for outsider in (clerk, leader):
        with pytest.raises(PermissionDenied, match="Only the unit handling case"):
            commitment_make(case=handled, actor=outsider, text="上门解释", due_on=in_days(3))
    assert not events_of(handled, EventKind.COMMITMENT_MADE)


def test_a_commitment_is_kept_once_and_late_keeping_is_recorded_as_late(handler, head, handled,
                                                                       english):
    # given a commitment due today
    row = commitment_make(case=handled, actor=handler, text="上门解释", due_on=today())
    late = due_at_of(today()) + timedelta(hours=3)
    # when the head records it kept after its day
    kept = commitment_keep(commitment=row, actor=head, note="已上门解释政策", at=late)
    # then it is closed, by whom and how, and the event says it was late
    assert not kept.is_open and kept.done_by == head and kept.kept_note == "已上门解释政策"
    (event,) = events_of(handled, EventKind.COMMITMENT_KEPT)
    assert event.details["on_time"] is False and event.details["note"] == "已上门解释政策"
    # and a second keep is refused, naming who kept it
    with pytest.raises(ValidationError) as raised:
        commitment_keep(commitment=row, actor=handler, note="再次登记", at=late)
    assert code_of(raised) == "kept"
    assert "already recorded as kept" in raised.value.messages[0]
    assert head.display_name in raised.value.messages[0]
    assert len(events_of(handled, EventKind.COMMITMENT_KEPT)) == 1
    row.refresh_from_db()
    assert row.kept_note == "已上门解释政策"


def test_keeping_in_time_needs_a_note_and_the_lead_unit(handler, clerk, handled):
    row = commitment_make(case=handled, actor=handler, text="上门解释", due_on=in_days(2))
    with pytest.raises(PermissionDenied):
        commitment_keep(commitment=row, actor=clerk, note="已解释")
    with pytest.raises(ValidationError) as raised:
        commitment_keep(commitment=row, actor=handler, note=" ")
    assert code_of(raised) == "required"
    commitment_keep(commitment=row, actor=handler, note="已解释")
    assert events_of(handled, EventKind.COMMITMENT_KEPT)[0].details["on_time"] is True


# --- Leaders' instructions -------------------------------------------------------------------

def test_the_leader_in_charge_instructs(leader, handled):
    row = instruction_give(case=handled, actor=leader, text="请于一周内约谈信访人",
                           due_on=in_days(7))
    assert row.is_open and row.given_by == leader and row.due_at == due_at_of(in_days(7))
    (event,) = events_of(handled, EventKind.INSTRUCTION_GIVEN)
    assert event.actor == leader and event.details["text"] == "请于一周内约谈信访人"


def test_only_the_leader_in_charge_instructs_on_an_open_case(leader, handler, demo_users,
                                                             english):
    # given a case led by no one, and a finished case the leader leads
    unled = CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(CHENGGUAN))
    closed = CaseFactory(status=CaseStatus.CLOSED, lead_unit=demo_unit(CHENGGUAN), leader=leader)
    for actor, case in ((leader, unled), (handler, unled)):
        with pytest.raises(PermissionDenied, match="Only the leader in charge"):
            instruction_give(case=case, actor=actor, text="请核查", due_on=in_days(5))
    with pytest.raises(ValidationError) as raised:
        instruction_give(case=closed, actor=leader, text="请核查", due_on=in_days(5))
    assert code_of(raised) == "state"
    assert not Instruction.objects.exists()


def test_an_instruction_needs_words_and_a_day_not_past(leader, handled):
    with pytest.raises(ValidationError) as raised:
        instruction_give(case=handled, actor=leader, text="", due_on=in_days(5))
    assert code_of(raised) == "required"
    with pytest.raises(ValidationError) as raised:
        instruction_give(case=handled, actor=leader, text="请核查", due_on=in_days(-2))
    assert code_of(raised) == "due_on"


def test_the_unit_answers_once_in_words(leader, handler, head, handled, english):
    row = instruction_give(case=handled, actor=leader, text="请核查", due_on=in_days(5))
    # the leader may not answer their own instruction, nor may anyone answer in silence
    with pytest.raises(PermissionDenied):
        instruction_answer(instruction=row, actor=leader, answer="已核查")
    with pytest.raises(ValidationError) as raised:
        instruction_answer(instruction=row, actor=handler, answer="")
    assert code_of(raised) == "required"
    # when the handler answers
    answered = instruction_answer(instruction=row, actor=handler, answer="已核查，补偿款已拨付")
    assert not answered.is_open and answered.done_by == handler
    (event,) = events_of(handled, EventKind.INSTRUCTION_ANSWERED)
    assert event.details["on_time"] is True and event.details["answer"] == "已核查，补偿款已拨付"
    # then a second answer is refused and the first stays
    with pytest.raises(ValidationError) as raised:
        instruction_answer(instruction=row, actor=head, answer="另行答复")
    assert code_of(raised) == "answered" and "already answered" in raised.value.messages[0]
    row.refresh_from_db()
    assert row.answer == "已核查，补偿款已拨付"


# --- Two answers at once ------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_answers_at_once_one_wins_the_other_is_told(demo_users, english):
    # given an instruction both the handler and the head of 城关镇 have open
    rules_seed(DeadlineRule)  # transactional tests truncate the migration-seeded rules
    leader, handler, head = demo_users["leader"], demo_users["handler"], demo_users["head"]
    case = CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(CHENGGUAN),
                       leader=leader)
    row = instruction_give(case=case, actor=leader, text="请核查", due_on=in_days(5))
    ready = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def answer(user, words):
        try:
            loaded = Instruction.objects.get(pk=row.pk)
            ready.wait(timeout=10)
            with translation.override("en"):  # a thread starts in the default language
                instruction_answer(instruction=loaded, actor=user, answer=words)
                outcomes[words] = "done"
        except ValidationError as refusal:
            with translation.override("en"):
                outcomes[words] = refusal.messages[0]
        finally:
            connection.close()

    # when both answer at the same moment
    threads = [threading.Thread(target=answer, args=(handler, "办理人答复")),
               threading.Thread(target=answer, args=(head, "主任答复"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then one answer is stored, the other was told it came second, and one event exists
    assert len(outcomes) == 2 and list(outcomes.values()).count("done") == 1, outcomes
    winner = next(words for words, outcome in outcomes.items() if outcome == "done")
    loser = next(outcome for outcome in outcomes.values() if outcome != "done")
    assert "already answered" in loser
    row.refresh_from_db()
    assert row.answer == winner
    assert len(events_of(case, EventKind.INSTRUCTION_ANSWERED)) == 1


def test_a_day_beyond_a_year_is_refused_as_a_typing_slip(demo_users):
    # given a case 城关镇 handles
    handler = demo_users["handler"]
    case = CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(CHENGGUAN),
                       leader=demo_users["leader"])
    # when a commitment or an instruction is dated 2206 (for 2026), or the last day there is
    for day in (date(2206, 10, 8), date(9999, 12, 31)):
        with pytest.raises(ValidationError) as refused:
            commitment_make(case=case, actor=handler, text="公示", due_on=day)
        assert code_of(refused) == "due_on"
        with pytest.raises(ValidationError):
            instruction_give(case=case, actor=demo_users["leader"], text="请核查", due_on=day)
    # then nothing was saved
    assert not case.commitments.exists() and not case.instructions.exists()


def test_no_instruction_before_a_unit_handles_the_case(demo_users):
    # given a registered case with a leader in charge but no lead unit yet
    leader = demo_users["leader"]
    case = CaseFactory(status=CaseStatus.REGISTERED, leader=leader)
    # then an instruction is refused: no one could answer it
    with pytest.raises(ValidationError) as refused:
        instruction_give(case=case, actor=leader, text="请核查", due_on=in_days(5))
    assert code_of(refused) == "state" and not case.instructions.exists()
