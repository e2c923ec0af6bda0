"""The Upload page's §1.1 mapping editor: one line per contract column, saying where the file
gives it (a column, a date and a time column with a format, a constant, several columns joined)
and, for any given column, a table of the file's words for its values.

A line per contract column, not per file column, because a §1.1 mapping is written that way: one
file column may feed several contract columns (`Tanggal` is the date of arrived_at, started_at
and completed_at; `Tanggal` and `No Antrian` make the ticket). `lines_of` turns a mapping into the
editor's lines and `mapping_of` turns the lines back into the same mapping, through
kpi.import_mapping's checks (the ones a TOML file meets), so the page shows and applies a saved
mapping exactly as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from kpi import import_mapping
from kpi.errors import InputRejected
from kpi.import_mapping import ImportMapping
from kpi.mapping_suggestions import (
    DROP_BY_DEFAULT,
    TIMESTAMP_COLUMNS,
    column_values,
    normalize,
    timestamp_format,
    value_table,
)
from kpi.vocabulary import REQUIRED, contract_columns
from ui.text import md

NOT_GIVEN = ""               # the file does not give this contract column
CONSTANT = "__constant__"    # one value for the whole file
COMPOSE = "__compose__"      # file columns joined with "-"
DEFAULT_FORMAT = "%d/%m/%Y %H:%M"  # a date and a time column need a format; the usual one


@dataclass
class Line:
    """Where the file gives one contract column (a line of the editor)."""

    source: str = NOT_GIVEN  # a file column, NOT_GIVEN, CONSTANT or COMPOSE
    time: str = ""           # a timestamp's time-of-day column ("" = the source holds it all)
    format: str = ""         # strptime format of source (+ " " + time); "" = the contract's ISO
    constant: str = ""
    parts: list[str] = field(default_factory=list)
    values: dict[str, str] | None = None  # the value table (file word -> contract value)
    as_date: bool = False    # the TOML named the source `date =` (kept as it was written)
    implicit: bool = False   # a [values.X] table reading the file's column X without [columns]

    @property
    def from_file(self) -> bool:
        return self.source not in (NOT_GIVEN, CONSTANT)


def lines_of(mapping: ImportMapping) -> dict[str, Line]:
    """The editor's lines for `mapping`, in the order its tables name the contract columns."""
    lines: dict[str, Line] = {}
    for target, source in mapping.columns.items():
        lines[target] = Line(source=source)
    for target, value in mapping.constants.items():
        lines[target] = Line(source=CONSTANT, constant=value)
    for target, spec in mapping.timestamps.items():
        lines[target] = Line(source=spec.column or spec.date or NOT_GIVEN, time=spec.time or "",
                             format=spec.format, as_date=bool(spec.date))
    for target, parts in mapping.compose.items():
        lines[target] = Line(source=COMPOSE, parts=list(parts))
    for target, table in mapping.values.items():
        line = lines.setdefault(target, Line(source=target, implicit=True))
        line.values = dict(table)
    return lines


def mapping_of(kind: str, lines: dict[str, Line], delimiter: str | None = None, *,
               complete: bool = True) -> ImportMapping:
    """The §1.1 mapping the editor's `lines` describe, checked as a TOML file is (one sentence
    for the first problem) and, when `complete`, refused while a required contract column is
    not given."""
    document: dict = {"kind": kind, "delimiter": delimiter, "columns": {}, "constants": {},
                      "timestamps": {}, "values": {}, "compose": {}}
    for target, line in lines.items():
        if line.source == CONSTANT:
            if line.constant.strip():
                document["constants"][target] = line.constant
        elif line.source == COMPOSE:
            if line.parts:
                document["compose"][target] = list(line.parts)
        elif line.source and (line.time or line.format.strip()):
            split = bool(line.time) or line.as_date
            spec = {"date": line.source, "time": line.time} if split else {"column": line.source}
            document["timestamps"][target] = {**{k: v for k, v in spec.items() if v},
                                              "format": line.format.strip()}
        elif line.source and not (line.implicit and line.values
                                  and normalize(line.source) == normalize(target)):
            document["columns"][target] = line.source
        table = {k.strip(): v.strip() for k, v in (line.values or {}).items()
                 if k.strip() and v.strip()}
        if line.source not in (NOT_GIVEN, CONSTANT) and table:
            document["values"][target] = table
    mapping = import_mapping.from_dict({key: value for key, value in document.items()
                                        if value or key == "kind"})
    missing = mapping.missing_required() if complete else []
    if missing:
        raise InputRejected("mapping.unmapped_required", columns=", ".join(missing))
    return mapping


def unused_columns(mapping: ImportMapping, header: list[str]) -> list[str]:
    """The file's columns the mapping does not name (left out of the import)."""
    named = {normalize(name) for name in mapping.source_columns()}
    return [column for column in header if normalize(column) not in named]


# -- the widgets --------------------------------------------------------------------------------
@dataclass(frozen=True)
class EditorContext:
    """What the editor needs from its page."""

    t: Callable[..., str]
    prefix: str                 # widget keys of this file, kind and starting mapping
    header: list[str]
    sample: pd.DataFrame        # the file's first rows, as text
    names: dict[str, str]       # lower-case service name -> code (service_code's value table)


