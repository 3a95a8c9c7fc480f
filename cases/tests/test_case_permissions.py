"""Who sees which case: ``Case.objects.visible_to`` and the selectors, for every demo role."""

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from cases.choices import CaseStatus
from cases.models import Case, Recusal
from cases.selectors import case_available_transitions, case_get, case_list
from cases.tests.factories import CaseFactory, demo_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(demo_users):
    """Four cases of the bureau: led by 城关镇, led by 河口镇, led by a leader, not yet routed."""
    return {
        "chengguan": CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit("341122100"),
                                 place_unit=demo_unit("341122100001")),
        "hekou": CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit("341122101"),
                             place_unit=demo_unit("341122101002")),
        "led": CaseFactory(status=CaseStatus.ACCEPTED, lead_unit=demo_unit("341122102"),
                           place_unit=demo_unit("341122102001"), leader=demo_users["leader"]),
        "new": CaseFactory(place_unit=demo_unit("341122200")),
    }


# Which of the four cases each demo role sees.
VISIBLE = {
    "clerk": {"chengguan", "hekou", "led", "new"},  # registered at their office
    "handler": {"chengguan"},  # led by their township
    "head": {"chengguan"},
    "leader": {"chengguan", "hekou", "led"},  # places they lead, and the case they own
    "supervisor": {"chengguan", "hekou", "led", "new"},  # the whole county
    "grid": set(),
    "mediator": set(),
    "admin": set(),  # an administrator alone sees no case content (三员分立)
}


@pytest.mark.parametrize("username", list(VISIBLE))
def test_each_role_sees_exactly_its_cases(demo_users, cases, username):
    # given / when
    user = demo_users[username]
    seen = set(Case.objects.visible_to(user).values_list("pk", flat=True))
    # then
    assert seen == {cases[name].pk for name in VISIBLE[username]}
    assert {case.pk for case in case_list(user=user)} == seen


@pytest.mark.parametrize("username", list(VISIBLE))
def test_case_get_finds_only_visible_cases(demo_users, cases, username):
    user = demo_users[username]
    for name, case in cases.items():
        if name in VISIBLE[username]:
            assert case_get(user=user, number=case.number) == case
        else:  # the case exists: 403, not 404 (issue 7)
            with pytest.raises(PermissionDenied):
                case_get(user=user, number=case.number)
    with pytest.raises(Case.DoesNotExist):
        case_get(user=user, number="341122-2026-999999")


def test_an_anonymous_or_inactive_user_sees_nothing(demo_users, cases):
    from django.contrib.auth.models import AnonymousUser

    assert not Case.objects.visible_to(AnonymousUser()).exists()
    clerk = demo_users["clerk"]
    clerk.is_active = False
    assert not Case.objects.visible_to(clerk).exists()


def test_a_recused_user_still_sees_the_case_but_may_not_act(demo_users, cases):
    # given the handler stepped aside from the 城关镇 case
    handler, case = demo_users["handler"], cases["chengguan"]
    Recusal.objects.create(case=case, user=handler, reason="亲属", declared_at=timezone.now())
    # then they can read it but are offered no step
    assert case_get(user=handler, number=case.number) == case
    assert case_available_transitions(user=handler, case=case) == []
    assert case_available_transitions(user=demo_users["head"], case=case) == ["accept"]


def test_case_list_filters(demo_users, cases):
    clerk = demo_users["clerk"]
    signed = case_list(user=clerk, filters={"status": CaseStatus.SIGNED})
    assert set(signed) == {cases["chengguan"], cases["hekou"]}
    led_by = case_list(user=clerk, filters={"lead_unit": demo_unit("341122101").pk, "bogus": 1})
    assert list(led_by) == [cases["hekou"]]
    by_number = case_list(user=clerk, filters={"q": cases["new"].number})
    assert list(by_number) == [cases["new"]]


def test_case_list_costs_the_same_whatever_its_length(demo_users, cases,
                                                       django_assert_num_queries):
    supervisor = demo_users["supervisor"]
    supervisor.__dict__.pop("_held_roles", None)
    # one query for the roles, one for the page, with units, category and leader joined
    with django_assert_num_queries(2):
        rows = list(case_list(user=supervisor))
        names = [(c.registered_unit.name, c.lead_unit and c.lead_unit.name, c.category.name,
                  c.leader and c.leader.name) for c in rows]
    assert len(names) == 4
    CaseFactory.create_batch(5, lead_unit=demo_unit("341122100"))
    with django_assert_num_queries(1):  # the roles are cached on the user now
        rows = list(case_list(user=supervisor))
        [(c.registered_unit.name, c.lead_unit and c.lead_unit.name) for c in rows]
    assert len(rows) == 9


def test_a_co_handling_unit_sees_and_notes_the_case_but_does_not_act(demo_users):
    """协办 (R22 Art.24): 城关镇 co-handles a case 河口镇 leads."""
    from accounts.permissions import Action, can

    # given a case led by 河口镇 with 城关镇 and 东湖街道 co-handling
    case = CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit("341122101"),
                       place_unit=demo_unit("341122101002"))
    case.co_units.set([demo_unit("341122100"), demo_unit("341122100001")])
    handler = demo_users["handler"]
    # then 城关镇's handler sees it once, may add to its record, and may not handle it
    assert list(Case.objects.visible_to(handler)) == [case]
    assert can(handler, Action.CASE_VIEW, case)
    assert can(handler, Action.CASE_NOTE, case)
    assert not can(handler, Action.CASE_HANDLE, case)
    assert case_available_transitions(user=handler, case=case) == []
