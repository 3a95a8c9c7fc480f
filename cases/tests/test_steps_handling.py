"""The handling unit's and the leader's actions on the case page, through the test client:
notes, files, commitments, instructions and deciding an extension (issue 7)."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.choices import Role
from accounts.models import RoleAssignment
from accounts.tests.factories import UserFactory
from cases.choices import CaseStatus, ClockKind, EventKind, ExtensionStatus
from cases.deadlines.clocks import OFFICE_TZ
from cases.forms.steps import InstructForm
from cases.models import Attachment, CaseEvent, Commitment, Deadline, Extension, Instruction
from cases.services.extensions import extension_decide, extension_request
from cases.services.transitions import case_accept, case_route, case_sign
from cases.services.undertakings import (
    commitment_keep,
    commitment_make,
    instruction_answer,
    instruction_due_proposed,
    instruction_give,
)
from cases.tests.factories import CaseFactory, demo_unit
from cases.tests.test_step_forms import flash, page_url, post_step, signed_in, step_url

pytestmark = pytest.mark.django_db
TOWNSHIP = "341122100"  # 城关镇


def today():
    return timezone.localtime(timezone.now(), OFFICE_TZ).date()


def summary(response) -> str:
    """The error summary at the top of a form sent back."""
    return response.text.split('class="alert alert-danger pd-error-summary"')[1].split("</div>")[0]


@pytest.fixture
def accepted(clerk, handler, leader):
    """A case 城关镇 accepted (its reply clock runs), led by the demo leader."""
    case = CaseFactory(place_unit=demo_unit("341122100001"), leader=leader)
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
    case_sign(case=case, actor=handler)
    case_accept(case=case, actor=handler)
    return case


def actions(client, case) -> set[str]:
    return set(re.findall(r'data-action="([a-z_]+)"', client.get(page_url(case)).text))


# --- What each user is offered ---------------------------------------------------------------

def test_each_user_is_offered_only_what_they_may_do_now(client, handler, head, leader, clerk,
                                                        accepted):
    # given an accepted case with nothing owed yet
    assert {"note", "attach", "commit", "extension"} <= actions(signed_in(client, handler),
                                                                 accepted)
    assert not {"keep", "answer_instruction", "instruct"} & actions(client, accepted)
    assert {"instruct", "note"} <= actions(signed_in(client, leader), accepted)
    assert not {"commit", "answer_instruction"} & actions(client, accepted)
    # when a commitment and an instruction are open
    commitment_make(case=accepted, actor=handler, text="上门解释", due_on=today())
    instruction_give(case=accepted, actor=leader, text="请核查", due_on=today())
    # then the unit is offered to keep and answer; the office neither
    assert {"keep", "answer_instruction"} <= actions(signed_in(client, head), accepted)
    assert not {"keep", "answer_instruction", "commit", "instruct"} & actions(
        signed_in(client, clerk), accepted)


@pytest.mark.parametrize(("username", "name"), [
    ("clerk", "commit"), ("leader", "commit"), ("handler", "instruct"), ("clerk", "instruct"),
    ("leader", "keep"), ("leader", "answer_instruction"), ("handler", "decide_extension"),
    ("leader", "decide_extension")])
def test_those_who_may_not_get_403(client, demo_users, accepted, username, name):
    # given a commitment, an instruction and an extension request open on the case
    commitment_make(case=accepted, actor=demo_users["handler"], text="上门解释", due_on=today())
    instruction_give(case=accepted, actor=demo_users["leader"], text="请核查", due_on=today())
    extension_request(case=accepted, actor=demo_users["handler"], days=10, reason="需补充调查")
    signed_in(client, demo_users[username])
    # then neither the form nor a forged submission is served, and nothing is written
    events = CaseEvent.objects.filter(case=accepted).count()
    assert client.get(step_url(accepted, name)).status_code == 403
    assert post_step(client, accepted, name, {"text": "x", "due_on": today().isoformat(),
                                             "note": "x", "answer": "x",
                                             "decision": "approve"}).status_code == 403
    assert CaseEvent.objects.filter(case=accepted).count() == events


def test_no_commitment_before_the_case_is_accepted(client, clerk, handler, county):
    routed = CaseFactory(place_unit=demo_unit("341122100001"))
    case_route(case=routed, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
    signed_in(client, handler)
    assert "commit" not in actions(client, routed)
    assert client.get(step_url(routed, "commit")).status_code == 403


# --- Notes and files ------------------------------------------------------------------------

def test_the_handler_adds_a_progress_note(client, handler, accepted):
    signed_in(client, handler)
    # an empty note is asked for again, at its field
    response = post_step(client, accepted, "note", {"text": "   "})
    assert response.status_code == 200
    assert '<a href="#id_text">A note cannot be empty.</a>' in summary(response)
    response = post_step(client, accepted, "note", {"text": "已走访信访人，了解诉求"}, follow=True)
    assert any("Your note is on the timeline" in text for text in flash(response))
    note = CaseEvent.objects.get(case=accepted, kind=EventKind.NOTE)
    assert note.details["text"] == "已走访信访人，了解诉求" and note.actor == handler
    assert "已走访信访人，了解诉求" in response.text


def test_a_file_is_attached_through_the_form(client, handler, accepted):
    signed_in(client, handler)
    form = client.get(step_url(accepted, "attach")).text
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form
    scan = SimpleUploadedFile("现场照片.pdf", b"%PDF-1.4 scan", content_type="application/pdf")
    response = post_step(client, accepted, "attach", {"upload": scan,
                                                      "is_accusation_material": "on"},
                         follow=True)
    attachment = Attachment.objects.get(case=accepted)
    assert attachment.original_name == "现场照片.pdf" and attachment.is_accusation_material
    assert any("现场照片.pdf is attached to case" in text for text in flash(response))
    assert CaseEvent.objects.filter(case=accepted, kind=EventKind.ATTACHMENT).count() == 1


@pytest.mark.parametrize(("name", "content", "message"), [
    ("程序.exe", b"MZ\x90\x00", "Files of type “exe” are not accepted"),
    ("扫描件.pdf", b"\x89PNG\r\n\x1a\n....", "not a pdf file"),
    ("空白.pdf", b"", "The file is empty."),
])
def test_a_wrong_file_is_refused_at_its_field_keeping_the_rest(client, handler, accepted, name,
                                                              content, message):
    signed_in(client, handler)
    upload = SimpleUploadedFile(name, content)
    response = post_step(client, accepted, "attach", {"upload": upload,
                                                      "is_accusation_material": "on"})
    assert response.status_code == 200
    assert '<a href="#id_upload">' in summary(response) and message in summary(response)
    assert re.search(r'<input type="checkbox" name="is_accusation_material"[^>]*checked',
                     response.text)
    assert not Attachment.objects.filter(case=accepted).exists()


def test_a_file_without_a_file_is_asked_for(client, handler, accepted):
    signed_in(client, handler)
    response = post_step(client, accepted, "attach", {})
    assert "Choose the file to attach." in summary(response)


# --- Commitments -----------------------------------------------------------------------------

def test_the_handler_records_a_commitment_and_then_that_it_was_kept(client, handler, accepted):
    signed_in(client, handler)
    due = today() + timedelta(days=10)
    # a day in the past is refused at its field, the words kept
    response = post_step(client, accepted, "commit",
                         {"text": "十日内发放补偿款", "due_on": (today() - timedelta(days=1))})
    assert '<a href="#id_due_on">The day cannot be in the past.</a>' in summary(response)
    assert "十日内发放补偿款" in response.text
    # when the day is right
    response = post_step(client, accepted, "commit", {"text": "十日内发放补偿款", "due_on": due},
                         follow=True)
    commitment = Commitment.objects.get(case=accepted)
    assert commitment.due_on == due and commitment.is_open
    assert any(f"due {due.isoformat()}" in text and "inbox" in text for text in flash(response))
    # then the case page lists it with its days left, and the form to keep it picks it
    assert f'data-commitment="{commitment.pk}"' in response.text
    assert "working days left" in response.text
    form = client.get(step_url(accepted, "keep")).text
    assert "十日内发放补偿款" in form and f'value="{commitment.pk}"' in form
    response = post_step(client, accepted, "keep",
                         {"commitment": commitment.pk, "note": "补偿款已发放到位"}, follow=True)
    commitment.refresh_from_db()
    assert not commitment.is_open and commitment.kept_note == "补偿款已发放到位"
    assert any("is recorded as kept" in text for text in flash(response))
    assert "Kept in time" in response.text


def test_a_commitment_kept_meanwhile_is_said_so_keeping_the_note(client, handler, head,
                                                                accepted):
    # given the handler opened the form to keep the one open commitment
    commitment = commitment_make(case=accepted, actor=handler, text="上门解释", due_on=today())
    signed_in(client, handler)
    assert client.get(step_url(accepted, "keep")).status_code == 200
    # when the head records it kept first
    commitment_keep(commitment=commitment, actor=head, note="主任已上门")
    response = post_step(client, accepted, "keep",
                         {"commitment": commitment.pk, "note": "办理人已上门解释"})
    # then the form comes back saying who kept it, with what the handler typed
    assert response.status_code == 200
    assert "already recorded as kept" in response.text and head.display_name in response.text
    assert "办理人已上门解释" in response.text
    commitment.refresh_from_db()
    assert commitment.kept_note == "主任已上门"


def test_a_commitment_of_another_case_cannot_be_kept_here(client, handler, accepted):
    other = CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(TOWNSHIP))
    elsewhere = commitment_make(case=other, actor=handler, text="上门解释", due_on=today())
    commitment_make(case=accepted, actor=handler, text="电话回访", due_on=today())
    signed_in(client, handler)
    response = post_step(client, accepted, "keep", {"commitment": elsewhere.pk, "note": "已办"})
    assert "Choose one of this case&#x27;s commitments." in summary(response)
    elsewhere.refresh_from_db()
    assert elsewhere.is_open


# --- Instructions -----------------------------------------------------------------------------

def test_the_leader_instructs_and_the_unit_answers(client, leader, handler, accepted):
    signed_in(client, leader)
    # the form proposes 5 working days from today
    form = client.get(step_url(accepted, "instruct")).text
    assert f'value="{instruction_due_proposed().isoformat()}"' in form
    assert "Proposed: 5 working days from today" in form
    response = post_step(client, accepted, "instruct", {"text": "", "due_on": today()})
    assert '<a href="#id_text">Write the instruction.</a>' in summary(response)
    response = post_step(client, accepted, "instruct",
                         {"text": "请一周内约谈信访人", "due_on": instruction_due_proposed()},
                         follow=True)
    instruction = Instruction.objects.get(case=accepted)
    assert instruction.given_by == leader
    assert any("answers by" in text for text in flash(response))
    # when the handler answers it
    signed_in(client, handler)
    form = client.get(step_url(accepted, "answer_instruction")).text
    assert "请一周内约谈信访人" in form and leader.display_name in form
    response = post_step(client, accepted, "answer_instruction",
                         {"instruction": instruction.pk, "answer": ""})
    assert '<a href="#id_answer">Write the answer to the instruction.</a>' in summary(response)
    response = post_step(client, accepted, "answer_instruction",
                         {"instruction": instruction.pk, "answer": "已约谈，信访人表示理解"},
                         follow=True)
    instruction.refresh_from_db()
    assert instruction.answer == "已约谈，信访人表示理解" and instruction.done_by == handler
    assert any("answer to the leader's instruction" in text for text in flash(response))
    # then the page and the timeline tell it in words
    page = response.text
    assert "Answered in time" in page
    assert "Instructed, to be answered by" in page and "Answered in time (due" in page


def test_an_instruction_answered_meanwhile_is_said_so_keeping_the_answer(client, leader,
                                                                        handler, head,
                                                                        accepted):
    instruction = instruction_give(case=accepted, actor=leader, text="请核查", due_on=today())
    signed_in(client, handler)
    assert client.get(step_url(accepted, "answer_instruction")).status_code == 200
    instruction_answer(instruction=instruction, actor=head, answer="主任答复")
    response = post_step(client, accepted, "answer_instruction",
                         {"instruction": instruction.pk, "answer": "办理人答复"})
    assert response.status_code == 200
    assert "already answered" in summary(response) and "办理人答复" in response.text


# --- Deciding an extension ---------------------------------------------------------------------

def test_the_head_approves_an_extension_the_handler_asked_for(client, handler, head, accepted):
    extension = extension_request(case=accepted, actor=handler, days=15, reason="需现场勘测")
    clock = Deadline.objects.filter(case=accepted, kind=ClockKind.REPLY).live().get()
    # the one who asked is not offered to decide it
    signed_in(client, handler)
    assert "decide_extension" not in actions(client, accepted)
    # the head is, and approves
    signed_in(client, head)
    assert "decide_extension" in actions(client, accepted)
    form = client.get(step_url(accepted, "decide_extension")).text
    assert "需现场勘测" in form and "15 more days asked by" in form
    response = post_step(client, accepted, "decide_extension", {"extension": extension.pk})
    assert '<a href="#id_decision">Choose to approve or to refuse.</a>' in summary(response)
    response = post_step(client, accepted, "decide_extension",
                         {"extension": extension.pk, "decision": "approve", "note": "同意"},
                         follow=True)
    extension.refresh_from_db()
    clock.refresh_from_db()
    assert extension.status == ExtensionStatus.APPROVED and extension.decided_by == head
    assert clock.extension_days == 15
    assert any("15 days on case" in text and "approved" in text for text in flash(response))


def test_a_refusal_says_the_reply_stays_due(client, handler, head, accepted):
    extension = extension_request(case=accepted, actor=handler, days=15, reason="需现场勘测")
    signed_in(client, head)
    response = post_step(client, accepted, "decide_extension",
                         {"extension": extension.pk, "decision": "refuse"}, follow=True)
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.REFUSED
    assert any("is refused; the reply stays due" in text for text in flash(response))


def test_an_extension_decided_meanwhile_is_said_so(client, handler, head, demo_users, accepted,
                                                   unit):
    # given a second head of 城关镇 who decides first
    other_head = UserFactory(username="other_head", name="钱副主任")
    RoleAssignment.objects.create(user=other_head, role=Role.UNIT_HEAD, unit=unit(TOWNSHIP))
    extension = extension_request(case=accepted, actor=handler, days=15, reason="需现场勘测")
    signed_in(client, head)
    assert client.get(step_url(accepted, "decide_extension")).status_code == 200
    extension_decide(extension=extension, actor=other_head, approve=False)
    response = post_step(client, accepted, "decide_extension",
                         {"extension": extension.pk, "decision": "approve", "note": "同意延期"})
    assert response.status_code == 200
    assert "already been decided" in summary(response) and "同意延期" in response.text
    assert Extension.objects.get(pk=extension.pk).status == ExtensionStatus.REFUSED


# --- Chinese ------------------------------------------------------------------------------------

def test_the_commitment_form_and_section_render_in_chinese(client, handler, accepted):
    commitment_make(case=accepted, actor=handler, text="上门解释", due_on=today())
    signed_in(client, handler, "zh-hans")
    assert client.get(step_url(accepted, "commit")).status_code == 200
    page = client.get(page_url(accepted)).text
    assert '<html lang="zh-hans">' in page and "上门解释" in page
    assert 'id="pd-h-undertakings"' in page


# --- Cost ----------------------------------------------------------------------------------------

def test_the_case_page_costs_the_same_with_1_or_10_commitments_and_instructions(
        client, clerk, handler, leader, django_assert_num_queries):
    # given two cases alike but for how much is owed on them
    def build(count: int):
        case = CaseFactory(place_unit=demo_unit("341122100001"), leader=leader)
        case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
        case_sign(case=case, actor=handler)
        case_accept(case=case, actor=handler)
        for n in range(count):
            kept = commitment_make(case=case, actor=handler, text=f"承诺{n}", due_on=today())
            if n % 2:
                commitment_keep(commitment=kept, actor=handler, note="已兑现")
            given = instruction_give(case=case, actor=leader, text=f"批示{n}", due_on=today())
            if n % 2:
                instruction_answer(instruction=given, actor=handler, answer="已落实")
        return case

    few, many = build(1), build(10)
    signed_in(client, handler)
    # when / then
    with CaptureQueriesContext(connection) as few_queries:
        assert client.get(page_url(few)).status_code == 200
    with django_assert_num_queries(len(few_queries)):
        response = client.get(page_url(many))
    assert response.text.count("data-commitment=") == 10
    assert response.text.count("data-instruction=") == 10


def test_a_proposed_day_reaches_the_date_picker_as_an_iso_day(demo_users):
    # given the Chinese form of an instruction, which proposes an answer day
    with translation.override("zh-hans"):
        html = str(InstructForm(case=CaseFactory())["due_on"])
    # then the browser's date picker gets 2026-12-04, not the locale's 2026/12/04
    assert re.search(r'type="date"[^>]*value="\d{4}-\d{2}-\d{2}"', html), html
