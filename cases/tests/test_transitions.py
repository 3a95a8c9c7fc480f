"""Every step of the case's state machine through its service (cases/services/transitions/).

Each step is tried by every demo role, from the wrong unit, from every wrong
state and by a recused user; the clock chain of DOMAIN.md §2 is followed from
registration to the final re-review; two users racing on one case leave one change.
"""

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.choices import Role, UnitKind
from accounts.permissions import Action, can
from accounts.services import org_unit_create, role_grant
from accounts.tests.factories import UserFactory
from cases.choices import (
    CaseStatus,
    Channel,
    ClockKind,
    ClockStatus,
    DecisionKind,
    DiversionChannel,
    EventKind,
    Outcome,
    Purpose,
    ReviewOutcome,
)
from cases.models import Case, CaseEvent, Deadline, Decision, Recusal
from cases.selectors import case_available_transitions
from cases.services.decisions import decision_deliver
from cases.services.errors import CaseChangedByOther, TransitionRefused
from cases.services.registration import CaseIntake, PetitionerInput, case_register
from cases.services.transitions import (
    DecisionInput,
    case_accept,
    case_agree_return,
    case_answer_on_spot,
    case_close,
    case_decide_rereview,
    case_decide_review,
    case_refuse,
    case_refuse_return,
    case_reopen,
    case_reply,
    case_request_rereview,
    case_request_return,
    case_request_review,
    case_route,
    case_sign,
    case_start_handling,
)
from cases.tests.factories import (
    CaseFactory,
    CategoryFactory,
    DeadlineFactory,
    demo_unit,
    valid_resident_id,
)
from cases.tests.helpers import REPLY, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

COUNTY, OFFICE, TOWNSHIP, OTHER_TOWNSHIP = "341122", "341122-D00", "341122100", "341122101"
USERS = ("clerk", "handler", "head", "leader", "supervisor", "grid", "mediator", "admin")

# The county decides the review of a township's reply; the city, outside this
# installation, the re-review (R22 Art.35-36).
REREVIEW = replace(REPLY, review_outcome=ReviewOutcome.UPHELD, body_name="市信访局")


def review_input() -> DecisionInput:
    return replace(REPLY, review_outcome=ReviewOutcome.UPHELD, deciding_unit=demo_unit(COUNTY))

# step: (a state it starts from, its target, the service call)
STEPS = {
    "answer_on_spot": (CaseStatus.REGISTERED, CaseStatus.ANSWERED,
                       lambda c, u: case_answer_on_spot(case=c, actor=u, answer="已当场解答政策")),
    "refuse": (CaseStatus.REGISTERED, CaseStatus.NOT_ACCEPTED,
               lambda c, u: case_refuse(case=c, actor=u, reason="属民事纠纷，应通过诉讼解决",
                                        channel=DiversionChannel.COURT)),
    "route": (CaseStatus.REGISTERED, CaseStatus.ROUTED,
              lambda c, u: case_route(case=c, actor=u, lead_unit=demo_unit(TOWNSHIP))),
    "sign": (CaseStatus.ROUTED, CaseStatus.SIGNED, lambda c, u: case_sign(case=c, actor=u)),
    "request_return": (CaseStatus.ROUTED, CaseStatus.RETURN_REQUESTED,
                       lambda c, u: case_request_return(case=c, actor=u,
                                                        reason="该事项属县自然资源局职责")),
    "agree_return": (CaseStatus.RETURN_REQUESTED, CaseStatus.REGISTERED,
                     lambda c, u: case_agree_return(case=c, actor=u)),
    "refuse_return": (CaseStatus.RETURN_REQUESTED, CaseStatus.SIGNED,
                      lambda c, u: case_refuse_return(case=c, actor=u)),
    "accept": (CaseStatus.SIGNED, CaseStatus.ACCEPTED, lambda c, u: case_accept(case=c, actor=u)),
    "start_handling": (CaseStatus.ACCEPTED, CaseStatus.IN_HANDLING,
                       lambda c, u: case_start_handling(case=c, actor=u)),
    "reply": (CaseStatus.IN_HANDLING, CaseStatus.REPLIED,
              lambda c, u: case_reply(case=c, actor=u, decision=REPLY)),
    "request_review": (CaseStatus.REPLIED, CaseStatus.REVIEW_REQUESTED,
                       lambda c, u: case_request_review(case=c, actor=u)),
    "decide_review": (CaseStatus.REVIEW_REQUESTED, CaseStatus.REVIEWED,
                      lambda c, u: case_decide_review(case=c, actor=u, decision=review_input())),
    "request_rereview": (CaseStatus.REVIEWED, CaseStatus.REREVIEW_REQUESTED,
                         lambda c, u: case_request_rereview(case=c, actor=u)),
    "decide_rereview": (CaseStatus.REREVIEW_REQUESTED, CaseStatus.FINAL,
                        lambda c, u: case_decide_rereview(case=c, actor=u, decision=REREVIEW)),
    "close": (CaseStatus.REPLIED, CaseStatus.CLOSED, lambda c, u: case_close(case=c, actor=u)),
    "reopen": (CaseStatus.CLOSED, CaseStatus.IN_HANDLING,
               lambda c, u: case_reopen(case=c, actor=u, reason="回访不满意，重新办理")),
}

