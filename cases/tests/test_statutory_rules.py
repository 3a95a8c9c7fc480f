"""The statutory rules of issue 6 that live outside the clocks and the decisions.

Rule 3: extensions (R22 Art.34) — only while the period runs, approved by another head of
the handling unit, counted from the moved last day, once per round of handling.
Rule 7: accusations (R22 Art.30) never reach the accused, nor does the accuser's identity.
Rule 8: a repeat of a final matter without new facts is registered and refused (Art.36).
Rule 9: the legal minimum of a registration (Art.19).
Rule 11: four 包 duties, "settled for good" among them.
Rule 12: the references of a registration and the leader stay in the county (Art.22).
And the audit rows keep the old value beside the new one.

The other rules are in test_step_clocks.py (1, 2, 10) and test_decisions.py (4, 5, 6).
Dates are 2026 in the office's zone: National Day 10-01..10-07, Sat 11-07 a weekend.
"""

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit, RoleAssignment, User
from accounts.permissions import Action, can
from accounts.tests.factories import UserFactory
from cases.choices import (
    CaseStatus,
    Channel,
    ClockKind,
    DeliveryMethod,
    EventKind,
    ExtensionStatus,
    IdType,
    Purpose,
)
from cases.deadlines.clocks import OFFICE_TZ, office_calendar
from cases.models import Case, CaseEvent, Deadline, Extension, Leadership
from cases.services.decisions import decision_deliver
from cases.services.extensions import extension_decide, extension_request
from cases.services.leadership import case_assign_leader, leadership_mark_duty
from cases.services.privacy import case_identity_reveal, petitioner_view_for
from cases.services.registration import CaseIntake, PetitionerInput, case_register
from cases.services.transitions import (
    case_accept,
    case_close,
    case_reopen,
    case_reply,
    case_route,
)
from cases.tests.factories import (
    CaseFactory,
    CasePetitionerFactory,
    CategoryFactory,
    demo_unit,
    valid_resident_id,
)
from cases.tests.helpers import REPLY, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

COUNTY, OFFICE, TOWNSHIP, VILLAGE = "341122", "341122-D00", "341122100", "341122100001"
OTHER_TOWNSHIP = "341122101"


def user_with(username: str, *roles: tuple[str, str]) -> User:
    """A user holding each (role, unit code)."""
    user = UserFactory(username=username)
    for role, code in roles:
        RoleAssignment.objects.create(user=user, role=role, unit=OrgUnit.objects.get(code=code))
    return user


def reply_clock(case: Case) -> Deadline:
    return Deadline.objects.filter(case=case, kind=ClockKind.REPLY).latest("pk")


# --- Rule 3: extensions ------------------------------------------------------------------------

@pytest.fixture
def case(handler) -> Case:
    """A case of 城关镇 accepted on 08-02: day 60 is 10-01, National Day, so the reply is
    due at the end of 10-08, the first working day after the holiday."""
    case = CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit(TOWNSHIP),
                       place_unit=demo_unit(TOWNSHIP), received_at=at("2026-07-20"))
    case_accept(case=case, actor=handler, at=at("2026-08-02"))
    assert reply_clock(case).due_on == date(2026, 10, 8)
    return case


@pytest.fixture
def second_head(county) -> User:
    """Another head of 城关镇, the handling unit."""
    return user_with("head2", (Role.UNIT_HEAD, TOWNSHIP))


def test_an_extension_counts_from_the_moved_last_day_not_ninety_days_from_the_start(
        case, handler, head):
    # given the reply period of 60 days from 08-02, moved by the holiday to 10-08
    extension = extension_request(case=case, actor=handler, days=30, reason="需现场测量",
                                  at=at("2026-09-20"))
    # when the head approves 30 more days
    extension_decide(extension=extension, actor=head, approve=True, at=at("2026-09-21"))
    # then they run from 10-08: 11-07 is a Saturday, so the reply is due on Monday 11-09
    clock = reply_clock(case)
    assert (clock.extension_days, clock.due_on) == (30, date(2026, 11, 9))
    assert clock.due_at == datetime(2026, 11, 10, tzinfo=OFFICE_TZ)
    # which is not what 90 days from the start would give (10-31, a Saturday, so 11-02)
    ninety = office_calendar().due_date(date(2026, 8, 2), 90, "calendar").due
    assert ninety == date(2026, 11, 2) != clock.due_on
    # and the audit row keeps the old due day beside the new one
    (event,) = CaseEvent.objects.filter(case=case, kind=EventKind.CLOCK_RECOMPUTED)
    assert (event.details["old_due"], event.details["new_due"]) == ("2026-10-08", "2026-11-09")
    assert (event.details["cause"], event.details["extension_days"]) == ("extension", 30)


