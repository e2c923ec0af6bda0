"""The import engine: CSV / CSV.gz / XLSX files into the store, all or nothing (contract §1).

How a file goes in (one transaction; any rejected row rejects the whole file):

1. The header is read in Python: UTF-8 (a BOM is fine), comma or semicolon, names matched
   case-insensitively after trimming, mapped or dropped by `column_map`. Whole-file problems
   (not text, empty, tab-separated, missing / misspelt / extra column) raise `FileRejected`.
2. Fast path: ONE pass of DuckDB over the file (`read_csv`, every column as VARCHAR) casts the
   values, checks every row rule in SQL and inserts the rows with the new batch id. A row that
   breaks a rule makes the statement fail (`error()`), which rolls everything back. Then the
   keys are checked for duplicates inside the file, and rows of the store with a key present in
   the file are moved to `<table>_replaced` (so a rollback restores them) and deleted.
3. Only when the fast path fails: the diagnosis reads the file into a temporary table (keeping
   each record's position), runs the same rule expressions to list EVERY bad row with its line,
   column, value and reason, and rolls back. So the rules are written once and serve both.

Timestamps without an offset are local wall-clock time of `config.time_zone()`; with an offset
(`Z`, `+07:00`, `+0700`) they are converted to it. The session TimeZone is never consulted:
naive values are parsed by `strptime`, offset values by a TIMESTAMPTZ cast carrying its offset.
"""

# SQL here formats in identifiers only from the fixed whitelists below (tables, contract
# columns, positional c0…cN names); every value goes in as a parameter.
# ruff: noqa: S608
from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import difflib
import hashlib
import io
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kpi import audit, config, precompute, set_aside
from kpi.audit import cli_user
from kpi.errors import FileRejected, InputRejected, Problem, StoreBusy, StoreError
from kpi.i18n import t
from kpi.import_mapping import COMPOSE_SEPARATOR, ImportMapping
from kpi.reads import reads
from kpi.scope import require_in_scope, require_kept, scope_before, writable_units
from kpi.sources import Source, check_utf8, open_binary, open_source
from kpi.store import Cursor, Store
from kpi.vocabulary import (
    KEYS,
    KINDS,
    KPIS,
    OPTIONAL,
    OUTCOMES,
    REQUIRED,
    TABLES,
    U_COLUMNS,
    contract_columns,
)

# How each typed column is parsed; every other contract column is text.
_COLUMN_TYPES: dict[str, str] = {
    "standard_minutes": "minutes", "arrived_at": "timestamp", "started_at": "timestamp",
    "completed_at": "timestamp", "submitted_at": "timestamp", "respondent_age": "age",
    "target": "number", "amber_pct": "percent", "valid_from": "date", "valid_to": "date",
    **dict.fromkeys(U_COLUMNS, "u_value"),
}
_NAIVE_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
_ISO_WITH_OFFSET = r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d(:?\d\d)?)"
_MINUTES_BEFORE_OFFSET = r"^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d)([Z+-])"
_ISO_FRACTION = r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\.\d{1,6}"
_REJECT_SIGNAL = "kinerja: row rejected"
_PROBLEM_COLUMNS = ["line", "column", "value", "reason"]


