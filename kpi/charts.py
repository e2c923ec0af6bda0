"""Every plotly figure of Kinerja, and their shared theme.

The theme: the Okabe–Ito palette (safe for the common colour-vision deficiencies), one colour
and one symbol per status (status is never shown by colour alone), the fonts, and
`base_layout(fig, lang)`, which every chart function calls last so that numbers use the
language's separators (Indonesian `1.234,5`). Chart functions take tidy frames and translated
labels; they never query the store and never import streamlit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import html
import json
import math
import os
import queue
import tempfile
import textwrap
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd
import plotly.graph_objects as go
from babel.dates import get_day_names, get_month_names

from kpi import config
from kpi.i18n import fmt_date, fmt_int, fmt_percent, locale_of, percent_sign, t

# What this module draws, for the type hints of the modules that may not import plotly.
Figure: TypeAlias = go.Figure

# Okabe & Ito (2008), "Color Universal Design": eight colours distinguishable by most readers.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
COLORWAY = [OKABE_ITO[name] for name in ("blue", "orange", "bluish_green", "vermillion",
                                         "reddish_purple", "sky_blue", "yellow", "black")]
GREY = "#8C8C8C"
LIGHT_GREY = "#D9D9D9"
INK = "#262730"  # Streamlit's text colour, so charts and page read as one

STATUSES = ("green", "amber", "red", "none")
STATUS_COLOURS = {
    "green": OKABE_ITO["bluish_green"],
    "amber": OKABE_ITO["orange"],
    "red": OKABE_ITO["vermillion"],
    "none": LIGHT_GREY,
}
# A symbol per status for text inside figures (heatmap cells, hover) …
STATUS_SYMBOLS = {"green": "✓", "amber": "!", "red": "✕", "none": "–"}
# … and a Material icon per status for Streamlit elements (st.metric, st.badge, st.markdown).
STATUS_ICONS = {
    "green": ":material/check_circle:",
    "amber": ":material/warning:",
    "red": ":material/cancel:",
    "none": ":material/remove:",
}
# Streamlit's named text colours closest to the status colours (for :color[text] markdown).
STATUS_TEXT_COLOURS = {"green": "green", "amber": "orange", "red": "red", "none": "gray"}

FONT_FAMILY = '"Source Sans Pro", "Source Sans 3", "DejaVu Sans", Arial, sans-serif'
FONT_SIZE = 13
TITLE_SIZE = 15


def separators(lang: str) -> str:
    """Plotly's `layout.separators` (decimal mark, then thousands mark) for `lang`."""
    return ",." if lang == "id" else ".,"


def base_layout(fig: go.Figure, lang: str, *, height: int | None = None,
                title: str | None = None, legend: bool = True,
                legend_below: bool = False) -> go.Figure:
    """Apply Kinerja's theme to `fig` (in place) and return it. The legend sits above the plot,
    or below it with `legend_below` (for narrow charts, where it would wrap into the title)."""
    fig.update_layout(
        template="plotly_white",
        colorway=COLORWAY,
        separators=separators(lang),
        font={"family": FONT_FAMILY, "size": FONT_SIZE, "color": INK},
        title={"text": title, "font": {"size": TITLE_SIZE}, "x": 0, "xanchor": "left"}
        if title else None,
        margin={"l": 8, "r": 8, "t": 40 if title else 12, "b": 8},
        paper_bgcolor="white",
        plot_bgcolor="white",
        hoverlabel={"font": {"family": FONT_FAMILY, "size": FONT_SIZE}},
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0,
                "font": {"size": FONT_SIZE - 1}},
    )
    if legend_below:  # at the foot of the figure, however many lines it takes when narrow
        fig.update_layout(legend={"yref": "container", "yanchor": "bottom", "y": 0,
                                  "valign": "top"})
    if height is not None:
        fig.update_layout(height=height)
    fig.update_xaxes(automargin=True, gridcolor="#EEEEEE", zeroline=False)
    fig.update_yaxes(automargin=True, gridcolor="#EEEEEE", zeroline=False)
    return fig


# Plotly's own English phrases in the modebar we keep, and the catalogue keys that translate them.
MODEBAR_PHRASES = {
    "Download plot as a PNG": "charts.modebar.download_png",
    "Download plot": "charts.modebar.download",
    "Preparing image - this may take a few seconds": "charts.modebar.preparing",
    "Zoom": "charts.modebar.zoom",
    "Pan": "charts.modebar.pan",
    "Reset axes": "charts.modebar.reset",
    "Double-click to zoom back out": "charts.modebar.double_click",
}
MODEBAR_REMOVE = ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d"]


def wrap_label(text: str, width: int, max_lines: int = 2) -> str:
    """`text` broken into lines of about `width` characters at spaces (plotly's `<br>`), at
    most `max_lines`; a longer text ends with an ellipsis (the hover shows it whole)."""
    lines: list[str] = []
    for word in str(text).split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(width - 1, 1)].rstrip() + "…"
    return "<br>".join(lines)


