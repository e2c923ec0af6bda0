"""Precomputed KPI values: table `kpi_values`, kept equal to a computation over the raw rows.

Every KPI of every unit subtree (and the city `*`) for every period of every grain is computed
once, when the data change, by the same SQL as `metrics` uses over the raw rows (medians and
P90 from the rows themselves, subtrees pooled through the closure), and stored as
(unit_code, kpi, grain, period_start, value, n, and for the IKM the answer sums and counts its
grade is judged on). The pages and the CLI read these rows: a
full-history scan of the raw tables costs seconds on a large store (about 4× more on the
lake), a read of kpi_values milliseconds.

One entry point, `refresh(cur, change)`, runs inside the write transaction that changed the
data, so the values and the rows they come from are committed together (or not at all).
`change` says what the write touched (`batch_change`): only the subtrees that contain a touched
unit (its ancestors, itself and `*`) and the periods that contain a touched day are recomputed.
Targets are not stored: status is derived from the targets at read time.

Beside them, table `unit_days` holds each unit's own rows per local day (events, responses):
which units have reported for a period is read from it, not from the raw rows.

How (issue 13): the lake is read once per refresh. The rows of every period to recompute, of
all five grains, are copied into a temporary table (`metrics.source_rows_sql`: derived minutes,
flags and standard included), and their counts per unit and local day beside it
(`metrics.day_counts_sql`). Each grain then sums those day counts over subtree and period, and
takes the aggregates that are not counts (medians, P90, means) from the copied rows themselves,
pooled through the closure: exact, never from finer medians (`metrics.kpi_rows_sql(...,
tables=...)`). The stale values of the five grains go in one DELETE; each grain is one
INSERT, so that only one grain's quantile states are held at a time. GROUPING SETS over the
five grains was measured no cheaper than a query per grain: the cost is in the quantile
states (every row once per subtree holding it, per grain), not in reading the rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from kpi import audit, config, metrics
from kpi.reads import reads
from kpi.store import Reader, Store, Writer
from kpi.vocabulary import AGGREGATES, KPIS, PERIODS

# The KPIs each kind of data feeds (a services batch changes only the standard).
_EVENT_KPIS = tuple(name for name, info in metrics.KPIS.items() if info.source == "events")
_SURVEY_KPIS = tuple(name for name, info in metrics.KPIS.items() if info.source == "survey")
_ROW_TABLES = {"events": ("events", "arrived_at"), "survey": ("survey_responses", "submitted_at")}
_READY_KEY = "kpi_values_ready"
_UNIT_DAYS_READY_KEY = "unit_days_ready"
# Bumped by every refresh, i.e. by every write of data the KPIs or their statuses derive from
# (imports of any kind, rollbacks, target edits), and by nothing else: the dashboard keys its
# KPI caches on it, so a meeting's own writes (actions, minutes) leave them warm.
_VERSION_KEY = "kpi_data_version"
# A province (issue 26): a city's weekly import recomputes its own subtrees only; the province
# `*` of every grain (every city's rows: at 10^8 events one week alone is 1.3 M of them, which
# each of 33 imports would re-read) waits in kpi_pending for `refresh_pending`, run once after
# the Monday imports (or nightly).
_DEFER_KEY = "defer_province_totals"
# The digest of the formulas the stored values were computed with (`definitions_digest`): a
# store whose digest differs from the running code's is recomputed once (`ensure_ready`).
_DEFINITIONS_KEY = "kpi_definitions_sha"
_CLOSURE_TABLE = "__kpi_closure"  # see _closure_table
# Bump when the stored values change meaning without a change to the SQL of the definitions
# (e.g. how unit_days is counted, or a column of kpi_values read differently).
PRECOMPUTE_VERSION = 1


@dataclass(frozen=True)
class Change:
    """What a write touched: the KPIs whose inputs changed; the units whose rows changed (None:
    every unit, e.g. when the unit tree itself changed); the local days of those rows (None:
    every day)."""

    kpis: tuple[str, ...] = tuple(metrics.KPIS)
    units: frozenset[str] | None = None
    days: frozenset[dt.date] | None = None

    @property
    def nothing(self) -> bool:
        return not self.kpis or self.units == frozenset() or self.days == frozenset()


EVERYTHING = Change()


def _distinct(cur: Reader, sql: str, params: dict) -> frozenset:
    return frozenset(value for (value,) in cur.query_rows(sql, params) if value is not None)


def batch_change(cur: Reader, kind: str, batch_id: int,
                 own: tuple[list[str | None], list[dt.date | None]] | None = None,
                 replaced: bool = True) -> Change:
    """What batch `batch_id` of `kind` touches: its own rows and the rows it replaced. Call it
    after the batch's rows are written (import) or before they are removed (rollback): both
    times the same rows are there. `own`: the units and days of the batch's own rows when the
    caller has them already (the import's key check reads them in the same pass); `replaced`
    False when the batch replaced no row. Each statement on the lake costs its catalog
    look-ups: a weekly import then reads nothing more here."""
    if kind == "targets":  # status is derived at read time
        return Change(kpis=())
    if kind == "units":  # the tree may have changed: every subtree
        return EVERYTHING
    params = {"batch": batch_id}
    if kind == "services":  # a standard changed: within_standard_pct of the services' units
        units = _distinct(cur, """
            SELECT unit_code FROM services WHERE batch_id = $batch
            UNION SELECT unit_code FROM services_replaced WHERE replaced_by = $batch""", params)
        return Change(kpis=("within_standard_pct",), units=units)
    table, time_column = _ROW_TABLES[kind]
    parts = []
    if own is None:
        parts.append(f"SELECT unit_code, {time_column} AS local_time FROM {table} "  # noqa: S608
                     "WHERE batch_id = $batch")
    if replaced:
        parts.append(f"SELECT unit_code, {time_column} AS local_time FROM {table}_replaced "  # noqa: S608
                     "WHERE replaced_by = $batch")
    codes, days = (list(own[0]), list(own[1])) if own is not None else ([], [])
    if parts:
        # Units and days in one pass over the rows.
        more_codes, more_days = cur.query_rows(
            "SELECT list(DISTINCT unit_code), list(DISTINCT local_time::DATE) "  # noqa: S608
            f"FROM ({' UNION ALL '.join(parts)})", params)[0]
        codes += more_codes or []
        days += more_days or []
    return Change(kpis=_EVENT_KPIS if kind == "events" else _SURVEY_KPIS,
                  units=frozenset(code for code in codes if code is not None),
                  days=frozenset(day for day in days if day is not None))


def row_time_column(kind: str) -> str | None:
    """The local time column of `kind`'s rows (events, survey): their day is what a batch of
    them touches; None for the kinds without one."""
    found = _ROW_TABLES.get(kind)
    return None if found is None else found[1]


@contextmanager
def _closure_table(cur: Writer) -> Iterator[None]:
    """The unit tree's closure (`metrics.CLOSURE_SQL`: every unit with each ancestor-or-self)
    in the temporary table _CLOSURE_TABLE while the block runs: the scopes and every grain's
    SELECT read it, and the lake's `units` once (each read of it on the lake costs a catalog
    look-up, and each recursion over 1,353 units more than a city's quantiles)."""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {_CLOSURE_TABLE} AS "  # noqa: S608
                f"WITH RECURSIVE {metrics.CLOSURE_SQL} SELECT ancestor, unit_code FROM closure")
    yield
    # Not on an error: the transaction is then aborted (a DROP would hide the error), and its
    # rollback takes the table with it.
    cur.execute(f"DROP TABLE {_CLOSURE_TABLE}")


