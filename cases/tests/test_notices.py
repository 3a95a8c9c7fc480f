"""Printable notices: numbered once per county, kind and year, kept on reprint, each print logged."""

from dataclasses import replace
from datetime import date

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from accounts.choices import Role
from accounts.models import RoleAssignment
from accounts.tests.factories import UserFactory
from cases.choices import CaseStatus, DeliveryMethod, DiversionChannel, EventKind, ReviewOutcome
from cases.models import CaseEvent, Notice
from cases.services.decisions import decision_deliver
from cases.services.notices import notice_print, notices_printable
from cases.services.transitions import (
    case_accept,
    case_decide_rereview,
    case_decide_review,
    case_refuse,
    case_reply,
    case_request_rereview,
    case_request_review,
    case_route,
)
from cases.tests.factories import CaseFactory, CasePetitionerFactory, PetitionerFactory, demo_unit
from cases.tests.helpers import REPLY, at

pytestmark = pytest.mark.django_db
COUNTY, TOWNSHIP, OTHER_TOWNSHIP = "341122", "341122100", "341122101"


def notice_url(case, kind: str) -> str:
    return reverse("cases:notice", args=[case.number, kind])


def signed_in(client, user, language: str = "zh-hans"):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)
    return client


def signed(**fields):
    """A case routed to 城关镇 and signed for, with a named main petitioner."""
    case = CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit(TOWNSHIP),
                       place_unit=demo_unit(TOWNSHIP), received_at=at("2026-07-20"), **fields)
    CasePetitionerFactory(case=case, petitioner=PetitionerFactory(name="张三丰"))
    return case


def accepted(handler):
    return case_accept(case=signed(), actor=handler, at=at("2026-08-03"))


def replied(handler):
    case = accepted(handler)
    reply = case_reply(case=case, actor=handler, decision=REPLY, at=at("2026-08-20"))
    return case, reply


def reviewed(handler, supervisor):
    case, reply = replied(handler)
    decision_deliver(decision=reply, actor=handler, delivered_on=date(2026, 9, 1),
                     method=DeliveryMethod.POST, at=at("2026-09-02"))
    case_request_review(case=case, actor=supervisor, at=at("2026-09-10"))
    decided = case_decide_review(
        case=case, actor=supervisor, at=at("2026-09-20"),
        decision=replace(REPLY, review_outcome=ReviewOutcome.UPHELD,
                         deciding_unit=demo_unit(COUNTY)))
    return case, decided


@pytest.fixture
def other_handler(county):
    user = UserFactory(username="hekou_handler", name="刘办理")
    RoleAssignment.objects.create(user=user, role=Role.HANDLER, unit=demo_unit(OTHER_TOWNSHIP))
    return user


def printed(case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind=EventKind.NOTICE_PRINTED).order_by("pk"))


# --- Each kind renders with its number ------------------------------------------------------

def test_the_acceptance_notice_shows_its_number_the_case_number_and_the_query_code(
        client, handler):
    # given an accepted case
    case = accepted(handler)
    # when the handler prints the notice of acceptance
    response = signed_in(client, handler).post(notice_url(case, "acceptance"), follow=True)
    # then it is numbered 清信访告〔year〕1号 and says what the petitioner needs
    assert response.status_code == 200
    html = response.content.decode()
    notice = Notice.objects.get(case=case, kind="acceptance")
    assert notice.seq == 1 and notice.number == f"清信访告〔{notice.year}〕1号"
    assert notice.number in html and case.number in html and case.query_code in html
    assert "张三丰" in html and "城关镇" in html  # the addressee and the issuing unit
    assert "<nav" not in html and "data-print-now" in html  # the dialogue opens


