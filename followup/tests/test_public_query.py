"""The public query page (/query/): a petitioner opens their case with its number and query
code, reads where it stands and the reply, and rates it once (followup/DECISIONS.md).

Rules: a wrong number and a wrong code are the same answer (Q3); a number or an address
with too many wrong codes is locked for a while, a right code too (Q3); a reissued code
ends the old one (Q5); the page shows nothing internal (Q1-Q2); a rating is taken once,
after a written reply reached the petitioner (Q4).
"""

import logging
import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation

from cases.choices import CaseStatus, Channel, DeliveryMethod, EventKind, Purpose
from cases.models import Case, CaseEvent
from cases.services.decisions import decision_deliver
from cases.services.records import case_note_add
from cases.services.registration import CaseIntake, PetitionerInput, case_register
from cases.services.transitions import case_accept, case_reply, case_route, case_sign
from cases.tests.factories import CategoryFactory, demo_unit, valid_resident_id
from cases.tests.helpers import REPLY, today
from followup.models import QueryAttempt, Rating, Satisfaction
from followup.selectors import satisfaction_counts
from followup.services import query_code_reissue

pytestmark = pytest.mark.django_db

OFFICE, TOWNSHIP = "341122-D00", "341122100"
QUERY, RATE = "/query/", "/query/rate/"
PETITIONER, OTHER_PETITIONER, ACCUSED = "张三丰", "王五福", "刘贪官"
NOTE = "内部研判：信访人情绪激动，注意稳控"
PHONE, ID_NUMBER = "13812345678", valid_resident_id(42)


def registered(clerk, *, name: str = PETITIONER, id_number: str = ID_NUMBER,
               **marks) -> Case:
    intake = CaseIntake(
        channel=Channel.VISIT, received_at=timezone.now() - timedelta(days=3),
        petitioners=[PetitionerInput(name=name, id_number=id_number, phone=PHONE,
                                     address="城关镇东关社区3号", is_main=True)],
        purpose=Purpose.ACCUSATION, category=CategoryFactory(name="征地补偿"),
        summary=f"反映{ACCUSED}克扣征地补偿款", demands="请求查处并发放补偿款",
        place_unit=demo_unit(TOWNSHIP), complained_person=ACCUSED, **marks)
    return case_register(actor=clerk, office=demo_unit(OFFICE), intake=intake)


def accepted(clerk, handler, **marks) -> Case:
    """Registered by the clerk, routed to 城关镇, signed and accepted by its handler, who
    wrote an internal note."""
    case = registered(clerk, **marks)
    case = case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
    case = case_sign(case=case, actor=handler)
    case = case_accept(case=case, actor=handler)
    case_note_add(case=case, actor=handler, text=NOTE)
    return case


def replied(clerk, handler, **marks) -> Case:
    """…and replied in writing, the reply delivered to the petitioner today."""
    case = accepted(clerk, handler, **marks)
    reply = case_reply(case=case, actor=handler, decision=REPLY)
    decision_deliver(decision=reply, actor=handler, delivered_on=today(),
                     method=DeliveryMethod.IN_PERSON)
    case.refresh_from_db()
    return case


def look_up(client, number: str, code: str, address: str = "203.0.113.9"):
    return client.post(QUERY, {"number": number, "code": code}, REMOTE_ADDR=address)


def html(response) -> str:
    return response.content.decode()


def stripped(response, number: str) -> str:
    """The page without its CSRF tokens and the number typed (kept in the form)."""
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "TOKEN", html(response))
    return text.replace(number, "NUMBER")


# --- A right code --------------------------------------------------------------------------

def test_a_right_code_shows_the_case_the_reply_and_nothing_cached(client, clerk, handler):
    # given a case replied in writing, the reply delivered
    case = replied(clerk, handler)
    # when the petitioner types its number and code, the code spaced and in lower case
    response = look_up(client, case.number, " ".join(case.query_code.lower()))
    # then the case is shown in the answer itself: where it stands, the unit, the reply
    assert response.status_code == 200
    page = html(response)
    assert case.number in page and "城关镇" in page
    assert REPLY.facts in page and REPLY.legal_basis in page
    assert 'action="/query/rate/"' in page  # the reply reached them: they may rate it
    # and nothing of it is kept by the browser or a proxy
    assert "no-store" in response["Cache-Control"]
    assert QueryAttempt.objects.get().ok is True


