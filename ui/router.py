"""The router: every session's script run (dashboard.py runs `route()`): language, who is looking,
the navigation built from ui/registry.PAGES, the sidebar, then the chosen page."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import streamlit as st

from kpi.errors import KinerjaError
from kpi.i18n import LANGUAGES, t
from ui.auth import current_visitor, gate, identity_panel
from ui.data import warm_up_once
from ui.filters import sees_a_province
from ui.guard import ROUTED_KEY
from ui.layout import collapse_sidebar_on_small_screens
from ui.registry import PAGES, may_open
from ui.startup import refuse_on_page
from ui.state import keep_in_url, language

ROOT = Path(__file__).resolve().parent.parent  # dashboard.py's folder: page paths start there
DEFAULT_PAGE = "overview"
PROVINCE_TITLES = {"overview": "nav.overview_province"}  # a page's name at a province


def route() -> None:
    """One script run: the page chosen by the address, behind the sign-in and the role check."""
    st.set_page_config(page_title="Kinerja", page_icon=":material/monitoring:", layout="wide")
    lang = language()
    refuse_on_page(lang)  # a server that should not have started shows why, and nothing else
    try:
        visitor = current_visitor()
    except KinerjaError as error:  # signed-in mode reads the users from the store
        st.error(error.localized(lang), icon=":material/error:")
        st.stop()
    if visitor.may_enter:
        sections: dict[str, list[st.Page]] = {}
        # A province's overview opens on its cities: its name in the sidebar says so. The
        # navigation is built on every run, so a store that grows into a province is named so
        # on the next one; a store that cannot be read keeps the city's name (its page says why).
        try:
            province = sees_a_province(visitor.units)
        except KinerjaError:
            province = False
        for spec in PAGES:
            # A page whose file is not there (yet) is left out rather than breaking every page;
            # tests/test_router_guard.py checks that every registered page exists. A page above
            # the role is routed but hidden, so that its address says which role it needs.
            if not (ROOT / spec.path).is_file():
                continue
            title_key = PROVINCE_TITLES.get(spec.key, spec.title_key) if province \
                else spec.title_key
            title, section = t(title_key, lang), t(spec.section_key, lang)
            visibility: Literal["visible", "hidden"] = (
                "visible" if may_open(visitor.role, spec) else "hidden")
            if spec.key == DEFAULT_PAGE:
                # Streamlit serves the default page at the root only, so its own name
                # (/overview) would be "Page not found": a hidden twin of the same file answers
                # there. The default page's url_path only has to differ from the twin's.
                sections.setdefault(section, []).append(st.Page(
                    spec.path, title=title, icon=spec.icon, url_path=f"{spec.key}-home",
                    default=True, visibility=visibility))
                visibility = "hidden"
            sections.setdefault(section, []).append(st.Page(
                spec.path, title=title, icon=spec.icon, url_path=spec.key, visibility=visibility))
        current = st.navigation(sections)
    else:
        # Anonymous or unknown: the root and every page's address show the sign-in (or
        # no-access) screen and nothing else; no navigation, no data, no "page not found".
        def gate_page() -> None:
            gate(visitor, lang)

        current = st.navigation(
            [st.Page(gate_page, title=t("signin.title", lang), url_path="signin", default=True)]
            + [st.Page(gate_page, title=t("signin.title", lang), url_path=spec.key,
                       visibility="hidden") for spec in PAGES], position="hidden")
    st.session_state[ROUTED_KEY] = True
    with st.sidebar:
        chosen = st.segmented_control(t("nav.language", lang), LANGUAGES, default=lang,
                                      format_func=lambda code: t(f"nav.language_{code}", lang),
                                      key="kinerja_lang_picker")
        if chosen and chosen != lang:
            st.session_state["kinerja_lang"] = chosen
            keep_in_url(lang=chosen)
            st.rerun()
        identity_panel(visitor, lang)
        collapse_sidebar_on_small_screens()  # a tablet's charts need the width (issue 22)
    keep_in_url(lang=lang)

    try:
        current.run()
    except KinerjaError as error:  # a page's expected failure, said in the user's language
        st.error(error.localized(lang), icon=":material/error:")
    if visitor.may_enter:
        warm_up_once()
