"""Clock services on real cases: start, pause/resume, extend, meet, recompute, explain.

Dates are checked against chinesecalendar 1.11's 2026 data (see test_calendar.py):
Mid-Autumn 09-25..09-27, National Day 10-01..10-07, make-up workday Sat 10-10.
"""

from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from cases.choices import ClockKind, ClockStatus, EventKind
from cases.deadlines.clocks import (
    OFFICE_TZ,
    ClockError,
    clock_cancel,
    clock_extend,
    clock_meet,
    clock_pause,
    clock_resume,
    clock_start,
    deadline_explain,
    office_calendar,
)
from cases.deadlines.recompute import clocks_recompute
from cases.deadlines.rules import rules_seed
from cases.models import AnnouncedYear, CalendarDay, CaseEvent, Deadline, DeadlineRule
from cases.tests.factories import CaseFactory
from cases.tests.helpers import at

D = date.fromisoformat


def events(case, kind: str) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind=kind).order_by("pk"))


@pytest.fixture(autouse=True)
def deadline_rules(db):
    """Put back the statutory rules: a transactional test's flush (any module's)
    empties the table, and --reuse-db keeps it empty for the next run."""
    rules_seed(DeadlineRule)


@pytest.fixture
def case(clerk):
    return CaseFactory(registered_by=clerk)


def start(case, kind: str, day: str, actor) -> Deadline:
    return clock_start(case=case, kind=kind, start=at(day), actor=actor, at=at(day))


# --- Starting: the counting rule on real clocks --------------------------------------------


def test_period_ending_on_an_official_holiday_moves_to_the_next_working_day(case, clerk):
    # given 15 calendar days from 2026-09-10: the nominal last day 09-25 is Mid-Autumn
    # when
    deadline = start(case, ClockKind.ACCEPTANCE_NOTICE, "2026-09-10", clerk)
    # then the last day moves over 09-25..09-27 to Monday 09-28, ending at 24:00 in Shanghai
    deadline.refresh_from_db()
    assert (deadline.starts_on, deadline.length, deadline.unit) == (D("2026-09-10"), 15, "calendar")
    assert deadline.due_on == D("2026-09-28")
    assert deadline.due_at == datetime(2026, 9, 29, 0, 0, tzinfo=OFFICE_TZ)
    assert deadline.status == ClockStatus.OPEN and not deadline.provisional
    # and the start is in the audit trail
    [event] = events(case, EventKind.CLOCK_STARTED)
    assert event.actor == clerk
    assert event.details["due_on"] == "2026-09-28"
    assert event.details["deadline"] == deadline.pk


def test_periods_spanning_national_day_and_its_make_up_workdays(case, handler):
    # given a start given in UTC that is already 09-16 in Shanghai
    notice = clock_start(case=case, kind=ClockKind.ACCEPTANCE_NOTICE,
                         start=datetime(2026, 9, 15, 17, 0, tzinfo=UTC), actor=handler,
                         at=at("2026-09-16"))
    # and a 5-working-day window from Monday 09-28
    objection = start(case, ClockKind.OBJECTION, "2026-09-28", handler)
    # then 09-16 + 15 = 10-01 moves over the whole break to 10-08
    assert notice.starts_on == D("2026-09-16")
    assert notice.due_on == D("2026-10-08")
    # and the working days are 09-29, 09-30, 10-08, 10-09 and make-up Saturday 10-10
    assert objection.due_on == D("2026-10-10")
    assert objection.due_at == datetime(2026, 10, 11, tzinfo=OFFICE_TZ)


def test_five_working_day_objection_window_skips_the_weekend(case, handler):
    # R22 Art.23: a non-competent unit objects within 5 working days.
    deadline = start(case, ClockKind.OBJECTION, "2026-03-10", handler)
    assert deadline.unit == "working" and deadline.length == 5
    assert deadline.due_on == D("2026-03-17")


