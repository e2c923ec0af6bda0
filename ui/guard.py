"""The one guard every page calls first: sign-in, role check, language, store, start page.

The router is never the access check: a page file is served at its URL even when st.navigation
does not list it, so each page begins with `ctx = guard("<page key>")`. An anonymous visitor
gets the sign-in screen, an unknown address "no access", and a page above the visitor's role
says which role it needs (never a silent redirect).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from kpi.errors import KinerjaError
from kpi.i18n import t
from kpi.store import Store
from ui.auth import current_visitor, gate, role_name
from ui.data import forget_version, get_store, kpi_data_version
from ui.registry import PAGES_BY_KEY, PageSpec, may_open
from ui.state import language

ROUTED_KEY = "kinerja_routed"  # set by dashboard.py on every run it makes


@dataclass(frozen=True)
class PageContext:
    """What a page needs to know about this run."""

    lang: str
    role: str
    user: str
    spec: PageSpec
    store: Store
    units: tuple[str, ...] = ()  # the visitor's unit scope (empty: the whole city)

    def t(self, key: str, **params: Any) -> str:
        """The message `key` in this run's language."""
        return t(key, self.lang, **params)


@st.cache_data(show_spinner=False, max_entries=16)
def _has_data(store_key: str, version: int) -> bool:
    """Whether this process's store (`Store.key`) holds any events or responses, cached per KPI
    data version: only an import or a rollback changes it, never a meeting's action or note."""
    return not get_store().is_empty()


def _through_router() -> None:
    """Make sure the page runs inside dashboard.py's router.

    Streamlit keeps a compatibility mode for apps with a pages/ folder: until some run has
    called st.navigation in this server process, it runs a requested pages/ file directly,
    without the entry point (no language picker, no page layout, a raw page list). A link to
    /unit opened right after a restart would land there. Switch the mode off and, in a session
    the router has not served yet (so no widget event can be lost), run again through it.
    Streamlit's AppTest turns the mode back on before every run; its sessions have been routed
    by their first run, so a test's button click is never swallowed.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if not st.session_state.get(ROUTED_KEY):
            st.rerun()


def guard(page_key: str) -> PageContext:
    """Check access to page `page_key` and return its context; stops the page when it may not run."""
    _through_router()
    spec = PAGES_BY_KEY[page_key]
    lang = language()
    visitor = current_visitor()
    if not visitor.may_enter:
        gate(visitor, lang)
        st.stop()
    role = visitor.role or "viewer"  # may_enter: a role of ROLES
    if not may_open(role, spec):
        st.error(t("roleguard.needs_role", lang, role=role_name(spec.role, lang),
                   current=role_name(role, lang)), icon=":material/lock:")
        st.stop()
    try:
        store = get_store()
        empty = spec.needs_data and not _has_data(store.key, kpi_data_version())
    except KinerjaError as error:
        st.error(error.localized(lang), icon=":material/error:")
        st.stop()
    ctx = PageContext(lang=lang, role=role, user=visitor.name, spec=spec, store=store,
                      units=visitor.units)
    if empty:
        start_page(ctx)
        st.stop()
    return ctx


def start_page(ctx: PageContext) -> None:
    """The friendly page an empty store shows: load the demo city, or go and upload data."""
    st.title(ctx.t("start.title"))
    st.write(ctx.t("start.body"))
    may_load = may_open(ctx.role, PAGES_BY_KEY["upload"])
    left, right = st.columns(2)
    if may_load and left.button(ctx.t("start.load_demo"), type="primary",
                                icon=":material/rocket_launch:"):
        from kpi.ingest import load_demo

        with st.spinner(ctx.t("start.loading_demo")):
            load_demo(ctx.store, by=ctx.user)
        forget_version()
        st.rerun()
    if may_load:
        right.page_link(PAGES_BY_KEY["upload"].path, label=ctx.t("start.go_upload"),
                        icon=":material/upload_file:")
    else:
        st.info(ctx.t("start.ask_analyst"))
