"""Which clocks each step starts, meets and cancels (cases/services/step_clocks.py, issue 6).

Rule 1: the lead unit's acceptance notice counts from its own receipt, the routing.
Rule 2: no notice where the main petitioner's name or address is unclear (anonymous).
Rule 10: a window (a right, not a duty) that runs out closes as lapsed, never "met late".

Dates are in the office's zone and checked against chinesecalendar's 2026 data:
National Day 10-01..10-07, so a period whose last day falls there ends on 10-08, and
Sunday 09-20 is a make-up workday.
"""

from datetime import date, datetime

import pytest
from django.core.exceptions import ValidationError

from cases.choices import (
    CaseStatus,
    Channel,
    ClockKind,
    ClockStatus,
    DeliveryMethod,
    EventKind,
    IdType,
    NoNoticeReason,
    Purpose,
)
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import Case, CaseEvent, Deadline, DeadlineRule
from cases.services.decisions import decision_deliver
from cases.services.registration import CaseIntake, PetitionerInput, case_register
from cases.services.transitions import (
    case_accept,
    case_agree_return,
    case_answer_on_spot,
    case_close,
    case_refuse_return,
    case_reply,
    case_request_return,
    case_request_review,
    case_route,
    case_sign,
)
from cases.tests.factories import CaseFactory, CategoryFactory, demo_unit, valid_resident_id
from cases.tests.helpers import REPLY, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

OFFICE, TOWNSHIP, DEPARTMENT = "341122-D00", "341122100", "341122-D02"
RECEIVED = at("2026-09-01", 9)


def register(clerk, *, anonymous: bool = False) -> Case:
    """Register a one-person visit received on 2026-09-01 at the bureau."""
    if anonymous:
        person = PetitionerInput(name="", id_type=IdType.NONE, is_anonymous=True, is_main=True)
    else:
        person = PetitionerInput(name="张三", id_number=valid_resident_id(11),
                                 address="城关镇东关社区8号", is_main=True)
    intake = CaseIntake(channel=Channel.VISIT, received_at=RECEIVED, petitioners=[person],
                        purpose=Purpose.REMEDY, category=CategoryFactory(),
                        summary="征地补偿款未发放", demands="请求发放补偿款",
                        place_unit=demo_unit(TOWNSHIP))
    return case_register(actor=clerk, office=demo_unit(OFFICE), intake=intake)


def clocks(case: Case, kind: str) -> list[Deadline]:
    return list(Deadline.objects.filter(case=case, kind=kind).order_by("pk"))


def live(case: Case) -> set[str]:
    return set(Deadline.objects.filter(case=case).live().values_list("kind", flat=True))


def closing_events(deadline: Deadline) -> list[CaseEvent]:
    closing = [EventKind.CLOCK_MET, EventKind.CLOCK_CANCELLED, EventKind.CLOCK_LAPSED]
    return list(CaseEvent.objects.filter(case_id=deadline.case_id, kind__in=closing,
                                         details__deadline=deadline.pk))


# --- Rule 1: the acceptance notice counts from the unit's receipt ---------------------------

def test_registration_starts_only_the_routing_clock(clerk):
    # when a petition received on 09-01 is registered
    case = register(clerk)
    # then only the bureau's 15-day routing clock runs, from the day received
    assert live(case) == {ClockKind.ROUTING}
    (routing,) = clocks(case, ClockKind.ROUTING)
    assert (routing.starts_on, routing.due_on) == (date(2026, 9, 1), date(2026, 9, 16))
    assert clocks(case, ClockKind.ACCEPTANCE_NOTICE) == []


