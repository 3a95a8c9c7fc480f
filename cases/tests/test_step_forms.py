"""The step forms (/cases/<number>/steps/<name>/) through the Django test client and PostgreSQL."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from accounts.models import RoleAssignment
from accounts.tests.factories import UserFactory
from cases.choices import CaseStatus, ClockKind, DecisionKind, EventKind, ExtensionStatus
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import Case, CaseEvent, Deadline, Decision, Extension, Leadership
from cases.services.transitions import case_accept, case_reply, case_route, case_sign
from cases.tests.factories import CaseFactory, demo_unit
from cases.tests.helpers import REPLY

pytestmark = pytest.mark.django_db
TOWNSHIP = "341122100"  # 城关镇
OTHER_TOWNSHIP = "341122101"  # 河口镇

REPLY_FIELDS = {"request": "请求发放征地补偿款", "facts": "补偿款已拨付至镇财政所",
                "reasons": "依据补偿方案应予发放", "outcome": "support",
                "legal_basis": "《信访工作条例》第三十二条"}


def step_url(case, name: str) -> str:
    return reverse("cases:step", args=[case.number, name])


def page_url(case) -> str:
    return reverse("cases:detail", args=[case.number])


def signed_in(client, user, language: str = "en"):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)
    return client


def post_step(client, case, name: str, data: dict | None = None, **extra):
    """Submit a step's form as the page shows it: with the state the case was in."""
    case.refresh_from_db()
    return client.post(step_url(case, name), {"seen_status": case.status, **(data or {})},
                       **extra)