def plotly_locale(lang: str) -> dict[str, Any]:
    """A plotly.js locale for `lang` (`config.locales`): the modebar's tooltips from the
    catalogue, month and day names for date axes and the number separators from Babel."""
    locale = locale_of(lang)
    months = get_month_names("wide", locale=locale)
    short_months = get_month_names("abbreviated", locale=locale)
    days = get_day_names("wide", locale=locale)
    short_days = get_day_names("abbreviated", locale=locale)
    # Babel counts weekdays from Monday = 0; plotly's lists start on Sunday.
    sunday_first = [6, 0, 1, 2, 3, 4, 5]
    return {
        "moduleType": "locale",
        "name": lang,
        "dictionary": {phrase: t(key, lang) for phrase, key in MODEBAR_PHRASES.items()},
        "format": {
            "days": [days[i] for i in sunday_first],
            "shortDays": [short_days[i] for i in sunday_first],
            "months": [months[i] for i in range(1, 13)],
            "shortMonths": [short_months[i].rstrip(".") for i in range(1, 13)],
            "date": "%d/%m/%Y",
            "decimal": separators(lang)[0],
            "thousands": separators(lang)[1],
        },
    }


def plotly_config(lang: str, file_name: str) -> dict[str, Any]:
    """The plotly.js `config` for a chart on screen: PNG download named `file_name`.png at twice
    the size (sharp in a report), a trimmed modebar, tooltips and dates in `lang`."""
    return {
        "displaylogo": False,
        "modeBarButtonsToRemove": MODEBAR_REMOVE,
        "toImageButtonOptions": {"format": "png", "filename": file_name, "scale": 2},
        "locale": lang,
        "locales": {lang: plotly_locale(lang)},
        "responsive": True,
    }


def as_date(value: Any) -> dt.date:
    """A date from a date, datetime, pandas Timestamp or ISO string."""
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    if hasattr(value, "date") and callable(value.date):
        return value.date()
    return value


# == Compare units and Satisfaction (SKM) pages ===============================================
# The pages hand over texts already formatted in the user's language (numbers, status words,
# grade labels); these functions only draw.

BAR_HEIGHT = 34  # pixels per bar of a ranked bar chart
LABEL_WIDTH = 30  # characters per line of a bar's name
HEATMAP_LABEL_WIDTH = 20  # narrower in the heatmap: nine columns need the room
NEUTRAL_BAR = OKABE_ITO["sky_blue"]  # a bar without a status (no target)
FUNNEL_LOG_RATIO = 20  # largest ÷ smallest denominator above which the funnel's x-axis is log
# NRR heatmap: vermillion below the "Baik" line, white on it, blue above: two hues that stay
# apart for the common colour-vision deficiencies; status symbols mark what matters, not hue.
NRR_SCALE = [[0.0, "#B54A00"], [0.35, "#F4C7A3"], [0.5, "#FFFFFF"], [0.75, "#9CC9E8"],
             [1.0, OKABE_ITO["blue"]]]
GRADE_BAND_COLOURS = {"A": "#E5F1F9", "B": "#F3F8FC", "C": "#FDF6EC", "D": "#FBEAE0"}


def _text_headroom(texts: Sequence[str]) -> float:
    """How far past the longest bar the value axis must reach for the texts written beside the
    bars to fit (a factor of the axis maximum; longer texts need more room)."""
    longest = max((len(str(text)) for text in texts), default=0)
    return 1.15 + 0.025 * longest


