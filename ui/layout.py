"""Layout helpers for small screens (issue 22): the sidebar starts collapsed below 1,024 px, and
rows of charts or cards that stack when the page is too narrow for them side by side.

Streamlit's own "auto" sidebar state collapses it only below its phone breakpoint (768 px), so on
an 820 px tablet held upright the 300 px sidebar squeezed every chart. The script below runs
in the page (st.html with JavaScript), once per browser tab: a narrower window collapses the
sidebar with Streamlit's own button, after which the reader may open it again at will.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

COLLAPSE_BELOW_PX = 1024

_SCRIPT = """
<script>
(() => {
  const flag = "kinerja-sidebar-collapsed-once";
  if (window.innerWidth >= %(width)d || window.sessionStorage.getItem(flag)) return;
  const collapse = () => {
    const button = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
    if (!button) return false;
    if (button.getAttribute("aria-expanded") === "true") button.click();
    window.sessionStorage.setItem(flag, "1");
    return true;
  };
  let tries = 0;
  const timer = window.setInterval(() => {
    if (collapse() || ++tries > 50) window.clearInterval(timer);
  }, 100);
})();
</script>
"""


def collapse_sidebar_on_small_screens() -> None:
    """Collapse the sidebar once per tab when the window is narrower than COLLAPSE_BELOW_PX."""
    st.html(_SCRIPT % {"width": COLLAPSE_BELOW_PX}, unsafe_allow_javascript=True)


# Streamlit stacks st.columns only below a 640 px window, so with the sidebar opened on an
# 820 px tablet two charts side by side were 230 px wide. A row keyed `st-key-<key>` (Streamlit
# names a keyed container so) whose children may not shrink below a minimum width wraps them
# onto lines of their own, each then the row's full width.
_ROW_STYLE = "<style>.st-key-%(key)s > div { min-width: min(%(rem)srem, 100%%); }</style>"


def reflowing_row(key: str, min_width_rem: float) -> DeltaGenerator:
    """A horizontal container whose children sit side by side while each can be at least
    `min_width_rem` wide, and one under another, each the full width, when not. Put each
    child in a `st.container()` of its own."""
    st.html(_ROW_STYLE % {"key": key, "rem": min_width_rem})
    return st.container(horizontal=True, wrap=True, gap="medium", key=key)
