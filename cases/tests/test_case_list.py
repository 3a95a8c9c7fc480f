"""The case list (/cases/) through the real stack: filters, scope, keyset pages, query counts."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import CaseStatus, Channel
from cases.deadlines.calendar import Unit
from cases.deadlines.clocks import OFFICE_TZ, office_calendar
from cases.models import Category
from cases.selectors.lists import case_list_page, cursor_decode, cursor_encode
from cases.tests.factories import CaseFactory, CategoryFactory, DeadlineFactory, demo_unit
from cases.tests.helpers import at

pytestmark = pytest.mark.django_db

URL = reverse("cases:list")


def listed(client, user, **params):
    """Open the list as ``user`` and return the response and the case numbers it shows."""
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response, [case.number for case in response.context["page"].cases]


def today():
    return timezone.localtime(timezone.now(), OFFICE_TZ).date()


def due_in(working_days: int):
    """The day ``working_days`` working days after today on the office calendar."""
    return office_calendar().due_date(today(), working_days, Unit.WORKING).due


def clock(case, kind: str, due_on, **fields):
    """A running clock on ``case`` whose last day is ``due_on`` (it ends at 24:00 that day)."""
    due_at = datetime.combine(due_on + timedelta(days=1), time.min, tzinfo=OFFICE_TZ)
    return DeadlineFactory(case=case, kind=kind, due_on=due_on, due_at=due_at, **fields)


@pytest.fixture
def world(demo_users, leader):
    """Three cases the supervisor sees, each different in every filtered field."""
    land = CategoryFactory(name="土地")
    compensation = Category.objects.add_child(land, {"name": "征地补偿", "code": "C-LAND-1"})
    roads = CategoryFactory(name="交通")
    first = CaseFactory(
        number="T-2026-000101", status=CaseStatus.SIGNED, channel=Channel.VISIT,
        category=compensation, lead_unit=demo_unit("341122100"),
        place_unit=demo_unit("341122100001"), leader=leader, received_at=at("2026-09-10"),
        summary="征地补偿款未按期发放", demands="请求发放补偿款")
    repeat = CaseFactory(
        number="T-2026-000102", status=CaseStatus.ACCEPTED, channel=Channel.LETTER,
        category=roads, lead_unit=demo_unit("341122101"), place_unit=demo_unit("341122101002"),
        received_at=at("2026-10-05"), repeat_of=first,
        summary="道路施工噪音扰民", demands="请求夜间停工")
    new = CaseFactory(
        number="T-2026-000103", channel=Channel.ONLINE, category=land,
        place_unit=demo_unit("341122200"), received_at=at("2026-11-20"),
        summary="低保资格被取消", demands="请求恢复低保")
    # clocks: the first is overdue, the repeat due tomorrow-ish, the new one far off
    clock(first, "reply", today() - timedelta(days=2))
    clock(repeat, "reply", due_in(1))
    clock(repeat, "routing", today() - timedelta(days=5), status="met")  # met: no longer counts
    clock(new, "routing", due_in(10))
    clock(new, "objection", today() - timedelta(days=1))  # a window: a right, not a duty
    return {"first": first, "repeat": repeat, "new": new, "land": land, "roads": roads}


FIRST, REPEAT, NEW = "T-2026-000101", "T-2026-000102", "T-2026-000103"


def test_the_list_shows_every_visible_case_newest_first(client, supervisor, world):
    _response, numbers = listed(client, supervisor)
    assert numbers == [NEW, REPEAT, FIRST]


@pytest.mark.parametrize(("params", "expected"), [
    ({"status": CaseStatus.SIGNED}, [FIRST]),
    ({"channel": Channel.LETTER}, [REPEAT]),
    ({"received_from": "2026-10-01"}, [NEW, REPEAT]),
    ({"received_to": "2026-10-05"}, [REPEAT, FIRST]),  # the whole last day counts
    ({"received_from": "2026-10-05", "received_to": "2026-10-05"}, [REPEAT]),
    ({"deadline": "overdue"}, [FIRST]),  # the new case's lapsed objection window does not count
    ({"deadline": "soon"}, [REPEAT]),
    ({"repeat": "yes"}, [REPEAT]),
    ({"repeat": "no"}, [NEW, FIRST]),
    ({"q": "T-2026-00010"}, [NEW, REPEAT, FIRST]),  # a number prefix
    ({"q": "T-2026-000102"}, [REPEAT]),
    ({"q": "噪音"}, [REPEAT]),  # in the summary
    ({"q": "恢复低保"}, [NEW]),  # in the demands
    ({"status": CaseStatus.SIGNED, "channel": Channel.LETTER}, []),
])
def test_each_filter(client, supervisor, world, params, expected):
    _response, numbers = listed(client, supervisor, **params)
    assert numbers == expected


def test_tree_filters_take_a_node_and_everything_below_it(client, supervisor, leader, world):
    # category: the root 土地 holds the first case's sub-category and the new case itself
    assert listed(client, supervisor, category=world["land"].pk)[1] == [NEW, FIRST]
    assert listed(client, supervisor, category=world["roads"].pk)[1] == [REPEAT]
    # lead unit 城关镇; place: the county holds all three, 城关镇 only its village's case
    assert listed(client, supervisor, lead_unit=demo_unit("341122100").pk)[1] == [FIRST]
    assert listed(client, supervisor, place=demo_unit("341122").pk)[1] == [NEW, REPEAT, FIRST]
    assert listed(client, supervisor, place=demo_unit("341122100").pk)[1] == [FIRST]
    assert listed(client, supervisor, leader=leader.pk)[1] == [FIRST]


def test_rows_show_the_next_duty_clock_in_its_colour(client, supervisor, world, english):
    supervisor.language = "en"
    supervisor.save(update_fields=["language"])
    response, _numbers = listed(client, supervisor)
    tones = {case.number: case.next_deadline.tone for case in response.context["page"].cases}
    assert tones == {FIRST: "overdue", REPEAT: "soon", NEW: "on_track"}
    html = response.content.decode()
    assert "pd-due-overdue" in html and "Overdue by 2 days" in html
    assert "1 working day left" in html and "10 working days left" in html


def test_a_handler_of_another_unit_does_not_find_the_case(client, handler, world):
    # the handler works for 城关镇: the 河口镇 case and the unrouted one are not theirs
    response, numbers = listed(client, handler)
    assert numbers == [FIRST]
    assert REPEAT not in response.content.decode()
    # not even by asking for it by number
    assert listed(client, handler, q=REPEAT)[1] == []


def test_a_user_without_a_case_role_is_refused(client, demo_users):
    client.force_login(demo_users["grid"])
    assert client.get(URL).status_code == 403
    client.logout()
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


# --- Keyset pages -----------------------------------------------------------------------


@pytest.fixture
def many(demo_users):
    """120 cases of 城关镇, received three at a time (equal times test the pk tiebreak)."""
    category, clerk = CategoryFactory(), demo_users["clerk"]
    start = at("2026-06-01", 9)
    return CaseFactory.create_batch(
        120, category=category, registered_by=clerk, lead_unit=demo_unit("341122100"),
        received_at=factory_times(start))


def factory_times(start):
    import factory

    return factory.Sequence(lambda n: start + timedelta(minutes=(n // 3) * 7 % 500))


def walk(client, params, *, forward=True):
    """Follow next (or, from the last page, previous) links; return numbers and page count."""
    numbers, pages, cursor = [], 0, None
    key = "after" if forward else "before"
    while True:
        query = dict(params, **({key: cursor} if cursor else {}))
        page = client.get(URL, query).context["page"]
        pages += 1
        shown = [case.number for case in page.cases]
        numbers = numbers + shown if forward else shown + numbers
        cursor = page.next_cursor if forward else page.previous_cursor
        if cursor is None:
            return numbers, pages


@pytest.mark.parametrize(("sort", "order"), [
    ("-received", ("-received_at", "-pk")),
    ("received", ("received_at", "pk")),
    ("number", ("number",)),
    ("-number", ("-number",)),
])
def test_keyset_pages_walk_every_row_once(client, supervisor, many, sort, order):
    from cases.models import Case

    client.force_login(supervisor)
    expected = list(Case.objects.order_by(*order).values_list("number", flat=True))
    # forward, page after page: 50 + 50 + 20, no duplicates, no gaps
    numbers, pages = walk(client, {"sort": sort})
    assert pages == 3
    assert numbers == expected
    # and back from the last page
    last = client.get(URL, {"sort": sort, "after": cursor_after(expected[99], sort)})
    assert len(last.context["page"].cases) == 20
    back = last.context["page"].previous_cursor
    numbers_back, pages_back = walk(client, {"sort": sort, "before": back}, forward=False)
    assert numbers_back + [case.number for case in last.context["page"].cases] == expected
    assert pages_back == 2


def cursor_after(number: str, sort: str) -> str:
    from cases.models import Case

    return cursor_encode(Case.objects.get(number=number), sort)


def test_the_page_links_carry_the_filters(client, supervisor, many):
    client.force_login(supervisor)
    response = client.get(URL, {"lead_unit": demo_unit("341122100").pk})
    page = response.context["page"]
    html = response.content.decode()
    assert page.previous_cursor is None and page.next_cursor
    assert f"after={page.next_cursor}" in html and "lead_unit=" in html
    nxt = client.get(URL, {"lead_unit": demo_unit("341122100").pk, "after": page.next_cursor})
    assert "before=" in nxt.content.decode()


def test_a_cursor_is_bound_to_its_sort(many):
    token = cursor_encode(many[0], "number")
    assert cursor_decode(token, "number") == (many[0].number,)
    from cases.selectors.lists import CursorError

    with pytest.raises(CursorError):
        cursor_decode(token, "-received")


# --- Query counts ------------------------------------------------------------------------


def test_a_page_costs_the_same_queries_whatever_its_size(client, supervisor, demo_users,
                                                         django_assert_num_queries):
    """Session, user, roles, navigation, the four select lists, rows, clocks, calendar."""
    category, clerk = CategoryFactory(), demo_users["clerk"]
    CaseFactory.create_batch(3, category=category, registered_by=clerk)
    client.force_login(supervisor)
    office_calendar()  # the process-wide calendar is built once; each page only checks it
    with django_assert_num_queries(QUERIES_PER_PAGE):
        small = client.get(URL)
    assert len(small.context["page"].cases) == 3
    cases = CaseFactory.create_batch(70, category=category, registered_by=clerk,
                                     lead_unit=demo_unit("341122100"), leader=demo_users["leader"])
    for case in cases:
        clock(case, "reply", due_in(5))
    with django_assert_num_queries(QUERIES_PER_PAGE):
        full = client.get(URL)
    assert len(full.context["page"].cases) == 50
    assert all(case.next_deadline for case in full.context["page"].cases[:50])


# The session and the user; the user's roles, and the navigation's summary of them; the
# four select lists of the filter form (categories, units twice, leaders); the rows with
# their units and leader joined; their next clocks; the calendar's version; the header's
# unread notifications; and the idle timeout's session save (a savepoint, the UPDATE, its
# release). None grows with the rows.
QUERIES_PER_PAGE = 15


def test_the_selector_costs_the_same_at_any_page_size(supervisor, demo_users,
                                                      django_assert_num_queries):
    category, clerk = CategoryFactory(), demo_users["clerk"]
    cases = CaseFactory.create_batch(60, category=category, registered_by=clerk)
    for case in cases:
        clock(case, "reply", due_in(2))
    office_calendar()
    list(case_list_page(user=supervisor, params={}).cases)  # roles cached on the user now
    for size in (5, 50):
        with django_assert_num_queries(3):  # rows, their clocks, the calendar's version
            page = case_list_page(user=supervisor, params={"deadline": "soon"}, size=size)
            rows = [(c.lead_unit, c.leader, c.registered_unit.name, c.next_deadline.tone)
                    for c in page.cases]
        assert len(rows) == size


# --- Bad input ---------------------------------------------------------------------------


@pytest.fixture
def en_supervisor(supervisor):
    supervisor.language = "en"
    supervisor.save(update_fields=["language"])
    return supervisor


def test_bad_filter_values_are_named_and_the_rest_still_apply(client, en_supervisor, world):
    response, numbers = listed(client, en_supervisor, received_from="next tuesday",
                               status="no-such-state", channel=Channel.LETTER)
    html = response.content.decode()
    assert numbers == [REPEAT]  # the good filter still applies
    assert "Some of what was asked could not be used" in html
    assert "Enter a valid date." in html
    assert "Select a valid choice." in html
    assert 'href="#id_received_from"' in html and 'aria-invalid="true"' in html
    assert 'value="next tuesday"' in html  # what was typed is kept


@pytest.mark.parametrize("params", [
    {"after": "not-a-cursor"},
    {"before": "eyJ4Ijp9"},
    {"after": "WyItcmVjZWl2ZWQiLFsiMjAyNi0xMy0wMSIsMV1d"},  # a month 13
    {"after": "WyJudW1iZXIiLFsxXV0"},  # another sort's cursor, with a number for a text
    {"lead_unit": "abc"},
    {"sort": "drop table"},
    {"received_from": "2026-10-06", "received_to": "2026-10-01"},
])
def test_bogus_input_never_breaks_the_page(client, en_supervisor, world, params):
    response, numbers = listed(client, en_supervisor, **params)
    assert numbers[:1] == [NEW] or numbers == []
    assert "alert-danger" in response.content.decode()


def test_a_bogus_cursor_shows_the_first_page_and_says_so(client, en_supervisor, world):
    response, numbers = listed(client, en_supervisor, after="garbage!!")
    assert numbers == [NEW, REPEAT, FIRST]
    assert "The page link is not valid" in response.content.decode()


# --- Both languages, htmx, empty states --------------------------------------------------


def test_the_page_renders_in_chinese(client, supervisor, world):
    response, _numbers = listed(client, supervisor)
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "信访件编号" in html and "主办单位" in html and "包案领导" in html  # column heads
    assert "已签收" in html and "来信" in html  # a state and a channel
    assert "2026年9月10日" in html  # the received date, Chinese style
    assert f'href="/cases/{FIRST}/"' in html
    assert html.count("<h1") == 1


def test_the_page_renders_in_english(client, en_supervisor, world):
    response, _numbers = listed(client, en_supervisor)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Case list" in html and "Case number" in html and "Signed for" in html
    assert "2026-09-10" in html and "年" not in html.split("<main")[1].split("</main>")[0]
    assert "Filter</button>" in html.replace("\n", "").replace("  ", "") and "Clear filters" in html


def test_htmx_gets_only_the_results(client, supervisor, world):
    client.force_login(supervisor)
    response = client.get(URL, {"channel": Channel.VISIT}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="pd-case-results"' in html
    assert FIRST in html and NEW not in html
    assert "HX-Request" in response["Vary"]


def test_the_empty_states_say_what_to_do(client, en_supervisor, demo_users):
    response, numbers = listed(client, en_supervisor)
    assert numbers == [] and "No cases to show yet" in response.content.decode()
    CaseFactory(registered_by=demo_users["clerk"])
    response, numbers = listed(client, en_supervisor, channel=Channel.PHONE)
    html = response.content.decode()
    assert numbers == [] and "No cases match these filters" in html and "Clear filters" in html



# --- The marks (cases/DECISIONS.md row F) ------------------------------------------------


@pytest.fixture
def marked(demo_users):
    """A threatened level-skipping case, a first petition that is secret, and a plain one."""
    category, clerk = CategoryFactory(), demo_users["clerk"]
    return {
        "threat": CaseFactory(number="T-2026-000201", category=category, registered_by=clerk,
                              has_threat=True, threat_words="去市里闹", is_level_skipping=True,
                              is_litigation_related=True, received_at=at("2026-09-01")),
        "first": CaseFactory(number="T-2026-000202", category=category, registered_by=clerk,
                             is_first_petition=True, is_secret=True, is_public=True,
                             received_at=at("2026-09-02")),
        "plain": CaseFactory(number="T-2026-000203", category=category, registered_by=clerk,
                             received_at=at("2026-09-03")),
    }


@pytest.mark.parametrize(("params", "expected"), [
    ({"has_threat": "true"}, ["T-2026-000201"]),
    ({"has_threat": "false"}, ["T-2026-000203", "T-2026-000202"]),
    ({"is_first_petition": "true"}, ["T-2026-000202"]),
    ({"is_level_skipping": "true"}, ["T-2026-000201"]),
    ({"is_litigation_related": "true"}, ["T-2026-000201"]),
    ({"is_secret": "true"}, ["T-2026-000202"]),
    ({"is_public": "true"}, ["T-2026-000202"]),
    ({"is_public": "false", "is_first_petition": "false"}, ["T-2026-000203", "T-2026-000201"]),
    ({"has_threat": ""}, ["T-2026-000203", "T-2026-000202", "T-2026-000201"]),  # any
])
def test_each_mark_filters_yes_or_no(client, supervisor, marked, params, expected):
    _response, numbers = listed(client, supervisor, **params)
    assert numbers == expected


def test_the_marks_are_in_the_filter_form_and_as_badges(client, supervisor, marked, english):
    supervisor.language = "en"
    supervisor.save(update_fields=["language"])
    response, _numbers = listed(client, supervisor, has_threat="true")
    html = response.content.decode()
    for name in ("is_first_petition", "is_level_skipping", "is_litigation_related", "has_threat",
                 "is_secret", "is_public"):
        assert f'name="{name}"' in html
    assert '<option value="true" selected>' in html
    assert "Threat</span>" in html and "Level-skipping</span>" in html
    assert response.context["page"].is_filtered


def test_mark_filters_cost_no_extra_query(client, supervisor, marked, django_assert_num_queries):
    client.force_login(supervisor)
    office_calendar()
    params = {"has_threat": "false", "is_first_petition": "true", "is_secret": "true"}
    with django_assert_num_queries(QUERIES_PER_PAGE):
        response = client.get(URL, params)
    assert [case.number for case in response.context["page"].cases] == ["T-2026-000202"]