# -- results ------------------------------------------------------------------------------------
@dataclass
class IngestResult:
    kind: str
    file_name: str
    sha256: str
    rows: int = 0
    inserted: int = 0
    replaced: int = 0
    batch_id: int | None = None
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    set_aside: int = 0  # rows set aside by an accept-valid import
    set_aside_problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_frame(self, lang: str = "en") -> pd.DataFrame:
        """Every problem as line, column, value, reason (for a CSV download)."""
        return pd.DataFrame(
            [(p.line, p.column, p.value, p.message(lang)) for p in self.problems],
            columns=_PROBLEM_COLUMNS,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `python -m kpi ingest --json`."""
        return {
            "batch_id": self.batch_id, "kind": self.kind, "file_name": self.file_name,
            "sha256": self.sha256, "rows": self.rows, "inserted": self.inserted,
            "replaced": self.replaced, "ok": self.ok, "dry_run": self.dry_run,
            "set_aside": self.set_aside,
            "problems": [{"line": p.line, "column": p.column, "value": p.value,
                          "reason": p.reason} for p in self.problems],
        }


def _resolve_columns(kind: str, header: list[str], column_map: dict[str, str | None] | None,
                     file_name: str) -> dict[str, int]:
    """Contract column -> position in the file; whole-file problems raise FileRejected."""
    allowed = REQUIRED[kind] + OPTIONAL[kind]
    mapping = {k.strip().lower(): v for k, v in (column_map or {}).items()}
    positions: dict[str, int] = {}
    problems: list[Problem] = []
    unknown: list[str] = []
    for position, name in enumerate(header):
        normal = name.strip().lower()
        if normal in mapping:
            target = mapping[normal]
            if target is None:
                continue
            normal = target.strip().lower()
        if normal not in allowed:
            unknown.append(name)
        elif normal in positions:
            problems.append(Problem.make("duplicate_column", column=normal, file=file_name))
        else:
            positions[normal] = position
    missing = [name for name in REQUIRED[kind] if name not in positions]
    for name in unknown:
        candidates = [c for c in allowed if c not in positions]
        close = difflib.get_close_matches(name.lower(), candidates, n=1, cutoff=0.6)
        if not name:
            problems.append(Problem.make("unnamed_column", file=file_name))
        elif close:
            problems.append(Problem.make("misspelt_column", column=name, suggestion=close[0],
                                         kind=kind))
            if close[0] in missing:
                missing.remove(close[0])
        else:
            problems.append(Problem.make("extra_column", column=name, kind=kind,
                                         allowed=", ".join(allowed)))
    problems.extend(Problem.make("missing_column", column=name, kind=kind) for name in missing)
    if problems:
        raise FileRejected(problems)
    return positions


@dataclass
class _Plan:
    """How each contract column present is read: SQL giving its trimmed text (NULL when empty)
    over the file's cells c0…cN, and the parameters that SQL uses (a mapping's values)."""

    exprs: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)
    mapping: ImportMapping | None = None  # the problems then speak of the file's own columns


def _plain_plan(positions: dict[str, int], xlsx: bool) -> _Plan:
    return _Plan({column: _raw_sql(column, position, xlsx)
                  for column, position in positions.items()})


def _mapped_plan(kind: str, header: list[str], mapping: ImportMapping, file_name: str,
                 xlsx: bool) -> _Plan:
    """The contract columns a §1.1 mapping makes of the file's cells, as SQL; every value of the
    mapping (constants, formats, value tables) goes in as a parameter named after its contract
    column. A source column the mapping names but the file lacks rejects the file."""
    missing = mapping.missing_sources(header)
    if missing:
        raise FileRejected.one("mapping_missing_column", column=missing[0], file=file_name)
    position: dict[str, int] = {}
    for index, name in enumerate(header):
        position.setdefault(name.strip().lower(), index)

    def cell(name: str, column: str = "") -> str:
        return _raw_sql(column, position[name.strip().lower()], xlsx)

    exprs: dict[str, str] = {}
    params: dict[str, Any] = {}
    for column, source in mapping.columns.items():
        exprs[column] = cell(source, column)
    for column, value in mapping.constants.items():
        params[f"const_{column}"] = value.strip() or None
        exprs[column] = f"$const_{column}::VARCHAR"
    for column, spec in mapping.timestamps.items():
        if spec.column:
            text = guard = cell(spec.column)
        elif spec.date and spec.time:
            guard = cell(spec.time)
            text = f"({cell(spec.date)} || ' ' || {guard})"
        elif spec.date:
            text = guard = cell(spec.date)
        else:  # import_mapping.parse refuses a timestamp without a column or a date
            continue
        params[f"format_{column}"] = spec.format
        # A value the format does not read is kept as it is, so that the rules name it as a bad
        # timestamp; an empty time (a no-show's call time) is no timestamp.
        exprs[column] = (f"CASE WHEN {guard} IS NULL THEN NULL ELSE coalesce(strftime("
                         f"try_strptime({text}, $format_{column}), '%Y-%m-%d %H:%M:%S'), "
                         f"{text}) END")
    for column, parts in mapping.compose.items():
        cells = [cell(part) for part in parts]
        nulls = " OR ".join(f"{part} IS NULL" for part in cells)
        exprs[column] = (f"CASE WHEN {nulls} THEN NULL "
                         f"ELSE concat_ws('{COMPOSE_SEPARATOR}', {', '.join(cells)}) END")
    for column, table in mapping.values.items():
        base = exprs.get(column) or cell(column, column)
        params[f"from_{column}"] = [key.strip().lower() for key in table]
        params[f"to_{column}"] = [value.strip() or None for value in table.values()]
        exprs[column] = (f"coalesce(list_extract($to_{column}, list_position($from_{column}, "
                         f"lower({base}))), {base})")
    missing_required = [name for name in REQUIRED[kind] if name not in exprs]
    if missing_required:
        raise FileRejected([Problem.make("missing_column", column=name, kind=kind)
                            for name in missing_required])
    return _Plan({name: exprs[name] for name in contract_columns(kind) if name in exprs},
                 params, mapping)


# -- the rules, written once as SQL over raw (r_<col>, trimmed text) and typed (<col>) values ---
# The sensible range of a target by the KPI's unit (issue 22): a target of 1e23 flattens every
# chart. Percentages 0–100, the IKM 25–100 (its scale), times above 0 and under a week.
TARGET_RANGES = {"percent": (0.0, 100.0), "index": (25.0, 100.0),
                 "minutes": (0.0, 7 * 24 * 60.0), "count": (0.0, 1e9)}
_TARGET_OUT_OF_RANGE_SQL = "CASE " + " ".join(
    f"WHEN kpi = '{kpi.name}' THEN NOT (target {'>' if kpi.unit == 'minutes' else '>='} {low} "
    f"AND target {'<' if kpi.unit == 'minutes' else '<='} {high})"
    for kpi in KPIS.values() for low, high in [TARGET_RANGES[kpi.unit]]) + " ELSE FALSE END"


@dataclass(frozen=True)
class _Rule:
    column: str
    key: str
    condition: str  # SQL, true when the row breaks the rule
    detail: str = "NULL"  # SQL for the {detail} placeholder of the message


def _typed_sql(column: str) -> str:
    raw = f"r_{column}"
    kind = _COLUMN_TYPES.get(column, "text")
    if kind == "timestamp":
        # The common case first and cheaply; the regular expressions see only the rest.
        return (
            f"coalesce(CASE WHEN length({raw}) BETWEEN 16 AND 19"
            f" THEN try_strptime({raw}, $naive_formats) END,"
            f" CASE WHEN regexp_full_match({raw}, '{_ISO_FRACTION}')"
            f" THEN try_cast({raw} AS TIMESTAMP)"
            f" WHEN regexp_full_match({raw}, '{_ISO_WITH_OFFSET}')"
            # DuckDB 1.5 casts an offset only after seconds: give "HH:MM" its ":00" first.
            f" THEN timezone($tz, try_cast(regexp_replace({raw}, '{_MINUTES_BEFORE_OFFSET}',"
            f" '\\1:00\\2') AS TIMESTAMPTZ)) END)"
        )
    if kind == "date":
        return f"CASE WHEN length({raw}) = 10 THEN try_strptime({raw}, '%Y-%m-%d')::DATE END"
    if kind in ("number", "minutes", "percent"):
        return (f"CASE WHEN isfinite(try_cast({raw} AS DOUBLE)) "
                f"THEN try_cast({raw} AS DOUBLE) END")
    if kind == "u_value":
        return f"CASE WHEN {raw} IN ('1', '2', '3', '4') THEN {raw}::UTINYINT END"
    if kind == "age":
        return f"CASE WHEN regexp_full_match({raw}, '[0-9]{{1,3}}') THEN {raw}::INTEGER END"
    return raw


_PARSE_KEYS = {"timestamp": "bad_timestamp", "date": "bad_date", "number": "bad_number",
               "minutes": "bad_number", "percent": "bad_number", "u_value": "bad_u_value",
               "age": "bad_age"}


# Units whose parent_code chain leads back to themselves once the file is in: the file's rows
# plus the store's units the file does not replace. (A unit that is its own parent is
# own_parent.) The walk stops at the first repeat, so it ends even on a loop.
_CYCLES_SQL = """
WITH RECURSIVE tree AS (
    SELECT r_unit_code AS unit_code, r_parent_code AS parent_code FROM file
    WHERE r_unit_code IS NOT NULL
    UNION ALL
    SELECT unit_code, parent_code FROM units
    WHERE unit_code NOT IN (SELECT r_unit_code FROM file WHERE r_unit_code IS NOT NULL)
), walk(start, node, depth) AS (
    SELECT unit_code, parent_code, 1 FROM tree
    WHERE parent_code IS NOT NULL AND parent_code <> unit_code
    UNION ALL
    SELECT walk.start, tree.parent_code, walk.depth + 1 FROM walk
    JOIN tree ON tree.unit_code = walk.node
    WHERE tree.parent_code IS NOT NULL AND walk.node <> walk.start
      AND walk.depth <= (SELECT count(*) FROM tree)
)
SELECT start FROM walk WHERE node = start
"""


# The file's units that would lie outside the importer's scope ($scope: the units they may
# change) once the file is in. The scope's tops (its units whose parent is outside it) keep
# their parent: moving one would move it into another's subtree. Everything else of the scope is
# what hangs under the tops in the tree after the import (the file's rows plus the store's
# units the file does not replace), so a new unit must hang under the scope and a unit of the
# scope may not be moved out of it.
_UNITS_LEAVING_SCOPE_SQL = """
WITH RECURSIVE tops AS (
    SELECT unit_code, parent_code FROM units
    WHERE list_contains($scope::VARCHAR[], unit_code)
      AND (parent_code IS NULL OR NOT list_contains($scope::VARCHAR[], parent_code))
), tree AS (
    SELECT r_unit_code AS unit_code, r_parent_code AS parent_code FROM file
    WHERE r_unit_code IS NOT NULL
    UNION ALL
    SELECT unit_code, parent_code FROM units
    WHERE unit_code NOT IN (SELECT r_unit_code FROM file WHERE r_unit_code IS NOT NULL)
), kept(unit_code) AS (
    SELECT unit_code FROM tops
    UNION
    SELECT tree.unit_code FROM kept JOIN tree ON tree.parent_code = kept.unit_code
)
SELECT r_unit_code FROM file WHERE r_unit_code IS NOT NULL AND (
    r_unit_code NOT IN (SELECT unit_code FROM kept)
    OR EXISTS (SELECT 1 FROM tops WHERE tops.unit_code = file.r_unit_code
               AND tops.parent_code IS DISTINCT FROM file.r_parent_code))
