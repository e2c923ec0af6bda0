"""Targets & standards: edit the targets and each service's standard minutes, set one target for
every unit of a type, and see which target applies to every unit and KPI on a day.

Saving goes through kpi.editor, which validates like an upload and writes one batch that Import
history can undo.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi import config, editor, targets
from kpi.i18n import fmt_date, fmt_int, fmt_number, fmt_plain_number
from kpi.labels import format_value, kpi_name
from kpi.vocabulary import CITY, KPIS
from ui.data import forget_version, load
from ui.downloads import table_downloads
from ui.filters import unit_type_label, visible_tree
from ui.guard import guard
from ui.inputs import (
    DATE_FORMAT,
    number_field,
    numbers_as_text,
    numbers_from_text,
    read_number,
    show_bad_numbers,
)
from ui.problems import show_problems

ctx = guard("targets")
# Numbers are edited as text in the reader's language (ui/inputs.py), dates as DD/MM/YYYY.
TARGET_NUMBERS = ["target", "amber_pct"]
SERVICE_NUMBERS = ["standard_minutes"]


def editor_key(name: str) -> str:
    """The data editor's widget key; a new one after each save so old edits do not linger."""
    return f"{name}_{st.session_state.get(f'{name}_generation', 0)}"


def unit_code_label(code: str) -> str:
    return ctx.t("targetspage.all_units") if code == CITY else code


# Read once per run: the pickers label every unit with it (1,353 in a province).
unit_names = load(editor.unit_names)
# A city user (a unit scope) edits and sees the targets and standards of their units alone,
# not the city-wide `*` rows they may not change (kpi/scope.py refuses those writes).
visible = set(visible_tree(ctx)["unit_code"]) if ctx.units else None
whole = [] if ctx.units else [CITY]