def test_starting_a_live_kind_twice_is_refused(case, clerk):
    # given a running acceptance clock
    first = start(case, ClockKind.ACCEPTANCE_NOTICE, "2026-03-02", clerk)
    # when started again, then refused with a clear message
    with pytest.raises(ClockError) as refused:
        start(case, ClockKind.ACCEPTANCE_NOTICE, "2026-03-03", clerk)
    assert refused.value.code == "already_running"
    assert case.number in refused.value.messages[0]
    # and paused counts as live too
    clock_pause(case=case, kind=ClockKind.ACCEPTANCE_NOTICE, actor=clerk, at=at("2026-03-03"),
                reason="test")
    with pytest.raises(ClockError):
        start(case, ClockKind.ACCEPTANCE_NOTICE, "2026-03-04", clerk)
    # once met, the kind may start again
    clock_meet(case=case, kind=ClockKind.ACCEPTANCE_NOTICE, actor=clerk, at=at("2026-03-05"))
    second = start(case, ClockKind.ACCEPTANCE_NOTICE, "2026-03-06", clerk)
    assert second.pk != first.pk
    assert len(events(case, EventKind.CLOCK_STARTED)) == 2


# --- Meeting and cancelling --------------------------------------------------------------


def test_meet_closes_the_clock_and_records_whether_in_time(case, handler):
    start(case, ClockKind.ACCEPTANCE_NOTICE, "2026-03-02", handler)  # due 03-17
    met = clock_meet(case=case, kind=ClockKind.ACCEPTANCE_NOTICE, actor=handler,
                     at=at("2026-03-17", hour=23))
    assert met.status == ClockStatus.MET and met.closed_at == at("2026-03-17", hour=23)
    [event] = events(case, EventKind.CLOCK_MET)
    assert event.details["on_time"] is True
    # and meeting again is no error: nothing is live
    assert clock_meet(case=case, kind=ClockKind.ACCEPTANCE_NOTICE, actor=handler,
                      at=at("2026-03-18")) is None


def test_cancel_records_the_reason_and_none_when_nothing_runs(case, clerk):
    assert clock_cancel(case=case, kind=ClockKind.ROUTING, actor=clerk, at=at("2026-03-02")) is None
    start(case, ClockKind.ROUTING, "2026-03-02", clerk)
    cancelled = clock_cancel(case=case, kind=ClockKind.ROUTING, actor=clerk,
                             at=at("2026-03-03"), reason="answered on the spot")
    assert cancelled.status == ClockStatus.CANCELLED
    [event] = events(case, EventKind.CLOCK_CANCELLED)
    assert event.details["reason"] == "answered on the spot"


# --- Pauses and extensions ----------------------------------------------------------------


def test_hearing_pause_and_resume_add_the_paused_days_back(case, head, english):
    # given a 30-day re-review decision clock from 03-02, due 04-01
    deadline = start(case, ClockKind.REREVIEW_DECISION, "2026-03-02", head)
    assert deadline.due_on == D("2026-04-01")
    # when a hearing pauses it on 03-10 (R22 Art.36: hearing time not counted)
    paused = clock_pause(case=case, kind=ClockKind.REREVIEW_DECISION, actor=head,
                         at=at("2026-03-10"), reason="hearing")
    assert (paused.status, paused.paused_on, paused.due_on) == (
        ClockStatus.PAUSED, D("2026-03-10"), D("2026-04-01"))
    with pytest.raises(ClockError):
        clock_pause(case=case, kind=ClockKind.REREVIEW_DECISION, actor=head,
                    at=at("2026-03-11"), reason="again")
    # and it resumes on 03-18
    resumed = clock_resume(case=case, kind=ClockKind.REREVIEW_DECISION, actor=head,
                           at=at("2026-03-18", hour=15))
    # then 8 days are added back: 38 days from 03-02
    resumed.refresh_from_db()
    assert (resumed.status, resumed.paused_on, resumed.paused_days) == (ClockStatus.OPEN, None, 8)
    assert resumed.due_on == D("2026-04-09")
    [event] = events(case, EventKind.CLOCK_RESUMED)
    assert event.details | {"deadline": 0} == {
        "deadline": 0, "clock": "rereview_decision", "paused_on": "2026-03-10",
        "resumed_on": "2026-03-18", "days_added": 8, "old_due": "2026-04-01",
        "new_due": "2026-04-09",
    }
    assert events(case, EventKind.CLOCK_PAUSED)[0].details["reason"] == "hearing"
    lines = deadline_explain(resumed)
    assert "Paused from 2026-03-10 to 2026-03-18: 8 calendar days not counted." in lines
    assert "Length counted before any extension: 38 calendar days." in lines
    with pytest.raises(ClockError):
        clock_resume(case=case, kind=ClockKind.REREVIEW_DECISION, actor=head, at=at("2026-03-19"))