def test_no_extension_is_asked_for_once_the_reply_period_ran_out(case, handler):
    # given a reply period that ended at 24:00 on 10-08
    late = reply_clock(case).due_at + timedelta(minutes=1)
    # when the handler asks for an extension just after
    with pytest.raises(ValidationError) as caught:
        extension_request(case=case, actor=handler, days=10, reason="材料未齐", at=late)
    # then it is refused
    assert caught.value.code == "period_over"
    assert not Extension.objects.exists()


def test_no_extension_is_approved_once_the_reply_period_ran_out(case, handler, head):
    # given an extension asked for in time
    extension = extension_request(case=case, actor=handler, days=10, reason="材料未齐",
                                  at=at("2026-10-08", 9))
    # when the head approves it after the period ended
    late = reply_clock(case).due_at + timedelta(minutes=1)
    with pytest.raises(ValidationError) as caught:
        extension_decide(extension=extension, actor=head, approve=True, at=late)
    # then it is refused: the extension stays pending and the due day stays
    assert caught.value.code == "period_over"
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING
    assert (reply_clock(case).extension_days, reply_clock(case).due_on) == (0, date(2026, 10, 8))


def test_a_head_who_asked_cannot_approve_their_own_extension(case, head, second_head):
    # given an extension asked for by a head of the handling unit
    extension = extension_request(case=case, actor=head, days=15, reason="需多部门会商",
                                  at=at("2026-09-20"))
    # when that head tries to approve it, it is refused
    with pytest.raises(PermissionDenied):
        extension_decide(extension=extension, actor=head, approve=True, at=at("2026-09-21"))
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING
    assert reply_clock(case).extension_days == 0
    # and another head of the same unit approves it
    extension_decide(extension=extension, actor=second_head, approve=True, at=at("2026-09-21"))
    extension.refresh_from_db()
    assert (extension.status, extension.decided_by) == (ExtensionStatus.APPROVED, second_head)
    assert reply_clock(case).extension_days == 15


def test_a_head_of_another_unit_cannot_approve(case, handler):
    # the head of 河口镇 is a unit head, but not of the handling unit
    other_head = user_with("head_hekou", (Role.UNIT_HEAD, OTHER_TOWNSHIP))
    extension = extension_request(case=case, actor=handler, days=15, reason="材料未齐",
                                  at=at("2026-09-20"))
    with pytest.raises(PermissionDenied):
        extension_decide(extension=extension, actor=other_head, approve=True, at=at("2026-09-21"))
    assert Extension.objects.get().status == ExtensionStatus.PENDING


def test_a_reopened_case_may_be_extended_once_more(case, clerk, handler, head):
    # given a first round whose reply clock was extended, so a second request is refused
    first = extension_request(case=case, actor=handler, days=10, reason="需现场测量", at=at("2026-09-01"))
    extension_decide(extension=first, actor=head, approve=True, at=at("2026-09-02"))
    with pytest.raises(ValidationError) as caught:
        extension_request(case=case, actor=handler, days=5, reason="再次延期", at=at("2026-09-03"))
    assert caught.value.code == "once"
    # and the case replied, delivered, closed after the review window lapsed, and reopened
    reply = case_reply(case=case, actor=handler, decision=REPLY, at=at("2026-09-29"))
    decision_deliver(decision=reply, actor=handler, delivered_on=date(2026, 9, 30),
                     method=DeliveryMethod.POST, at=at("2026-09-30", 15))
    case_close(case=case, actor=handler, at=at("2026-11-02"))
    case_reopen(case=case, actor=clerk, reason="回访不满意，重新办理", at=at("2026-11-03"))
    # when the handler asks again in the new round
    second = extension_request(case=case, actor=handler, days=20, reason="需重新调查",
                               at=at("2026-11-04"))
    extension_decide(extension=second, actor=head, approve=True, at=at("2026-11-05"))
    # then the new reply clock takes its own extension
    second.refresh_from_db()
    assert second.status == ExtensionStatus.APPROVED
    assert second.deadline == reply_clock(case) != first.deadline
    assert reply_clock(case).extension_days == 20