def _nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to `top`: steps of 1, 2, 2.5 or 5 times a power of ten."""
    raw = top / count
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next((factor * power for factor in (1, 2, 2.5, 5, 10) if factor * power >= raw), raw)
    ticks = [0.0]
    while ticks[-1] + step <= top * 1.0001:
        ticks.append(ticks[-1] + step)
    return ticks


def ranked_bars(frame: pd.DataFrame, lang: str, *, axis_title: str, title: str | None = None,
                marker_name: str | None = None, lines: Sequence[tuple[float, str]] = (),
                start: float = 0.0) -> go.Figure:
    """Horizontal bars, one per row of `frame`, the first row on top. Columns: label (the axis
    name of the bar, unique), value, text (written beside the bar: the value and, in words, its
    status), colour, hover; an optional `marker` column is drawn as a black tick across each bar
    (that unit's own target or minimum sample) named `marker_name` in the legend. `lines` are
    dashed vertical reference lines (value, caption), e.g. the city value. Bars grow from
    `start`, the lowest value the measure can take (0, or 25 for the IKM)."""
    fig = go.Figure()
    # Long unit names wrap onto a second line rather than squeezing the bars.
    labels = [_wrapped(str(label), LABEL_WIDTH) for label in frame["label"]]
    values = frame["value"].astype(float)
    has_marker = bool("marker" in frame and frame["marker"].notna().any())
    markers = frame["marker"].astype(float) if has_marker else values
    fig.add_bar(y=labels, x=list(values - start), base=start, orientation="h",
                marker={"color": list(frame["colour"]), "line": {"width": 0}},
                hovertext=list(frame["hover"]), hoverinfo="text", showlegend=False)
    if has_marker:
        fig.add_scatter(y=labels, x=list(markers), mode="markers", name=marker_name,
                        marker={"symbol": "line-ns", "size": BAR_HEIGHT - 8, "color": INK,
                                "line": {"width": 3, "color": INK}},
                        hoverinfo="skip", showlegend=bool(marker_name))
    # The texts start past the bar or its marker, whichever reaches further, never across them.
    fig.add_scatter(y=labels, x=list(pd.concat([values, markers], axis=1).max(axis=1)),
                    mode="text", text=[f"  {text}" for text in frame["text"]],
                    textposition="middle right", textfont={"size": FONT_SIZE - 1},
                    cliponaxis=False, hoverinfo="skip", showlegend=False)
    for value, caption in lines:
        fig.add_vline(x=value, line={"dash": "dash", "color": GREY, "width": 1.5},
                      layer="below",  # behind the bars and the texts beside them
                      annotation={"text": caption, "font": {"size": FONT_SIZE - 2, "color": GREY},
                                  "yanchor": "bottom"},
                      annotation_position="top")
    reach = [*values.dropna(), *(value for value, _ in lines)]
    if has_marker:
        reach += list(markers.dropna())
    top = max(reach, default=start + 1.0)
    end = start + (top - start) * _text_headroom(frame["text"])
    # Ticks stop at the data: the room past it is only for the texts.
    fig.update_xaxes(title={"text": axis_title}, range=[start, end],
                     tickvals=[start, *(tick for tick in _nice_ticks(top) if tick > start)],
                     showgrid=True, fixedrange=True)
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels,
                     fixedrange=True, ticksuffix="  ")
    height = BAR_HEIGHT * len(frame) + (110 if title else 80)
    base_layout(fig, lang, height=max(height, 200), title=title, legend=has_marker)
    # The legend sits on its own line between the title and the plot, at the left (a long
    # title on a tablet reaches the right edge; the reference lines' captions sit further in).
    fig.update_layout(bargap=0.3, margin={"t": (84 if has_marker else 64) if title else 40},
                      legend={"yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0})
    return fig


def funnel_plot(points: pd.DataFrame, curve: pd.DataFrame, lang: str, *, city_rate: float,
                names: dict[str, str], x_title: str, y_title: str,
                title: str | None = None) -> go.Figure:
    """A funnel plot: each unit's rate against its denominator, with the 95 % and 99.8 % limits
    around the city rate. `points`: denominator, rate, position ("within", "better" or
    "worse" than the 99.8 % limits explain), text (written beside the dot; empty for none),
    hover. `curve`: denominator, lower_95, upper_95,
    lower_998, upper_998 (percent; clipped here to 0–100). `names`: translated legend names
    limits_95, limits_998, city, within, better, worse. Units beyond the limits have a symbol
    of their own, so the finding never rests on colour."""
    fig = go.Figure()
    for level, dash, width in (("998", "solid", 1.6), ("95", "dot", 1.4)):
        for side in ("lower", "upper"):
            fig.add_scatter(x=list(curve["denominator"]), y=list(curve[f"{side}_{level}"].clip(0, 100)),
                            mode="lines", line={"color": GREY if level == "95" else INK,
                                                "dash": dash, "width": width},
                            name=names[f"limits_{level}"], legendgroup=level,
                            showlegend=side == "upper", hoverinfo="skip")
    fig.add_hline(y=city_rate, line={"color": OKABE_ITO["sky_blue"], "width": 2},
                  annotation={"text": names["city"], "font": {"size": FONT_SIZE - 1}},
                  annotation_position="bottom right")
    styles = {"within": (OKABE_ITO["blue"], "circle", 10),
              "better": (OKABE_ITO["bluish_green"], "diamond", 13),
              "worse": (OKABE_ITO["vermillion"], "square", 12)}
    for position, (colour, symbol, size) in styles.items():
        chosen = points[points["position"] == position]
        if chosen.empty:
            continue
        fig.add_scatter(x=list(chosen["denominator"]), y=list(chosen["rate"]),
                        mode="markers+text", text=list(chosen["text"]), textposition="top center",
                        textfont={"size": FONT_SIZE - 1}, cliponaxis=False,
                        marker={"color": colour, "symbol": symbol, "size": size,
                                "line": {"color": "white", "width": 1}},
                        name=names[position], hovertext=list(chosen["hover"]), hoverinfo="text")
    rates = [*points["rate"], city_rate]
    limits = [*curve["lower_998"].clip(0, 100), *curve["upper_998"].clip(0, 100)]
    low = max(0.0, min([*rates, *limits]) - 3)
    high = min(100.0, max([*rates, *limits]) + 3)
    # Units of very different sizes crowd the left edge of a linear axis; a log axis spreads them.
    sizes = points["denominator"][points["denominator"] > 0]
    if len(sizes) and sizes.max() / sizes.min() > FUNNEL_LOG_RATIO:
        reach = [*sizes, *curve["denominator"]]
        values, texts = log_ticks(min(reach), max(reach), lang)
        fig.update_xaxes(type="log", tickvals=values, ticktext=texts)
    else:
        fig.update_xaxes(rangemode="tozero", tickformat=",d")
    fig.update_xaxes(title={"text": x_title})
    fig.update_yaxes(title={"text": y_title}, range=[low, high], ticksuffix=percent_sign(lang))
    base_layout(fig, lang, height=440, title=title)
    fig.update_layout(margin={"t": 90 if title else 60})
    return fig


def log_ticks(low: float, high: float, lang: str) -> tuple[list[float], list[str]]:
    """Ticks of a log axis from `low` to `high`, written as whole numbers in `lang` (`1.000`
    in Indonesian, `1,000` in English): the powers of ten, with 2 and 5 times them as well
    while the axis spans at most a hundredfold (plotly's own log ticks read "5, 100, 2, 5")."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    steps = (1, 2, 5) if math.log10(high / low) <= 2 else (1,)
    values = [step * 10.0 ** power for power in range(first, last + 1) for step in steps
              if low <= step * 10.0 ** power <= high]
    if len(values) < 2:  # a narrow span: its ends, rounded
        values = sorted({float(round(low)), float(round(high))})
    return values, [fmt_int(value, lang) for value in values]


def _wrapped(label: str, width: int, max_lines: int = 2) -> str:
    """`label` on lines of at most `width` characters (plotly's <br>), cut with … after
    `max_lines` lines (the full name stays in the hover)."""
    lines = textwrap.wrap(label, width) or [label]
    if len(lines) > max_lines:
        lines = [*lines[:max_lines - 1], textwrap.shorten(" ".join(lines[max_lines - 1:]),
                                                          width, placeholder="…")]
    return "<br>".join(lines)


def element_heatmap(values: pd.DataFrame, texts: pd.DataFrame, lang: str, *,
                    element_codes: Sequence[str], element_names: Sequence[str],
                    zmid: float, title: str | None = None) -> go.Figure:
    """Units (rows, the first on top) × the nine SKM elements (columns): NRR values as colour
    and as the formatted `texts` (same shape; a unit's weakest element carries a ▼). The
    colour scale is white at `zmid` (the NRR of the "Baik" line), vermillion below, blue above.
    Columns are headed by `element_codes` (U1 … U9: nine full names cannot sit side by side on a
    tablet); `element_names` are the full names for the hover (the page lists them too)."""
    units = [_wrapped(str(unit), HEATMAP_LABEL_WIDTH) for unit in values.index]
    hover = [[f"{unit}<br>{name}: {text.replace('▼', '').replace('<br>', ' ').strip()}"
              for name, text in zip(element_names, row, strict=True)]
             for unit, row in zip(values.index, texts.to_numpy().tolist(), strict=True)]
    spread = max(0.6, float((values - zmid).abs().max().max()) if values.size else 0.6)
    fig = go.Figure(go.Heatmap(
        z=values.to_numpy(), x=list(element_codes), y=units, text=texts.to_numpy(),
        texttemplate="%{text}", textfont={"size": FONT_SIZE - 1}, colorscale=NRR_SCALE,
        zmin=zmid - spread, zmax=zmid + spread, xgap=2, ygap=2, hovertext=hover,
        hoverinfo="text", showscale=False,  # every cell carries its number; the page says
    ))                                      # what the two hues mean
    fig.update_yaxes(autorange="reversed", ticksuffix="  ", fixedrange=True)
    fig.update_xaxes(side="top", tickangle=0, fixedrange=True)
    base_layout(fig, lang, height=44 * len(units) + (110 if title else 70), title=title,
                legend=False)
    fig.update_layout(margin={"t": 80 if title else 40})
    return fig


def ikm_trend(frame: pd.DataFrame, lang: str, *, bands: Sequence[tuple[float, float, str, str]],
              y_title: str, title: str | None = None) -> go.Figure:
    """IKM per period: one line per `series`, over `period` labels in the frame's order;
    columns series, period, ikm, hover. `bands` (low, high, letter, caption) shade the grade
    bands behind the lines, each captioned at its left edge, so the grade is read off the
    chart without relying on colour."""
    fig = go.Figure()
    periods = list(dict.fromkeys(frame["period"]))
    for name, rows in frame.groupby("series", sort=False):
        fig.add_scatter(x=list(rows["period"]), y=list(rows["ikm"]), mode="lines+markers",
                        name=str(name), hovertext=list(rows["hover"]), hoverinfo="text",
                        marker={"size": 8}, line={"width": 2.5})
    values = frame["ikm"].dropna()
    low = max(25.0, (values.min() if len(values) else 60.0) - 4)
    high = min(100.0, (values.max() if len(values) else 90.0) + 4)
    for band_low, band_high, letter, caption in bands:
        shown_low, shown_high = max(band_low, low), min(band_high, high)
        if shown_low >= shown_high:
            continue
        fig.add_hrect(y0=shown_low, y1=shown_high, line_width=0, layer="below",
                      fillcolor=GRADE_BAND_COLOURS.get(letter, "#F5F5F5"),
                      annotation={"text": caption, "font": {"size": FONT_SIZE - 2, "color": GREY}},
                      annotation_position="top left")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=periods)
    fig.update_yaxes(title={"text": y_title}, range=[low, high])
    base_layout(fig, lang, height=360, title=title)
    fig.update_layout(margin={"t": 80 if title else 50})
    return fig


# -- overview and unit pages -----------------------------------------------------------------
def status_heatmap(cells: pd.DataFrame, lang: str, *, rows: list[str], columns: list[str],
                   title: str | None = None) -> go.Figure:
    """Units × indicators coloured by status, each cell showing its value and status symbol.

    `cells`: one row per cell with row (label), column (label), status, text (shown in the
    cell) and hover (the tooltip); `rows` and `columns` give the order (rows top to bottom)."""
    index = {status: number for number, status in enumerate(STATUSES)}
    lookup = {(cell["row"], cell["column"]): cell for cell in cells.to_dict("records")}
    z, text, hover = [], [], []
    for row in rows:
        # The middle of the status's band in the colourscale below.
        z.append([index.get(lookup.get((row, col), {}).get("status", "none"), 3) + 0.5
                  for col in columns])
        text.append([lookup.get((row, col), {}).get("text", "") for col in columns])
        hover.append([lookup.get((row, col), {}).get("hover", "") for col in columns])
    # A discrete colourscale: each status index gets its own flat band.
    scale = []
    for number, status in enumerate(STATUSES):
        scale += [[number / len(STATUSES), STATUS_COLOURS[status]],
                  [(number + 1) / len(STATUSES), STATUS_COLOURS[status]]]
    fig = go.Figure(go.Heatmap(
        z=z, x=[wrap_label(col, 9, max_lines=3) for col in columns], y=[wrap_label(row, 22) for row in rows],
        text=text, customdata=hover, texttemplate="%{text}",
        textfont={"size": FONT_SIZE - 2, "color": INK}, hovertemplate="%{customdata}<extra></extra>",
        colorscale=scale, zmin=0, zmax=len(STATUSES), showscale=False, xgap=2, ygap=2,
    ))
    # Level headings while they fit; upright ones when the chart is too narrow for them (a
    # tablet with the sidebar open), where level ones would run into each other.
    fig.update_xaxes(side="top", autotickangles=[0, 90], showgrid=False,
                     fixedrange=True, tickfont={"size": FONT_SIZE - 2})
    fig.update_yaxes(autorange="reversed", showgrid=False, fixedrange=True,
                     tickfont={"size": FONT_SIZE - 1})
    base_layout(fig, lang, height=max(160, 38 * len(rows) + 80), title=title, legend=False)
    fig.update_layout(margin={"t": 84 if title else 62})
    return fig


def _clip_step(step: dict, x_first: dt.date, x_last: dt.date) -> tuple[dt.date, dt.date]:
    """The part of a target step (valid_from … valid_to, None = open) inside the window."""
    open_ended = step["valid_to"] is None or step["valid_to"] != step["valid_to"]  # None or NaN
    start = max(as_date(step["valid_from"]), x_first)
    end = x_last if open_ended else min(as_date(step["valid_to"]), x_last)
    return start, end


def _step_polyline(steps: pd.DataFrame, x_first: dt.date, x_last: dt.date,
                   value: Callable[[dict], float]) -> tuple[list, list]:
    """x and y of a line that follows `value(step)` over each step clipped to the window, with
    gaps between steps that do not touch."""
    xs: list = []
    ys: list = []
    previous_end = None
    for step in steps.to_dict("records"):
        start, end = _clip_step(step, x_first, x_last)
        if start > end:
            continue
        if previous_end is not None and (start - previous_end).days > 1:
            xs.append(None)
            ys.append(None)
        xs += [start, end]
        ys += [value(step), value(step)]
        previous_end = end
    return xs, ys


# How a tick names its period (a Babel pattern: month names in the reader's language), and the
# year written under the first tick and under each tick in a new year.
PERIOD_TICK_PATTERNS = {"day": "d MMM", "week": "d MMM", "month": "MMM", "quarter": "MMM",
                        "year": "y"}
MONTHS_PER_PERIOD = {"month": 1, "quarter": 3, "year": 12}
MAX_TICKS = 5  # few enough to stay level and legible in a half-width chart on a tablet


def _months_later(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_ticks(starts: Sequence, grain: str, lang: str) -> tuple[list[dt.date], list[str]]:
    """At most MAX_TICKS evenly spaced ticks on the periods' first dates (a week's Monday), from
    the first of `starts` to the last, and their labels in `lang` (`6 Jul`, `17 Agu`); the first
    tick and every tick in another year than the tick before carry the year on a second line,
    so a chart across New Year never reads as one year."""
    days = sorted({as_date(day) for day in starts})
    if not days:
        return [], []
    every = -(-len(days) // MAX_TICKS)  # ceiling division
    ticks = [days[0]]
    while True:
        if grain in MONTHS_PER_PERIOD:
            following = _months_later(ticks[-1], every * MONTHS_PER_PERIOD[grain])
        else:
            following = ticks[-1] + dt.timedelta(days=every * (7 if grain == "week" else 1))
        if following > days[-1]:
            break
        ticks.append(following)
    texts = []
    for number, day in enumerate(ticks):
        text = fmt_date(day, lang, PERIOD_TICK_PATTERNS[grain])
        if grain != "year" and (number == 0 or day.year != ticks[number - 1].year):
            text += "<br>" + fmt_date(day, lang, "y")
        texts.append(text)
    return ticks, texts


def period_axis(fig: go.Figure, starts: Sequence[Any] | pd.Series, grain: str | None,
                lang: str) -> None:
    """Put the x-axis ticks on the periods' first dates, labelled as `period_ticks` says."""
    if grain not in PERIOD_TICK_PATTERNS or not len(starts):
        return
    ticks, texts = period_ticks(list(starts), grain, lang)
    fig.update_xaxes(tickvals=ticks, ticktext=texts, tickangle=0)


PERIOD_DAYS = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}
UPCOMING_PERIODS = 12  # how far ahead a target that starts later is drawn


def _with_upcoming_steps(steps: pd.DataFrame, x_last: dt.date, grain: str | None) -> dt.date:
    """The chart's last date, moved on so that targets starting within UPCOMING_PERIODS after
    `x_last` are drawn (each for one period), before any data reaches them."""
    period = dt.timedelta(days=PERIOD_DAYS.get(grain or "week", 7))
    upcoming = [day for day in (as_date(value) for value in steps["valid_from"])
                if x_last < day <= x_last + UPCOMING_PERIODS * period]
    return max(upcoming) + period - dt.timedelta(days=1) if upcoming else x_last


LEGEND_LINE_CHARS = 40  # a legend entry's line: fits a chart half a tablet wide (~360 px)


def _percents(values: Sequence[float], lang: str) -> str:
    """Percentages as the language writes them, each with its sign (`10 % / 12,5 %`): a comma
    between them would read as a decimal comma in Indonesian."""
    return " / ".join(fmt_percent(value, lang, 0 if float(value).is_integer() else 1)
                      for value in values)


def trend_chart(points: pd.DataFrame, steps: pd.DataFrame, lang: str, *, better: str, x_last: dt.date, labels: dict[str, str],
                y_title: str | None = None, title: str | None = None,
                grain: str | None = None, markers: Sequence[dict] = ()) -> go.Figure:
    """A KPI over time with its target as it was valid (a step line) and the near-target band.

    `points`: period_start, value, status, hover (text); `steps`: valid_from, valid_to, target,
    amber_pct (kpi.targets.target_steps); `x_last` the last date the chart covers; `labels`:
    value, target, band (the band's legend text, may hold {pct}: the percentages, signed);
    `markers`: interventions
    (`intervention_markers`)."""
    fig = go.Figure()
    if len(points):
        x_first = as_date(points["period_start"].iloc[0])
        if len(steps):
            x_last = _with_upcoming_steps(steps, x_last, grain)
            drawn_pcts = set()
            for step in steps.to_dict("records"):
                band_edge = step["target"] * (1 - step["amber_pct"] / 100 if better == "higher"
                                              else 1 + step["amber_pct"] / 100)
                start, end = _clip_step(step, x_first, x_last)
                if start > end:
                    continue
                drawn_pcts.add(step["amber_pct"])
                xs = [start, end]
                fig.add_trace(go.Scatter(
                    x=[xs[0], xs[-1], xs[-1], xs[0]],
                    y=[step["target"], step["target"], band_edge, band_edge],
                    fill="toself", fillcolor="rgba(230,159,0,0.18)", line={"width": 0},
                    mode="lines", hoverinfo="skip", showlegend=False, legendgroup="band",
                    name=labels["band"].format(pct=_percents([step["amber_pct"]], lang))))
            band_pcts = sorted(drawn_pcts)  # only the bands this chart draws (D7)
            fig.add_trace(go.Scatter(  # one legend entry for the band, on lines that fit
                x=[None], y=[None], mode="markers", legendgroup="band",  # a tablet's half
                marker={"symbol": "square", "size": 12, "color": "rgba(230,159,0,0.35)"},
                name=wrap_label(labels["band"].format(pct=_percents(band_pcts, lang)),
                                LEGEND_LINE_CHARS, max_lines=3)))
            xs, ys = _step_polyline(steps, x_first, x_last, lambda s: s["target"])
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="lines", name=labels["target"], hoverinfo="skip",
                line={"color": OKABE_ITO["black"], "width": 2, "dash": "dash"}))
        fig.add_trace(go.Scatter(
            x=points["period_start"], y=points["value"], mode="lines+markers",
            name=labels["value"], customdata=points["hover"],
            hovertemplate="%{customdata}<extra></extra>",
            line={"color": OKABE_ITO["blue"], "width": 2},
            marker={"size": 8, "color": [STATUS_COLOURS.get(s, GREY) for s in points["status"]],
                    "symbol": [STATUS_MARKERS.get(s, "circle") for s in points["status"]],
                    "line": {"width": 1, "color": "white"}}))
    fig.update_yaxes(title=y_title)
    period_axis(fig, points["period_start"], grain, lang)
    intervention_markers(fig, markers)
    return base_layout(fig, lang, height=400, title=title, legend_below=True)


