"""The audit trail's HMAC-SM3 chain (cases/audit_chain.py) and ``verify_audit``, on the real
database: every writer seals, and what a superuser does where the triggers cannot stop
him is named.

The test connection is the owner, a superuser: it switches a trigger off, changes the
table and switches it back on, as a superuser (or a restored backup) could.
"""

from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import QuerySet
from django.test import override_settings

from cases import audit_chain, events
from cases.choices import CaseStatus, Channel, EventKind, Purpose
from cases.deadlines.clocks import OFFICE_TZ
from cases.demo.bulk import demo_cases_seed
from cases.models import CaseEvent
from cases.services.escalation import escalation_reschedule, escalation_sweep
from cases.services.registration import CaseIntake, PetitionerInput, case_register
from cases.services.transitions import case_route, case_sign
from cases.tests.factories import (
    CaseFactory,
    CategoryFactory,
    DeadlineFactory,
    demo_unit,
    valid_resident_id,
)

pytestmark = pytest.mark.django_db

TOWNSHIP = "341122100"
AT = datetime(2026, 9, 16, 10, tzinfo=OFFICE_TZ)


def verify_audit(*args: str) -> tuple[str, CommandError | None]:
    """Run the command; return its output and the error it ended with, if any."""
    out = StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def as_superuser(sql: str, params=(), *, trigger: str = "audit_append_only_update") -> None:
    """What the triggers stop everyone else doing: switch one off, change, switch it on.

    The foreign keys are checked at once meanwhile: ALTER TABLE refuses to run while the
    test's own transaction holds checks deferred to its commit."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE cases_caseevent DISABLE TRIGGER {trigger}")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE cases_caseevent ENABLE TRIGGER {trigger}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def notes(case, actor, count: int) -> list[CaseEvent]:
    return [events.record(events.note(case=case, actor=actor, at=AT + timedelta(minutes=n),
                                      text=f"第{n}次跟进"))[0] for n in range(count)]


# --- Every writer seals ------------------------------------------------------------------

def test_a_registered_case_s_events_verify(clerk, handler, english):
    # given a case registered, routed and signed for through the services
    intake = CaseIntake(
        channel=Channel.VISIT, received_at=datetime(2026, 9, 16, 9, tzinfo=OFFICE_TZ),
        petitioners=[PetitionerInput(name="赵六", id_number=valid_resident_id(9),
                                     address="河口镇", is_main=True)],
        purpose=Purpose.SUGGESTION, category=CategoryFactory(), summary="建议增设公交站",
        demands="增设站点", place_unit=demo_unit(TOWNSHIP))
    case = case_register(actor=clerk, office=demo_unit("341122-D00"), intake=intake)
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
    case_sign(case=case, actor=handler)
    # then each event follows the one before it on the case, and all of them verify
    rows = list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("pk", "prev",
                                                                               "mac"))
    assert len(rows) == 8
    assert [prev for _pk, prev, _mac in rows] == [None] + [pk for pk, _prev, _mac in rows[:-1]]
    assert all(mac.startswith("t1:") and len(mac) == 67 for _pk, _prev, mac in rows)
    output, error = verify_audit()
    assert error is None
    assert f"Checked 8 events of 1 cases (the latest event checked: {rows[-1][0]})." in output
    assert "All rows verify." in output


def test_events_written_by_the_sweep_verify(demo_users):
    # given a case with a note on file, and a reply clock four levels overdue
    case = CaseFactory(status=CaseStatus.IN_HANDLING, lead_unit=demo_unit(TOWNSHIP),
                       leader=demo_users["leader"])
    (note,) = notes(case, demo_users["clerk"], 1)
    due_on = date(2026, 9, 30)
    DeadlineFactory(case=case, kind="reply", length=60, unit="calendar", due_on=due_on,
                    due_at=datetime(2026, 10, 1, tzinfo=OFFICE_TZ))
    escalation_reschedule()
    # when the sweep catches up on all four levels (level 3 opens a supervision order)
    assert escalation_sweep(now=datetime(2026, 10, 22, 9, tzinfo=OFFICE_TZ)).total == 4
    # then its rows, COPYed in one batch, continue the case's chain from the note
    escalated = list(CaseEvent.objects.filter(case=case, kind=EventKind.ESCALATED)
                     .order_by("pk").values_list("pk", "prev"))
    assert len(escalated) == 4 and escalated[0][1] == note.pk
    assert [prev for _pk, prev in escalated[1:]] == [pk for pk, _prev in escalated[:-1]]
    assert CaseEvent.objects.filter(case=case, kind=EventKind.SUPERVISION_ISSUED).exists()
    assert audit_chain.verify().broken is None


def test_events_written_by_the_bulk_seeder_verify(supervisor):
    # given 50 cases seeded by COPY
    report = demo_cases_seed(count=50, seed=7)
    # then every case's chain starts at its registration and verifies
    result = audit_chain.verify()
    assert (result.broken, result.rows, result.cases) == (None, report.events, 50)
    firsts = CaseEvent.objects.filter(prev__isnull=True)
    assert set(firsts.values_list("kind", flat=True)) == {EventKind.REGISTERED}
    assert firsts.count() == 50


def test_orm_create_and_bulk_create_seal_too(clerk):
    case = CaseFactory()
    first = CaseEvent.objects.create(case=case, kind=EventKind.NOTE, actor=clerk, at=AT,
                                     details={"text": "一"})
    second, third = CaseEvent.objects.bulk_create([
        events.note(case=case, actor=clerk, at=AT, text="二"),
        events.note(case=case, actor=None, at=AT - timedelta(days=1), text="三")])
    # a batch takes its ids in order of time, so its latest row is the case's head
    assert first.pk < third.pk < second.pk
    assert (first.prev, third.prev, second.prev) == (None, first.pk, third.pk)
    fourth = events.record(events.note(case=case, actor=clerk, at=AT, text="四"))[0]
    assert fourth.prev == second.pk
    assert audit_chain.verify().broken is None


# --- What a superuser does is named -------------------------------------------------------

def test_an_audit_row_changed_by_a_superuser_is_named_by_verify_audit(clerk, english):
    # given three notes on a case, the middle one rewritten by a superuser
    case = CaseFactory()
    _first, middle, _last = notes(case, clerk, 3)
    as_superuser("UPDATE cases_caseevent SET details = '{\"text\": \"改写\"}' WHERE id = %s",
                 [middle.pk])
    # when verify_audit walks the trail, then it names that row and fails
    output, error = verify_audit()
    assert error is not None and error.returncode == 1
    assert f"Event {middle.pk} does not verify." in str(error)
    assert f"event {middle.pk} of case {case.number} (note, 2026-09-16T10:01:00+08:00)" in output
    assert "its MAC does not match its content" in output
    assert "Checked 2 events of 1 cases" in output


def test_a_deleted_row_is_named_by_the_row_after_it(clerk, english):
    case = CaseFactory()
    _first, middle, last = notes(case, clerk, 3)
    as_superuser("DELETE FROM cases_caseevent WHERE id = %s", [middle.pk],
                 trigger="audit_append_only_row")
    broken = audit_chain.verify().broken
    assert (broken.id, broken.why, broken.detail) == (last.pk, "prev_missing", str(middle.pk))
    output, error = verify_audit()
    assert error is not None and f"the row it follows, {middle.pk}, is gone" in output


def test_a_row_moved_to_another_case_is_named(clerk):
    # given two cases with their notes, and a note of the first moved to the second
    case, other = CaseFactory(), CaseFactory()
    first, middle, last = notes(case, clerk, 3)
    notes(other, clerk, 2)
    as_superuser("UPDATE cases_caseevent SET case_id = %s WHERE id = %s", [other.pk, middle.pk])
    # then the row that followed it on its case names it as another case's
    broken = audit_chain.verify().broken
    assert (broken.id, broken.why) == (last.pk, "prev_other_case")
    # and walked on its own, the case it was moved to shows it too
    assert audit_chain.verify(case_id=other.pk).broken.id == middle.pk
    # a case's first row, moved, fails its MAC: the case is part of it
    as_superuser("UPDATE cases_caseevent SET case_id = %s WHERE id = %s", [other.pk, first.pk])
    broken = audit_chain.verify(case_id=other.pk).broken
    assert (broken.id, broken.why) == (first.pk, "mac")


@pytest.mark.parametrize(("mac", "why"), [("t1:" + "0" * 64, "mac"), ("t1:伪造", "mac"),
                                          ("x9:" + "0" * 64, "unknown_key"),
                                          ("no key id", "no_mac")])
def test_a_forged_row_is_named(clerk, mac, why):
    # given a row inserted by hand after a case's head, with a MAC made up
    case = CaseFactory()
    (head,) = notes(case, clerk, 1)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO cases_caseevent (case_id, kind, actor_id, at, from_status, "
                       "to_status, details, prev, mac) VALUES (%s, 'note', %s, %s, '', '', "
                       "'{\"text\": \"伪造\"}', %s, %s) RETURNING id",
                       [case.pk, clerk.pk, AT, head.pk, mac])
        (forged,) = cursor.fetchone()
    broken = audit_chain.verify().broken
    assert (broken.id, broken.why) == (forged, why)


def test_two_writers_forking_a_chain_still_verify(clerk):
    # given two transactions that read the same head before either wrote (simulated:
    # each batch sealed before the other is inserted)
    case = CaseFactory()
    (head,) = notes(case, clerk, 1)
    one = events.note(case=case, actor=clerk, at=AT, text="甲")
    two = events.note(case=case, actor=clerk, at=AT, text="乙")
    audit_chain.seal([one])
    audit_chain.seal([two])
    QuerySet(CaseEvent).bulk_create([one, two])  # the plain queryset: sealed already
    assert one.prev == two.prev == head.pk
    # when the next writer comes, it continues from the later branch
    (after,) = notes(case, clerk, 1)
    assert after.prev == two.pk
    # then every row verifies, both branches included
    assert audit_chain.verify().broken is None


# --- Keys and the canonical form -----------------------------------------------------------

def test_rows_keep_verifying_under_their_own_key_after_rotation(clerk):
    case = CaseFactory()
    (old,) = notes(case, clerk, 1)
    keys = {"t1": bytes.fromhex("a7" * 32), "t2": bytes.fromhex("b8" * 32)}
    with override_settings(AUDIT_MAC_KEYS=keys, AUDIT_MAC_CURRENT="t2"):
        (new,) = notes(case, clerk, 1)
        assert (old.mac[:3], new.mac[:3], new.prev) == ("t1:", "t2:", old.pk)
        assert audit_chain.verify().broken is None
    # without the new key, its rows cannot be verified, and are named
    broken = audit_chain.verify().broken
    assert (broken.id, broken.why, broken.detail) == (new.pk, "unknown_key", "t2")


AWKWARD = {
    "text": '中文「引号」 "quoted" \\ back\tslash\nnew line 🙂',
    "nested": {"z": [1, None, {"b": "值", "a": 2}], "a": None, "空": {}},
    "ints": [0, -1, 12345678901234567890], "list": [3, "二", None, True, False, []],
    "floats": [1.5, 0.1, 1e20, -0.0, 2.5e-7, 1e300],
    7: "an int key",
}


def test_the_canonical_form_survives_the_jsonb_round_trip(clerk):
    # given an event whose details hold Chinese text, escapes, nested dicts and awkward numbers
    case = CaseFactory()
    event = CaseEvent.objects.create(case=case, kind=EventKind.NOTE, actor=clerk, at=AT,
                                     details=AWKWARD)
    # then the value JSONB gives back canonicalises as the value written did
    stored = CaseEvent.objects.get(pk=event.pk)
    assert stored.details != AWKWARD  # JSONB changed keys and numbers ...
    assert audit_chain.canonical_json(stored.details) == audit_chain.canonical_json(AWKWARD)
    assert stored.at == AT
    assert audit_chain.verify().broken is None  # ... and the MAC still holds


def test_integer_keys_sort_as_the_text_jsonb_gives_back(clerk):
    # given details keyed by numbers only, which Python sorts 2 < 10 and text "10" < "2"
    case = CaseFactory()
    event = CaseEvent.objects.create(case=case, kind=EventKind.NOTE, actor=clerk, at=AT,
                                     details={2: "二", 10: "十", "x": {3: [], 20: None}})
    # then the row verifies as written
    stored = CaseEvent.objects.get(pk=event.pk)
    assert audit_chain.canonical_json(stored.details) == audit_chain.canonical_json(
        {2: "二", 10: "十", "x": {3: [], 20: None}})
    assert audit_chain.verify().broken is None


def test_a_row_that_has_an_id_is_not_sealed_again(clerk):
    (event,) = notes(CaseFactory(), clerk, 1)
    with pytest.raises(ValueError, match="takes its id from the chain"):
        CaseEvent.objects.bulk_create([event])


def test_since_and_case_choose_what_is_walked(clerk, english):
    old, recent = CaseFactory(), CaseFactory()
    notes(old, clerk, 2)
    events.record(events.note(case=recent, actor=clerk, at=AT - timedelta(days=30), text="旧"))
    events.record(events.note(case=recent, actor=clerk, at=AT + timedelta(days=1), text="新"))
    # --since walks whole every case with an event since the day; --case one case
    output, error = verify_audit("--since", "2026-09-17")
    assert error is None and "Checked 2 events of 1 cases" in output
    output, error = verify_audit("--case", old.number)
    assert error is None and "Checked 2 events of 1 cases" in output
    output, error = verify_audit("--case", "no-such-case")
    assert error is not None and "No case is numbered no-such-case." in str(error)