"""


def _rules(kind: str, columns: list[str], scope: list[str] | None = None, *,
           fast: bool = False) -> list[_Rule]:
    """Every row rule of `kind` for the columns present in the file, and the importer's unit
    `scope` (kpi.scope; None = every unit): a row for a unit outside it rejects the file like any
    bad row. `fast` (the fast path, which only asks whether any rule fires) leaves out the
    guards that only keep one bad value from being reported twice."""
    # u1…u9 must be columns of a survey file, but an empty answer is allowed.
    rules = [_Rule(c, "required", f"r_{c} IS NULL") for c in REQUIRED[kind] if c not in U_COLUMNS]
    for column in columns:
        parse_key = _PARSE_KEYS.get(_COLUMN_TYPES.get(column, "text"))
        if parse_key:
            rules.append(_Rule(column, parse_key, f"r_{column} IS NOT NULL AND {column} IS NULL"))
        if _COLUMN_TYPES.get(column) in ("minutes", "percent"):
            rules.append(_Rule(column, "negative", f"{column} < 0"))
    known_unit = "unit_code IN (SELECT unit_code FROM units)"
    if kind == "units":
        rules.append(_Rule("parent_code", "unknown_parent",
                           "parent_code IS NOT NULL AND parent_code NOT IN "
                           "(SELECT unit_code FROM units UNION ALL SELECT r_unit_code FROM file)"))
        rules.append(_Rule("parent_code", "own_parent", "parent_code = unit_code"))
        rules.append(_Rule("parent_code", "parent_cycle", f"unit_code IN ({_CYCLES_SQL})",
                           detail="unit_code"))
    if kind in ("services", "events", "survey"):
        rules.append(_Rule("unit_code", "unknown_unit",
                           f"unit_code IS NOT NULL AND NOT {known_unit}"))
    service_known = ("EXISTS (SELECT 1 FROM services s WHERE s.unit_code = v.unit_code"
                     " AND s.service_code = v.service_code)")
    if kind in ("events", "survey"):
        # An unknown unit is reported as such, not also as an unknown service of it (the fast
        # path needs no second look-up of the units: unknown_unit fires for that row anyway).
        unit_guard = "" if fast else f"{known_unit} AND "
        rules.append(_Rule("service_code", "unknown_service",
                           f"service_code IS NOT NULL AND {unit_guard}NOT {service_known}",
                           detail="unit_code"))
    if kind == "events":
        rules += [
            _Rule("outcome", "bad_outcome", f"outcome NOT IN {OUTCOMES!r}"),
            _Rule("completed_at", "completed_needs_time",
                  "outcome = 'completed' AND r_completed_at IS NULL"),
            _Rule("started_at", "started_before_arrived", "started_at < arrived_at"),
            _Rule("completed_at", "completed_before_started", "completed_at < started_at"),
            _Rule("completed_at", "completed_before_arrived",
                  "started_at IS NULL AND completed_at < arrived_at"),
        ]
    if kind == "targets":
        rules += [
            _Rule("kpi", "bad_kpi", f"kpi NOT IN {tuple(KPIS)!r}"),
            _Rule("unit_code", "unknown_unit",
                  f"unit_code IS NOT NULL AND unit_code <> '*' AND NOT {known_unit}"),
            _Rule("valid_to", "valid_to_before_from", "valid_to < valid_from"),
            _Rule("target", "target_out_of_range", _TARGET_OUT_OF_RANGE_SQL),
        ]
    if scope is not None:
        outside = "NOT list_contains($scope::VARCHAR[], unit_code)"
        if kind == "units":
            # Another's unit may not be touched at all (not even re-parented into the scope);
            # a new unit, or one of the scope's, must stay inside it (_UNITS_LEAVING_SCOPE_SQL).
            outside = f"{known_unit} AND {outside}"
            rules.append(_Rule("unit_code", "move_out_of_scope",
                               f"unit_code IS NOT NULL AND NOT ({outside}) "
                               f"AND unit_code IN ({_UNITS_LEAVING_SCOPE_SQL})",
                               detail="coalesce(r_parent_code, '-')"))
        rules.append(_Rule("unit_code", "out_of_scope", f"unit_code IS NOT NULL AND {outside}"))
    # A rule about an absent optional column can never fire; leave it out.
    return [rule for rule in rules if rule.column in columns]


def _raw_sql(column: str, position: int, xlsx: bool) -> str:
    """The cell as trimmed text, NULL when empty. A date cell of a workbook reads as
    `2026-01-01 00:00:00`: its midnight goes, so that it is the date the analyst typed."""
    cell = f"c{position}"
    # trim() only where a space is at either end: most cells have none, and trimming every
    # cell of a ten-million-row file costs more than the test.
    text = (f"CASE WHEN {cell} LIKE ' %' OR {cell} LIKE '% ' THEN nullif(trim({cell}), '') "
            f"ELSE {cell} END")
    if xlsx and _COLUMN_TYPES.get(column) == "date":
        return f"regexp_replace({text}, ' 00:00:00$', '')"
    return text


def _select_sql(kind: str, plan: _Plan, source_sql: str, *, with_rec: bool) -> str:
    """CTEs `file` (trimmed text r_<col> of every contract column; absent ones NULL) and `v`
    (those plus the typed <col>), over `source_sql` whose columns are c0…cN."""
    raw = [f"{plan.exprs[col]} AS r_{col}" if col in plan.exprs
           else f"NULL::VARCHAR AS r_{col}" for col in contract_columns(kind)]
    if with_rec:  # the table's rowid is the record's position: it was filled in file order
        raw.insert(0, "rowid - $rowid_base AS __rec")
    typed = [f"{_typed_sql(col)} AS {col}" for col in contract_columns(kind)]
    return (f"WITH file AS (SELECT {', '.join(raw)} FROM {source_sql}), "
            f"v AS (SELECT *, {', '.join(typed)} FROM file) ")


def _insert_select(kind: str, column: str) -> str:
    if kind == "targets" and column == "amber_pct":
        return "coalesce(amber_pct, 10) AS amber_pct"
    return column


# -- reading the file in DuckDB ------------------------------------------------------------------
def _csv_source(source: Source, width: int, *, rejects: str | None = None) -> str:
    """A read_csv call over the file, every column VARCHAR and named c0…cN (never user names)."""
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width))
    extra = (f", store_rejects = true, rejects_table = '{rejects}', "
             f"rejects_scan = '{rejects}_scan'") if rejects else ""
    return (f"read_csv($path, auto_detect = false, header = true, delim = $delim, quote = '\"', "
            f"escape = '\"', columns = {{{columns}}}, compression = $compression, "
            f"encoding = 'utf-8'{extra})")


def _params(source: Source, plan: _Plan | None = None, **more: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"tz": config.time_zone(), "naive_formats": _NAIVE_FORMATS,
                              **(plan.params if plan else {})}
    if source.form != "xlsx":
        params.update(path=str(source.path), delim=source.delimiter,
                      compression="gzip" if source.form == "gzip" else "none")
    params.update(more)
    return params


def _used_params(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """DuckDB refuses named parameters a statement does not use."""
    return {name: value for name, value in params.items() if f"${name}" in sql}


def _count(cur: Cursor) -> int:
    """The number of rows the INSERT or DELETE just run on `cur` changed."""
    row = cur.fetchone()
    return int(row[0]) if row else 0


def _run(cur: Cursor, sql: str, params: dict[str, Any]) -> Cursor:
    return cur.execute(sql, _used_params(sql, params))


# -- the fast path: one pass, insert, then keys ------------------------------------------------
class _Rejected(Exception):
    """The fast path met a bad row (or a file DuckDB could not read): diagnose."""


def _fast_insert(cur: Cursor, kind: str, source: Source, plan: _Plan, batch_id: int,
                 scope: list[str] | None = None) -> tuple[int, int, _Touched | None]:
    """Insert the file's rows with `batch_id`; returns (rows, replaced, the units and days of
    the rows for events and survey). Raises _Rejected."""
    table = TABLES[kind]
    if source.form == "xlsx":
        cur.register("xlsx_file", source.frame)
        source_sql = "xlsx_file"
    else:
        source_sql = _csv_source(source, len(source.header))
    rules = _rules(kind, list(plan.exprs), scope, fast=True)
    # CASE WHEN takes NULL for false, so a rule that cannot be judged (NULL) passes here as in
    # the diagnosis (which says coalesce(…, false)).
    broken = " OR ".join(f"({rule.condition})" for rule in rules)
    insert_columns = contract_columns(kind)
    sql = (
        _select_sql(kind, plan, source_sql, with_rec=False)
        + f"INSERT INTO {table} ({', '.join(insert_columns)}, batch_id) "
        + f"SELECT {', '.join(_insert_select(kind, c) for c in insert_columns)}, $batch "
        + f"FROM v WHERE CASE WHEN {broken} THEN error('{_REJECT_SIGNAL}') ELSE true END"
    )
    params = _params(source, plan, batch=batch_id, scope=scope)
    had_rows = bool(cur.query_value(f"SELECT count(*) FROM {table}"))
    # The table has no order; letting DuckDB write in any order is faster (this cursor only).
    cur.execute("SET SESSION preserve_insertion_order = false")
    try:
        rows = _count(_run(cur, sql, params))
    except StoreBusy:
        raise
    except StoreError as error:
        raise _Rejected(str(error)) from error
    own = _check_keys(cur, kind, batch_id)
    return rows, _replace_existing(cur, kind, batch_id, had_rows), own


def _replace_existing(cur: Cursor, kind: str, batch_id: int, had_rows: bool) -> int:
    """Move the store's rows whose key the batch brings to `<table>_replaced`; how many."""
    table = TABLES[kind]
    keys = KEYS[kind]
    key_list = ", ".join(keys)
    replaced = 0
    if had_rows:
        match = " AND ".join(f"o.{k} = n.{k}" for k in keys)
        # An explicit semi join on the batch's keys: DuckDB hashes the (few) new keys and
        # probes the table once; the EXISTS form cost about eight times more.
        replaced = _count(cur.execute(
            f"INSERT INTO {table}_replaced BY NAME SELECT o.*, $batch AS replaced_by FROM {table} o "
            f"SEMI JOIN (SELECT {key_list} FROM {table} WHERE batch_id = $batch) n ON {match} "
            f"WHERE o.batch_id IS DISTINCT FROM $batch", {"batch": batch_id}))
        if replaced:
            match = " AND ".join(f"{table}.{k} = r.{k}" for k in keys)
            cur.execute(
                f"DELETE FROM {table} USING (SELECT {key_list} FROM {table}_replaced "
                f"WHERE replaced_by = $batch) r WHERE {match} "
                f"AND {table}.batch_id IS DISTINCT FROM $batch", {"batch": batch_id})
    return replaced


