"""Show a Kinerja chart: a plotly figure from kpi/charts.py, with a PNG download in its modebar
(named after the chart), the modebar's tooltips and the date axes in the reader's language, and
a short text description for screen readers."""

from __future__ import annotations

import importlib
import re
from typing import Any, Literal

import streamlit as st

from kpi.charts import plotly_config


def file_name(*parts: object) -> str:
    """A safe download file name from parts (`unit-PKM-1-service_time_median-week`)."""
    text = "-".join(str(part) for part in parts if part not in (None, ""))
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "chart"


@st.cache_resource(show_spinner=False, max_entries=256, ttl=3600)
def _built_figure(qualified_name: str, args: tuple, kwargs: dict) -> Any:
    module_name, function_name = qualified_name.rsplit(".", 1)
    return getattr(importlib.import_module(module_name), function_name)(*args, **kwargs)


def built_figure(builder: Any, *args: Any, **kwargs: Any) -> Any:
    """`builder(*args, **kwargs)` (a kpi.charts function), built once for the same arguments
    and kept while the dashboard runs: building a plotly figure costs tens of milliseconds,
    every rerun. The figure is shared by every session, so it is never changed after this."""
    return _built_figure(f"{builder.__module__}.{builder.__qualname__}", args, kwargs)


def show_chart(fig: Any, lang: str, *, name: str, alt: str | None = None,
               key: str | None = None,
               height: int | Literal["stretch", "content"] = "content") -> None:
    """Draw `fig` across the container's width; its modebar offers `name`.png."""
    st.plotly_chart(fig, width="stretch", height=height, theme=None,
                    config=plotly_config(lang, file_name(name)), key=key or f"chart-{name}",
                    alt=alt or None)
