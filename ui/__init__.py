"""Streamlit helpers shared by the pages: access guard, URL state, cached engine calls, downloads."""