# Who may take each step on a case registered at the bureau and led by 城关镇.
BUREAU, LEAD_UNIT, REVIEW_OFFICE = {"clerk"}, {"handler", "head"}, {"supervisor"}
ALLOWED = {
    "answer_on_spot": BUREAU, "refuse": BUREAU, "route": BUREAU,
    "sign": LEAD_UNIT, "request_return": LEAD_UNIT,
    "agree_return": BUREAU, "refuse_return": BUREAU,
    "accept": LEAD_UNIT, "start_handling": LEAD_UNIT, "reply": LEAD_UNIT,
    "request_review": REVIEW_OFFICE, "decide_review": REVIEW_OFFICE,
    "request_rereview": REVIEW_OFFICE, "decide_rereview": REVIEW_OFFICE,
    "close": LEAD_UNIT, "reopen": BUREAU,
}
# The steps each state allows (the graph on the model).
SOURCES = {step: {source} for step, (source, _target, _call) in STEPS.items()}
SOURCES["reply"] = {CaseStatus.ACCEPTED, CaseStatus.IN_HANDLING}
SOURCES["close"] = {CaseStatus.REPLIED, CaseStatus.REVIEWED}


# The petitioner's request window that runs in a state (R22 Art.35-36).
REQUEST_WINDOW = {CaseStatus.REPLIED: ClockKind.REVIEW_REQUEST,
                  CaseStatus.REVIEWED: ClockKind.REREVIEW_REQUEST}
# The written decisions a case in each state already has, delivered (R22 Art.32, 35).
_PAST_REPLY = {CaseStatus.REPLIED, CaseStatus.REVIEW_REQUESTED, CaseStatus.REVIEWED,
               CaseStatus.REREVIEW_REQUESTED, CaseStatus.FINAL, CaseStatus.CLOSED}
_PAST_REVIEW = {CaseStatus.REVIEWED, CaseStatus.REREVIEW_REQUESTED, CaseStatus.FINAL}