# The units and days a batch's rows hold (lists, as DuckDB returns them).
_Touched = tuple[list[str | None], list[dt.date | None]]


def _check_keys(cur: Cursor, kind: str, batch_id: int) -> _Touched | None:
    """Raise _Rejected when the batch's rows repeat a key; for events and survey, return the
    units and days of its rows, read in the same pass (each statement on the lake costs its
    catalog look-ups: a second pass cost a weekly import 60 ms of CPU at 1,353 units).
    Counting distinct 64-bit hashes is much cheaper than grouping strings; only when two rows
    share one (normally never) are the keys themselves compared."""
    table, keys = TABLES[kind], KEYS[kind]
    time_column = precompute.row_time_column(kind)
    touched = (f", list(DISTINCT unit_code), list(DISTINCT {time_column}::DATE)"
               if time_column else "")
    repeated, *lists = cur.query_rows(
        f"SELECT count(*) - count(DISTINCT hash({', '.join(keys)})){touched} FROM {table} "
        "WHERE batch_id = $batch", {"batch": batch_id})[0]
    if repeated and _has_duplicate_keys(cur, table, keys, batch_id):
        raise _Rejected("duplicate keys")
    return (lists[0] or [], lists[1] or []) if time_column else None


def _has_duplicate_keys(cur: Cursor, table: str, keys: tuple[str, ...], batch_id: int) -> bool:
    """Whether the batch's rows repeat a key (not only a 64-bit hash of one)."""
    key_list = ", ".join(keys)
    repeated = [h for (h,) in cur.query_rows(
        f"SELECT hash({key_list}) AS h FROM {table} WHERE batch_id = $batch "
        "GROUP BY h HAVING count(*) > 1", {"batch": batch_id})]
    if not repeated:
        return False
    return bool(cur.query_rows(
        f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE batch_id = $batch "
        f"AND list_contains($hashes, hash({key_list})) GROUP BY {key_list} "
        "HAVING count(*) > 1)", {"batch": batch_id, "hashes": repeated})[0][0])


