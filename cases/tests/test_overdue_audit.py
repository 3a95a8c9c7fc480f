"""The supervisors' overdue audit (/cases/overdue/) and its Excel ledger, on the real stack."""

import logging
import tracemalloc
from datetime import datetime, time, timedelta
from io import BytesIO

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.choices import Role
from accounts.services import role_grant
from accounts.tests.factories import UserFactory
from cases.choices import CaseStatus
from cases.deadlines.calendar import Unit
from cases.deadlines.clocks import OFFICE_TZ, office_calendar
from cases.models import Audience, Case, Deadline, Escalation, LadderAction
from cases.selectors.overdue import cursor_decode, cursor_encode, overdue_page
from cases.tests.factories import (
    CaseFactory,
    CasePetitionerFactory,
    CategoryFactory,
    DeadlineFactory,
    PetitionerFactory,
    demo_unit,
)
from cases.tests.helpers import at
from cases.views import overdue as overdue_views

pytestmark = pytest.mark.django_db

URL = reverse("cases:overdue")
EXPORT = reverse("cases:overdue_export")
A, B, C = "T-2026-000201", "T-2026-000202", "T-2026-000203"
TOWNSHIP, RIVER, PEACH = "341122100", "341122101", "341122200"  # 城关镇, 河口镇, 桃源乡


def today():
    return timezone.localtime(timezone.now(), OFFICE_TZ).date()


def due_in(working_days: int):
    return office_calendar().due_date(today(), working_days, Unit.WORKING).due


def clock(case, kind: str, due_on, **fields) -> Deadline:
    """A running clock on ``case`` whose last day is ``due_on`` (it ends at 24:00 that day)."""
    due_at = datetime.combine(due_on + timedelta(days=1), time.min, tzinfo=OFFICE_TZ)
    return DeadlineFactory(case=case, kind=kind, due_on=due_on, due_at=due_at, **fields)


def escalate(deadline: Deadline, level: int, audiences: list[str], recipients, *, hours_ago: int,
             action: str = LadderAction.NOTIFY) -> Escalation:
    fired = timezone.now() - timedelta(hours=hours_ago)
    return Escalation.objects.create(
        deadline=deadline, case=deadline.case, level=level, offset=level - 2,
        audiences=audiences, action=action, recipients=[user.pk for user in recipients],
        fire_at=fired, fired_at=fired)


def opened(client, user, **params):
    """Open the audit as ``user``; return the response and its rows as (number, kind)."""
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response, [(row.case.number, row.clock.kind) for row in response.context["page"].rows]


def ledger(response) -> openpyxl.Workbook:
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return openpyxl.load_workbook(BytesIO(b"".join(response.streaming_content)))


def english(user):
    user.language = "en"
    user.save(update_fields=["language"])
    return user


@pytest.fixture
def world(demo_users, leader, handler, head):
    """Three cases of the county: late, nearly late, not yet routed; and clocks never listed."""
    first = CaseFactory(number=A, status=CaseStatus.SIGNED, lead_unit=demo_unit(TOWNSHIP),
                        leader=leader, received_at=at("2026-09-10"), summary="征地补偿款未发放")
    second = CaseFactory(number=B, status=CaseStatus.ROUTED, lead_unit=demo_unit(RIVER),
                         place_unit=demo_unit("341122101002"), received_at=at("2026-10-05"),
                         summary="道路施工噪音扰民")
    third = CaseFactory(number=C, received_at=at("2026-11-20"), summary="低保资格被取消")
    reply = clock(first, "reply", today() - timedelta(days=5))
    clock(second, "acceptance_notice", due_in(1))
    clock(second, "routing", today() - timedelta(days=9), status="met")  # met: done
    clock(third, "routing", today() - timedelta(days=1))
    clock(third, "objection", today() - timedelta(days=3))  # a window: a right, never listed
    clock(first, "review_request", today() - timedelta(days=2))  # a window too
    clock(third, "reply", due_in(10))  # far off: neither late nor at risk
    clock(first, "review_decision", today() - timedelta(days=4), status="paused")  # not running
    escalate(reply, 1, [Audience.UNIT], [handler, head], hours_ago=200)
    escalate(reply, 2, [Audience.LEADER], [leader], hours_ago=100)
    return {"first": first, "second": second, "third": third, "reply": reply}