def test_the_notice_clock_starts_when_the_case_is_routed_not_when_it_was_received(clerk):
    # given a case received on 09-01
    case = register(clerk)
    # when the bureau routes it on day 14
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP), at=at("2026-09-15"))
    # then the bureau's routing clock is met in time
    (routing,) = clocks(case, ClockKind.ROUTING)
    assert routing.status == ClockStatus.MET
    (met,) = closing_events(routing)
    assert (met.kind, met.details["on_time"]) == (EventKind.CLOCK_MET, True)
    # and the unit's 15-day notice clock counts from the routing: due 09-30, not 09-16
    (notice,) = clocks(case, ClockKind.ACCEPTANCE_NOTICE)
    assert notice.status == ClockStatus.OPEN
    assert (notice.starts_on, notice.length, notice.due_on) == (
        date(2026, 9, 15), 15, date(2026, 9, 30))
    assert live(case) == {ClockKind.ACCEPTANCE_NOTICE, ClockKind.OBJECTION}


def test_an_agreed_return_cancels_the_notice_and_the_new_routing_starts_it_again(clerk, handler):
    # given a case routed on 09-15 whose unit objects in time
    case = register(clerk)
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP), at=at("2026-09-15"))
    case_request_return(case=case, actor=handler, reason="属县自然资源局职责", at=at("2026-09-16"))
    # when the bureau agrees on 09-17
    case_agree_return(case=case, actor=clerk, at=at("2026-09-17"))
    # then the returning unit owes no notice, and the bureau must route again from that day
    (first_notice,) = clocks(case, ClockKind.ACCEPTANCE_NOTICE)
    assert (first_notice.status, first_notice.closed_at) == (ClockStatus.CANCELLED, at("2026-09-17"))
    assert live(case) == {ClockKind.ROUTING}
    assert clocks(case, ClockKind.ROUTING)[-1].starts_on == date(2026, 9, 17)
    # when it is routed again on 09-22
    case_route(case=Case.objects.get(pk=case.pk), actor=clerk, lead_unit=demo_unit(DEPARTMENT),
               at=at("2026-09-22"))
    # then the new unit's notice counts from 09-22; its 15th day is in the National Day
    # holiday, so it ends on the first working day after it
    first, second = clocks(case, ClockKind.ACCEPTANCE_NOTICE)
    assert first.pk == first_notice.pk and first.status == ClockStatus.CANCELLED
    assert (second.status, second.starts_on, second.due_on) == (
        ClockStatus.OPEN, date(2026, 9, 22), date(2026, 10, 8))


def test_a_refused_return_keeps_the_notice_running_from_the_first_routing(clerk, handler):
    # given a case routed on 09-15 whose unit asks to return it
    case = register(clerk)
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP), at=at("2026-09-15"))
    case_request_return(case=case, actor=handler, reason="不属本单位职责", at=at("2026-09-16"))
    # when the bureau refuses the return
    case_refuse_return(case=case, actor=clerk, at=at("2026-09-17"))
    # then the unit still owes the notice counted from the routing
    (notice,) = clocks(case, ClockKind.ACCEPTANCE_NOTICE)
    assert (notice.status, notice.starts_on, notice.due_on) == (
        ClockStatus.OPEN, date(2026, 9, 15), date(2026, 9, 30))


def test_an_answer_on_the_spot_meets_the_routing_clock_and_owes_no_notice(clerk):
    # given a registered case
    case = register(clerk)
    # when the bureau answers it on the spot
    case_answer_on_spot(case=case, actor=clerk, answer="已当场解答政策", at=at("2026-09-02"))
    # then its routing clock covers it: met, and no notice clock ever ran
    assert [c.status for c in clocks(case, ClockKind.ROUTING)] == [ClockStatus.MET]
    assert clocks(case, ClockKind.ACCEPTANCE_NOTICE) == []


# --- Rule 2: no notice where name or address is unclear ----------------------------------------

def test_a_named_petitioner_is_owed_a_notice(clerk):
    case = register(clerk)
    assert Case.objects.get(pk=case.pk).no_notice_reason == ""