# --- Rule 7: accusations ------------------------------------------------------------------------

def accusation(complained_code: str) -> Case:
    """A registered accusation against ``complained_code``, with its accuser."""
    case = CaseFactory(status=CaseStatus.REGISTERED, purpose=Purpose.ACCUSATION,
                       place_unit=demo_unit(TOWNSHIP),
                       complained_unit=demo_unit(complained_code))
    CasePetitionerFactory(case=case, is_main=True)
    return case


@pytest.mark.parametrize(("lead", "co_units"), [
    (TOWNSHIP, []),  # the accused unit itself
    (VILLAGE, []),  # a unit under it
    (OTHER_TOWNSHIP, [TOWNSHIP]),  # the accused as a co-handling unit
], ids=["accused_lead", "lead_under_accused", "accused_co_unit"])
def test_an_accusation_is_not_routed_to_the_accused_or_a_unit_under_it(clerk, lead, co_units):
    # given an accusation against 城关镇
    case = accusation(TOWNSHIP)
    # when the bureau routes it there
    with pytest.raises(ValidationError) as caught:
        case_route(case=case, actor=clerk, lead_unit=demo_unit(lead),
                   co_units=[demo_unit(code) for code in co_units], at=at("2026-09-17"))
    # then it is refused and the case stays with the bureau
    assert caught.value.code == "route_to_accused"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REGISTERED
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION).exists()


def test_an_accusation_goes_elsewhere_and_a_plain_complaint_may_go_to_its_unit(clerk):
    accused = accusation(TOWNSHIP)
    case_route(case=accused, actor=clerk, lead_unit=demo_unit(OTHER_TOWNSHIP), at=at("2026-09-17"))
    assert Case.objects.get(pk=accused.pk).status == CaseStatus.ROUTED
    complaint = CaseFactory(status=CaseStatus.REGISTERED, purpose=Purpose.REMEDY,
                            complained_unit=demo_unit(TOWNSHIP))
    case_route(case=complaint, actor=clerk, lead_unit=demo_unit(TOWNSHIP), at=at("2026-09-17"))
    assert Case.objects.get(pk=complaint.pk).lead_unit.code == TOWNSHIP


@pytest.mark.parametrize("roles", [
    [(Role.UNIT_HEAD, OFFICE)],  # the bureau's head
    [(Role.SUPERVISOR, COUNTY), (Role.CLERK, OFFICE)],  # a supervisor who also works there
], ids=["bureau_head", "supervisor_in_bureau"])
def test_a_member_of_the_accused_bureau_cannot_reveal_the_accusers_identity(county, roles):
    # given an accusation against the petition bureau itself, registered there
    user = user_with("insider", *roles)
    case = accusation(OFFICE)
    # then the permission module refuses to show it or reveal it, whatever the grants say
    assert not can(user, Action.CASE_VIEW_IDENTITY, case)
    assert not can(user, Action.CASE_REVEAL_IDENTITY, case)
    # and the service refuses and logs nothing
    with pytest.raises(PermissionDenied):
        case_identity_reveal(actor=user, case=case, reason="核实举报人身份", at=at("2026-09-17"))
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.IDENTITY_REVEALED).exists()
    # while on an accusation against someone else the same user sees it, as the office
    other = accusation(TOWNSHIP)
    assert can(user, Action.CASE_VIEW_IDENTITY, other)


def test_a_supervisor_above_the_accused_bureau_sees_the_accuser(supervisor):
    # given an accusation against the bureau; the county's supervisor is above it, not in it
    case = accusation(OFFICE)
    # then the supervisor sees the accuser, and the view is an audit row
    (view,) = petitioner_view_for(user=supervisor, case=case)
    assert not view.masked
    assert CaseEvent.objects.get(case=case, kind=EventKind.PERSONAL_DATA_VIEWED).actor == supervisor


# --- Rules 8, 9 and 12: registration ------------------------------------------------------------

