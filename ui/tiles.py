"""KPI tiles: a KPI's value, its change against the previous period (with the words better or
worse, not colour alone), a sparkline of its recent history, and its status as icon and word."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from kpi import labels
from kpi.i18n import t
from kpi.vocabulary import KPIS

TILE_WIDTH = 212  # px: four fit beside the sidebar at 1366 px, three on an 820 px tablet


def kpi_tile(kpi: str, row: pd.Series | None, sparkline: Sequence[float], lang: str, *,
             partial: bool = False) -> None:
    """One bordered tile. `row` is the KPI's row of metrics.overview (None when absent);
    `partial`: the period is partial, which the tile says under its status."""
    info = KPIS[kpi]
    value = None if row is None else row["value"]
    if kpi == "ikm" and row is not None and "graded" in row:
        value = row["graded"]  # the IKM rounded half up exactly, beside its grade and status
    change = None if row is None else row["change"]
    status = "none" if row is None else row["status"]
    target = None if row is None else row["target"]
    direction = labels.change_direction(kpi, change)
    shown, target_text = labels.value_and_target(kpi, value, target, lang)
    with st.container(border=True, width=TILE_WIDTH, height="stretch"):
        st.metric(
            labels.kpi_short(kpi, lang), shown,
            delta=None if direction is None else 0 if direction == "same"
            else labels.format_change(kpi, change, lang),
            delta_color="normal" if info.better == "higher" else "inverse",
            delta_description=t(f"status_ui.{direction}", lang) if direction else None,
            chart_data=list(sparkline) if len(sparkline) > 1 else None,
            help=f"**{labels.kpi_name(kpi, lang)}**. {labels.kpi_help(kpi, lang)}",
        )
        st.markdown(labels.status_markdown(status, lang, has_value=not labels.is_missing(value)))
        if not labels.is_missing(target):
            st.caption(t("status_ui.target", lang, value=target_text))
        if partial:
            st.caption(f":material/hourglass_top: {t('partial.tile', lang)}")


def kpi_tiles(rows: pd.DataFrame, history: pd.DataFrame, lang: str, *,
              partial: bool = False) -> None:
    """A tile per KPI, flowing into as many per row as the screen holds (four on a laptop,
    three on a tablet held upright). `rows`: one unit's metrics.overview rows; `history`: its
    metrics.kpi_values over the window (for the sparklines); `partial`: the period is partial
    (every tile says so)."""
    by_kpi = rows.set_index("kpi")
    with st.container(horizontal=True, wrap=True, gap="small"):
        for kpi in KPIS:
            kpi_tile(kpi, by_kpi.loc[kpi] if kpi in by_kpi.index else None,
                     history[history["kpi"] == kpi]["value"].tolist(), lang, partial=partial)