# Marker shapes per status, so a point's status reads without its colour.
STATUS_MARKERS = {"green": "circle", "amber": "diamond", "red": "x", "none": "circle-open"}
VARIATION_COLOURS = {"common": GREY, "concern": OKABE_ITO["orange"],
                     "improvement": OKABE_ITO["blue"]}
VARIATION_MARKERS = {"common": "circle", "concern": "triangle-up", "improvement": "square"}


def spc_chart(points: pd.DataFrame, lang: str, *, centre: float | None, ucl: float | None,
              lcl: float | None, trial: bool, target: float | None, labels: dict[str, str],
              y_title: str | None = None, title: str | None = None,
              grain: str | None = None, segments: Sequence[dict] | None = None,
              markers: Sequence[dict] = ()) -> go.Figure:
    """An XmR chart in the manner of NHS "Making Data Count": the values in grey, points with
    a special cause marked orange (concern) or blue (improvement) with their own marker shape,
    the centre line, the control limits (dotted while trial) and the target.

    `points`: period_start, value, variation ("common" | "concern" | "improvement"), hover;
    `labels`: value, centre, limits, target, concern, improvement, trial_suffix.
    `segments` (re-baselined limits, kpi.spc): start (a date), centre, ucl, lcl, trial each;
    the centre and limits are drawn per segment, as steps (`centre` … `trial` are then the last
    segment's). `markers`: interventions drawn as labelled vertical lines (`intervention_markers`)."""
    fig = go.Figure()
    if len(points):
        x = points["period_start"]
        if segments is None or not len(segments):
            segments = [{"start": x.iloc[0], "centre": centre, "ucl": ucl, "lcl": lcl,
                         "trial": trial}]
        legend_shown: set[str] = set()
        for number, segment in enumerate(segments):
            first = as_date(segment["start"])
            last = (as_date(segments[number + 1]["start"]) if number + 1 < len(segments)
                    else as_date(x.iloc[-1]))
            limit_name = labels["limits"] + (labels["trial_suffix"] if segment["trial"] else "")
            lines = [(segment["ucl"], limit_name, "limits",
                      {"color": GREY, "width": 1.5,
                       "dash": "dot" if segment["trial"] else "dash"}),
                     (segment["lcl"], limit_name, "limits",
                      {"color": GREY, "width": 1.5,
                       "dash": "dot" if segment["trial"] else "dash"}),
                     (segment["centre"], labels["centre"], "centre",
                      {"color": INK, "width": 1.5})]
            for bound, name, group, line in lines:
                if bound is None or (segment["ucl"] is None and group == "limits"):
                    continue
                fig.add_trace(go.Scatter(
                    x=[first, last], y=[bound, bound], mode="lines", name=name,
                    legendgroup=group, showlegend=name not in legend_shown, hoverinfo="skip",
                    line=line, meta={"segment": number, "line": group}))
                legend_shown.add(name)
        if target is not None:
            fig.add_trace(go.Scatter(
                x=[x.iloc[0], x.iloc[-1]], y=[target, target], mode="lines",
                name=labels["target"], hoverinfo="skip",
                line={"color": OKABE_ITO["vermillion"], "width": 1.5, "dash": "dashdot"}))
        fig.add_trace(go.Scatter(
            x=x, y=points["value"], mode="lines+markers", name=labels["value"],
            customdata=points["hover"], hovertemplate="%{customdata}<extra></extra>",
            line={"color": "#B0B0B0", "width": 1.5},
            marker={"size": 6, "color": GREY}))
        for reading in ("concern", "improvement"):
            chosen = points[points["variation"] == reading]
            if chosen.empty:
                continue
            fig.add_trace(go.Scatter(
                x=chosen["period_start"], y=chosen["value"], mode="markers",
                name=labels[reading], customdata=chosen["hover"],
                hovertemplate="%{customdata}<extra></extra>",
                marker={"size": 10, "color": VARIATION_COLOURS[reading],
                        "symbol": VARIATION_MARKERS[reading],
                        "line": {"width": 1, "color": "white"}}))
    fig.update_yaxes(title=y_title)
    period_axis(fig, points["period_start"], grain, lang)
    intervention_markers(fig, markers)
    return base_layout(fig, lang, height=400, title=title, legend_below=True)


