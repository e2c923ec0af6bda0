"""How the data pages report a validation: counts, then every problem in the reader's language.

Shared by the Upload page (a file's lines) and the Targets & standards page (the editor's rows).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi.i18n import fmt_int, t
from kpi.ingest import IngestResult
from ui.downloads import table_downloads

WRAPPED_ROWS = 30  # up to this many problems show as a static table with wrapped text


def problems_frame(problems: list, lang: str, *, where_key: str = "upload.col_line") -> pd.DataFrame:
    """line (or row), column, value, reason of every problem, headers and reasons in `lang`."""
    frame = pd.DataFrame(
        [(p.line if p.line is not None else "", p.column or "", p.value or "", p.message(lang))
         for p in problems],
        columns=[t(where_key, lang), t("upload.col_column", lang), t("upload.col_value", lang),
                 t("upload.col_reason", lang)])
    return frame


def show_problems(problems: list, lang: str, *, name: str, key: str,
                  where_key: str = "upload.col_line") -> None:
    """An error line with the count, the table of problems and its downloads."""
    st.error(t("upload.problems_found", lang, count=fmt_int(len(problems), lang)),
             icon=":material/block:")
    frame = problems_frame(problems, lang, where_key=where_key)
    if len(frame) <= WRAPPED_ROWS:  # a static table wraps long reasons instead of cutting them
        st.table(frame, hide_index=True)
    else:
        st.dataframe(frame, hide_index=True, width="stretch", column_config={
            frame.columns[0]: st.column_config.NumberColumn(width="small", format="%d"),
            frame.columns[3]: st.column_config.TextColumn(width="large")})
    table_downloads(frame, name, lang, key=key)


def show_counts(result: IngestResult, lang: str, *, committed: bool = False) -> None:
    """Rows in the file and what they (would) do: inserted, replaced, problems."""
    columns = st.columns(4)
    columns[0].metric(t("upload.count_rows", lang), fmt_int(result.rows, lang))
    if not result.ok:  # a rejected file writes nothing: only its problems count
        columns[1].metric(t("upload.count_problems", lang), fmt_int(len(result.problems), lang))
        return
    inserted_key = "upload.count_inserted" if committed else "upload.count_to_insert"
    replaced_key = "upload.count_replaced" if committed else "upload.count_to_replace"
    columns[1].metric(t(inserted_key, lang), fmt_int(result.inserted, lang))
    columns[2].metric(t(replaced_key, lang), fmt_int(result.replaced, lang))
