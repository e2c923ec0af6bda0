"""Set-aside rows: the rejected rows of an import run with "import the valid rows".

By default a file goes in whole or not at all. When the analyst opts in (`--accept-valid`, the
Upload page's checkbox), the valid rows go in as a batch and every rejected row is kept here
with its line, its cells as the source had them and its problems: listed in Import history and
Data quality, downloadable in the source's own delimiter and line endings, and resolved once a
later import of the same kind supplies its key, or an analyst dismisses it (a fix that came in
under another key resolves nothing; the dismissal is on the audit trail, and a scoped analyst
dismisses only rows of their units). Rolling back the resolving batch brings the row back; rows
of a rolled-back batch are no longer listed.
"""

# ruff: noqa: S608 - table names come from kpi.vocabulary.TABLES, values are parameters
from __future__ import annotations

import json

import pandas as pd

from kpi import audit, config
from kpi.errors import InputRejected, Problem
from kpi.exports import to_csv_bytes
from kpi.i18n import t
from kpi.reads import reads
from kpi.row_files import REASON_COLUMN, read_rows, source_shape
from kpi.scope import require_in_scope, scope_roots
from kpi.sources import Source
from kpi.store import Reader, Store, Writer
from kpi.vocabulary import KEYS, TABLES

KEY_SEPARATOR = "\x1f"
# A row still waits: no later batch supplied its key and no one dismissed it.
_WAITING = ("s.resolved_by IS NULL AND NOT EXISTS (SELECT 1 FROM set_aside_dismissals d "
            "WHERE d.batch_id = s.batch_id AND d.line = s.line)")


def keep(cur: Writer, kind: str, batch_id: int, source: Source, problems: list[Problem],
         keys: dict[int, list]) -> int:
    """Store the rows `problems` name (by line) for `batch_id`; `keys` maps a line to the
    row's contract key values. Returns how many rows were set aside."""
    by_line: dict[int, list] = {}
    for problem in problems:
        if problem.line is None:  # the import refuses such a file rather than set rows aside
            raise ValueError(f"a set-aside row needs its line: {problem.key}")
        by_line.setdefault(problem.line, []).append(problem)
    cells = read_rows(source.path, lines=set(by_line))
    header = [column for column in cells.columns if column != "line"]
    rows_by_line = {int(row["line"]): [row[c] for c in header]
                    for row in cells.to_dict("records")}
    delimiter, ending = source_shape(source.path)
    records = []
    for line, found in sorted(by_line.items()):
        key = keys.get(line)
        key_text = (None if key is None or any(part is None for part in key)
                    else KEY_SEPARATOR.join(str(part) for part in key))
        records.append({
            "batch_id": batch_id, "kind": kind, "line": line, "key_text": key_text,
            "cells": json.dumps({"header": header, "cells": rows_by_line.get(line, [])},
                                ensure_ascii=False),
            "reasons": json.dumps([[p.key, p.params] for p in found], ensure_ascii=False,
                                  default=str),
            "delimiter": delimiter, "line_ending": ending})
    frame = pd.DataFrame(records, columns=["batch_id", "kind", "line", "key_text", "cells",
                                           "reasons", "delimiter", "line_ending"])
    cur.register("set_aside_new", frame)
    cur.execute("INSERT INTO set_aside_rows (batch_id, kind, line, key_text, cells, reasons, "
                "delimiter, line_ending) SELECT batch_id, kind, line, key_text, cells, reasons, "
                "delimiter, line_ending FROM set_aside_new")
    cur.unregister("set_aside_new")
    return len(records)


def resolve(cur: Writer, kind: str, batch_id: int) -> None:
    """Mark the open set-aside rows of `kind` whose key batch `batch_id` brought as resolved."""
    if not cur.query_value(
            "SELECT count(*) FROM set_aside_rows WHERE kind = $kind AND resolved_by IS NULL "
            "AND key_text IS NOT NULL", {"kind": kind}):
        return  # the usual case: nothing waits, and a large import pays nothing
    key_sql = ", ".join(f"{k}::VARCHAR" for k in KEYS[kind])
    cur.execute(
        f"UPDATE set_aside_rows SET resolved_by = $batch WHERE kind = $kind "
        f"AND resolved_by IS NULL AND batch_id <> $batch AND key_text IN ("
        f"SELECT concat_ws(chr(31), {key_sql}) FROM {TABLES[kind]} WHERE batch_id = $batch)",
        {"batch": batch_id, "kind": kind})


def reopen(cur: Writer, batch_id: int) -> None:
    """Rolling back `batch_id` takes back what it resolved."""
    cur.execute("UPDATE set_aside_rows SET resolved_by = NULL WHERE resolved_by = $batch",
                {"batch": batch_id})


