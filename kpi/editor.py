"""Saving the Targets & standards editor: the edited table becomes one reversible batch.

The rows the analyst changed or added are written to a temporary CSV and handed to
`kpi.ingest.ingest_file`, so an edit obeys exactly the rules of an upload (kpi names, dates,
numbers, known units, duplicate keys) and lands as a batch (file name "editor") that Import
history can roll back. The editor adds the rules that only make sense for a whole table: a row
may not be removed or have its key changed (end a target with valid_to, or roll back its
batch), no value may be negative, and two targets of one unit and KPI may not be valid on the
same day. Problems name the editor's row number (1 = first row) rather than a file line; the
tables carry those numbers as their index, so the grid can show them.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from kpi.errors import Problem
from kpi.i18n import t
from kpi.ingest import IngestResult, ingest_file
from kpi.reads import reads
from kpi.store import Reader, Store
from kpi.vocabulary import KEYS

EDITOR_FILE_NAME = "editor"
TARGET_COLUMNS = ("unit_code", "kpi", "target", "valid_from", "valid_to", "amber_pct")
SERVICE_COLUMNS = ("unit_code", "service_code", "name", "standard_minutes")
COLUMNS = {"targets": TARGET_COLUMNS, "services": SERVICE_COLUMNS}
# The import already refuses negative minutes and percentages; a target may be any number there.
# -- reading the current tables ---------------------------------------------------------------
@reads("targets")
def targets_table(store: Reader) -> pd.DataFrame:
    """Every target row as the editor shows it, by unit, KPI and start date."""
    frame = store.query_df(
        "SELECT unit_code, kpi, target, valid_from, valid_to, amber_pct FROM targets "
        "ORDER BY unit_code = '*' DESC, unit_code, kpi, valid_from")
    for column in ("valid_from", "valid_to"):  # datetime64: an open end is NaT, shown empty
        frame[column] = pd.to_datetime(frame[column])
    return _numbered(frame)


@reads("services")
def services_table(store: Reader) -> pd.DataFrame:
    """Every service with its standard minutes, by unit and service code."""
    return _numbered(store.query_df(
        "SELECT unit_code, service_code, name, standard_minutes FROM services "
        "ORDER BY unit_code, service_code"))


def _numbered(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` indexed by the editor's row numbers (1 = first row), the numbers problems name;
    a range index, so rows added in the grid continue the count."""
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


@reads("units")
def unit_types(store: Reader) -> list[str]:
    """The unit types in the store, alphabetically."""
    return [row[0] for row in store.query_rows("SELECT DISTINCT type FROM units ORDER BY type")]


@reads("units")
def unit_codes(store: Reader) -> list[str]:
    return [row[0] for row in store.query_rows("SELECT unit_code FROM units ORDER BY unit_code")]


@reads("units")
def unit_names(store: Reader) -> dict[str, str]:
    """Each unit's name by its code."""
    return dict(store.query_rows("SELECT unit_code, name FROM units ORDER BY unit_code"))


