"""Satisfaction (SKM): the IKM and grade of every unit and of the city, the nine elements' scores,
the quarterly trend, the sample against its minimum, breakdowns and the respondents' comments."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from kpi import charts, ikm, labels, metrics, skm
from kpi.i18n import fmt_date, fmt_int, fmt_number, fmt_percent
from kpi.vocabulary import CITY, PERIODS
from ui import drill
from ui.charts_ui import file_name, show_chart
from ui.data import load, per_version
from ui.downloads import table_with_downloads
from ui.filters import (
    date_range_label,
    grain_label,
    period_label,
    sidebar_filters,
    synced_choice,
    units_shown,
    visible_tree,
    whole_codes,
)
from ui.guard import guard
from ui.state import keep_in_url
from ui.survey_ui import visit_section
from ui.text import md

# SKM results are reported per quarter (triwulan), so before the user picks a period length
# the page shows the last complete quarter in the data (the shared filters' default period),
# or the newest quarter when none is complete yet.
DEFAULT_GRAIN = "quarter"
TREND_GRAIN = "quarter"
IKM_DECIMALS = 2
SAMPLE_SHARE_SHOWN = 200.0  # percent of the minimum sample where the bars stop
BREAKDOWN_BARS = 12  # groups drawn in a breakdown chart, largest first
COMMENTS_SHOWN = 500  # newest comments in the table (a city's quarter has tens of thousands)

ctx = guard("satisfaction")
filters = sidebar_filters(ctx, default_grain=DEFAULT_GRAIN)
if filters is None:
    st.info(ctx.t("filters.no_data"))
    st.stop()
period_name = period_label(filters.period_start, filters.grain, ctx.lang)
if PERIODS.index(filters.grain) < PERIODS.index(DEFAULT_GRAIN):
    # A day, week or month holds few responses: offer the quarter around the chosen period.
    quarter = metrics.period_start(filters.period_start, DEFAULT_GRAIN)
    hint, switch = st.columns([3, 1], vertical_alignment="center")
    hint.info(ctx.t("skmpage.short_period", grain=grain_label(filters.grain, ctx.lang).lower()),
              icon=":material/info:")
    if switch.button(ctx.t("skmpage.show_quarter",
                           quarter=period_label(quarter, DEFAULT_GRAIN, ctx.lang)),
                     wrap=True):  # in a quarter of a tablet's width the label takes two lines
        keep_in_url(grain=DEFAULT_GRAIN, period=quarter.isoformat())
        st.rerun()
tree = visible_tree(ctx)  # a city user: their city's units, as if the store held no other
scope = units_shown(ctx, tree, filters)
whole = whole_codes(ctx)[0]  # the city's row, or a city user's own city's in its place
province = drill.is_large(tree)
if province and filters.parent:
    # A province drilled down to a city: the city's own row in the whole's place, under its
    # name, as the overview's tiles (not the province's beside the city's units).
    whole = filters.parent
    scope = [code for code in scope if code != whole]
elif province:
    # A province ranks one level, its cities, as Compare does (1,353 bars and rows took the
    # browser 20 s to draw); the parent filter opens a city's units.
    scope = drill.top_level(tree, scope)
names = {**dict(zip(tree["unit_code"], tree["name"], strict=True)),
         CITY: ctx.t("skmpage.province" if province else "skmpage.city")}
# The whole's words: the province's at a province's top level, else the city's (or a city
# user's own city, or a province's city, whose names the rows give).
whole_word = "province_" if whole == CITY and province else ""
rows = load(skm.ikm_table, date_from=filters.period_start, date_to=filters.period_end)
rows = [row for row in rows if row["unit_code"] in scope or row["unit_code"] == whole]
city = next((row for row in rows if row["unit_code"] == whole), None)
unit_rows = [row for row in rows if row["unit_code"] != whole]
if city is None:
    st.header(ctx.t("skmpage.title"))
    st.info(ctx.t("skmpage.no_responses", period=period_name))
    st.stop()


def ikm_text(value: float | None) -> str:
    return fmt_number(value, ctx.lang, IKM_DECIMALS)


def count_text(value: int) -> str:
    return fmt_int(value, ctx.lang)


def grade_text(letter: str | None) -> str:
    """`C · Kurang Baik` in Indonesian, `C · Poor` in English."""
    if not letter:
        return "—"
    return ctx.t("skmpage.grade_text", letter=letter, label=ctx.t(f"grade.{letter}"))


def element_name(element: str | None) -> str:
    return ctx.t(f"element.{element}") if element else "—"


def sample_word(ok: bool) -> str:
    return ctx.t("skmpage.sample_ok") if ok else ctx.t("grade.sample_too_small")


def sample_text(ok: bool) -> str:
    """`✕ Jumlah sampel belum memenuhi minimum`: symbol and words, never colour alone."""
    return ctx.t("skmpage.symbol_word", symbol=labels.status_symbol("green" if ok else "red"),
                 word=sample_word(ok))


# -- the finding, said in the title ---------------------------------------------------------
city_weakest = ikm.weakest_element(city["nrr"])
if city_weakest:
    st.header(ctx.t(f"skmpage.{whole_word}finding", ikm=ikm_text(city["ikm_rounded"]),
                    grade=grade_text(city["grade"]), element=element_name(city_weakest),
                    nrr=fmt_number(city["nrr"][city_weakest], ctx.lang, IKM_DECIMALS)))
else:
    st.header(ctx.t(f"skmpage.{whole_word}finding_short", ikm=ikm_text(city["ikm_rounded"]),
                    grade=grade_text(city["grade"])))
st.caption(ctx.t("skmpage.range", period=period_name,
                 dates=date_range_label(filters.period_start, filters.period_end, ctx.lang)))

# Two columns, not three: on a tablet three would cut "C · Kurang Baik" to "C · Kur…".
ikm_column, sample_column = st.columns(2)
ikm_column.metric(ctx.t("skmpage.province_ikm" if whole_word else "skmpage.city_ikm"), ikm_text(city["ikm_rounded"]),
                  delta=grade_text(city["grade"]), delta_color="off", delta_arrow="off")
sample_column.metric(ctx.t("grade.respondents"), count_text(city["n"]),
                     delta=ctx.t("skmpage.respondents_of",
                                 minimum=count_text(city["min_sample"])),
                     delta_color="off", delta_arrow="off")
city_sample = "green" if city["sample_ok"] else "red"
# Coloured text with an icon (it wraps, unlike a badge): the status never rests on colour.
sample_column.markdown(f":{charts.STATUS_TEXT_COLOURS[city_sample]}"
                       f"[{charts.STATUS_ICONS[city_sample]} {sample_word(city['sample_ok'])}]")

too_small = [row for row in unit_rows if not row["sample_ok"]]
if too_small:
    listed = ctx.t("skmpage.list_separator").join(
        ctx.t("skmpage.sample_unit", unit=md(names.get(row["unit_code"], row["unit_code"])),
              n=count_text(row["n"]), minimum=count_text(row["min_sample"]))
        for row in too_small)
    # At a province's top level the units listed are its cities and regencies, and say so.
    st.warning(ctx.t(f"skmpage.{whole_word}sample_warning", count=len(too_small),
                     total=len(unit_rows), units=listed), icon=":material/warning:")
elif unit_rows:
    st.success(ctx.t(f"skmpage.{whole_word}sample_all_ok"), icon=":material/check_circle:")

# -- IKM per unit ---------------------------------------------------------------------------
# The tables and figures below are built once per data version and what they show (the
# period, the units, the language), not on every rerun (ui.data.per_version).
st.subheader(ctx.t(f"skmpage.{whole_word}table_title"))  # a province's top level: its cities
ordered = [*unit_rows, city]
shown_view = {"start": filters.period_start, "end": filters.period_end, "lang": ctx.lang,
              "units": [row["unit_code"] for row in ordered]}
row_labels = [names.get(row["unit_code"], row["unit_code"]) for row in ordered]
column = {key: ctx.t(f"skmpage.col_{key}") for key in
          ("unit", "code", "n", "ikm", "grade", "min_sample", "sample", "weakest")}
element_names = [ctx.t("skmpage.element_axis", code=element.upper(), name=element_name(element))
                 for element in skm.ELEMENTS]


def weakest_of(row: dict) -> str | None:
    return ikm.weakest_element(row["nrr"])


def per_unit_table() -> pd.DataFrame:
    return pd.DataFrame({
        column["unit"]: row_labels,
        column["ikm"]: [row["ikm_rounded"] for row in ordered],
        column["grade"]: [grade_text(row["grade"]) for row in ordered],
        column["n"]: [row["n"] for row in ordered],
        column["min_sample"]: [row["min_sample"] for row in ordered],
        column["sample"]: [sample_text(row["sample_ok"]) for row in ordered],
        column["weakest"]: [element_name(weakest_of(row)) for row in ordered],
        column["code"]: [row["unit_code"] for row in ordered],
    })


table_with_downloads(per_version("skm-units", per_unit_table, **shown_view),
                     {column["n"]: count_text, column["ikm"]: ikm_text,
                      column["min_sample"]: count_text},
                     file_name(ctx.t("skmpage.table_file"), filters.period_start), ctx.lang,
                     key="skm-units")

# -- the nine elements ----------------------------------------------------------------------
st.subheader(ctx.t("skmpage.heatmap_title"))


def nrr_frame() -> pd.DataFrame:
    """Each unit's NRR per element, a row per unit (its name), a column per element."""
    return pd.DataFrame([[row["nrr"][element] for element in skm.ELEMENTS] for row in ordered],
                        index=row_labels, columns=list(skm.ELEMENTS), dtype=float)