ALL = [(A, "reply"), (C, "routing"), (B, "acceptance_notice")]


# --- Who sees what ----------------------------------------------------------------------


def test_the_audit_lists_late_and_nearly_late_duty_clocks_most_overdue_first(
        client, supervisor, world):
    # given the county's cases (world); when the county's supervisor opens the audit
    response, rows = opened(client, supervisor)
    # then the three duty clocks that are late or at risk are listed, most overdue first;
    # windows, met, paused and far-off clocks are not
    assert rows == ALL
    standing = [(row.due.tone, row.due.days) for row in response.context["page"].rows]
    assert standing == [("overdue", 5), ("overdue", 1), ("soon", 1)]


def test_windows_are_never_listed_even_long_overdue(client, supervisor, world):
    # given only windows run out on a new case
    case = CaseFactory(number="T-2026-000299", lead_unit=demo_unit(TOWNSHIP))
    clock(case, "objection", today() - timedelta(days=30))
    clock(case, "rereview_request", today() - timedelta(days=40))
    # when the supervisor opens the audit, asks for them by kind, or exports
    _response, rows = opened(client, supervisor)
    by_kind = client.get(URL, {"kind": "objection"})
    book = ledger(client.get(EXPORT))
    # then none of them appears; asking for a window kind is an error, not a filter
    assert "T-2026-000299" not in {number for number, _kind in rows}
    assert by_kind.context["form"].errors["kind"]
    assert "T-2026-000299" not in {row[0] for row in book.active.iter_rows(values_only=True)}


def test_a_supervisor_of_another_unit_sees_nothing_of_ours(client, world):
    # given a supervisor of 桃源乡, where none of the cases belongs
    stranger = UserFactory(username="peach-supervisor")
    role_grant(user=stranger, role=Role.SUPERVISOR, unit=demo_unit(PEACH))
    # when they open the audit and export it
    response, rows = opened(client, stranger)
    book = ledger(client.get(EXPORT))
    # then there is nothing, not even in the counts or the ledger
    assert rows == [] and response.context["page"].summary == []
    assert A not in response.content.decode()
    assert [list(row) for row in book.active.iter_rows(min_row=2, values_only=True)] == []


def test_a_supervisor_of_one_township_sees_only_its_cases(client, world):
    # given a supervisor of 城关镇: the first case is led there, the third belongs to its place
    local = UserFactory(username="town-supervisor")
    role_grant(user=local, role=Role.SUPERVISOR, unit=demo_unit(TOWNSHIP))
    # when they open the audit; then 河口镇's case is not theirs
    assert opened(client, local)[1] == [(A, "reply"), (C, "routing")]


def test_a_handler_may_open_neither_the_audit_nor_the_export(client, handler, world):
    client.force_login(handler)
    assert client.get(URL).status_code == 403
    assert client.get(EXPORT).status_code == 403
    client.logout()
    response = client.get(EXPORT)
    assert response.status_code == 302 and "login" in response["Location"]


# --- Filters and sorts -------------------------------------------------------------------


@pytest.mark.parametrize(("params", "expected"), [
    ({"unit": "county"}, [(A, "reply"), (B, "acceptance_notice")]),  # unrouted has no unit
    ({"unit": TOWNSHIP}, [(A, "reply")]),
    ({"unit": RIVER}, [(B, "acceptance_notice")]),
    ({"unit": PEACH}, []),
    ({"kind": "routing"}, [(C, "routing")]),
    ({"standing": "overdue"}, [(A, "reply"), (C, "routing")]),
    ({"standing": "at_risk"}, [(B, "acceptance_notice")]),
    ({"min_days": "1"}, [(A, "reply"), (C, "routing")]),
    ({"min_days": "5"}, [(A, "reply")]),
    ({"min_days": "6"}, []),
    ({"received_from": "2026-10-01"}, [(C, "routing"), (B, "acceptance_notice")]),
    ({"received_to": "2026-10-05"}, [(A, "reply"), (B, "acceptance_notice")]),
    ({"received_from": "2026-10-05", "received_to": "2026-10-05"}, [(B, "acceptance_notice")]),
    ({"standing": "at_risk", "unit": TOWNSHIP}, []),
])
def test_each_filter(client, supervisor, world, params, expected):
    params = dict(params)
    if "unit" in params:
        params["unit"] = demo_unit("341122" if params["unit"] == "county" else params["unit"]).pk
    assert opened(client, supervisor, **params)[1] == expected


