"""Reading a source file (CSV, CSV.gz or XLSX) as the import sees it: its form, separator and
header, and its bytes. One reader for kpi.ingest (which judges the values) and kpi.row_files
(which shows the rows under the file's own header).

Whole-file problems (not text, not UTF-8, empty, tab-separated, a broken XLSX) raise
`FileRejected` with one sentence.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi.errors import FileRejected, KinerjaError

_SNIFF_BYTES = 1 << 16


@dataclass
class Source:
    """A file opened for import: its path, the name to report, its form, and its header."""

    path: Path
    file_name: str
    form: str  # csv | gzip | xlsx
    delimiter: str = ","
    header: list[str] = field(default_factory=list)
    frame: pd.DataFrame | None = None  # xlsx only: every cell as text


def _head_bytes(path: Path) -> tuple[bytes, str]:
    """The first bytes of the (decompressed) file and its form."""
    with path.open("rb") as handle:
        raw = handle.read(_SNIFF_BYTES)
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as handle:
                return handle.read(_SNIFF_BYTES), "gzip"
        except (OSError, EOFError) as error:
            raise FileRejected.one("not_text", file=path.name) from error
    if raw[:4] == b"PK\x03\x04":
        return raw, "xlsx"
    return raw, "csv"


def _text_lines(head: bytes, path: Path) -> list[str]:
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise FileRejected.one("empty_file", file=path.name)
    if b"\x00" in head or head.startswith(b"\x89PNG") or head.startswith(b"%PDF"):
        raise FileRejected.one("not_text", file=path.name)
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        text = decoder.decode(head, final=len(head) < _SNIFF_BYTES)
    except UnicodeDecodeError as error:
        line = head[: error.start].count(b"\n") + 1
        raise FileRejected.one("not_utf8", file=path.name, line=line) from error
    return text.splitlines()


def _split_header(line: str, path: Path, delimiter: str | None = None) -> tuple[list[str], str]:
    """The header's names and the separator (comma or semicolon, whichever splits more, unless
    a mapping names it)."""
    best: tuple[list[str], str] = ([line], delimiter or ",")
    for candidate in (delimiter,) if delimiter else (",", ";"):
        names = next(csv.reader([line], delimiter=candidate))
        if len(names) > len(best[0]):
            best = (names, candidate)
    if len(best[0]) == 1 and "\t" in line:
        raise FileRejected.one("tab_separated", file=path.name)
    return [name.strip() for name in best[0]], best[1]


def read_xlsx(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_excel(path, sheet_name=0, header=None, dtype=str, engine="calamine")
    except Exception as error:  # a broken or foreign zip: one sentence, not a traceback
        raise FileRejected.one("bad_xlsx", file=path.name) from error
    filled = frame.notna().any(axis=1)
    # Only trailing empty rows go: an empty row inside keeps the sheet's row numbers right.
    return frame.iloc[: filled[filled].index.max() + 1] if filled.any() else frame.iloc[:0]


def open_source(path: Path, file_name: str, delimiter: str | None = None) -> Source:
    """The file at `path` opened for reading; `delimiter` (a mapping's) overrides the sniffing."""
    if not path.is_file():
        raise KinerjaError("ingest.no_file", file=str(path))
    head, form = _head_bytes(path)
    if form == "xlsx":
        frame = read_xlsx(path)
        if frame.empty:
            raise FileRejected.one("empty_file", file=file_name)
        header = ["" if pd.isna(v) else str(v).strip() for v in frame.iloc[0]]
        while header and not header[-1]:
            header.pop()
        body = frame.iloc[1:, : len(header)].reset_index(drop=True)
        body.columns = [f"c{i}" for i in range(len(header))]
        return Source(path, file_name, form, header=header, frame=body)
    lines = _text_lines(head, path)
    header_line = next((line for line in lines if line.strip()), "")
    header, delimiter = _split_header(header_line, path, delimiter)
    return Source(path, file_name, form, delimiter=delimiter, header=header)


def read_columns(path: str | Path) -> list[str]:
    """The column names of a CSV/CSV.gz/XLSX file's header, trimmed (BOM and separator handled)."""
    path = Path(path)
    return open_source(path, path.name).header


def open_binary(source: Source) -> gzip.GzipFile | io.BufferedReader:
    """The file's bytes, decompressed when it is gzip."""
    return gzip.open(source.path, "rb") if source.form == "gzip" else source.path.open("rb")


def check_utf8(source: Source) -> None:
    """Reject a file with bytes that are not UTF-8, naming the first such line."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open_binary(source) as handle:
        while chunk := handle.read(1 << 22):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                raise FileRejected.one("not_utf8", file=source.file_name,
                              line=line + chunk[: max(error.start, 0)].count(b"\n")) from error
            line += chunk.count(b"\n")
