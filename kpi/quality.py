"""Data-quality checks over the store: is every unit's data there, complete and believable?

Per unit: the last local date with events and with survey responses, ISO weeks without events
(for units that deliver services) or without responses (for units that have ever had any),
survey samples below the Krejcie–Morgan minimum in a quarter, service times over a day and days
with many times the unit's usual volume. Each check is one parametrised query over a date range;
`summary` puts the counts side by side, one row per unit.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kpi.ikm import min_sample
from kpi.metrics import day_params, kpi_values
from kpi.reads import reads
from kpi.store import Reader, one_unit_of_work
from kpi.vocabulary import CITY

LONG_SERVICE_HOURS = 24
SPIKE_FACTOR = 10


def last_dates(store: Reader) -> pd.DataFrame:
    """unit_code, name, type, last_event_date, last_survey_date (None when never), by code."""
    return store.query_df("""
        SELECT u.unit_code, u.name, u.type,
               (SELECT max(arrived_at)::DATE FROM events e WHERE e.unit_code = u.unit_code)
                   AS last_event_date,
               (SELECT max(submitted_at)::DATE FROM survey_responses s
                 WHERE s.unit_code = u.unit_code) AS last_survey_date
        FROM units u ORDER BY u.unit_code""")


@reads("events", "services", "survey_responses", "units")
def empty_weeks(store: Reader, *, date_from: dt.date, date_to: dt.date) -> pd.DataFrame:
    """unit_code, week_start, source ("events" or "survey"): the ISO weeks touching
    [date_from, date_to] in which a unit had no events although it delivers services, or no
    responses although it has had some before. Weeks before a unit's first row are not gaps."""
    return store.query_df("""
        WITH weeks AS (
            SELECT generate_series::DATE AS week_start
            FROM generate_series(date_trunc('week', $start)::TIMESTAMP, $end - INTERVAL 1 DAY,
                                 INTERVAL 7 DAY)
        ),
        expected AS (
            -- (unit, source, first day) for every source a unit is expected to deliver
            SELECT u.unit_code, 'events' AS source,
                   (SELECT min(arrived_at)::DATE FROM events e WHERE e.unit_code = u.unit_code)
                       AS first_day
            FROM units u WHERE EXISTS (SELECT 1 FROM services s WHERE s.unit_code = u.unit_code)
            UNION ALL
            SELECT unit_code, 'survey', min(submitted_at)::DATE FROM survey_responses
            WHERE unit_code IN (SELECT unit_code FROM units) GROUP BY unit_code
        ),
        seen AS (
            SELECT DISTINCT unit_code, 'events' AS source, date_trunc('week', arrived_at)::DATE AS week_start
            FROM events WHERE arrived_at >= date_trunc('week', $start) AND arrived_at < $end
            UNION
            SELECT DISTINCT unit_code, 'survey', date_trunc('week', submitted_at)::DATE
            FROM survey_responses
            WHERE submitted_at >= date_trunc('week', $start) AND submitted_at < $end
        )
        SELECT x.unit_code, w.week_start, x.source
        FROM expected x CROSS JOIN weeks w
        WHERE (x.first_day IS NULL OR w.week_start >= date_trunc('week', x.first_day))
          AND NOT EXISTS (SELECT 1 FROM seen s WHERE s.unit_code = x.unit_code
                          AND s.source = x.source AND s.week_start = w.week_start)
        ORDER BY x.unit_code, x.source, w.week_start""", day_params(date_from, date_to))


@reads("kpi_values", "units")
def small_samples(store: Reader, *, quarter_start: dt.date) -> pd.DataFrame:
    """unit_code, responses, population, min_sample, sample_ok for every unit (pooled over its
    subtree, as the KPIs are) with completed events or responses in the quarter starting on
    `quarter_start`; population N = completed events, minimum by ikm.min_sample."""
    values = kpi_values(store, period="quarter", date_from=quarter_start,
                                date_to=quarter_start, kpis=["throughput", "response_count"])
    values = values[values["unit_code"] != CITY]
    wide = (values.pivot_table(index="unit_code", columns="kpi", values="n", aggfunc="sum")
            .reindex(columns=["throughput", "response_count"]).fillna(0).astype(int))
    rows = [{"unit_code": unit, "responses": int(row["response_count"]),
             "population": int(row["throughput"]),
             "min_sample": min_sample(int(row["throughput"]))}
            for unit, row in wide.iterrows()]
    frame = pd.DataFrame(rows, columns=["unit_code", "responses", "population", "min_sample"])
    frame["sample_ok"] = frame["responses"] >= frame["min_sample"]
    return frame.sort_values("unit_code", ignore_index=True)


