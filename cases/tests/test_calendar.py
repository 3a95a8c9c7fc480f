"""The day-counting rule (民法典 Art. 201/203) and its day sources.

Dates in official years are checked against chinesecalendar 1.11's 2026 data:
National Day 10-01..10-07, Mid-Autumn 09-25..09-27, make-up workdays 01-04,
02-14, 02-28, 05-09, 09-20 and 10-10.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from lunardate import LunarDate

from cases.deadlines.calendar import DayOverride, Source, Unit, WorkCalendar
from cases.deadlines.fallback import qingming, statutory_holidays

D = date.fromisoformat


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture
def english():
    """Make gettext usable: real settings under pytest-django, a bare config without it."""
    from django.conf import settings
    from django.utils import translation

    if not settings.configured:
        settings.configure(USE_I18N=False)
    with translation.override("en"):
        yield


# --- calendar-day periods ----------------------------------------------------------


def test_last_day_on_national_day_moves_to_first_working_day_after(cal):
    # given 15 calendar days from 2026-09-16: the nominal last day is 10-01
    # when
    due = cal.due_date(D("2026-09-16"), 15, Unit.CALENDAR)
    # then the whole National Day break is passed over
    assert due.moved_from == D("2026-10-01")
    assert due.due == D("2026-10-08")
    assert [i.day for i in due.skipped] == [D(f"2026-10-0{k}") for k in range(1, 8)]
    assert all(i.source == Source.OFFICIAL and i.name == "National Day" for i in due.skipped)
    assert not due.provisional
    # and chinesecalendar agrees day by day
    assert chinese_calendar.is_workday(due.due)
    assert not any(chinese_calendar.is_workday(i.day) for i in due.skipped)


def test_start_day_is_not_counted(cal):
    assert cal.due_date(D("2026-03-02"), 1, Unit.CALENDAR).due == D("2026-03-03")
    assert cal.due_date(D("2026-03-02"), 15, Unit.CALENDAR).due == D("2026-03-17")
    assert cal.due_date(D("2026-03-02"), 1, Unit.WORKING).due == D("2026-03-03")


def test_weekend_last_day_moves_to_monday(cal):
    # given 2026-03-06 (Fri) + 15 days = 03-21, a Saturday
    due = cal.due_date(D("2026-03-06"), 15, Unit.CALENDAR)
    assert due.moved_from == D("2026-03-21")
    assert due.due == D("2026-03-23")
    assert [(i.day, i.source) for i in due.skipped] == [
        (D("2026-03-21"), Source.WEEKEND),
        (D("2026-03-22"), Source.WEEKEND),
    ]


def test_make_up_saturday_is_a_working_last_day(cal):
    # given 2026-09-25 + 15 days = 10-10, a Saturday that is a make-up workday
    due = cal.due_date(D("2026-09-25"), 15, Unit.CALENDAR)
    assert due.due == D("2026-10-10")
    assert due.moved_from is None
    assert due.skipped == ()
    assert cal.day(D("2026-10-10")).is_workday


def test_60_day_handling_period_unaffected_by_holidays_in_between(cal):
    # Calendar days run through holidays; only the last day matters (Art. 203(1)).
    due = cal.due_date(D("2026-08-20"), 60, Unit.CALENDAR)
    assert due.due == D("2026-10-19")
    assert due.moved_from is None


# --- working-day periods ------------------------------------------------------------


def test_five_working_day_objection_window_skips_the_weekend(cal):
    # R22 Art. 23: a non-competent unit objects within 5 working days.
    due = cal.due_date(D("2026-03-10"), 5, Unit.WORKING)  # a Tuesday
    assert due.due == D("2026-03-17")
    assert [i.day for i in due.skipped] == [D("2026-03-14"), D("2026-03-15")]
    assert cal.due_date(D("2026-03-13"), 5, Unit.WORKING).due == D("2026-03-20")


def test_working_days_span_national_day_and_count_make_up_saturday(cal):
    # given 2026-09-28 (Mon): 09-29, 09-30, [10-01..10-07 off], 10-08, 10-09, 10-10 (make-up Sat)
    due = cal.due_date(D("2026-09-28"), 5, Unit.WORKING)
    assert due.due == D("2026-10-10")
    assert len(due.skipped) == 7
    assert due.moved_from is None
    assert not due.provisional
    assert due.due == chinese_calendar.find_workday(5, D("2026-09-28"))


def test_make_up_sunday_counts_as_a_working_day(cal):
    # given 2026-09-18 (Fri): 09-19 Sat off, 09-20 Sun make-up workday, 09-21 Mon
    due = cal.due_date(D("2026-09-18"), 2, Unit.WORKING)
    assert due.due == D("2026-09-21")
    assert [i.day for i in due.skipped] == [D("2026-09-19")]
    assert cal.day(D("2026-09-20")).source == Source.OFFICIAL


def test_working_unit_agrees_with_chinesecalendar_all_year(cal):
    # find_workday counts a rest start day's next workday as day 0, so compare workday starts.
    for k in range(365 + 348):  # 2025-01-01 .. 2026-12-14: stays inside the official data
        start = date.fromordinal(D("2025-01-01").toordinal() + k)
        if not chinese_calendar.is_workday(start):
            continue
        assert cal.due_date(start, 5, Unit.WORKING).due == chinese_calendar.find_workday(5, start)


def test_working_days_between_counts_the_half_open_interval(cal):
    assert cal.working_days_between(D("2026-09-30"), D("2026-10-10")) == 3
    assert cal.working_days_between(D("2026-10-10"), D("2026-09-30")) == -3
    assert cal.working_days_between(D("2026-10-08"), D("2026-10-08")) == 0
    due = cal.due_date(D("2026-09-28"), 5, Unit.WORKING)
    assert cal.working_days_between(due.start, due.due) == 5


# --- years without official data ----------------------------------------------------


def test_2027_clock_is_provisional_from_the_fallback(cal):
    due = cal.due_date(D("2026-12-20"), 15, Unit.CALENDAR)
    assert due.due == D("2027-01-04")
    assert due.provisional
    assert cal.day(D("2027-01-04")).source == Source.FALLBACK


def test_2027_last_day_on_new_year_moves_over_fallback_holiday_and_weekend(cal):
    due = cal.due_date(D("2026-12-17"), 15, Unit.CALENDAR)
    assert due.moved_from == D("2027-01-01")
    assert due.due == D("2027-01-04")
    assert [(i.day, i.name) for i in due.skipped] == [
        (D("2027-01-01"), "New Year's Day"),
        (D("2027-01-02"), ""),
        (D("2027-01-03"), ""),
    ]
    assert due.provisional


def test_working_clock_reaching_into_2027_is_provisional(cal):
    due = cal.due_date(D("2026-12-28"), 5, Unit.WORKING)
    # 12-29, 12-30, 12-31, [01-01 holiday, 01-02/03 weekend], 01-04, 01-05
    assert due.due == D("2027-01-05")
    assert due.provisional


def test_2026_clock_that_stays_in_2026_is_not_provisional(cal):
    assert not cal.due_date(D("2026-12-01"), 15, Unit.CALENDAR).provisional


def test_announced_2027_makes_the_clock_final():
    # given the office has entered its 2027 arrangement
    overrides = {D("2027-01-01"): DayOverride(is_workday=False, name="New Year's Day")}
    cal = WorkCalendar(overrides, announced_years=[2027])
    # when
    due = cal.due_date(D("2026-12-20"), 15, Unit.CALENDAR)
    # then
    assert due.due == D("2027-01-04")
    assert not due.provisional
    assert cal.day(D("2027-01-01")).source == Source.OFFICE


def test_announced_2027_override_changes_the_date():
    # given the announced arrangement also gives Monday 01-04 off
    overrides = {
        D("2027-01-01"): DayOverride(False, "New Year's Day"),
        D("2027-01-04"): DayOverride(False, "New Year's Day"),
    }
    cal = WorkCalendar(overrides, announced_years={2027})
    due = cal.due_date(D("2026-12-20"), 15, Unit.CALENDAR)
    assert due.due == D("2027-01-05")
    assert due.moved_from == D("2027-01-04")
    assert not due.provisional


def test_announced_year_uses_only_overrides_and_weekends():
    cal = WorkCalendar(announced_years=[2027])
    # Fallback holidays are not assumed once the year is announced.
    assert cal.day(D("2027-02-08")).is_workday  # a Monday, fallback Spring Festival
    assert cal.day(D("2027-02-08")).source == Source.WEEKDAY
    assert cal.day(D("2027-02-06")).source == Source.WEEKEND
    assert not cal.day(D("2027-02-06")).is_workday


def test_office_make_up_workday_in_announced_year():
    cal = WorkCalendar({D("2027-02-20"): DayOverride(True, "Spring Festival")}, [2027])
    assert cal.is_workday(D("2027-02-20"))  # a Saturday


def test_spring_festival_fallback_2027(cal):
    assert LunarDate(2027, 1, 1).to_solar_date() == D("2027-02-06")
    for day in ("2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"):
        info = cal.day(D(day))
        assert (info.is_workday, info.name, info.source) == (
            False,
            "Spring Festival",
            Source.FALLBACK,
        )
    assert cal.is_workday(D("2027-02-04"))
    assert cal.is_workday(D("2027-02-09"))


def test_chuxi_on_the_29th_of_the_twelfth_month():
    # Lunar year 2024's 12th month has 29 days: 除夕 2025-01-28 is the 29th.
    assert LunarDate.from_solar_date(2025, 1, 28).day == 29
    assert statutory_holidays(2025)[D("2025-01-28")] == "Spring Festival"
    assert D("2025-01-27") not in statutory_holidays(2025)


def test_fallback_2027_lunar_and_fixed_holidays():
    days = statutory_holidays(2027)
    assert days[D("2027-04-05")] == "Tomb-sweeping Day"
    assert days[D("2027-05-01")] == days[D("2027-05-02")] == "Labour Day"
    assert D("2027-05-03") not in days
    assert days[D("2027-06-09")] == "Dragon Boat Festival"  # 5th of the 5th lunar month
    assert days[D("2027-09-15")] == "Mid-autumn Festival"  # 15th of the 8th lunar month
    assert [days.get(D(f"2027-10-0{k}")) for k in (1, 2, 3, 4)] == ["National Day"] * 3 + [None]
    assert len(days) == 13


def test_mid_autumn_on_national_day_keeps_one_day():
    days = statutory_holidays(2028)  # Mid-Autumn 2028 is 10-03
    assert days[D("2028-10-03")] == "National Day"
    assert len(days) == 12


@pytest.mark.parametrize("year", [2025, 2026])
def test_fallback_days_are_rest_days_in_the_official_data(year):
    # The 2024 amendment took effect in 2025: each statutory day is off in both years.
    for day in statutory_holidays(year):
        assert not chinese_calendar.is_workday(day), day


@pytest.mark.parametrize("year", range(2020, 2027))
def test_qingming_formula_matches_chinesecalendar(year):
    day = qingming(year)
    terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))
    assert (day, "清明") in terms
    assert chinese_calendar.get_holiday_detail(day) == (True, "Tomb-sweeping Day")


def test_fallback_outside_supported_years_raises():
    with pytest.raises(ValueError):
        statutory_holidays(2100)


# --- office overrides ---------------------------------------------------------------


def test_office_holiday_on_a_weekday_changes_a_due_date():
    # given a local holiday on Tuesday 2026-03-10
    plain = WorkCalendar()
    local = WorkCalendar({D("2026-03-10"): DayOverride(False, "County holiday")})
    # then a working-day clock running over it needs one more day
    assert plain.due_date(D("2026-03-06"), 5, Unit.WORKING).due == D("2026-03-13")
    due = local.due_date(D("2026-03-06"), 5, Unit.WORKING)
    assert due.due == D("2026-03-16")
    assert (D("2026-03-10"), Source.OFFICE) in [(i.day, i.source) for i in due.skipped]
    # and a calendar clock ending on it moves to the next day
    assert local.due_date(D("2026-02-23"), 15, Unit.CALENDAR).due == D("2026-03-11")


def test_office_override_beats_official_data():
    cal = WorkCalendar({D("2026-10-10"): DayOverride(False, "")})
    assert not cal.is_workday(D("2026-10-10"))
    assert cal.due_date(D("2026-09-28"), 5, Unit.WORKING).due == D("2026-10-12")


# --- API details ----------------------------------------------------------------------


def test_unit_may_be_given_as_its_value(cal):
    assert cal.due_date(D("2026-03-10"), 5, "working").unit is Unit.WORKING


def test_due_dates_are_cached(cal):
    first = cal.due_date(D("2026-03-10"), 5, Unit.WORKING)
    assert cal.due_date(D("2026-03-10"), 5, "working") is first


@pytest.mark.parametrize("length", [0, -1])
def test_period_must_be_at_least_one_day(cal, length):
    with pytest.raises(ValueError):
        cal.due_date(D("2026-03-10"), length, Unit.CALENDAR)


def test_period_ends_at_24_00_of_the_due_day(cal):
    shanghai = ZoneInfo("Asia/Shanghai")
    due = cal.due_date(D("2026-09-16"), 15, Unit.CALENDAR)
    assert due.ends_at(shanghai) == datetime(2026, 10, 9, 0, 0, tzinfo=shanghai)


def test_explain_calendar_move(cal, english):
    lines = cal.due_date(D("2026-09-16"), 15, Unit.CALENDAR).explain()
    text = "\n".join(lines)
    assert "2026-09-16 is not counted" in lines[0]
    assert "15 calendar days after the start day: 2026-10-01." in text
    assert "2026-10-01 National Day" in text
    assert "Art. 203(1)" in text
    assert "Due: 2026-10-08" in lines[-1]


def test_explain_working_and_provisional(cal, english):
    lines = cal.due_date(D("2026-12-28"), 5, Unit.WORKING).explain()
    text = "\n".join(lines)
    assert "5 working days counted" in text
    assert "2027-01-01 New Year's Day, 2027-01-02 weekend, 2027-01-03 weekend" in text
    assert lines[-1].startswith("Provisional")


def test_explain_singular_and_plain(cal, english):
    lines = cal.due_date(D("2026-03-02"), 1, Unit.WORKING).explain()
    assert lines[1] == "1 working day counted after the start day."
    assert len(lines) == 3
