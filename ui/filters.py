"""The shared sidebar filters: period grain, period, unit type and parent unit.

Each filter lives in three places, and this module keeps them in step:
- the widget (the user's latest choice on this page);
- the URL query parameters `grain`, `period`, `type`, `parent`, so that a copied link reproduces
  the view;
- a plain session_state mirror, because Streamlit drops a widget's state when a page that does
  not draw it runs (a page switch), and page switches drop the query parameters.
The rule: a URL value that differs from the mirror came from outside the session's own runs
(a followed link, a page link with query parameters) and wins; otherwise the widget wins, then the
mirror, then the default. Every run ends with widget, mirror and URL equal.

Pages call `sidebar_filters(ctx)` and get a `Filters`; `units_in_scope` applies the unit-type
and parent filters to the unit tree.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from kpi import config, labels, metrics, reporting
from kpi.i18n import fmt_date, fmt_int, has_key, t
from kpi.vocabulary import CITY, PERIODS
from ui import drill
from ui.data import load, per_version
from ui.guard import PageContext
from ui.state import keep_in_url

GRAINS = PERIODS
DEFAULT_GRAIN = "week"
# How far back trends and sparklines reach from the chosen period, per grain.
HISTORY_PERIODS = {"day": 42, "week": 26, "month": 18, "quarter": 12, "year": 10}
ALL = ""  # the option meaning "no filter" for unit type and parent

_WIDGET_PREFIX = "kinerja_filter_"
_MIRROR_PREFIX = "kinerja_kept_"


@dataclass(frozen=True)
class Filters:
    """What the sidebar selected. `period_start`…`period_end` is the chosen period (both dates
    included); `date_from`…`period_end` is the history window ending with it (for trends and
    sparklines: HISTORY_PERIODS periods, never before the first data). `unit_type` and
    `parent` are None when not filtered."""

    grain: str
    period_start: dt.date
    period_end: dt.date
    date_from: dt.date
    unit_type: str | None
    parent: str | None
    partial: bool = False  # the period is not over, the data stop inside it, or units are missing

    @property
    def previous_start(self) -> dt.date:
        """The first date of the period before the chosen one."""
        return metrics.previous_period(self.period_start, self.grain)

    def url_params(self, *, unit_filters: bool = True) -> dict[str, str]:
        """The query parameters that reproduce this selection (for st.page_link); without the
        unit type and parent for a page about one unit."""
        params = {"grain": self.grain, "period": self.period_start.isoformat()}
        if not unit_filters:
            return params
        if self.unit_type:
            params["type"] = self.unit_type
        if self.parent:
            params["parent"] = self.parent
        return params


# -- periods -------------------------------------------------------------------------------
def period_end(start: dt.date, grain: str) -> dt.date:
    """The last date of the `grain` period that starts on `start`."""
    return metrics.next_period(start, grain) - dt.timedelta(days=1)


def period_starts(first: dt.date, last: dt.date, grain: str) -> list[dt.date]:
    """The first dates of every `grain` period touching [first, last], newest first."""
    starts = []
    start = metrics.period_start(first, grain)
    while start <= last:
        starts.append(start)
        start = metrics.next_period(start, grain)
    return starts[::-1]


def data_covers(end: dt.date, last_data_day: dt.date) -> bool:
    """Whether the data reach a period ending on `end`: it ends on or before the last day with
    data, or only a weekend lies between (data often stop on a Friday or Saturday because
    offices close at the weekend, and that period is still whole)."""
    day = last_data_day + dt.timedelta(days=1)
    while day <= end:
        if day.weekday() < 5:  # a working day without data: the period is partial
            return False
        day += dt.timedelta(days=1)
    return True


def is_complete_period(start: dt.date, last_data_day: dt.date, grain: str,
                       today: dt.date | None = None) -> bool:
    """Whether the `grain` period starting on `start` is over (it ended before today) and the
    data reach its end (data_covers): a month whose data stop on the 22nd is partial."""
    end = period_end(start, grain)
    return end < (today or config.local_today()) and data_covers(end, last_data_day)


def last_complete_period(starts: Sequence[dt.date], last_data_day: dt.date, grain: str,
                         today: dt.date | None = None) -> dt.date:
    """The newest period (of `starts`, newest first) that is complete (is_complete_period).
    The newest period when none is."""
    for start in starts:
        if is_complete_period(start, last_data_day, grain, today):
            return start
    return starts[0]


def date_range_label(first: dt.date, last: dt.date, lang: str) -> str:
    """`16–22 Nov 2026`, `28 Sep – 4 Oct 2026`, `29 Dec 2025 – 4 Jan 2026` in the language."""
    if first == last:
        return fmt_date(first, lang, "d MMM y")
    if (first.year, first.month) == (last.year, last.month):
        return f"{fmt_date(first, lang, 'd')}–{fmt_date(last, lang, 'd MMM y')}"
    if first.year == last.year:
        return f"{fmt_date(first, lang, 'd MMM')} – {fmt_date(last, lang, 'd MMM y')}"
    return f"{fmt_date(first, lang, 'd MMM y')} – {fmt_date(last, lang, 'd MMM y')}"


def period_label(start: dt.date, grain: str, lang: str) -> str:
    """A period as people name it: `Week 47 · 16–22 Nov 2026`, `Minggu 47 · 16–22 Nov 2026`,
    `November 2026`, `Q4 2026 · Oct–Dec`, `2026`, `Mon 16 Nov 2026`."""
    end = period_end(start, grain)
    if grain == "day":
        return fmt_date(start, lang, "EEE d MMM y")
    if grain == "week":
        return t("filters.period_week", lang, week=start.isocalendar().week,
                 dates=date_range_label(start, end, lang))
    if grain == "month":
        return fmt_date(start, lang, "MMMM y")
    if grain == "quarter":
        months = f"{fmt_date(start, lang, 'MMM')}–{fmt_date(end, lang, 'MMM')}"
        return t("filters.period_quarter", lang, quarter=(start.month - 1) // 3 + 1,
                 year=start.year, months=months)
    return str(start.year)


def grain_label(grain: str, lang: str) -> str:
    return t(f"filters.grain_{grain}", lang)


def unit_type_label(unit_type: str, lang: str) -> str:
    """The translated name of a unit type; the code itself for a type the catalogue lacks."""
    key = f"filters.unit_types.{unit_type}"
    return t(key, lang) if has_key(key, lang) else unit_type


# -- unit scope ------------------------------------------------------------------------------
def scoped_tree(tree: pd.DataFrame, roots: Sequence[str]) -> pd.DataFrame:
    """The units of `tree` in the subtrees of `roots` (tree order), each root a root of its own:
    its depth 0 and the paths cut to start there (the tree a city of its own would have)."""
    wanted = set(roots)
    rows, depths, paths = [], [], []
    for position, (code, path) in enumerate(zip(tree["unit_code"], tree["path"], strict=True)):
        steps = list(path)
        top = next((index for index, step in enumerate(steps) if step in wanted), None)
        if code in wanted and top is None:
            steps = []
        elif top is not None:
            steps = steps[top:]
        else:
            continue
        rows.append(position)
        depths.append(len(steps))
        paths.append(steps)
    chosen = tree.iloc[rows].reset_index(drop=True)
    chosen["depth"] = depths
    chosen["path"] = paths
    tops = set(chosen["unit_code"][chosen["depth"] == 0])
    chosen["parent_code"] = [None if code in tops else parent for code, parent
                             in zip(chosen["unit_code"], chosen["parent_code"], strict=True)]
    return chosen


def visible_tree(ctx: PageContext) -> pd.DataFrame:
    """The unit tree this visitor sees: a city user (a unit scope, kpi/scope.py) the subtrees of
    their units, as if the store held only those (scoped_tree); everyone else every unit."""
    return tree_seen(ctx.units)


def tree_seen(units: Sequence[str]) -> pd.DataFrame:
    """The unit tree seen by a visitor of unit scope `units` (empty: every unit)."""
    tree = load(metrics.unit_tree)
    return scoped_tree(tree, units) if units else tree


def sees_a_province(units: Sequence[str]) -> bool:
    """Whether a visitor of unit scope `units` (empty: every unit) sees a province
    (drill.is_large): their overview opens on its cities, and the router names the page so.
    A city user of a province sees their city. Decided once per data version."""
    return per_version("sees-province", lambda: drill.is_large(tree_seen(units)),
                       units=list(units))


def whole_codes(ctx: PageContext) -> list[str]:
    """The codes whose rows stand for the whole of what this visitor sees: the city (`*`), or
    a city user's own units (their scope's tops) in the place of the city."""
    return list(ctx.units) if ctx.units else [CITY]


def units_shown(ctx: PageContext, tree: pd.DataFrame, filters: Filters) -> list[str]:
    """`units_in_scope`, less a city user's own units (their scope's tops), which the pages
    show in the city's place (whole_codes), not among the units."""
    whole = set(whole_codes(ctx))
    return [code for code in units_in_scope(tree, filters) if code not in whole]


