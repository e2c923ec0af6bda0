"""The KPIs of the contract (section 2), computed in DuckDB over the store.

Every figure is computed over a unit's subtree (its own rows plus its descendants', pooled); the
city is the unit `*` (all rows pooled). An event belongs to the period of the local date of
`arrived_at`, a survey response to that of `submitted_at` (the store keeps local wall-clock time).
A KPI whose `n` is 0 is absent: no row, never 0.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from kpi import reporting
from kpi.errors import UnknownArgument
from kpi.ikm import exact_ikm
from kpi.periods import (
    Ranges,
    check_period,
    next_period,
    period_start,
    periods_between,
    previous_period,
    same_period_last_year,
)
from kpi.reads import reads
from kpi.store import Reader, one_unit_of_work
from kpi.targets import attach_targets_sql, statuses
from kpi.vocabulary import AGGREGATES, CITY, KPIS, WITHIN_STANDARD_SQL


# -- validation ----------------------------------------------------------------------------
def check_kpis(kpis: list[str] | None) -> list[str]:
    """The KPIs asked for, in the contract's order (all of them for None)."""
    if kpis is None:
        return list(KPIS)
    unknown = [name for name in kpis if name not in KPIS]
    if unknown:
        raise UnknownArgument("kpi.error.unknown_kpi", kpi=unknown[0], kpis=", ".join(KPIS))
    return [name for name in KPIS if name in kpis]


@one_unit_of_work
def check_units(store: Reader, units: list[str] | None) -> list[str] | None:
    """`units` unchanged when every code is `*` or a known unit; otherwise UnknownArgument."""
    if units is None:
        return None
    known = set(store.query_df("SELECT unit_code FROM units")["unit_code"]) | {CITY}
    unknown = [code for code in units if code not in known]
    if unknown:
        raise UnknownArgument("kpi.error.unknown_unit", unit=unknown[0])
    return list(units)


_start_of = period_start  # for functions whose `period_start` parameter shadows the name


# -- units ------------------------------------------------------------------------------------
@reads("units")
@one_unit_of_work
def unit_tree(store: Reader) -> pd.DataFrame:
    """Every unit: unit_code, name, type, parent_code, district, depth (0 = root) and path (the
    ancestors' codes from the root down, the unit itself excluded), in tree order (depth first,
    siblings by code). A parent that is not loaded makes a unit a root."""
    records = {row[0]: row for row in store.query_rows(
        "SELECT unit_code, name, type, parent_code, district FROM units ORDER BY unit_code")}
    children: dict[str | None, list[str]] = {}
    for code, row in records.items():
        parent = row[3] if row[3] in records else None
        children.setdefault(parent, []).append(code)
    ordered: list[tuple] = []
    seen: set[str] = set()

    def visit(code: str, path: list[str]) -> None:
        if code in seen:  # a cycle in parent_code: show each unit once
            return
        seen.add(code)
        ordered.append((*records[code], len(path), list(path)))
        for child in children.get(code, []):
            visit(child, [*path, code])

    for root in children.get(None, []):
        visit(root, [])
    for code in records:  # units only reachable through a cycle
        visit(code, [])
    columns = ["unit_code", "name", "type", "parent_code", "district", "depth", "path"]
    frame = pd.DataFrame(ordered, columns=columns)
    frame["parent_code"] = frame["parent_code"].astype(object).where(frame["parent_code"].notna(), None)
    return frame


@reads("kpi_values")
@one_unit_of_work
def data_range(store: Reader) -> tuple[dt.date | None, dt.date | None]:
    """First and last local date with events or survey responses (None, None when empty)."""
    # Every day with an event has a stored abandon_rate of `*`, every day with a response a
    # response_count: the day grain of kpi_values spans the same dates as the raw rows.
    first, last = store.query_rows(
        "SELECT min(period_start), max(period_start) FROM kpi_values "
        "WHERE grain = 'day' AND unit_code = '*'")[0]
    return first, last


# -- the SQL ----------------------------------------------------------------------------------
# A unit's figures pool the rows of its subtree: `closure` pairs every unit with itself and each
# of its descendants (UNION, not UNION ALL, so a cycle in parent_code cannot loop for ever).
_CLOSURE = """
    closure(ancestor, unit_code) AS (
        SELECT unit_code, unit_code FROM units
        UNION
        SELECT closure.ancestor, units.unit_code
        FROM closure JOIN units ON units.parent_code = closure.unit_code
    )"""
CLOSURE_SQL = _CLOSURE  # for kpi.precompute, which stores what this module computes

# Per source: the rows (one per event or response, with the derived minutes) and the aggregate
# columns over one (scope, period) group. A query computes only the columns its KPIs need, and
# joins services (for the standard) only when within_standard_pct is asked for.
_EVENT_ROWS = """
    SELECT e.unit_code, e.service_code, e.arrived_at AS local_time, {bucket} AS period_start,
           e.outcome = 'completed' AS completed,
           e.outcome IN ('abandoned', 'no_show') AS lost,
           CASE WHEN e.outcome = 'completed'
                THEN date_diff('microsecond', e.arrived_at, e.completed_at) / 60e6
           END AS service_minutes,
           CASE WHEN e.outcome = 'completed' AND e.started_at IS NOT NULL
                THEN date_diff('microsecond', e.arrived_at, e.started_at) / 60e6
           END AS wait_minutes,
           {standard} AS standard_minutes
    FROM events AS e {join}
    WHERE {time_filter}"""
_SERVICE_JOIN = ("LEFT JOIN services AS s "
                 "ON s.unit_code = e.unit_code AND s.service_code = e.service_code")