def test_the_leader_filter(client, supervisor, leader, world):
    assert opened(client, supervisor, leader=leader.pk)[1] == [(A, "reply")]


def test_a_bad_filter_is_reported_and_left_out(client, supervisor, world):
    response, rows = opened(client, supervisor, min_days="0", standing="overdue")
    assert "min_days" in response.context["form"].errors
    assert rows == [(A, "reply"), (C, "routing")]  # the good filter still applies
    assert "pd-error-summary" in response.content.decode()


@pytest.mark.parametrize(("sort", "expected"), [
    ("overdue", ALL),
    ("-overdue", ALL[::-1]),
    ("number", [(A, "reply"), (B, "acceptance_notice"), (C, "routing")]),
    ("-number", [(C, "routing"), (B, "acceptance_notice"), (A, "reply")]),
    ("received", [(A, "reply"), (B, "acceptance_notice"), (C, "routing")]),
    ("-received", [(C, "routing"), (B, "acceptance_notice"), (A, "reply")]),
])
def test_each_sort(client, supervisor, world, sort, expected):
    assert opened(client, supervisor, sort=sort)[1] == expected


# --- What a row says ---------------------------------------------------------------------


def test_a_row_shows_who_it_is_escalated_to_and_its_history(client, supervisor, leader, handler,
                                                            head, world):
    # given the first case's reply clock fired level 1 to the unit and level 2 to its leader
    english(supervisor)
    # when the supervisor opens the audit
    response, _rows = opened(client, supervisor)
    first, routing, _notice = response.context["page"].rows
    # then the row is escalated to the leader now, and its history names who was told
    assert first.current.level == 2
    with translation.override("en"):  # the supervisor reads English
        assert first.current.audiences == [str(Audience.LEADER.label)]
    assert [(entry.level, entry.recipients) for entry in first.history] == [
        (1, [handler.name, head.name]), (2, [leader.name])]
    assert routing.current is None and routing.history == []
    html = response.content.decode()
    assert '<details class="pd-escalation-history">' in html
    assert "Escalation history (2 levels)" in html and f"{handler.name}, {head.name}" in html
    assert "Not escalated yet" in html
    assert f'href="/cases/{A}/"' in html


def test_the_counts_by_unit_cover_the_whole_filtered_set(client, supervisor, world):
    response, _rows = opened(client, supervisor)
    counts = [(c.name, c.overdue, c.at_risk) for c in response.context["page"].summary]
    assert counts == [("城关镇", 1, 0), ("", 1, 0), ("河口镇", 0, 1)]
    # with a filter, only what it keeps
    response, _rows = opened(client, supervisor, standing="at_risk")
    assert [(c.name, c.overdue, c.at_risk) for c in response.context["page"].summary] == [
        ("河口镇", 0, 1)]


# --- Keyset pages and query counts -------------------------------------------------------


def late_clocks(count: int, demo_users, *, escalated: bool = True) -> list[Deadline]:
    """``count`` overdue reply clocks of 城关镇 cases, each escalated to its unit and leader."""
    category, clerk = CategoryFactory(), demo_users["clerk"]
    cases = CaseFactory.create_batch(count, category=category, registered_by=clerk,
                                     lead_unit=demo_unit(TOWNSHIP), leader=demo_users["leader"])
    clocks = [clock(case, "reply", today() - timedelta(days=1 + n % 7))
              for n, case in enumerate(cases)]
    if escalated:
        for deadline in clocks:
            escalate(deadline, 1, [Audience.UNIT], [demo_users["handler"]], hours_ago=30)
            escalate(deadline, 2, [Audience.LEADER], [demo_users["leader"]], hours_ago=3)
    return clocks


