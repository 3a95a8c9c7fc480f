"""Recusal, masked identities and hidden accusation material (cases/services/privacy.py)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.permissions import Action, can
from cases.choices import CaseStatus, EventKind
from cases.models import CaseEvent, Recusal
from cases.services.privacy import (
    attachments_for,
    case_identity_reveal,
    case_recuse,
    mask_name,
    mask_phone,
    petitioner_view_for,
)
from cases.services.transitions import case_accept
from cases.tests.factories import (
    AttachmentFactory,
    CaseFactory,
    CasePetitionerFactory,
    PetitionerFactory,
    demo_unit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
TOWNSHIP = "341122100"


def accusation(complained_code: str | None = TOWNSHIP):
    """An accusation against a unit, handled by 城关镇, with its accuser and two files."""
    case = CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit(TOWNSHIP),
                       place_unit=demo_unit(TOWNSHIP),
                       complained_unit=demo_unit(complained_code) if complained_code else None)
    person = PetitionerFactory(name="张三丰", phone="13812345678", address="城关镇东关社区8号")
    CasePetitionerFactory(case=case, petitioner=person, is_main=True)
    AttachmentFactory(case=case, original_name="举报信.pdf", is_accusation_material=True)
    AttachmentFactory(case=case, original_name="身份证复印件.pdf")
    return case, person


def test_masking_keeps_the_surname_and_the_ends_of_the_phone():
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "*"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("12345") == "*****"


def test_the_unit_complained_about_sees_a_masked_petitioner(handler):
    # given an accusation against 城关镇, which the 城关镇 handler can see
    case, person = accusation()
    # when
    (view,) = petitioner_view_for(user=handler, case=case)
    # then name, ID number, phone and address are masked (R22 Art.30, 46)
    assert view.masked
    assert view.name == "张**"
    assert view.id_number == person.masked_id_number != person.id_number
    assert view.phone == "138****5678"
    assert view.address == "***"


def test_the_petition_office_sees_the_petitioner(clerk, supervisor):
    # given an accusation the office registered
    case, person = accusation()
    # when its clerk or supervisor opens it, then the person is shown: the office meets
    # the petitioner and records and delivers the review decisions
    for user in (clerk, supervisor):
        (view,) = petitioner_view_for(user=user, case=case)
        assert not view.masked
        assert (view.name, view.id_number, view.phone) == (person.name, person.id_number,
                                                           person.phone)


def test_a_leader_of_the_place_sees_the_person_masked_until_revealing(leader):
    # given a case without a complained unit: nobody here is accused
    case, person = accusation(complained_code=None)
    user = leader  # a county leader, not in charge of this case
    # when they open it, then the person is masked and no personal data was viewed
    (view,) = petitioner_view_for(user=user, case=case)
    assert view.masked and view.name == "张**"
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.PERSONAL_DATA_VIEWED).exists()
    # when they reveal it with a reason, then they see it and the trail says who and why
    (view,) = case_identity_reveal(actor=user, case=case, reason="约谈信访人")
    assert (view.name, view.masked) == (person.name, False)
    event = CaseEvent.objects.get(case=case, kind=EventKind.IDENTITY_REVEALED)
    assert (event.actor, event.details["reason"]) == (user, "约谈信访人")


def test_the_leader_in_charge_sees_the_person(demo_users):
    # given the county leader is put in charge of the case (包案)
    case, person = accusation(complained_code=None)
    case.leader = demo_users["leader"]
    case.save(update_fields=["leader"])
    # when the leader opens it, then unmasked: the leader meets the petitioner (包稳定)
    (view,) = petitioner_view_for(user=demo_users["leader"], case=case)
    assert not view.masked and view.name == person.name


def test_without_a_complained_unit_nothing_is_masked(handler):
    case, person = accusation(complained_code=None)
    (view,) = petitioner_view_for(user=handler, case=case)
    assert not view.masked and view.name == person.name


def test_a_unit_above_the_one_complained_about_is_not_masked(handler):
    # a complaint about a village: the township handling it is above, not inside, that unit
    case, person = accusation(complained_code="341122100001")
    (view,) = petitioner_view_for(user=handler, case=case)
    assert not view.masked


def test_a_user_who_cannot_see_the_case_gets_nothing(grid):
    case, _person = accusation()
    with pytest.raises(PermissionDenied):
        petitioner_view_for(user=grid, case=case)
    with pytest.raises(PermissionDenied):
        attachments_for(user=grid, case=case)


def test_accusation_material_never_reaches_the_unit_complained_about(handler, clerk):
    case, _person = accusation()
    assert [a.original_name for a in attachments_for(user=handler, case=case)] == [
        "身份证复印件.pdf"]
    assert {a.original_name for a in attachments_for(user=clerk, case=case)} == {
        "举报信.pdf", "身份证复印件.pdf"}


def test_a_member_of_the_accused_unit_may_not_reveal_even_as_supervisor(supervisor):
    # given a complaint about the whole county, so that even the supervisor is accused
    case, _person = accusation(complained_code="341122")
    assert petitioner_view_for(user=supervisor, case=case)[0].masked
    # when the supervisor tries to reveal it, then it is refused (R22 Art.30)
    with pytest.raises(PermissionDenied):
        case_identity_reveal(actor=supervisor, case=case, reason="需联系信访人核实情况")
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.IDENTITY_REVEALED).exists()


def test_a_reveal_needs_a_reason(leader):
    case, _person = accusation(complained_code=None)
    with pytest.raises(ValidationError):
        case_identity_reveal(actor=leader, case=case, reason="  ")
    assert not CaseEvent.objects.filter(kind=EventKind.IDENTITY_REVEALED).exists()


# The office sees the person anyway; the township's handler and head are accused; the grid
# worker does not see the case.
@pytest.mark.parametrize("username", ["clerk", "handler", "head", "grid"])
def test_only_those_who_see_a_mask_and_are_not_accused_reveal(demo_users, username):
    case, _person = accusation()
    with pytest.raises(PermissionDenied):
        case_identity_reveal(actor=demo_users[username], case=case, reason="核实")
    assert not CaseEvent.objects.filter(kind=EventKind.IDENTITY_REVEALED).exists()


def test_a_recusal_bars_the_user_from_handling_and_from_the_identity(handler, head):
    # given the handler declares an interest (回避, R22 Art.28)
    case, _person = accusation(complained_code=None)
    recusal = case_recuse(case=case, actor=handler, reason="被反映人系其亲属")
    # then it is recorded once, with its event
    assert Recusal.objects.get(case=case).pk == recusal.pk
    event = CaseEvent.objects.get(case=case, kind=EventKind.RECUSAL)
    assert (event.actor, event.details["reason"]) == (handler, "被反映人系其亲属")
    # and the handler may no longer act, and no longer sees who petitioned
    with pytest.raises(PermissionDenied):
        case_accept(case=case, actor=handler)
    assert petitioner_view_for(user=handler, case=case)[0].masked
    assert len(attachments_for(user=handler, case=case)) == 1
    # while the head still may
    case_accept(case=case, actor=head)


def test_a_recusal_is_declared_once_and_with_a_reason(handler):
    case, _person = accusation()
    with pytest.raises(ValidationError):
        case_recuse(case=case, actor=handler, reason="")
    case_recuse(case=case, actor=handler, reason="亲属")
    with pytest.raises(ValidationError) as caught:
        case_recuse(case=case, actor=handler, reason="亲属")
    assert caught.value.code == "already_recused"
    assert CaseEvent.objects.filter(kind=EventKind.RECUSAL).count() == 1


def test_someone_who_cannot_see_the_case_cannot_recuse(grid):
    case, _person = accusation()
    with pytest.raises(PermissionDenied):
        case_recuse(case=case, actor=grid, reason="亲属")


def test_each_unmasked_view_of_personal_data_is_an_audit_row(clerk, handler):
    # given an accusation against 城关镇
    case, person = accusation()
    # when the petition office looks twice and the accused township once (masked)
    petitioner_view_for(user=clerk, case=case)
    petitioner_view_for(user=clerk, case=case)
    petitioner_view_for(user=handler, case=case)
    # then two rows name the clerk and the petitioner; the masked view wrote none
    rows = CaseEvent.objects.filter(case=case, kind=EventKind.PERSONAL_DATA_VIEWED)
    assert [(row.actor, row.details["petitioners"]) for row in rows] == [
        (clerk, [person.pk]), (clerk, [person.pk])]


def test_a_recusal_counts_at_once_on_the_case_already_loaded(handler):
    # given the handler may handle the case, asked on this very object
    case, _person = accusation(complained_code=None)
    assert can(handler, Action.CASE_HANDLE, case)
    # when the handler steps aside
    case_recuse(case=case, actor=handler, reason="亲属")
    # then the same loaded case answers no (the cached answer was dropped)
    assert not can(handler, Action.CASE_HANDLE, case)
