"""Import mappings as in contract section 1.1: how a real export becomes a contract file.

A mapping is a TOML document (`kind`, `delimiter`, `[columns]`, `[constants]`,
`[timestamps.X]`, `[values.X]`, `[compose]`); the Upload page saves the same format and
`python -m kpi ingest KIND FILE --mapping M.toml` reads one. This module holds the model, reads
and writes the TOML (stdlib tomllib / tomli-w) and checks it; kpi.ingest turns it into SQL over
the file's cells, so the mapped rows meet exactly the rules of an unmapped file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from kpi.errors import InputRejected
from kpi.vocabulary import KINDS, OPTIONAL, REQUIRED

DELIMITERS = (",", ";")
COMPOSE_SEPARATOR = "-"


@dataclass(frozen=True)
class TimestampSource:
    """A contract timestamp read from `column`, or from `date` (+ " " + `time`), with `format`."""

    format: str
    column: str | None = None
    date: str | None = None
    time: str | None = None

    def sources(self) -> list[str]:
        return [name for name in (self.column, self.date, self.time) if name]


@dataclass
class ImportMapping:
    kind: str
    delimiter: str | None = None
    columns: dict[str, str] = field(default_factory=dict)          # contract = source
    constants: dict[str, str] = field(default_factory=dict)        # contract = value
    timestamps: dict[str, TimestampSource] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # contract = {source: value}
    compose: dict[str, list[str]] = field(default_factory=dict)    # contract = [sources]

    # -- what it produces and reads ------------------------------------------------------------
    def produced(self) -> list[str]:
        """The contract columns the mapping gives, in the order its tables name them. A
        `[values.X]` table without another source for X reads the source column named X."""
        names = [*self.columns, *self.constants, *self.timestamps, *self.compose]
        names += [name for name in self.values if name not in names]
        return names

    def is_rename_only(self) -> bool:
        """Whether the mapping only renames columns (what an older column map could say)."""
        return not (self.constants or self.timestamps or self.values or self.compose)

    def missing_required(self) -> list[str]:
        """The required contract columns of its kind that the mapping does not give."""
        produced = set(self.produced())
        return [name for name in REQUIRED[self.kind] if name not in produced]

    def source_columns(self) -> list[str]:
        """Every source column the mapping names (once, in order)."""
        found = list(self.columns.values())
        for spec in self.timestamps.values():
            found += spec.sources()
        for parts in self.compose.values():
            found += parts
        found += [name for name in self.values
                  if name not in self.columns and name not in self.compose
                  and name not in self.timestamps and name not in self.constants]
        return list(dict.fromkeys(found))

    def missing_sources(self, header: list[str]) -> list[str]:
        """The source columns the mapping names that `header` lacks (case and spaces ignored)."""
        present = {name.strip().lower() for name in header}
        return [name for name in self.source_columns() if name.strip().lower() not in present]

    def source_label(self, column: str) -> str | None:
        """The file column(s) contract `column` is read from, as the analyst knows them
        (`Waktu Selesai`, `Tanggal + Jam Selesai`); None for a constant or a column the
        mapping does not give."""
        if column in self.columns:
            return self.columns[column]
        if column in self.timestamps:
            return " + ".join(self.timestamps[column].sources())
        if column in self.compose:
            return " + ".join(self.compose[column])
        if column in self.values and column not in self.constants:
            return column  # a [values.X] table alone reads the source column named X
        return None

    def fits(self, header: list[str]) -> bool:
        """Whether a file with `header` has every source column the mapping names."""
        return bool(self.source_columns()) and not self.missing_sources(header)

    # -- TOML ------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        document: dict = {"kind": self.kind}
        if self.delimiter:
            document["delimiter"] = self.delimiter
        if self.columns:
            document["columns"] = dict(self.columns)
        if self.constants:
            document["constants"] = dict(self.constants)
        if self.timestamps:
            document["timestamps"] = {
                name: {key: value for key, value in (("column", spec.column), ("date", spec.date),
                                                     ("time", spec.time),
                                                     ("format", spec.format)) if value}
                for name, spec in self.timestamps.items()}
        if self.values:
            document["values"] = {name: dict(table) for name, table in self.values.items()}
        if self.compose:
            document["compose"] = {name: list(parts) for name, parts in self.compose.items()}
        return document

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())


def _bad(reason: str, **params: object) -> InputRejected:
    return InputRejected(f"importmap.{reason}", **params)


def _text_table(document: dict, name: str) -> dict[str, str]:
    table = document.get(name, {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise _bad("table_of_text", table=name)
    return {str(key).strip(): value.strip() if name != "constants" else value
            for key, value in table.items()}


def from_dict(document: dict) -> ImportMapping:
    """The mapping of a parsed TOML document, checked: one sentence for the first problem."""
    kind = document.get("kind")
    if kind not in KINDS:
        raise _bad("bad_kind", kind=kind if kind is not None else "", kinds=", ".join(KINDS))
    known = {"kind", "delimiter", "columns", "constants", "timestamps", "values", "compose"}
    unknown = sorted(set(document) - known)
    if unknown:
        raise _bad("unknown_key", key=unknown[0])
    delimiter = document.get("delimiter")
    if delimiter is not None and delimiter not in DELIMITERS:
        raise _bad("bad_delimiter", delimiter=delimiter)
    timestamps: dict[str, TimestampSource] = {}
    raw_timestamps = document.get("timestamps", {})
    if not isinstance(raw_timestamps, dict):
        raise _bad("table_of_text", table="timestamps")
    for name, spec in raw_timestamps.items():
        if not isinstance(spec, dict) or not all(isinstance(v, str) for v in spec.values()):
            raise _bad("table_of_text", table=f"timestamps.{name}")
        extra = sorted(set(spec) - {"column", "date", "time", "format"})
        if extra:
            raise _bad("unknown_key", key=f"timestamps.{name}.{extra[0]}")
        if not spec.get("format"):
            raise _bad("timestamp_format", column=name)
        if bool(spec.get("column")) == bool(spec.get("date")) or (
                spec.get("time") and not spec.get("date")):
            raise _bad("timestamp_source", column=name)
        timestamps[name.strip()] = TimestampSource(
            format=spec["format"], column=(spec.get("column") or "").strip() or None,
            date=(spec.get("date") or "").strip() or None,
            time=(spec.get("time") or "").strip() or None)
    values: dict[str, dict[str, str]] = {}
    raw_values = document.get("values", {})
    if not isinstance(raw_values, dict):
        raise _bad("table_of_text", table="values")
    for name in raw_values:
        values[name.strip()] = _text_table(raw_values, name)
    compose: dict[str, list[str]] = {}
    raw_compose = document.get("compose", {})
    if not isinstance(raw_compose, dict):
        raise _bad("table_of_text", table="compose")
    for name, parts in raw_compose.items():
        if (not isinstance(parts, list) or len(parts) < 2
                or not all(isinstance(p, str) and p.strip() for p in parts)):
            raise _bad("compose_parts", column=name)
        compose[name.strip()] = [part.strip() for part in parts]
    mapping = ImportMapping(kind=kind, delimiter=delimiter,
                            columns=_text_table(document, "columns"),
                            constants=_text_table(document, "constants"),
                            timestamps=timestamps, values=values, compose=compose)
    allowed = REQUIRED[kind] + OPTIONAL[kind]
    givers = [*mapping.columns, *mapping.constants, *mapping.timestamps, *mapping.compose]
    for name in [*givers, *mapping.values]:
        if name not in allowed:
            raise _bad("not_a_column", column=name, kind=kind)
    twice = sorted({name for name in givers if givers.count(name) > 1})
    if twice:
        raise _bad("given_twice", column=twice[0])
    if any(not source for source in mapping.columns.values()):
        raise _bad("table_of_text", table="columns")
    return mapping


def parse(text: str) -> ImportMapping:
    """A mapping from TOML text; a syntax error or a wrong entry is one sentence."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _bad("not_toml", detail=str(error)) from error
    return from_dict(document)


def load(path: str | Path) -> ImportMapping:
    path = Path(path)
    if not path.is_file():
        raise InputRejected("ingest.no_file", file=str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise _bad("not_toml", detail=str(error)) from error
    return parse(text)


def rename_only(kind: str, column_map: dict[str, str | None]) -> ImportMapping:
    """The mapping of an older rename-only dict {source column: contract column or None}."""
    return ImportMapping(kind=kind, columns={target: source for source, target
                                             in column_map.items() if target})
