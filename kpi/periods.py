"""Periods and ISO weeks: the calendar arithmetic of the KPIs, the overview and the review.

A leaf module (only kpi.errors and kpi.vocabulary below it). A period is named by its first
date; weeks are ISO weeks, starting Monday, written `YYYY-Www` in the review.
"""

from __future__ import annotations

import datetime as dt
import re

from kpi.errors import KinerjaError, UnknownArgument
from kpi.vocabulary import PERIODS

Ranges = list[tuple[dt.date, dt.date]]  # [start, end) date ranges
_WEEK_PATTERN = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


def check_period(period: str) -> str:
    if period not in PERIODS:
        raise UnknownArgument("kpi.error.unknown_period", period=period, periods=", ".join(PERIODS))
    return period


def parse_date(text: str | dt.date, what: str = "date") -> dt.date:
    """An ISO date (YYYY-MM-DD), or UnknownArgument naming `what`."""
    if isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise UnknownArgument("kpi.error.bad_date", what=what, text=text) from None


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_start(day: dt.date, period: str) -> dt.date:
    """The first date of the `period` that contains `day` (weeks are ISO, starting Monday)."""
    check_period(period)
    if isinstance(day, dt.datetime):
        day = day.date()
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return dt.date(day.year, 1, 1)


def _shift(start: dt.date, period: str, steps: int) -> dt.date:
    start = period_start(start, period)
    if period == "day":
        return start + dt.timedelta(days=steps)
    if period == "week":
        return start + dt.timedelta(weeks=steps)
    return _add_months(start, steps * {"month": 1, "quarter": 3, "year": 12}[period])


def next_period(start: dt.date, period: str) -> dt.date:
    """The first date of the period after the one that contains `start`."""
    return _shift(start, period, 1)


def previous_period(start: dt.date, period: str) -> dt.date:
    """The first date of the period before the one that contains `start`."""
    return _shift(start, period, -1)


def same_period_last_year(start: dt.date, period: str) -> dt.date:
    """The period a year before: 52 weeks or 365/366 days back for week and day, the same month,
    quarter or year of the previous year otherwise."""
    if period == "week":
        return period_start(start, period) - dt.timedelta(weeks=52)
    if period == "day":
        try:
            return start.replace(year=start.year - 1)
        except ValueError:  # 29 February
            return start.replace(year=start.year - 1, day=28)
    return _shift(start, period, -{"month": 12, "quarter": 4, "year": 1}[period])


def periods_between(date_from: dt.date, date_to: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """[first, end) covering the periods whose first date lies in [date_from, date_to]: the
    whole of each period counts, even past date_to. first ≥ end when there is none."""
    first = period_start(date_from, period)
    if first < date_from:
        first = next_period(first, period)
    return first, next_period(date_to, period)


# -- ISO weeks ----------------------------------------------------------------------------------
def parse_week(text: str) -> dt.date:
    """The Monday of ISO week `text` (`YYYY-Www`); KinerjaError with one sentence otherwise."""
    match = _WEEK_PATTERN.match(str(text or ""))
    if match:
        try:
            return dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError:
            pass
    raise KinerjaError("review.error_week", week=str(text))


def week_label(day: dt.date) -> str:
    """The ISO week `YYYY-Www` that contains `day`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of `week`."""
    start = parse_week(week)
    return start, start + dt.timedelta(days=6)


def last_complete_week(last_day: dt.date) -> str:
    """The latest ISO week that has ended by `last_day` (inclusive)."""
    monday = last_day - dt.timedelta(days=last_day.weekday())
    if last_day.weekday() == 6:
        return week_label(monday)
    return week_label(monday - dt.timedelta(days=7))
