"""Compare units: every unit on one KPI. A ranked bar chart against the target, a league table,
and for the percentage KPIs a funnel plot that tells a real difference from chance."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi import charts, labels, metrics
from kpi.i18n import fmt_int
from kpi.vocabulary import CITY, KPIS
from ui import drill
from ui.charts_ui import built_figure, file_name, show_chart
from ui.data import load
from ui.downloads import table_with_downloads
from ui.filters import (
    period_label,
    sidebar_filters,
    synced_choice,
    units_shown,
    visible_tree,
    whole_codes,
)
from ui.guard import guard
from ui.text import md

# The KPI shown when the link names none: the share within the service standard is the one
# every unit type has and the one the funnel plot can test.
DEFAULT_KPI = "within_standard_pct"
FUNNEL_NAMED_MAX = 5  # most units named beside their dots on the funnel plot, per side

ctx = guard("compare")
filters = sidebar_filters(ctx)
if filters is None:
    st.info(ctx.t("filters.no_data"))
    st.stop()

choice, _ = st.columns([3, 2])
with choice:
    kpi = synced_choice("kpi", list(KPIS), DEFAULT_KPI, widget=st.selectbox,
                        label=ctx.t("compare.kpi"), help=ctx.t("compare.kpi_help"),
                        format_func=lambda name: labels.kpi_name(name, ctx.lang))
kpi_name = labels.kpi_name(kpi, ctx.lang)
period_name = period_label(filters.period_start, filters.grain, ctx.lang)
tree = visible_tree(ctx)  # a city user: their city's units, as if the store held no other
scope = units_shown(ctx, tree, filters)
city = whole_codes(ctx)[0]  # the row the city's line is drawn from (a city user's own city)
province = drill.is_large(tree)  # a province ranks one level: its cities, or a city's units
if province and not filters.parent:
    scope = drill.top_level(tree, scope)
if not scope:
    st.info(ctx.t("filters.no_units"))
    st.stop()

# The whole-city frame is the one the overview page caches: filter it rather than query again.
overview = load(metrics.overview, period=filters.grain, period_start=filters.period_start)
city_row = overview[(overview["unit_code"] == city) & (overview["kpi"] == kpi)]
overview = overview[overview["unit_code"].isin([*scope, CITY])].reset_index(drop=True)
table = metrics.league_table(overview, kpi)
summary = metrics.league_summary(table)
city_value = city_row["value"].iloc[0] if len(city_row) else None
names = dict(zip(table["unit_code"], table["name"], strict=True))
if len(set(names.values())) < len(names):  # two units share a name: tell them apart by code
    names = {code: ctx.t("compare.name_code", name=name, code=code) for code, name in names.items()}


def show(value: float | None) -> str:
    return labels.format_value(kpi, value, ctx.lang)


def count_text(value: int) -> str:
    return fmt_int(value, ctx.lang)


# -- the finding, said in the title ---------------------------------------------------------
if summary["best"] is None:
    st.header(ctx.t("compare.title"))
    st.info(ctx.t("compare.no_data", kpi=kpi_name, period=period_name))
    st.stop()
best = table.iloc[0]
worst = table[table["rank"].notna()].iloc[-1]
if summary["with_target"]:
    finding = ctx.t("compare.finding_targets", best=md(names[best["unit_code"]]),
                    value=show(best["value"]), met=summary["met"], total=summary["with_target"])
elif summary["ranked"] > 1:
    finding = ctx.t("compare.finding_no_target", best=md(names[best["unit_code"]]),
                    value=show(best["value"]), worst=md(names[worst["unit_code"]]),
                    worst_value=show(worst["value"]))
else:
    finding = ctx.t("compare.finding_single", best=md(names[best["unit_code"]]), kpi=kpi_name,
                    value=show(best["value"]))
st.header(finding)
st.caption(ctx.t("compare.scope", period=period_name, count=summary["ranked"]))

# -- ranked bars against the target ---------------------------------------------------------
ranked = table[table["rank"].notna()]
if province:  # the bars one page at a time; the league table below holds every rank
    if not filters.parent:
        st.caption(ctx.t("drill.compare_level"))
    ranked = ranked[ranked["unit_code"].isin(
        drill.paged(ranked["unit_code"].tolist(), "compare_bars_page", ctx.lang))]


def bar_text(value: float, status: str) -> str:
    """The value and the status symbol beside a bar (the words would not fit on a tablet; the
    key under the chart and the hover give them)."""
    if status == "none":
        return show(value)
    return ctx.t("compare.bar_text", value=show(value), symbol=labels.status_symbol(status))


bars = pd.DataFrame({
    "label": [names[code] for code in ranked["unit_code"]],
    "value": ranked["value"].to_numpy(),
    "text": [bar_text(value, status) for value, status in zip(ranked["value"], ranked["status"],
                                                             strict=True)],
    "colour": [charts.STATUS_COLOURS[status] if status != "none" else charts.NEUTRAL_BAR
               for status in ranked["status"]],
    "hover": [ctx.t("compare.hover", unit=names[code], value=show(value), n=count_text(n),
                    target=show(target), status=labels.status_word(status, ctx.lang))
              for code, value, n, target, status in zip(
                  ranked["unit_code"], ranked["value"], ranked["n"], ranked["target"],
                  ranked["status"], strict=True)],
    "marker": ranked["target"].to_numpy(),
})
info = KPIS[kpi]
# The city's value as a reference line, except for counts: the city's count is the sum of all
# units', off the scale of any one of them.
reference = [] if labels.is_missing(city_value) or info.unit == "count" else [
    (city_value, ctx.t("compare.city", value=show(city_value)))]
# The short name on the axis: a long one runs off a tablet's screen (the title has the full one).
kpi_short = labels.kpi_short(kpi, ctx.lang)
axis = kpi_short if info.unit in ("count", "index") else ctx.t(
    "compare.axis", kpi=kpi_short, unit=ctx.t(f"kpi.{kpi}.unit"))
fig = built_figure(charts.ranked_bars, bars, ctx.lang, axis_title=axis,
                         title=ctx.t("compare.chart_title", kpi=kpi_name),
                         marker_name=ctx.t("compare.target"), lines=reference)
show_chart(fig, ctx.lang, name=file_name(kpi, filters.grain, filters.period_start),
           alt=finding)
shown_statuses = [status for status in charts.STATUSES if status in set(ranked["status"])
                  and status != "none"]
if shown_statuses:
    st.caption(ctx.t("compare.list_separator").join(
        labels.status_text(status, ctx.lang) for status in shown_statuses))

# -- the league table -----------------------------------------------------------------------
st.subheader(ctx.t("compare.table_title"))
column = {key: ctx.t(f"compare.col_{key}") for key in
          ("rank", "unit", "code", "value", "n", "target", "status", "prev", "change",
           "direction", "numerator", "denominator", "rate", "lower_998", "upper_998", "position")}
# What an official reads first comes first: rank, unit, value, status, change; then the detail.
league = pd.DataFrame({
    column["rank"]: table["rank"].astype("Int64"),
    column["unit"]: [names[code] for code in table["unit_code"]],
    column["value"]: table["value"],
    column["status"]: [labels.status_text(status, ctx.lang, has_value=not labels.is_missing(value))
                       for status, value in zip(table["status"], table["value"], strict=True)],
    column["change"]: table["change"],
    column["direction"]: [labels.change_words(kpi, change, ctx.lang) for change in table["change"]],
    column["n"]: table["n"],
    column["target"]: table["target"],
    column["prev"]: table["prev_value"],
    column["code"]: table["unit_code"],
})
table_with_downloads(
    league, {column["value"]: show, column["target"]: show, column["prev"]: show,
             column["n"]: count_text,
             column["change"]: lambda change: labels.format_change(kpi, change, ctx.lang)},
    file_name(ctx.t("compare.table_file"), kpi, filters.period_start), ctx.lang,
    key="compare-league")

# -- the funnel plot (percentages only) -------------------------------------------------------
if kpi in metrics.FUNNEL_KPIS:
    # The centre is the rate of the population compared: the city's, or a city user's own
    # units' (their scope's tops), whose subtrees are all they may see.
    centre = {"centre": tree.loc[tree["depth"] == 0, "unit_code"].tolist()} if ctx.units else {}
    funnel = load(metrics.funnel, kpi=kpi, period=filters.grain,
                  period_start=filters.period_start, **centre)
    funnel = funnel[funnel["unit_code"].isin(scope)].reset_index(drop=True)
    if not funnel.empty:
        st.subheader(ctx.t("compare.funnel_title"))
        city_rate = float(funnel["city_rate"].iloc[0])
        funnel["position"] = metrics.funnel_position(funnel, kpi)
        # What to act on first: the units worse than chance explains; then those better.
        for position, box, icon in (("worse", st.warning, ":material/priority_high:"),
                                    ("better", st.info, ":material/thumb_up:")):
            beyond = funnel[funnel["position"] == position].sort_values(
                "rate", ascending=(position == "worse") == (info.better == "higher"))
            if beyond.empty:
                continue
            named = ctx.t("compare.list_separator").join(
                ctx.t("compare.funnel_unit", unit=names.get(code, code), rate=show(rate))
                for code, rate in zip(beyond["unit_code"], beyond["rate"], strict=True))
            box(ctx.t(f"compare.funnel_outside_{position}", units=named,
                      count=len(beyond), total=len(funnel)), icon=icon)
        if (funnel["position"] == "within").all():
            st.info(ctx.t("compare.funnel_none_outside"), icon=":material/check_circle:")
        # Mark the units beyond the limits by code beside their dots (names are long), unless so
        # many are that the codes would pile up (the sentences above name them all).
        named_positions = {position for position in ("worse", "better")
                           if (funnel["position"] == position).sum() <= FUNNEL_NAMED_MAX}
        points = pd.DataFrame({
            "text": [code if position in named_positions else ""
                     for code, position in zip(funnel["unit_code"], funnel["position"],
                                               strict=True)],
            "denominator": funnel["denominator"],
            "rate": funnel["rate"],
            "position": funnel["position"],
            "hover": [ctx.t("compare.funnel_hover", unit=names.get(code, code), rate=show(rate),
                            numerator=count_text(top), denominator=count_text(bottom),
                            position=ctx.t(f"compare.funnel_{position}"))
                      for code, rate, top, bottom, position in zip(
                          funnel["unit_code"], funnel["rate"], funnel["numerator"],
                          funnel["denominator"], funnel["position"], strict=True)],
        })
        legend = {name: ctx.t(f"compare.funnel_{name}") for name in
                  ("limits_95", "limits_998", "within", "better", "worse")}
        legend["city"] = ctx.t("compare.funnel_city", value=show(city_rate))
        funnel_fig = built_figure(charts.funnel_plot, points, metrics.funnel_curve(city_rate,
                                                                     funnel["denominator"]),
                                        ctx.lang, city_rate=city_rate, names=legend,
                                        x_title=ctx.t(f"compare.funnel_x_{kpi}"),
                                        y_title=labels.kpi_short(kpi, ctx.lang))
        show_chart(funnel_fig, ctx.lang, name=file_name(ctx.t("compare.funnel_file"), kpi,
                                                        filters.period_start))
        st.caption(ctx.t("compare.funnel_caption"))
        with st.expander(ctx.t("compare.funnel_data")):
            funnel_table = pd.DataFrame({
                column["unit"]: [names.get(code, code) for code in funnel["unit_code"]],
                column["code"]: funnel["unit_code"],
                column["numerator"]: funnel["numerator"],
                column["denominator"]: funnel["denominator"],
                column["rate"]: funnel["rate"],
                column["lower_998"]: funnel["lower_998"],
                column["upper_998"]: funnel["upper_998"],
                column["position"]: [ctx.t(f"compare.funnel_{position}")
                                     for position in funnel["position"]],
            })
            table_with_downloads(
                funnel_table, {column["numerator"]: count_text, column["denominator"]: count_text,
                               column["rate"]: show, column["lower_998"]: show,
                               column["upper_998"]: show},
                file_name(ctx.t("compare.funnel_file"), kpi, filters.period_start), ctx.lang,
                key="compare-funnel")
