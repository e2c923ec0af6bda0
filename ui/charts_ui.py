"""Show a Kinerja chart: a plotly figure from kpi/charts.py, with a PNG download in its modebar
(named after the chart), the modebar's tooltips and the date axes in the reader's language, and
a short text description for screen readers."""

from __future__ import annotations

import re
from typing import Any, Literal

import streamlit as st

from kpi.charts import plotly_config


def file_name(*parts: object) -> str:
    """A safe download file name from parts (`unit-PKM-1-service_time_median-week`)."""
    text = "-".join(str(part) for part in parts if part not in (None, ""))
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "chart"


def show_chart(fig: Any, lang: str, *, name: str, alt: str | None = None,
               key: str | None = None,
               height: int | Literal["stretch", "content"] = "content") -> None:
    """Draw `fig` across the container's width; its modebar offers `name`.png."""
    st.plotly_chart(fig, width="stretch", height=height, theme=None,
                    config=plotly_config(lang, file_name(name)), key=key or f"chart-{name}",
                    alt=alt or None)
