"""Audit trail (admin): every write, who made it and when, with filters, downloads and the chain
check."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from kpi import audit
from kpi.errors import KinerjaError
from kpi.i18n import fmt_date
from ui.data import load
from ui.downloads import table_downloads
from ui.guard import guard
from ui.inputs import DATE_FORMAT

ctx = guard("audit")


def when(value) -> str:
    stamp = pd.Timestamp(value)
    return f"{fmt_date(stamp.date(), ctx.lang)} {stamp:%H:%M:%S}"


st.title(ctx.t("auditpage.title"))
st.caption(ctx.t("auditpage.caption"))

try:
    verdict = load(audit.verify)
except KinerjaError as error:  # an unreadable or too short key: one sentence, the trail still shown
    st.error(error.localized(ctx.lang), icon=":material/gpp_bad:")
else:
    if verdict.ok:
        st.success(audit.verdict_sentence(verdict, ctx.lang), icon=":material/verified:")
    else:
        st.error(audit.verdict_sentence(verdict, ctx.lang), icon=":material/gpp_bad:")

left, middle, right = st.columns(3)
since = left.date_input(ctx.t("auditpage.since"), value=None, key="audit_since", format=DATE_FORMAT,
                        max_value=dt.date.today() + dt.timedelta(days=1))
everyone = [None, *load(audit.people)]
who = middle.selectbox(ctx.t("auditpage.who"), everyone, key="audit_who",
                       format_func=lambda name: name or ctx.t("auditpage.everyone"))
every_action = [None, *load(audit.actions)]
action = right.selectbox(ctx.t("auditpage.action"), every_action, key="audit_action",
                         format_func=lambda name: name or ctx.t("auditpage.every_action"))

trail = load(audit.trail, since=since, who=who, action=action)
if trail.empty:
    st.info(ctx.t("auditpage.none"), icon=":material/policy:")
    st.stop()
shown = pd.DataFrame({
    ctx.t("auditpage.col_seq"): trail["seq"].astype(int),
    ctx.t("auditpage.col_at"): [when(value) for value in trail["logged_at"]],
    ctx.t("auditpage.col_who"): trail["who"],
    ctx.t("auditpage.col_action"): trail["action"],
    ctx.t("auditpage.col_object"): trail["object"],
    ctx.t("auditpage.col_details"): trail["details"],
}).iloc[::-1]  # newest first
st.dataframe(shown, hide_index=True, width="stretch", column_config={
    ctx.t("auditpage.col_seq"): st.column_config.NumberColumn(format="%d", width="small")})
table_downloads(shown, "audit-trail", ctx.lang, key="audit")