def heatmap_figure() -> object:
    weakest = [weakest_of(row) for row in ordered]
    marks = pd.DataFrame(
        [[ctx.t("skmpage.weakest_mark" if element == row_weakest else "skmpage.nrr_mark",
                value=fmt_number(row["nrr"][element], ctx.lang, IKM_DECIMALS))
          for element in skm.ELEMENTS] for row, row_weakest in zip(ordered, weakest, strict=True)],
        index=row_labels, columns=list(skm.ELEMENTS))
    return charts.element_heatmap(nrr_frame(), marks, ctx.lang,
                                  element_codes=[element.upper() for element in skm.ELEMENTS],
                                  element_names=element_names, zmid=ikm.nrr_of_grade("B"))


show_chart(per_version("skm-heatmap", heatmap_figure, **shown_view), ctx.lang,
           name=file_name(ctx.t("skmpage.heatmap_file"), filters.period_start),
           alt=ctx.t("skmpage.heatmap_title"))
st.caption(ctx.t("skmpage.heatmap_caption",
                 line=fmt_number(ikm.nrr_of_grade("B"), ctx.lang, IKM_DECIMALS)))
st.caption(ctx.t("skmpage.list_separator").join(element_names))
nrr_text = {name: ikm_text for name in element_names}
# The numbers behind the heatmap are built only while their expander is open.
nrr_box = st.expander(ctx.t("skmpage.heatmap_data"), key="skm-nrr-open", on_change="rerun")
if nrr_box.open:
    with nrr_box:
        nrr_table = nrr_frame()
        nrr_table.columns = element_names
        table_with_downloads(nrr_table.reset_index(names=column["unit"]), nrr_text,
                             file_name(ctx.t("skmpage.heatmap_file"), filters.period_start),
                             ctx.lang, key="skm-nrr")