def intake(**changes) -> CaseIntake:
    """A one-person visit received on 09-01 about a matter in 城关镇."""
    person = PetitionerInput(name="张三", id_number=valid_resident_id(21),
                             address="城关镇东关社区8号", is_main=True)
    return replace(CaseIntake(
        channel=Channel.VISIT, received_at=at("2026-09-01", 9), petitioners=[person],
        purpose=Purpose.REMEDY, category=CategoryFactory(), summary="征地补偿款未发放",
        demands="请求发放补偿款", place_unit=demo_unit(TOWNSHIP)), **changes)


def register(clerk, **changes) -> Case:
    return case_register(actor=clerk, office=demo_unit(OFFICE), intake=intake(**changes))


def test_a_repeat_of_a_final_matter_without_new_facts_is_registered_and_refused(clerk):
    # given a matter made final by a re-review
    final = CaseFactory(status=CaseStatus.FINAL)
    # when the same matter is registered again with nothing new
    case = register(clerk, repeat_of=final)
    # then it is registered, and refused at once as already final
    row = Case.objects.get(pk=case.pk)
    assert (row.status, row.diversion_channel, row.repeat_of) == (
        CaseStatus.NOT_ACCEPTED, "final", final)
    trail = CaseEvent.objects.filter(case=case, kind__in=[EventKind.REGISTERED,
                                                          EventKind.TRANSITION]).order_by("pk")
    assert [(e.kind, e.details.get("step")) for e in trail] == [
        (EventKind.REGISTERED, None), (EventKind.TRANSITION, "refuse")]
    assert trail[1].to_status == CaseStatus.NOT_ACCEPTED
    # and its routing clock is met: nothing is left running
    assert not Deadline.objects.filter(case=case).live().exists()


def test_a_repeat_of_a_final_matter_with_new_facts_runs_as_a_new_matter(clerk):
    final = CaseFactory(status=CaseStatus.FINAL)
    case = register(clerk, repeat_of=final, new_facts="2026年8月取得新的测绘报告")
    row = Case.objects.get(pk=case.pk)
    assert (row.status, row.new_facts) == (CaseStatus.REGISTERED, "2026年8月取得新的测绘报告")
    assert set(Deadline.objects.filter(case=case).live().values_list("kind", flat=True)) == {
        ClockKind.ROUTING}


def test_a_repeat_of_a_matter_not_yet_final_is_not_refused(clerk):
    case = register(clerk, repeat_of=CaseFactory(status=CaseStatus.REPLIED))
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REGISTERED


@pytest.mark.parametrize(("changes", "code"), [
    ({"summary": "  "}, "summary"),
    ({"demands": ""}, "demands"),
    ({"petitioners": [PetitionerInput(name=" ", address="东关社区8号", is_main=True)]}, "name"),
    ({"petitioners": [PetitionerInput(name="张三", address="东关社区8号", is_main=True),
                      PetitionerInput(name="", id_type=IdType.NONE)], "headcount": 2}, "name"),
    ({"petitioners": [PetitionerInput(name="张三", id_type=IdType.NONE, is_main=True)]},
     "address"),
], ids=["no_summary", "no_demands", "main_without_name", "member_without_name",
        "main_without_address"])
def test_a_registration_below_the_legal_minimum_is_refused(clerk, changes, code):
    with pytest.raises(ValidationError) as caught:
        register(clerk, **changes)
    assert caught.value.code == code
    assert not Case.objects.exists()


# Built inside the test: an address given as a unit of the tree needs the database.
MINIMAL_PETITIONERS = {
    "anonymous_main": lambda: [
        PetitionerInput(name="", id_type=IdType.NONE, is_anonymous=True, is_main=True)],
    "address_as_a_unit": lambda: [
        PetitionerInput(name="张三", id_type=IdType.NONE, address_unit=demo_unit(VILLAGE),
                        is_main=True)],
    "member_without_address": lambda: [
        PetitionerInput(name="张三", id_type=IdType.NONE, address="东关社区8号", is_main=True),
        PetitionerInput(name="李四", id_type=IdType.NONE)],
}


@pytest.mark.parametrize("people", list(MINIMAL_PETITIONERS))
def test_a_registration_meeting_the_legal_minimum_is_accepted(clerk, people):
    petitioners = MINIMAL_PETITIONERS[people]()
    case = register(clerk, petitioners=petitioners, headcount=len(petitioners))
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REGISTERED
    assert case.parties.count() == len(petitioners)