def dismiss(store: Store, batch_id: int, lines: list[int], *, by: str | None) -> int:
    """Take `lines` of `batch_id`'s rows still set aside off the lists, for good (no import
    resolves a row whose fix came in under another key); recorded with who and when, on the
    audit trail too. Refused (OutOfScope) for a row of a unit outside `by`'s scope, and for a
    row without a unit (its key incomplete) unless `by` has the whole city. Returns how many
    rows were dismissed (those already gone are skipped)."""
    with store.transaction() as cur:
        rows = cur.query_rows(
            f"SELECT s.line, s.kind, s.key_text FROM set_aside_rows s WHERE s.batch_id = $batch "
            f"AND list_contains($lines, s.line) AND {_WAITING} ORDER BY s.line",
            {"batch": batch_id, "lines": [int(line) for line in lines]})
        if not rows:
            return 0
        units = {_unit_of(key_text) for _, _, key_text in rows}
        without_unit = [int(line) for line, _, key_text in rows if _unit_of(key_text) is None]
        if without_unit and scope_roots(cur, by) is not None:
            raise InputRejected("setasidedismiss.error_no_unit",
                                lines=", ".join(map(str, without_unit)))
        require_in_scope(cur, by, {unit for unit in units if unit is not None})
        who = by or audit.cli_user()
        now = config.local_now()
        for line, _, _ in rows:
            cur.execute("INSERT INTO set_aside_dismissals (batch_id, line, dismissed_by, "
                        "dismissed_at) VALUES (?, ?, ?, ?)", [batch_id, line, who, now])
        audit.record(cur, by, "set_aside.dismiss", f"batch {batch_id}", {
            "kind": rows[0][1], "lines": [int(line) for line, _, _ in rows],
            "units": sorted(unit for unit in units if unit is not None)})
    return len(rows)


def _unit_of(key_text: str | None) -> str | None:
    """The unit of a set-aside row: its key's first part (every kind's key starts with it)."""
    return key_text.split(KEY_SEPARATOR, 1)[0] if key_text else None


def counts(store: Reader) -> dict[int, int]:
    """batch_id -> rows still set aside (of committed batches)."""
    rows = store.query_rows(
        "SELECT s.batch_id, count(*) FROM set_aside_rows s JOIN batches b USING (batch_id) "
        f"WHERE {_WAITING} AND b.status = 'committed' GROUP BY s.batch_id")
    return {int(batch): int(n) for batch, n in rows}


def _reasons(text: str, lang: str) -> str:
    return "; ".join(t(key, lang, **params) for key, params in json.loads(text))


@reads("batches", "set_aside_rows", "set_aside_dismissals")
def listing(store: Reader, lang: str, batch_id: int | None = None) -> pd.DataFrame:
    """batch_id, kind, file_name, line, unit_code (None when its key is incomplete), reason of
    the rows still set aside (of one batch)."""
    frame = store.query_df(
        "SELECT s.batch_id, s.kind, b.file_name, s.line, s.key_text, s.reasons "
        "FROM set_aside_rows s JOIN batches b USING (batch_id) "
        f"WHERE {_WAITING} AND b.status = 'committed' "
        "AND ($batch IS NULL OR s.batch_id = $batch) "
        "ORDER BY s.batch_id, s.line", {"batch": batch_id})
    frame["unit_code"] = [_unit_of(key_text) for key_text in frame["key_text"]]
    frame["reason"] = [_reasons(text, lang) for text in frame["reasons"]]
    return frame.drop(columns=["reasons", "key_text"])


def rows_file(store: Reader, batch_id: int, lang: str) -> tuple[bytes, int]:
    """The batch's rows still set aside as the source had them, plus `rejected_because`, in the
    source's delimiter and line endings (the file to fix and import again); and their count."""
    rows = store.query_rows(
        "SELECT cells, reasons, delimiter, line_ending FROM set_aside_rows s "
        f"WHERE s.batch_id = $batch AND {_WAITING} ORDER BY s.line", {"batch": batch_id})
    if not rows:
        return b"", 0
    first = json.loads(rows[0][0])
    header = [*first["header"], REASON_COLUMN]
    body = []
    for cells, reasons, _, _ in rows:
        values = json.loads(cells)["cells"]
        body.append([*(values + [""] * len(first["header"]))[:len(first["header"])],
                     _reasons(reasons, lang)])
    frame = pd.DataFrame(body, columns=header, dtype=object)
    return to_csv_bytes(frame, delimiter=rows[0][2], line_ending=rows[0][3]), len(rows)