MARKER_COLOUR = OKABE_ITO["reddish_purple"]
MARKER_LABEL_CHARS = 24  # a label is written up its line: about a third of a 400 px chart


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis when longer."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: max(limit - 1, 1)].rstrip() + "…"


def intervention_markers(fig: go.Figure, markers: Sequence[dict]) -> None:
    """Each intervention as a dotted vertical line at its date with its title written up the
    line (shortened when long), the whole title, date and author on hover. `markers`: date,
    title, hover (plain text: escaped here, as typed text must be)."""
    for marker in markers:
        day = as_date(marker["date"]).isoformat()
        fig.add_shape(type="line", x0=day, x1=day, xref="x", y0=0, y1=1, yref="paper",
                      line={"color": MARKER_COLOUR, "width": 1.5, "dash": "dot"}, layer="below")
        fig.add_annotation(
            x=day, xref="x", y=1, yref="paper", text=html.escape(shorten(marker["title"],
                                                                         MARKER_LABEL_CHARS)),
            hovertext=html.escape(marker["hover"]).replace("\n", "<br>"), showarrow=False,
            textangle=-90, xanchor="right", yanchor="top", align="right",
            font={"size": FONT_SIZE - 2, "color": MARKER_COLOUR},
            bgcolor="rgba(255,255,255,0.75)", name=f"intervention-{marker.get('id', '')}")