def _scopes(cur: Reader, units: frozenset[str]) -> tuple[list[str] | None, list[str]]:
    """`*` and every unit whose subtree holds one of `units` (the units and their ancestors),
    None when that is every unit (a first load, which spares every query a scope filter); and
    every unit of those subtrees. Inside `_closure_table`."""
    ancestors, every_unit, subtree = cur.query_rows(f"""
        WITH touched AS (SELECT DISTINCT ancestor FROM {_CLOSURE_TABLE}
                         WHERE list_contains($units, unit_code))
        SELECT (SELECT list(ancestor) FROM touched),
               (SELECT count(DISTINCT unit_code) FROM {_CLOSURE_TABLE}),
               (SELECT list(DISTINCT unit_code) FROM {_CLOSURE_TABLE}
                WHERE ancestor IN (SELECT ancestor FROM touched))""",  # noqa: S608
                                                    {"units": sorted(units)})[0]
    found = {code for code in ancestors or () if code is not None}
    scopes = None if len(found) >= every_unit else sorted(found | {metrics.CITY})
    return scopes, sorted(code for code in subtree or () if code is not None)


def _period_ranges(days: frozenset[dt.date], grain: str) -> metrics.Ranges:
    """The periods of `grain` holding `days`, as [start, end) ranges, adjacent periods merged."""
    ranges: metrics.Ranges = []
    for start in sorted({metrics.period_start(day, grain) for day in days}):
        end = metrics.next_period(start, grain)
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges


def _merged(ranges: metrics.Ranges) -> metrics.Ranges:
    """`ranges` sorted, overlapping and adjacent ones merged."""
    merged: metrics.Ranges = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def refresh(cur: Writer, change: Change = EVERYTHING) -> None:
    """Recompute the stored values `change` makes stale, on `cur` (inside the write
    transaction). EVERYTHING rebuilds the table from the raw rows. In a store that defers the
    top-level totals (`defers_totals`), a change of some units leaves the `*` values of every
    grain to `refresh_pending`: those periods are noted in kpi_pending."""
    _bump_version(cur)
    if change.nothing:
        return
    if change.units is None or set(change.kpis) - {"within_standard_pct"}:  # rows changed
        _refresh_unit_days(cur, change)
    with _closure_table(cur):
        _refresh_values(cur, change)


def _refresh_values(cur: Writer, change: Change) -> None:
    """`refresh`'s recomputation of kpi_values (inside `_closure_table`)."""
    scopes, subtree = (None, []) if change.units is None else _scopes(cur, change.units)
    ranges = {grain: None if change.days is None else _period_ranges(change.days, grain)
              for grain in PERIODS}
    sources = sorted({metrics.KPIS[name].source for name in change.kpis})
    defer = defers_totals(cur)  # pending periods exist only while it is on
    if scopes is None or change.days is None or not defer:
        _recompute(cur, change.kpis, dict.fromkeys(PERIODS, scopes), ranges)
        if defer:
            _clear_pending(cur, sources, ranges)
        if change == EVERYTHING:
            _mark_ready(cur, _READY_KEY)
            _mark_ready(cur, _UNIT_DAYS_READY_KEY)
            _mark_ready(cur, _DEFINITIONS_KEY, definitions_digest())
        return
    # `*` pools every city's rows: left to refresh_pending. The other scopes need only their
    # own subtrees' rows.
    own = [scope for scope in scopes if scope != metrics.CITY]
    every_range = _merged([span for grain in PERIODS for span in ranges[grain] or []])
    _recompute(cur, change.kpis, dict.fromkeys(PERIODS, own), ranges,
               units_ranges=(subtree, every_range))
    periods = sorted({(grain, metrics.period_start(day, grain))
                      for grain in PERIODS for day in change.days})
    noted = [(source, grain, start) for source in sources for grain, start in periods]
    # One statement (each statement on the lake costs its catalog look-ups).
    cur.execute(
        "INSERT INTO kpi_pending (source, grain, period_start, since) "
        "SELECT source, grain, period_start, $since FROM (SELECT unnest($sources) AS source, "
        "unnest($grains) AS grain, unnest($starts::DATE[]) AS period_start) AS noted "
        "WHERE NOT EXISTS (SELECT 1 FROM kpi_pending AS k WHERE k.source = noted.source "
        "AND k.grain = noted.grain AND k.period_start = noted.period_start)",
        {"since": config.local_now(), "sources": [row[0] for row in noted],
         "grains": [row[1] for row in noted], "starts": [row[2] for row in noted]})


def _bump_version(cur: Writer) -> None:
    # One statement where the row is there (each on the lake costs its catalog look-ups).
    updated = cur.query_value("UPDATE meta SET value = value + 1 WHERE key = $key",
                              {"key": _VERSION_KEY})
    if not updated:
        cur.execute("INSERT INTO meta (key, value) VALUES ($key, 1)", {"key": _VERSION_KEY})