def test_working_day_clock_adds_back_paused_working_days_only(case, handler):
    # given 5 working days from Thursday 03-12: due Thursday 03-19
    start(case, ClockKind.OBJECTION, "2026-03-12", handler)
    # when paused Friday 03-13 and resumed Monday 03-16: (Fri, Mon] holds one working day
    clock_pause(case=case, kind=ClockKind.OBJECTION, actor=handler, at=at("2026-03-13"),
                reason="hearing")
    resumed = clock_resume(case=case, kind=ClockKind.OBJECTION, actor=handler, at=at("2026-03-16"))
    # then 6 working days: 13, 16, 17, 18, 19, 20
    assert resumed.paused_days == 1
    assert resumed.due_on == D("2026-03-20")


def test_meeting_a_paused_clock_counts_the_pause_so_far(case, head):
    start(case, ClockKind.REREVIEW_DECISION, "2026-03-02", head)  # due 04-01
    clock_pause(case=case, kind=ClockKind.REREVIEW_DECISION, actor=head, at=at("2026-03-25"),
                reason="hearing")
    met = clock_meet(case=case, kind=ClockKind.REREVIEW_DECISION, actor=head,
                     at=at("2026-04-03"))
    assert (met.paused_days, met.due_on, met.paused_on) == (9, D("2026-04-10"), None)
    assert events(case, EventKind.CLOCK_MET)[0].details["on_time"] is True


def test_extension_adds_the_approved_days(case, head, english):
    # given the 60-day reply clock from 08-20, due 10-19
    start(case, ClockKind.REPLY, "2026-08-20", head)
    # when the unit head's approved 30 days are added (R22 Art.34)
    extended = clock_extend(case=case, kind=ClockKind.REPLY, days=30, actor=head,
                            at=at("2026-10-10"))
    # then 30 days from the original last day 10-19 (a working day here): 11-18
    extended.refresh_from_db()
    assert (extended.extension_days, extended.due_on) == (30, D("2026-11-18"))
    assert extended.due_at == datetime(2026, 11, 19, tzinfo=OFFICE_TZ)
    [event] = events(case, EventKind.CLOCK_RECOMPUTED)
    assert event.actor == head
    assert (event.details["cause"], event.details["extension_days"]) == ("extension", 30)
    assert (event.details["old_due"], event.details["new_due"]) == ("2026-10-19", "2026-11-18")
    lines = deadline_explain(extended)
    assert "Approved extension: 30 calendar days, counted from the original last day." in lines
    assert ("The extension is counted from that original last day, 2026-10-19 (Regulations "
            "on Letters and Visits Work, Art. 34).") in lines
    assert "Due: 2026-11-18, until 24:00 (Civil Code Art. 203(2))." in lines
    assert sum(line.startswith("Due:") for line in lines) == 1


def test_extension_needs_a_live_clock_and_positive_days(case, head):
    with pytest.raises(ClockError):
        clock_extend(case=case, kind=ClockKind.REPLY, days=30, actor=head, at=at("2026-10-10"))
    start(case, ClockKind.REPLY, "2026-08-20", head)
    with pytest.raises(ClockError):
        clock_extend(case=case, kind=ClockKind.REPLY, days=0, actor=head, at=at("2026-10-10"))


# --- Recomputing after the office calendar changes -------------------------------------------


def test_2027_clock_is_provisional_until_the_year_is_announced(case, clerk, admin_user, english):
    # given a clock into 2027, whose arrangement is not yet known
    deadline = start(case, ClockKind.ACCEPTANCE_NOTICE, "2026-12-20", clerk)
    assert (deadline.due_on, deadline.provisional) == (D("2027-01-04"), True)
    assert any(line.startswith("Provisional") for line in deadline_explain(deadline))
    # when the administrator enters 2027's arrangement and the clocks are recomputed
    AnnouncedYear.objects.create(year=2027, note="国务院办公厅通知")
    CalendarDay.objects.bulk_create([
        CalendarDay(day=D("2027-01-01"), is_workday=False, name="New Year's Day"),
        CalendarDay(day=D("2027-02-20"), is_workday=True, name="Spring Festival"),
    ])
    changed = clocks_recompute(actor=admin_user, at=at("2026-12-22"), reason="2027 announced")
    # then the clock is firm, and the change is in its audit trail
    deadline.refresh_from_db()
    assert changed == 1
    assert (deadline.due_on, deadline.provisional) == (D("2027-01-04"), False)
    [event] = events(case, EventKind.CLOCK_RECOMPUTED)
    assert event.actor == admin_user
    assert {k: event.details[k] for k in ("old_due", "new_due", "old_provisional",
                                          "new_provisional", "reason")} == {
        "old_due": "2027-01-04", "new_due": "2027-01-04", "old_provisional": True,
        "new_provisional": False, "reason": "2027 announced"}
    assert not any(line.startswith("Provisional") for line in deadline_explain(deadline))


