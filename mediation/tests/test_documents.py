"""The mediation documents (print-ready A4, in the case notices' layout): the agreement with
what PML Art.29 asks, the meeting record (笔录, Art.27), and the joint application for
judicial confirmation (Art.33); who may print them, and the trail of the personal data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.tests.factories import valid_resident_id
from mediation.agreements import AgreementInput, TermInput, mediation_agreement_record
from mediation.mediations import (
    MeetingInput,
    PartyTyped,
    mediation_meeting_record,
    mediation_open_walk_in,
)
from mediation.models import DisputeKind, EventKind, MediationKind, Side

from .test_mediations import VILLAGE, D, at

ZHANG_ID = valid_resident_id(501)


@pytest.fixture
def agreed(db, committees, village_mediator):
    """A village case with a meeting and a signed, sealed written agreement of two terms."""
    village_mediator.language = "en"  # the tests read the documents' English words
    village_mediator.save(update_fields=["language"])
    case = mediation_open_walk_in(
        committee=committees[VILLAGE], kind=MediationKind.PEOPLES,
        dispute_kind=DisputeKind.NEIGHBOURS, summary="排水沟纠纷", actor=village_mediator,
        mediators=[village_mediator], at=at("2026-03-02"),
        parties=[PartyTyped(side=Side.APPLICANT, name="张三", id_number=ZHANG_ID),
                 PartyTyped(side=Side.RESPONDENT, name="李四", phone="13900003333")])
    mediation_meeting_record(mediation=case, actor=village_mediator, version=case.version,
                             at=at("2026-03-05"), meeting=MeetingInput(
                                 held_on=D("2026-03-05"), place="东关社区调解室",
                                 attendees="张三、李四、何调解", record="张三称排水沟堵塞已三月。"))
    case.refresh_from_db()
    respondent = case.parties.get(side=Side.RESPONDENT).pk
    mediation_agreement_record(
        mediation=case, actor=village_mediator, version=case.version, at=at("2026-03-10"),
        agreement=AgreementInput(
            form="written", facts="排水沟堵塞致张三院内积水", issues="李四负主要责任",
            signed_on=D("2026-03-10"), parties_signed=True, mediator_signed=True, sealed=True,
            terms=(TermInput(obligor=respondent, content="赔偿损失5000元", manner="银行转账",
                             due_on=D("2026-03-20")),
                   TermInput(obligor=respondent, content="修复排水沟", manner="自行施工",
                             due_on=D("2026-04-30")))))
    case.refresh_from_db()
    return case


def test_the_agreement_holds_what_art_29_asks(client, agreed, village_mediator):
    # when the mediator opens the agreement for printing
    client.force_login(village_mediator)
    page = client.get(reverse("mediation:print_agreement", args=[agreed.pk]))
    body = page.content.decode()
    # then A4 in the notices' layout, with the parties in full, the facts, the issues, and
    # each term with who, what, how and by when
    assert page.status_code == 200
    assert "css/notice.css" in body and "mediation/print.css" in body
    assert 'data-document="agreement"' in body and "People&#x27;s mediation agreement" in body
    assert ZHANG_ID in body and "13900003333" in body and "李四" in body
    assert "排水沟堵塞致张三院内积水" in body and "李四负主要责任" in body
    assert 'data-term="1"' in body and "赔偿损失5000元" in body and "银行转账" in body
    assert "to be performed by 2026-03-20" in body and "修复排水沟" in body
    assert 'data-part="signatures"' in body and agreed.committee.name in body
    # and the full ID numbers shown are on the trail
    assert agreed.events.filter(kind=EventKind.VIEWED, actor=village_mediator).exists()


def test_the_meeting_record_and_the_joint_application(client, agreed, village_mediator):
    client.force_login(village_mediator)
    meeting = agreed.meetings.get()
    record = client.get(reverse("mediation:print_meeting", args=[agreed.pk, meeting.pk]))
    assert record.status_code == 200
    body = record.content.decode()
    assert "Mediation record" in body and "张三称排水沟堵塞已三月。" in body
    assert "东关社区调解室" in body and 'data-document="meeting"' in body
    application = client.get(reverse("mediation:print_application", args=[agreed.pk]))
    body = application.content.decode()
    assert application.status_code == 200
    assert "Application for judicial confirmation" in body and 'data-part="request"' in body
    assert "Art. 33" in body and "赔偿损失5000元" in body and ZHANG_ID in body


def test_print_now_opens_the_print_dialogue(client, agreed, village_mediator):
    client.force_login(village_mediator)
    page = client.get(reverse("mediation:print_agreement", args=[agreed.pk]) + "?print=1")
    assert b"data-print-now" in page.content and b"js/notice.js" in page.content


def test_documents_for_signing_are_printed_by_the_mediators(client, agreed, supervisor):
    # given a supervisor over the committee, who sees the case but does not work it
    client.force_login(supervisor)
    # then the agreement and the application (the parties in full) are refused; the record
    # of a meeting is not
    assert client.get(reverse("mediation:print_agreement", args=[agreed.pk])).status_code == 403
    assert client.get(reverse("mediation:print_application",
                              args=[agreed.pk])).status_code == 403
    meeting = agreed.meetings.get()
    assert client.get(reverse("mediation:print_meeting",
                              args=[agreed.pk, meeting.pk])).status_code == 200