def case_in(status: str, *, objection_due: datetime | None = None,
            request_due: datetime | None = None) -> Case:
    """A case of the bureau, led by 城关镇, in ``status``; a routed one has its objection window,
    a replied or reviewed one its delivered decisions and its (re-)review request window (30
    days unless ``request_due``)."""
    case = CaseFactory(status=status, lead_unit=demo_unit(TOWNSHIP), place_unit=demo_unit(TOWNSHIP))
    if status == CaseStatus.ROUTED:
        DeadlineFactory(case=case, kind=ClockKind.OBJECTION,
                        due_at=objection_due or timezone.now() + timedelta(days=5))
    if status in _PAST_REPLY:
        decision_of(case, DecisionKind.REPLY, unit=demo_unit(TOWNSHIP))
    if status in _PAST_REVIEW:
        decision_of(case, DecisionKind.REVIEW, unit=demo_unit(COUNTY))
    if status in REQUEST_WINDOW:
        DeadlineFactory(case=case, kind=REQUEST_WINDOW[status], length=30, unit="calendar",
                        due_at=request_due or timezone.now() + timedelta(days=30))
    return case


def decision_of(case: Case, kind: str, *, unit) -> Decision:
    """A delivered decision of ``kind``, issued by someone other than the demo users."""
    issued = timezone.now() - timedelta(days=40)
    return Decision.objects.create(
        case=case, kind=kind, request="请求", facts="事实", reasons="理由", outcome=Outcome.EXPLAIN,
        review_outcome="" if kind == DecisionKind.REPLY else ReviewOutcome.UPHELD,
        legal_basis="依据", unit=unit, issued_by=UserFactory(), issued_at=issued,
        delivered_on=issued.date(), delivery_method="in_person")


# Closing waits until the request window has lapsed; the other steps take the default case.
SETUP = {"close": {"request_due": timezone.now() - timedelta(days=1)}}


def transitions_of(case: Case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION).order_by("pk"))


def live_clocks(case: Case) -> set[str]:
    return set(Deadline.objects.filter(case=case, status__in=[ClockStatus.OPEN, ClockStatus.PAUSED])
               .values_list("kind", flat=True))


class _Rollback(Exception):
    pass


def succeeds(call) -> bool:
    """Run ``call`` and undo it; whether the service accepted it."""
    try:
        with transaction.atomic():
            call()
            raise _Rollback
    except _Rollback:
        return True
    except (PermissionDenied, TransitionRefused, ValidationError):
        return False


# --- Allowed and refused, by role ----------------------------------------------------------

@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("step", list(STEPS))
def test_each_step_is_taken_only_by_its_roles(demo_users, step, username):
    # given a case in the step's source state
    source, target, call = STEPS[step]
    case = case_in(source, **SETUP.get(step, {}))
    user = demo_users[username]
    if username in ALLOWED[step]:
        # when an allowed user takes the step
        call(case, user)
        # then the row moved and one TRANSITION event names the user
        assert Case.objects.get(pk=case.pk).status == target
        (event,) = transitions_of(case)
        assert (event.actor, event.from_status, event.to_status) == (user, source, target)
        assert event.details["step"] == step
    else:
        # when anyone else tries, it is refused and nothing changes
        with pytest.raises(PermissionDenied):
            call(case, user)
        assert Case.objects.get(pk=case.pk).status == source
        assert transitions_of(case) == []


@pytest.fixture
def outsiders(county, unit):
    """The same roles, held in a unit that has nothing to do with the case."""
    users = {}
    for name, role, code in [("clerk2", Role.CLERK, "341122-D01"),
                             ("handler2", Role.HANDLER, OTHER_TOWNSHIP),
                             ("head2", Role.UNIT_HEAD, OTHER_TOWNSHIP),
                             ("supervisor2", Role.SUPERVISOR, OTHER_TOWNSHIP)]:
        users[name] = UserFactory(username=name)
        role_grant(user=users[name], role=role, unit=unit(code))
    return users


@pytest.mark.parametrize("step", list(STEPS))
def test_the_same_role_in_another_unit_is_refused(outsiders, step):
    source, _target, call = STEPS[step]
    for user in outsiders.values():
        case = case_in(source, **SETUP.get(step, {}))
        with pytest.raises(PermissionDenied):
            call(case, user)
        assert Case.objects.get(pk=case.pk).status == source