def flash(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def registered(county):
    return CaseFactory(place_unit=demo_unit("341122100001"))


@pytest.fixture
def routed(clerk, registered):
    case_route(case=registered, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
    return registered


@pytest.fixture
def accepted(routed, handler):
    case_sign(case=routed, actor=handler)
    case_accept(case=routed, actor=handler)
    return routed


@pytest.fixture
def replied(accepted, handler):
    case_reply(case=accepted, actor=handler, decision=REPLY)
    return accepted


@pytest.fixture
def other_handler(county):
    user = UserFactory(username="hekou_handler", name="刘办理")
    RoleAssignment.objects.create(user=user, role=Role.HANDLER, unit=demo_unit(OTHER_TOWNSHIP))
    return user


# --- The handler's path -------------------------------------------------------------------

def test_the_handler_signs_accepts_and_replies(client, handler, routed):
    signed_in(client, handler)
    # given the sign-for form
    form = client.get(step_url(routed, "sign"))
    assert form.status_code == 200
    html = form.content.decode()
    assert html.count("<h1") == 1 and "Sign for</h1>" in html
    assert f'href="{page_url(routed)}"' in html and "Sign for the case</button>" in html
    # when the handler signs, accepts and replies
    response = post_step(client, routed, "sign", follow=True)
    assert response.redirect_chain[-1][0] == page_url(routed)
    assert any("You signed for case" in text and "Next: accept" in text
               for text in flash(response))
    assert post_step(client, routed, "accept").status_code == 302
    assert client.get(step_url(routed, "reply")).status_code == 200
    response = post_step(client, routed, "reply", REPLY_FIELDS, follow=True)
    # then the decision is stored and the case is replied
    routed.refresh_from_db()
    assert routed.status == CaseStatus.REPLIED
    decision = Decision.objects.get(case=routed, kind=DecisionKind.REPLY)
    assert decision.facts == REPLY_FIELDS["facts"] and decision.outcome == "support"
    assert decision.issued_by == handler and decision.unit == demo_unit(TOWNSHIP)
    assert any("written reply" in text and "record its delivery" in text
               for text in flash(response))


def test_a_reply_without_an_outcome_keeps_what_was_typed(client, handler, accepted):
    signed_in(client, handler)
    # when the handler leaves out the decision
    response = post_step(client, accepted, "reply", {**REPLY_FIELDS, "outcome": ""})
    # then the form comes back with the message at the top and at the field, nothing lost
    assert response.status_code == 200
    html = response.content.decode()
    summary = html.split('class="alert alert-danger pd-error-summary"')[1].split("</div>")[0]
    assert '<a href="#id_outcome">Choose support, explain or not support.</a>' in summary
    assert 'id="id_outcome-error"' in html
    assert REPLY_FIELDS["facts"] in html and REPLY_FIELDS["legal_basis"] in html
    accepted.refresh_from_db()
    assert accepted.status == CaseStatus.ACCEPTED
    assert not Decision.objects.filter(case=accepted).exists()


def test_a_service_refusal_comes_back_on_the_form(client, handler, accepted):
    # given an extension asked for more than the law allows (the service's rule, not the form's)
    signed_in(client, handler)
    response = post_step(client, accepted, "extension", {"days": "45", "reason": "需补充调查"})
    # then its message shows at the field, with what was typed
    assert response.status_code == 200
    html = response.content.decode()
    assert '<a href="#id_days">An extension is 1 to 30 days' in html
    assert 'value="45"' in html and "需补充调查" in html
    assert not Extension.objects.filter(case=accepted).exists()


# --- The office -----------------------------------------------------------------------------

def test_the_clerk_routes_with_a_co_unit(client, clerk, registered):
    signed_in(client, clerk)
    form = client.get(step_url(registered, "route")).content.decode()
    # the choices are the county's townships, streets and departments, no villages
    assert "城关镇" in form and "县自然资源局" in form and "东关社区" not in form
    lead, co = demo_unit(TOWNSHIP), demo_unit("341122-D02")
    response = post_step(client, registered, "route",
                         {"lead_unit": lead.pk, "co_units": [co.pk]}, follow=True)
    registered.refresh_from_db()
    assert registered.status == CaseStatus.ROUTED and registered.lead_unit == lead
    assert list(registered.co_units.all()) == [co]
    assert any("routed to 城关镇" in text for text in flash(response))


def test_the_clerk_assigns_a_leader(client, clerk, leader, head, routed):
    signed_in(client, clerk)
    page = client.get(page_url(routed)).content.decode()
    assert 'data-action="assign_leader"' in page
    form = client.get(step_url(routed, "assign_leader")).text
    assert "陈副县长" in form and 'type="date"' in form
    deadline = timezone.localdate() + timedelta(days=20)
    response = post_step(client, routed, "assign_leader",
                         {"leader": leader.pk, "measures": "约谈村干部", "deadline": deadline,
                          "responsible": head.pk})
    assert response.status_code == 302
    leadership = Leadership.objects.get(case=routed, is_current=True)
    assert leadership.leader == leader and leadership.deadline == deadline


# --- Refusals -------------------------------------------------------------------------------

def test_a_handler_of_another_unit_gets_403(client, other_handler, routed):
    signed_in(client, other_handler)
    assert client.get(step_url(routed, "sign")).status_code == 403
    assert post_step(client, routed, "sign").status_code == 403
    routed.refresh_from_db()
    assert routed.status == CaseStatus.ROUTED


def test_a_step_not_available_now_gets_403(client, handler, clerk, routed):
    signed_in(client, handler)
    response = client.get(step_url(routed, "reply"))
    assert response.status_code == 403
    assert "is not one you may take on case" in response.content.decode()
    # a step of another role, and an action the state does not allow, likewise
    assert post_step(client, routed, "route", {"lead_unit": demo_unit(TOWNSHIP).pk}
                     ).status_code == 403
    assert client.get(step_url(routed, "deliver")).status_code == 403
    assert client.get(step_url(routed, "no_such_step")).status_code == 404


def test_a_stale_step_says_someone_else_changed_the_case(client, handler, routed):
    signed_in(client, handler)
    # given the handler opened the sign-for form
    form = client.get(step_url(routed, "sign")).content.decode()
    seen = re.search(r'name="seen_status" value="([a-z_]+)"', form).group(1)
    assert seen == CaseStatus.ROUTED
    # when someone else signs first
    Case.objects.filter(pk=routed.pk).update(status=CaseStatus.SIGNED)
    events_before = CaseEvent.objects.filter(case=routed).count()
    response = client.post(step_url(routed, "sign"), {"seen_status": seen}, follow=True)
    # then the case page says so, and nothing was saved
    assert response.redirect_chain[-1][0] == page_url(routed)
    assert "Someone else changed this case first" in response.content.decode()
    assert CaseEvent.objects.filter(case=routed).count() == events_before
    # and over htmx the answer is 409
    htmx = client.post(step_url(routed, "sign"), {"seen_status": seen}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 409 and "Someone else changed this case first" in htmx.text


# --- Delivery and extension ------------------------------------------------------------------

def test_delivery_records_the_day_and_starts_the_review_window(client, handler, replied):
    signed_in(client, handler)
    page = client.get(page_url(replied)).content.decode()
    assert 'data-action="deliver"' in page
    assert "Handed over in person" in client.get(step_url(replied, "deliver")).text
    today = timezone.localtime(timezone.now(), OFFICE_TZ).date()
    response = post_step(client, replied, "deliver",
                         {"delivered_on": today.isoformat(), "method": "in_person"}, follow=True)
    decision = Decision.objects.get(case=replied, kind=DecisionKind.REPLY)
    assert decision.delivered_on == today and decision.delivery_method == "in_person"
    assert Deadline.objects.filter(case=replied, kind=ClockKind.REVIEW_REQUEST).live().exists()
    assert CaseEvent.objects.filter(case=replied, kind=EventKind.DECISION_DELIVERED).exists()
    assert any(today.isoformat() in text for text in flash(response))


def test_an_extension_request_is_stored(client, handler, accepted):
    signed_in(client, handler)
    assert 'data-action="extension"' in client.get(page_url(accepted)).content.decode()
    response = post_step(client, accepted, "extension", {"days": "20", "reason": "需现场勘测"})
    assert response.status_code == 302
    extension = Extension.objects.get(case=accepted)
    assert extension.days == 20 and extension.status == ExtensionStatus.PENDING
    assert extension.requested_by == handler


# --- The case page and the languages -------------------------------------------------------

def test_the_case_page_links_each_step_to_its_form(client, handler, routed):
    signed_in(client, handler)
    html = client.get(page_url(routed)).content.decode()
    assert f'href="{step_url(routed, "sign")}"' in html
    assert f'href="{step_url(routed, "request_return")}"' in html
    assert "disabled data-step" not in html


def test_htmx_gets_the_form_alone(client, handler, routed):
    signed_in(client, handler)
    response = client.get(step_url(routed, "request_return"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="pd-step-form"' in response.text


def test_the_form_in_chinese_and_in_english(client, handler, accepted):
    chinese = signed_in(client, handler, "zh-hans").get(step_url(accepted, "reply")).text
    assert '<html lang="zh-hans">' in chinese and "书面答复</h1>" in chinese
    assert "支持" in chinese and "取消" in chinese
    english = signed_in(client, handler, "en").get(step_url(accepted, "reply")).text
    assert '<html lang="en">' in english and "Reply in writing</h1>" in english
    assert "Issue the written reply</button>" in english


def test_the_office_answers_or_refuses_at_the_desk(client, clerk, county):
    signed_in(client, clerk)
    answered, refused = CaseFactory(), CaseFactory()
    # an answer left empty is asked for again, at its field
    response = post_step(client, answered, "answer_on_spot", {"answer": "  "})
    assert '<a href="#id_answer">Write down the answer given on the spot.</a>' in response.text
    assert post_step(client, answered, "answer_on_spot", {"answer": "已当场解释政策"}
                     ).status_code == 302
    assert post_step(client, refused, "refuse", {"reason": "属诉讼事项", "channel": "court"}
                     ).status_code == 302
    answered.refresh_from_db()
    refused.refresh_from_db()
    assert answered.status == CaseStatus.ANSWERED and answered.spot_answer == "已当场解释政策"
    assert refused.status == CaseStatus.NOT_ACCEPTED and refused.diversion_channel == "court"


def test_the_review_is_requested_and_decided_by_the_level_above(client, handler, supervisor,
                                                                replied):
    # given the reply was delivered, so the review window runs
    signed_in(client, handler)
    today = timezone.localtime(timezone.now(), OFFICE_TZ).date()
    post_step(client, replied, "deliver", {"delivered_on": today, "method": "post"})
    signed_in(client, supervisor)
    assert post_step(client, replied, "request_review").status_code == 302
    # the deciding units offered are those above 城关镇, which replied
    form = client.get(step_url(replied, "decide_review")).text
    assert "清河县" in form and f'value="{demo_unit(TOWNSHIP).pk}"' not in form
    # without a deciding body the service's message comes back at the field
    fields = {**REPLY_FIELDS, "review_outcome": "upheld"}
    response = post_step(client, replied, "decide_review", fields)
    assert '<a href="#id_deciding_unit">Name the body that decided' in response.text
    response = post_step(client, replied, "decide_review",
                         {**fields, "deciding_unit": demo_unit("341122").pk})
    assert response.status_code == 302
    replied.refresh_from_db()
    assert replied.status == CaseStatus.REVIEWED
    review = Decision.objects.get(case=replied, kind=DecisionKind.REVIEW)
    assert review.unit == demo_unit("341122") and review.review_outcome == "upheld"
