"""Written decisions: the deciding body, delivery and revocation (cases/services/decisions.py).

Rule 4: review and re-review are decided by the level above; the reply's issuer does not
record its review.
Rule 5: the review and re-review request windows start at delivery (送达), not at issue.
Rule 6: "revoked, to be handled again" sends the case back with a fresh reply clock.
Rule 3 (part): a revoked case runs a new reply clock, which may be extended once more.

The walk: accepted on 08-03, replied on 08-20, delivered on 09-01, review asked for
on 09-10 and decided on 09-20, delivered on 09-22, re-review asked for on 10-12 (2026,
office zone). National Day 10-01..10-07 moves a last day falling there to 10-08.
"""

from dataclasses import replace
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.choices import Role
from accounts.models import RoleAssignment, User
from accounts.permissions import Action, can
from accounts.tests.factories import UserFactory
from cases.choices import (
    CaseStatus,
    ClockKind,
    ClockStatus,
    DecisionKind,
    DeliveryMethod,
    EventKind,
    ExtensionStatus,
    ReviewOutcome,
)
from cases.models import Case, CaseEvent, Deadline, Decision, Extension
from cases.services.decisions import decision_deliver
from cases.services.errors import TransitionRefused
from cases.services.extensions import extension_decide, extension_request
from cases.services.transitions import (
    DecisionInput,
    case_accept,
    case_close,
    case_decide_rereview,
    case_decide_review,
    case_reply,
    case_request_rereview,
    case_request_review,
)
from cases.tests.factories import CaseFactory, demo_unit
from cases.tests.helpers import REPLY, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

COUNTY, OFFICE, TOWNSHIP = "341122", "341122-D00", "341122100"
CITY_BUREAU = "某市信访局"


def review(outcome: str = ReviewOutcome.UPHELD, *, unit_code: str | None = COUNTY,
           body_name: str = "") -> DecisionInput:
    """A review-level decision naming its deciding unit (by code) or a body outside."""
    return replace(REPLY, review_outcome=outcome, body_name=body_name,
                   deciding_unit=demo_unit(unit_code) if unit_code else None)


@pytest.fixture
def bureau_head(county) -> User:
    """The head of the county petition bureau, which records review decisions."""
    user = UserFactory(username="bureau_head", name="钱局长")
    RoleAssignment.objects.create(user=user, role=Role.UNIT_HEAD, unit=demo_unit(OFFICE))
    return user


def accepted(handler) -> Case:
    """A case led by 城关镇, accepted on 08-03: its 60-day reply clock runs."""
    case = CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit(TOWNSHIP),
                       place_unit=demo_unit(TOWNSHIP), received_at=at("2026-07-20"))
    return case_accept(case=case, actor=handler, at=at("2026-08-03"))


def replied(handler, issuer=None) -> tuple[Case, Decision]:
    """The case replied on 08-20 (by ``issuer``, else the handler), not yet delivered."""
    case = accepted(handler)
    reply = case_reply(case=case, actor=issuer or handler, decision=REPLY, at=at("2026-08-20"))
    return case, reply


def review_requested(handler, supervisor, issuer=None) -> Case:
    """The reply delivered on 09-01 and a review asked for on 09-10."""
    case, reply = replied(handler, issuer)
    decision_deliver(decision=reply, actor=handler, delivered_on=date(2026, 9, 1),
                     method=DeliveryMethod.POST, at=at("2026-09-02"))
    case_request_review(case=case, actor=supervisor, at=at("2026-09-10"))
    return case


def rereview_requested(handler, supervisor) -> Case:
    """The county upheld the reply on 09-20 (recorded by the supervisor), delivered on 09-22;
    a re-review asked for on 10-12."""
    case = review_requested(handler, supervisor)
    decided = case_decide_review(case=case, actor=supervisor, decision=review(), at=at("2026-09-20"))
    decision_deliver(decision=decided, actor=supervisor, delivered_on=date(2026, 9, 22),
                     method=DeliveryMethod.IN_PERSON, at=at("2026-09-22", 15))
    case_request_rereview(case=case, actor=supervisor, at=at("2026-10-12"))
    return case


def live(case: Case) -> set[str]:
    return set(Deadline.objects.filter(case=case).live().values_list("kind", flat=True))


def clock(case: Case, kind: str) -> Deadline:
    return Deadline.objects.filter(case=case, kind=kind).latest("pk")