_SURVEY_ROWS = """
    SELECT unit_code, service_code, submitted_at AS local_time, {bucket} AS period_start,
           u1, u2, u3, u4, u5, u6, u7, u8, u9
    FROM survey_responses WHERE {time_filter}"""
_TIME_COLUMN = {"events": "e.arrived_at", "survey": "submitted_at"}

_STANDARD_COLUMNS = {"n_with_standard", "n_within_standard"}


def _rows_sql(source: str, time_filter: str, with_standard: bool = True,
              bucket: str = "NULL::DATE") -> str:
    """One row per event or response with its period bucket (computed once per row, before
    the rows are repeated for every ancestor) and derived minutes and flags."""
    bucket = bucket.format(time=_TIME_COLUMN[source])
    if source == "survey":
        return _SURVEY_ROWS.format(time_filter=time_filter, bucket=bucket)
    return _EVENT_ROWS.format(
        standard="s.standard_minutes" if with_standard else "NULL::DOUBLE",
        join=_SERVICE_JOIN if with_standard else "", time_filter=time_filter, bucket=bucket)



def ranges_condition(column: str, ranges: Ranges | None, params: dict, prefix: str = "", *,
                     timestamps: bool = False) -> str:
    """SQL condition: `column` lies in one of `ranges` ([start, end) dates; None = every row):
    "(column >= $start AND column < $end) OR …", the one builder of such filters. Fills
    `params` with the bounds (named after `prefix`), as midnights when `timestamps`."""
    if ranges is None:
        return "TRUE"
    conditions = []
    for index, (start, end) in enumerate(ranges):
        low, high = f"{prefix}start_{index}", f"{prefix}end_{index}"
        params[low], params[high] = ((dt.datetime.combine(start, dt.time()),
                                      dt.datetime.combine(end, dt.time()))
                                     if timestamps else (start, end))
        conditions.append(f"({column} >= ${low} AND {column} < ${high})")
    return "(" + " OR ".join(conditions) + ")" if conditions else "FALSE"


def _scoped_sql(rows_sql: str, units: list[str] | None, params: dict) -> str:
    """`rows_sql`'s rows once per scope whose subtree holds their unit (column `scope`): each
    ancestor-or-self in the closure, and `*`; units None = every scope."""
    # Each scope scans the rows itself (no shared CTE, which DuckDB would materialise whole).
    unit_scope = ("" if units is None
                  else " WHERE list_contains($units, closure.ancestor)")
    scoped = [f"SELECT closure.ancestor AS scope, r.* FROM ({rows_sql}) AS r "  # noqa: S608
              f"JOIN closure ON closure.unit_code = r.unit_code{unit_scope}"]
    if units is None or CITY in units:
        scoped.append(f"SELECT '*' AS scope, r.* FROM ({rows_sql}) AS r")  # noqa: S608
    if units is not None:
        params["units"] = list(units)
    return " UNION ALL ".join(scoped)


def _selected_sql(expressions: dict[str, str]) -> tuple[str, str]:
    """The aggregate SELECT list of `expressions` {column: SQL} and the outer SELECT list that
    names its columns (both service-time quantiles come from one aggregate state, one pass
    over the values)."""
    both = {"service_time_median", "service_time_p90"} <= set(expressions)
    selected = ", ".join(
        f"{sql} AS {name}" for name, sql in expressions.items()
        if not (both and name in ("service_time_median", "service_time_p90")))
    if both:
        selected += ", quantile_cont(service_minutes, [0.5, 0.9]) AS service_quantiles"
    outer = ("* EXCLUDE (service_quantiles), service_quantiles[1] AS service_time_median, "
             "service_quantiles[2] AS service_time_p90") if both else "*"
    return selected.lstrip(", "), outer


def _aggregate_sql(source: str, period: str | None, ranges: Ranges | None,
                   units: list[str] | None, params: dict, columns: list[str] | None = None,
                   row_units: list[str] | None = None) -> str:
    """A SELECT of one row per (unit_code, period_start) with the source's aggregate `columns`
    (all for None), over the rows whose local time lies in one of `ranges` ([start, end)
    dates; None = every row); units None = every unit and `*`. `period` None makes the whole
    of the ranges one bucket named by the first range's start. `row_units` (None = all) keeps
    only the rows of those unit codes (a like-for-like comparison). Fills `params` with the
    values the SQL uses."""
    aggregates = AGGREGATES[source]
    columns = list(aggregates) if columns is None else columns
    time_filter = ranges_condition(_TIME_COLUMN[source], ranges, params, timestamps=True)
    if row_units is not None and not row_units:
        time_filter = f"({time_filter}) AND FALSE"  # the range parameters must still be used
    elif row_units is not None:
        params["row_units"] = list(row_units)
        unit_column = "e.unit_code" if source == "events" else "unit_code"
        time_filter = f"({time_filter}) AND list_contains($row_units, {unit_column})"
    if period is None:
        params["bucket"] = ranges[0][0] if ranges else dt.date(1970, 1, 1)
        bucket = "$bucket::DATE"
    else:
        bucket = f"date_trunc('{check_period(period)}', {{time}})::DATE"
    rows_sql = _rows_sql(source, time_filter,
                         with_standard=bool(_STANDARD_COLUMNS & set(columns)), bucket=bucket)
    selected, outer = _selected_sql({name: aggregates[name] for name in columns})
    return f"""
        WITH RECURSIVE {_CLOSURE}
        SELECT {outer} FROM (
            SELECT scope AS unit_code, period_start, {selected}
            FROM ({_scoped_sql(rows_sql, units, params)}) AS scoped GROUP BY ALL)"""  # noqa: S608 - engine SQL only


