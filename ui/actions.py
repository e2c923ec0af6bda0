"""The management review's open actions of one unit, for the Unit page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi import pack, review
from ui.data import load
from ui.guard import PageContext


def show_open_actions(ctx: PageContext, unit: str) -> None:
    """A section listing the unit's actions that are neither done nor dropped (overdue first),
    with what, who, due date, status and the latest comment."""
    actions = load(review.list_actions, unit=unit, open_only=True)
    st.subheader(ctx.t("action.open_actions"))
    st.caption(ctx.t("action.open_actions_caption"))
    if not actions:
        st.write(ctx.t("action.no_open_actions"))
        return
    shown = [pack.action_view(action, ctx.lang) for action in actions]
    st.dataframe(pd.DataFrame([{
        ctx.t("pack.col_id"): a["id"], ctx.t("pack.col_action"): a["title"],
        ctx.t("pack.col_responsible"): a["responsible"], ctx.t("pack.col_due"): a["due"],
        ctx.t("pack.col_kpi"): a["kpi"],
        ctx.t("action.status"): a["status_full"],
        ctx.t("action.raised"): a["raised"], ctx.t("action.last_comment"): a["last_comment"],
    } for a in shown]), hide_index=True, width="stretch", key=f"open-actions-{unit}")