def test_a_holiday_added_later_moves_the_due_day(case, clerk, admin_user):
    # given an open clock due 03-17, a met one due the same day and another case's clock
    moving = start(case, ClockKind.ACCEPTANCE_NOTICE, "2026-03-02", clerk)
    start(case, ClockKind.ROUTING, "2026-03-02", clerk)
    clock_meet(case=case, kind=ClockKind.ROUTING, actor=clerk, at=at("2026-03-05"))
    other = start(CaseFactory(registered_by=clerk), ClockKind.REPLY, "2026-03-02", clerk)
    # when a local holiday is entered on 03-17
    CalendarDay.objects.create(day=D("2026-03-17"), is_workday=False, name="County flood day")
    changed = clocks_recompute(actor=admin_user, at=at("2026-03-10"), reason="flood day")
    # then only the open clock moves, to the next working day
    assert changed == 1
    moving.refresh_from_db()
    assert (moving.due_on, moving.due_at) == (D("2026-03-18"), datetime(2026, 3, 19, tzinfo=OFFICE_TZ))
    assert Deadline.objects.get(kind=ClockKind.ROUTING).due_on == D("2026-03-17")
    assert Deadline.objects.get(pk=other.pk).due_on == other.due_on
    [event] = events(case, EventKind.CLOCK_RECOMPUTED)
    assert event.details["deadline"] == moving.pk
    assert (event.details["old_due"], event.details["new_due"]) == ("2026-03-17", "2026-03-18")
    # and a rerun changes nothing
    assert clocks_recompute(actor=admin_user, at=at("2026-03-10"), reason="again") == 0
    assert len(events(case, EventKind.CLOCK_RECOMPUTED)) == 1


def test_recompute_statement_count_does_not_grow_with_the_clocks(
        clerk, admin_user, django_assert_max_num_queries):
    # given 40 open clocks due 03-17 on 40 cases
    for _ in range(40):
        start(CaseFactory(registered_by=clerk), ClockKind.ACCEPTANCE_NOTICE, "2026-03-02", clerk)
    CalendarDay.objects.create(day=D("2026-03-17"), is_workday=False, name="County flood day")
    # when recomputed, then a handful of statements move all of them (one of them reads the
    # cases' chain heads and takes the events' ids: cases/audit_chain.py)
    with django_assert_max_num_queries(13):
        assert clocks_recompute(actor=admin_user, at=at("2026-03-10"), reason="flood") == 40
    assert CaseEvent.objects.filter(kind=EventKind.CLOCK_RECOMPUTED).count() == 40
    assert set(Deadline.objects.values_list("due_on", flat=True)) == {D("2026-03-18")}


def test_office_calendar_is_cached_until_the_table_changes(db):
    first = office_calendar()
    assert office_calendar() is first
    day = CalendarDay.objects.create(day=D("2026-03-17"), is_workday=False, name="Flood day")
    added = office_calendar()
    assert added is not first and not added.is_workday(D("2026-03-17"))
    # an edit that keeps the row count and ids is seen too
    CalendarDay.objects.filter(pk=day.pk).update(is_workday=True)
    assert office_calendar().is_workday(D("2026-03-17"))
    AnnouncedYear.objects.create(year=2027)
    assert not office_calendar().day(D("2027-01-04")).provisional


# --- explain_deadline ---------------------------------------------------------------------


def run_explain(**options) -> list[str]:
    out = StringIO()
    call_command("explain_deadline", stdout=out, **options)
    return out.getvalue().splitlines()


def test_explain_deadline_prints_the_due_day_first(db, english):
    lines = run_explain(start="2026-09-16", length="15", unit="calendar")
    assert lines[0] == "2026-10-08"
    assert lines[1] == "The start day 2026-09-16 is not counted (Civil Code Art. 201)."
    assert "Due: 2026-10-08, until 24:00 (Civil Code Art. 203(2))." in lines
    assert run_explain(start="2026-09-28", length="5", unit="working")[0] == "2026-10-10"


