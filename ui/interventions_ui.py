"""Interventions on the Unit page: the "re-baseline at changes" switch, and for those who may
write, a small form to record a change and a list to correct a title or remove one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import streamlit as st

from kpi import interventions, labels
from kpi.errors import KinerjaError
from kpi.i18n import fmt_date
from kpi.vocabulary import KPIS
from ui.data import forget_version, load
from ui.guard import PageContext
from ui.inputs import DATE_FORMAT

WRITER_ROLES = ("analyst", "reviewer", "admin")  # viewers record nothing
ALL_KPIS = ""  # the form's choice "every KPI of the unit"


def unit_changes(unit: str) -> list[dict]:
    """The unit's own interventions, oldest first (cached until the next write)."""
    return load(interventions.list_interventions, unit=unit)


def rebase_switch(ctx: PageContext, changes: list[dict], kpi: str) -> tuple[dt.date, ...]:
    """The switch "re-baseline at changes" (on by default when a change of this KPI asks for
    it); the rebase dates to apply (none when off, or when no change asks for it)."""
    dates = interventions.rebase_dates_of(changes, kpi)
    if not dates:
        return ()
    on = st.toggle(ctx.t("intervention.rebase_switch"), value=True, key="unit-rebase",
                   help=ctx.t("intervention.rebase_help"))
    return dates if on else ()


def _write(ctx: PageContext, action: Callable[..., object], *args: Any, done: str,
           **kwargs: Any) -> None:
    try:
        action(ctx.store, *args, by=ctx.user, **kwargs)
    except KinerjaError as error:
        st.session_state["intervention-error"] = error.localized(ctx.lang)
        return
    forget_version()
    st.session_state["intervention-done"] = done


def manage_changes(ctx: PageContext, unit: str, unit_name: str, changes: list[dict]) -> None:
    """The unit's changes as a list; for writers a form to record one and the controls to
    correct a title or remove one."""
    may_write = ctx.role in WRITER_ROLES
    with st.expander(ctx.t("intervention.section", unit=unit_name,
                           count=len(changes)), expanded=False):
        if message := st.session_state.pop("intervention-error", None):
            st.error(message, icon=":material/error:")
        if message := st.session_state.pop("intervention-done", None):
            st.success(message, icon=":material/check_circle:")
        st.caption(ctx.t("intervention.section_caption"))
        if changes:
            st.dataframe([{
                ctx.t("intervention.col_date"): fmt_date(dt.date.fromisoformat(c["date"]),
                                                         ctx.lang),
                ctx.t("intervention.col_title"): c["title"],
                ctx.t("intervention.col_kpi"): labels.kpi_name(c["kpi"], ctx.lang) if c["kpi"]
                else ctx.t("intervention.all_kpis"),
                ctx.t("intervention.col_rebase"): ctx.t("intervention.yes") if c["rebase"]
                else ctx.t("intervention.no"),
                ctx.t("intervention.col_by"): c["recorded_by"],
            } for c in changes], hide_index=True, width="stretch", key=f"changes-{unit}")
        else:
            st.write(ctx.t("intervention.none"))
        if not may_write:
            return
        _add_form(ctx, unit)
        if changes:
            _edit_controls(ctx, changes)


def _add_form(ctx: PageContext, unit: str) -> None:
    with st.form("intervention-add", clear_on_submit=True, border=True):
        st.markdown(f"**{ctx.t('intervention.add_heading')}**")
        left, right = st.columns(2)
        day = left.date_input(ctx.t("intervention.date"), value=None, format=DATE_FORMAT,
                              key="intervention-date")
        kpi = right.selectbox(ctx.t("intervention.kpi"), [ALL_KPIS, *KPIS],
                              format_func=lambda name: labels.kpi_name(name, ctx.lang) if name
                              else ctx.t("intervention.all_kpis"), key="intervention-kpi")
        title = st.text_input(ctx.t("intervention.title"), max_chars=interventions.TITLE_MAX,
                              key="intervention-title",
                              placeholder=ctx.t("intervention.title_placeholder"))
        rebase = st.checkbox(ctx.t("intervention.rebase"), key="intervention-rebase",
                             help=ctx.t("intervention.rebase_help"))
        if st.form_submit_button(ctx.t("intervention.add"), type="primary"):
            if day is None:
                st.session_state["intervention-error"] = ctx.t("intervention.error_no_date")
            else:
                _write(ctx, interventions.add, unit_code=unit, date=day, title=title,
                       kpi=kpi or None, rebase=rebase, done=ctx.t("intervention.added"))
            st.rerun()


def _edit_controls(ctx: PageContext, changes: list[dict]) -> None:
    by_id = {c["intervention_id"]: c for c in changes}
    chosen = st.selectbox(
        ctx.t("intervention.choose"), list(by_id), key="intervention-chosen",
        format_func=lambda key: f"{fmt_date(dt.date.fromisoformat(by_id[key]['date']), ctx.lang)}"
                                f" · {by_id[key]['title']}")
    if chosen is None:
        return
    with st.form("intervention-edit", border=False):
        title = st.text_input(ctx.t("intervention.new_title"), value=by_id[chosen]["title"],
                              max_chars=interventions.TITLE_MAX,
                              key=f"intervention-edit-{chosen}")
        save, remove = st.columns(2)
        if save.form_submit_button(ctx.t("intervention.save_title")):
            _write(ctx, interventions.edit_title, chosen, title,
                   done=ctx.t("intervention.title_saved"))
            st.rerun()
        if remove.form_submit_button(ctx.t("intervention.remove")):
            _write(ctx, interventions.remove, chosen, done=ctx.t("intervention.removed"))
            st.rerun()
