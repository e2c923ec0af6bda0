"""Download buttons for any table the dashboard shows: CSV and Excel, formula-safe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from kpi.exports import to_csv_bytes, to_xlsx_bytes
from kpi.i18n import t


def table_downloads(frame: pd.DataFrame | Callable[[], pd.DataFrame], name: str, lang: str, *,
                    key: str | None = None) -> None:
    """Two buttons under a table: CSV and Excel of `frame` (or of what `frame()` returns, built
    only when a file is asked for), named `name`.csv/.xlsx."""
    key = key or name
    # A horizontal container sizes the buttons to their labels (fixed-ratio columns cut them
    # to "C…" on a tablet).
    row = st.container(horizontal=True)
    # The files are written when a button is clicked (Streamlit calls the function then), not
    # on every rerun: an Excel file of a large table costs a tenth of a second or more.
    def table() -> pd.DataFrame:
        return frame() if callable(frame) else frame

    row.download_button(t("download.csv", lang), lambda: to_csv_bytes(table()),
                        file_name=f"{name}.csv",
                        mime="text/csv", key=f"dl-csv-{key}", icon=":material/download:",
                        on_click="ignore")
    row.download_button(t("download.xlsx", lang), lambda: to_xlsx_bytes({name: table()}),
                        file_name=f"{name}.xlsx", key=f"dl-xlsx-{key}",
                        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        icon=":material/table_view:", on_click="ignore")


def table_with_downloads(frame: pd.DataFrame, formats: dict, name: str, lang: str, *,
                         key: str | None = None,
                         whole: Callable[[], pd.DataFrame] | None = None,
                         **dataframe_args: Any) -> None:
    """Show `frame` with the columns named in `formats` turned into text by their function
    (numbers in the language's format), and offer the table itself as CSV/Excel, so that the
    files keep numbers a spreadsheet can compute with. `whole`: when `frame` holds only the
    rows shown, the function that builds the whole table for the files (called only when a
    file is asked for: tens of thousands of comments are not built on every rerun)."""
    shown = frame.assign(**{column: frame[column].map(format_value)
                            for column, format_value in formats.items()})
    st.dataframe(shown, hide_index=True, width="stretch", **dataframe_args)
    table_downloads(frame if whole is None else whole, name, lang, key=key)