@pytest.mark.parametrize("step", list(STEPS))
def test_each_step_is_refused_from_every_other_state(demo_users, step):
    _source, _target, call = STEPS[step]
    user = demo_users[sorted(ALLOWED[step])[0]]
    for status in set(CaseStatus.values) - SOURCES[step]:
        case = case_in(status)
        with pytest.raises(TransitionRefused) as caught:
            call(case, user)
        assert str(CaseStatus(status).label) in str(caught.value)
        assert Case.objects.get(pk=case.pk).status == status
        assert transitions_of(case) == []


@pytest.mark.parametrize("step", list(STEPS))
def test_a_recused_user_may_take_no_step(demo_users, step):
    # given an allowed user who declared an interest (回避, R22 Art.28)
    source, _target, call = STEPS[step]
    user = demo_users[sorted(ALLOWED[step])[0]]
    case = case_in(source, **SETUP.get(step, {}))
    Recusal.objects.create(case=case, user=user, reason="信访人系其亲属", declared_at=timezone.now())
    # when / then
    with pytest.raises(PermissionDenied) as caught:
        call(case, user)
    assert "recusal" in str(caught.value)
    assert Case.objects.get(pk=case.pk).status == source


# --- The buttons offered are the steps the services accept -----------------------------------

@pytest.mark.parametrize("status", CaseStatus.values)
def test_available_transitions_are_what_the_services_allow(demo_users, status):
    for username in USERS:
        user = demo_users[username]
        case = case_in(status)
        offered = set(case_available_transitions(user=user, case=case))
        accepted = {step for step, (_s, _t, call) in STEPS.items()
                    if succeeds(lambda c=call, pk=case.pk, u=user: c(Case.objects.get(pk=pk), u))}
        assert offered == accepted, (status, username)


def test_no_return_is_offered_or_accepted_after_the_objection_window(handler):
    # given a routed case whose 5-working-day objection window ran out yesterday
    case = case_in(CaseStatus.ROUTED, objection_due=timezone.now() - timedelta(days=1))
    # then the handler is offered only signing for it
    assert case_available_transitions(user=handler, case=case) == ["sign"]
    # and the return is refused with the rule and the last day
    with pytest.raises(ValidationError) as caught:
        case_request_return(case=case, actor=handler, reason="不属本单位职责")
    assert caught.value.code == "objection_window_closed"
    assert "objection window closed" in caught.value.messages[0]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ROUTED
    assert transitions_of(case) == []


def test_no_return_without_an_objection_window(handler):
    case = CaseFactory(status=CaseStatus.ROUTED, lead_unit=demo_unit(TOWNSHIP))
    with pytest.raises(ValidationError) as caught:
        case_request_return(case=case, actor=handler, reason="不属本单位职责")
    assert caught.value.code == "objection_window_closed"


# --- Two users at once ---------------------------------------------------------------------

def test_the_second_of_two_concurrent_changes_is_refused_and_nothing_is_half_saved(handler, head):
    # given two users who loaded the same signed case
    case = case_in(CaseStatus.SIGNED)
    mine, theirs = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    # when the first accepts it
    case_accept(case=mine, actor=handler)
    # then the second's accept, made on the stale copy, is refused clearly
    with pytest.raises(CaseChangedByOther) as caught:
        case_accept(case=theirs, actor=head)
    assert str(caught.value) == "Someone else changed this case first; reload it and try again."
    # and the row shows the first change only, with one event and one reply clock
    row = Case.objects.get(pk=case.pk)
    assert row.status == CaseStatus.ACCEPTED
    (event,) = transitions_of(case)
    assert event.actor == handler
    assert Deadline.objects.filter(case=case, kind=ClockKind.REPLY).count() == 1


