"""On its day, an open commitment or leader's instruction is told to the lead unit, once
(cases/services/undertaking_warnings.py), on PostgreSQL with the real notifications."""

import threading
from datetime import date, datetime

import pytest
from django.db import connection

from cases.choices import CaseStatus
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import Commitment, Instruction
from cases.services.undertaking_warnings import undertakings_warn
from cases.services.undertakings import due_at_of
from cases.tests.factories import CaseFactory, demo_unit
from notifications.models import Notification

pytestmark = pytest.mark.django_db
CHENGGUAN = "341122100"
DAY = date(2026, 11, 20)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=OFFICE_TZ)


def commitment(case, user, *, due_on=DAY, done=False):
    return Commitment.objects.create(case=case, text="十日内发放补偿款", due_on=due_on,
                                     due_at=due_at_of(due_on), made_by=user, made_at=at("2026-11-10"),
                                     done_at=at("2026-11-12") if done else None,
                                     done_by=user if done else None)


@pytest.fixture
def handled(leader):
    return CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(CHENGGUAN),
                       leader=leader)


def told(message):
    return set(Notification.objects.filter(message=message).values_list("user_id", flat=True))


def test_the_unit_is_told_on_the_day_once(handled, handler, head, leader):
    # given a commitment and an instruction due on 11-20, and a commitment already kept
    row = commitment(handled, handler)
    commitment(handled, handler, done=True)
    Instruction.objects.create(case=handled, text="请于20日前报结", due_on=DAY,
                               due_at=due_at_of(DAY), given_by=leader, given_at=at("2026-11-13"))
    # when the sweep runs the evening before, nothing is told
    assert undertakings_warn(now=at("2026-11-19T23:59")) == 0
    # and at 00:00 of the day, the lead unit's handler and head are told of each open one
    assert undertakings_warn(now=at("2026-11-20T00:00")) == 2
    assert told("commitment.due") == told("instruction.due") == {handler.pk, head.pk}
    note = Notification.objects.get(message="commitment.due", user=handler)
    assert note.params == {"case_number": handled.number, "due_on": "2026-11-20"}
    row.refresh_from_db()
    assert row.warned_at == at("2026-11-20T00:00")
    # and a rerun, later, tells no one again
    assert undertakings_warn(now=at("2026-11-25T09:00")) == 0
    assert Notification.objects.filter(message__endswith=".due").count() == 4


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_tell_once(county, demo_users):
    handled = CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(CHENGGUAN))
    for _ in range(30):
        commitment(handled, demo_users["handler"])
    barrier, counts = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            counts.append(undertakings_warn(now=at("2026-11-21T08:00")))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 30
    assert Notification.objects.filter(message="commitment.due").count() == 30 * 2