def test_explain_deadline_marks_a_provisional_due_day(db):
    assert run_explain(start="2026-12-20", length="15")[0] == "2027-01-04 provisional"


@pytest.mark.parametrize(("options", "message"), [
    ({"start": "2026-13-01", "length": "15"}, "--start"),
    ({"start": "2026-09-16", "length": "0"}, "--length"),
    ({"start": "2026-09-16", "length": "x"}, "--length"),
    ({"start": "2026-09-16", "length": "15", "unit": "weeks"}, "--unit"),
    ({"start": "2150-01-01", "length": "15"}, "2150"),
    ({"start": "2026-09-16", "length": "99999999"}, "last date"),
])
def test_explain_deadline_refuses_bad_input(db, english, options, message):
    with pytest.raises(CommandError, match=message):
        run_explain(**options)


# --- Admin ----------------------------------------------------------------------------------


def test_admin_adding_a_holiday_recomputes_after_commit(admin_client_en, clerk,
                                                       django_capture_on_commit_callbacks):
    # given an open clock due 03-17
    case = CaseFactory(registered_by=clerk)
    deadline = start(case, ClockKind.ACCEPTANCE_NOTICE, "2026-03-02", clerk)
    # when the administrator adds 03-17 as a holiday
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client_en.post(reverse("admin:cases_calendarday_add"),
                                        {"day": "2026-03-17", "name": "County flood day"})
    assert response.status_code == 302
    assert CalendarDay.objects.filter(day=D("2026-03-17"), is_workday=False).exists()
    # then nothing moves, and nothing is said about the recompute, before the commit
    deadline.refresh_from_db()
    assert deadline.due_on == D("2026-03-17") and len(callbacks) == 2
    assert not any("recompute" in str(m) for m in get_messages(response.wsgi_request))
    # and after the commit (which a real request runs in the administrator's language)
    with translation.override("en"):
        for callback in callbacks:
            callback()
        # the administrator is told that the clocks are being recomputed
        shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(m.startswith("Open deadlines are being recomputed") for m in shown)
    # and the queued task (eager in tests) moved the clock, naming the admin
    deadline.refresh_from_db()
    assert deadline.due_on == D("2026-03-18")
    [event] = events(case, EventKind.CLOCK_RECOMPUTED)
    assert event.actor.username == "admin"
    assert "2026-03-17" in event.details["reason"]


def test_admin_deleting_a_holiday_recomputes(admin_client_en, clerk,
                                              django_capture_on_commit_callbacks):
    # given a holiday on 03-17 and a clock already moved to 03-18
    holiday = CalendarDay.objects.create(day=D("2026-03-17"), is_workday=False, name="Flood")
    case = CaseFactory(registered_by=clerk)
    deadline = start(case, ClockKind.ACCEPTANCE_NOTICE, "2026-03-02", clerk)
    assert deadline.due_on == D("2026-03-18")
    # when the administrator deletes the holiday
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_en.post(
            reverse("admin:cases_calendarday_delete", args=[holiday.pk]), {"post": "yes"})
    # then the clock is back on 03-17
    assert response.status_code == 302
    deadline.refresh_from_db()
    assert deadline.due_on == D("2026-03-17")
    assert events(case, EventKind.CLOCK_RECOMPUTED)[0].details["new_due"] == "2026-03-17"


def test_deadline_admin_is_read_only_and_shows_the_explanation(admin_client_en, admin_user,
                                                                clerk, county):
    from accounts.choices import Role
    from accounts.services import role_grant

    role_grant(user=admin_user, role=Role.SUPERVISOR, unit=county)  # clocks are case content
    case = CaseFactory(registered_by=clerk)
    deadline = start(case, ClockKind.ACCEPTANCE_NOTICE, "2026-09-16", clerk)
    page = admin_client_en.get(reverse("admin:cases_deadline_change", args=[deadline.pk]))
    assert page.status_code == 200
    assert "Due: 2026-10-08, until 24:00" in page.content.decode()
    assert "2026-10-01 National Day" in page.content.decode()
    assert admin_client_en.get(reverse("admin:cases_deadline_add")).status_code == 403
    listing = admin_client_en.get(reverse("admin:cases_deadline_changelist"))
    assert listing.status_code == 200


def test_calendar_admin_is_for_administrators_only(client, clerk):
    client.force_login(clerk)
    response = client.get(reverse("admin:cases_calendarday_add"))
    assert response.status_code in (302, 403)
    assert not CalendarDay.objects.exists()