# -- the diagnosis: every bad row, with its line -------------------------------------------------
@dataclass
class _Diagnosis:
    problems: list[Problem]
    rows: int            # data rows of the file
    bad: set[int]        # records (0-based, in __raw's order) that break a rule
    select: str          # the CTEs over __raw, with __rec
    params: dict[str, Any]
    line_of: dict[int, int]  # record -> line in the file, for the records problems name


def _diagnose(cur: Cursor, kind: str, source: Source, plan: _Plan,
              scope: list[str] | None = None) -> _Diagnosis:
    """Every problem of the file, its number of data rows and its bad records, reading the
    file into the temporary table __raw (inside a transaction the caller ends)."""
    problems: list[Problem] = []
    structural_lines: set[int] = set()
    if source.form == "xlsx":
        cur.register("xlsx_file", source.frame)
        cur.execute("CREATE TEMP TABLE __raw AS SELECT * FROM xlsx_file")
    else:
        check_utf8(source)
        read = _csv_source(source, len(source.header), rejects="__rejects")
        cur.execute(f"CREATE TEMP TABLE __raw AS SELECT * FROM {read}",
                    _used_params(read, _params(source)))
        for line, error_type, detail in cur.query_rows(
                "SELECT line, error_type, error_message FROM __rejects ORDER BY line"):
            structural_lines.add(int(line))
            key = "bad_structure" if "COLUMNS" in str(error_type) else "unreadable_row"
            problems.append(Problem.make(key, line=int(line), detail=str(detail).strip()))
    rows = int(cur.query_value("SELECT count(*) FROM __raw")) + len(structural_lines)
    select = _select_sql(kind, plan, "__raw", with_rec=True)
    params = _params(source, plan, scope=scope,
                     rowid_base=cur.query_value("SELECT coalesce(min(rowid), 0) FROM __raw"))
    found: list[tuple[int, str, str | None, str, str | None]] = []
    for rule in _rules(kind, list(plan.exprs), scope):
        sql = (select + f"SELECT __rec, r_{rule.column}, {rule.detail} FROM v "
               f"WHERE coalesce({rule.condition}, false)")
        found += [(int(rec), rule.column, value, rule.key, detail)
                  for rec, value, detail in _run(cur, sql, params).fetchall()]
    keys = KEYS[kind]
    key_raw = ", ".join(f"r_{k}" for k in keys)
    duplicates = _run(cur, select + (
        f"SELECT list(__rec ORDER BY __rec), {key_raw} FROM file "
        f"WHERE {' AND '.join(f'r_{k} IS NOT NULL' for k in keys)} "
        f"GROUP BY {key_raw} HAVING count(*) > 1"), params).fetchall()
    recs = {rec for rec, *_ in found} | {rec for group, *_ in duplicates for rec in group}
    line_of = _line_numbers(source, recs, rows - len(structural_lines), structural_lines)
    for rec, column, value, key, detail in found:
        problems.append(Problem.make(key, line=line_of[rec], column=column, value=value,
                                     detail=detail or ""))
    for group, *values in duplicates:
        described = ", ".join(f"{k} {v}" for k, v in zip(keys, values, strict=True))
        problems += [Problem.make("duplicate_key", line=line_of[rec], column=keys[-1],
                                  value=str(values[-1]), key_text=described,
                                  other=line_of[group[0]]) for rec in group[1:]]
    order = {name: i for i, name in enumerate(contract_columns(kind))}
    problems.sort(key=lambda p: (p.line or 0, order.get(p.column or "", -1)))
    if plan.mapping is not None:
        problems = [_in_file_terms(problem, plan.mapping) for problem in problems]
    bad = {rec for rec, *_ in found} | {rec for group, *_ in duplicates for rec in group[1:]}
    return _Diagnosis(problems, rows, bad, select, params, line_of)