def test_a_different_step_on_a_stale_copy_is_refused_too(handler, head):
    case = case_in(CaseStatus.IN_HANDLING)
    mine, theirs = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    case_reply(case=mine, actor=handler, decision=REPLY)
    with pytest.raises(CaseChangedByOther):
        case_reply(case=theirs, actor=head, decision=replace(REPLY, outcome=Outcome.NOT_SUPPORT))
    # the first reply stands: the second decision text was rolled back with the step
    assert Decision.objects.get(case=case).outcome == Outcome.SUPPORT
    assert len(transitions_of(case)) == 1


# --- The clock chain (DOMAIN.md §2) ----------------------------------------------------------

def registered(clerk) -> Case:
    intake = CaseIntake(
        channel=Channel.VISIT, received_at=at("2025-11-03", hour=9),
        petitioners=[PetitionerInput(name="张三", id_number=valid_resident_id(1), address="城关镇东关社区",
                                     is_main=True)],
        purpose=Purpose.REMEDY, category=CategoryFactory(), summary="征地补偿款未发放",
        demands="请求发放", place_unit=demo_unit(TOWNSHIP))
    return case_register(actor=clerk, office=demo_unit(OFFICE), intake=intake)


def clock(case: Case, kind: str) -> Deadline:
    return Deadline.objects.filter(case=case, kind=kind).latest("pk")


def test_the_clocks_follow_the_case_from_registration_to_finality(clerk, handler, supervisor):
    case = registered(clerk)
    assert live_clocks(case) == {ClockKind.ROUTING}
    # routed within 15 days: routing met, the 5-working-day objection window opens and the
    # unit's 15-day acceptance notice counts from this receipt (R22 Art.23)
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP), at=at("2025-11-05"))
    assert clock(case, ClockKind.ROUTING).status == ClockStatus.MET
    assert clock(case, ClockKind.OBJECTION).due_on == date(2025, 11, 12)
    assert clock(case, ClockKind.ACCEPTANCE_NOTICE).due_on == date(2025, 11, 20)
    # signing for it closes the window
    case_sign(case=case, actor=handler, at=at("2025-11-06"))
    assert live_clocks(case) == {ClockKind.ACCEPTANCE_NOTICE}
    # the acceptance notice is met and the 60-day reply clock starts (R22 Art.34)
    case_accept(case=case, actor=handler, at=at("2025-11-07"))
    assert clock(case, ClockKind.ACCEPTANCE_NOTICE).status == ClockStatus.MET
    assert clock(case, ClockKind.REPLY).due_on == date(2026, 1, 6)
    case_start_handling(case=case, actor=handler, at=at("2025-11-10"))
    # the written reply meets the reply clock; its delivery opens the 30-day review window
    decision = case_reply(case=case, actor=handler, decision=REPLY, at=at("2025-12-01"))
    assert (decision.kind, decision.issued_by, decision.unit.code) == (
        DecisionKind.REPLY, handler, TOWNSHIP)
    assert live_clocks(case) == set()
    decision_deliver(decision=decision, actor=handler, delivered_on=date(2025, 12, 2),
                     method="post", at=at("2025-12-02", hour=16))
    assert clock(case, ClockKind.REVIEW_REQUEST).due_on == date(2026, 1, 4)
    case_request_review(case=case, actor=supervisor, at=at("2025-12-15"))
    assert live_clocks(case) == {ClockKind.REVIEW_DECISION}
    review = case_decide_review(case=case, actor=supervisor, decision=review_input(),
                                at=at("2026-01-05"))
    assert live_clocks(case) == set()
    decision_deliver(decision=review, actor=supervisor, delivered_on=date(2026, 1, 6),
                     method="in_person", at=at("2026-01-06"))
    assert live_clocks(case) == {ClockKind.REREVIEW_REQUEST}
    case_request_rereview(case=case, actor=supervisor, at=at("2026-01-10"))
    assert live_clocks(case) == {ClockKind.REREVIEW_DECISION}
    case_decide_rereview(case=case, actor=supervisor, decision=REREVIEW, at=at("2026-01-20"))
    # then the matter is final, nothing runs, and every clock was met, none cancelled
    row = Case.objects.get(pk=case.pk)
    assert row.status == CaseStatus.FINAL and row.closed_at == at("2026-01-20")
    assert live_clocks(case) == set()
    assert set(Deadline.objects.filter(case=case).values_list("status", flat=True)) == {
        ClockStatus.MET}
    assert len(transitions_of(case)) == 9


