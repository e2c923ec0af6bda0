"""Kinerja's server: `streamlit run app.py` (what `make run` does).

It serves the dashboard (dashboard.py, the script every session runs, behind sign-in) and,
beside it, the few pages that need no sign-in (web/: each unit's public SKM form at /skm/<token>
and the published results at /publik), with the background work they need (web.lifespan).
`streamlit run` finds the `app` object below; `streamlit run dashboard.py` still serves the
dashboard alone.
"""

import streamlit as st

from ui.startup import checked
from web.server import lifespan, routes

# checked: local mode on a network address, or a named secrets file that is missing or has no
# [auth], stops the server before it serves anything (ui/startup.py).
app = st.App("dashboard.py", routes=routes(), lifespan=checked(lifespan))