# Rules whose reason names a second column: that column, to be named as the file has it.
_OTHER_COLUMN = {"started_before_arrived": "arrived_at", "completed_before_started": "started_at",
                 "completed_before_arrived": "arrived_at", "valid_to_before_from": "valid_from"}
_IN_FILE_TERMS = {"bad_timestamp", "completed_needs_time", *_OTHER_COLUMN}
_STORED_TIMESTAMP = "%Y-%m-%d %H:%M:%S"  # a mapped timestamp's text once its format read it


def _in_file_terms(problem: Problem, mapping: ImportMapping) -> Problem:
    """`problem` told as the analyst knows the file (issue 22): its column the file's own
    (`Waktu Selesai`, `Tanggal + Jam Selesai`), a timestamp in the mapping's format rather than
    the contract's, the other column of an order rule the file's too. A problem of a column
    the file does not give (a constant) keeps the contract's words."""
    column = problem.column or ""
    source = mapping.source_label(column)
    if source is None:
        return problem
    rule = problem.key.removeprefix("ingest.")
    spec = mapping.timestamps.get(column)
    params = {**problem.params, "column": source}
    if rule not in _IN_FILE_TERMS or (rule == "bad_timestamp" and not (spec and spec.format)):
        return dataclasses.replace(problem, column=source, params=params,
                                   reason=t(problem.key, "en", **params))
    value = problem.value
    if spec and spec.format and value and rule != "bad_timestamp":
        with contextlib.suppress(ValueError):  # read with the format: written back in it
            value = dt.datetime.strptime(value, _STORED_TIMESTAMP).strftime(spec.format)
    other = _OTHER_COLUMN.get(rule)
    params.update(value=value or "", format=spec.format if spec else "",
                  other=(mapping.source_label(other) or other) if other else "")
    key = f"mappedreason.{rule}"
    return Problem(problem.line, source, t(key, "en", **params), key, params, value)


def _line_numbers(source: Source, recs: set[int], records: int,
                  structural_lines: set[int]) -> dict[int, int]:
    """Record index (0-based, in the order DuckDB read them) -> line in the file (header = 1)."""
    if not recs:
        return {}
    if source.form == "xlsx":
        return {rec: rec + 2 for rec in recs}
    if not structural_lines:
        # Every record on one line and no blank line: the line is the record's index + 2.
        newlines, last = 0, b""
        with open_binary(source) as handle:
            while chunk := handle.read(1 << 22):
                newlines += chunk.count(b"\n")
                last = chunk[-1:]
        if newlines + (last != b"\n") == records + 1:
            return {rec: rec + 2 for rec in recs}
    # Otherwise follow the records as a CSV reader sees them (quoted line breaks, blank lines,
    # rows DuckDB set aside for a wrong number of values).
    wanted: dict[int, int] = {}
    with open_binary(source) as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
        reader = csv.reader(text, delimiter=source.delimiter)
        next(reader, None)
        rec, start, last_rec = 0, reader.line_num + 1, max(recs)
        for row in reader:
            if row and start not in structural_lines and len(row) == len(source.header):
                if rec in recs:
                    wanted[rec] = start
                rec += 1
                if rec > last_rec:
                    break
            start = reader.line_num + 1
    return wanted


# -- the public entry points ---------------------------------------------------------------------
def _sha256_in_background(path: Path) -> tuple[threading.Thread, list[str]]:
    """Hash the file beside DuckDB's read (hashlib releases the GIL on large blocks)."""
    out: list[str] = []

    def work() -> None:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(1 << 22):
                digest.update(block)
        out.append(digest.hexdigest())

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, out


def ingest_file(store: Store, kind: str, path: str | Path, *, file_name: str | None = None,
                loaded_by: str | None = None, column_map: dict[str, str | None] | None = None,
                mapping: ImportMapping | None = None, accept_valid: bool = False,
                dry_run: bool = False, audit_action: str = "import") -> IngestResult:
    """Import one file of `kind`, all or nothing; see the module docstring.

    `mapping` (contract §1.1) turns a real export into the contract's columns first; the older
    `column_map` {file column: contract column or None} only renames or drops columns.
    Whole-file problems raise FileRejected (an InputRejected); row problems come back in
    `IngestResult.problems` with nothing written. With `accept_valid` the valid rows go in and
    the rejected ones are kept as the batch's set-aside rows (`IngestResult.set_aside`).
    `dry_run` checks everything, writes nothing.
    `loaded_by` (default `cli:<os user>`) is recorded on the batch and the audit trail (as
    `audit_action`), and its unit scope applies (kpi.scope): with `accept_valid` too, a row
    outside the scope refuses the whole file.
    """
    if kind not in KINDS:
        raise InputRejected("ingest.unknown_kind", kind=kind, kinds=", ".join(KINDS))
    if mapping is not None and mapping.kind != kind:
        raise FileRejected.one("mapping_other_kind", mapping_kind=mapping.kind, kind=kind)
    path = Path(path)
    file_name = file_name or path.name
    source = open_source(path, file_name, mapping.delimiter if mapping else None)
    xlsx = source.form == "xlsx"
    if mapping is not None:
        plan = _mapped_plan(kind, source.header, mapping, file_name, xlsx)
    else:
        plan = _plain_plan(_resolve_columns(kind, source.header, column_map, file_name), xlsx)
    if source.frame is not None and source.frame.empty:
        raise FileRejected.one("no_rows", file=file_name)
    hashing, digest = _sha256_in_background(path)
    result = IngestResult(kind, file_name, "", dry_run=dry_run)
    try:
        _ingest(store, kind, source, plan, result, loaded_by or cli_user(),
                (hashing, digest), accept_valid=accept_valid, audit_action=audit_action)
    finally:
        hashing.join()
    result.sha256 = digest[0] if digest else ""
    return result


class _DryRun(Exception):
    """Raised at the end of a dry run so that the transaction rolls back."""


def _record_batch(cur: Cursor, batch_id: int, source: Source, result: IngestResult, who: str,
                  hashing: tuple[threading.Thread, list[str]]) -> None:
    hashing[0].join()
    cur.execute(
        "INSERT INTO batches (batch_id, kind, file_name, sha256, rows_in_file, "
        "rows_inserted, rows_replaced, loaded_by, loaded_at, status) VALUES "
        "($batch, $kind, $file, $sha, $rows, $inserted, $replaced, $who, $at, "
        "'committed')",
        {"batch": batch_id, "kind": result.kind, "file": source.file_name,
         "sha": hashing[1][0] if hashing[1] else "", "rows": result.rows,
         "inserted": result.inserted, "replaced": result.replaced, "who": who,
         "at": config.local_now()})