def test_the_page_speaks_chinese_by_default(client):
    response = client.get(QUERY)
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans" and '<html lang="zh-hans">' in html(response)
    assert 'href="/cases/' not in html(response)  # no staff navigation


# --- Wrong codes and numbers ---------------------------------------------------------------

def test_a_wrong_number_and_a_wrong_code_get_the_same_answer(client, clerk):
    # given a case
    case = registered(clerk)
    # when one petitioner types its number with a wrong code, another a number no case has
    wrong_code = look_up(client, case.number, "ABCDEFGH")
    client.cookies.clear()
    unknown = "341122-2026-999999"
    wrong_number = look_up(client, unknown, "ABCDEFGH")
    # then both answers are the same, byte for byte, but for the CSRF token and the number
    assert wrong_code.status_code == wrong_number.status_code == 200
    assert stripped(wrong_code, case.number) == stripped(wrong_number, unknown)
    # and the code typed is never written back into the page
    assert "ABCDEFGH" not in html(wrong_code) and case.query_code not in html(wrong_code)
    assert list(QueryAttempt.objects.values_list("number", "ok")) == [
        (case.number, False), (unknown, False)]


@pytest.mark.parametrize(("number", "code", "message"), [
    ("", "", "id_number"),
    ("341122-2026-000001", "", "id_code"),
    ("not a number", "ABCDEFGH", "id_number"),
    ("3" * 40, "ABCDEFGH", "id_number"),
    ("341122-2026-000001", "A" * 40, "id_code"),
])
def test_bad_input_says_what_is_wrong_and_keeps_the_number(client, number, code, message):
    response = look_up(client, number, code)
    assert response.status_code == 200
    page = html(response)
    assert "pd-error-summary" in page and f'href="#{message}"' in page
    if number and len(number) <= 32:
        assert f'value="{number}"' in page  # what was typed stays, but never the code
    assert QueryAttempt.objects.count() == 0  # not an attempt at a code


# --- Lock-out -------------------------------------------------------------------------------

def test_a_number_is_locked_after_repeated_wrong_codes_even_for_the_right_code(
        client, clerk, caplog, settings):
    # given a case, and five wrong codes for its number from five addresses
    case = registered(clerk)
    for n in range(settings.QUERY_FAILURE_LIMIT):
        look_up(client, case.number, "WRONGONE", address=f"198.51.100.{n}")
    # when the right code comes, from yet another address
    with caplog.at_level(logging.WARNING, logger="followup.services"):
        response = look_up(client, case.number, case.query_code, address="192.0.2.77")
    # then it is refused with the neutral lock message, logged, and the case not shown
    page = html(response)
    assert f"{settings.QUERY_LOCK_MINUTES}" in page and "pd-error-summary" in page
    assert 'action="/query/rate/"' not in page and "城关镇" not in page
    last = QueryAttempt.objects.latest("pk")
    assert (last.ok, last.locked, last.address) == (False, True, "192.0.2.77")
    assert any("locked" in record.getMessage() for record in caplog.records)
    # and a number no case has locks alike: the lock says nothing about existence
    for n in range(settings.QUERY_FAILURE_LIMIT):
        look_up(client, "341122-2026-999999", "WRONGONE", address=f"198.51.100.{n}")
    unknown = look_up(client, "341122-2026-999999", "WRONGONE", address="192.0.2.78")
    assert stripped(unknown, "341122-2026-999999") == stripped(response, case.number)


