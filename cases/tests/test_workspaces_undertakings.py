"""Commitments, instructions and extension requests in the unit's inbox (/cases/unit/) and the
leader's cases (/cases/mine/), through the real stack, with their query counts."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from accounts.models import RoleAssignment
from accounts.permissions import forget_roles, held_roles
from cases.choices import CaseStatus, ExtensionStatus
from cases.deadlines.calendar import Unit
from cases.deadlines.clocks import OFFICE_TZ, office_calendar
from cases.models import Commitment, Extension, Instruction
from cases.selectors.workspaces import leader_cases, unit_inbox
from cases.services.undertakings import due_at_of
from cases.tests.factories import CaseFactory, DeadlineFactory, demo_unit

pytestmark = pytest.mark.django_db

INBOX, MINE = reverse("cases:unit_cases"), reverse("cases:my_cases")
CHENGGUAN, HEKOU = "341122100", "341122101"


def today() -> date:
    return timezone.localtime(timezone.now(), OFFICE_TZ).date()


def due_in(working_days: int) -> date:
    return office_calendar().due_date(today(), working_days, Unit.WORKING).due


def sign_in(client, user, language: str = "en"):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)


def handled(number: str, code: str = CHENGGUAN, **fields):
    return CaseFactory(number=number, status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(code),
                       **fields)


def commitment(case, due_on: date, by, text="上门解释", **fields) -> Commitment:
    """A commitment as the unit recorded it (a past day too: it was made earlier)."""
    return Commitment.objects.create(case=case, text=text, due_on=due_on,
                                     due_at=due_at_of(due_on), made_by=by,
                                     made_at=timezone.now() - timedelta(days=20), **fields)


def instruction(case, due_on: date, by, text="请核查", **fields) -> Instruction:
    return Instruction.objects.create(case=case, text=text, due_on=due_on,
                                      due_at=due_at_of(due_on), given_by=by,
                                      given_at=timezone.now() - timedelta(days=20), **fields)


def pending_extension(case, by, days=15) -> Extension:
    clock = DeadlineFactory(case=case, kind="reply", due_on=due_in(10),
                            due_at=due_at_of(due_in(10)))
    return Extension.objects.create(case=case, deadline=clock, days=days, reason="需补充调查",
                                    requested_by=by, requested_at=timezone.now())


# --- The unit's inbox --------------------------------------------------------------------------

def test_the_inbox_lists_what_the_unit_owes_overdue_first(client, handler, leader):
    # given an overdue commitment, an instruction due soon, one answered, and one of another unit
    ours, theirs = handled("T-2026-000701"), handled("T-2026-000702", HEKOU)
    commitment(ours, today() - timedelta(days=2), handler, text="十日内发放补偿款")
    instruction(ours, due_in(2), leader, text="请约谈信访人")
    instruction(ours, due_in(2), leader, text="已答复的批示", answer="已办",
                done_at=timezone.now(), done_by=handler)
    commitment(theirs, due_in(1), handler, text="河口镇的承诺")
    # when the handler of 城关镇 opens the inbox
    sign_in(client, handler)
    response = client.get(INBOX)
    # then the overdue commitment comes first, the open instruction next, nothing else
    owed = response.context["inbox"].owed
    assert [item.row.text for item in owed] == ["十日内发放补偿款", "请约谈信访人"]
    assert [(item.due.tone, item.due.days) for item in owed] == [("overdue", 2), ("soon", 2)]
    page = response.content.decode()
    assert "Commitments and leader's instructions awaiting the unit" in page
    assert "Overdue by 2 days" in page and "2 working days left" in page
    assert f'href="/cases/T-2026-000701/steps/keep/?commitment={owed[0].row.pk}"' in page
    assert f'href="/cases/T-2026-000701/steps/answer_instruction/?instruction={owed[1].row.pk}"' \
        in page
    assert "已答复的批示" not in page and "河口镇的承诺" not in page


def test_the_link_beside_a_row_preselects_it(client, handler, leader):
    case = handled("T-2026-000711")
    first = instruction(case, due_in(2), leader, text="第一条批示")
    second = instruction(case, due_in(3), leader, text="第二条批示")
    sign_in(client, handler)
    form = client.get(reverse("cases:step", args=[case.number, "answer_instruction"])
                      + f"?instruction={second.pk}").text
    assert re.search(rf'<input [^>]*value="{second.pk}"[^>]*checked', form)
    assert re.search(rf'<input [^>]*value="{first.pk}"[^>]*>', form)
    assert not re.search(rf'<input [^>]*value="{first.pk}"[^>]*checked', form)


def test_only_a_head_sees_extension_requests_to_decide(client, handler, head):
    case = handled("T-2026-000721")
    request = pending_extension(case, handler)
    own = pending_extension(handled("T-2026-000722"), head)
    # the handler is not asked to decide
    assert unit_inbox(user=handler).extensions == []
    # the head is, except for the request they made themselves
    assert unit_inbox(user=head).extensions == [request]
    sign_in(client, head)
    page = client.get(INBOX).content.decode()
    assert "Extension requests for you to decide" in page
    assert f"/cases/T-2026-000721/steps/decide_extension/?extension={request.pk}" in page
    assert f"extension={own.pk}" not in page


@pytest.mark.parametrize("count", [3, 30])
def test_the_inbox_costs_the_same_queries_whatever_is_owed(head, handler, leader,
                                                           django_assert_num_queries, count):
    # given ``count`` cases, each with a commitment, an instruction and an extension request
    for n in range(count):
        case = handled(f"T-2026-{800 + n:06d}")
        commitment(case, due_in(n % 5 + 1), handler)
        instruction(case, due_in(n % 4 + 1), leader)
        pending_extension(case, handler)
    held_roles(head)
    unit_inbox(user=head)  # warm the office calendar
    # then units, rows, clocks, the calendar's version, commitments, instructions, the
    # extension requests to decide and the supervision orders to answer: eight queries
    with django_assert_num_queries(8):
        inbox = unit_inbox(user=head)
    assert len(inbox.owed) == 2 * count and len(inbox.extensions) == count


# --- The leader's cases ---------------------------------------------------------------------

def test_the_leader_sees_each_instruction_answered_or_not(client, leader, handler):
    # given a led case with an unanswered instruction due in 3 working days and an answered one
    case = handled("T-2026-000901", leader=leader)
    instruction(case, due_in(3), leader, text="请一周内约谈信访人")
    instruction(case, today() - timedelta(days=1), leader, text="请核实补偿标准",
                answer="已核实，标准无误", done_at=timezone.now(), done_by=handler)
    # when the leader opens "my cases"
    sign_in(client, leader)
    response = client.get(MINE)
    # then both show, the unanswered one first with its days left, and a button to write more
    (row,) = response.context["led"].rows
    assert [item.row.text for item in row.instructions] == ["请一周内约谈信访人", "请核实补偿标准"]
    assert row.unanswered_count == 1 and row.case.may_instruct
    page = response.content.decode()
    assert "3 working days left" in page and "Not yet answered" in page
    assert "已核实，标准无误" in page and "Answered late" in page
    assert f'href="/cases/{case.number}/steps/instruct/"' in page


def test_an_extension_awaits_the_unit_head_unless_the_leader_is_one(client, leader, handler):
    # given two led cases with a pending request; the leader is also head of 城关镇 only
    RoleAssignment.objects.create(user=leader, role=Role.UNIT_HEAD, unit=demo_unit(CHENGGUAN))
    forget_roles(leader)
    mine = handled("T-2026-000911", leader=leader)
    other = handled("T-2026-000912", HEKOU, leader=leader)
    decidable, awaiting = pending_extension(mine, handler), pending_extension(other, handler)
    sign_in(client, leader)
    page = client.get(MINE).content.decode()
    # then the one on 城关镇 has approve and refuse, the other names who decides it
    mine_card = page.split(f'id="pd-ws-case-{mine.pk}"')[1].split("</section>")[0]
    other_card = page.split(f'id="pd-ws-case-{other.pk}"')[1].split("</section>")[0]
    assert 'value="approve"' in mine_card and 'value="refuse"' in mine_card
    assert 'value="approve"' not in other_card
    assert "Awaiting the decision of the head of 河口镇." in other_card
    # and when the leader approves from "my cases", the extension is approved
    response = client.post(reverse("cases:step", args=[mine.number, "decide_extension"]),
                           {"seen_status": mine.status, "extension": decidable.pk,
                            "decision": "approve"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/cases/{mine.number}/"
    assert Extension.objects.get(pk=decidable.pk).status == ExtensionStatus.APPROVED
    assert Extension.objects.get(pk=awaiting.pk).status == ExtensionStatus.PENDING


@pytest.mark.parametrize("count", [3, 30])
def test_my_cases_costs_the_same_queries_with_instructions_and_extensions(
        leader, handler, django_assert_num_queries, count):
    for n in range(count):
        case = handled(f"T-2026-{950 + n:06d}", leader=leader)
        instruction(case, due_in(n % 4 + 1), leader)
        instruction(case, due_in(1), leader, answer="已办", done_at=timezone.now(),
                    done_by=handler)
        pending_extension(case, handler)
    held_roles(leader)
    leader_cases(user=leader)  # warm the office calendar
    # then rows (with what the leader may do annotated), clocks, the calendar's version, the
    # leaderships, the pending extensions, the instructions and the open commitments: seven
    with django_assert_num_queries(7):
        led = leader_cases(user=leader)
    assert len(led.rows) == count
    assert all(len(row.instructions) == 2 and len(row.extensions) == 1 for row in led.rows)
    assert not any(extension.may_decide for row in led.rows for extension in row.extensions)


def test_a_led_case_shows_the_units_open_commitment_when_no_statutory_clock_runs(leader,
                                                                                 handler):
    # given a led case whose reply was issued and not yet delivered (no clock runs) while
    # the unit still owes the petitioner what it promised
    case = handled("T-2026-000932", leader=leader)
    promise = commitment(case, today(), handler, text="公示补偿标准")
    commitment(case, today(), handler, text="已兑现", done_at=timezone.now(), done_by=handler)
    # when the leader opens "my cases"
    (row,) = leader_cases(user=leader).rows
    # then the card lists the commitment and shows its day as the case's next deadline
    assert [item.row for item in row.commitments] == [promise]
    assert (row.case.next_deadline.due_on, row.case.next_deadline.tone) == (today(), "soon")


def test_my_cases_in_chinese(client, leader):
    case = handled("T-2026-000931", leader=leader)
    instruction(case, today() - timedelta(days=2), leader, text="请核查")
    sign_in(client, leader, "zh-hans")
    page = client.get(MINE).content.decode()
    assert "请核查" in page and "已超期2天" in page