def _complete_batch(cur: Cursor, kind: str, batch_id: int, source: Source,
                    result: IngestResult, who: str, audit_action: str,
                    hashing: tuple[threading.Thread, list[str]],
                    own: _Touched | None = None) -> None:
    """The last steps of every import, inside its transaction: the set-aside rows its keys
    resolve, its batch row, then (unless a dry run, which ends here) the precomputed values of
    what it touched (`own`: the units and days of its rows, when the key check read them) and
    its row on the audit trail."""
    set_aside.resolve(cur, kind, batch_id)
    _record_batch(cur, batch_id, source, result, who, hashing)
    if result.dry_run:
        raise _DryRun
    result.batch_id = batch_id
    precompute.refresh(cur, precompute.batch_change(cur, kind, batch_id, own,
                                                 replaced=result.replaced > 0))
    audit.record(cur, who, audit_action, f"batch {batch_id}", {
        "kind": kind, "file": source.file_name, "sha256": hashing[1][0] if hashing[1] else "",
        "rows": result.rows, "inserted": result.inserted, "replaced": result.replaced,
        "set_aside": result.set_aside})


def _ingest(store: Store, kind: str, source: Source, plan: _Plan, result: IngestResult,
            who: str, hashing: tuple[threading.Thread, list[str]], *,
            accept_valid: bool = False, audit_action: str = "import") -> None:
    scope: list[str] | None = None
    try:
        with store.transaction() as cur:
            scope = writable_units(cur, who)
            batch_id = store.next_id(cur, "batches", "batch_id")
            rows, replaced, own = _fast_insert(cur, kind, source, plan, batch_id, scope)
            if rows == 0:
                raise FileRejected.one("no_rows", file=source.file_name)
            result.rows, result.replaced, result.inserted = rows, replaced, rows - replaced
            _complete_batch(cur, kind, batch_id, source, result, who, audit_action, hashing,
                            own)
    except _DryRun:
        return
    except _Rejected as signal:
        if accept_valid:
            _accept_valid_rows(store, kind, source, plan, result, who, hashing, scope,
                               audit_action)
            if result.ok:
                return
        else:
            with store.cursor() as cur:  # a read-only look: always rolled back, no version bump
                cur.execute("BEGIN TRANSACTION")
                try:
                    diagnosis = _diagnose(cur, kind, source, plan, scope)
                finally:
                    cur.execute("ROLLBACK")
            result.problems, result.rows = diagnosis.problems, diagnosis.rows
        if not result.problems:  # the fast path failed for a reason the rules do not know
            raise StoreError("ingest.failed", file=source.file_name,
                             detail=str(signal)) from signal


def _accept_valid_rows(store: Store, kind: str, source: Source, plan: _Plan,
                       result: IngestResult, who: str,
                       hashing: tuple[threading.Thread, list[str]], scope: list[str] | None,
                       audit_action: str) -> None:
    """Import the rows that pass every rule as one batch and keep the others, with their
    problems, as that batch's set-aside rows. When no row passes, nothing is written and the
    problems come back as for an all-or-nothing import."""
    try:
        with store.transaction() as cur:
            diagnosis = _diagnose(cur, kind, source, plan, scope)
            result.rows = diagnosis.rows
            lines = {p.line for p in diagnosis.problems if p.line is not None}
            # Rows outside the importer's scope are never set aside: they refuse the file.
            if len(lines) >= diagnosis.rows or any(
                    p.line is None or p.key.endswith("out_of_scope") for p in diagnosis.problems):
                result.problems = diagnosis.problems
                raise _DryRun  # nothing to keep: roll back, report as usual
            batch_id = store.next_id(cur, "batches", "batch_id")
            table = TABLES[kind]
            columns = contract_columns(kind)
            had_rows = bool(cur.query_value(f"SELECT count(*) FROM {table}"))
            inserted = _count(_run(cur, diagnosis.select + (
                f"INSERT INTO {table} ({', '.join(columns)}, batch_id) "
                f"SELECT {', '.join(_insert_select(kind, c) for c in columns)}, $batch FROM v "
                "WHERE NOT list_contains($bad, __rec)"),
                {**diagnosis.params, "batch": batch_id, "bad": sorted(diagnosis.bad)}))
            replaced = _replace_existing(cur, kind, batch_id, had_rows)
            keys = {diagnosis.line_of[rec]: key for rec, *key in _run(cur, diagnosis.select + (
                f"SELECT __rec, {', '.join(f'r_{k}' for k in KEYS[kind])} FROM file "
                "WHERE list_contains($bad, __rec)"),
                {**diagnosis.params, "bad": sorted(diagnosis.bad)}).fetchall()}
            result.set_aside = set_aside.keep(cur, kind, batch_id, source, diagnosis.problems,
                                              keys)
            result.inserted, result.replaced = inserted - replaced, replaced
            result.set_aside_problems = diagnosis.problems
            cur.execute("DROP TABLE IF EXISTS __raw")
            _complete_batch(cur, kind, batch_id, source, result, who, audit_action, hashing)
    except _DryRun:
        return


# -- reports for people (the CLI; the Upload page shows the same Problems) ----------------------
def summary(result: IngestResult, lang: str = "en") -> str:
    """`Batch 7: 835 rows (835 inserted, 0 replaced) from events.csv` (or the dry-run line)."""
    key = "ingest.checked" if result.dry_run else "ingest.loaded"
    text = t(key, lang, batch=result.batch_id, rows=result.rows, inserted=result.inserted,
             replaced=result.replaced, file=result.file_name)
    if result.set_aside:
        lines = sorted({p.line for p in result.set_aside_problems if p.line is not None})
        text += " " + t("ingest.set_aside", lang, count=result.set_aside,
                        lines=", ".join(str(line) for line in lines))
    return text


def rejected_sentence(result: IngestResult, lang: str = "en") -> str:
    return t("ingest.rejected", lang, file=result.file_name, count=len(result.problems))


def write_problems(result: IngestResult, path: str | Path | None = None,
                   lang: str = "en") -> Path:
    """Every problem as CSV (line, column, value, reason) at `path`, or a new temporary file."""
    if path is None:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept for the person to open
            "w", prefix=f"kinerja-problems-{Path(result.file_name).stem}-", suffix=".csv",
            delete=False, encoding="utf-8")
        handle.close()
        path = handle.name
    path = Path(path)
    result.problems_frame(lang).to_csv(path, index=False)
    return path