def status(case: Case) -> str:
    return Case.objects.get(pk=case.pk).status


# --- Rule 4: the level above decides ---------------------------------------------------------

def test_a_review_of_a_township_reply_stores_the_county_as_its_deciding_unit(
        handler, supervisor):
    # given a township's reply under review
    case = review_requested(handler, supervisor)
    # when the county, the level above, upholds it
    row = case_decide_review(case=case, actor=supervisor, decision=review(), at=at("2026-09-20"))
    # then the decision names the county, and so does the audit trail
    row.refresh_from_db()
    assert (row.kind, row.unit, row.body_name) == (DecisionKind.REVIEW, demo_unit(COUNTY), "")
    assert row.deciding_body == "清河县"
    assert status(case) == CaseStatus.REVIEWED
    event = CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION).latest("pk")
    assert (event.details["step"], event.details["deciding_body"]) == ("decide_review", "清河县")


@pytest.mark.parametrize("code", [
    TOWNSHIP,  # the unit that replied
    "341122100001",  # a village under it
    "341122101",  # a sibling township
    OFFICE,  # the petition bureau: a department beside the township, not above it
])
def test_a_review_by_a_unit_not_above_the_replying_unit_is_refused(handler, supervisor, code):
    # given a township's reply under review
    case = review_requested(handler, supervisor)
    # when the review names a unit that is not a proper ancestor of the township
    with pytest.raises(ValidationError) as caught:
        case_decide_review(case=case, actor=supervisor, decision=review(unit_code=code),
                           at=at("2026-09-20"))
    # then it is refused and nothing is recorded
    assert caught.value.code == "deciding_body"
    assert status(case) == CaseStatus.REVIEW_REQUESTED
    assert not Decision.objects.filter(case=case, kind=DecisionKind.REVIEW).exists()


def test_a_name_is_refused_where_the_level_above_is_in_the_tree(handler, supervisor):
    # given a township's reply: the level above, the county, is in this installation
    case = review_requested(handler, supervisor)
    # when the review names a body instead of choosing the county
    with pytest.raises(ValidationError) as caught:
        case_decide_review(case=case, actor=supervisor,
                           decision=review(unit_code=None, body_name=CITY_BUREAU), at=at("2026-09-20"))
    # then it is refused
    assert caught.value.code == "deciding_body"
    assert not Decision.objects.filter(case=case, kind=DecisionKind.REVIEW).exists()


def test_a_rereview_after_a_county_review_names_the_body_above_the_county(
        handler, supervisor, bureau_head):
    # given a review decided by the county, the top of this installation
    case = rereview_requested(handler, supervisor)
    # when the re-review is recorded as decided by the city's bureau
    row = case_decide_rereview(case=case, actor=bureau_head,
                               decision=review(unit_code=None, body_name=CITY_BUREAU),
                               at=at("2026-10-20"))
    # then the name is stored, with no unit, and the matter is final
    row.refresh_from_db()
    assert (row.kind, row.unit, row.body_name) == (DecisionKind.REREVIEW, None, CITY_BUREAU)
    assert status(case) == CaseStatus.FINAL


def test_a_rereview_cannot_be_decided_by_the_county_that_reviewed(
        handler, supervisor, bureau_head):
    case = rereview_requested(handler, supervisor)
    with pytest.raises(ValidationError) as caught:
        case_decide_rereview(case=case, actor=bureau_head, decision=review(unit_code=COUNTY),
                             at=at("2026-10-20"))
    assert caught.value.code == "deciding_body"
    assert status(case) == CaseStatus.REREVIEW_REQUESTED


def test_the_person_who_issued_the_reply_cannot_record_its_review(handler, supervisor):
    # given a county head, who may both handle the township's case and record reviews,
    # and who issued the reply
    county_head = UserFactory(username="county_head", name="孙县长")
    RoleAssignment.objects.create(user=county_head, role=Role.UNIT_HEAD, unit=demo_unit(COUNTY))
    case = review_requested(handler, supervisor, issuer=county_head)
    assert can(county_head, Action.CASE_REVIEW, case)
    # when they try to record the review of their own reply
    with pytest.raises(PermissionDenied):
        case_decide_review(case=case, actor=county_head, decision=review(), at=at("2026-09-20"))
    # then nothing is recorded; someone else can record it
    assert status(case) == CaseStatus.REVIEW_REQUESTED
    assert not Decision.objects.filter(case=case, kind=DecisionKind.REVIEW).exists()
    case_decide_review(case=Case.objects.get(pk=case.pk), actor=supervisor, decision=review(),
                       at=at("2026-09-20"))
    assert status(case) == CaseStatus.REVIEWED