def test_the_lock_ends_when_the_wrong_codes_leave_the_window(client, clerk, settings):
    case = registered(clerk)
    long_ago = timezone.now() - timedelta(minutes=settings.QUERY_LOCK_MINUTES + 1)
    QueryAttempt.objects.bulk_create(
        QueryAttempt(number=case.number, address="198.51.100.1", at=long_ago, ok=False)
        for _n in range(settings.QUERY_FAILURE_LIMIT))
    assert QueryAttempt.objects.filter(ok=True).count() == 0
    look_up(client, case.number, case.query_code)
    assert QueryAttempt.objects.filter(ok=True).count() == 1


def test_an_address_is_locked_after_many_wrong_codes_on_any_numbers(client, clerk, settings):
    # given an address that tried wrong codes on many numbers (a sweep)
    settings.QUERY_ADDRESS_FAILURE_LIMIT = 3
    case = registered(clerk)
    for n in range(3):
        look_up(client, f"341122-2026-00090{n}", "WRONGONE", address="198.51.100.50")
    # when the right code for a real case comes from that address, it is refused
    locked = look_up(client, case.number, case.query_code, address="198.51.100.50")
    assert "pd-public-number" not in html(locked)
    assert QueryAttempt.objects.latest("pk").locked is True
    # and from another address the same case opens
    other = look_up(client, case.number, case.query_code, address="198.51.100.51")
    assert QueryAttempt.objects.latest("pk").ok is True and "pd-public-number" in html(other)


# --- A reissued code --------------------------------------------------------------------------

def test_a_reissued_code_replaces_the_old_one(client, clerk, handler):
    # given a replied case whose petitioner opened it with the printed code
    case = replied(clerk, handler)
    old = case.query_code
    petitioner = client.__class__()
    look_up(petitioner, case.number, old)
    # when the clerk reissues the code from the case page
    client.force_login(clerk)
    assert 'data-action="reissue_query_code"' in html(client.get(f"/cases/{case.number}/"))
    assert client.get(f"/cases/{case.number}/query-code/").status_code == 200
    response = client.post(f"/cases/{case.number}/query-code/")
    case.refresh_from_db()
    new = case.query_code
    # then the new code is shown once, with the way to reprint the notice
    assert response.status_code == 200 and new != old and new in html(response)
    assert "no-store" in response["Cache-Control"]
    assert reverse("cases:notice", args=[case.number, "acceptance"]) in html(response)
    # and the trail records the reissue, never a code
    event = CaseEvent.objects.get(case=case, kind=EventKind.QUERY_CODE_REISSUED)
    assert event.actor == clerk and old not in str(event.details) and new not in str(event.details)
    # and the old code no longer opens the case, nor rates it from the lookup it opened
    refused = petitioner.post(RATE, {"rating": Rating.SATISFIED})
    assert Satisfaction.objects.count() == 0 and 'action="/query/"' in html(refused)
    assert 'action="/query/rate/"' not in html(look_up(client.__class__(), case.number, old))
    # while the new one does
    assert 'action="/query/rate/"' in html(look_up(client.__class__(), case.number, new))


def test_only_the_registering_office_reissues_a_code(client, clerk, handler):
    case = registered(clerk)
    client.force_login(handler)  # not of the office; the case is not routed to them either
    assert client.post(f"/cases/{case.number}/query-code/").status_code in (403, 404)
    routed = accepted(clerk, handler)
    assert 'data-action="reissue_query_code"' not in html(client.get(f"/cases/{routed.number}/"))
    assert client.post(f"/cases/{routed.number}/query-code/").status_code == 403
    with translation.override("en"), pytest.raises(PermissionDenied, match="petition office"):
        query_code_reissue(case=routed, actor=handler)
    assert not CaseEvent.objects.filter(kind=EventKind.QUERY_CODE_REISSUED).exists()


# --- Nothing internal -------------------------------------------------------------------------