def only_visible(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame`'s rows of the units this visitor sees, renumbered from 1 (the editor's row
    numbers, which its problems name); every row for everyone else."""
    if visible is None:
        return frame
    rows = frame[frame["unit_code"].isin(visible)].reset_index(drop=True)
    rows.index = pd.RangeIndex(1, len(rows) + 1)
    return rows


def unit_label(code: str) -> str:
    """`*` in words, a unit as its code and name."""
    if code == CITY:
        return unit_code_label(code)
    name = unit_names.get(code)
    return ctx.t("targetspage.unit_label", code=code, name=name) if name else code


def row_number_column():
    """The grid's index: the editor's row numbers, the ones its problems name."""
    return st.column_config.NumberColumn(ctx.t("targetspage.col_row"),
                                         help=ctx.t("targetspage.col_row_help"), width="small")


def number_column(label: str, **options):
    """A grid column of numbers typed as the language writes them (read back on Save)."""
    return st.column_config.TextColumn(label, **options)


def read_grid(edited: pd.DataFrame, columns: list[str], names: dict[str, str]):
    """The edited grid with its number columns read back, or None (and a warning naming every
    cell) when a cell is not a number in the reader's language."""
    read, bad = numbers_from_text(edited, columns, ctx.lang)
    if bad:
        show_bad_numbers(bad, ctx.lang, names)
        return None
    return read


def report(result, name: str) -> None:
    """After Save: nothing changed, the problems (by editor row), or the saved batch."""
    if result is None:
        st.info(ctx.t("targetspage.no_changes"), icon=":material/info:")
    elif not result.ok:
        show_problems(result.problems, ctx.lang, name=f"{name}-problems", key=f"{name}-problems",
                      where_key="upload.col_row")
    else:
        st.session_state[f"{name}_generation"] = st.session_state.get(f"{name}_generation", 0) + 1
        st.session_state["targets_message"] = ctx.t(
            "targetspage.saved", batch=result.batch_id, inserted=fmt_int(result.inserted, ctx.lang),
            replaced=fmt_int(result.replaced, ctx.lang))
        forget_version()
        st.rerun()


def targets_tab() -> None:
    original = only_visible(load(editor.targets_table))
    units = [code for code in load(editor.unit_codes) if visible is None or code in visible]
    st.caption(ctx.t("targetspage.targets_help"))
    edited = st.data_editor(
        numbers_as_text(original, TARGET_NUMBERS, ctx.lang), key=editor_key("targets_editor"),
        num_rows="add", hide_index=False,
        width="stretch", placeholder="",
        column_config={
            "_index": row_number_column(),
            "unit_code": st.column_config.SelectboxColumn(
                ctx.t("targetspage.col_unit"), options=[*whole, *units], required=True,
                format_func=unit_label, help=ctx.t("targetspage.col_unit_help"), width="medium"),
            "kpi": st.column_config.SelectboxColumn(
                ctx.t("targetspage.col_kpi"), options=list(KPIS), required=True,
                format_func=lambda kpi: kpi_name(kpi, ctx.lang), width="medium"),
            "target": number_column(ctx.t("targetspage.col_target"), required=True),
            "valid_from": st.column_config.DateColumn(ctx.t("targetspage.col_valid_from"),
                                                      required=True, format=DATE_FORMAT),
            "valid_to": st.column_config.DateColumn(ctx.t("targetspage.col_valid_to"),
                                                    format=DATE_FORMAT,
                                                    help=ctx.t("targetspage.col_valid_to_help")),
            "amber_pct": number_column(
                ctx.t("targetspage.col_amber"), default=fmt_plain_number(10.0, ctx.lang),
                help=ctx.t("targetspage.col_amber_help")),
        })
    if st.button(ctx.t("targetspage.save_targets"), key="targets_save", type="primary",
                 icon=":material/save:"):
        read = read_grid(edited, TARGET_NUMBERS, {
            "target": ctx.t("targetspage.col_target"), "amber_pct": ctx.t("targetspage.col_amber")})
        if read is not None:
            report(editor.save_targets(ctx.store, original, read, by=ctx.user), "targets")

    change_form(original, units)
    st.subheader(ctx.t("targetspage.bulk_title"), anchor=False)
    st.caption(ctx.t("targetspage.bulk_help"))
    types = load(editor.unit_types)
    with st.form("targets_bulk", border=True):
        first, second, third = st.columns(3)
        unit_type = first.selectbox(ctx.t("targetspage.bulk_type"), types, key="bulk_type",
                                    format_func=lambda code: unit_type_label(code, ctx.lang))
        kpi = second.selectbox(ctx.t("targetspage.col_kpi"), list(KPIS), key="bulk_kpi",
                               format_func=lambda name: kpi_name(name, ctx.lang))
        value_text = number_field(third, ctx.t("targetspage.col_target"), key="bulk_target",
                                  lang=ctx.lang)
        first, second, third = st.columns(3)
        valid_from = first.date_input(ctx.t("targetspage.col_valid_from"), key="bulk_from",
                                      value=config.local_today().replace(day=1), format=DATE_FORMAT)
        valid_to = second.date_input(ctx.t("targetspage.col_valid_to"), key="bulk_to",
                                     value=None, format=DATE_FORMAT,
                                     help=ctx.t("targetspage.col_valid_to_help"))
        amber_text = number_field(third, ctx.t("targetspage.col_amber"), value=10.0,
                                  key="bulk_amber", lang=ctx.lang)
        if st.form_submit_button(ctx.t("targetspage.bulk_apply"), icon=":material/done_all:"):
            value, value_problem = read_number(value_text, ctx.lang)
            amber, amber_problem = read_number(amber_text, ctx.lang)
            if unit_type is None:
                st.warning(ctx.t("targetspage.bulk_no_type"))
            elif value_problem or amber_problem:
                st.warning(value_problem or amber_problem)
            elif value is None or amber is None:
                st.warning(ctx.t("targetspage.change_incomplete"))
            else:
                bulk = only_visible(editor.with_bulk_target(
                    ctx.store, original, unit_type=unit_type, kpi=kpi, target=value,
                    valid_from=valid_from, valid_to=valid_to, amber_pct=amber))
                report(editor.save_targets(ctx.store, original, bulk, by=ctx.user), "targets")


def change_form(original: pd.DataFrame, units: list[str]) -> None:
    """One step to change a target from a date: the row in force then ends the day before."""
    st.subheader(ctx.t("targetspage.change_title"), anchor=False)
    st.caption(ctx.t("targetspage.change_help"))
    with st.form("targets_change", border=True):
        first, second = st.columns(2)
        unit = first.selectbox(ctx.t("targetspage.col_unit"), [*whole, *units], key="change_unit",
                               format_func=unit_label)
        kpi = second.selectbox(ctx.t("targetspage.col_kpi"), list(KPIS), key="change_kpi",
                               format_func=lambda name: kpi_name(name, ctx.lang))
        first, second, third = st.columns(3)
        value_text = number_field(first, ctx.t("targetspage.col_target"), key="change_target",
                                  lang=ctx.lang)
        valid_from = second.date_input(ctx.t("targetspage.change_from"), key="change_from",
                                       value=config.local_today(), format=DATE_FORMAT)
        amber_text = number_field(third, ctx.t("targetspage.col_amber"), key="change_amber",
                                  lang=ctx.lang, placeholder=ctx.t("targetspage.change_amber_same"))
        if st.form_submit_button(ctx.t("targetspage.change_apply"), icon=":material/event:"):
            value, value_problem = read_number(value_text, ctx.lang)
            amber, amber_problem = read_number(amber_text, ctx.lang)
            if value_problem or amber_problem:
                st.warning(value_problem or amber_problem)
            elif value is None or valid_from is None:
                st.warning(ctx.t("targetspage.change_incomplete"))
            else:
                changed = editor.with_target_change(original, unit=unit, kpi=kpi, target=value,
                                                    valid_from=valid_from, amber_pct=amber)
                report(editor.save_targets(ctx.store, original, changed, by=ctx.user), "targets")


def standards_tab() -> None:
    original = only_visible(load(editor.services_table))
    units = sorted(set(original["unit_code"]))
    st.caption(ctx.t("targetspage.standards_help"))
    if original.empty:
        st.info(ctx.t("targetspage.no_services"))
        return
    edited = st.data_editor(
        numbers_as_text(original, SERVICE_NUMBERS, ctx.lang), key=editor_key("services_editor"),
        num_rows="fixed", hide_index=False,
        width="stretch", disabled=["unit_code", "service_code"], placeholder="",
        column_config={
            "_index": row_number_column(),
            "unit_code": st.column_config.SelectboxColumn(
                ctx.t("targetspage.col_unit"), options=units, format_func=unit_label),
            "service_code": st.column_config.TextColumn(ctx.t("targetspage.col_service")),
            "name": st.column_config.TextColumn(ctx.t("targetspage.col_service_name"),
                                                required=True, width="large"),
            "standard_minutes": number_column(
                ctx.t("targetspage.col_standard"), help=ctx.t("targetspage.col_standard_help")),
        })
    if st.button(ctx.t("targetspage.save_standards"), key="services_save", type="primary",
                 icon=":material/save:"):
        read = read_grid(edited, SERVICE_NUMBERS,
                         {"standard_minutes": ctx.t("targetspage.col_standard")})
        if read is not None:
            report(editor.save_services(ctx.store, original, read, by=ctx.user), "services")


def in_force_tab() -> None:
    day = st.date_input(ctx.t("targetspage.in_force_day"), value=config.local_today(),
                        key="in_force_day", format=DATE_FORMAT)
    st.caption(ctx.t("targetspage.in_force_help", day=fmt_date(day, ctx.lang)))
    frame = load(targets.targets_in_force, day=day)
    if visible is not None:
        frame = frame[frame["unit_code"].isin(visible)]
    if frame.empty:
        st.info(ctx.t("targetspage.in_force_none"))
        return
    names = unit_names
    shown = pd.DataFrame({
        ctx.t("targetspage.col_unit"): [unit_code_label(code) for code in frame["unit_code"]],
        ctx.t("targetspage.col_unit_name"): [names.get(code, "") for code in frame["unit_code"]],
        ctx.t("targetspage.col_kpi"): [kpi_name(kpi, ctx.lang) for kpi in frame["kpi"]],
        ctx.t("targetspage.col_target"): [format_value(kpi, value, ctx.lang)
                                           for kpi, value in zip(frame["kpi"], frame["target"],
                                                                 strict=True)],
        ctx.t("targetspage.col_amber"): [fmt_number(value, ctx.lang, 1) for value in frame["amber_pct"]],
        ctx.t("targetspage.col_valid_from"): [fmt_date(value, ctx.lang) for value in frame["valid_from"]],
        ctx.t("targetspage.col_valid_to"): [fmt_date(value, ctx.lang) if value else
                                             ctx.t("targetspage.open_ended")
                                             for value in frame["valid_to"]],
        ctx.t("targetspage.col_source"): [
            ctx.t("targetspage.source_city") if source == CITY else ctx.t("targetspage.source_own")
            for source in frame["source_unit"]],
    })
    st.dataframe(shown, hide_index=True, width="stretch")
    # The files hold numbers and dates (a targets file that imports back), not the text shown.
    table_downloads(targets.in_force_file(frame), f"targets-in-force-{day.isoformat()}",
                    ctx.lang, key="in-force")


st.title(ctx.t("targetspage.title"))
st.write(ctx.t("targetspage.intro"))
message = st.session_state.pop("targets_message", None)
if message:
    st.success(message, icon=":material/task_alt:")
tab_targets, tab_standards, tab_in_force = st.tabs([
    ctx.t("targetspage.tab_targets"), ctx.t("targetspage.tab_standards"),
    ctx.t("targetspage.tab_in_force")])
with tab_targets:
    targets_tab()
with tab_standards:
    standards_tab()
with tab_in_force:
    in_force_tab()
