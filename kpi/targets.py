"""Targets and the green/amber/red status of a value (contract section 2, "Targets and status").

The target of a unit's KPI on a date is the row valid that day (valid_from ≤ day ≤ valid_to,
an empty valid_to is open); a row for the unit beats a `*` row; among several, the latest
valid_from wins. The city `*` only ever gets `*` rows. Every lookup in the engine goes through
`attach_targets_sql`, so the rule lives in one place.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from kpi.i18n import is_missing
from kpi.reads import reads
from kpi.store import Reader, one_unit_of_work
from kpi.vocabulary import KPIS


def attach_targets_sql(relation: str, day_column: str) -> str:
    """SQL that returns every row of `relation` (columns unit_code, kpi and the date column
    `day_column`, one row per (unit_code, kpi, day)) with the target that applies added:
    target, amber_pct, target_valid_from, target_valid_to, target_source_unit (all NULL when none).

    `relation` and `day_column` are identifiers chosen by the engine, never user values.
    """
    # The chosen row per (unit_code, kpi, day) by arg_max over (own row first, latest
    # valid_from): the same row as a row_number() window would pick (unit_code, kpi and
    # valid_from are a target's key, so there is no tie), at a fraction of a window's cost.
    return f"""
        SELECT r.*, chosen.best.target AS target, chosen.best.amber_pct AS amber_pct,
               chosen.best.valid_from AS target_valid_from,
               chosen.best.valid_to AS target_valid_to,
               chosen.best.unit_code AS target_source_unit
        FROM {relation} AS r
        LEFT JOIN (
            SELECT w.unit_code AS for_unit, w.kpi AS for_kpi, w.{day_column} AS for_day,
                   arg_max(t, (t.unit_code = w.unit_code, t.valid_from)) AS best
            FROM (SELECT DISTINCT unit_code, kpi, {day_column} FROM {relation}) AS w
            JOIN targets AS t
              ON t.kpi = w.kpi
             AND (t.unit_code = w.unit_code OR t.unit_code = '*')
             AND t.valid_from <= w.{day_column}
             AND (t.valid_to IS NULL OR w.{day_column} <= t.valid_to)
            GROUP BY ALL
        ) AS chosen
          ON chosen.for_unit = r.unit_code AND chosen.for_kpi = r.kpi
         AND chosen.for_day = r.{day_column}
    """  # noqa: S608 - identifiers from the engine, values are joined, not formatted


def _resolve(store: Reader, ctes: str, params: dict, order: str | None = None) -> pd.DataFrame:
    """Run `WITH <ctes>` whose last CTE `wanted` has unit_code, kpi, day; attach the targets."""
    sql = f"WITH {ctes} {attach_targets_sql('wanted', 'day')}"
    if order:
        sql += f" ORDER BY {order}"
    return store.query_df(sql, params)


def status(value: float | None, target: float | None, better: str,
           amber_pct: float | None = 10.0) -> str:
    """"green" when `value` meets `target` (≥ when higher is better, ≤ when lower is), "amber"
    when it misses by at most amber_pct % of the target, "red" otherwise, "none" without a
    value or a target (one value: `statuses` judges many at once by the same rule)."""
    def number(item: float | None) -> float:
        return math.nan if is_missing(item) else float(item)

    return str(statuses(np.array([number(value)]), np.array([number(target)]), np.array([better]),
                        np.array([number(amber_pct)]))[0])


def statuses(values: np.ndarray, targets: np.ndarray, better: np.ndarray,
             amber_pct: np.ndarray) -> np.ndarray:
    """The status of each row (`status`'s rule), for arrays of one length: values and targets
    as floats (NaN: none), `better` "higher" or "lower" per row, amber_pct (NaN: 10)."""
    values, targets, amber = (np.asarray(column, dtype=float)
                              for column in (values, targets, amber_pct))
    higher = np.asarray(better) == "higher"
    if not (higher | (np.asarray(better) == "lower")).all():
        wrong = np.asarray(better)[~higher & (np.asarray(better) != "lower")][0]
        raise ValueError(f"better must be 'higher' or 'lower', not {wrong!r}")
    amber = np.where(np.isnan(amber), 10.0, amber)
    with np.errstate(invalid="ignore"):  # NaN compares False: those rows are "none" below
        meets = np.where(higher, values >= targets, values <= targets)
        within = np.where(higher, values >= targets * (1 - amber / 100),
                          values <= targets * (1 + amber / 100))
    judged = np.where(meets, "green", np.where(within, "amber", "red")).astype(object)
    judged[np.isnan(values) | np.isnan(targets)] = "none"
    return judged


def _as_date(value: Any) -> dt.date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    return value


def _target_dict(row: dict) -> dict:
    return {
        "target": float(row["target"]),
        "amber_pct": float(row["amber_pct"]),
        "valid_from": _as_date(row["target_valid_from"]),
        "valid_to": _as_date(row["target_valid_to"]),
        "source_unit": row["target_source_unit"],
    }


@reads("targets")
@one_unit_of_work
def target_steps(store: Reader, *, unit: str, kpi: str) -> pd.DataFrame:
    """valid_from, valid_to, target, amber_pct, source_unit: the target that applies to `unit`
    over time, one row per stretch in which the applying row stays the same (valid_to None =
    open). Stretches without a target are left out."""
    ctes = """
        edges AS (
            SELECT valid_from AS day FROM targets WHERE kpi = $kpi AND unit_code IN ($unit, '*')
            UNION
            SELECT valid_to + 1 FROM targets
            WHERE kpi = $kpi AND unit_code IN ($unit, '*') AND valid_to IS NOT NULL
        ),
        wanted AS (SELECT $unit AS unit_code, $kpi AS kpi, day FROM edges)
    """
    rows = _resolve(store, ctes, {"unit": unit, "kpi": kpi}, order="day").to_dict("records")
    steps: list[dict] = []
    for index, row in enumerate(rows):
        day = _as_date(row["day"])
        if day is None or is_missing(row["target"]):  # an edge is never NULL
            continue
        step = _target_dict(row)
        step["valid_from"] = day
        following = _as_date(rows[index + 1]["day"]) if index + 1 < len(rows) else None
        step["valid_to"] = following - dt.timedelta(days=1) if following else None
        same = steps and steps[-1]["valid_to"] == day - dt.timedelta(days=1) and all(
            steps[-1][key] == step[key] for key in ("target", "amber_pct", "source_unit"))
        if same:
            steps[-1]["valid_to"] = step["valid_to"]
        else:
            steps.append(step)
    columns = ["valid_from", "valid_to", "target", "amber_pct", "source_unit"]
    return pd.DataFrame(steps, columns=columns)


@reads("targets", "units")
@one_unit_of_work
def targets_in_force(store: Reader, *, day: dt.date) -> pd.DataFrame:
    """unit_code, kpi, target, amber_pct, valid_from, valid_to, source_unit for every unit (and
    `*`) × KPI that has a target on `day`."""
    ctes = """
        scopes AS (SELECT unit_code FROM units UNION SELECT '*'),
        kpis AS (SELECT unnest($kpis) AS kpi),
        wanted AS (SELECT s.unit_code, k.kpi, $day::DATE AS day FROM scopes s CROSS JOIN kpis k)
    """
    frame = _resolve(store, ctes, {"kpis": list(KPIS), "day": day}, order="unit_code, kpi")
    frame = frame[frame["target"].notna()]
    rows = [{"unit_code": row["unit_code"], "kpi": row["kpi"], **_target_dict(row)}
            for row in frame.to_dict("records")]
    columns = ["unit_code", "kpi", "target", "amber_pct", "valid_from", "valid_to", "source_unit"]
    return pd.DataFrame(rows, columns=columns)


TARGET_FILE_COLUMNS = ["unit_code", "kpi", "target", "valid_from", "valid_to", "amber_pct"]


def in_force_file(in_force: pd.DataFrame) -> pd.DataFrame:
    """The targets in force (`targets_in_force`) as a targets file of the contract: numbers and
    dates a spreadsheet computes with (an open end is empty), which imports back as it is."""
    frame = in_force[TARGET_FILE_COLUMNS].copy()
    frame["target"] = frame["target"].astype(float)
    frame["amber_pct"] = frame["amber_pct"].astype(float)
    for column in ("valid_from", "valid_to"):
        frame[column] = [None if is_missing(day) else pd.Timestamp(day).date()
                         for day in frame[column]]
    return frame