def _recompute(cur: Writer, kpis: tuple[str, ...], scopes: Mapping[str, list[str] | None],
               ranges: Mapping[str, metrics.Ranges | None],
               units_ranges: tuple[list[str], metrics.Ranges] | None = None) -> None:
    """Replace the stored values of `kpis` for each grain of `scopes` {grain: scopes (None =
    every scope)}, over the periods of `ranges[grain]` (None = every period). The rows read:
    every unit's in the grains' ranges; with `units_ranges` (units, ranges), only those units'
    rows in those ranges (a city's import into a province store). Inside `_closure_table`."""
    grains = list(scopes)
    # The lake is read once: the rows of every period to recompute (of every grain) are copied
    # into a temporary table, with their counts per unit and day beside them; each grain sums
    # those counts and takes its medians, P90 and means from the copied rows.
    if units_ranges is None:
        everyone = None if any(ranges[grain] is None for grain in grains) else _merged(
            [span for grain in grains for span in ranges[grain] or []])
    else:
        everyone = []
    tables = {source: (f"__kpi_rows_{source}", f"__kpi_day_counts_{source}")
              for source in sorted({metrics.KPIS[name].source for name in kpis})}
    for source, (rows_table, counts_table) in tables.items():
        params: dict = {}
        rows = metrics.source_rows_sql(source, everyone, params, units_ranges)
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {rows_table} AS {rows}", params)
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {counts_table} AS "
                    f"{metrics.day_counts_sql(source, rows_table)}")
    # One DELETE for the grains (each statement on the lake has a cost of its own), one
    # INSERT per grain: a grain's quantile states hold every value of its rows, once per
    # subtree holding them; one statement for all five held them all at once (6 GB at 10 M
    # events instead of 2).
    params = {"kpis": list(kpis)}
    stale = []
    inserts = []
    for grain in grains:  # grain names are the fixed PERIODS, never user text
        spans, grain_scopes = ranges[grain], scopes[grain]
        condition = [f"grain = '{grain}'"]
        if spans is not None:
            condition.append(metrics.ranges_condition("period_start", spans, params, grain))
        if grain_scopes is not None:
            params[f"scopes_{grain}"] = grain_scopes
            condition.append(f"list_contains($scopes_{grain}, unit_code)")
        stale.append(f"({' AND '.join(condition)})")
        grain_params: dict = {}
        rows = metrics.kpi_rows_sql(grain, spans, grain_scopes, list(kpis), grain_params,
                                    tables=tables, closure=_CLOSURE_TABLE)
        inserts.append((f"SELECT unit_code, kpi, '{grain}', period_start, value, n, parts "  # noqa: S608
                        f"FROM ({rows})", grain_params))
    # Bounds around every grain's condition (an OR, which DuckDB cannot check against a
    # file's statistics): the files and row groups of other units and periods are skipped.
    bounds = ""
    if all(scopes[grain] is not None for grain in grains):
        codes = [code for grain in grains for code in scopes[grain] or []]
        params["scopes_low"], params["scopes_high"] = min(codes, default=""), max(codes, default="")
        bounds += " AND unit_code BETWEEN $scopes_low AND $scopes_high"
    if all(ranges[grain] is not None for grain in grains):
        spans = [span for grain in grains for span in ranges[grain] or []]
        if spans:
            params["periods_low"] = min(start for start, _ in spans)
            params["periods_high"] = max(end for _, end in spans)
            bounds += " AND period_start >= $periods_low AND period_start < $periods_high"
    delete = (f"DELETE FROM kpi_values WHERE list_contains($kpis, kpi){bounds} "  # noqa: S608
              f"AND ({' OR '.join(stale)})")
    merged: dict = {}
    if units_ranges is not None and all(merged.setdefault(name, value) == value
                                        for _, used in inserts for name, value in used.items()):
        # A city's import (its own subtrees' rows only): one INSERT for every grain, one data
        # file and one catalog write instead of five. (A full refresh keeps one grain per
        # statement: all five grains' quantile states at once held 6 GB at 10 M events.)
        inserts = [(" UNION ALL ".join(select for select, _ in inserts), merged)]
    into = "INSERT INTO kpi_values (unit_code, kpi, grain, period_start, value, n, parts) "
    # DuckDB refuses named parameters a statement does not use.
    for sql, used in ((delete, params), *((into + select, used) for select, used in inserts)):
        cur.execute(sql, {name: value for name, value in used.items() if f"${name}" in sql})
    for table in (name for pair in tables.values() for name in pair):
        cur.execute(f"DROP TABLE {table}")


