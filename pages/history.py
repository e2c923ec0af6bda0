"""Import history: every batch that was loaded, and undoing one (with a confirmation)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi.errors import KinerjaError
from kpi.i18n import fmt_date, fmt_int
from kpi.ingest import list_batches, rollback
from ui.data import forget_version, load
from ui.downloads import table_downloads
from ui.guard import guard
from ui.set_aside_ui import show_set_aside
from ui.text import md

ctx = guard("history")
STATUS_SYMBOLS = {"committed": "✓", "rolled_back": "↩"}


def when(value) -> str:
    """A load time as the reader's language writes it (`16 Nov 2026 07:45`)."""
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    return f"{fmt_date(stamp.date(), ctx.lang)} {stamp:%H:%M}"


def status_text(row: dict) -> str:
    """Symbol and word, never colour alone: `✓ Committed`, `↩ Rolled back 17 Nov 2026 09:12`."""
    status = row["status"]
    word = ctx.t(f"history.status_{status}") if status in STATUS_SYMBOLS else status
    text = f"{STATUS_SYMBOLS.get(status, '•')} {word}"
    if status == "rolled_back" and row.get("rolled_back_at") is not None:
        text += f" {when(row['rolled_back_at'])}"
    return text


def display_frame(batches: pd.DataFrame) -> pd.DataFrame:
    """The batches newest first, headers and values in the reader's language."""
    rows = [{
        ctx.t("history.col_batch"): int(row["batch_id"]),
        ctx.t("history.col_kind"): ctx.t(f"upload.kind_{row['kind']}"),
        ctx.t("history.col_file"): row["file_name"] or "",
        ctx.t("history.col_loaded_at"): when(row["loaded_at"]),
        ctx.t("history.col_by"): row["loaded_by"] or "",
        ctx.t("history.col_rows"): fmt_int(row["rows_in_file"], ctx.lang),
        ctx.t("history.col_inserted"): fmt_int(row["rows_inserted"], ctx.lang),
        ctx.t("history.col_replaced"): fmt_int(row["rows_replaced"], ctx.lang),
        ctx.t("history.col_status"): status_text(row),
        ctx.t("history.col_checksum"): row["sha256"] or "",
    } for row in batches.sort_values("batch_id", ascending=False).to_dict("records")]
    return pd.DataFrame(rows)


def describe(row: dict) -> str:
    return ctx.t("history.batch_choice", batch=int(row["batch_id"]),
                 kind=ctx.t(f"upload.kind_{row['kind']}"), file=row["file_name"] or "",
                 when=when(row["loaded_at"]))


def confirm_rollback(row: dict) -> None:
    """The second step: say exactly what will be undone, then do it or cancel."""
    batch = int(row["batch_id"])
    st.warning(ctx.t("history.confirm_text", batch=batch,
                     kind=ctx.t(f"upload.kind_{row['kind']}"), file=md(row["file_name"] or ""),
                     when=when(row["loaded_at"]), by=md(row["loaded_by"] or ""),
                     removed=fmt_int(row["rows_in_file"], ctx.lang),
                     restored=fmt_int(row["rows_replaced"], ctx.lang)),
               icon=":material/warning:")
    yes, no, _ = st.columns([2, 1, 3])
    if yes.button(ctx.t("history.confirm_yes", batch=batch), type="primary",
                  key="history_confirm", icon=":material/undo:"):
        st.session_state.pop("history_pending", None)
        try:
            done = rollback(ctx.store, batch, by=ctx.user)
        except KinerjaError as error:
            st.session_state["history_message"] = ("error", error.localized(ctx.lang))
        else:
            st.session_state["history_message"] = ("success", ctx.t(
                "history.rolled_back", batch=batch, removed=fmt_int(done["removed"], ctx.lang),
                restored=fmt_int(done["restored"], ctx.lang)))
            forget_version()
        st.rerun()
    if no.button(ctx.t("history.cancel"), key="history_cancel"):
        st.session_state.pop("history_pending", None)
        st.rerun()


st.title(ctx.t("history.title"))
st.write(ctx.t("history.intro"))

message = st.session_state.pop("history_message", None)
if message:
    kind, text = message
    (st.success if kind == "success" else st.error)(
        text, icon=":material/check_circle:" if kind == "success" else ":material/block:")

batches = load(list_batches)
if batches.empty:
    st.info(ctx.t("history.empty"), icon=":material/history:")
    st.stop()

shown = display_frame(batches)
st.dataframe(shown, hide_index=True, width="stretch", column_config={
    ctx.t("history.col_checksum"): st.column_config.TextColumn(
        width="small", help=ctx.t("history.checksum_help")),
    ctx.t("history.col_batch"): st.column_config.NumberColumn(format="%d", width="small"),
})
table_downloads(shown, "import-history", ctx.lang, key="history")

show_set_aside(ctx)
st.subheader(ctx.t("history.undo_title"), anchor=False)
committed = batches[batches["status"] == "committed"].sort_values("batch_id", ascending=False)
if committed.empty:
    st.caption(ctx.t("history.nothing_to_undo"))
    st.stop()
rows = {int(row["batch_id"]): row for row in committed.to_dict("records")}  # newest first
st.caption(ctx.t("history.undo_help"))


def remember_choice() -> None:
    st.session_state["history_batch_chosen"] = True


# The newest batch is the one offered, also after a new import arrives, unless the person chose
# another that is still there (the widget alone would keep the batch it first showed).
if (not st.session_state.get("history_batch_chosen")
        or st.session_state.get("history_batch") not in rows):
    st.session_state["history_batch"] = next(iter(rows))
    st.session_state["history_batch_chosen"] = False
chosen = st.selectbox(ctx.t("history.undo_choose"), list(rows), key="history_batch",
                      format_func=lambda batch: describe(rows[batch]),
                      on_change=remember_choice)
if st.session_state.get("history_pending") == chosen:
    confirm_rollback(rows[chosen])
elif st.button(ctx.t("history.undo_button"), key="history_undo", icon=":material/undo:"):
    st.session_state["history_pending"] = chosen
    st.rerun()
