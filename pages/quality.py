"""Data quality: per unit, is the data there, complete and believable? Each unit links to its page.

The checks are kpi.quality's; this page only chooses the range and shows them.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pandas as pd
import streamlit as st

from kpi import metrics, quality
from kpi.i18n import fmt_date, fmt_int, fmt_number
from ui.data import load
from ui.downloads import table_downloads
from ui.guard import guard
from ui.inputs import DATE_FORMAT
from ui.set_aside_ui import show_set_aside

ctx = guard("quality")
DEFAULT_DAYS = 91  # about a quarter: long enough to see gaps, short enough to read


def unit_link(code: str) -> str:
    """The unit page's address for `code`, keeping the language."""
    return f"unit?unit={quote(str(code))}&lang={ctx.lang}"


LINK = st.column_config.LinkColumn(display_text=r"unit=([^&]*)", width="small")


def date_text(value) -> str:
    return "—" if value is None or pd.isna(value) else fmt_date(pd.Timestamp(value).date(), ctx.lang)


def flag(count: int) -> str:
    """A count with a symbol, so that a problem never shows by colour alone."""
    return f"✓ {fmt_int(0, ctx.lang)}" if count == 0 else f"⚠ {fmt_int(count, ctx.lang)}"


def sample_text(row: dict) -> str:
    if pd.isna(row["sample_ok"]):
        return "—"
    numbers = ctx.t("quality.sample_of", n=fmt_int(row["responses"], ctx.lang),
                    minimum=fmt_int(row["min_sample"], ctx.lang))
    return f"✓ {numbers}" if row["sample_ok"] else f"⚠ {numbers}"


def status_text(issues: int) -> str:
    if issues == 0:
        return f"✓ {ctx.t('quality.status_ok')}"
    return f"⚠ {ctx.t('quality.status_issues', count=fmt_int(issues, ctx.lang))}"


def summary_table(frame: pd.DataFrame) -> pd.DataFrame:
    c = ctx.t
    return pd.DataFrame({
        c("quality.col_unit"): [unit_link(code) for code in frame["unit_code"]],
        c("quality.col_status"): [status_text(n) for n in frame["issues"]],
        c("quality.col_last_event"): [date_text(v) for v in frame["last_event_date"]],
        c("quality.col_last_survey"): [date_text(v) for v in frame["last_survey_date"]],
        c("quality.col_weeks_events"): [flag(n) for n in frame["weeks_without_events"]],
        c("quality.col_weeks_survey"): [flag(n) for n in frame["weeks_without_survey"]],
        c("quality.col_sample"): [sample_text(row) for row in frame.to_dict("records")],
        c("quality.col_long"): [flag(n) for n in frame["long_service_times"]],
        c("quality.col_spikes"): [flag(n) for n in frame["volume_spikes"]],
        c("quality.col_name"): frame["name"],  # last: the code links, the findings come first
    })


def detail(title_key: str, frame: pd.DataFrame, columns: dict, name: str, **params) -> None:
    """One check's rows in an expander (collapsed when there are none), with downloads."""
    count = len(frame)
    title = f"{'⚠' if count else '✓'} {ctx.t(title_key, count=fmt_int(count, ctx.lang), **params)}"
    with st.expander(title, expanded=False):
        if not count:
            st.caption(ctx.t("quality.none_found"))
            return
        shown = pd.DataFrame({ctx.t(label): convert(frame[source])
                              for source, (label, convert) in columns.items()})
        first = ctx.t(next(iter(columns.values()))[0])
        st.dataframe(shown, hide_index=True, width="stretch", column_config={first: LINK})
        table_downloads(shown, name, ctx.lang, key=name)


def links(series: pd.Series) -> list[str]:
    return [unit_link(code) for code in series]


def dates(series: pd.Series) -> list[str]:
    return [date_text(value) for value in series]


