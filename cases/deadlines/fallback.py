"""Statutory holidays for a year whose official arrangement is not known yet.

The State Council announces each year's arrangement (which days are off, which
weekend days are make-up workdays 调休上班日) late in the previous year. Until it
is announced, or entered by an office administrator, PetitionDesk assumes the
statutory days of 全国年节及纪念日放假办法 as amended in 2024, plus weekends,
and no make-up workdays. Any due date that relies on these days is provisional.

Names are the English strings ``chinese_calendar.Holiday`` uses, so official and
fallback days read alike and share one translation each.
"""

from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType

from lunardate import LunarDate


def gettext_noop(message: str) -> str:
    """Mark ``message`` for makemessages; Django's own needs settings at import time."""
    return message


NEW_YEARS_DAY = gettext_noop("New Year's Day")
SPRING_FESTIVAL = gettext_noop("Spring Festival")
TOMB_SWEEPING_DAY = gettext_noop("Tomb-sweeping Day")
LABOUR_DAY = gettext_noop("Labour Day")
DRAGON_BOAT_FESTIVAL = gettext_noop("Dragon Boat Festival")
MID_AUTUMN_FESTIVAL = gettext_noop("Mid-autumn Festival")
NATIONAL_DAY = gettext_noop("National Day")

# The Qingming formula below is the 21st-century one; lunardate stops at 2099.
FIRST_YEAR = 2001
LAST_YEAR = 2099


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"No fallback holiday data for {year} (only {FIRST_YEAR}-{LAST_YEAR}).")


def qingming(year: int) -> date:
    """Return the Qingming solar term (清明), April 4 or 5.

    Shouxing formula for the 21st century: day = int(Y * 0.2422 + 4.81) - int(Y / 4),
    Y = year - 2000. It has no exception year for Qingming in 2001-2099.
    """
    _check_year(year)
    y = year - 2000
    return date(year, 4, int(y * 0.2422 + 4.81) - y // 4)


def _lunar(year: int, month: int, day: int) -> date:
    """Convert a day of a (non-leap) lunar month of lunar year ``year`` to the solar calendar."""
    return LunarDate(year, month, day).to_solar_date()


def _span(first: date, days: int, name: str) -> dict[date, str]:
    return {first + timedelta(days=k): name for k in range(days)}


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> Mapping[date, str]:
    """Return the statutory holidays of ``year`` (全国年节及纪念日放假办法 Art. 2, 2024 text).

    New Year's Day 1 day; Spring Festival 4 days from 除夕 (the day before lunar
    New Year, the 29th or 30th of the 12th month) to the 3rd of the 1st month;
    Qingming 1 day; Labour Day May 1-2; Dragon Boat 5/5 lunar; Mid-Autumn 8/15
    lunar; National Day Oct 1-3. A day that is two holidays keeps the fixed-date name.
    """
    _check_year(year)
    new_year = _lunar(year, 1, 1)
    spans = [
        _span(date(year, 1, 1), 1, NEW_YEARS_DAY),
        _span(new_year - timedelta(days=1), 4, SPRING_FESTIVAL),
        _span(qingming(year), 1, TOMB_SWEEPING_DAY),
        _span(date(year, 5, 1), 2, LABOUR_DAY),
        _span(_lunar(year, 5, 5), 1, DRAGON_BOAT_FESTIVAL),
        _span(date(year, 10, 1), 3, NATIONAL_DAY),
        _span(_lunar(year, 8, 15), 1, MID_AUTUMN_FESTIVAL),
    ]
    days: dict[date, str] = {}
    for span in spans:
        for day, name in span.items():
            days.setdefault(day, name)
    return MappingProxyType(days)