@pytest.fixture
def other_county(county) -> OrgUnit:
    """A neighbouring county, with one township, in the same installation."""
    root = OrgUnit.objects.add_root(create_kwargs={
        "code": "341123", "kind": UnitKind.COUNTY, "name": "邻县"})
    OrgUnit.objects.add_child(root, create_kwargs={
        "code": "341123100", "kind": UnitKind.TOWNSHIP, "name": "邻县城关镇"})
    return OrgUnit.objects.get(code="341123")


@pytest.mark.parametrize("field", ["place_unit", "complained_unit"])
def test_a_unit_of_another_county_is_refused_at_registration(clerk, other_county, field):
    with pytest.raises(ValidationError) as caught:
        register(clerk, **{field: OrgUnit.objects.get(code="341123100")})
    assert caught.value.code == "jurisdiction"
    assert not Case.objects.exists()


def test_a_repeat_of_a_case_of_another_county_is_refused(clerk, other_county):
    theirs = CaseFactory(status=CaseStatus.FINAL, registered_unit=other_county,
                         place_unit=OrgUnit.objects.get(code="341123100"))
    with pytest.raises(ValidationError) as caught:
        register(clerk, repeat_of=theirs, new_facts="新证据")
    assert caught.value.code == "jurisdiction"
    assert Case.objects.count() == 1


def test_a_leader_of_another_county_is_refused(clerk, head, other_county):
    # given a leader who holds the LEADER role only in the neighbouring county
    outsider = user_with("leader_elsewhere", (Role.LEADER, "341123"))
    case = CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit(TOWNSHIP),
                       place_unit=demo_unit(TOWNSHIP))
    # when the bureau puts them in charge
    with pytest.raises(ValidationError) as caught:
        case_assign_leader(case=case, actor=clerk, leader=outsider, measures="入户走访",
                           deadline=date(2026, 12, 31), responsible=head, at=at("2026-11-20"))
    # then it is refused
    assert caught.value.code == "leader_county"
    assert not Leadership.objects.exists()
    assert Case.objects.get(pk=case.pk).leader is None


# --- Rule 11 and the audit of old values: 包案 -----------------------------------------------

@pytest.fixture
def led(clerk, leader, head) -> Leadership:
    """A case of 城关镇 with the demo leader in charge."""
    case = CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit(TOWNSHIP),
                       place_unit=demo_unit(TOWNSHIP))
    return case_assign_leader(case=case, actor=clerk, leader=leader, measures="入户走访，协调补偿",
                              deadline=date(2026, 12, 31), responsible=head, at=at("2026-11-20"))


def test_there_are_four_duties_settled_for_good_among_them():
    assert set(Leadership.DUTIES) == {"investigated", "handled", "stabilised", "consolidated"}
    assert Leadership.DUTIES["consolidated"] == "consolidated_at"


def test_the_leader_marks_the_matter_settled_for_good(led, leader):
    # when the leader marks 包稳固 done
    done = leadership_mark_duty(leadership=led, actor=leader, duty="consolidated", at=at("2026-11-25"))
    # then the time is recorded, and one DUTY_DONE event says which duty
    done.refresh_from_db()
    assert done.consolidated_at == at("2026-11-25")
    assert (done.investigated_at, done.handled_at, done.stabilised_at) == (None, None, None)
    event = CaseEvent.objects.get(case=led.case, kind=EventKind.DUTY_DONE)
    assert (event.actor, event.details) == (leader, {"leadership": led.pk, "duty": "consolidated"})


def test_a_new_leader_is_recorded_beside_the_previous_one(led, clerk, leader, head):
    # given a second leader of the county
    deputy = user_with("leader2", (Role.LEADER, COUNTY))
    # when the bureau puts them in charge instead
    second = case_assign_leader(case=led.case, actor=clerk, leader=deputy, measures="召开协调会",
                                deadline=date(2026, 12, 31), responsible=head, at=at("2026-11-26"))
    # then the audit row names both the new and the previous leader
    first_event, second_event = CaseEvent.objects.filter(
        case=led.case, kind=EventKind.LEADER_ASSIGNED).order_by("pk")
    assert (first_event.details["leader"], first_event.details["previous_leader"]) == (
        leader.pk, None)
    assert second_event.details["leader"] == deputy.pk
    assert second_event.details["previous_leader"] == leader.pk
    assert second_event.details["previous_leadership"] == led.pk
    assert Leadership.objects.get(is_current=True) == second