def rejection_report(result: IngestResult, problems_csv: str | Path | None, *, limit: int = 50,
                     lang: str = "en") -> list[str]:
    """The lines the CLI prints for a rejected file: at most `limit` problems, then where the
    full list is (`problems_csv`, or a temporary file it names when there are more)."""
    lines = [rejected_sentence(result, lang)]
    for problem in result.problems[:limit]:
        where = problem.line if problem.line is not None else "-"
        lines.append("  " + t("ingest.problem_line", lang, line=where,
                              column=problem.column or "-", reason=problem.message(lang)))
    more = len(result.problems) - limit
    if problems_csv or more > 0:
        written = write_problems(result, problems_csv, lang)
        lines.append(t("ingest.more_problems", lang, count=more, path=written) if more > 0
                     else t("ingest.all_problems", lang, path=written))
    return lines


@reads("batches")
def list_batches(store: Store) -> pd.DataFrame:
    """Every load, newest last."""
    return store.query_df(
        "SELECT batch_id, kind, file_name, sha256, rows_in_file, rows_inserted, rows_replaced, "
        "loaded_by, loaded_at, status, rolled_back_at FROM batches ORDER BY batch_id")


def rollback(store: Store, batch_id: int, *, by: str | None = None) -> dict[str, Any]:
    """Undo one committed batch: delete its rows, restore exactly the rows it replaced."""
    with store.transaction() as cur:
        row = cur.query_rows("SELECT kind, status FROM batches WHERE batch_id = $batch",
                             {"batch": batch_id})
        if not row:
            raise InputRejected("batches.unknown", batch=batch_id)
        kind, status = row[0]
        who = by or cli_user()
        touched = _batch_units(cur, kind, batch_id)
        require_in_scope(cur, who, touched)
        before = scope_before(cur, who)
        if status != "committed":
            raise InputRejected("batches.already_rolled_back", batch=batch_id)
        table = TABLES[kind]
        later = cur.query_value(
            f"SELECT max(replaced_by) FROM {table}_replaced WHERE batch_id = $batch",
            {"batch": batch_id})
        if later is not None:
            raise InputRejected("batches.later_batch", batch=batch_id, later=int(later))
        change = precompute.batch_change(cur, kind, batch_id)  # before its rows go
        removed = _count(cur.execute(f"DELETE FROM {table} WHERE batch_id = $batch",
                                     {"batch": batch_id}))
        restored = _count(cur.execute(
            f"INSERT INTO {table} BY NAME SELECT * EXCLUDE (replaced_by) FROM {table}_replaced "
            "WHERE replaced_by = $batch", {"batch": batch_id}))
        cur.execute(f"DELETE FROM {table}_replaced WHERE replaced_by = $batch",
                    {"batch": batch_id})
        set_aside.reopen(cur, batch_id)
        cur.execute(
            "UPDATE batches SET status = 'rolled_back', rolled_back_at = $at, "
            "rolled_back_by = $who WHERE batch_id = $batch",
            {"at": config.local_now(), "who": who, "batch": batch_id})
        require_kept(cur, who, before, touched)  # e.g. undoing a move of a unit into the scope
        audit.record(cur, who, "rollback", f"batch {batch_id}",
                     {"kind": kind, "removed": removed, "restored": restored})
        precompute.refresh(cur, change)
    return {"batch_id": batch_id, "kind": kind, "removed": removed, "restored": restored}


def _batch_units(cur: Cursor, kind: str, batch_id: int) -> set[str]:
    """The units a batch touched: its own rows and the rows it replaced."""
    table = TABLES[kind]
    return {row[0] for row in cur.query_rows(
        f"SELECT unit_code FROM {table} WHERE batch_id = $batch UNION "
        f"SELECT unit_code FROM {table}_replaced WHERE replaced_by = $batch",
        {"batch": batch_id})}


def demo_files(directory: str | Path = config.SAMPLE_DIR) -> list[tuple[str, Path]]:
    """(kind, file) of the demo data in load order; a kind may be `.csv` or `.csv.gz`."""
    directory = Path(directory)
    found = []
    for kind in KINDS:
        candidates = [directory / f"{kind}.csv", directory / f"{kind}.csv.gz"]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise InputRejected("ingest.demo_missing", directory=str(directory), kind=kind)
        found.append((kind, path))
    return found


def load_demo(store: Store, directory: str | Path = config.SAMPLE_DIR, *,
              by: str | None = None) -> list[IngestResult]:
    """Load units, services, events, survey and targets of the demo city, stopping at a reject;
    the batches name `by` (default `cli:<os user>`)."""
    results = []
    for kind, path in demo_files(directory):
        result = ingest_file(store, kind, path, loaded_by=by, audit_action="demo")
        results.append(result)
        if not result.ok:
            break
    return results




def mapped_preview(store: Store, kind: str, path: str | Path, mapping: ImportMapping | None, *,
                   limit: int = 5) -> pd.DataFrame:
    """The first `limit` rows of the file as the import reads them: the contract columns the
    file (through `mapping`) gives, each value as parsed (empty where it does not parse)."""
    path = Path(path)
    source = open_source(path, path.name, mapping.delimiter if mapping else None)
    xlsx = source.form == "xlsx"
    plan = (_mapped_plan(kind, source.header, mapping, path.name, xlsx) if mapping is not None
            else _plain_plan(_resolve_columns(kind, source.header, None, path.name), xlsx))
    shown = list(plan.exprs)
    typed = ", ".join(f"CASE WHEN {c} IS NULL THEN NULL ELSE {c}::VARCHAR END AS {c}"
                      for c in shown)
    with store.cursor() as cur:
        if source.frame is not None:  # xlsx
            cur.register("xlsx_file", source.frame.head(limit))
            read = "xlsx_file"
        else:
            read = f"(SELECT * FROM {_csv_source(source, len(source.header))} LIMIT {int(limit)})"
        sql = _select_sql(kind, plan, read, with_rec=False) + f"SELECT {typed} FROM v"
        try:
            return _run(cur, sql, _params(source, plan)).df()
        except StoreError:
            return pd.DataFrame(columns=shown)
