"""The off-target list ("exceptions"): the unit × KPI pairs that need a manager's attention in a period.

A pair is an exception when its status is `red`, or when the latest point of its XmR series
(over the history window ending with the period) signals a special cause of concern. For each,
how long it has been off target (the current run of consecutive red periods), whether it got
worse than the previous period, and the SPC reading. The overview page ranks them; the same
function serves any page or report that needs the list.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kpi import metrics, spc
from kpi.reads import reads
from kpi.store import Reader, one_unit_of_work
from kpi.vocabulary import CITY, KPIS

COLUMNS = ["rank", "unit_code", "kpi", "period_start", "value", "n", "target", "amber_pct",
           "status", "prev_value", "change", "worse", "red_since", "red_periods", "variation",
           "signals", "assurance", "gap_pct"]


def red_run(periods: list[dt.date], statuses: list[str], grain: str) -> tuple[dt.date | None, int]:
    """The first period and length of the run of consecutive `red` periods that ends with the
    last one (periods oldest first; a period without a value breaks the run)."""
    if not statuses or statuses[-1] != "red":
        return None, 0
    first, length = periods[-1], 1
    for index in range(len(periods) - 2, -1, -1):
        if statuses[index] != "red" or metrics.next_period(periods[index], grain) != first:
            break
        first, length = periods[index], length + 1
    return first, length


def _gap_pct(value: float, target: float, better: str) -> float:
    """How far the value misses the target, in percent of the target (0 when it meets it)."""
    if pd.isna(value) or pd.isna(target) or target == 0:
        return 0.0
    miss = (target - value) if better == "higher" else (value - target)
    return max(0.0, 100.0 * miss / abs(target))


@reads("kpi_values", "targets", "units")
@one_unit_of_work
def unit_kpi_history(store: Reader, *, period: str, period_start: dt.date, date_from: dt.date,
                     units: list[str] | None = None) -> pd.DataFrame:
    """Per unit × KPI with a value in the period: unit_code, kpi, value, target, status;
    red_since and red_periods (the current run of red periods, traced back through all the
    data); and the XmR reading of the history window [date_from, period_start]: variation,
    signals (of the latest point), assurance, centre, ucl, lcl, trial."""
    first_day, _ = metrics.data_range(store)
    if first_day is None:
        first_day = date_from
    table = metrics.kpi_table(store, period=period, date_from=min(first_day, date_from),
                              date_to=period_start, units=units)
    window_start = metrics.period_start(date_from, period)
    # The table is in (unit, KPI, period) order: each pair's rows are one run of it, read from
    # plain lists (a pandas group per pair cost seconds at 1,300 units).
    units_column, kpis, periods, statuses, values, targets, counts = (
        table[column].tolist() for column in ("unit_code", "kpi", "period_start", "status",
                                              "value", "target", "n"))
    rows = []
    first = 0
    for end in range(1, len(units_column) + 1):
        if end < len(units_column) and (units_column[end], kpis[end]) == (units_column[first],
                                                                          kpis[first]):
            continue
        pair, first = slice(first, end), end
        if periods[pair.stop - 1] != period_start:
            continue
        unit, kpi, last = units_column[pair.start], kpis[pair.start], pair.stop - 1
        since, length = red_run(periods[pair], statuses[pair], period)
        window = [value for day, value in zip(periods[pair], values[pair], strict=True)
                  if day >= window_start]
        target = None if pd.isna(targets[last]) else float(targets[last])
        chart = spc.xmr(window, better=KPIS[kpi].better, target=target)
        rows.append({
            "unit_code": unit, "kpi": kpi, "value": float(values[last]),
            "n": int(counts[last]), "target": target, "status": statuses[last],
            "red_since": since, "red_periods": length, "variation": chart.variation,
            "signals": chart.signals[-1] if chart.signals else [],
            "assurance": chart.assurance, "centre": chart.centre, "ucl": chart.ucl,
            "lcl": chart.lcl, "trial": chart.trial,
        })
    columns = ["unit_code", "kpi", "value", "n", "target", "status", "red_since", "red_periods",
               "variation", "signals", "assurance", "centre", "ucl", "lcl", "trial"]
    return pd.DataFrame(rows, columns=columns)


@reads("kpi_values", "targets", "unit_days", "units")
@one_unit_of_work
def exceptions(store: Reader, *, period: str, period_start: dt.date, date_from: dt.date,
               units: list[str] | None = None, include_city: bool = False,
               history: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ranked exceptions of the period (COLUMNS): red first, ordered by how long they have
    been red and how far they miss; then special causes of concern that are not red.
    `worse` is True when the value moved the worse way since the previous period. A caller
    that already holds `unit_kpi_history` for the same arguments passes it as `history`."""
    start = metrics.period_start(period_start, period)
    if history is None:
        history = unit_kpi_history(store, period=period, period_start=start,
                                   date_from=date_from, units=units)
    if not include_city:
        history = history[history["unit_code"] != CITY]
    flagged = history[(history["status"] == "red") | (history["variation"] == "concern")]
    if flagged.empty:
        return pd.DataFrame(columns=COLUMNS)
    current = metrics.overview(store, period=period, period_start=start,
                               units=sorted(set(flagged["unit_code"])))
    frame = flagged.merge(current[["unit_code", "kpi", "amber_pct", "prev_value", "change"]],
                          on=["unit_code", "kpi"], how="left")
    frame["period_start"] = start
    better = frame["kpi"].map(lambda name: KPIS[name].better)
    frame["worse"] = [
        False if pd.isna(change) else (change < 0 if side == "higher" else change > 0)
        for change, side in zip(frame["change"], better, strict=True)
    ]
    frame["gap_pct"] = [_gap_pct(value, target, side) for value, target, side
                        in zip(frame["value"], frame["target"], better, strict=True)]
    frame["_red"] = frame["status"] == "red"
    frame["_concern"] = frame["variation"] == "concern"
    frame = frame.sort_values(["_red", "_concern", "red_periods", "gap_pct", "unit_code", "kpi"],
                              ascending=[False, False, False, False, True, True], kind="stable")
    frame["rank"] = range(1, len(frame) + 1)
    return frame[COLUMNS].reset_index(drop=True)


def point_variations(values: list[float], signals: list[list[str]], centre: float | None,
                     better: str) -> list[str]:
    """Per point of an XmR chart, its variation judged as the latest point's is
    (`spc.point_variation`); a trend's direction is the step to the next (or from the previous)
    point of the run."""
    readings = []
    for index, flags in enumerate(signals):
        neighbour = index + 1 if index + 1 < len(values) and "trend" in signals[index + 1] \
            else index - 1
        step = values[max(index, neighbour)] - values[min(index, neighbour)] if neighbour >= 0 else 0
        readings.append(spc.point_variation(values[:index + 1], flags, centre,
                                            (step > 0) - (step < 0), better))
    return readings


def chart_variations(points: list[dict], segments: list[dict] | None, centre: float | None,
                     better: str) -> list[str]:
    """`point_variations` of a chart's points (value, signals, and segment when re-baselined),
    each segment against its own centre (`segments`: kpi.spc's, with centre)."""
    if not segments:
        return point_variations([p["value"] for p in points], [p["signals"] for p in points],
                                centre, better)
    readings: list[str] = []
    for number, segment in enumerate(segments):
        part = [p for p in points if p.get("segment", 0) == number]
        readings += point_variations([p["value"] for p in part], [p["signals"] for p in part],
                                     segment["centre"], better)
    return readings
