"""The rows set aside by "import the valid rows", shown on Import history and Data quality,
where an analyst may dismiss the rows no import will resolve (issue 22)."""

from __future__ import annotations

import streamlit as st

from kpi import set_aside
from kpi.errors import KinerjaError
from kpi.i18n import fmt_int
from ui.data import forget_version, load
from ui.guard import PageContext

DONE_MESSAGE = "set_aside_dismissed"  # session key of the message shown after the rerun


def show_set_aside(ctx: PageContext) -> None:
    """Each batch's rows still set aside: how many, why, the file to fix (in the source's
    delimiter and line endings), and the form that dismisses some of them. Nothing when none
    waits."""
    done = st.session_state.pop(DONE_MESSAGE, None)
    if done:
        st.success(done, icon=":material/task_alt:")
    listing = load(set_aside.listing, lang=ctx.lang)
    if listing.empty:
        return
    st.subheader(ctx.t("setaside.title"), anchor=False)
    for batch_id, rows in listing.groupby("batch_id", sort=True):
        batch = int(batch_id)
        st.warning(ctx.t("setaside.count", count=fmt_int(len(rows), ctx.lang),
                         batch=batch, file=rows["file_name"].iloc[0]),
                   icon=":material/playlist_remove:")
        st.dataframe(rows[["line", "unit_code", "reason"]].rename(columns={
            "line": ctx.t("upload.col_line"), "unit_code": ctx.t("targetspage.col_unit"),
            "reason": ctx.t("upload.col_reason")}),
            hide_index=True, width="stretch")
        content, _ = set_aside.rows_file(ctx.store, batch, ctx.lang)
        st.download_button(ctx.t("setaside.download"), content,
                           file_name=f"set-aside-batch-{batch}.csv", mime="text/csv",
                           key=f"set_aside_{ctx.lang}_{batch}", on_click="ignore",
                           icon=":material/download:")
        dismiss_form(ctx, batch, [int(line) for line in rows["line"]])


def dismiss_form(ctx: PageContext, batch: int, lines: list[int]) -> None:
    """Pick lines of `batch` and dismiss them (the engine checks the person's unit scope)."""
    with st.form(f"set_aside_dismiss_{batch}", border=False):
        chosen = st.multiselect(ctx.t("setasidedismiss.pick"), lines,
                                key=f"set_aside_lines_{batch}",
                                placeholder=ctx.t("setasidedismiss.placeholder"),
                                help=ctx.t("setasidedismiss.pick_help"))
        if not st.form_submit_button(ctx.t("setasidedismiss.button"),
                                     icon=":material/playlist_add_check:"):
            return
    if not chosen:
        return
    try:
        count = set_aside.dismiss(ctx.store, batch, chosen, by=ctx.user)
    except KinerjaError as error:
        st.error(error.localized(ctx.lang), icon=":material/block:")
        return
    st.session_state[DONE_MESSAGE] = ctx.t("setasidedismiss.done",
                                           count=fmt_int(count, ctx.lang), batch=batch)
    forget_version()
    st.rerun()