def _clear_pending(cur: Writer, sources: list[str],
                   ranges: Mapping[str, metrics.Ranges | None]) -> None:
    """Forget the pending `*` periods of `sources` that `ranges` {grain: ranges} recomputed."""
    params: dict = {"sources": sources}
    covered = []
    for grain in PERIODS:
        spans = ranges.get(grain)
        condition = f"grain = '{grain}'"
        if spans is not None:
            condition += " AND " + metrics.ranges_condition("period_start", spans, params, grain)
        covered.append(f"({condition})")
    cur.execute("DELETE FROM kpi_pending WHERE list_contains($sources, source) "  # noqa: S608
                f"AND ({' OR '.join(covered)})", params)


def defers_totals(reader: Reader) -> bool:
    """Whether this store leaves the top-level totals (`*`) of every grain to
    `refresh_pending` (a province: `python -m kpi totals --defer on`)."""
    return bool(reader.query_value("SELECT coalesce(max(value), 0) FROM meta WHERE key = $key",
                                   {"key": _DEFER_KEY}))


def set_defer_totals(store: Store, on: bool, *, by: str | None = None) -> None:
    """Turn the deferral of the top-level totals on or off (off: the pending ones are
    recomputed now, in the same transaction)."""
    store.init()  # a store made before kpi_pending gets it
    with store.transaction() as cur:
        cur.execute("DELETE FROM meta WHERE key = $key", {"key": _DEFER_KEY})
        cur.execute("INSERT INTO meta (key, value) VALUES ($key, $value)",
                    {"key": _DEFER_KEY, "value": int(on)})
        if not on:
            _refresh_pending(cur)
        audit.record(cur, by, "totals.defer", "kpi_values", {"defer": on})


@reads("kpi_pending")
def pending_totals(reader: Reader) -> list[tuple[str, dt.date, dt.datetime]]:
    """The (grain, period_start, since) whose `*` values wait for `refresh_pending`, oldest
    first (one row per period, whichever sources)."""
    return [(grain, start, since) for grain, start, since in reader.query_rows(
        "SELECT grain, period_start, min(since) FROM kpi_pending GROUP BY ALL "
        "ORDER BY 3, 1, 2")]


def refresh_pending(store: Store, *, by: str | None = None) -> int:
    """Recompute the pending `*` values (one transaction, every pending period at once);
    the number of periods recomputed."""
    with store.transaction() as cur:
        done = _refresh_pending(cur)
        if done:
            audit.record(cur, by, "totals.refresh", "kpi_values", {"periods": done})
    return done


def _refresh_pending(cur: Writer) -> int:
    pending = cur.query_rows("SELECT DISTINCT source, grain, period_start FROM kpi_pending")
    if not pending:
        return 0
    with _closure_table(cur):
        for source in sorted({source for source, _, _ in pending}):
            kpis = _EVENT_KPIS if source == "events" else _SURVEY_KPIS
            ranges: dict[str, metrics.Ranges] = {}
            for _, grain, start in (row for row in pending if row[0] == source):
                ranges.setdefault(grain, []).append((start, metrics.next_period(start, grain)))
            _recompute(cur, kpis, {grain: [metrics.CITY] for grain in ranges},
                       {grain: _merged(spans) for grain, spans in ranges.items()})
    cur.execute("DELETE FROM kpi_pending")
    _bump_version(cur)
    return len({(grain, start) for _, grain, start in pending})


def _mark_ready(cur: Writer, key: str, value: int = 1) -> None:
    cur.execute("DELETE FROM meta WHERE key = $key", {"key": key})
    cur.execute("INSERT INTO meta (key, value) VALUES ($key, $value)", {"key": key, "value": value})