def with_target_change(table: pd.DataFrame, *, unit: str, kpi: str, target: float,
                       valid_from: dt.date, amber_pct: float | None = None) -> pd.DataFrame:
    """`table` (the targets editor's rows) with `unit`'s (or `*`'s) `kpi` target changed from
    `valid_from` on: the row of that unit and KPI in force on that day is ended the day before
    and a new row starts on it, keeping the old row's end and its amber band unless `amber_pct`
    is given. A row starting on that very day gets the new values instead. Without a row in
    force the new row runs until the next one of that unit and KPI starts (or open-ended)."""
    table = table.copy()
    same = [position for position in range(len(table))
            if table["unit_code"].iloc[position] == unit and table["kpi"].iloc[position] == kpi]
    spans = {position: (_as_date(table["valid_from"].iloc[position]),
                        _as_date(table["valid_to"].iloc[position])) for position in same}
    in_force = [position for position, (start, end) in spans.items()
                if start is not None and start <= valid_from and (end is None or end >= valid_from)]
    column = table.columns.get_loc
    if in_force:
        position = in_force[0]
        start, end = spans[position]
        amber = table["amber_pct"].iloc[position] if amber_pct is None else amber_pct
        if start == valid_from:
            table.iloc[position, column("target")] = float(target)
            table.iloc[position, column("amber_pct")] = float(amber)
            return table
        table.iloc[position, column("valid_to")] = pd.Timestamp(valid_from - dt.timedelta(days=1))
    else:
        later = [start for start, _ in spans.values() if start is not None and start > valid_from]
        end = min(later) - dt.timedelta(days=1) if later else None
        amber = 10.0 if amber_pct is None else amber_pct
    added = pd.DataFrame([{"unit_code": unit, "kpi": kpi, "target": float(target),
                           "valid_from": pd.Timestamp(valid_from),
                           "valid_to": pd.Timestamp(end) if end else pd.NaT,
                           "amber_pct": float(amber)}], columns=list(TARGET_COLUMNS))
    return pd.concat([table, added], ignore_index=True)


def with_bulk_target(store: Reader, table: pd.DataFrame, *, unit_type: str, kpi: str, target: float,
                     valid_from: dt.date, valid_to: dt.date | None = None,
                     amber_pct: float = 10.0) -> pd.DataFrame:
    """`table` (the targets editor's rows) plus a target for every unit of `unit_type` from
    `valid_from`; each such unit's own target of that KPI still valid on `valid_from` is ended
    the day before, so the new one takes over without overlapping."""
    units = [row[0] for row in store.query_rows(
        "SELECT unit_code FROM units WHERE type = ? ORDER BY unit_code", [unit_type])]
    table = table.copy()
    froms = [_as_date(value) for value in table["valid_from"]]
    tos = [_as_date(value) for value in table["valid_to"]]
    for position, (start, end) in enumerate(zip(froms, tos, strict=True)):
        if (table["unit_code"].iloc[position] in units and table["kpi"].iloc[position] == kpi
                and start is not None and start < valid_from
                and (end is None or end >= valid_from)):
            table.iloc[position, table.columns.get_loc("valid_to")] = pd.Timestamp(
                valid_from - dt.timedelta(days=1))
    added = pd.DataFrame([{"unit_code": unit, "kpi": kpi, "target": float(target),
                           "valid_from": pd.Timestamp(valid_from),
                           "valid_to": pd.Timestamp(valid_to) if valid_to else pd.NaT,
                           "amber_pct": float(amber_pct)} for unit in units],
                         columns=list(TARGET_COLUMNS))
    return pd.concat([table, added], ignore_index=True) if len(added) else table


# -- saving -----------------------------------------------------------------------------------
def save_targets(store: Store, original: pd.DataFrame, edited: pd.DataFrame, *, by: str | None = None,
                 dry_run: bool = False) -> IngestResult | None:
    """Validate the edited targets table and, unless `dry_run` or invalid, save what changed as
    one batch. Returns the IngestResult (problems by editor row), or None when nothing changed."""
    return _save(store, "targets", original, edited, by=by, dry_run=dry_run)


def save_services(store: Store, original: pd.DataFrame, edited: pd.DataFrame, *, by: str | None = None,
                  dry_run: bool = False) -> IngestResult | None:
    """Like save_targets, for the services table (standard minutes)."""
    return _save(store, "services", original, edited, by=by, dry_run=dry_run)