def edit_lines(ctx: EditorContext, kind: str, start: ImportMapping) -> tuple[dict[str, Line],
                                                                           str | None]:
    """The editor's widgets, starting from `start`: the lines as the analyst leaves them, and
    the delimiter."""
    started = lines_of(start)
    # Source columns the mapping names that the file lacks stay choosable, so that the check
    # names the missing column instead of the line silently changing.
    files = [*ctx.header, *(c for c in start.source_columns()
                            if normalize(c) not in {normalize(h) for h in ctx.header})]
    own = {normalize(name): name for name in files}
    required = set(REQUIRED[kind])
    order = [*started, *(c for c in contract_columns(kind) if c not in started)]
    lines: dict[str, Line] = {}
    for target in contract_columns(kind):
        begun = started.get(target, Line())
        if begun.from_file and begun.source != COMPOSE:
            begun.source = own.get(normalize(begun.source), begun.source)
        lines[target] = _edit_line(ctx, target, begun, files, target in required)
    delimiter = st.selectbox(ctx.t("mapeditor.delimiter"), ["", ",", ";"],
                             index=["", ",", ";"].index(start.delimiter or ""),
                             key=f"{ctx.prefix}_delimiter",
                             format_func=lambda d: ctx.t(f"mapeditor.delimiter_{_DELIMITER_NAMES[d]}"),
                             help=ctx.t("mapeditor.delimiter_help"))
    _edit_values(ctx, lines, started)
    return {target: lines[target] for target in order}, delimiter or None


_DELIMITER_NAMES = {"": "detected", ",": "comma", ";": "semicolon"}


def _edit_line(ctx: EditorContext, target: str, begun: Line, files: list[str],
               required: bool) -> Line:
    """One contract column: where it comes from, and what that choice needs."""
    key = f"{ctx.prefix}_{target}"
    options = [NOT_GIVEN, *files, CONSTANT, COMPOSE]
    source_box, second, third = st.columns([2, 2, 2], vertical_alignment="bottom")

    def label(choice: str) -> str:
        if choice in (NOT_GIVEN, CONSTANT, COMPOSE):
            return ctx.t(f"mapeditor.choice_{choice.strip('_') or 'none'}")
        return md(choice) or ctx.t("mapping.unnamed")

    source = source_box.selectbox(f"{target} *" if required else target, options,
                                  index=options.index(begun.source) if begun.source in options
                                  else 0, key=f"{key}_source", format_func=label)
    line = Line(source=source, values=begun.values, as_date=begun.as_date,
                implicit=begun.implicit and source == begun.source)
    if source == CONSTANT:
        line.constant = second.text_input(ctx.t("mapeditor.constant", column=target),
                                          value=begun.constant, key=f"{key}_constant",
                                          help=ctx.t("mapping.constant_help"))
    elif source == COMPOSE:
        line.parts = second.multiselect(ctx.t("mapping.compose", column=target), files,
                                        default=[p for p in begun.parts if p in files],
                                        key=f"{key}_parts", help=ctx.t("mapping.compose_help"),
                                        placeholder=ctx.t("mapeditor.choose"))
    elif source and (target in TIMESTAMP_COLUMNS or begun.format):
        times = ["", *files]
        line.time = second.selectbox(
            ctx.t("mapeditor.time", column=target), times,
            index=times.index(begun.time) if begun.time in times else 0, key=f"{key}_time",
            format_func=lambda c: md(c) if c else ctx.t("mapeditor.no_time"),
            help=ctx.t("mapeditor.time_help"))
        # The format's key names the columns it reads: choosing another column proposes the
        # format of its values again instead of keeping one that does not fit.
        if source == begun.source and line.time == begun.time:
            proposed = begun.format
        else:
            proposed = (timestamp_format(ctx.sample, source, line.time or None) if
                        source in ctx.sample else None) or (DEFAULT_FORMAT if line.time else "")
        line.format = third.text_input(ctx.t("mapeditor.format", column=target), value=proposed,
                                       key=f"{key}_format_{source}_{line.time}",
                                       placeholder=ctx.t("mapping.format_iso"),
                                       help=ctx.t("mapping.formats_help"))
    return line


def _edit_values(ctx: EditorContext, lines: dict[str, Line], started: dict[str, Line]) -> None:
    """The value tables: for any contract column given by the file, the file's words and the
    contract values they stand for (suggested for status, channel and service names)."""
    given = [target for target, line in lines.items() if line.from_file]
    proposed = [target for target in given if (started.get(target) or Line()).values]
    chosen = st.multiselect(ctx.t("mapeditor.value_tables"), given, default=proposed,
                            key=f"{ctx.prefix}_value_tables", placeholder=ctx.t("mapeditor.choose"),
                            help=ctx.t("mapping.values_help"))
    for target in given:
        line = lines[target]
        if target not in chosen:
            line.values = None
            continue
        words = (column_values(ctx.sample, line.source)
                 if line.source not in (COMPOSE, NOT_GIVEN) else [])
        table = value_table(target, words, ctx.names, line.values)
        st.markdown(ctx.t("mapping.values", column=target))
        edited = st.data_editor(
            pd.DataFrame({"source": list(table), "value": list(table.values())}, dtype=object),
            key=f"{ctx.prefix}_values_{target}_{line.source}", hide_index=True,
            num_rows="dynamic",
            column_config={"source": st.column_config.TextColumn(ctx.t("mapping.col_source")),
                           "value": st.column_config.TextColumn(ctx.t("mapping.col_value"))})
        line.values = {str(a): str(b) for a, b in zip(edited["source"], edited["value"],
                                                      strict=True)
                       if isinstance(a, str) and isinstance(b, str)}


def left_out(ctx: EditorContext, unused: Iterable[str], *, leave_all: bool) -> list[str]:
    """The file's unused columns the analyst leaves out on purpose (the others are undecided:
    the import names them, with a suggestion when one looks like a contract column)."""
    unused = list(unused)
    if not unused:
        return []
    default = unused if leave_all else [c for c in unused if normalize(c) in DROP_BY_DEFAULT]
    return st.multiselect(ctx.t("mapeditor.left_out"), unused, default=default,
                          key=f"{ctx.prefix}_left_out", placeholder=ctx.t("mapeditor.choose"),
                          help=ctx.t("mapeditor.left_out_help"))