def coverages(ctx: PageContext, grain: str) -> reporting.Coverages:
    """Who reported in each `grain` period, among the units this visitor sees."""
    if not ctx.units:
        return load(reporting.coverages, period=grain)
    tree = visible_tree(ctx)
    return _counted(ctx, grain, "scope", lambda: {code: code for code in tree["unit_code"]})


def level_coverages(ctx: PageContext, tree: pd.DataFrame, grain: str,
                    parent: str | None) -> reporting.Coverages:
    """Who reported among the units whose figures the page's headline pools: at a city of a
    province (the parent filter on a tree drill.is_large, where the tiles are the city's),
    that city's units; otherwise every unit this visitor sees (coverages)."""
    if not (parent and drill.is_large(tree)):
        return coverages(ctx, grain)
    return _counted(ctx, grain, "level", lambda: {
        code: code for code in tree[in_subtree(tree, parent)]["unit_code"]}, parent=parent)


def city_coverages(ctx: PageContext, tree: pd.DataFrame, grain: str) -> reporting.Coverages:
    """Who reported among the top-level units of `tree` (a province's cities): a city has
    reported when any unit of its subtree has."""
    return _counted(ctx, grain, "cities", lambda: {
        code: (list(path) or [code])[0]
        for code, path in zip(tree["unit_code"], tree["path"], strict=True)})


