"""E-mail log (admin, issue 25): every message tried (who, which message, when, the result),
and every alert found with how many people received it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi import alerts, notify
from kpi.i18n import fmt_date, fmt_int
from kpi.labels import kpi_name
from ui.data import load
from ui.downloads import table_downloads
from ui.guard import guard

ctx = guard("mail_log")
st.title(ctx.t("maillog.title"))
st.caption(ctx.t("maillog.caption"))


def when(value) -> str:
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    return f"{fmt_date(stamp.date(), ctx.lang)} {stamp:%H:%M}"


log = load(notify.delivery_log)
if log.empty:
    st.info(ctx.t("maillog.none"), icon=":material/mail:")
else:
    sent = int((log["result"] == "sent").sum())
    st.markdown(ctx.t("maillog.summary", count=fmt_int(len(log), ctx.lang),
                      sent=fmt_int(sent, ctx.lang), failed=fmt_int(len(log) - sent, ctx.lang)))
    shown = pd.DataFrame({
        ctx.t("maillog.col_when"): [when(value) for value in log["tried_at"]],
        ctx.t("maillog.col_to"): log["email"],
        ctx.t("maillog.col_kind"): [ctx.t(f"maillog.kind_{kind}") for kind in log["kind"]],
        ctx.t("maillog.col_subject"): log["subject"],
        ctx.t("maillog.col_items"): log["items"],
        ctx.t("maillog.col_result"): [ctx.t(f"maillog.result_{result}") for result in log["result"]],
        ctx.t("maillog.col_error"): log["error"].fillna(""),
    })
    st.dataframe(shown, hide_index=True, width="stretch")
    table_downloads(shown, "email-log", ctx.lang, key="mail-log")

st.subheader(ctx.t("maillog.alerts_heading"), anchor=False)
found = load(alerts.alert_log)
if found.empty:
    st.info(ctx.t("maillog.alerts_none"), icon=":material/notifications_off:")
else:
    st.dataframe(pd.DataFrame({
        ctx.t("maillog.col_unit"): found["unit_code"],
        ctx.t("maillog.col_kpi"): [kpi_name(kpi, ctx.lang) for kpi in found["kpi"]],
        ctx.t("maillog.col_week"): [fmt_date(day, ctx.lang) for day in found["week_start"]],
        ctx.t("maillog.col_alert"): [ctx.t(f"alertmail.badge_{kind}") for kind in found["kind"]],
        ctx.t("maillog.col_found"): [when(value) for value in found["found_at"]],
        ctx.t("maillog.col_received"): found["received"],
        ctx.t("maillog.col_state"): [ctx.t("maillog.state_open") if pd.isna(closed)
                                     else ctx.t("maillog.state_closed") for closed
                                     in found["closed_at"]],
    }), hide_index=True, width="stretch")
