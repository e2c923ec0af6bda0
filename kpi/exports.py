"""Tables as files people open in a spreadsheet: CSV and Excel, safe from formula injection.

A cell that starts with `=`, `+`, `-` or `@` (or a tab/carriage return) would be evaluated by
Excel or LibreOffice; such text cells are prefixed with an apostrophe, the OWASP advice. Numbers
are left as numbers.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> object:
    """`value`, with text that a spreadsheet would evaluate made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and headers cannot be evaluated as formulas."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(escape_cell)
    safe.columns = [escape_cell(str(column)) for column in safe.columns]
    return safe


def to_csv_bytes(frame: pd.DataFrame, *, delimiter: str = ",", line_ending: str = "\n") -> bytes:
    """UTF-8 CSV with a BOM (so Excel reads Indonesian text right), formula-safe."""
    return spreadsheet_safe(frame).to_csv(index=False, sep=delimiter,
                                          lineterminator=line_ending).encode("utf-8-sig")


def to_xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook with one formatted sheet per frame: bold frozen header, filter, widths."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        header_format = writer.book.add_format(
            {"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True, "valign": "top"}
        )
        for name, frame in sheets.items():
            sheet_name = name[:31]
            safe = spreadsheet_safe(frame)
            safe.to_excel(writer, sheet_name=sheet_name, index=False)
            sheet = writer.sheets[sheet_name]
            for col, header in enumerate(safe.columns):
                sheet.write(0, col, header, header_format)
                width = max([len(str(header))] + [len(str(v)) for v in safe.iloc[:200, col]])
                sheet.set_column(col, col, min(max(width + 2, 8), 60))
            sheet.freeze_panes(1, 0)
            if len(safe.columns):
                sheet.autofilter(0, 0, max(len(safe), 1), len(safe.columns) - 1)
    return buffer.getvalue()
