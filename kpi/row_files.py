"""The analyst's own rows: a file's first rows under its own header (the Upload page's preview
and samples), the rows an import rejected as a file to fix and upload again (in the source's
delimiter and line endings, with the reasons in a last column), and the contract's templates.

Reads what kpi.ingest reads (kpi.sources), but never judges the values.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pandas as pd

from kpi.errors import Problem
from kpi.exports import to_csv_bytes
from kpi.sources import open_binary, open_source
from kpi.vocabulary import contract_columns

# The reasons column of a rejected-rows file: dropped by default when the fixed file comes back.
REASON_COLUMN = "rejected_because"


def read_rows(path: str | os.PathLike[str], *, lines: set[int] | None = None, limit: int | None = None) -> pd.DataFrame:
    """The file's rows as text under its own header, with their `line` in the file (header =
    line 1): the first `limit` rows, or those at `lines`. Reads what kpi.ingest reads (same
    form, separator and header), but never judges the values."""
    source = open_source(Path(path), Path(path).name)
    header = _unique_names(source.header)
    wanted: list[tuple[int, list[str]]] = []
    if source.frame is not None:  # xlsx: every cell is text already
        for position, values in enumerate(source.frame.itertuples(index=False), start=2):
            if lines is None or position in lines:
                wanted.append((position, ["" if pd.isna(v) else str(v) for v in values]))
            if _enough(wanted, lines, limit):
                break
    else:
        with open_binary(source) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")
            reader = csv.reader(text, delimiter=source.delimiter)
            next(reader, None)
            start = reader.line_num + 1
            for values in reader:
                if values and (lines is None or start in lines):
                    wanted.append((start, values))
                if _enough(wanted, lines, limit):
                    break
                start = reader.line_num + 1
    width = len(header)
    frame = pd.DataFrame([(values + [""] * width)[:width] for _, values in wanted],
                         columns=header, dtype=object)
    frame.insert(0, "line", [line for line, _ in wanted])
    return frame


def _enough(found: list, lines: set[int] | None, limit: int | None) -> bool:
    if lines is not None:
        return len(found) >= len(lines)
    return limit is not None and len(found) >= limit


def _unique_names(header: list[str]) -> list[str]:
    """Header names made unique (`name`, `name (2)`) so that a table can show them."""
    seen: dict[str, int] = {}
    names = []
    for name in header:
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def rejected_rows(path: str | os.PathLike[str], problems: list[Problem], lang: str,
                  reason_column: str = REASON_COLUMN) -> pd.DataFrame:
    """The original rows of every line a problem names, with the reasons (in `lang`) in a last
    column: the file to fix and upload again. Problems without a line are left out."""
    reasons: dict[int, list[str]] = {}
    for problem in problems:
        if problem.line and problem.line > 1:
            reasons.setdefault(int(problem.line), []).append(problem.message(lang))
    if not reasons:
        return pd.DataFrame()
    frame = read_rows(path, lines=set(reasons))
    frame[reason_column] = ["; ".join(reasons.get(int(line), [])) for line in frame["line"]]
    return frame.drop(columns="line")


def source_shape(path: str | os.PathLike[str]) -> tuple[str, str]:
    """(delimiter, line ending) of a file as its system wrote it: a rejected-rows file in the
    same shape goes back through the same mapping. XLSX gives comma and LF."""
    source = open_source(Path(path), Path(path).name)
    if source.form == "xlsx":
        return ",", "\n"
    with open_binary(source) as handle:
        head = handle.read(1 << 16)
    first = head.find(b"\n")
    return source.delimiter, "\r\n" if first > 0 and head[first - 1:first] == b"\r" else "\n"


def rejected_csv(path: str | os.PathLike[str], problems: list[Problem], lang: str) -> bytes:
    """`rejected_rows` as CSV in the source's own delimiter and line endings."""
    delimiter, ending = source_shape(path)
    return to_csv_bytes(rejected_rows(path, problems, lang), delimiter=delimiter,
                        line_ending=ending)


TEMPLATE_EXAMPLES: dict[str, dict[str, str]] = {
    "units": {"unit_code": "PKM-PDB", "name": "Puskesmas Padang Bulan", "type": "puskesmas",
              "parent_code": "", "district": "Medan Baru"},
    "services": {"unit_code": "PKM-PDB", "service_code": "UMUM", "name": "Poli umum",
                 "standard_minutes": "45"},
    "events": {"unit_code": "PKM-PDB", "service_code": "UMUM", "ticket_id": "A-0001",
               "arrived_at": "2026-11-16 07:45:00", "started_at": "2026-11-16 08:05:00",
               "completed_at": "2026-11-16 08:20:00", "outcome": "completed",
               "channel": "counter"},
    "survey": {"unit_code": "PKM-PDB", "response_id": "R-0001",
               "submitted_at": "2026-11-16 09:10:00",
               **{f"u{i}": "3" for i in range(1, 10)}, "service_code": "UMUM",
               "respondent_gender": "P", "respondent_age": "34", "respondent_education": "SMA",
               "comment": "Pelayanan cepat"},
    "targets": {"unit_code": "*", "kpi": "service_time_median", "target": "30",
                "valid_from": "2026-01-01", "valid_to": "", "amber_pct": "10"},
}


def template_frame(kind: str) -> pd.DataFrame:
    """A file of `kind` with every contract column and one example row."""
    example = TEMPLATE_EXAMPLES[kind]
    return pd.DataFrame([[example.get(column, "") for column in contract_columns(kind)]],
                        columns=list(contract_columns(kind)))
