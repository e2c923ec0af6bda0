"""Kinerja's entry point and router: `streamlit run dashboard.py`."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from kpi.errors import KinerjaError
from kpi.i18n import LANGUAGES, t
from ui.auth import current_role
from ui.guard import ROUTED_KEY
from ui.registry import PAGES, may_open
from ui.state import keep_in_url, language

st.set_page_config(page_title="Kinerja", page_icon=":material/monitoring:", layout="wide")

ROOT = Path(__file__).resolve().parent
DEFAULT_PAGE = "overview"

lang = language()
role = current_role()
sections: dict[str, list[st.Page]] = {}
for spec in PAGES:
    # A page whose file is not there (yet) is left out rather than breaking every page;
    # tests/test_router_guard.py checks that every registered page exists.
    if may_open(role, spec) and (ROOT / spec.path).is_file():
        title, section = t(spec.title_key, lang), t(spec.section_key, lang)
        if spec.key == DEFAULT_PAGE:
            # Streamlit serves the default page at the root only, so its own name (/overview)
            # would be "Page not found": a hidden twin of the same file answers there. The
            # default page's url_path only has to differ from the twin's.
            sections.setdefault(section, []).append(st.Page(
                spec.path, title=title, icon=spec.icon, url_path=f"{spec.key}-home",
                default=True))
            page = st.Page(spec.path, title=title, icon=spec.icon, url_path=spec.key,
                           visibility="hidden")
        else:
            page = st.Page(spec.path, title=title, icon=spec.icon, url_path=spec.key)
        sections.setdefault(section, []).append(page)

current = st.navigation(sections)
st.session_state[ROUTED_KEY] = True
with st.sidebar:
    chosen = st.segmented_control(t("nav.language", lang), LANGUAGES, default=lang,
                                  format_func=lambda code: t(f"nav.language_{code}", lang),
                                  key="kinerja_lang_picker")
    if chosen and chosen != lang:
        st.session_state["kinerja_lang"] = chosen
        keep_in_url(lang=chosen)
        st.rerun()
keep_in_url(lang=lang)

try:
    current.run()
except KinerjaError as error:  # a page's expected failure, said in the user's language
    st.error(error.localized(lang), icon=":material/error:")
