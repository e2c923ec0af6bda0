"""Kinerja's entry point: `streamlit run dashboard.py`.

One file, two roles. `streamlit run dashboard.py` imports it as a module to serve it: the
`st.App` below (the dashboard alone; app.py serves it with the public pages), whose lifespan
refuses to start a server that would expose local mode (ui/startup.py). Every session's script
run executes it as `__main__`: the router (ui/router.py).
"""

from __future__ import annotations

import streamlit as st

if __name__ == "__main__":  # a session's script run
    from ui.router import route

    route()
else:  # imported by `streamlit run` (or an ASGI server) to serve the app
    from ui.startup import checked

    app = st.App("dashboard.py", lifespan=checked())