def test_an_answer_on_the_spot_meets_the_routing_clock(clerk):
    case = registered(clerk)
    case_answer_on_spot(case=case, actor=clerk, answer="已当场解答", at=at("2025-11-03", hour=11))
    row = Case.objects.get(pk=case.pk)
    assert row.status == CaseStatus.ANSWERED and row.closed_at == at("2025-11-03", hour=11)
    assert live_clocks(case) == set()


def test_a_refusal_names_the_channel_and_meets_the_clocks(clerk):
    case = registered(clerk)
    case_refuse(case=case, actor=clerk, reason="属劳动争议仲裁事项",
                channel=DiversionChannel.ARBITRATION, at=at("2025-11-04"))
    row = Case.objects.get(pk=case.pk)
    assert (row.status, row.diversion_channel) == (CaseStatus.NOT_ACCEPTED, "arbitration")
    assert live_clocks(case) == set()


def test_a_refusal_needs_a_known_channel(clerk):
    case = registered(clerk)
    with pytest.raises(ValidationError):
        case_refuse(case=case, actor=clerk, reason="理由", channel="nowhere")


def test_a_return_inside_the_window_goes_back_for_routing(clerk, handler, unit):
    # given a case routed with a co-handling unit
    case = registered(clerk)
    now = timezone.now()
    case_route(case=case, actor=clerk, lead_unit=unit(TOWNSHIP), co_units=[unit("341122-D02")],
               at=now - timedelta(hours=2))
    assert list(case.co_units.values_list("code", flat=True)) == ["341122-D02"]
    # when the lead unit objects in time and the bureau agrees
    case_request_return(case=case, actor=handler, reason="属县自然资源局职责", at=now - timedelta(hours=1))
    assert clock(case, ClockKind.OBJECTION).status == ClockStatus.MET
    case_agree_return(case=case, actor=clerk, at=now)
    # then the case is the bureau's again, with a fresh routing clock and no units
    row = Case.objects.get(pk=case.pk)
    assert (row.status, row.lead_unit, row.return_reason) == (
        CaseStatus.REGISTERED, None, "属县自然资源局职责")
    assert not row.co_units.exists()
    assert live_clocks(case) == {ClockKind.ROUTING}
    assert clock(case, ClockKind.ACCEPTANCE_NOTICE).status == ClockStatus.CANCELLED
    # and it can be routed again to the competent unit
    case_route(case=row, actor=clerk, lead_unit=unit("341122-D02"))
    assert Case.objects.get(pk=case.pk).lead_unit.code == "341122-D02"
    assert live_clocks(case) == {ClockKind.OBJECTION, ClockKind.ACCEPTANCE_NOTICE}


def test_a_refused_return_leaves_the_case_with_the_lead_unit(clerk, handler):
    case = registered(clerk)
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
    case_request_return(case=case, actor=handler, reason="不属本单位")
    case_refuse_return(case=case, actor=clerk)
    row = Case.objects.get(pk=case.pk)
    assert (row.status, row.lead_unit.code) == (CaseStatus.SIGNED, TOWNSHIP)


def test_a_unit_outside_the_county_is_refused(clerk, county):
    elsewhere = org_unit_create(name="邻县", kind=UnitKind.COUNTY, code="341123", parent=None)
    case = case_in(CaseStatus.REGISTERED)
    with pytest.raises(ValidationError) as caught:
        case_route(case=case, actor=clerk, lead_unit=elsewhere)
    assert caught.value.code == "route_unit"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REGISTERED