def weekday_hour_heatmap(cells: pd.DataFrame, lang: str, *, weekdays: list[str], value_title: str,
                         title: str | None = None, decimals: int = 0) -> go.Figure:
    """A weekday × hour heatmap: `cells` has weekday (1 = Monday … 7), hour (0–23) and value;
    `weekdays` are the seven day names, Monday first. Only the hours with data are columns."""
    hours = sorted(int(hour) for hour in cells["hour"].unique()) if len(cells) else []
    grid = {(int(row["weekday"]), int(row["hour"])): row["value"] for row in cells.to_dict("records")}
    days = [day for day in range(1, 8) if any((day, hour) in grid for hour in hours)]
    z = [[grid.get((day, hour)) for hour in hours] for day in days]
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"{hour:02d}" for hour in hours], y=[weekdays[day - 1] for day in days],
        colorscale="Viridis", reversescale=True, xgap=1, ygap=1, hoverongaps=False,
        texttemplate=f"%{{z:,.{decimals}f}}", textfont={"size": FONT_SIZE - 3},
        colorbar={"title": {"text": value_title, "side": "right"}, "thickness": 12},
        hovertemplate=f"%{{y}} %{{x}}:00 — %{{z:,.{decimals}f}}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", showgrid=False, fixedrange=True)
    fig.update_xaxes(showgrid=False, fixedrange=True, type="category")
    return base_layout(fig, lang, height=max(200, 36 * len(days) + 90), title=title, legend=False)