# -- the sample against its minimum -----------------------------------------------------------
# Respondents as a share of each unit's own minimum: one line (100 %) serves every unit, and a
# big unit's thousands do not squeeze the small ones. Bars stop at SAMPLE_SHARE_SHOWN; the text
# beside each bar gives the counts.
st.subheader(ctx.t("skmpage.sample_title"))


def sample_figure() -> object:
    shares = [ikm.sample_share(row["n"], row["min_sample"]) for row in ordered]
    bars = pd.DataFrame({
        "label": row_labels,
        "value": [min(share, SAMPLE_SHARE_SHOWN) for share in shares],
        "text": [ctx.t("skmpage.sample_bar", n=count_text(row["n"]),
                       minimum=count_text(row["min_sample"]),
                       symbol=labels.status_symbol("green" if row["sample_ok"] else "red"))
                 for row in ordered],
        "colour": [charts.STATUS_COLOURS["green" if row["sample_ok"] else "red"]
                   for row in ordered],
        "hover": [ctx.t("skmpage.sample_hover", unit=label, n=count_text(row["n"]),
                        minimum=count_text(row["min_sample"]),
                        share=fmt_percent(share, ctx.lang, 0),
                        sample=sample_text(row["sample_ok"]))
                  for label, row, share in zip(row_labels, ordered, shares, strict=True)],
    })
    return charts.ranked_bars(bars, ctx.lang, axis_title=ctx.t("skmpage.sample_axis"),
                              lines=[(100.0, ctx.t("grade.min_sample"))])


show_chart(per_version("skm-sample", sample_figure, **shown_view), ctx.lang,
           name=file_name(ctx.t("skmpage.sample_file"), filters.period_start),
           alt=ctx.t("skmpage.sample_title"))