@pytest.mark.parametrize("sort", ["overdue", "-overdue", "number", "-received"])
def test_keyset_pages_walk_every_row_once(client, supervisor, demo_users, sort):
    # given 120 late clocks, several due on the same day (the pk breaks the ties)
    late_clocks(120, demo_users, escalated=False)
    client.force_login(supervisor)
    # when the supervisor follows the next links, then the previous links back
    seen, cursor, pages = [], None, 0
    while True:
        page = client.get(URL, {"sort": sort, **({"after": cursor} if cursor else {})}).context["page"]
        seen += [row.clock.pk for row in page.rows]
        pages += 1
        if not (cursor := page.next_cursor):
            break
    back, cursor = [], page.previous_cursor
    while cursor:
        page = client.get(URL, {"sort": sort, "before": cursor}).context["page"]
        back = [row.clock.pk for row in page.rows] + back
        cursor = page.previous_cursor
    # then each clock appears once, in the sort's order, both ways
    assert pages == 3 and len(seen) == 120 and len(set(seen)) == 120
    assert back == seen[:100]
    first = Deadline.objects.get(pk=seen[0])
    assert cursor_decode(cursor_encode(first, sort), sort)[-1] == first.pk


def test_a_page_costs_the_same_queries_whatever_its_size(client, supervisor, demo_users,
                                                         django_assert_num_queries):
    # given 3 escalated late clocks, then 80
    office_calendar()  # built once per process; each page only checks its version
    client.force_login(supervisor)
    late_clocks(3, demo_users)
    with CaptureQueriesContext(connection) as small_queries:
        small = client.get(URL)
    late_clocks(77, demo_users)
    # when the page shows 50 rows; then it costs what the page of 3 cost
    with django_assert_num_queries(len(small_queries)):
        full = client.get(URL)
    assert len(small.context["page"].rows) == 3
    assert len(full.context["page"].rows) == 50
    assert all(len(row.history) == 2 for row in full.context["page"].rows)
    assert full.context["page"].total_overdue == 80


def test_the_selector_costs_the_same_queries_at_any_page_size(supervisor, demo_users,
                                                               django_assert_num_queries):
    office_calendar()
    late_clocks(3, demo_users)
    overdue_page(user=supervisor, params={})  # the user's roles, read once and kept on it
    with django_assert_num_queries(SELECTOR_QUERIES):
        small = overdue_page(user=supervisor, params={})
    late_clocks(77, demo_users)
    with django_assert_num_queries(SELECTOR_QUERIES):
        full = overdue_page(user=supervisor, params={"sort": "number"})
    assert len(small.rows) == 3 and len(full.rows) == 50


# The calendar's version; the rows (case, unit and leader joined); their escalations; the
# recipients' names; the counts by unit. (The page adds the session, the user, the roles,
# the filter form's two select lists and what the header shows: constant too.)
SELECTOR_QUERIES = 5


# --- The Excel ledger --------------------------------------------------------------------


def test_the_ledger_holds_every_filtered_clock_without_personal_data(client, supervisor, leader,
                                                                      world, caplog):
    # given a petitioner with an ID number and a phone on the first case
    person = PetitionerFactory(name="张三", phone="13812345678")
    CasePetitionerFactory(case=world["first"], petitioner=person)
    english(supervisor)
    client.force_login(supervisor)
    # when the supervisor exports the audit
    with caplog.at_level(logging.INFO, logger="cases.export"):
        response = client.get(EXPORT)
    book = ledger(response)
    # then one sheet holds the header in the user's language and the three rows, dates in ISO
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response[
        "Content-Disposition"]
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Case number", "Case state", "Received on", "Lead unit",
                       "Responsible leader", "Clock", "Due day", "Overdue or at risk",
                       "Days overdue", "Working days left", "Escalation levels fired",
                       "Current level", "Last escalated at", "Escalated to")
    assert [row[0] for row in rows[1:]] == [A, C, B]
    late = rows[1]
    assert late[1:6] == ("Signed for", datetime(2026, 9, 10), "城关镇", leader.name, "Written reply")
    assert late[6] == datetime.combine(today() - timedelta(days=5), time.min)
    assert late[7:12] == ("Overdue", 5, None, "1, 2", 2)
    with translation.override("en"):  # the ledger's words are the exporter's language
        assert late[13] == str(Audience.LEADER.label)
    assert sheet["C2"].number_format == "yyyy-mm-dd" and sheet["G2"].number_format == "yyyy-mm-dd"
    assert rows[3][7:10] == ("At risk", None, 1)
    assert rows[2][3] is None and rows[2][10] is None  # not routed, never escalated
    # and nothing of the petitioner is in it
    cells = {str(value) for row in rows for value in row if value is not None}
    assert not cells & {person.name, person.phone, person.id_number}
    assert not any(person.id_number in value or person.phone in value for value in cells)
    # and one audit line says who exported how many rows with which filters
    lines = [record.getMessage() for record in caplog.records if record.name == "cases.export"]
    assert len(lines) == 1
    assert "user=supervisor" in lines[0] and "rows=3" in lines[0] and "filters=-" in lines[0]