def _counted(ctx: PageContext, grain: str, name: str,
             counted_as: Callable[[], dict[str, str]], **key: object) -> reporting.Coverages:
    """reporting.coverages_of the units `counted_as()` maps, kept per data version (grouping
    a province's unit × week rows on every rerun cost a tenth of a second)."""
    return per_version(f"coverage-{name}", lambda: reporting.coverages_of(
        load(reporting.reported_units, period=grain), grain, counted_as()),
        grain=grain, scope=list(ctx.units), **key)


def in_subtree(tree: pd.DataFrame, code: str) -> pd.Series:
    """Whether each unit of `tree` lies in the subtree of `code` (`code` itself included)."""
    return tree["path"].map(lambda path: code in list(path)) | (tree["unit_code"] == code)


def units_in_scope(tree: pd.DataFrame, filters: Filters) -> list[str]:
    """Codes of the units (tree order) of the chosen type that lie under the chosen parent
    (the parent itself included, as a unit's KPIs cover its subtree)."""
    chosen = tree
    if filters.parent:
        chosen = chosen[in_subtree(chosen, filters.parent)]
    if filters.unit_type:
        chosen = chosen[chosen["type"] == filters.unit_type]
    return chosen["unit_code"].tolist()


_names_of: dict[int, tuple[weakref.ref, dict[str, str]]] = {}  # the last tree's names


def unit_label(tree: pd.DataFrame, code: str) -> str:
    """`Name (CODE)` of a unit; the code alone when the tree does not know it."""
    kept = _names_of.get(id(tree))
    if kept is not None and kept[0]() is tree:  # a page labels many units of one tree
        names = kept[1]
    else:
        names = dict(zip(tree["unit_code"].tolist(), tree["name"].tolist(), strict=True))
        _names_of.clear()
        _names_of[id(tree)] = (weakref.ref(tree), names)
    return labels.name_and_code(names[code], code) if code in names else code


# -- widget / URL / session synchronisation ---------------------------------------------------
def synced_choice(name: str, options: Sequence[str], default: str, *,
                  widget: Callable[..., Any], **widget_args: object) -> str:
    """Draw `widget` (e.g. st.selectbox) for the URL parameter `name` over `options` and
    return the chosen option, keeping widget, URL and session mirror in step (module docstring).
    Other pages (compare, satisfaction) may use it for their own URL-backed choices."""
    widget_key = _WIDGET_PREFIX + name
    mirror_key = _MIRROR_PREFIX + name
    value: Any
    from_url = st.query_params.get(name)
    mirror = st.session_state.get(mirror_key)
    current = st.session_state.get(widget_key)
    if from_url is not None and from_url != mirror and from_url in options:
        value = from_url
    elif current in options:
        value = current
    elif mirror in options:
        value = mirror
    else:
        value = default
    # Always hand the value to the widget: a widget drawn by another page has another id, and
    # a state left over from there would not reach this one.
    st.session_state[widget_key] = value
    chosen = widget(options=list(options), key=widget_key, **widget_args)
    chosen = chosen if chosen in options else default
    st.session_state[mirror_key] = chosen
    keep_in_url(**{name: chosen})
    return chosen


def forget_choice(name: str) -> None:
    """Drop a remembered choice (e.g. the period when the grain changes)."""
    st.session_state.pop(_WIDGET_PREFIX + name, None)
    st.session_state.pop(_MIRROR_PREFIX + name, None)