def test_the_office_member_who_recorded_the_review_may_record_the_rereview(
        handler, supervisor):
    # given a review recorded by the supervisor for the county (the separation the law
    # asks for is from the unit that replied, not between two records of the office)
    case = rereview_requested(handler, supervisor)
    # when the same supervisor records the city's re-review
    case_decide_rereview(case=case, actor=supervisor,
                         decision=review(unit_code=None, body_name=CITY_BUREAU),
                         at=at("2026-10-20"))
    # then it is recorded
    assert status(case) == CaseStatus.FINAL
    rereview = Decision.objects.get(case=case, kind=DecisionKind.REREVIEW)
    assert (rereview.issued_by, rereview.body_name) == (supervisor, CITY_BUREAU)


@pytest.mark.parametrize(("username", "allowed"), [
    ("supervisor", True), ("bureau_head", True),
    ("clerk", False), ("handler", False), ("head", False), ("leader", False),
    ("grid", False), ("mediator", False), ("admin", False),
])
def test_who_records_a_review_is_the_permission_tables_answer(
        demo_users, bureau_head, handler, supervisor, username, allowed):
    # given a township's reply under review
    case = review_requested(handler, supervisor)
    user = bureau_head if username == "bureau_head" else demo_users[username]
    # then CASE_REVIEW says who may record the decision, and the service agrees
    assert can(user, Action.CASE_REVIEW, case) is allowed
    if allowed:
        case_decide_review(case=case, actor=user, decision=review(), at=at("2026-09-20"))
        assert status(case) == CaseStatus.REVIEWED
    else:
        with pytest.raises(PermissionDenied):
            case_decide_review(case=case, actor=user, decision=review(), at=at("2026-09-20"))
        assert status(case) == CaseStatus.REVIEW_REQUESTED


# --- Rule 5: the request windows start at delivery --------------------------------------------

def test_until_the_reply_is_delivered_no_review_can_be_asked_for_and_the_case_not_closed(
        handler, supervisor):
    # given a reply issued on 08-20 and not yet delivered
    case, _reply = replied(handler)
    # then no review request window runs
    assert live(case) == set()
    assert not Deadline.objects.filter(case=case, kind=ClockKind.REVIEW_REQUEST).exists()
    # and a review request is refused as not delivered, even months later
    with pytest.raises(ValidationError) as caught:
        case_request_review(case=case, actor=supervisor, at=at("2026-11-20"))
    assert caught.value.code == "not_delivered"
    # and so is closing the case
    with pytest.raises(ValidationError) as caught:
        case_close(case=case, actor=handler, at=at("2026-11-20"))
    assert caught.value.code == "not_delivered"
    assert status(case) == CaseStatus.REPLIED


def test_the_delivery_starts_the_review_window_on_the_day_of_delivery(handler, supervisor):
    # given a reply issued on 08-20
    case, reply = replied(handler)
    # when its delivery on 09-01 is recorded the next day
    decision_deliver(decision=reply, actor=handler, delivered_on=date(2026, 9, 1),
                     method=DeliveryMethod.POST, at=at("2026-09-02"))
    # then the decision says when and how it was received, and by whom it was recorded
    reply.refresh_from_db()
    assert (reply.delivered_on, reply.delivery_method, reply.delivery_recorded_by) == (
        date(2026, 9, 1), DeliveryMethod.POST, handler)
    # and the 30-day window starts on that day (not counted): 10-01 is a holiday, so 10-08
    window = clock(case, ClockKind.REVIEW_REQUEST)
    assert (window.status, window.starts_on, window.length, window.due_on) == (
        ClockStatus.OPEN, date(2026, 9, 1), 30, date(2026, 10, 8))
    # and one DECISION_DELIVERED event records it
    (event,) = CaseEvent.objects.filter(case=case, kind=EventKind.DECISION_DELIVERED)
    assert event.actor == handler
    assert event.details == {"decision": reply.pk, "kind": DecisionKind.REPLY,
                             "delivered_on": "2026-09-01", "method": DeliveryMethod.POST}
    # and a review may now be asked for
    case_request_review(case=case, actor=supervisor, at=at("2026-09-10"))
    assert status(case) == CaseStatus.REVIEW_REQUESTED


