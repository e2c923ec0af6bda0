"""The public SKM form's sections on the dashboard's pages (issue 24): the IKM by the visit's
service time on the Satisfaction page."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from kpi import skm_visits
from kpi.i18n import fmt_int, fmt_number
from ui.charts_ui import file_name
from ui.data import load
from ui.downloads import table_with_downloads
from ui.guard import PageContext


def visit_section(ctx: PageContext, *, unit: str, date_from: dt.date,
                  date_to: dt.date) -> None:
    """IKM and u3 of the responses whose visit was within its service standard, against those
    over it (responses with a queue ticket that matches a completed visit)."""
    st.subheader(ctx.t("posters.visit_title"))
    st.caption(ctx.t("posters.visit_caption"))
    rows = load(skm_visits.ikm_by_visit_standard, unit=unit, date_from=date_from,
                date_to=date_to)
    if not rows:
        st.info(ctx.t("posters.visit_none"))
        return
    columns = {key: ctx.t(f"posters.col_{key}") for key in ("group", "n", "ikm", "u3")}
    frame = pd.DataFrame({
        columns["group"]: [ctx.t(f"posters.visit_{row['group']}") for row in rows],
        columns["n"]: [row["n"] for row in rows],
        columns["ikm"]: [row["ikm_rounded"] for row in rows],
        ctx.t("skmpage.col_grade"): [row["grade"] for row in rows],
        columns["u3"]: [row["nrr_u3"] for row in rows],
    })
    table_with_downloads(frame, {columns["n"]: lambda n: fmt_int(n, ctx.lang),
                                 columns["ikm"]: lambda v: fmt_number(v, ctx.lang, 2),
                                 columns["u3"]: lambda v: fmt_number(v, ctx.lang, 2)},
                         file_name("ikm-by-visit", unit, date_from), ctx.lang,
                         key="skm-visit-standard")