def show_coverage(covered: reporting.Coverage, lang: str,
                  cities: reporting.Coverage | None = None) -> None:
    """"n of m units reported" under the page's title, and at a province's top level "in k of
    l cities and regencies"; "n units reported" alone when nothing before the period says who
    else should have (the data's first period); a warning when the period is incomplete."""
    text = t("filters.units_reported" if covered.has_history else "coverage.units", lang,
             reported=fmt_int(covered.reported, lang), expected=fmt_int(covered.expected, lang))
    if cities is not None:
        text = t("coverage.in_cities" if covered.has_history else "coverage.in_cities_only",
                 lang, units=text, reported=fmt_int(cities.reported, lang),
                 expected=fmt_int(cities.expected, lang))
    if not covered.has_history:
        text = t("coverage.no_history", lang, coverage=text)
    if covered.complete:
        st.caption(text)
    else:
        st.warning(t("filters.incomplete_note", lang, coverage=text,
                     missing=fmt_int(covered.missing, lang)), icon=":material/hourglass_top:")


def sidebar_filters(ctx: PageContext, *, unit_filters: bool = True,
                    default_grain: str = DEFAULT_GRAIN) -> Filters | None:
    """Draw the shared filters in the sidebar and return the selection; None when the store has
    no dated data yet (the page then says so). `unit_filters=False` leaves out unit type and
    parent (a page about one unit). `default_grain` is the grain before the user has chosen
    one in this session (the Satisfaction page reports SKM per quarter)."""
    lang = ctx.lang
    first, last = load(metrics.data_range)
    if first is None or last is None:
        return None
    with st.sidebar:
        st.subheader(t("filters.heading", lang))
        previous_grain = st.session_state.get(_MIRROR_PREFIX + "grain")
        grain = synced_choice("grain", GRAINS, default_grain, widget=st.selectbox,
                              label=t("filters.grain", lang),
                              format_func=lambda g: grain_label(g, lang))
        if previous_grain is not None and previous_grain != grain \
                and st.query_params.get("period") == st.session_state.get(_MIRROR_PREFIX + "period"):
            # The user switched grain: a period of the old grain means nothing in the new one.
            forget_choice("period")
            keep_in_url(period=None)
        starts = period_starts(first, last, grain)
        covered_in = coverages(ctx, grain)
        over = last_complete_period(starts, last, grain)
        # The newest period that is over AND that most units have reported (issue 12).
        default = covered_in.latest_complete(starts[starts.index(over):]) or over
        iso = [start.isoformat() for start in starts]

        def label(start_text: str) -> str:
            start = dt.date.fromisoformat(start_text)
            text = period_label(start, grain, lang)
            if not covered_in(start).complete or not is_complete_period(start, last, grain):
                text = t("filters.incomplete_period", lang, period=text)
            return text

        chosen = synced_choice("period", iso, default.isoformat(), widget=st.selectbox,
                               label=t("filters.period", lang), format_func=label,
                               help=t("filters.period_help", lang))
        start = dt.date.fromisoformat(chosen)
        covered = covered_in(start)
        unit_type = parent = None
        cities = None
        if unit_filters:
            tree = visible_tree(ctx)
            types = sorted(tree["type"].dropna().unique().tolist())
            unit_type = synced_choice("type", [ALL, *types], ALL, widget=st.selectbox,
                                      label=t("filters.unit_type", lang),
                                      format_func=lambda u: t("filters.all_types", lang)
                                      if u == ALL else unit_type_label(u, lang)) or None
            having_children = set(tree["parent_code"].dropna())
            parents = [code for code in tree["unit_code"] if code in having_children]
            parent = synced_choice("parent", [ALL, *parents], ALL, widget=st.selectbox,
                                   label=t("filters.parent", lang),
                                   format_func=lambda p: t("filters.all_parents", lang)
                                   if p == ALL else unit_label(tree, p)) or None
            # Counted over the level shown: a province's city, or the province and its cities.
            covered = level_coverages(ctx, tree, grain, parent)(start)
            if drill.is_large(tree) and not parent:
                cities = city_coverages(ctx, tree, grain)(start)
    show_coverage(covered, lang, cities)
    end = period_end(start, grain)
    partial = not is_complete_period(start, last, grain)
    if partial and covered.complete:  # whole by units, but the data stop inside it
        st.warning(t("partial.note", lang, period=period_label(start, grain, lang),
                     last=fmt_date(last, lang, "d MMM y"), end=fmt_date(end, lang, "d MMM y")),
                   icon=":material/hourglass_top:")
    window_start = start
    for _ in range(HISTORY_PERIODS[grain] - 1):
        window_start = metrics.previous_period(window_start, grain)
    return Filters(grain=grain, period_start=start, period_end=end,
                   date_from=max(window_start, metrics.period_start(first, grain)),
                   unit_type=unit_type, parent=parent,
                   partial=partial or not covered.complete)