def test_a_delivery_on_the_day_of_issue_is_accepted(handler):
    case, reply = replied(handler)
    decision_deliver(decision=reply, actor=handler, delivered_on=date(2026, 8, 20),
                     method=DeliveryMethod.IN_PERSON, at=at("2026-08-20", 16))
    assert clock(case, ClockKind.REVIEW_REQUEST).starts_on == date(2026, 8, 20)


@pytest.mark.parametrize("delivered_on", [
    date(2026, 8, 19),  # before the reply was issued (08-20)
    date(2026, 9, 3),  # after the day the delivery is recorded (09-02): in the future
])
def test_a_delivery_before_issue_or_in_the_future_is_refused(handler, delivered_on):
    # given a reply issued on 08-20
    case, reply = replied(handler)
    # when a delivery day outside [issue day, today] is recorded on 09-02
    with pytest.raises(ValidationError) as caught:
        decision_deliver(decision=reply, actor=handler, delivered_on=delivered_on,
                         method=DeliveryMethod.POST, at=at("2026-09-02"))
    # then it is refused and no window starts
    assert caught.value.code == "delivered_on"
    reply.refresh_from_db()
    assert reply.delivered_on is None
    assert live(case) == set()
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.DECISION_DELIVERED).exists()


def test_a_delivery_is_recorded_once(handler):
    # given a reply whose delivery on 09-01 is recorded
    case, reply = replied(handler)
    decision_deliver(decision=reply, actor=handler, delivered_on=date(2026, 9, 1),
                     method=DeliveryMethod.POST, at=at("2026-09-02"))
    # when a second delivery is recorded
    with pytest.raises(ValidationError) as caught:
        decision_deliver(decision=reply, actor=handler, delivered_on=date(2026, 9, 3),
                         method=DeliveryMethod.IN_PERSON, at=at("2026-09-04"))
    # then it is refused; the first day stands and the window did not move
    assert caught.value.code == "delivered"
    reply.refresh_from_db()
    assert reply.delivered_on == date(2026, 9, 1)
    assert clock(case, ClockKind.REVIEW_REQUEST).starts_on == date(2026, 9, 1)
    assert CaseEvent.objects.filter(case=case, kind=EventKind.DECISION_DELIVERED).count() == 1


def test_the_rereview_window_starts_at_the_delivery_of_the_review_decision(handler, supervisor):
    # given a review decided on 09-20 and not yet delivered
    case = review_requested(handler, supervisor)
    decided = case_decide_review(case=case, actor=supervisor, decision=review(), at=at("2026-09-20"))
    assert live(case) == set()
    # then neither a re-review request nor closing is possible yet
    with pytest.raises(ValidationError) as caught:
        case_request_rereview(case=case, actor=supervisor, at=at("2026-10-12"))
    assert caught.value.code == "not_delivered"
    with pytest.raises(ValidationError) as caught:
        case_close(case=case, actor=handler, at=at("2026-11-25"))
    assert caught.value.code == "not_delivered"
    # when its delivery on 09-22 is recorded
    decision_deliver(decision=decided, actor=supervisor, delivered_on=date(2026, 9, 22),
                     method=DeliveryMethod.IN_PERSON, at=at("2026-09-22", 15))
    # then the 30-day re-review window runs from that day
    window = clock(case, ClockKind.REREVIEW_REQUEST)
    assert (window.starts_on, window.due_on) == (date(2026, 9, 22), date(2026, 10, 22))
    assert live(case) == {ClockKind.REREVIEW_REQUEST}


# --- Rule 6: revoked, to be handled again ------------------------------------------------------