# -- the same aggregates from a copy of the rows (kpi.precompute, every grain at once) ----------
def _is_count(sql: str) -> bool:
    """Whether an aggregate is a count: the count of a group is the sum of its parts' counts."""
    return sql.startswith("count(")


def source_rows_sql(source: str, ranges: Ranges | None, params: dict,
                    units_ranges: tuple[list[str], Ranges] | None = None) -> str:
    """A SELECT of the rows `_aggregate_sql` aggregates (one per event or response, with its
    local_time and derived minutes and flags, the standard joined) whose local time lies in
    one of `ranges` (None = every row), and, with `units_ranges` (units, more ranges), the rows
    of those units in those ranges too. kpi.precompute reads the lake once into a table of
    these (and of their `day_counts_sql`) and aggregates every grain from them."""
    time_filter = ranges_condition(_TIME_COLUMN[source], ranges, params, timestamps=True)
    if units_ranges is not None:
        units, more = units_ranges
        params["row_units"] = sorted(units)
        params["row_units_low"], params["row_units_high"] = (min(units), max(units)) if units \
            else ("", "")
        unit_column = "e.unit_code" if source == "events" else "unit_code"
        # The bounds beside the list: DuckDB skips the files and row groups whose unit codes
        # lie outside them (a province's rows are sorted by unit, and a city's codes are
        # adjacent), where list_contains alone reads every row's unit code.
        own = (f"list_contains($row_units, {unit_column}) AND {unit_column} BETWEEN "
               f"$row_units_low AND $row_units_high AND "
               f"{ranges_condition(_TIME_COLUMN[source], more, params, 'units_', timestamps=True)}")
        time_filter = own if ranges == [] else f"({time_filter}) OR ({own})"
    # service_code is not aggregated: left out of the copy.
    return (f"SELECT * EXCLUDE (period_start, service_code) "  # noqa: S608
            f"FROM ({_rows_sql(source, time_filter)})")


def day_counts_sql(source: str, rows_table: str) -> str:
    """Per unit and local day of `rows_table` (rows of `source_rows_sql`), the source's count
    aggregates: a subtree's count over a period is the sum of these."""
    counts = ", ".join(f"{sql} AS {name}" for name, sql in AGGREGATES[source].items()
                       if _is_count(sql))
    return (f"SELECT unit_code, local_time::DATE AS day, {counts} "  # noqa: S608
            f"FROM {rows_table} GROUP BY ALL")


def _aggregate_from_tables_sql(source: str, period: str, ranges: Ranges | None,
                               units: list[str] | None, params: dict, columns: list[str],
                               tables: tuple[str, str], closure: str | None = None) -> str:
    """`_aggregate_sql`'s SELECT (same rows, same values) over `tables`: a table of
    `source_rows_sql`'s rows and one of their `day_counts_sql`. Counts are the sums of the
    day counts; the other aggregates (medians, P90, means) come from the rows themselves.
    The range parameters are named after `period`, so that the SELECTs of several grains can
    make one statement; `closure` names a table of `CLOSURE_SQL`'s rows that they then share
    (each grain's own recursion over the units cost a province's weekly import more than
    its quantiles)."""
    rows_table, counts_table = tables
    aggregates = AGGREGATES[source]
    bucket = f"date_trunc('{check_period(period)}', {{time}})::DATE"
    counts = [name for name in columns if _is_count(aggregates[name])]
    others = [name for name in columns if name not in counts]
    parts = []
    if counts:
        day_rows = (f"SELECT *, {bucket.format(time='day')} AS period_start "  # noqa: S608
                    f"FROM {counts_table} WHERE {ranges_condition('day', ranges, params, period, timestamps=True)}")
        sums = ", ".join(f"sum({name})::BIGINT AS {name}" for name in counts)
        parts.append(f"SELECT scope AS unit_code, period_start, {sums} "  # noqa: S608
                     f"FROM ({_scoped_sql(day_rows, units, params)}) AS scoped GROUP BY ALL")
    if others:
        rows = (f"SELECT *, {bucket.format(time='local_time')} AS period_start "  # noqa: S608
                f"FROM {rows_table} "
                f"WHERE {ranges_condition('local_time', ranges, params, period, timestamps=True)}")
        selected, outer = _selected_sql({name: aggregates[name] for name in others})
        parts.append(f"SELECT {outer} FROM (SELECT scope AS unit_code, period_start, "  # noqa: S608
                     f"{selected} FROM ({_scoped_sql(rows, units, params)}) AS scoped "
                     "GROUP BY ALL)")
    # Every (scope, period) with a row has its counts: the other aggregates join them.
    joined = parts[0] if len(parts) == 1 else (
        f"SELECT * FROM ({parts[0]}) LEFT JOIN ({parts[1]}) "  # noqa: S608
        "USING (unit_code, period_start)")
    if closure is not None:
        return f"WITH closure AS (SELECT ancestor, unit_code FROM {closure}) {joined}"  # noqa: S608
    return f"WITH RECURSIVE {_CLOSURE} {joined}"


@one_unit_of_work
def scoped_aggregates(store: Reader, *, source: str, period: str | None, ranges: Ranges,
                      units: list[str] | None = None,
                      columns: list[str] | None = None) -> pd.DataFrame:
    """The raw aggregate columns per (unit_code, period_start) of `source` ("events" or
    "survey"), pooled over each unit's subtree, for rows whose local time lies in one of
    `ranges` ([start, end) dates); `period` None = one bucket named by the first range's start.
    Events: n_events, n_abandoned, n_completed, service_time_median, service_time_p90,
    n_waited, wait_time_median, n_with_standard, n_within_standard. Survey: n_responses,
    nrr_u1 … nrr_u9, ikm. `columns` picks some of them (all for None)."""
    params: dict = {}
    sql = _aggregate_sql(source, period, ranges, units, params, columns)
    frame = store.query_df(sql, params)
    frame["period_start"] = _to_dates(frame["period_start"])
    return frame


