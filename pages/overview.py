"""City overview: the whole city at a glance for the mayor's office.

In ten seconds: which units are off target, since when, and whether it is getting worse. The
title states the finding; a tile per KPI shows the city; the ranked exceptions link to their
unit pages; a heatmap shows every unit on every KPI.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi import charts, labels, metrics, offtarget, precompute
from kpi.i18n import fmt_date, fmt_int
from kpi.vocabulary import CITY, KPIS
from ui import drill
from ui.charts_ui import file_name, show_chart
from ui.data import load, per_version
from ui.downloads import table_downloads
from ui.filters import (
    Filters,
    level_coverages,
    period_label,
    sidebar_filters,
    unit_label,
    units_shown,
    visible_tree,
    whole_codes,
)
from ui.guard import guard
from ui.layout import reflowing_row
from ui.text import md
from ui.tiles import kpi_tiles

MAX_LINKED_UNITS = 10
EXCEPTION_CARD_MIN_REM = 26  # two cards in a row from 840 px: a tablet (788 px) has one

ctx = guard("overview")
filters = sidebar_filters(ctx)
if filters is None:
    st.info(ctx.t("filters.no_data"))
    st.stop()

tree = visible_tree(ctx)  # a city user: their city's units, as if the store held no other
scope = units_shown(ctx, tree, filters)
period_name = period_label(filters.period_start, filters.grain, ctx.lang)
previous_name = period_label(filters.previous_start, filters.grain, ctx.lang)
names = dict(zip(tree["unit_code"], tree["name"], strict=True))
names[CITY] = ctx.t("charts.city")
# A province (ui/drill.py): the overview opens on the top level and drills down by `parent`.
province = drill.is_large(tree)
level = drill.top_level(tree, scope) if province and not filters.parent else scope


def unit_page_params(code: str, filters: Filters) -> dict[str, str]:
    """The query parameters of the unit page showing `code` in the chosen period."""
    return {"unit": code, **filters.url_params(unit_filters=False), "lang": ctx.lang}


def formatted(kpis: pd.Series, values: pd.Series) -> list[str]:
    """Values of mixed KPIs, each written with its own decimals and unit."""
    return [labels.format_value(k, v, ctx.lang) for k, v in zip(kpis, values, strict=True)]


def table_shown_and_kept(*, shown: dict, kept: dict, name: str, key: str) -> None:
    """Show the formatted table; the downloads keep the numbers (a spreadsheet computes)."""
    st.dataframe(pd.DataFrame(shown), hide_index=True, width="stretch")
    table_downloads(pd.DataFrame(kept), name, ctx.lang, key=key)


def exception_line(item: dict) -> str:
    """One markdown bullet: the KPI, value against target, status, since when, which way."""
    kpi = item["kpi"]
    value, target = labels.value_and_target(kpi, item["value"], item["target"], ctx.lang)
    facts = [ctx.t("overview.exception_value", kpi=labels.kpi_name(kpi, ctx.lang), value=value,
                   target=target)
             if not labels.is_missing(item["target"])
             else ctx.t("overview.exception_value_no_target",
                        kpi=labels.kpi_name(kpi, ctx.lang), value=value)]
    if item["status"] == "red":
        since_key = "overview.since_one" if item["red_periods"] == 1 else "overview.since"
        facts.append(labels.status_markdown("red", ctx.lang) + " "
                     + ctx.t(since_key, since=fmt_date(item["red_since"], ctx.lang),
                             periods=fmt_int(item["red_periods"], ctx.lang)))
    if item["variation"] == "concern":
        facts.append(":orange[:material/warning: "
                     + labels.variation_word("concern", ctx.lang) + "]")
    facts.append(labels.change_words(kpi, item["change"], ctx.lang))
    return "- " + " · ".join(facts)


# -- the city, one tile per KPI (below the units off target: those open the first screen) ----
def city_tiles() -> None:
    """The city's tiles (a city user's own units' in its place), with the note when some
    units have not reported."""
    covering = level_coverages(ctx, tree, filters.grain, filters.parent)  # the tiles' units
    covered = covering(filters.period_start)
    # A province drilled down to a city: the tiles are the city's, under its name.
    wholes = [filters.parent] if province and filters.parent else whole_codes(ctx)
    for number, code in enumerate(wholes):
        st.subheader(md(names.get(code, code)) if code != CITY else ctx.t(
            "drill.province_heading" if province else "overview.city_heading"))
        if covered.missing and not number:  # the tiles' changes are like for like
            both = covering.two_periods(filters.period_start).both
            st.caption(ctx.t("overview.city_partial",
                             reported=fmt_int(covered.reported, ctx.lang),
                             expected=fmt_int(covered.expected, ctx.lang), period=period_name,
                             both=fmt_int(len(both), ctx.lang), previous=previous_name))
        history = load(metrics.kpi_values, period=filters.grain, date_from=filters.date_from,
                       date_to=filters.period_start, units=[code])
        kpi_tiles(frame[frame["unit_code"] == code], history, ctx.lang, partial=filters.partial)
    if province and not filters.parent and (filters.grain, filters.period_start) in {
            (grain, start) for grain, start, _ in load(precompute.pending_totals)}:
        st.caption(ctx.t("drill.totals_pending"), help=ctx.t("drill.totals_pending_help"))


# -- the finding -----------------------------------------------------------------------------
if province and filters.parent:
    drill.breadcrumb(tree, filters.parent, {**filters.url_params(unit_filters=False),
                                            "lang": ctx.lang}, ctx.lang)
# A province reads only the level shown: the cities (their pooled figures and exceptions),
# or one city's units; never the SPC of all 1,300 units at once.
shown = level if province else scope
frame = load(metrics.overview, period=filters.grain, period_start=filters.period_start,
             units=[CITY, *shown] if province else None)
found = load(offtarget.exceptions, period=filters.grain, period_start=filters.period_start,
             date_from=filters.date_from, units=shown) if shown \
    else pd.DataFrame(columns=offtarget.COLUMNS)
off_target = found[found["status"] == "red"]
# What the exception cards follow besides the data (ui.data.per_version): built once per view.
exceptions_view = {"grain": filters.grain, "start": filters.period_start,
                   "since": filters.date_from, "units": shown, "lang": ctx.lang}
units_off = off_target["unit_code"].nunique()
if units_off:
    title_key = "overview.title_off_one" if units_off == 1 else "overview.title_off_many"
    if province and not filters.parent:  # the top level's units are the cities
        title_key = "drill.title_off_one" if units_off == 1 else "drill.title_off_many"
    st.title(ctx.t(title_key, count=fmt_int(units_off, ctx.lang)))
else:
    st.title(ctx.t("overview.title_none"))
st.markdown(f"**{period_name}**")

if len(off_target):
    worse_units = off_target[off_target["worse"]]["unit_code"].nunique()
    longest = off_target.sort_values(["red_periods", "gap_pct"], ascending=False).iloc[0]
    detail_key = "overview.finding_detail_one" if longest["red_periods"] == 1 \
        else "overview.finding_detail"
    st.markdown(ctx.t(detail_key,
                      worse=fmt_int(worse_units, ctx.lang),
                      unit=md(names.get(longest["unit_code"], longest["unit_code"])),
                      kpi=labels.kpi_name(longest["kpi"], ctx.lang),
                      since=fmt_date(longest["red_since"], ctx.lang),
                      periods=fmt_int(longest["red_periods"], ctx.lang)))
st.caption(ctx.t("overview.scope", units=fmt_int(len(scope), ctx.lang), previous=previous_name))

if not scope:
    city_tiles()
    st.info(ctx.t("filters.no_units"))
    st.stop()

# -- a province: one level down, one link per unit (province → city → unit) -------------------
if province:
    down = level if not filters.parent else drill.children(tree, filters.parent)
    # A city's link counts its own KPIs off target (its units' are one click further down).
    off_under = off_target["unit_code"].value_counts()
    has_children = set(tree["parent_code"].dropna())
    st.subheader(ctx.t("drill.cities_heading") if not filters.parent
                 else ctx.t("drill.units_heading", unit=md(names.get(filters.parent, ""))))

    def down_label(code: str) -> str:
        count = int(off_under.get(code, 0))
        return ctx.t("drill.link_off", unit=md(names[code]), count=fmt_int(count, ctx.lang)) \
            if count else md(names[code])

    def down_target(code: str) -> tuple[str, dict[str, str]]:
        if code in has_children:  # a level with units under it: the overview there
            return "pages/overview.py", {**filters.url_params(unit_filters=False),
                                         "parent": code, "lang": ctx.lang}
        return "pages/unit.py", unit_page_params(code, filters)

    drill.links(down, down_label, down_target)

# -- exceptions, ranked, each a link to its unit page -----------------------------------------
st.subheader(ctx.t("overview.exceptions_heading"))
if found.empty:
    st.success(ctx.t("overview.exceptions_none"), icon=":material/check_circle:")
else:
    st.caption(ctx.t("overview.exceptions_caption"))
    ranked_units = list(dict.fromkeys(found["unit_code"]))  # by each unit's worst exception
    # Two cards side by side on a desktop, one under another on a tablet, where a long unit
    # name in the link (which never wraps) was cut in half a row.
    cards = reflowing_row("overview-exceptions", EXCEPTION_CARD_MIN_REM)

    def exception_cards() -> list[tuple[str, str, str, str, str]]:
        """Each linked unit's card: its code, link label, icon, first (worst) KPI and its
        exceptions as markdown bullets."""
        shown_cards = []
        for position, code in enumerate(ranked_units[:MAX_LINKED_UNITS]):
            items = found[found["unit_code"] == code]
            shown_cards.append((
                code,
                ctx.t("overview.exception_unit", rank=position + 1,
                      unit=md(names.get(code, code))),
                labels.status_icon("red") if (items["status"] == "red").any()
                else ":material/warning:",
                items["kpi"].iloc[0],
                "\n".join(exception_line(item) for item in items.to_dict("records"))))
        return shown_cards

    for code, label, icon, first_kpi, lines in per_version("overview-cards", exception_cards,
                                                           **exceptions_view):
        with cards.container(border=True):
            # The unit page opens on the KPI of the unit's first (worst) exception.
            st.page_link("pages/unit.py", label=label, icon=icon,
                         query_params={**unit_page_params(code, filters), "kpi": first_kpi})
            st.markdown(lines)
    if len(ranked_units) > MAX_LINKED_UNITS:
        st.caption(ctx.t("overview.more_exceptions",
                         count=fmt_int(len(ranked_units) - MAX_LINKED_UNITS, ctx.lang)))
    # The table of every exception is built only while its expander is open.
    exceptions_box = st.expander(ctx.t("overview.exceptions_table"),
                                 key="overview-exceptions-open", on_change="rerun")
    if exceptions_box.open:
        def exception_columns(*, as_text: bool) -> dict:
            """The exceptions table: values and targets as text (shown) or numbers (the files,
            which a spreadsheet computes with)."""
            def number(column: str):
                return formatted(found["kpi"], found[column]) if as_text \
                    else found[column].to_numpy(dtype=float)
            return {
                ctx.t("overview.col_rank"): found["rank"].to_numpy(),
                ctx.t("overview.col_unit"): [unit_label(tree, code) for code in found["unit_code"]],
                ctx.t("overview.col_kpi"): [labels.kpi_name(k, ctx.lang) for k in found["kpi"]],
                ctx.t("overview.col_value"): number("value"),
                ctx.t("overview.col_target"): number("target"),
                ctx.t("overview.col_status"): [labels.status_text(s, ctx.lang)
                                               for s in found["status"]],
                ctx.t("overview.col_since"): [fmt_date(d, ctx.lang) if d is not None else ""
                                              for d in found["red_since"]],
                ctx.t("overview.col_periods"): found["red_periods"].to_numpy(),
                ctx.t("overview.col_change"): [labels.change_words(k, c, ctx.lang) for k, c
                                               in zip(found["kpi"], found["change"], strict=True)],
                ctx.t("overview.col_variation"): [labels.variation_word(v, ctx.lang)
                                                  for v in found["variation"]],
            }

        with exceptions_box:
            table_shown_and_kept(shown=exception_columns(as_text=True),
                                 kept=exception_columns(as_text=False),
                                 name=file_name("exceptions", filters.grain, filters.period_start),
                                 key="overview-exceptions")

city_tiles()

# -- every unit on every KPI ------------------------------------------------------------------
st.subheader(ctx.t("overview.heatmap_heading"))
st.caption(ctx.t("overview.heatmap_caption"))
ordered = drill.paged(level, "overview_heatmap_page", ctx.lang) if province else scope
unit_rows = frame[frame["unit_code"].isin(ordered)]
row_names = {code: names[code] for code in ordered}
if len(set(row_names.values())) < len(row_names):  # two units share a name: add the codes
    row_names = {code: unit_label(tree, code) for code in ordered}


def heatmap_figure() -> object:
    """The heatmap of the rows `ordered`: a cell per unit and KPI, its value and status."""
    cells = pd.DataFrame([
        {
            "row": row_names[item["unit_code"]],
            "column": labels.kpi_short(item["kpi"], ctx.lang),
            "status": item["status"],
            "text": f"{labels.format_value(item['kpi'], item['value'], ctx.lang, unit=False)} "
                    f"{labels.status_symbol(item['status'])}",
            "hover": ctx.t("overview.cell_hover",
                           unit=row_names[item["unit_code"]],
                           kpi=labels.kpi_name(item["kpi"], ctx.lang),
                           value=labels.format_value(item["kpi"], item["value"], ctx.lang),
                           target=labels.format_value(item["kpi"], item["target"], ctx.lang),
                           status=labels.status_word(
                               item["status"], ctx.lang,
                               has_value=not labels.is_missing(item["value"]))),
        }
        for item in unit_rows.to_dict("records")
    ])
    return charts.status_heatmap(cells, ctx.lang, rows=[row_names[c] for c in ordered],
                                 columns=[labels.kpi_short(kpi, ctx.lang) for kpi in KPIS])


# Built once per data version and view, not on every rerun (ui.data.per_version).
show_chart(per_version("overview-heatmap", heatmap_figure, grain=filters.grain,
                       start=filters.period_start, units=ordered, lang=ctx.lang),
           ctx.lang, name=file_name("status-heatmap", filters.grain, filters.period_start),
           alt=ctx.t("overview.heatmap_alt", period=period_name))

# The numbers behind the heatmap are built only while their expander is open.
grid_box = st.expander(ctx.t("overview.heatmap_table"), key="overview-grid-open",
                       on_change="rerun")
if grid_box.open:
    units_column = [unit_label(tree, code) for code in unit_rows["unit_code"]]
    kpi_column = [labels.kpi_name(k, ctx.lang) for k in unit_rows["kpi"]]
    status_column = [labels.status_text(s, ctx.lang, has_value=not labels.is_missing(v))
                     for s, v in zip(unit_rows["status"], unit_rows["value"], strict=True)]
    common = {ctx.t("overview.col_unit"): units_column, ctx.t("overview.col_kpi"): kpi_column}
    with grid_box:
        table_shown_and_kept(
            shown={**common,
                   ctx.t("overview.col_value"): formatted(unit_rows["kpi"], unit_rows["value"]),
                   ctx.t("overview.col_target"): formatted(unit_rows["kpi"], unit_rows["target"]),
                   ctx.t("overview.col_status"): status_column,
                   ctx.t("overview.col_previous"): formatted(unit_rows["kpi"],
                                                             unit_rows["prev_value"]),
                   ctx.t("overview.col_n"): [fmt_int(n, ctx.lang) for n in unit_rows["n"]]},
            kept={**common,
                  ctx.t("overview.col_value"): unit_rows["value"].to_numpy(),
                  ctx.t("overview.col_target"): unit_rows["target"].to_numpy(),
                  ctx.t("overview.col_status"): status_column,
                  ctx.t("overview.col_previous"): unit_rows["prev_value"].to_numpy(),
                  ctx.t("overview.col_n"): unit_rows["n"].to_numpy()},
            name=file_name("units-kpis", filters.grain, filters.period_start),
            key="overview-grid")