# -- static images (the management review pack, kpi/pack.py) -----------------------------------
def _use_debian_chromium() -> None:
    """Point kaleido at Debian's /usr/bin/chromium unless BROWSER_PATH names another browser."""
    if "BROWSER_PATH" not in os.environ and Path("/usr/bin/chromium").exists():
        os.environ["BROWSER_PATH"] = "/usr/bin/chromium"


# The page kaleido renders in loads plotly.js from the plotly package; MathJax (for LaTeX
# labels, which Kinerja has none of) would come from a CDN, so it is left out.
_KALEIDO_OPTIONS = {"mathjax": False}


@functools.cache
def _one_page_kaleido() -> type:
    """kaleido's browser session, except that its page is not reloaded after every image.

    kaleido reloads the page, and so parses and runs all of plotly.js again, after each
    image: for the pack's 24 charts that was ≈ 6 s of Chromium's CPU out of 10. Plotly.toImage
    draws each figure in a div of its own and removes it, so the page holds nothing of one
    image when the next is drawn: the demo pack's 24 images were byte for byte those of the
    reloading session, and tests/test_pack.py checks that a figure drawn after another is the
    figure drawn first. kaleido is pinned (requirements.txt); the method replaced is private,
    and that test fails if it is gone."""
    import kaleido  # on use: only the pack's static images need kaleido (and a browser)

    class OnePageKaleido(kaleido.Kaleido):
        async def _return_kaleido_tab(self, tab: Any) -> None:
            await self.tabs_ready.put(tab)

    return OnePageKaleido