def survey_aggregates_sql() -> str:
    """The survey aggregate columns (n_responses, nrr_u1 … nrr_u9, ikm) for any GROUP BY."""
    return ", ".join(f"{sql} AS {name}" for name, sql in AGGREGATES["survey"].items())


def kpi_rows_sql(period: str, ranges: Ranges | None, units: list[str] | None, kpis: list[str],
                 params: dict, row_units: list[str] | None = None,
                 tables: dict[str, tuple[str, str]] | None = None,
                 closure: str | None = None) -> str:
    """SELECT unit_code, period_start, kpi, value, n, parts for the KPIs asked for (n > 0
    only), computed over the raw rows whose local time lies in `ranges` (None = every row):
    the store's, or per source a copy of them, `tables` {source: (rows table, day counts
    table)} (see `source_rows_sql`), with the unit tree's closure from the table `closure`
    names (with `tables` only; see `_aggregate_from_tables_sql`)."""
    parts = []
    for source in AGGREGATES:
        wanted = [KPIS[name] for name in kpis if KPIS[name].source == source]
        if not wanted:
            continue
        columns = list(dict.fromkeys(column for kpi in wanted for column in kpi.needs))
        if tables is not None:
            aggregate = _aggregate_from_tables_sql(source, period, ranges, units, params,
                                                   columns, tables[source], closure)
        else:
            aggregate = _aggregate_sql(source, period, ranges, units, params, columns, row_units)
        selects = [
            f"SELECT unit_code, period_start, '{kpi.name}' AS kpi, {kpi.value} AS value, "  # noqa: S608
            f"{kpi.n} AS n, {'ikm_parts' if kpi.name == 'ikm' else 'NULL::BIGINT[]'} AS parts "
            f"FROM agg_{source} WHERE {kpi.n} > 0 AND {kpi.value} IS NOT NULL"
            for kpi in wanted
        ]
        parts.append((f"agg_{source} AS ({aggregate})", " UNION ALL ".join(selects)))
    if not parts:
        return "SELECT NULL AS unit_code, NULL::DATE AS period_start, NULL AS kpi, " \
               "NULL::DOUBLE AS value, NULL::BIGINT AS n, NULL::BIGINT[] AS parts WHERE FALSE"
    ctes = ", ".join(cte for cte, _ in parts)
    body = " UNION ALL ".join(select for _, select in parts)
    return f"WITH {ctes} {body}"