def test_the_page_shows_nothing_internal(client, clerk, handler, leader):
    # given an accusation naming the accused, an internal note by the handler, and another
    # petitioner's case
    case = replied(clerk, handler)
    registered(clerk, name=OTHER_PETITIONER, id_number=valid_resident_id(43))
    # when the petitioner opens it
    page = html(look_up(client, case.number, case.query_code))
    # then none of the staff, the note, the accused or any person's data is in the HTML
    for hidden in (ACCUSED, NOTE, clerk.name, handler.name, leader.name, OTHER_PETITIONER,
                   PETITIONER, PETITIONER[1:], PHONE, PHONE[-4:], ID_NUMBER, ID_NUMBER[-4:],
                   "东关社区", case.summary, case.query_code):
        assert hidden not in page, hidden
    # but the handling unit and the reply are
    assert "城关镇" in page and REPLY.reasons in page


def test_a_secret_case_shows_its_state_but_not_the_text_of_its_reply(client, clerk, handler):
    case = replied(clerk, handler, is_secret=True)
    page = html(look_up(client, case.number, case.query_code))
    assert "城关镇" in page and REPLY.facts not in page and REPLY.reasons not in page


# --- Rating -----------------------------------------------------------------------------------

def test_the_petitioner_rates_once_and_the_leader_sees_it(client, clerk, handler, leader):
    # given the petitioner's case opened with the right code
    case = replied(clerk, handler)
    look_up(client, case.number, case.query_code)
    # when they rate it
    response = client.post(RATE, {"rating": Rating.BASICALLY_SATISFIED, "comment": "办得还行"})
    # then the rating is recorded, with its event, and the page thanks them
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    row = Satisfaction.objects.get(case=case)
    assert (row.rating, row.comment, row.source, row.recorded_by) == (
        Rating.BASICALLY_SATISFIED, "办得还行", "petitioner", None)
    event = CaseEvent.objects.get(case=case, kind=EventKind.PETITIONER_RATED)
    assert event.details["rating"] == Rating.BASICALLY_SATISFIED and event.actor is None
    assert 'action="/query/rate/"' not in html(response)
    assert satisfaction_counts() == {Rating.SATISFIED: 0, Rating.BASICALLY_SATISFIED: 1,
                                     Rating.DISSATISFIED: 0}
    # and a second rating is refused: there is still one
    again = client.post(RATE, {"rating": Rating.DISSATISFIED, "comment": "再评"})
    assert again.status_code == 200 and Satisfaction.objects.count() == 1
    # and the leader of the place sees the rating on the case's timeline; the comment, which
    # may name the petitioner, only those who see the petitioners unmasked (the office)
    client.force_login(leader)
    case_page = html(client.get(f"/cases/{case.number}/"))
    assert "评价：基本满意" in case_page and "办得还行" not in case_page
    client.force_login(clerk)
    assert "办得还行" in html(client.get(f"/cases/{case.number}/"))


def test_a_dissatisfied_rating_needs_a_comment(client, clerk, handler):
    case = replied(clerk, handler)
    look_up(client, case.number, case.query_code)
    response = client.post(RATE, {"rating": Rating.DISSATISFIED, "comment": "  "})
    assert 'href="#id_comment"' in html(response) and Satisfaction.objects.count() == 0
    client.post(RATE, {"rating": Rating.DISSATISFIED, "comment": "补偿款仍未到账"})
    assert Satisfaction.objects.get().rating == Rating.DISSATISFIED


def test_no_rating_before_a_reply_reached_the_petitioner(client, clerk, handler):
    # given a case accepted, not yet replied
    case = accepted(clerk, handler)
    page = html(look_up(client, case.number, case.query_code))
    # then the page offers no rating, and a rating sent anyway is refused
    assert 'action="/query/rate/"' not in page
    client.post(RATE, {"rating": Rating.SATISFIED})
    assert Satisfaction.objects.count() == 0
    assert case.status == CaseStatus.ACCEPTED


def test_the_rating_window_ends(client, clerk, handler):
    case = replied(clerk, handler)
    look_up(client, case.number, case.query_code)
    session = client.session
    session["followup_verified"]["until"] = (timezone.now() - timedelta(seconds=1)).timestamp()
    session.save()
    response = client.post(RATE, {"rating": Rating.SATISFIED})
    assert Satisfaction.objects.count() == 0 and 'action="/query/"' in html(response)