def _write_in_one_page(builds: Sequence[Callable[[], go.Figure]], paths: Sequence[os.PathLike],
                       opts: dict) -> None:
    """Write the figures that `builds` make to `paths` in one browser session and one page.

    The session runs in a thread of its own (so an event loop of the caller's is left alone)
    and starts at once: this thread builds the figures while Chromium starts and loads
    plotly.js, and hands each over as it is built, so a figure is drawn while the next is
    being built."""
    built: queue.Queue[dict | None] = queue.Queue()
    failure: list[BaseException] = []

    async def specs() -> AsyncIterator[dict]:
        for path in paths:
            figure = await asyncio.to_thread(built.get)
            if figure is None:  # the caller failed to build one: no more come
                return
            yield {"fig": figure, "path": path, "opts": opts}

    async def session() -> None:
        async with _one_page_kaleido()(**_KALEIDO_OPTIONS) as browser:
            await browser.write_fig_from_object(specs(), cancel_on_error=True)

    def run() -> None:
        try:
            asyncio.run(session())
        except BaseException as error:  # raised again in the caller's thread
            failure.append(error)

    thread = threading.Thread(target=run, name="kinerja-chart-images")
    thread.start()
    try:
        for build in builds:
            built.put(build().to_dict())
    except BaseException:
        built.put(None)
        raise
    finally:
        thread.join()
    if failure:
        raise failure[0]


@functools.cache
def _drawing_code_digest() -> str:
    """A digest of what draws a figure besides its inputs (this module, the pack's figure code,
    plotly's version): part of every image's cache key, so a change of the code redraws."""
    digest = hashlib.sha256(version("plotly").encode())
    for module in ("charts.py", "pack.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    return digest.hexdigest()


# One rendering at a time in a process: a pack asked for while the dashboard's warm-up is
# rendering the same charts waits for those images instead of starting a second browser.
_RENDERING = threading.Lock()


def cached_images(figures: Sequence[tuple[str, Callable[[], go.Figure]]], *,
                  image_format: str = "png", width: int = 900, height: int = 340,
                  scale: float = 2.0) -> list[bytes]:
    """Static images (`png`, `jpg` or `svg`) of `figures`, in order: each a (key, build) pair,
    where `key` names everything the figure is drawn from (its data, language, labels) and
    `build` makes it. All images missing from the cache are rendered in one headless Chromium
    session (plotly's static export engine, kaleido; a browser per image would cost seconds
    each). No browser is ever downloaded.

    Images are kept in a cache folder (config.chart_cache_dir) named by a digest of the key,
    the export options and the drawing code, so a chart whose inputs did not change is neither
    built nor rendered again: the dashboard and the CLI share it, and the browser starts only
    for new charts."""
    if not figures:
        return []
    code = _drawing_code_digest()
    opts = {"format": image_format, "width": width, "scale": scale, "height": height}
    cache = config.chart_cache_dir()
    found: dict[int, bytes] = {}
    wanted: list[tuple[int, Callable[[], go.Figure], Path]] = []
    for index, (key, build) in enumerate(figures):
        named = json.dumps([key, opts, code], sort_keys=True)
        cached = cache / f"{hashlib.sha256(named.encode()).hexdigest()}.{image_format}"
        if cached.is_file():
            found[index] = cached.read_bytes()
        else:
            wanted.append((index, build, cached))
    if wanted:
        with _RENDERING:
            _render(wanted, found, opts)
    return [found[index] for index in range(len(figures))]


def _render(wanted: list, found: dict[int, bytes], opts: dict) -> None:
    """Render the (index, build, cache path) images of `wanted` into `found` and the cache,
    except those another thread rendered meanwhile (the caller holds _RENDERING)."""
    for index, _, cached in wanted:
        if cached.is_file():
            found[index] = cached.read_bytes()
    wanted = [entry for entry in wanted if entry[0] not in found]
    if wanted:
        _use_debian_chromium()
        cache = wanted[0][2].parent
        with tempfile.TemporaryDirectory(prefix="kinerja-images-") as folder:
            paths = [Path(folder) / cached.name for _, _, cached in wanted]
            _write_in_one_page([build for _, build, _ in wanted], paths, opts)
            cache.mkdir(parents=True, exist_ok=True)
            for (index, _, cached), path in zip(wanted, paths, strict=True):
                found[index] = path.read_bytes()
                # Written under a temporary name, then renamed: another process never reads
                # half an image.
                partial = cached.with_name(f"{cached.name}.{os.getpid()}.part")
                partial.write_bytes(found[index])
                partial.replace(cached)

