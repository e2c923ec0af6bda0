"""Layout helpers for small screens (issue 22): the sidebar starts collapsed below 1,024 px.

Streamlit's own "auto" sidebar state collapses it only below its phone breakpoint (768 px), so on
an 820 px tablet held upright the 300 px sidebar squeezed every chart. The script below runs
in the page (st.html with JavaScript), once per browser tab: a narrower window collapses the
sidebar with Streamlit's own button, after which the reader may open it again at will.
"""

from __future__ import annotations

import streamlit as st

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