st.caption(ctx.t("skmpage.sample_caption", shown=fmt_percent(SAMPLE_SHARE_SHOWN, ctx.lang, 0)))

# -- one unit in detail: trend, breakdowns, comments ------------------------------------------
st.divider()
choices = [whole, *[row["unit_code"] for row in unit_rows]]
with st.columns([3, 2])[0]:
    unit = synced_choice("unit", choices, whole, widget=st.selectbox,
                         label=ctx.t("skmpage.detail_unit"),
                         format_func=lambda code: names.get(code, code))
unit_name = names.get(unit, unit)

st.subheader(ctx.t("skmpage.trend_title", unit=md(unit_name)))


def trend_figure() -> object:
    trend = load(skm.ikm_by_period, period=TREND_GRAIN, date_to=filters.period_end)
    # Oldest first; on one date the city (`*` sorts first) before the unit, so its line comes
    # first.
    trend = trend[trend["unit_code"].isin({unit, whole})].sort_values(
        ["period_start", "unit_code"])
    trend_frame = pd.DataFrame({
        "series": [names.get(code, code) for code in trend["unit_code"]],
        "period": [ctx.t("skmpage.quarter", quarter=(start.month - 1) // 3 + 1, year=start.year)
                   for start in trend["period_start"]],
        "ikm": trend["ikm"].to_numpy(),
        "hover": [ctx.t("skmpage.trend_hover", unit=names.get(code, code),
                        period=period_label(start, TREND_GRAIN, ctx.lang), ikm=ikm_text(value),
                        grade=grade_text(letter), n=count_text(n))
                  for code, start, value, letter, n in zip(
                      trend["unit_code"], trend["period_start"], trend["ikm"], trend["grade"],
                      trend["n"], strict=True)],
    })
    bands = []
    upper = ikm.IKM_HIGHEST
    for lowest, letter, _, _ in ikm.GRADES:
        bands.append((max(lowest, ikm.IKM_LOWEST), upper, letter, grade_text(letter)))
        upper = lowest
    return charts.ikm_trend(trend_frame, ctx.lang, bands=bands, y_title=ctx.t("skmpage.col_ikm"))


trend_fig = per_version("skm-trend", trend_figure, end=filters.period_end, lang=ctx.lang,
                        units=[unit, whole])
show_chart(trend_fig, ctx.lang, name=file_name(ctx.t("skmpage.trend_file"), unit),
           alt=ctx.t("skmpage.trend_title", unit=unit_name))

st.subheader(ctx.t("skmpage.breakdown_title", unit=md(unit_name)))


def breakdown_view(by: str) -> tuple[object, pd.DataFrame, int] | None:
    """The chosen unit's responses split `by` one respondent trait: the chart of its largest
    groups, the table of every group, and how many groups there are; None without responses."""
    split = load(skm.ikm_breakdown, unit=unit, date_from=filters.period_start,
                 date_to=filters.period_end, by=by)
    if by == "age_band":  # age groups read best youngest first, not largest first
        band_order = {label: index for index, (_, _, label) in enumerate(skm.AGE_BANDS)}
        split = split.sort_values("group", key=lambda values: values.map(band_order),
                                  na_position="last").reset_index(drop=True)
    if split.empty:
        return None
    groups = [ctx.t("skmpage.not_stated") if labels.is_missing(group) else str(group)
              for group in split["group"]]
    if by == "service_code":
        services = load(metrics.service_breakdown, unit=unit, date_from=filters.period_start,
                        date_to=filters.period_end)
        service_names = dict(zip(services["service_code"], services["name"], strict=True))
        groups = [labels.name_and_code(service_names[group], group)
                  if group in service_names else group for group in groups]
    bars = pd.DataFrame({
        "label": groups,
        "value": split["ikm"].to_numpy(),
        "text": [ctx.t("skmpage.breakdown_bar", ikm=ikm_text(value), grade=letter or "",
                       n=count_text(n))
                 for value, letter, n in zip(split["ikm"], split["grade"], split["n"],
                                             strict=True)],
        "colour": charts.NEUTRAL_BAR,
        "hover": [ctx.t("skmpage.breakdown_hover", group=group, ikm=ikm_text(value),
                        grade=grade_text(letter), n=count_text(n))
                  for group, value, letter, n in zip(groups, split["ikm"], split["grade"],
                                                     split["n"], strict=True)],
    })
    # The lines where grades C, B and A begin, captioned by letter (words would collide).
    grade_lines = [(lowest, letter) for lowest, letter, _, _ in ikm.GRADES
                   if lowest > ikm.IKM_LOWEST]
    # The largest groups in the chart (a city has dozens of services); the table has all.
    figure = charts.ranked_bars(bars.head(BREAKDOWN_BARS), ctx.lang,
                                axis_title=ctx.t("skmpage.col_ikm"), lines=grade_lines,
                                start=ikm.IKM_LOWEST)
    table = pd.DataFrame({
        ctx.t("skmpage.col_group"): groups,
        column["n"]: split["n"].to_numpy(),
        column["ikm"]: split["ikm"].to_numpy(),
        column["grade"]: [grade_text(letter) for letter in split["grade"]],
        **{name: split[f"nrr_{element}"].to_numpy()
           for name, element in zip(element_names, skm.ELEMENTS, strict=True)},
    })
    return figure, table, len(bars)


# Only the chosen breakdown is computed and drawn (its chart, table and downloads): choosing
# another tab reruns the page for it.
tabs = st.tabs([ctx.t(f"skmpage.by_{by}") for by in skm.BREAKDOWNS], key="skm-breakdown",
               on_change="rerun")
for tab, by in zip(tabs, skm.BREAKDOWNS, strict=True):
    if not tab.open:
        continue
    with tab:
        view = per_version("skm-breakdown", partial(breakdown_view, by), unit=unit, by=by,
                           start=filters.period_start, end=filters.period_end, lang=ctx.lang)
        if view is None:
            st.info(ctx.t("skmpage.no_responses", period=period_name))
            continue
        figure, split_table, groups_count = view
        show_chart(figure, ctx.lang, name=file_name(ctx.t("skmpage.breakdown_file", by=by), unit),
                   key=f"skm-breakdown-{by}")
        if groups_count > BREAKDOWN_BARS:
            st.caption(ctx.t("skmpage.breakdown_largest", shown=BREAKDOWN_BARS,
                             total=groups_count))
        table_with_downloads(split_table, {column["n"]: count_text, column["ikm"]: ikm_text,
                                           **nrr_text},
                             file_name(ctx.t("skmpage.breakdown_file", by=by), unit,
                                       filters.period_start),
                             ctx.lang, key=f"skm-breakdown-table-{by}")

# -- the visit beside the answer: within the service standard or over it (issue 24) ------------
visit_section(ctx, unit=unit, date_from=filters.period_start,
              date_to=filters.period_end)

# -- comments -------------------------------------------------------------------------------
st.subheader(ctx.t("skmpage.comments_title", unit=md(unit_name)))
search = st.text_input(ctx.t("skmpage.search"), placeholder=ctx.t("skmpage.search_placeholder"),
                       key="skm-comment-search").strip()
found = load(skm.comments, unit=unit, date_from=filters.period_start,
             date_to=filters.period_end, search=search or None)
st.caption(ctx.t("skmpage.comments_count", count=count_text(len(found))))
if found.empty:
    st.info(ctx.t("skmpage.no_comments"))
else:
    not_stated = ctx.t("skmpage.not_stated")

    def comment_table(rows: pd.DataFrame) -> pd.DataFrame:
        """The comments of `rows` (of skm.comments) as the table shows them. Plain object
        columns: texts not converted to Arrow strings."""
        return pd.DataFrame({
            ctx.t("skmpage.col_submitted"): rows["submitted_at"].to_numpy(),
            column["unit"]: pd.Series([names.get(code, code)
                                       for code in rows["unit_code"].tolist()], dtype=object),
            ctx.t("skmpage.col_service"): pd.Series(
                [not_stated if labels.is_missing(code) else code
                 for code in rows["service_code"].tolist()], dtype=object),
            ctx.t("skmpage.col_comment"): pd.Series(rows["comment"].tolist(), dtype=object),
        })

    if len(found) > COMMENTS_SHOWN:
        st.caption(ctx.t("skmpage.comments_newest", shown=count_text(COMMENTS_SHOWN)))
    # The newest comments are shown; the whole table (a province's quarter holds tens of
    # thousands) is built only when its file is asked for.
    table_with_downloads(comment_table(found.head(COMMENTS_SHOWN)),
                         {ctx.t("skmpage.col_submitted"): lambda when: fmt_date(when, ctx.lang)},
                         file_name(ctx.t("skmpage.comments_file"), unit, filters.period_start),
                         ctx.lang, key="skm-comments", whole=lambda: comment_table(found))