def test_closing_lapses_the_review_window_and_reopening_starts_a_fresh_reply_clock(
        clerk, handler):
    # given a replied, delivered case whose review window has just lapsed unused
    case = case_in(CaseStatus.IN_HANDLING)
    first = case_reply(case=case, actor=handler, decision=REPLY)
    decision_deliver(decision=first, actor=handler, delivered_on=timezone.localdate(),
                     method="in_person")
    Deadline.objects.filter(case=case, kind=ClockKind.REVIEW_REQUEST).update(
        due_at=timezone.now() - timedelta(minutes=1))
    # when it is closed, the window closes as lapsed: a right unused, not a duty missed
    case_close(case=case, actor=handler)
    assert clock(case, ClockKind.REVIEW_REQUEST).status == ClockStatus.LAPSED
    assert Case.objects.get(pk=case.pk).closed_at is not None
    # and reopened
    case_reopen(case=case, actor=clerk, reason="回访不满意")
    row = Case.objects.get(pk=case.pk)
    assert (row.status, row.closed_at) == (CaseStatus.IN_HANDLING, None)
    assert live_clocks(case) == {ClockKind.REPLY}
    # then a second reply supersedes the first, which is kept
    case_reply(case=row, actor=handler, decision=replace(REPLY, outcome=Outcome.EXPLAIN))
    assert Decision.objects.get(case=case, superseded_at=None).outcome == Outcome.EXPLAIN
    first.refresh_from_db()
    assert first.superseded_at is not None and first.outcome == Outcome.SUPPORT
    assert transitions_of(case)[-1].details["superseded"] == first.pk


def test_a_reopening_needs_a_reason(clerk):
    case = case_in(CaseStatus.CLOSED)
    with pytest.raises(ValidationError):
        case_reopen(case=case, actor=clerk, reason=" ")


def test_a_decision_needs_its_parts(handler, supervisor):
    case = case_in(CaseStatus.IN_HANDLING)
    with pytest.raises(ValidationError):
        case_reply(case=case, actor=handler, decision=replace(REPLY, legal_basis=""))
    review = case_in(CaseStatus.REVIEW_REQUESTED)
    with pytest.raises(ValidationError) as caught:
        case_decide_review(case=review, actor=supervisor, decision=REPLY)  # no review result
    assert caught.value.code == "review_outcome"
    assert not Decision.objects.filter(kind=DecisionKind.REVIEW).exists()
    assert not Decision.objects.filter(case=case).exists()


# --- The petitioner's request windows (R22 Art.35-36) -------------------------------------------

@pytest.mark.parametrize("status", [CaseStatus.REPLIED, CaseStatus.REVIEWED])
def test_a_case_is_not_closed_while_the_petitioner_may_still_ask(handler, status):
    # given a replied (or reviewed) case whose request window runs until a day in the future
    case = case_in(status, request_due=timezone.now() + timedelta(days=3))
    due_on = clock(case, REQUEST_WINDOW[status]).due_on
    # then closing is not offered and is refused, naming the last day
    assert "close" not in case_available_transitions(user=handler, case=case)
    with pytest.raises(ValidationError) as caught:
        case_close(case=case, actor=handler)
    assert caught.value.code == "request_window_open"
    assert due_on.isoformat() in caught.value.messages[0]
    assert Case.objects.get(pk=case.pk).status == status
    assert transitions_of(case) == []
    # and once the window has lapsed the case is offered for closing and closed
    Deadline.objects.filter(case=case).update(due_at=timezone.now() - timedelta(minutes=1))
    assert "close" in case_available_transitions(user=handler, case=case)
    case_close(case=case, actor=handler)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED


