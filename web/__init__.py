"""The pages that need no sign-in, served beside the dashboard by the same server (st.App's
routes, see app.py): the public SKM form of each unit and the published results (issue 24).

Plain server-rendered HTML (Jinja2, autoescaped; no JavaScript), over the engine (kpi) only:
nothing here imports Streamlit, ui or pages, so nothing of the dashboard is reachable from
these routes.
"""