def _kpi_order(frame: pd.DataFrame) -> pd.DataFrame:
    order = {name: index for index, name in enumerate(KPIS)}
    frame = frame.assign(_order=frame["kpi"].map(order))
    frame = frame.sort_values(["unit_code", "_order", "period_start"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def _to_dates(column: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column) and not column.isna().any():
        return pd.Series(column.dt.date.to_numpy(dtype=object), index=column.index, dtype=object)
    return pd.Series([value.date() if hasattr(value, "date") else value for value in column],
                     index=column.index, dtype=object)


def _stored_kpi_rows_sql(period: str, ranges: Ranges, units: list[str] | None,
                         kpis: list[str], params: dict) -> str:
    """The rows of `kpi_rows_sql` for whole periods, read from the precomputed `kpi_values`
    (kpi.precompute keeps them equal to the computation over the raw rows)."""
    # One SELECT per range, each a plain range DuckDB checks against the (grain, period_start)
    # order of the table's copy (kpi/store.py), so it reads only those periods' row groups; an
    # OR of ranges, or a filter on every KPI, would be tested on each of its millions of rows.
    if not ranges:
        return "SELECT unit_code, period_start, kpi, value, n, parts FROM kpi_values WHERE FALSE"
    params["grain"] = period
    conditions = ["grain = $grain"]
    if set(kpis) != set(KPIS):
        params["kpis"] = list(kpis)
        conditions.append("list_contains($kpis, kpi)")
    if units is not None:
        params["units"] = list(units)
        conditions.append("list_contains($units, unit_code)")
    selects = [
        "SELECT unit_code, period_start, kpi, value, n, parts FROM kpi_values "  # noqa: S608
        f"WHERE {' AND '.join([*conditions, ranges_condition('period_start', [span], params, f'r{index}_')])}"
        for index, span in enumerate(ranges)]
    return " UNION ALL ".join(selects)


def _query_kpis(store: Reader, *, period: str, ranges: Ranges, units: list[str] | None,
                kpis: list[str], with_targets: bool,
                row_units: list[str] | None = None) -> pd.DataFrame:
    """KPI rows of whole periods (`ranges` are [start, end) of period starts): read from the
    precomputed values, or computed over the raw rows of `row_units` only (like for like)."""
    params: dict = {}
    if row_units is None:
        sql = _stored_kpi_rows_sql(period, ranges, units, kpis, params)
    else:
        sql = kpi_rows_sql(period, ranges, units, kpis, params, row_units)
    if with_targets:
        sql = f"WITH kpi_rows AS ({sql}) {attach_targets_sql('kpi_rows', 'period_start')}"
    return _kpi_frame(store.query_df(sql, params), with_targets)


def _kpi_frame(frame: pd.DataFrame, with_targets: bool) -> pd.DataFrame:
    """The rows of a KPI query typed, with `graded` (and `status` with the targets), in the
    order of `_kpi_order`."""
    columns = ["unit_code", "period_start", "kpi", "value", "n", "parts"]
    if with_targets:
        columns += ["target", "amber_pct"]
    frame = frame[columns]
    frame["period_start"] = _to_dates(frame["period_start"])
    frame["value"] = frame["value"].astype(float)
    frame["n"] = frame["n"].astype("int64")
    frame["graded"] = _graded_column(frame["kpi"], frame["value"], frame["parts"])
    frame = frame.drop(columns="parts")
    if with_targets:
        frame["target"] = frame["target"].astype(float)
        frame["amber_pct"] = frame["amber_pct"].astype(float)
        frame["status"] = statuses(frame["graded"].to_numpy(), frame["target"].to_numpy(),
                                   _better(frame["kpi"]), frame["amber_pct"].to_numpy())
    return _kpi_order(frame)


def _graded_column(kpis: pd.Series, values: pd.Series, parts: pd.Series) -> np.ndarray:
    """The figure each row's status is judged on: only the IKM has parts (the answer sums and
    counts) and is graded on them (`graded_value`); every other value is its own grade."""
    graded = values.to_numpy(dtype=float, copy=True)
    ikm = (kpis == "ikm").to_numpy() & ~np.isnan(graded)
    graded[ikm] = [graded_value(value, part) for value, part
                   in zip(graded[ikm], parts.to_numpy()[ikm], strict=True)]
    return graded


def _better(kpis: pd.Series) -> np.ndarray:
    """Each row's KPI's better side ("higher" or "lower")."""
    return kpis.map({name: kpi.better for name, kpi in KPIS.items()}).to_numpy()


def graded_value(value: float, parts: Any) -> float:
    """The figure a status is judged on: the value, or for the IKM (whose `parts` are the
    answer sums and counts) the IKM rounded half up to two decimals, computed exactly."""
    if not hasattr(parts, "__len__"):  # NULL (None, NaN or NA): not the IKM
        return value
    # A key of plain numbers (a masked array's missing elements become None, counted as 0).
    exact = _exact_ikm(tuple(parts.tolist() if hasattr(parts, "tolist") else parts))
    return value if exact is None else float(exact)


@functools.lru_cache(maxsize=65536)
def _exact_ikm(parts: tuple) -> Decimal | None:
    """`ikm.exact_ikm`, remembered: the same periods' IKMs are graded on every page run."""
    return exact_ikm(parts)


def _kpis_in_range(store: Reader, period: str, date_from: dt.date, date_to: dt.date,
                   units: list[str] | None, kpis: list[str] | None, *,
                   with_targets: bool) -> pd.DataFrame:
    first, end = periods_between(date_from, date_to, check_period(period))
    return _query_kpis(store, period=period, ranges=[(first, end)] if first < end else [],
                       units=check_units(store, units), kpis=check_kpis(kpis),
                       with_targets=with_targets)


@reads("kpi_values", "units")
@one_unit_of_work
def kpi_values(store: Reader, *, period: str, date_from: dt.date, date_to: dt.date,
               units: list[str] | None = None, kpis: list[str] | None = None) -> pd.DataFrame:
    """Tidy KPI values: unit_code, period_start (date), kpi, value (float), n (int).

    One row per unit (every unit and `*` when `units` is None), KPI and period whose first date
    lies in [date_from, date_to] (the whole period counts, even past date_to). Absent values
    (n = 0) are no row. Sorted by unit_code, KPI (contract order), period_start.
    """
    return _kpis_in_range(store, period, date_from, date_to, units, kpis,
                          with_targets=False).drop(columns="graded")


@one_unit_of_work
def kpi_table(store: Reader, *, period: str, date_from: dt.date, date_to: dt.date,
              units: list[str] | None = None, kpis: list[str] | None = None) -> pd.DataFrame:
    """`kpi_values` plus target (float, NaN when none), amber_pct and status
    ("green" | "amber" | "red" | "none"): exactly the rows of the CLI's `kpis`."""
    return _kpis_in_range(store, period, date_from, date_to, units, kpis,
                          with_targets=True).drop(columns="graded")


# The overview's columns but `change` (inserted before last_year_value), with their types
# (None: inferred).
_OVERVIEW_DTYPES = {
    "unit_code": None, "name": object, "type": object, "parent_code": object, "depth": "int64",
    "kpi": None, "period_start": object, "value": float, "n": "int64", "target": float,
    "amber_pct": float, "status": None, "prev_value": float, "prev_status": object,
    "last_year_value": float, "graded": float}


@reads("kpi_values", "targets", "unit_days", "units")
@one_unit_of_work
def overview(store: Reader, *, period: str, period_start: dt.date,
             units: list[str] | None = None) -> pd.DataFrame:
    """One row per unit × KPI for one period (every unit and `*` when `units` is None): unit
    name, type, parent_code, depth; value, n, target, amber_pct, status; prev_value, prev_status
    and change against the previous period (value − prev_value, or like for like when the
    units that reported differ: see `_like_for_like_change`); last_year_value (the same
    period a year before); graded (the figure the status is judged on: the value, or the IKM
    rounded half up exactly). A unit without a value still has its rows (value NaN, status "none")."""
    start = _start_of(period_start, check_period(period))
    previous = previous_period(start, period)
    last_year = same_period_last_year(start, period)
    units = check_units(store, units)
    ranges = [(start, next_period(start, period)), (previous, start)]
    if last_year < previous:
        ranges.append((last_year, next_period(last_year, period)))
    tree = unit_tree(store)
    scopes = [(CITY, None, None, None, -1), *zip(
        *(tree[column].tolist() for column in ("unit_code", "name", "type", "parent_code",
                                               "depth")), strict=True)]
    if units is not None:
        wanted = set(units)
        scopes = [scope for scope in scopes if scope[0] in wanted]
    # One query, one row per unit × KPI in the overview's order: the three periods' values
    # side by side, the period's and the previous period's each with the target that applies
    # on its first date (the targets in force); the statuses are judged on whole columns.
    params: dict = {"kpis": list(KPIS)}
    rows = _stored_kpi_rows_sql(period, ranges, units, list(KPIS), params)
    params.update(codes=[scope[0] for scope in scopes], start_day=start, previous_day=previous,
                  last_year_day=last_year)
    sql = f"""
        WITH kpi_rows AS ({rows}),
        grid AS (
            SELECT s.unit_code, s.position, k.kpi, k.kpi_position
            FROM (SELECT unnest($codes) AS unit_code,
                         generate_subscripts($codes, 1) AS position) AS s
            CROSS JOIN (SELECT unnest($kpis) AS kpi,
                               generate_subscripts($kpis, 1) AS kpi_position) AS k),
        wanted AS (
            SELECT unit_code, kpi, $start_day::DATE AS period_start FROM grid
            UNION ALL
            SELECT unit_code, kpi, period_start FROM kpi_rows
            WHERE period_start = $previous_day),
        targeted AS ({attach_targets_sql('wanted', 'period_start')})
        SELECT now.value, now.n, now.parts, target_now.target, target_now.amber_pct,
               before.value AS prev_value, before.parts AS prev_parts,
               target_before.target AS prev_target, target_before.amber_pct AS prev_amber,
               year_ago.value AS last_year_value
        FROM grid AS g
        LEFT JOIN kpi_rows AS now ON now.unit_code = g.unit_code AND now.kpi = g.kpi
             AND now.period_start = $start_day
        LEFT JOIN kpi_rows AS before ON before.unit_code = g.unit_code AND before.kpi = g.kpi
             AND before.period_start = $previous_day
        LEFT JOIN kpi_rows AS year_ago ON year_ago.unit_code = g.unit_code
             AND year_ago.kpi = g.kpi AND year_ago.period_start = $last_year_day
        LEFT JOIN targeted AS target_now ON target_now.unit_code = g.unit_code
             AND target_now.kpi = g.kpi AND target_now.period_start = $start_day
        LEFT JOIN targeted AS target_before ON target_before.unit_code = g.unit_code
             AND target_before.kpi = g.kpi AND target_before.period_start = $previous_day
        ORDER BY g.position, g.kpi_position"""  # noqa: S608 - engine SQL only
    found = store.query_df(sql, params)
    per_scope = len(KPIS)
    kpis = pd.Series(list(KPIS) * len(scopes))
    better = _better(kpis)
    value = found["value"].to_numpy(dtype=float)
    graded = _graded_column(kpis, found["value"].astype(float), found["parts"])
    prev_graded = _graded_column(kpis, found["prev_value"].astype(float), found["prev_parts"])
    target, amber = (found[column].to_numpy(dtype=float) for column in ("target", "amber_pct"))
    columns = {
        **{name: np.repeat(np.array([scope[index] for scope in scopes], dtype=object), per_scope)
           for index, name in enumerate(("unit_code", "name", "type", "parent_code", "depth"))},
        "kpi": kpis, "period_start": [start] * len(kpis), "value": value,
        "n": found["n"].fillna(0).to_numpy(dtype="int64"), "target": target, "amber_pct": amber,
        # Each status judged on the target in force in its own period.
        "status": statuses(graded, target, better, amber),
        "prev_value": found["prev_value"].to_numpy(dtype=float),
        "prev_status": statuses(prev_graded, found["prev_target"].to_numpy(dtype=float), better,
                                found["prev_amber"].to_numpy(dtype=float)),
        "last_year_value": found["last_year_value"].to_numpy(dtype=float), "graded": graded}
    frame = pd.DataFrame({  # a column of inferred type is given as a list (pandas infers)
        name: pd.Series(list(items) if _OVERVIEW_DTYPES[name] is None else items,
                        dtype=_OVERVIEW_DTYPES[name]) for name, items in columns.items()})
    frame.insert(frame.columns.get_loc("last_year_value"), "change",
                 _like_for_like_change(store, frame, period, start, units))
    return frame


def _like_for_like_change(store: Reader, frame: pd.DataFrame, period: str, start: dt.date,
                          units: list[str] | None) -> pd.Series:
    """value − prev_value for each row of an overview `frame`; when the units that reported
    differ between the two periods (issue 12), a unit's change pools only the rows of the units
    that reported in both, so a week a few units have reported never reads as the city's
    collapse (a unit absent from either period has no change)."""
    previous = previous_period(start, period)
    reported = reporting.two_periods(reporting.reported_by_period(
        store, period=period, date_from=previous, date_to=next_period(start, period)),
        start, period)
    if reported.now == reported.before:
        return frame["value"] - frame["prev_value"]
    like = _query_kpis(store, period=period, ranges=[(previous, next_period(start, period))],
                       units=units, kpis=list(KPIS), with_targets=False,
                       row_units=sorted(reported.both))
    keys = ["unit_code", "kpi"]
    pooled = frame[keys].merge(
        like[like["period_start"] == start][[*keys, "value"]], on=keys, how="left").merge(
        like[like["period_start"] == previous][[*keys, "value"]].rename(
            columns={"value": "prev"}), on=keys, how="left")
    return pd.Series((pooled["value"] - pooled["prev"]).to_numpy(dtype=float), index=frame.index)


def bounds_or_all_data(store: Reader, period: str, date_from: dt.date | None,
                       date_to: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    """[date_from, date_to] with a missing bound taken from the data: the start of the period
    holding the first date with data, and the last such date (None, None on an empty store)."""
    if date_from is not None and date_to is not None:
        return date_from, date_to
    first_day, last_day = data_range(store)
    if date_from is None and first_day is not None:
        date_from = period_start(first_day, period)
    return date_from, date_to if date_to is not None else last_day


@reads("kpi_values", "targets", "units")
@one_unit_of_work
def series(store: Reader, *, unit: str, kpi: str, period: str, date_from: dt.date | None = None,
           date_to: dt.date | None = None) -> pd.DataFrame:
    """period_start, value, n, target, amber_pct, status of one unit's KPI for every period
    with a value whose first date lies in [date_from, date_to] (all data when a bound is None)."""
    check_period(period)
    check_units(store, [unit])
    date_from, date_to = bounds_or_all_data(store, period, date_from, date_to)
    columns = ["period_start", "value", "n", "target", "amber_pct", "status"]
    if date_from is None or date_to is None:
        return pd.DataFrame(columns=columns)
    table = kpi_table(store, period=period, date_from=date_from, date_to=date_to,
                      units=[unit], kpis=[kpi])
    return table[columns].reset_index(drop=True)


def subtree_filter_sql(units_param: str = "unit") -> str:
    """SQL condition: the row's unit_code lies in the subtree of `$unit` (all rows for `*`)."""
    return (f"(${units_param} = '*' OR unit_code IN (WITH RECURSIVE {_CLOSURE} "  # noqa: S608
            f"SELECT unit_code FROM closure WHERE ancestor = ${units_param}))")


def day_params(date_from: dt.date, date_to: dt.date) -> dict:
    """Parameters for local dates [date_from, date_to], both inclusive."""
    return {"start": dt.datetime.combine(date_from, dt.time()),
            "end": dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time())}


@reads("events", "services", "units")
@one_unit_of_work
def service_breakdown(store: Reader, *, unit: str, date_from: dt.date, date_to: dt.date) -> pd.DataFrame:
    """Per service of the unit's subtree, over arrivals on local dates [date_from, date_to]:
    unit_code, service_code, name, standard_minutes, events, completed, service_time_median,
    service_time_p90, within_standard_pct (NaN when the service has no standard)."""
    check_units(store, [unit])
    events = AGGREGATES["events"]
    sql = f"""
        WITH rows AS ({_rows_sql(
            "events", "e.arrived_at >= $start AND e.arrived_at < $end")}),
        per_service AS (
            SELECT unit_code, service_code, {events["n_events"]} AS events,
                   {events["n_completed"]} AS completed,
                   {events["service_time_median"]} AS service_time_median,
                   {events["service_time_p90"]} AS service_time_p90,
                   {events["n_with_standard"]} AS n_with_standard,
                   {events["n_within_standard"]} AS n_within_standard
            FROM rows WHERE {subtree_filter_sql()}
            GROUP BY ALL)
        SELECT r.unit_code, r.service_code, s.name, s.standard_minutes, r.events, r.completed,
               r.service_time_median, r.service_time_p90,
               {WITHIN_STANDARD_SQL} AS within_standard_pct
        FROM per_service AS r
        LEFT JOIN services AS s ON s.unit_code = r.unit_code AND s.service_code = r.service_code
        ORDER BY r.unit_code, r.service_code
    """  # noqa: S608 - engine SQL only
    return store.query_df(sql, {"unit": unit, **day_params(date_from, date_to)})


@reads("events", "services", "units")
@one_unit_of_work
def arrivals_by_hour(store: Reader, *, unit: str, date_from: dt.date, date_to: dt.date) -> pd.DataFrame:
    """weekday (1 = Monday … 7), hour (0–23), arrivals, wait_time_median over the unit's subtree
    for arrivals on local dates [date_from, date_to]; only the hours with arrivals."""
    check_units(store, [unit])
    sql = f"""
        WITH rows AS ({_rows_sql(
            "events", "e.arrived_at >= $start AND e.arrived_at < $end")})
        SELECT isodow(local_time) AS weekday, hour(local_time) AS hour, count(*) AS arrivals,
               quantile_cont(wait_minutes, 0.5) AS wait_time_median
        FROM rows WHERE {subtree_filter_sql()}
        GROUP BY ALL ORDER BY weekday, hour
    """  # noqa: S608 - engine SQL only
    return store.query_df(sql, {"unit": unit, **day_params(date_from, date_to)})


# z-values of the funnel's two-sided 95 % and 99.8 % limits.
_Z95 = 1.959963984540054
_Z998 = 3.090232306167813
_FUNNEL_COUNTS = {
    "within_standard_pct": ("n_within_standard", "n_with_standard"),
    "abandon_rate": ("n_abandoned", "n_events"),
}


@reads("events", "services", "units")
@one_unit_of_work
def funnel(store: Reader, *, kpi: str, period: str, period_start: dt.date,
           centre: Sequence[str] | None = None) -> pd.DataFrame:
    """A funnel plot's data for `within_standard_pct` or `abandon_rate` in one period, one row
    per unit with a denominator: unit_code, numerator, denominator, rate (percent), city_rate,
    lower_95, upper_95, lower_998, upper_998 (binomial normal approximation around the city
    rate, in percent, unclipped). `centre`: the units whose pooled rate is the centre instead
    of the city's (each unit's counts pool its subtree): a city user's own units, whose
    subtrees are the population they compare."""
    if kpi not in _FUNNEL_COUNTS:
        raise UnknownArgument("kpi.error.funnel_kpi", kpi=kpi, kpis=" or ".join(_FUNNEL_COUNTS))
    wholes = [CITY] if centre is None else list(centre)
    check_units(store, wholes)
    numerator, denominator = _FUNNEL_COUNTS[kpi]
    start = _start_of(period_start, check_period(period))
    params: dict = {}
    aggregate = _aggregate_sql("events", period, [(start, next_period(start, period))], None, params)
    frame = store.query_df(
        f"SELECT unit_code, {numerator} AS numerator, {denominator} AS denominator "  # noqa: S608
        f"FROM ({aggregate}) WHERE {denominator} > 0 ORDER BY unit_code", params)
    city = frame[frame["unit_code"].isin(wholes)]
    frame = frame[frame["unit_code"] != CITY].reset_index(drop=True)
    frame["rate"] = 100.0 * frame["numerator"] / frame["denominator"]
    if city.empty:
        frame["city_rate"] = float("nan")
    else:  # one row (the city) or the centre's units pooled
        frame["city_rate"] = 100.0 * city["numerator"].sum() / city["denominator"].sum()
    city_rate = frame["city_rate"].iloc[0] if len(frame) else float("nan")
    limits = funnel_limits(city_rate, frame["denominator"])
    for column in FUNNEL_LIMITS:
        frame[column] = limits[column].to_numpy()
    return frame


FUNNEL_LIMITS = ("lower_95", "upper_95", "lower_998", "upper_998")


def funnel_limits(city_rate: float, denominators: Iterable[float]) -> pd.DataFrame:
    """lower_95, upper_95, lower_998, upper_998 (percent, unclipped) around `city_rate`
    (percent) for each of `denominators`: the binomial normal approximation,
    city ± z·√(p(1−p)/n). One formula for the units' limits and the drawn funnel."""
    counts = pd.Series(denominators, dtype=float).reset_index(drop=True)
    share = city_rate / 100
    spread = 100 * (share * (1 - share) / counts) ** 0.5
    limits = {"denominator": counts}
    for label, z in (("95", _Z95), ("998", _Z998)):
        limits[f"lower_{label}"] = city_rate - z * spread
        limits[f"upper_{label}"] = city_rate + z * spread
    return pd.DataFrame(limits)


# -- output shapes ----------------------------------------------------------------------------
KPI_RECORD_KEYS = ("unit_code", "period_start", "kpi", "value", "target", "status", "n")


def _plain(value: Any) -> Any:
    """A JSON-ready scalar: NaN/NaT -> None, dates -> ISO text, numpy numbers -> Python's."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def kpi_records(table: pd.DataFrame) -> list[dict]:
    """The rows of `kpi_table` in the contract's JSON shape (`kpis` command): unit_code,
    period_start (YYYY-MM-DD), kpi, value, target (None when none), status, n."""
    return [
        {key: _plain(row[key]) for key in KPI_RECORD_KEYS}
        for row in table.to_dict("records")
    ]


# -- comparing units (the Compare page) -------------------------------------------------------
FUNNEL_KPIS = tuple(_FUNNEL_COUNTS)


def funnel_curve(city_rate: float, denominators: Iterable[float], points: int = 80) -> pd.DataFrame:
    """The funnel to draw behind the units: `funnel_limits` on a geometric grid of
    denominators from just below the smallest of `denominators` to just past the largest."""
    counts = pd.Series(denominators, dtype=float)
    counts = counts[counts > 0]
    if counts.empty:
        return funnel_limits(city_rate, [])
    low, high = max(1.0, counts.min() * 0.7), counts.max() * 1.08
    grid = [low * (high / low) ** (step / (points - 1)) for step in range(points)]
    return funnel_limits(city_rate, grid)


def funnel_position(frame: pd.DataFrame, kpi: str) -> pd.Series:
    """For each row of a `funnel` frame: "better" or "worse" (for the KPI) when its rate lies
    strictly beyond the 99.8 % limits, else "within" (the difference is plausibly chance)."""
    better = KPIS[kpi].better
    above = frame["rate"] > frame["upper_998"]
    below = frame["rate"] < frame["lower_998"]
    good, bad = (above, below) if better == "higher" else (below, above)
    position = pd.Series("within", index=frame.index, dtype=object)
    position[good] = "better"
    position[bad] = "worse"
    return position


def league_table(frame: pd.DataFrame, kpi: str) -> pd.DataFrame:
    """The units of an `overview` frame ranked on `kpi`, best first: rank (1 = best; ties
    share a rank; NaN for a unit without a value, listed last) and the overview's columns.
    The city `*` is left out."""
    rows = frame[(frame["kpi"] == kpi) & (frame["unit_code"] != CITY)].copy()
    ascending = KPIS[kpi].better == "lower"
    rows["rank"] = rows["value"].rank(method="min", ascending=ascending)
    rows = rows.sort_values(["rank", "unit_code"], na_position="last", kind="stable")
    return rows.reset_index(drop=True)


def league_summary(table: pd.DataFrame) -> dict:
    """What a `league_table` says in one line: best and worst unit_code (None when no unit
    has a value), ranked (units with a value), with_target (of those, units with a target) and
    met (of those, units meeting it, status green)."""
    ranked = table[table["rank"].notna()]
    with_target = ranked[ranked["status"] != "none"]
    return {
        "best": ranked["unit_code"].iloc[0] if len(ranked) else None,
        "worst": ranked["unit_code"].iloc[-1] if len(ranked) else None,
        "ranked": len(ranked),
        "with_target": len(with_target),
        "met": int((with_target["status"] == "green").sum()),
    }
