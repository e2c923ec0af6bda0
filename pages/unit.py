"""Unit page: one service unit (or the whole city) in depth.

Its KPIs as tiles; since when it is off target; for the chosen KPI a trend against the target as
it was valid over time and an XmR chart with NHS "Making Data Count" readings; its services; when
citizens arrive and how long they wait. The unit is `?unit=CODE` in the URL.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from kpi import charts, interventions, labels, metrics, offtarget, spc, targets
from kpi.i18n import fmt_date, fmt_int, fmt_number
from kpi.vocabulary import CITY, KPIS
from ui.actions import show_open_actions
from ui.charts_ui import built_figure, file_name, show_chart
from ui.data import load
from ui.downloads import table_with_downloads
from ui.filters import (
    date_range_label,
    period_label,
    sidebar_filters,
    synced_choice,
    unit_label,
    unit_type_label,
    visible_tree,
)
from ui.guard import guard
from ui.interventions_ui import manage_changes, rebase_switch, unit_changes
from ui.layout import reflowing_row
from ui.text import md
from ui.tiles import kpi_tiles

DEFAULT_KPI = "service_time_median"
CHART_MIN_REM = 22  # two charts side by side while each is ≥ 352 px wide, else one under another
ARRIVALS_MIN_DAYS = 28  # a weekday × hour grid needs a few weeks to be more than noise

ctx = guard("unit")
filters = sidebar_filters(ctx, unit_filters=False)
if filters is None:
    st.info(ctx.t("filters.no_data"))
    st.stop()

tree = visible_tree(ctx)  # a city user: their city's units, as if the store held no other
codes = [*([] if ctx.units else [CITY]), *tree["unit_code"]]
names = dict(zip(tree["unit_code"], tree["name"], strict=True))
names[CITY] = ctx.t("charts.city")
asked = st.query_params.get("unit")
default_unit = tree["unit_code"].iloc[0] if len(tree) else CITY
with st.sidebar:
    unit = synced_choice("unit", codes, default_unit, widget=st.selectbox,
                         label=ctx.t("unitpage.unit"),
                         format_func=lambda code: names[code] if code == CITY
                         else unit_label(tree, code))
if asked and asked not in codes:
    st.warning(ctx.t("unitpage.unknown_unit", code=asked), icon=":material/help:")

period_name = period_label(filters.period_start, filters.grain, ctx.lang)
unit_name = names.get(unit, unit)

# -- the finding -------------------------------------------------------------------------------
rows = load(metrics.overview, period=filters.grain, period_start=filters.period_start)
rows = rows[rows["unit_code"] == unit].reset_index(drop=True)  # the overview's cached frame
readings = load(offtarget.unit_kpi_history, period=filters.grain,
                period_start=filters.period_start, date_from=filters.date_from, units=[unit])
red = readings[readings["status"] == "red"]
with_target = rows[rows["status"] != "none"]
if len(red):
    st.title(ctx.t("unitpage.title_off", unit=md(unit_name), count=fmt_int(len(red), ctx.lang),
                   total=fmt_int(len(with_target), ctx.lang)))
elif len(with_target):
    st.title(ctx.t("unitpage.title_on", unit=md(unit_name)))
else:
    st.title(md(unit_name))
st.markdown(f"**{period_name}**")

if unit != CITY:
    about = tree[tree["unit_code"] == unit].iloc[0]
    parent = about["parent_code"]
    facts = [md(unit), md(unit_type_label(about["type"], ctx.lang))]
    if parent:
        facts.append(ctx.t("unitpage.part_of", parent=md(names.get(parent, parent))))
    if isinstance(about["district"], str) and about["district"]:
        facts.append(md(about["district"]))
    st.caption(" · ".join(facts))


def reading_line(item: dict) -> str:
    """A markdown bullet for a KPI that is off target or shows a special cause of concern."""
    kpi = item["kpi"]
    value, target = labels.value_and_target(kpi, item["value"], item["target"], ctx.lang)
    concern = item["variation"] == "concern"
    if item["status"] == "red":
        line = ctx.t("unitpage.off_since", kpi=labels.kpi_name(kpi, ctx.lang), value=value,
                     target=target,
                     since=fmt_date(item["red_since"], ctx.lang),
                     periods=fmt_int(item["red_periods"], ctx.lang))
        return "- " + line + (" · " + ctx.t("unitpage.and_concern") if concern else "")
    return "- " + ctx.t("unitpage.concern", kpi=labels.kpi_name(kpi, ctx.lang), value=value)


flagged = pd.concat([red.sort_values("red_periods", ascending=False),
                     readings[(readings["status"] != "red") & (readings["variation"] == "concern")]])
if len(flagged):
    st.markdown("\n".join(reading_line(item) for item in flagged.to_dict("records")))

history = load(metrics.kpi_values, period=filters.grain, date_from=filters.date_from,
               date_to=filters.period_start, units=[unit])
if rows["value"].notna().any():
    kpi_tiles(rows, history, ctx.lang, partial=filters.partial)
else:
    st.info(ctx.t("unitpage.no_values", period=period_name))

# -- one KPI over time: trend against target, and SPC ------------------------------------------
st.subheader(ctx.t("unitpage.over_time"))
kpi = synced_choice("kpi", list(KPIS), DEFAULT_KPI, widget=st.selectbox,
                    label=ctx.t("unitpage.kpi"),
                    format_func=lambda name: labels.kpi_name(name, ctx.lang))
info = KPIS[kpi]
kpi_name = labels.kpi_name(kpi, ctx.lang)
window = date_range_label(filters.date_from, filters.period_end, ctx.lang)
changes = unit_changes(unit)
rebase = rebase_switch(ctx, changes, kpi)
# The unit's rebasing interventions are passed in (not read by spc_series) so that the cached
# chart follows a change recorded on this page.
chart = load(spc.spc_series, unit=unit, kpi=kpi, period=filters.grain,
             date_from=filters.date_from, date_to=filters.period_start, rebase=rebase,
             stored_rebase=False)
points = pd.DataFrame(chart["points"],
                      columns=["period_start", "value", "n", "signals", "segment"])
if points.empty:
    st.info(ctx.t("unitpage.no_series", kpi=kpi_name, window=window))
else:
    points["period_start"] = [dt.date.fromisoformat(day) for day in points["period_start"]]
    series = load(metrics.series, unit=unit, kpi=kpi, period=filters.grain,
                  date_from=filters.date_from, date_to=filters.period_start)
    points = points.merge(series[["period_start", "status", "target"]], on="period_start",
                          how="left")
    points["status"] = points["status"].fillna("none")
    points["variation"] = offtarget.chart_variations(chart["points"], chart["segments"],
                                                     chart["centre"], info.better)
    points["hover"] = [
        ctx.t("unitpage.point_hover",
              period=period_label(day, filters.grain, ctx.lang),
              value=labels.format_value(kpi, value, ctx.lang),
              target=labels.format_value(kpi, target, ctx.lang),
              status=labels.status_word(status, ctx.lang),
              n=fmt_int(n, ctx.lang))
        + (("<br>" + labels.signal_words(signals, ctx.lang)) if signals else "")
        for day, value, target, status, n, signals in zip(
            points["period_start"], points["value"], points["target"], points["status"],
            points["n"], points["signals"], strict=True)
    ]
    steps = load(targets.target_steps, unit=unit, kpi=kpi)
    markers = interventions.chart_markers(changes, kpi, ctx.lang,
                                          first=points["period_start"].iloc[0],
                                          last=filters.period_end)
    y_title = labels.kpi_unit(kpi, ctx.lang)
    over_time = reflowing_row("unit-over-time", CHART_MIN_REM)
    with over_time.container():
        trend = built_figure(
            charts.trend_chart, points, steps, ctx.lang, better=info.better, x_last=filters.period_start,
            labels={"value": kpi_name, "target": ctx.t("charts.target"),
                    "band": ctx.t("charts.amber_band")},
            y_title=y_title, title=ctx.t("unitpage.trend_title"), grain=filters.grain,
            markers=markers)
        show_chart(trend, ctx.lang, name=file_name("trend", unit, kpi, filters.grain),
                   alt=ctx.t("unitpage.trend_alt", kpi=kpi_name, unit=unit_name, window=window))
    with over_time.container():
        control = built_figure(
            charts.spc_chart, points, ctx.lang, centre=chart["centre"], ucl=chart["ucl"], lcl=chart["lcl"],
            trial=chart["trial"], target=chart["target"],
            labels={"value": kpi_name, "centre": ctx.t("spc.centre"),
                    "limits": ctx.t("spc.limits"), "target": ctx.t("spc.target"),
                    "concern": ctx.t("spc.variation.concern"),
                    "improvement": ctx.t("spc.variation.improvement"),
                    "trial_suffix": ctx.t("charts.trial_suffix")},
            y_title=y_title, title=ctx.t("unitpage.spc_title"), grain=filters.grain,
            segments=[{**segment, "start": dt.date.fromisoformat(segment["start"])}
                      for segment in chart["segments"]],
            markers=markers)
        show_chart(control, ctx.lang, name=file_name("spc", unit, kpi, filters.grain),
                   alt=ctx.t("unitpage.spc_alt", kpi=kpi_name, unit=unit_name, window=window))
    latest_side = "high" if chart["centre"] is not None and \
        points["value"].iloc[-1] > chart["centre"] else "low"
    badges = st.container(horizontal=True)
    with badges:
        variation = chart["variation"] if chart["ucl"] is not None else None
        st.badge(labels.variation_word(variation, ctx.lang),
                 icon=labels.variation_icon(variation, latest_side),
                 color=labels.VARIATION_BADGE_COLOURS.get(variation, "gray"))
        st.badge(labels.assurance_word(chart["assurance"], ctx.lang),
                 icon=labels.assurance_icon(chart["assurance"]),
                 color=labels.ASSURANCE_BADGE_COLOURS.get(chart["assurance"], "gray"))
        if chart["trial"] and chart["ucl"] is not None:
            st.badge(ctx.t("status_ui.trial"), icon=":material/science:", color="gray")
    st.caption(labels.spc_caption(kpi, chart, ctx.lang, window=window))

manage_changes(ctx, unit, unit_name, changes)

# -- services ------------------------------------------------------------------------------------
st.subheader(ctx.t("unitpage.services_heading", period=period_name))
services = load(metrics.service_breakdown, unit=unit, date_from=filters.period_start,
                date_to=filters.period_end)
if services.empty:
    st.info(ctx.t("unitpage.no_services", period=period_name))
else:
    table = pd.DataFrame({
        ctx.t("unitpage.col_unit"): services["unit_code"],
        ctx.t("unitpage.col_service"): services["name"].fillna(services["service_code"]),
        ctx.t("unitpage.col_code"): services["service_code"],
        ctx.t("unitpage.col_standard"): services["standard_minutes"],
        ctx.t("unitpage.col_events"): services["events"],
        ctx.t("unitpage.col_completed"): services["completed"],
        ctx.t("unitpage.col_median"): services["service_time_median"],
        ctx.t("unitpage.col_p90"): services["service_time_p90"],
        ctx.t("unitpage.col_within"): services["within_standard_pct"],
    })

    def minutes(value: float | None) -> str:
        return labels.format_value("service_time_median", value, ctx.lang)

    table_with_downloads(
        table,
        {ctx.t("unitpage.col_standard"): minutes,
         ctx.t("unitpage.col_events"): lambda v: fmt_int(v, ctx.lang),
         ctx.t("unitpage.col_completed"): lambda v: fmt_int(v, ctx.lang),
         ctx.t("unitpage.col_median"): minutes, ctx.t("unitpage.col_p90"): minutes,
         ctx.t("unitpage.col_within"):
             lambda v: labels.format_value("within_standard_pct", v, ctx.lang)},
        file_name("services", unit, filters.grain, filters.period_start), ctx.lang,
        key="unit-services")

# -- arrivals and waits by weekday and hour ------------------------------------------------------
arrivals_from = min(filters.period_start,
                    filters.period_end - dt.timedelta(days=ARRIVALS_MIN_DAYS - 1))
st.subheader(ctx.t("unitpage.arrivals_heading"))
st.caption(ctx.t("unitpage.arrivals_caption",
                 dates=date_range_label(arrivals_from, filters.period_end, ctx.lang)))
by_hour = load(metrics.arrivals_by_hour, unit=unit, date_from=arrivals_from,
               date_to=filters.period_end)
if by_hour.empty:
    st.info(ctx.t("unitpage.no_arrivals"))
else:
    weekdays = labels.weekday_names(ctx.lang)
    by_hour_row = reflowing_row("unit-by-hour", CHART_MIN_REM)
    with by_hour_row.container():
        figure = built_figure(
            charts.weekday_hour_heatmap, by_hour.rename(columns={"arrivals": "value"}),
            ctx.lang, weekdays=weekdays,
            value_title=ctx.t("charts.arrivals"), title=ctx.t("charts.arrivals_title"))
        show_chart(figure, ctx.lang, name=file_name("arrivals", unit, arrivals_from),
                   alt=ctx.t("charts.arrivals_title"))
    with by_hour_row.container():
        figure = built_figure(
            charts.weekday_hour_heatmap,
            by_hour.rename(columns={"wait_time_median": "value"}).dropna(subset=["value"]),
            ctx.lang, weekdays=weekdays, value_title=ctx.t("charts.wait_median"),
            title=ctx.t("charts.wait_title"), decimals=1)
        show_chart(figure, ctx.lang, name=file_name("waits", unit, arrivals_from),
                   alt=ctx.t("charts.wait_title"))
    hours_table = by_hour.assign(weekday=[weekdays[day - 1] for day in by_hour["weekday"]])
    with st.expander(ctx.t("unitpage.arrivals_table")):
        table_with_downloads(
            hours_table.rename(columns={
                "weekday": ctx.t("charts.weekday"), "hour": ctx.t("charts.hour"),
                "arrivals": ctx.t("charts.arrivals"),
                "wait_time_median": ctx.t("charts.wait_median")}),
            {ctx.t("charts.arrivals"): lambda v: fmt_int(v, ctx.lang),
             ctx.t("charts.wait_median"): lambda v: fmt_number(v, ctx.lang, 1)},
            file_name("arrivals", unit, arrivals_from, filters.period_end), ctx.lang,
            key="unit-arrivals")

# -- open management-review actions of the unit (the review's section) ------------------------
show_open_actions(ctx, unit)