def definitions_digest() -> int:
    """A digest (64 bits, as meta's BIGINT) of what the stored values are computed with: every
    KPI's definition and aggregate, the SQL of a full refresh of every grain, and
    PRECOMPUTE_VERSION. It changes with a formula, not with a comment or a rename in Python."""
    params: dict = {}
    tables = {source: (f"__kpi_rows_{source}", f"__kpi_day_counts_{source}")
              for source in AGGREGATES}
    parts = [f"precompute {PRECOMPUTE_VERSION}", repr(sorted(KPIS.items())),
             repr(sorted(AGGREGATES.items()))]
    for source, (rows_table, _) in tables.items():
        parts += [metrics.source_rows_sql(source, None, params),
                  metrics.day_counts_sql(source, rows_table)]
    parts += [metrics.kpi_rows_sql(grain, None, None, list(KPIS), params, tables=tables)
              for grain in PERIODS]
    digest = hashlib.sha256("\n".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _refresh_unit_days(cur: Writer, change: Change) -> None:
    """Recount the own rows of the units and days `change` touched (all of them for None)."""
    params: dict = {}
    kept, rows = ["TRUE"], {"arrived_at": ["TRUE"], "submitted_at": ["TRUE"]}
    if change.units is not None:
        params["units"] = sorted(change.units)
        params["units_low"], params["units_high"] = min(change.units), max(change.units)
        # The bounds let DuckDB skip the files and row groups of other units (see
        # metrics.source_rows_sql).
        touched = ("list_contains($units, unit_code) "
                   "AND unit_code BETWEEN $units_low AND $units_high")
        kept.append(touched)
        for conditions in rows.values():
            conditions.append(touched)
    if change.days is not None:
        ranges = _period_ranges(change.days, "day")
        kept.append(metrics.ranges_condition("day", ranges, params, "day_"))
        for column, conditions in rows.items():
            conditions.append(metrics.ranges_condition(column, ranges, params, "day_"))
    cur.execute(f"DELETE FROM unit_days WHERE {' AND '.join(kept)}", params)  # noqa: S608
    events, survey = (" AND ".join(rows[column]) for column in ("arrived_at", "submitted_at"))
    cur.execute(f"""
        INSERT INTO unit_days (unit_code, day, events, responses)
        SELECT unit_code, day, sum(events), sum(responses) FROM (
            SELECT unit_code, arrived_at::DATE AS day, count(*) AS events, 0 AS responses
            FROM events WHERE {events} GROUP BY ALL
            UNION ALL
            SELECT unit_code, submitted_at::DATE, 0, count(*)
            FROM survey_responses WHERE {survey} GROUP BY ALL)
        GROUP BY ALL""", params)  # noqa: S608 - conditions built here, values are parameters


def data_version(store: Reader) -> int:
    """The KPI data version: changes with every write the KPI values or statuses depend on."""
    return int(store.query_value("SELECT coalesce(max(value), 0) FROM meta WHERE key = $key",
                                 {"key": _VERSION_KEY}))


def _state(cur: Reader) -> tuple[set[str], bool]:
    """The ready flags set, and whether the stored values follow the running code's formulas."""
    rows = cur.query_rows("SELECT key, max(value) FROM meta WHERE list_contains($keys, key) "
                          "GROUP BY key",
                          {"keys": [_READY_KEY, _UNIT_DAYS_READY_KEY, _DEFINITIONS_KEY]})
    values = dict(rows)
    ready = {key for key in (_READY_KEY, _UNIT_DAYS_READY_KEY) if values.get(key, 0) > 0}
    return ready, values.get(_DEFINITIONS_KEY) == definitions_digest()


def ensure_ready(store: Store, on_recompute: Callable[[], None] | None = None) -> bool:
    """Build kpi_values and unit_days for a store made before they existed (or whose build
    never ran), and recompute every stored value, once, when the KPI definitions changed since
    they were computed (a new formula, a new KPI: `definitions_digest`); a no-op otherwise.
    `on_recompute` is called first when there are rows to compute from (a progress line, a
    notice). Runs under
    the writer lock, so that of two processes opening the store only one recomputes. Returns
    whether it recomputed."""
    with store.cursor() as cur:
        ready, current = _state(cur)
    if current and ready == {_READY_KEY, _UNIT_DAYS_READY_KEY}:
        return False
    with store.transaction() as cur:
        ready, current = _state(cur)  # another process may have done it while we waited
        if current and ready == {_READY_KEY, _UNIT_DAYS_READY_KEY}:
            return False
        if on_recompute is not None and cur.query_value(
                "SELECT EXISTS (FROM events) OR EXISTS (FROM survey_responses)"):
            on_recompute()  # an empty store is done at once: no notice
        if not current or _READY_KEY not in ready:
            refresh(cur)
        else:
            _refresh_unit_days(cur, EVERYTHING)
            _mark_ready(cur, _UNIT_DAYS_READY_KEY)
    return True
