"""Which units have reported for a period, and which periods are complete (issue 12).

A unit has reported for a period when it has events in it, or, for a unit that only ever has
survey data, responses. A period is complete when at least `config.complete_share()` (default
80 %) of the units that reported in the four periods before it have reported in it; the first
periods of the data, with nothing before them, count as complete. The overview's and the
review's default period is the latest complete one, so that a week only a few units have
reported is never presented as the city's week; such a week can still be chosen, marked
incomplete, with "n of m units reported".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from kpi import config
from kpi.periods import check_period, previous_period
from kpi.reads import reads
from kpi.store import Reader, one_unit_of_work

LOOKBACK = 4


def _reported_sql(period: str, date_from: dt.date | None, date_to: dt.date | None,
                  params: dict) -> str:
    """(period_start, unit_code) of every unit that reported in every `period`, read from
    `unit_days`; a unit with no events at all counts by its survey responses."""
    grain = check_period(period)
    within = "TRUE"
    if date_from is not None and date_to is not None:
        params.update(start=date_from, end=date_to)
        within = "day >= $start AND day < $end"
    # The units that answered surveys without an event in the range are the only ones whose
    # events outside it are looked up (none, most often: the whole table is not read).
    return f"""
        WITH in_range AS (SELECT day, unit_code, events, responses FROM unit_days
                          WHERE {within}),
        survey_only AS (
            SELECT DISTINCT unit_code FROM in_range WHERE responses > 0
            EXCEPT SELECT unit_code FROM in_range WHERE events > 0),
        event_units AS (
            SELECT DISTINCT unit_code FROM unit_days
            WHERE events > 0 AND unit_code IN (SELECT unit_code FROM survey_only))
        SELECT DISTINCT date_trunc('{grain}', day)::DATE AS period_start, unit_code
        FROM in_range WHERE events > 0
        UNION
        SELECT DISTINCT date_trunc('{grain}', day)::DATE, unit_code
        FROM in_range WHERE responses > 0
            AND unit_code IN (SELECT unit_code FROM survey_only)
            AND unit_code NOT IN (SELECT unit_code FROM event_units)
    """  # noqa: S608 - the grain is checked against the fixed list


@reads("unit_days")
@one_unit_of_work
def reported_units(store: Reader, *, period: str, date_from: dt.date | None = None,
                   date_to: dt.date | None = None) -> pd.DataFrame:
    """period_start (date), unit_code: every unit that reported in every `period` (only the
    rows on local dates [date_from, date_to) when both are given). Read from `unit_days`, each
    unit's own rows per day (kpi/precompute.py), not from the raw rows."""
    params: dict = {}
    frame = store.query_df(_reported_sql(period, date_from, date_to, params), params)
    frame["period_start"] = [value.date() if hasattr(value, "date") else value
                             for value in frame["period_start"]]
    return frame


@one_unit_of_work
def reported_by_period(store: Reader, *, period: str, date_from: dt.date,
                       date_to: dt.date) -> dict[dt.date, set[str]]:
    """`reported_units` of local dates [date_from, date_to) as a set of units per period start
    (what the overview's like-for-like change needs, without a frame)."""
    params: dict = {}
    return _units_by_period(store.query_rows(_reported_sql(period, date_from, date_to, params),
                                             params))


def _units_by_period(pairs: Iterable[tuple[dt.date, str]]) -> dict[dt.date, set[str]]:
    """(period start, unit) pairs grouped: the units per period start."""
    grouped: dict[dt.date, set[str]] = defaultdict(set)
    for start, unit_code in pairs:
        grouped[start].add(unit_code)
    return grouped


@dataclass(frozen=True)
class Coverage:
    period_start: dt.date
    reported: int      # units that reported in the period
    expected: int      # those plus the units that reported in the four periods before
    complete: bool
    # Whether any unit reported in the four periods before: without them (the data's first
    # period) nothing says who else should have reported, and `expected` is only `reported`.
    has_history: bool = True

    @property
    def missing(self) -> int:
        return self.expected - self.reported


class Coverages:
    """`coverage` of any period of one grain, from one grouping of `reported` (a period
    selector labels every period of the data: grouping per label cost seconds)."""

    def __init__(self, reported: pd.DataFrame, period: str, share: float | None = None) -> None:
        self.period = period
        self.share = config.complete_share() if share is None else share
        self.by_period = _units_by_period(zip(reported["period_start"].tolist(),
                                              reported["unit_code"].tolist(), strict=True))
        self._known: dict[dt.date, Coverage] = {}  # a kept Coverages answers many reruns

    def __call__(self, start: dt.date) -> Coverage:
        """How many units reported in the period starting `start` (see the module docstring)."""
        known = self._known.get(start)
        if known is None:
            known = self._known[start] = self._coverage(start)
        return known

    def _coverage(self, start: dt.date) -> Coverage:
        now = self.by_period.get(start, set())
        before: set[str] = set()
        previous = start
        for _ in range(LOOKBACK):
            previous = previous_period(previous, self.period)
            before |= self.by_period.get(previous, set())
        complete = not before or len(now & before) >= self.share * len(before)
        return Coverage(start, len(now), len(now | before), complete, bool(before))

    def latest_complete(self, starts: list[dt.date]) -> dt.date | None:
        """The first of `starts` (newest first) that is complete; None when none is."""
        return next((start for start in starts if self(start).complete), None)

    def two_periods(self, start: dt.date) -> TwoPeriods:
        """Who reported in the period starting `start` and in the one before."""
        return two_periods(self.by_period, start, self.period)


@reads("unit_days")
def coverages(store: Reader, *, period: str) -> Coverages:
    """`Coverages` of every `period` of the data (the dashboard keeps it per KPI data version:
    grouping a province's 100,000 unit × week rows cost a tenth of a second per page run)."""
    return Coverages(reported_units(store, period=period), period)


def coverages_of(reported: pd.DataFrame, period: str, counted_as: Mapping[str, str]) -> Coverages:
    """`Coverages` of some units alone, from `reported` (reported_units): `counted_as` maps each
    unit counted to what it counts as, itself or the unit it lies in (a province's units as
    their cities: a city has reported when any of its units has). Units not in it are left out."""
    kept = reported[reported["unit_code"].isin(list(counted_as))]
    return Coverages(pd.DataFrame({"period_start": kept["period_start"].tolist(),
                                   "unit_code": [counted_as[code]
                                                 for code in kept["unit_code"].tolist()]}),
                     period)


def coverage(reported: pd.DataFrame, start: dt.date, period: str,
             share: float | None = None) -> Coverage:
    """How many units reported in the period starting `start` (see the module docstring)."""
    return Coverages(reported, period, share)(start)


def latest_complete(reported: pd.DataFrame, starts: list[dt.date], period: str,
                    share: float | None = None) -> dt.date | None:
    """The first of `starts` (newest first) that is complete; None when none is."""
    return Coverages(reported, period, share).latest_complete(starts)


@dataclass(frozen=True)
class TwoPeriods:
    """The units that reported in a period (`now`) and in the period before it (`before`)."""

    now: set[str]
    before: set[str]

    @property
    def both(self) -> set[str]:
        """The units that reported in both: a like-for-like comparison pools only them."""
        return self.now & self.before


def two_periods(by_period: Mapping[dt.date, set[str]], start: dt.date,
                period: str) -> TwoPeriods:
    """Who reported in the period starting `start` and in the one before, from the units per
    period start (`reported_by_period`)."""
    return TwoPeriods(by_period.get(start, set()),
                      by_period.get(previous_period(start, period), set()))