def test_a_review_that_revokes_sends_the_case_back_with_a_fresh_reply_clock(
        handler, supervisor):
    # given a township's reply under review
    case = review_requested(handler, supervisor)
    (first_reply,) = Decision.objects.filter(case=case, kind=DecisionKind.REPLY)
    # when the county revokes it on 09-20, to be handled again
    revoking = case_decide_review(case=case, actor=supervisor,
                                  decision=review(ReviewOutcome.REVOKED), at=at("2026-09-20"))
    # then the township handles it again, with a new 60-day reply clock from that day
    assert status(case) == CaseStatus.IN_HANDLING
    assert live(case) == {ClockKind.REPLY}
    fresh = clock(case, ClockKind.REPLY)
    assert (fresh.starts_on, fresh.length, fresh.extension_days, fresh.due_on) == (
        date(2026, 9, 20), 60, 0, date(2026, 11, 19))
    assert Deadline.objects.filter(case=case, kind=ClockKind.REPLY).count() == 2
    # and delivering the revoking decision opens no re-review window
    decision_deliver(decision=revoking, actor=supervisor, delivered_on=date(2026, 9, 22),
                     method=DeliveryMethod.POST, at=at("2026-09-22", 15))
    assert live(case) == {ClockKind.REPLY}
    assert not Deadline.objects.filter(case=case, kind=ClockKind.REREVIEW_REQUEST).exists()
    with pytest.raises(TransitionRefused):
        case_request_rereview(case=case, actor=supervisor, at=at("2026-10-12"))
    # when the township replies again on 10-15
    second_reply = case_reply(case=case, actor=handler, decision=REPLY, at=at("2026-10-15"))
    # then both replies are kept; the first is superseded by the second
    first_reply.refresh_from_db()
    assert first_reply.superseded_at == at("2026-10-15")
    assert Decision.objects.filter(case=case, kind=DecisionKind.REPLY).count() == 2
    assert second_reply.superseded_at is None
    event = CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION).latest("pk")
    assert (event.details["step"], event.details["superseded"]) == ("reply", first_reply.pk)
    assert clock(case, ClockKind.REPLY).status == ClockStatus.MET


def test_a_rereview_that_revokes_sends_the_case_back_too(handler, supervisor, bureau_head):
    # given a re-review asked for after the county upheld the reply
    case = rereview_requested(handler, supervisor)
    # when the city's bureau revokes, to be handled again
    revoking = case_decide_rereview(
        case=case, actor=bureau_head,
        decision=review(ReviewOutcome.REVOKED, unit_code=None, body_name=CITY_BUREAU),
        at=at("2026-10-20"))
    # then the matter is not final: it is handled again with a fresh reply clock
    row = Case.objects.get(pk=case.pk)
    assert (row.status, row.closed_at) == (CaseStatus.IN_HANDLING, None)
    assert live(case) == {ClockKind.REPLY}
    assert clock(case, ClockKind.REPLY).starts_on == date(2026, 10, 20)
    # and its delivery opens no window
    decision_deliver(decision=revoking, actor=bureau_head, delivered_on=date(2026, 10, 21),
                     method=DeliveryMethod.POST, at=at("2026-10-21", 15))
    assert live(case) == {ClockKind.REPLY}
    # and the new reply supersedes the first, which is kept
    case_reply(case=row, actor=handler, decision=REPLY, at=at("2026-11-10"))
    replies = list(Decision.objects.filter(case=case, kind=DecisionKind.REPLY).order_by("pk"))
    assert [r.superseded_at for r in replies] == [at("2026-11-10"), None]


def test_a_revoked_case_may_be_extended_once_more(handler, head, supervisor):
    # given a first round of handling whose reply clock was extended once
    case = accepted(handler)
    first = extension_request(case=case, actor=handler, days=10, reason="需现场测量", at=at("2026-08-10"))
    extension_decide(extension=first, actor=head, approve=True, at=at("2026-08-11"))
    with pytest.raises(ValidationError) as caught:
        extension_request(case=case, actor=handler, days=5, reason="再次延期", at=at("2026-08-12"))
    assert caught.value.code == "once"
    reply = case_reply(case=case, actor=handler, decision=REPLY, at=at("2026-08-20"))
    decision_deliver(decision=reply, actor=handler, delivered_on=date(2026, 9, 1),
                     method=DeliveryMethod.POST, at=at("2026-09-02"))
    case_request_review(case=case, actor=supervisor, at=at("2026-09-10"))
    # when a review revokes the reply and the case is handled again
    case_decide_review(case=case, actor=supervisor, decision=review(ReviewOutcome.REVOKED),
                       at=at("2026-09-20"))
    # then the new round's reply clock takes its own extension
    second = extension_request(case=case, actor=handler, days=20, reason="需重新调查",
                               at=at("2026-09-25"))
    extension_decide(extension=second, actor=head, approve=True, at=at("2026-09-26"))
    second.refresh_from_db()
    assert second.status == ExtensionStatus.APPROVED
    assert second.deadline == clock(case, ClockKind.REPLY) != first.deadline
    assert clock(case, ClockKind.REPLY).extension_days == 20
    assert Extension.objects.filter(case=case, status=ExtensionStatus.APPROVED).count() == 2
