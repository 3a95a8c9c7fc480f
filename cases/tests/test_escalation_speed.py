"""The sweep's bulk paths (cases/services/escalation.py, notify_bulk): rows written as text
(COPY, array literals) and shared per shape read back exactly as the builders make them.

The speed itself is measured by ``make bench`` (ops/bench/sweep.py), not here.
"""

from datetime import date, datetime, timedelta

import pytest

from cases import events
from cases.choices import CaseStatus, EventKind
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import CaseEvent, Escalation
from cases.services.escalation import escalation_reschedule, escalation_sweep
from cases.tests.factories import CaseFactory, DeadlineFactory, demo_unit
from notifications.models import Notification
from notifications.services import NotificationDraft, notify_bulk

pytestmark = pytest.mark.django_db

TOWNSHIP = "341122100"
NOW = datetime(2026, 10, 22, 9, tzinfo=OFFICE_TZ)  # every level of the clocks below is due


def clock_due(demo_users, due_on: date):
    case = CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(TOWNSHIP),
                       leader=demo_users["leader"])
    due_at = datetime.combine(due_on + timedelta(days=1), datetime.min.time(), tzinfo=OFFICE_TZ)
    return DeadlineFactory(case=case, kind="reply", length=60, unit="calendar", due_on=due_on,
                           due_at=due_at)


def test_audit_rows_of_many_shapes_carry_what_the_builder_writes(demo_users):
    # given clocks on three due days, two of them sharing one, in batches smaller than them
    clocks = [clock_due(demo_users, day) for day in
              (date(2026, 9, 30), date(2026, 9, 30), date(2026, 10, 9), date(2026, 9, 1))]
    escalation_reschedule()
    # when they all catch up at once
    report = escalation_sweep(now=NOW, batch=3)
    # then each escalation's audit row is the one events.escalated builds for it
    assert report.total == Escalation.objects.count() > len(clocks)
    for row in Escalation.objects.select_related("deadline"):
        expected = events.escalated(
            case=row.case_id, at=NOW, deadline=row.deadline, level=row.level, offset=row.offset,
            action=row.action, audiences=row.audiences, recipients=row.recipients)
        (event,) = CaseEvent.objects.filter(case_id=row.case_id, kind=EventKind.ESCALATED,
                                            details__level=row.level)
        assert (event.details, event.at, event.actor_id, event.from_status, event.to_status) == (
            expected.details, expected.at, None, "", "")
        assert row.fire_at <= NOW == row.fired_at and row.recipients == sorted(row.recipients)


def test_awkward_text_survives_the_copy(demo_users):
    # given drafts with tabs, line breaks, backslashes, quotes and CJK, one without a case
    case, user = CaseFactory(), demo_users["handler"]
    params = {"case_number": "清信〔2026〕7号\t\\N", "note": 'a "quoted"\nline \\ end', "level": 2}
    drafts = [
        NotificationDraft(user_id=user.pk, case_id=case.pk, kind="escalation",
                          message="clock.due", params=params, url="/cases/a\tb\\c/"),
        NotificationDraft(user_id=user.pk, case_id=None, kind="other", message="x\ny",
                          params={}, url=""),
    ]
    # when they are written
    assert notify_bulk(drafts, at=NOW) == 2
    # then the rows read back as the drafts were
    rows = Notification.objects.order_by("pk").values_list(
        "user_id", "case_id", "kind", "message", "params", "url", "created_at", "read_at")
    assert list(rows) == [(d.user_id, d.case_id, d.kind, d.message, d.params, d.url, NOW, None)
                          for d in drafts]
