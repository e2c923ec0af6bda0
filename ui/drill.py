"""Province navigation (issue 26): a tree of more than LARGE_TREE units (a province: 33 cities of
about 40 units) opens the overview on its top level and drills down, province → city → unit.
The level is the overview's `parent` URL parameter (the sidebar's parent filter), so a copied
link reopens the same level and the breadcrumb is rebuilt from it. A tree of LARGE_TREE units or
fewer (a city, or a city user's scope) shows the overview as it always has.

Here: which level a view is, the breadcrumb, the links one level down, and the paging of a
list too long to draw whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from kpi.i18n import fmt_int, t
from ui.text import md

LARGE_TREE = 100  # more units than this: the overview opens on the top level
PAGE_ROWS = 50  # rows of a heatmap or table drawn at once
LINK_COLUMNS = 3


def is_large(tree: pd.DataFrame) -> bool:
    return len(tree) > LARGE_TREE


def top_level(tree: pd.DataFrame, scope: Sequence[str]) -> list[str]:
    """The units of `scope` whose parent is not in it (tree order): a province's cities."""
    inside = set(scope)
    parents = dict(zip(tree["unit_code"], tree["parent_code"], strict=True))
    return [code for code in scope if parents.get(code) not in inside]


def children(tree: pd.DataFrame, code: str) -> list[str]:
    """The units directly under `code` (tree order)."""
    return tree[tree["parent_code"] == code]["unit_code"].tolist()


def breadcrumb(tree: pd.DataFrame, parent: str, params: dict[str, str], lang: str) -> None:
    """`Province › City › …` above the overview: every level above `parent` a link to the
    overview on that level (`params`: the period and language to keep), `parent` itself text."""
    names = dict(zip(tree["unit_code"], tree["name"], strict=True))
    path = tree[tree["unit_code"] == parent]["path"]
    ancestors = list(path.iloc[0]) if len(path) else []
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        # An empty parent, not none: the session remembers the level it came from otherwise.
        st.page_link("pages/overview.py", label=t("drill.top", lang),
                     icon=":material/account_tree:", query_params={**params, "parent": ""})
        for code in ancestors:
            st.markdown("›")
            st.page_link("pages/overview.py", label=md(names.get(code, code)),
                         query_params={**params, "parent": code})
        st.markdown("›")
        st.markdown(f"**{md(names.get(parent, parent))}**")


def links(codes: Sequence[str], label: Callable[[str], str],
          target: Callable[[str], tuple[str, dict[str, str]]]) -> None:
    """A page link per unit of `codes` in LINK_COLUMNS columns: `label(code)` its markdown,
    `target(code)` its (page path, query parameters)."""
    columns = st.columns(LINK_COLUMNS)
    for position, code in enumerate(codes):
        page, params = target(code)
        columns[position % LINK_COLUMNS].page_link(page, label=label(code), query_params=params)


def paged(codes: Sequence[str], key: str, lang: str) -> list[str]:
    """The codes of the page the reader chose (PAGE_ROWS at a time); all of them when they fit
    on one page."""
    if len(codes) <= PAGE_ROWS:
        return list(codes)
    pages = -(-len(codes) // PAGE_ROWS)
    number = st.number_input(t("drill.page", lang, pages=fmt_int(pages, lang)), min_value=1,
                             max_value=pages, value=1, step=1, key=key)
    first = (int(number) - 1) * PAGE_ROWS
    return list(codes[first:first + PAGE_ROWS])

