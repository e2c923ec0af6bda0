"""The rows set aside by "import the valid rows", shown on Import history and Data quality."""

from __future__ import annotations

import streamlit as st

from kpi import set_aside
from kpi.i18n import fmt_int
from ui.data import load


def show_set_aside(ctx) -> None:
    """Each batch's rows still set aside: how many, why, and the file to fix (in the source's
    delimiter and line endings). Nothing when none waits."""
    listing = load(set_aside.listing, lang=ctx.lang)
    if listing.empty:
        return
    st.subheader(ctx.t("setaside.title"), anchor=False)
    for batch_id, rows in listing.groupby("batch_id", sort=True):
        st.warning(ctx.t("setaside.count", count=fmt_int(len(rows), ctx.lang),
                         batch=int(batch_id), file=rows["file_name"].iloc[0]),
                   icon=":material/playlist_remove:")
        st.dataframe(rows[["line", "reason"]].rename(columns={
            "line": ctx.t("upload.col_line"), "reason": ctx.t("upload.col_reason")}),
            hide_index=True, width="stretch")
        content, _ = set_aside.rows_file(ctx.store, int(batch_id), ctx.lang)
        st.download_button(ctx.t("setaside.download"), content,
                           file_name=f"set-aside-batch-{int(batch_id)}.csv", mime="text/csv",
                           key=f"set_aside_{ctx.lang}_{int(batch_id)}", on_click="ignore",
                           icon=":material/download:")
