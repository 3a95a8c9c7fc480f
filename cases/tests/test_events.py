"""The audit trail: one event per change, and a table that refuses updates and deletes."""

from datetime import datetime

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError, ProgrammingError

from cases import events
from cases.choices import CaseStatus, Channel, EventKind, Purpose
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import CaseEvent
from cases.services.registration import CaseIntake, PetitionerInput, case_register
from cases.services.transitions import case_route, case_sign
from cases.tests.factories import CaseFactory, CategoryFactory, demo_unit, valid_resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(clerk):
    case = CaseFactory()
    (row,) = events.record(events.note(case=case, actor=clerk,
                                       at=datetime(2026, 9, 16, 10, tzinfo=OFFICE_TZ), text="原文"))
    return row


@pytest.mark.parametrize("sql", [
    "UPDATE cases_caseevent SET details = '{}'::jsonb WHERE id = %s",
    "DELETE FROM cases_caseevent WHERE id = %s",
])
def test_the_database_refuses_to_change_or_delete_an_event(event, sql):
    # when raw SQL tries to rewrite history (inside a savepoint, so the test goes on)
    with (pytest.raises((InternalError, ProgrammingError)) as caught, transaction.atomic(),
          connection.cursor() as cursor):
        cursor.execute(sql, [event.pk])
    # then the trigger refused it (config/dbroles.py) and the row is as written
    assert "append-only" in str(caught.value)
    assert CaseEvent.objects.get(pk=event.pk).details == {"text": "原文"}


def test_the_orm_cannot_change_an_event_either(event):
    event.details = {"text": "改写"}
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        event.save()
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).delete()
    assert CaseEvent.objects.filter(pk=event.pk).count() == 1


def test_an_anonymous_actor_is_stored_as_none(db):
    from django.contrib.auth.models import AnonymousUser

    case = CaseFactory()
    (row,) = events.record(events.note(case=case, actor=AnonymousUser(),
                                       at=datetime(2026, 9, 16, tzinfo=OFFICE_TZ), text="匿名"))
    row.refresh_from_db()
    assert row.actor is None


def test_registration_and_each_step_write_their_own_events(clerk, handler):
    # when a case is registered, routed and signed for
    intake = CaseIntake(
        channel=Channel.ONLINE, received_at=datetime(2025, 11, 3, 9, tzinfo=OFFICE_TZ),
        petitioners=[PetitionerInput(name="赵六", id_number=valid_resident_id(9), address="河口镇",
                                     is_main=True)],
        purpose=Purpose.SUGGESTION, category=CategoryFactory(), summary="建议增设公交站",
        demands="增设站点", place_unit=demo_unit("341122100"))
    case = case_register(actor=clerk, office=demo_unit("341122-D00"), intake=intake)
    case_route(case=case, actor=clerk, lead_unit=demo_unit("341122100"))
    case_sign(case=case, actor=handler)
    # then the trail reads: registered, routing clock started; routed, routing met, the
    # unit's notice clock and objection window started; signed, window met
    kinds = list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("kind", "actor"))
    assert kinds == [
        (EventKind.REGISTERED, clerk.pk), (EventKind.CLOCK_STARTED, clerk.pk),
        (EventKind.TRANSITION, clerk.pk), (EventKind.CLOCK_MET, clerk.pk),
        (EventKind.CLOCK_STARTED, clerk.pk), (EventKind.CLOCK_STARTED, clerk.pk),
        (EventKind.TRANSITION, handler.pk), (EventKind.CLOCK_MET, handler.pk),
    ]
    steps = CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION).order_by("pk")
    assert [(e.from_status, e.to_status, e.details["step"]) for e in steps] == [
        (CaseStatus.REGISTERED, CaseStatus.ROUTED, "route"),
        (CaseStatus.ROUTED, CaseStatus.SIGNED, "sign"),
    ]
    assert steps[0].details["lead_unit"] == "341122100"