@pytest.mark.parametrize(("status", "call"), [
    (CaseStatus.REPLIED, case_request_review),
    (CaseStatus.REVIEWED, case_request_rereview),
])
def test_no_review_request_is_offered_or_accepted_after_its_window(supervisor, status, call):
    # given a request window that ran out yesterday
    case = case_in(status, request_due=timezone.now() - timedelta(days=1))
    due_on = clock(case, REQUEST_WINDOW[status]).due_on
    # then the request is neither offered nor accepted, and the refusal names the last day
    assert case_available_transitions(user=supervisor, case=case) == []
    with pytest.raises(ValidationError) as caught:
        call(case=case, actor=supervisor)
    assert caught.value.code == "request_window_closed"
    assert due_on.isoformat() in caught.value.messages[0]
    assert "30 calendar days" in caught.value.messages[0]
    assert Case.objects.get(pk=case.pk).status == status
    # and without any window it is refused too
    Deadline.objects.filter(case=case).delete()
    with pytest.raises(ValidationError) as caught:
        call(case=Case.objects.get(pk=case.pk), actor=supervisor)
    assert caught.value.code == "request_window_closed"


def test_the_objection_message_gives_the_length_of_the_clock(handler):
    # given an office whose objection window is 7 working days (an edited DeadlineRule)
    case = case_in(CaseStatus.ROUTED, objection_due=timezone.now() - timedelta(days=1))
    Deadline.objects.filter(case=case).update(length=7)
    with pytest.raises(ValidationError) as caught:
        case_request_return(case=case, actor=handler, reason="不属本单位职责")
    assert "7 working days after routing" in caught.value.messages[0]
    assert "5 working days" not in caught.value.messages[0]


# --- Stale copies and concurrent replies --------------------------------------------------------

def test_a_step_on_a_stale_copy_keeps_another_users_leader(handler, demo_users):
    # given a copy loaded before someone else assigned the responsible leader
    case = case_in(CaseStatus.SIGNED)
    stale = Case.objects.get(pk=case.pk)
    leader = demo_users["leader"]
    Case.objects.filter(pk=case.pk).update(leader=leader)
    # when a step is taken on the stale copy
    case_accept(case=stale, actor=handler)
    # then the step is saved and the leader survives
    row = Case.objects.get(pk=case.pk)
    assert (row.status, row.leader) == (CaseStatus.ACCEPTED, leader)


def test_two_replies_at_once_leave_one_decision_and_a_clear_refusal(handler, head):
    # given two users who loaded the same case
    case = case_in(CaseStatus.IN_HANDLING)
    mine, theirs = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    # when the first replies, the case row is moved before the decision is written
    with CaptureQueriesContext(connection) as queries:
        case_reply(case=mine, actor=handler, decision=REPLY)
    sql = [query["sql"] for query in queries.captured_queries]
    update = next(i for i, q in enumerate(sql) if q.startswith('UPDATE "cases_case"'))
    insert = next(i for i, q in enumerate(sql) if q.startswith('INSERT INTO "cases_decision"'))
    assert update < insert
    # and the second, on a stale copy, is refused as a concurrent change (not a 500)
    with pytest.raises(CaseChangedByOther):
        case_reply(case=theirs, actor=head, decision=replace(REPLY, outcome=Outcome.EXPLAIN))
    (decision,) = Decision.objects.filter(case=case)
    assert (decision.outcome, decision.issued_by) == (Outcome.SUPPORT, handler)
    assert len(transitions_of(case)) == 1


# --- Someone who cannot see the case ---------------------------------------------------------------

def test_someone_who_cannot_see_the_case_learns_nothing_of_its_state(outsiders):
    # given a case in a state where signing is impossible, and a handler of another township
    case = case_in(CaseStatus.IN_HANDLING)
    outsider = outsiders["handler2"]
    assert not can(outsider, Action.CASE_VIEW, case)
    # when the outsider tries to sign, the refusal is a generic PermissionDenied
    with pytest.raises(PermissionDenied) as caught:
        case_sign(case=case, actor=outsider)
    message = str(caught.value)
    assert case.number not in message
    assert str(CaseStatus.IN_HANDLING.label) not in message
