"""Kinerja's engine: store, import, KPIs, SPC, targets and review, importable without Streamlit."""
