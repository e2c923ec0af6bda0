"""Did it work? The effect of an intervention on a KPI (contract §2 "Interventions and their
effect"; ISO 9001 10.2.1 d).

The unit's series of the KPI at a grain is cut at the intervention's date D: *before* are the
points whose period starts before D, within the segment (of the unit's stored rebases) that
holds the last of them; *after* those whose period starts on or after D. The limits are those of
*before* alone (XmR of before + after with the baseline = the before points, one segment) and
only the signals on *after* points are read. A signal after a change is evidence that the
process changed, not proof that the change caused it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from kpi import interventions, metrics, spc
from kpi.store import one_unit_of_work
from kpi.vocabulary import KPIS

VERDICTS = ("improved", "worse", "mixed", "no_change", "too_early", "no_baseline")
MIN_AFTER_POINTS = spc.RUN_LENGTH  # a shift needs 7 points: fewer can't yet say "no change"
DEFAULT_PERIOD = "week"


def _sign(number: float) -> int:
    return (number > 0) - (number < 0)


def judge(before: Sequence[float], after: Sequence[float], *, better: str) -> dict[str, Any]:
    """The verdict on `after` against the limits of `before` (both oldest first): verdict,
    before_n, after_n, centre, ucl, lcl (of before; None with `no_baseline`), after_signals
    (distinct, sorted)."""
    judged: dict[str, Any] = {"before_n": len(before), "after_n": len(after), "centre": None,
                              "ucl": None, "lcl": None, "after_signals": []}
    if len(before) < spc.MIN_POINTS_FOR_LIMITS:
        return {**judged, "verdict": "no_baseline"}
    values = [float(value) for value in (*before, *after)]
    chart = spc.xmr(values, better=better, baseline=len(before))
    _, trend_direction = spc.trend_runs(values)
    good = 1 if better == "higher" else -1
    directions: set[int] = set()
    seen: set[str] = set()
    for index in range(len(before), len(values)):
        names = chart.signals[index]
        seen.update(names)
        if any(name != "trend" for name in names):
            directions.add(_sign(values[index] - (chart.centre or 0.0)))
        if "trend" in names:
            direction = trend_direction.get(index, 0)
            directions.update((1, -1) if direction == 0 else (direction,))
    better_way, worse_way = good in directions, -good in directions
    if better_way and worse_way:
        verdict = "mixed"
    elif better_way:
        verdict = "improved"
    elif worse_way:
        verdict = "worse"
    else:
        verdict = "no_change" if len(after) >= MIN_AFTER_POINTS else "too_early"
    return {**judged, "verdict": verdict, "centre": chart.centre, "ucl": chart.ucl,
            "lcl": chart.lcl, "after_signals": sorted(seen)}


def split(days: Sequence[dt.date], day: dt.date, rebases: Sequence[dt.date]) -> tuple[int, int]:
    """(first, end) of *before* among points starting on `days` (oldest first): the points
    before `day`, from the start of the segment (of `rebases`) that holds the last of them."""
    end = sum(1 for start in days if start < day)
    starts = spc.segment_starts(days[:end], rebases)
    return starts[-1] if end else 0, end


@one_unit_of_work
def effect(cur, intervention_id: int, *, period: str = DEFAULT_PERIOD,
           kpi: str | None = None) -> list[dict[str, Any]]:
    """The `effect` command's rows, one per KPI (the intervention's own KPI, or every KPI that
    has a value for the unit in some period of `period`; `kpi` picks one), in the contract's
    KPI order: intervention_id, unit_code, kpi, period, date, verdict, before_n, after_n,
    centre, ucl, lcl (of before), after_signals; and title, the after points' periods."""
    metrics.check_period(period)
    if kpi is not None:
        metrics.check_kpis([kpi])
    change = interventions.get(cur, intervention_id)
    day = dt.date.fromisoformat(change["date"])
    unit = change["unit_code"]
    chosen = [kpi] if kpi else [change["kpi"]] if change["kpi"] else None
    if kpi and change["kpi"] and kpi != change["kpi"]:
        return []
    first, last = metrics.data_range(cur)
    if first is None or last is None:
        return []
    values = metrics.kpi_values(cur, period=period, date_from=metrics.period_start(first, period),
                                date_to=last, units=[unit], kpis=chosen)
    rows = []
    for name in KPIS:
        series = values[values["kpi"] == name].sort_values("period_start")
        if series.empty:
            continue
        days = [_date(start) for start in series["period_start"]]
        rebases = [rebase for rebase in interventions.rebase_dates(cur, unit=unit, kpi=name)
                   if rebase != day]
        begin, end = split(days, day, rebases)
        numbers = series["value"].astype(float).tolist()
        judged = judge(numbers[begin:end], numbers[end:], better=KPIS[name].better)
        rows.append({"intervention_id": change["intervention_id"], "unit_code": unit,
                     "kpi": name, "period": period, "date": change["date"], **judged,
                     "title": change["title"],
                     "after_from": days[end].isoformat() if end < len(days) else None,
                     "latest": days[-1].isoformat()})
    return rows


def _date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value  # a pandas Timestamp too