def test_an_anonymous_petitioner_gets_no_notice_clock_and_the_case_is_still_accepted(
        clerk, handler):
    # when a petition with an anonymous main petitioner is registered
    case = register(clerk, anonymous=True)
    # then the case records why no notice is due, and the registration event says so
    assert Case.objects.get(pk=case.pk).no_notice_reason == NoNoticeReason.IDENTITY_UNCLEAR
    registered = CaseEvent.objects.get(case=case, kind=EventKind.REGISTERED)
    assert registered.details["no_notice_reason"] == "identity_unclear"
    # when it is routed, the objection window opens but no notice clock starts
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP), at=at("2026-09-15"))
    assert live(case) == {ClockKind.OBJECTION}
    assert clocks(case, ClockKind.ACCEPTANCE_NOTICE) == []
    # and the unit can still sign for and accept it, which starts the reply clock
    case_sign(case=case, actor=handler, at=at("2026-09-16"))
    case_accept(case=case, actor=handler, at=at("2026-09-17"))
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED
    assert live(case) == {ClockKind.REPLY}
    assert clocks(case, ClockKind.ACCEPTANCE_NOTICE) == []


# --- Rule 10: windows lapse; duties are met late ----------------------------------------------

def test_the_three_request_windows_are_windows_and_the_duties_are_not(db):
    windows = set(DeadlineRule.objects.filter(is_window=True).values_list("kind", flat=True))
    assert windows == {ClockKind.OBJECTION, ClockKind.REVIEW_REQUEST,
                       ClockKind.REREVIEW_REQUEST, ClockKind.CONFIRMATION}
    duties = set(DeadlineRule.objects.filter(is_window=False).values_list("kind", flat=True))
    assert duties == {ClockKind.ROUTING, ClockKind.ACCEPTANCE_NOTICE, ClockKind.REPLY,
                      ClockKind.REVIEW_DECISION, ClockKind.REREVIEW_DECISION,
                      ClockKind.SUPERVISION, ClockKind.FOLLOW_UP, ClockKind.FOLLOW_UP_DECISION,
                      ClockKind.REPORT_ACK, ClockKind.REPORT_SETTLE, ClockKind.MEDIATION,
                      ClockKind.PERFORMANCE}


def test_signing_after_the_objection_window_ran_out_lapses_the_window(clerk, handler):
    # given a case routed on Tuesday 09-15: 5 working days, counting Sunday 09-20 (a
    # make-up workday), so until the end of 09-21
    case = register(clerk)
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP), at=at("2026-09-15"))
    (window,) = clocks(case, ClockKind.OBJECTION)
    assert (window.is_window, window.due_on) == (True, date(2026, 9, 21))
    # when the unit signs for it on 09-24, the right to object unused
    case_sign(case=case, actor=handler, at=at("2026-09-24"))
    # then the window closed as lapsed, with a CLOCK_LAPSED event and no CLOCK_MET
    window.refresh_from_db()
    assert (window.status, window.closed_at) == (ClockStatus.LAPSED, at("2026-09-24"))
    (event,) = closing_events(window)
    assert (event.kind, event.actor, event.details["on_time"]) == (
        EventKind.CLOCK_LAPSED, handler, False)


def test_signing_inside_the_objection_window_meets_it(clerk, handler):
    case = register(clerk)
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP), at=at("2026-09-15"))
    case_sign(case=case, actor=handler, at=at("2026-09-21", 23))
    (window,) = clocks(case, ClockKind.OBJECTION)
    assert window.status == ClockStatus.MET
    assert [e.kind for e in closing_events(window)] == [EventKind.CLOCK_MET]