def test_the_reply_notice_states_every_part_of_the_current_decision(client, handler):
    case, reply = replied(handler)
    response = signed_in(client, handler, "en").post(notice_url(case, "reply"), follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    notice = Notice.objects.get(case=case, kind="reply")
    assert notice.decision == reply and notice.number.startswith("清信访复〔")
    for part in (REPLY.request, REPLY.facts, REPLY.reasons, REPLY.legal_basis, "Support",
                 notice.number):
        assert part in html


def test_the_review_and_rereview_notices_name_their_deciding_body(client, handler, supervisor):
    case, decided = reviewed(handler, supervisor)
    response = signed_in(client, supervisor).post(notice_url(case, "review"), follow=True)
    assert response.status_code == 200
    assert "清河县" in response.content.decode()
    decision_deliver(decision=decided, actor=supervisor, delivered_on=date(2026, 9, 22),
                     method=DeliveryMethod.IN_PERSON, at=at("2026-09-22", 15))
    case_request_rereview(case=case, actor=supervisor, at=at("2026-10-12"))
    case_decide_rereview(case=case, actor=supervisor, at=at("2026-10-20"),
                         decision=replace(REPLY, review_outcome=ReviewOutcome.UPHELD,
                                          body_name="某市信访局"))
    response = client.post(notice_url(case, "rereview"), follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "某市信访局" in html and Notice.objects.get(case=case, kind="rereview").number in html


def test_the_non_acceptance_notice_gives_the_reason_and_the_channel(client, clerk):
    case = CaseFactory()
    case_refuse(case=case, actor=clerk, reason="属民事纠纷，应通过诉讼解决",
                channel=DiversionChannel.COURT)
    response = signed_in(client, clerk, "en").post(notice_url(case, "non_acceptance"), follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "属民事纠纷，应通过诉讼解决" in html and "People&#x27;s court" in html
    assert Notice.objects.get(case=case).number in html


def test_the_routing_slip_names_the_units_the_leader_and_the_acceptance_deadline(
        client, clerk):
    case = CaseFactory()
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
    response = signed_in(client, clerk, "en").post(notice_url(case, "routing_slip"), follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "城关镇" in html and "Acceptance notice due" in html
    assert Notice.objects.get(case=case, kind="routing_slip").number.startswith("清信访交〔")


# --- Numbering ---------------------------------------------------------------------------

def test_a_reprint_shows_the_same_number_and_the_next_case_takes_the_next(client, handler):
    # given two accepted cases of the same county
    first, second = accepted(handler), accepted(handler)
    signed_in(client, handler)
    # when the first is printed twice and the second once
    client.post(notice_url(first, "acceptance"), follow=True)
    again = client.post(notice_url(first, "acceptance"), follow=True).content.decode()
    client.post(notice_url(second, "acceptance"), follow=True)
    # then the first keeps its number and the second takes the next one
    one = Notice.objects.get(case=first)
    two = Notice.objects.get(case=second)
    assert one.number in again and Notice.objects.filter(case=first).count() == 1
    assert (one.seq, two.seq) == (1, 2) and one.year == two.year


def test_numbers_run_per_kind_and_per_year(handler):
    case, _reply = replied(handler)
    acceptance = notice_print(case=case, actor=handler, kind="acceptance", at=at("2026-08-21"))
    reply = notice_print(case=case, actor=handler, kind="reply", at=at("2026-08-21"))
    later = accepted(handler)
    next_year = notice_print(case=later, actor=handler, kind="acceptance", at=at("2027-01-05"))
    assert (acceptance.seq, reply.seq, next_year.seq) == (1, 1, 1)
    assert next_year.number == "清信访告〔2027〕1号"


def test_looking_at_a_notice_numbers_nothing_and_logs_nothing(client, handler):
    # given an accepted case whose notice was never printed
    case = accepted(handler)
    # when the handler opens the notice (a GET: a link, a reload, a browser's prefetch)
    response = signed_in(client, handler, "en").get(notice_url(case, "acceptance"))
    # then it shows as a draft without a number, and nothing was written
    html = response.content.decode()
    assert response.status_code == 200 and "(numbered when printed)" in html
    assert "pd-notice-draft" in html and "data-print-now" not in html
    assert not Notice.objects.filter(case=case).exists() and printed(case) == []
    # when the handler presses Print, then it is numbered and the print recorded
    response = client.post(notice_url(case, "acceptance"))
    assert response.status_code == 302 and response["Location"].endswith("?printed=1")
    number = Notice.objects.get(case=case).number
    assert number in client.get(notice_url(case, "acceptance")).content.decode()
    assert len(printed(case)) == 1


def test_each_print_writes_a_notice_printed_event(client, handler):
    case = accepted(handler)
    signed_in(client, handler)
    client.post(notice_url(case, "acceptance"), follow=True)
    client.post(notice_url(case, "acceptance"), follow=True)
    events = printed(case)
    number = Notice.objects.get(case=case).number
    assert [(e.actor, e.details["number"], e.details["first"]) for e in events] == [
        (handler, number, True), (handler, number, False)]


# --- Refusals ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["acceptance", "non_acceptance", "reply", "review", "rereview"])
def test_a_notice_the_state_does_not_allow_is_refused_with_a_message(client, handler, kind):
    case = signed()  # signed for, not yet accepted: only the routing slip may be printed
    signed_in(client, handler, "en")
    for response in (client.get(notice_url(case, kind)), client.post(notice_url(case, kind))):
        assert response.status_code == 409
        assert "can be printed" in response.content.decode()
    assert not Notice.objects.filter(case=case).exists() and printed(case) == []


def test_an_unknown_kind_is_not_found(client, handler):
    response = signed_in(client, handler).get(notice_url(accepted(handler), "certificate"))
    assert response.status_code == 404


def test_a_user_of_another_unit_gets_403_and_no_number(client, handler, other_handler):
    case = accepted(handler)
    signed_in(client, other_handler)
    assert client.get(notice_url(case, "acceptance")).status_code == 403
    response = client.post(notice_url(case, "acceptance"))
    assert response.status_code == 403
    assert not Notice.objects.exists() and printed(case) == []


def test_one_who_sees_the_petitioner_masked_may_look_but_not_print(client, handler, leader):
    # given an accepted case the county leader sees as a leader of the place, not in charge
    case = accepted(handler)
    signed_in(client, leader, "en")
    # when the leader opens the notice, then it is masked, without the query code or Print
    html = client.get(notice_url(case, "acceptance")).content.decode()
    assert "张**" in html and "张三丰" not in html and case.query_code not in html
    assert "pd-notice-print" not in html
    # and printing it anyway is refused, with nothing numbered or logged
    assert client.post(notice_url(case, "acceptance")).status_code == 403
    assert not Notice.objects.filter(case=case).exists() and printed(case) == []


# --- Print layout and the case page --------------------------------------------------------

def test_the_notice_links_the_a4_print_css_with_the_fangsong_stack(client, handler):
    html = signed_in(client, handler).post(notice_url(accepted(handler), "acceptance"), follow=True) \
        .content.decode()
    assert "css/notice.css" in html
    with open(finders.find("css/notice.css"), encoding="utf-8") as css_file:
        css = css_file.read()
    assert "size: A4;" in css and "margin: 37mm 26mm 35mm 28mm;" in css
    assert '"仿宋_GB2312", "FangSong", "STFangsong", "Noto Serif CJK SC", serif' in css
    assert "font-size: 16pt;" in css and "@media print" in css


def test_the_case_page_links_the_notices_printable_now(client, handler):
    case, _reply = replied(handler)
    assert [kind for kind, _label in notices_printable(user=handler, case=case)] == [
        "acceptance", "routing_slip", "reply"]
    html = signed_in(client, handler).get(reverse("cases:detail", args=[case.number])) \
        .content.decode()
    assert notice_url(case, "reply") in html and notice_url(case, "acceptance") in html
    assert notice_url(case, "review") not in html
