"""Statistical process control: XmR charts as in NHS "Making Data Count" (contract section 2).

centre = mean of the (baseline) points; mR = |x_t − x_{t−1}|; limits = centre ± 2.66 × mean(mR),
reported unclipped. Signals (each flagged on every point it covers): `outside` (strictly beyond
a limit), `shift` (7+ points on one side of the centre), `trend` (7+ points strictly rising or
falling), `two_of_three` (2 or 3 of 3 consecutive points beyond the inner two-sigma line on the
same side).

Segments (re-baselining after a change): a series split at rebase dates is a series of its own
per segment for every rule (its own centre, moving ranges, limits, runs and windows, nothing
across a boundary); the variation and assurance are those of the last segment.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kpi.errors import UnknownArgument
from kpi.metrics import check_kpis, series
from kpi.reads import reads
from kpi.store import Reader, one_unit_of_work
from kpi.vocabulary import KPIS

SIGMA_FACTOR = 2.66
INNER_FRACTION = 2 / 3
MIN_POINTS_FOR_LIMITS = 2
MIN_POINTS_FOR_FIRM_LIMITS = 12
RUN_LENGTH = 7
SIGNALS = ("outside", "shift", "trend", "two_of_three")  # alphabetical, as reported


@dataclass
class SpcResult:
    """Centre line and limits (None without enough points), the inner two-sigma lines of the
    2-of-3 rule, whether the limits are trial, variation and assurance of the latest point, and
    the signals of each point (alphabetical)."""

    centre: float | None
    ucl: float | None
    lcl: float | None
    upper_two_sigma: float | None
    lower_two_sigma: float | None
    trial: bool
    variation: str | None  # "common" | "concern" | "improvement"
    assurance: str | None  # "pass" | "fail" | "hit_and_miss"
    signals: list[list[str]] = field(default_factory=list)
    baseline: int = 0  # the number of points the centre and limits rest on


def _sign(number: float) -> int:
    return (number > 0) - (number < 0)


def _runs(keys: list[int]) -> list[tuple[int, int, int]]:
    """Maximal runs of equal non-zero keys: (first index, last index, key)."""
    runs, start = [], 0
    for index in range(1, len(keys) + 1):
        if index == len(keys) or keys[index] != keys[start]:
            if keys[start] != 0:
                runs.append((start, index - 1, keys[start]))
            start = index
    return runs


def _shift_points(values: Sequence[float], centre: float) -> set[int]:
    sides = [_sign(value - centre) for value in values]
    return {index for first, last, _ in _runs(sides) if last - first + 1 >= RUN_LENGTH
            for index in range(first, last + 1)}


def trend_runs(values: Sequence[float]) -> tuple[set[int], dict[int, int]]:
    """Points of 7+ long strictly monotone runs, and each such point's run direction(s): a
    point where a rising run meets a falling one belongs to both (direction 0 means both)."""
    steps = [_sign(values[index] - values[index - 1]) for index in range(1, len(values))]
    points: set[int] = set()
    direction: dict[int, int] = {}
    for first, last, key in _runs(steps):
        if last - first + 1 >= RUN_LENGTH - 1:  # steps first..last join points first..last+1
            for index in range(first, last + 2):
                points.add(index)
                direction[index] = key if direction.get(index, key) == key else 0
    return points, direction


def _two_of_three_points(values: Sequence[float], upper: float, lower: float) -> set[int]:
    points: set[int] = set()
    for start in range(len(values) - 2):
        window = range(start, start + 3)
        for beyond in ([i for i in window if values[i] > upper],
                       [i for i in window if values[i] < lower]):
            if len(beyond) >= 2:
                points.update(beyond)
    return points


def point_variation(values: Sequence[float], signals: list[str], centre: float | None,
                    trend_direction: int, better: str) -> str:
    """The variation of the last of `values` given its signals: `concern` when any signal points
    the worse way (its side of the centre; for a trend, the run's direction), else `improvement`;
    `common` without a signal."""
    if not signals:
        return "common"
    good = 1 if better == "higher" else -1
    directions = []
    if centre is not None and any(name != "trend" for name in signals):
        directions.append(_sign(values[-1] - centre))
    if "trend" in signals:
        directions.append(trend_direction)
    return "concern" if any(direction != good for direction in directions) else "improvement"


def _assurance(ucl: float | None, lcl: float | None, target: float | None, better: str) -> str | None:
    if target is None or ucl is None or lcl is None:
        return None
    if better == "higher":
        return "pass" if lcl >= target else "fail" if ucl < target else "hit_and_miss"
    return "pass" if ucl <= target else "fail" if lcl > target else "hit_and_miss"


def xmr(values: Sequence[float], *, better: str, baseline: int | None = None,
        target: float | None = None) -> SpcResult:
    """The XmR chart of `values` (oldest first); pure, no store.

    `baseline` N: the centre and mean(mR) come from the first N points only (all points when N
    exceeds them). Limits resting on fewer than 12 points are trial; with fewer than 2 there are
    no limits (the centre is still the mean of the points there are)."""
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', not {better!r}")
    if baseline is not None and baseline < 1:
        raise ValueError(f"the baseline must be at least 1 point, not {baseline}")
    values = [float(value) for value in values]
    basis = values[:baseline] if baseline is not None else values
    centre = sum(basis) / len(basis) if basis else None
    ucl = lcl = upper_inner = lower_inner = None
    if centre is not None and len(basis) >= MIN_POINTS_FOR_LIMITS:
        ranges = [abs(basis[index] - basis[index - 1]) for index in range(1, len(basis))]
        mean_range = sum(ranges) / len(ranges)
        ucl = centre + SIGMA_FACTOR * mean_range
        lcl = centre - SIGMA_FACTOR * mean_range
        upper_inner = centre + INNER_FRACTION * SIGMA_FACTOR * mean_range
        lower_inner = centre - INNER_FRACTION * SIGMA_FACTOR * mean_range

    flagged: dict[str, set[int]] = {name: set() for name in SIGNALS}
    if (ucl is not None and lcl is not None and upper_inner is not None
            and lower_inner is not None):
        flagged["outside"] = {i for i, value in enumerate(values) if value > ucl or value < lcl}
        flagged["two_of_three"] = _two_of_three_points(values, upper_inner, lower_inner)
    if centre is not None:
        flagged["shift"] = _shift_points(values, centre)
    flagged["trend"], trend_direction = trend_runs(values)
    signals = [[name for name in SIGNALS if index in flagged[name]] for index in range(len(values))]

    variation = None
    if values:
        last = len(values) - 1
        variation = point_variation(values, signals[-1], centre, trend_direction.get(last, 0), better)
    return SpcResult(
        centre=centre, ucl=ucl, lcl=lcl, upper_two_sigma=upper_inner,
        lower_two_sigma=lower_inner, trial=len(basis) < MIN_POINTS_FOR_FIRM_LIMITS,
        variation=variation, assurance=_assurance(ucl, lcl, target, better),
        signals=signals, baseline=len(basis),
    )


@dataclass
class Segments:
    """An XmR chart split into segments: `charts[k]` is the chart of the points from
    `starts[k]` up to the next start (each a series of its own)."""

    starts: list[int]
    charts: list[SpcResult]

    @property
    def last(self) -> SpcResult:
        """The last segment's chart: its limits, variation and assurance are the series'."""
        return self.charts[-1]

    @property
    def signals(self) -> list[list[str]]:
        """The signals of every point, oldest first."""
        return [names for chart in self.charts for names in chart.signals]

    @property
    def segment_of(self) -> list[int]:
        """The segment number (from 0) of every point, oldest first."""
        return [number for number, chart in enumerate(self.charts) for _ in chart.signals]


def segment_starts(period_starts: Sequence[dt.date], rebase_dates: Iterable[dt.date]) -> list[int]:
    """The index of each segment's first point, 0 first: a rebase date starts a segment at the
    first point whose period starts on or after it; a date on or before the first point's
    period, or after the last point's, changes nothing, and dates that start the same point
    make one segment. `period_starts` oldest first."""
    starts = {bisect.bisect_left(period_starts, day) for day in rebase_dates}
    return [0, *sorted(index for index in starts if 0 < index < len(period_starts))]


def segmented_xmr(values: Sequence[float], starts: Sequence[int], *, better: str,
                  baseline: int | None = None, target: float | None = None) -> Segments:
    """The XmR chart of each segment of `values` (`starts` from `segment_starts`): `baseline`
    N is the first N points of each segment; nothing (moving range, run, window) crosses a
    boundary."""
    bounds = [*starts, len(values)] if values else [0, 0]
    charts = [xmr(values[first:end], better=better, baseline=baseline, target=target)
              for first, end in itertools.pairwise(bounds)]
    return Segments(starts=list(bounds[:-1]), charts=charts)


def _segment_json(chart: SpcResult, start: str) -> dict:
    return {"start": start, "centre": chart.centre, "ucl": chart.ucl, "lcl": chart.lcl,
            "trial": chart.trial, "upper_two_sigma": chart.upper_two_sigma,
            "lower_two_sigma": chart.lower_two_sigma, "baseline": chart.baseline}


@reads("interventions", "kpi_values", "targets", "units")
@one_unit_of_work
def spc_series(store: Reader, *, unit: str, kpi: str, period: str, date_from: dt.date | None = None,
               date_to: dt.date | None = None, baseline: int | None = None,
               rebase: Sequence[dt.date] = (), stored_rebase: bool = True) -> dict:
    """The `spc` command's JSON shape for one unit's KPI over every period with a value (all
    data when no dates): unit_code, kpi, period, centre, ucl, lcl, upper_two_sigma,
    lower_two_sigma, trial, baseline (of the last segment), variation, assurance, target (the
    one valid on the latest period), segments [{start (ISO), centre, ucl, lcl, trial, …}],
    points [{period_start (ISO), value, n, signals, segment}].

    Segments start at the `rebase` dates and, with `stored_rebase`, at the unit's own stored
    rebasing interventions for this KPI or every KPI (a page that already holds them passes
    them as `rebase`, so that its cache follows the interventions)."""
    from kpi.interventions import rebase_dates  # kpi.interventions validates through metrics

    check_kpis([kpi])
    if baseline is not None and baseline < 1:
        raise UnknownArgument("kpi.error.bad_baseline", baseline=baseline)
    points = series(store, unit=unit, kpi=kpi, period=period, date_from=date_from,
                    date_to=date_to)
    # The series carries the target valid on each period's first date: the latest one applies.
    last_target = points["target"].iloc[-1] if len(points) else None
    target_value = None if last_target is None or pd.isna(last_target) else float(last_target)
    dates = list(rebase) + (rebase_dates(store, unit=unit, kpi=kpi) if stored_rebase else [])
    days = [_as_date(start) for start in points["period_start"]]
    segments = segmented_xmr(points["value"].tolist(), segment_starts(days, dates),
                             better=KPIS[kpi].better, baseline=baseline, target=target_value)
    chart = segments.last
    return {
        "unit_code": unit,
        "kpi": kpi,
        "period": period,
        "centre": chart.centre,
        "ucl": chart.ucl,
        "lcl": chart.lcl,
        "upper_two_sigma": chart.upper_two_sigma,
        "lower_two_sigma": chart.lower_two_sigma,
        "trial": chart.trial,
        "baseline": chart.baseline,
        "variation": chart.variation,
        "assurance": chart.assurance,
        "target": target_value,
        "segments": [_segment_json(part, days[first].isoformat())
                     for first, part in zip(segments.starts, segments.charts, strict=True)
                     if first < len(days)],
        "points": [
            {"period_start": start.isoformat(), "value": float(value), "n": int(n),
             "signals": signals, "segment": number}
            for start, value, n, signals, number in zip(
                days, points["value"], points["n"], segments.signals, segments.segment_of,
                strict=True)
        ],
    }


def _as_date(value: Any) -> dt.date:
    """A period start from the series (a date, or a pandas timestamp) as a date."""
    return value.date() if isinstance(value, pd.Timestamp | dt.datetime) else value