def _save(store: Store, kind: str, original: pd.DataFrame, edited: pd.DataFrame, *, by: str | None,
          dry_run: bool) -> IngestResult | None:
    columns = COLUMNS[kind]
    before = [_row_text(row, columns) for row in original.to_dict("records")]
    after = [_row_text(row, columns) for row in edited.to_dict("records")]
    key_of = _key_function(kind)
    after_keys = [key_of(row) for row in after]
    repeated = {key for key in after_keys if after_keys.count(key) > 1}
    unchanged = set(map(tuple, (row.values() for row in before)))
    # Changed or added rows, plus every copy of a repeated key so that the import names it.
    positions = [p for p, row in enumerate(after)
                 if tuple(row.values()) not in unchanged or after_keys[p] in repeated]
    problems = _removed_rows(kind, before, set(after_keys))
    if kind == "targets":
        problems += _overlaps(after, positions)
    if not positions:
        return IngestResult(kind, EDITOR_FILE_NAME, "", problems=problems) if problems else None
    with tempfile.TemporaryDirectory(prefix="kinerja-editor-") as folder:
        path = Path(folder) / f"{EDITOR_FILE_NAME}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(columns))
            writer.writeheader()
            writer.writerows(after[p] for p in positions)
        result: IngestResult = ingest_file(store, kind, path, file_name=EDITOR_FILE_NAME,
                                           loaded_by=by, dry_run=dry_run or bool(problems),
                                           audit_action=f"{kind}.edit")
    # The import numbers lines of the temporary file (header = 1); the editor numbers its rows.
    from_file = [_renumber(problem, positions[problem.line - 2] + 1)
                 if problem.line and 2 <= problem.line < len(positions) + 2 else problem
                 for problem in result.problems]
    every = sorted(problems + from_file, key=lambda problem: (problem.line or 0, problem.column or ""))
    return dataclasses.replace(result, problems=every)


def _renumber(problem: Problem, row: int) -> Problem:
    """`problem` of the temporary file's line, told as the editor's row number."""
    params = {**problem.params, "line": row} if "line" in problem.params else problem.params
    return dataclasses.replace(problem, line=row, params=params)


def _problem(editor_row: int, column: str, key: str, value: object = None,
             **params: object) -> Problem:
    """A Problem of the editor's own rules; its English reason comes from the catalogue."""
    text = None if value is None else str(value)
    return Problem(line=editor_row, column=column, reason=t(key, "en", **params), key=key,
                   params=params, value=text)


def _removed_rows(kind: str, before: list[dict], after_keys: set[tuple]) -> list[Problem]:
    key_of = _key_function(kind)
    problems = []
    for position, row in enumerate(before):
        if key_of(row) not in after_keys:
            shown = " / ".join(value for value in key_of(row) if value)
            problems.append(_problem(
                position + 1, KEYS[kind][-1], "targetspage.rule_removed", shown, row=shown))
    return problems


def _overlaps(rows: list[dict], positions: list[int]) -> list[Problem]:
    """A problem for each changed row whose validity overlaps another row of its unit and KPI."""
    problems = []
    changed = set(positions)
    for position in positions:
        row = rows[position]
        start, end = _as_date(row["valid_from"]), _as_date(row["valid_to"]) or dt.date.max
        if start is None:
            continue  # the import reports the missing or unparseable date
        for other_position, other in enumerate(rows):
            if other_position == position or (other["unit_code"], other["kpi"]) != (row["unit_code"], row["kpi"]):
                continue
            if other_position in changed and other_position < position:
                continue  # a pair of changed rows is reported once, on the later row
            other_start = _as_date(other["valid_from"])
            other_end = _as_date(other["valid_to"]) or dt.date.max
            if other_start is not None and start <= other_end and other_start <= end:
                problems.append(_problem(
                    position + 1, "valid_from", "targetspage.rule_overlap",
                    row["valid_from"], other=other_position + 1))
                break
    return problems


# -- cell values as a CSV writes them ---------------------------------------------------------
def _key_function(kind: str) -> Callable[[dict[str, str]], tuple[str, ...]]:
    names = KEYS[kind]
    return lambda row: tuple(row[name] for name in names)


def _row_text(row: dict, columns: tuple[str, ...]) -> dict[str, str]:
    return {column: _cell_text(row.get(column)) for column in columns}


def _cell_text(value: object) -> str:
    """A cell as the import reads it: dates ISO, whole floats without `.0`, empty for none."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value).strip()


def _as_date(value: object) -> dt.date | None:
    if value is None or value is pd.NaT or value == "":
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