def times(series: pd.Series) -> list[str]:
    return [f"{date_text(v)} {pd.Timestamp(v):%H:%M}" if not pd.isna(v) else "—" for v in series]


def texts(series: pd.Series) -> list[str]:
    return [str(value) for value in series]


def integers(series: pd.Series) -> list[str]:
    return [fmt_int(value, ctx.lang) for value in series]


def hours(series: pd.Series) -> list[str]:
    return [fmt_number(value / 60, ctx.lang, 1) for value in series]


def decimals(series: pd.Series) -> list[str]:
    return [fmt_number(value, ctx.lang, 1) for value in series]


st.title(ctx.t("quality.title"))
st.write(ctx.t("quality.intro"))
show_set_aside(ctx)
first_day, last_day = load(metrics.data_range)
if last_day is None:
    st.info(ctx.t("quality.no_data"))
    st.stop()
chosen = st.date_input(ctx.t("quality.range"), key="quality_range", format=DATE_FORMAT,
                       value=(max(first_day, last_day - dt.timedelta(days=DEFAULT_DAYS - 1)), last_day),
                       min_value=first_day, max_value=last_day)
if not isinstance(chosen, tuple | list) or len(chosen) != 2:
    st.caption(ctx.t("quality.range_incomplete"))
    st.stop()
date_from, date_to = chosen
quarter_start = metrics.period_start(date_to, "quarter")
st.caption(ctx.t("quality.range_help", start=fmt_date(date_from, ctx.lang),
                 end=fmt_date(date_to, ctx.lang), quarter=fmt_date(quarter_start, ctx.lang)))

summary = load(quality.summary, date_from=date_from, date_to=date_to, quarter_start=quarter_start)
flagged = int((summary["issues"] > 0).sum())
left, right = st.columns(2)
left.metric(ctx.t("quality.units_checked"), fmt_int(len(summary), ctx.lang))
right.metric(ctx.t("quality.units_flagged"), fmt_int(flagged, ctx.lang))
table = summary_table(summary)
st.dataframe(table, hide_index=True, width="stretch",
             column_config={ctx.t("quality.col_unit"): LINK})
table_downloads(table, f"data-quality-{date_from}-{date_to}", ctx.lang, key="quality-summary")

st.subheader(ctx.t("quality.details"), anchor=False)
detail("quality.detail_gaps",
       load(quality.empty_weeks, date_from=date_from, date_to=date_to),
       {"unit_code": ("quality.col_unit", links), "week_start": ("quality.col_week", dates),
        "source": ("quality.col_source", lambda s: [ctx.t(f"quality.source_{v}") for v in s])},
       "data-quality-gaps")
samples = load(quality.small_samples, quarter_start=quarter_start)
detail("quality.detail_samples", samples[~samples["sample_ok"]],
       {"unit_code": ("quality.col_unit", links), "responses": ("quality.col_responses", integers),
        "min_sample": ("quality.col_min_sample", integers),
        "population": ("quality.col_population", integers)},
       "data-quality-samples", quarter=fmt_date(quarter_start, ctx.lang))
detail("quality.detail_long",
       load(quality.long_service_times, date_from=date_from, date_to=date_to),
       {"unit_code": ("quality.col_unit", links), "service_code": ("quality.col_service", texts),
        "ticket_id": ("quality.col_ticket", texts), "arrived_at": ("quality.col_arrived", times),
        "service_minutes": ("quality.col_hours", hours)},
       "data-quality-long-times", hours=fmt_int(quality.LONG_SERVICE_HOURS, ctx.lang))
detail("quality.detail_spikes",
       load(quality.volume_spikes, date_from=date_from, date_to=date_to),
       {"unit_code": ("quality.col_unit", links), "day": ("quality.col_day", dates),
        "events": ("quality.col_events", integers), "usual": ("quality.col_usual", decimals)},
       "data-quality-spikes", factor=fmt_int(quality.SPIKE_FACTOR, ctx.lang))