@reads("events")
def long_service_times(store: Reader, *, date_from: dt.date, date_to: dt.date,
                       hours: float = LONG_SERVICE_HOURS) -> pd.DataFrame:
    """unit_code, service_code, ticket_id, arrived_at, completed_at, service_minutes of the
    events arriving in [date_from, date_to] whose service time exceeds `hours`."""
    params = {**day_params(date_from, date_to), "minutes": hours * 60}
    return store.query_df("""
        SELECT unit_code, service_code, ticket_id, arrived_at, completed_at,
               date_diff('microsecond', arrived_at, completed_at) / 60e6 AS service_minutes
        FROM events
        WHERE arrived_at >= $start AND arrived_at < $end AND completed_at IS NOT NULL
          AND date_diff('microsecond', arrived_at, completed_at) / 60e6 > $minutes
        ORDER BY unit_code, arrived_at, ticket_id""", params)


@reads("events")
def volume_spikes(store: Reader, *, date_from: dt.date, date_to: dt.date,
                  factor: float = SPIKE_FACTOR) -> pd.DataFrame:
    """unit_code, day, events, usual: days in [date_from, date_to] on which a unit had at least
    `factor` times its usual volume (the median of its daily event counts over the range)."""
    params = {**day_params(date_from, date_to), "factor": factor}
    return store.query_df("""
        WITH daily AS (
            SELECT unit_code, arrived_at::DATE AS day, count(*) AS events
            FROM events WHERE arrived_at >= $start AND arrived_at < $end GROUP BY ALL
        ),
        usual AS (SELECT unit_code, quantile_cont(events, 0.5) AS usual FROM daily GROUP BY ALL)
        SELECT d.unit_code, d.day, d.events, u.usual
        FROM daily d JOIN usual u USING (unit_code)
        WHERE d.events >= $factor * u.usual
        ORDER BY d.unit_code, d.day""", params)


@reads("events", "kpi_values", "services", "survey_responses", "units")
@one_unit_of_work
def summary(store: Reader, *, date_from: dt.date, date_to: dt.date, quarter_start: dt.date) -> pd.DataFrame:
    """One row per unit: unit_code, name, type, last_event_date, last_survey_date,
    weeks_without_events, weeks_without_survey, responses, min_sample, sample_ok (None without
    data in the quarter), long_service_times, volume_spikes and issues (how many checks fail)."""
    frame = last_dates(store)
    gaps = empty_weeks(store, date_from=date_from, date_to=date_to)
    for source in ("events", "survey"):
        counts = gaps[gaps["source"] == source].groupby("unit_code").size()
        frame[f"weeks_without_{source}"] = frame["unit_code"].map(counts).fillna(0).astype(int)
    samples = small_samples(store, quarter_start=quarter_start).set_index("unit_code")
    frame["responses"] = frame["unit_code"].map(samples["responses"]).fillna(0).astype(int)
    frame["min_sample"] = frame["unit_code"].map(samples["min_sample"]).astype("Int64")
    frame["sample_ok"] = frame["unit_code"].map(samples["sample_ok"]).astype("boolean")
    for name, check in (("long_service_times", long_service_times),
                        ("volume_spikes", volume_spikes)):
        counts = check(store, date_from=date_from, date_to=date_to).groupby("unit_code").size()
        frame[name] = frame["unit_code"].map(counts).fillna(0).astype(int)
    frame["issues"] = ((frame["weeks_without_events"] > 0).astype(int)
                       + (frame["weeks_without_survey"] > 0).astype(int)
                       + (frame["sample_ok"] == False).fillna(False).astype(int)  # noqa: E712
                       + (frame["long_service_times"] > 0).astype(int)
                       + (frame["volume_spikes"] > 0).astype(int))
    return frame