def test_the_ledger_uses_the_filters_and_sort_of_the_query_string(client, supervisor, world,
                                                                   caplog):
    client.force_login(supervisor)
    unit = demo_unit(TOWNSHIP)
    with caplog.at_level(logging.INFO, logger="cases.export"):
        book = ledger(client.get(EXPORT, {"standing": "overdue", "sort": "-overdue"}))
        only = ledger(client.get(EXPORT, {"unit": unit.pk}))
    assert [row[0] for row in book.active.iter_rows(min_row=2, values_only=True)] == [C, A]
    assert [row[0] for row in only.active.iter_rows(min_row=2, values_only=True)] == [A]
    assert f"filters=unit={unit.pk}" in caplog.records[-1].getMessage()


def test_the_ledger_speaks_the_users_language(client, supervisor, world):
    # given a supervisor working in Chinese (the default)
    client.force_login(supervisor)
    # when they export; then the words the catalogue has are Chinese
    rows = list(ledger(client.get(EXPORT)).active.iter_rows(min_row=2, values_only=True))
    assert rows[0][7] == "已超期"


def test_a_full_sheet_continues_on_the_next(client, supervisor, world, monkeypatch):
    # given sheets of three rows: a header and two clocks
    monkeypatch.setattr(overdue_views, "SHEET_ROWS", 3)
    client.force_login(english(supervisor))
    # when the three clocks are exported
    book = ledger(client.get(EXPORT))
    # then the second sheet carries on with its own header, nothing lost or repeated
    assert book.sheetnames == ["Overdue ledger", "Overdue ledger (2)"]
    first, second = (list(book[name].iter_rows(values_only=True)) for name in book.sheetnames)
    assert first[0] == second[0] and first[0][0] == "Case number"
    assert [row[0] for row in first[1:] + second[1:]] == [A, C, B]


def test_an_empty_ledger_still_opens(client, supervisor, demo_users):
    client.force_login(english(supervisor))
    book = ledger(client.get(EXPORT))
    assert book.sheetnames == ["Overdue ledger"]
    assert list(book.active.iter_rows(values_only=True))[0][0] == "Case number"


LEDGER_ROWS = 20_000
# Held at once, 20,000 ledger rows would take some 16 MB (fourteen values each); the export
# holds one cursor chunk and one row of cells at a time (its peak measured about 3 MB).
PEAK_BYTES = 8 * 1024 * 1024


def test_the_export_streams_in_flat_memory(client, supervisor, demo_users):
    # given 20,000 late clocks, bulk-created
    category, clerk = CategoryFactory(), demo_users["clerk"]
    unit, office, leader = demo_unit(TOWNSHIP), demo_unit("341122-D00"), demo_users["leader"]
    cases = Case.objects.bulk_create(
        [CaseFactory.build(category=category, registered_by=clerk, registered_unit=office,
                           lead_unit=unit, place_unit=unit, leader=leader)
         for _n in range(LEDGER_ROWS)], batch_size=2000)
    due_on = today() - timedelta(days=3)
    due_at = datetime.combine(due_on + timedelta(days=1), time.min, tzinfo=OFFICE_TZ)
    Deadline.objects.bulk_create(
        [DeadlineFactory.build(case=case, kind="reply", due_on=due_on, due_at=due_at)
         for case in cases], batch_size=2000)
    with connection.cursor() as cursor:  # as autovacuum would after a bulk load
        cursor.execute("ANALYZE cases_case, cases_deadline, cases_escalation")
    client.force_login(supervisor)
    client.get(URL)  # warm the calendar, the session and the templates
    # when the supervisor exports all of them, memory traced
    tracemalloc.start()
    try:
        response = client.get(EXPORT)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # then the peak stays under the bound, and every row is in the file
    assert peak < PEAK_BYTES, f"peak {peak / 2**20:.1f} MB"
    sheet = openpyxl.load_workbook(BytesIO(b"".join(response.streaming_content)),
                                   read_only=True).active
    assert sum(1 for _row in sheet.iter_rows(min_row=2, max_col=1, values_only=True)) == (
        LEDGER_ROWS)