def test_closing_after_the_review_window_lapsed_records_the_window_as_lapsed(handler):
    # given a reply delivered on 09-01: the review window runs to 10-01, a holiday, so 10-08
    case = CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(TOWNSHIP),
                       place_unit=demo_unit(TOWNSHIP), received_at=at("2026-07-01"))
    reply = case_reply(case=case, actor=handler, decision=REPLY, at=at("2026-08-28"))
    decision_deliver(decision=reply, actor=handler, delivered_on=date(2026, 9, 1),
                     method=DeliveryMethod.IN_PERSON, at=at("2026-09-01", 15))
    (window,) = clocks(case, ClockKind.REVIEW_REQUEST)
    assert (window.is_window, window.due_on) == (True, date(2026, 10, 8))
    # when the case is closed after that, no review having been asked for
    case_close(case=Case.objects.get(pk=case.pk), actor=handler, at=at("2026-10-12"))
    # then the window is lapsed, not cancelled, and the case is closed
    window.refresh_from_db()
    assert window.status == ClockStatus.LAPSED
    assert [e.kind for e in closing_events(window)] == [EventKind.CLOCK_LAPSED]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED


# A period ends at 24:00 of its last day (民法典 Art. 203(2)): ``due_at``. From that instant
# the selectors treat a window as run out (``_window_open``: at < due_at), so the clock
# must close as lapsed from that instant too.

def test_closing_at_the_instant_the_review_window_ends_records_it_as_lapsed(handler, supervisor):
    # given a review window that ends at 24:00 on 10-08
    case = CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(TOWNSHIP),
                       place_unit=demo_unit(TOWNSHIP), received_at=at("2026-07-01"))
    reply = case_reply(case=case, actor=handler, decision=REPLY, at=at("2026-08-28"))
    decision_deliver(decision=reply, actor=handler, delivered_on=date(2026, 9, 1),
                     method=DeliveryMethod.IN_PERSON, at=at("2026-09-01", 15))
    (window,) = clocks(case, ClockKind.REVIEW_REQUEST)
    end = window.due_at
    assert end == datetime(2026, 10, 9, 0, 0, tzinfo=OFFICE_TZ)
    # then at that instant the petitioner can no longer ask: the window has run out
    with pytest.raises(ValidationError) as caught:
        case_request_review(case=case, actor=supervisor, at=end)
    assert caught.value.code == "request_window_closed"
    # when the case is closed at that instant, as it now may be
    case_close(case=Case.objects.get(pk=case.pk), actor=handler, at=end)
    # then the window that ran out unused is lapsed, not cancelled
    window.refresh_from_db()
    assert window.status == ClockStatus.LAPSED
    assert [e.kind for e in closing_events(window)] == [EventKind.CLOCK_LAPSED]


def test_signing_at_the_instant_the_objection_window_ends_lapses_it(clerk, handler):
    # given an objection window that ends at 24:00 on 09-21
    case = register(clerk)
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP), at=at("2026-09-15"))
    (window,) = clocks(case, ClockKind.OBJECTION)
    end = window.due_at
    assert end == datetime(2026, 9, 22, 0, 0, tzinfo=OFFICE_TZ)
    # then at that instant a return can no longer be asked for
    with pytest.raises(ValidationError) as caught:
        case_request_return(case=case, actor=handler, reason="不属本单位职责", at=end)
    assert caught.value.code == "objection_window_closed"
    # when the unit signs for it at that instant
    case_sign(case=Case.objects.get(pk=case.pk), actor=handler, at=end)
    # then the right to object ran out unused: lapsed, not met
    window.refresh_from_db()
    assert window.status == ClockStatus.LAPSED
    assert [e.kind for e in closing_events(window)] == [EventKind.CLOCK_LAPSED]

def test_a_duty_met_late_is_met_not_lapsed(clerk):
    # given a case received on 09-01, whose routing clock runs to the end of 09-16
    case = register(clerk)
    # when the bureau routes it on 09-21, late
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP), at=at("2026-09-21"))
    # then the routing clock is met, late: a duty does not lapse
    (routing,) = clocks(case, ClockKind.ROUTING)
    assert (routing.is_window, routing.status) == (False, ClockStatus.MET)
    (event,) = closing_events(routing)
    assert (event.kind, event.details["on_time"]) == (EventKind.CLOCK_MET, False)
