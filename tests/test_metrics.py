"""The KPI engine on the contract's example and on small hand-made cities."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi import metrics
from kpi.errors import KinerjaError
from kpi.periods import parse_date
from kpi.store import Store
from kpi.vocabulary import KPIS, PERIODS
from tests.reference_impl import load_rows

D = dt.date


@pytest.mark.parametrize(("day", "period", "start", "following", "before"), [
    (D(2026, 1, 1), "week", D(2025, 12, 29), D(2026, 1, 5), D(2025, 12, 22)),  # ISO, Monday
    (D(2026, 3, 1), "week", D(2026, 2, 23), D(2026, 3, 2), D(2026, 2, 16)),    # a Sunday
    (D(2026, 3, 2), "day", D(2026, 3, 2), D(2026, 3, 3), D(2026, 3, 1)),
    (D(2026, 12, 31), "month", D(2026, 12, 1), D(2027, 1, 1), D(2026, 11, 1)),
    (D(2026, 8, 15), "quarter", D(2026, 7, 1), D(2026, 10, 1), D(2026, 4, 1)),
    (D(2026, 1, 1), "quarter", D(2026, 1, 1), D(2026, 4, 1), D(2025, 10, 1)),
    (D(2026, 6, 30), "year", D(2026, 1, 1), D(2027, 1, 1), D(2025, 1, 1)),
])
def test_periods(day, period, start, following, before):
    assert metrics.period_start(day, period) == start
    assert metrics.next_period(start, period) == following
    assert metrics.previous_period(start, period) == before


def test_sql_weeks_and_quarters_agree_with_python(empty_store):
    days = [D(2020, 12, 28) + dt.timedelta(days=offset) for offset in range(0, 2200, 13)]
    for period in PERIODS:
        rows = empty_store.query_rows(
            f"SELECT d, date_trunc('{period}', d::TIMESTAMP)::DATE FROM unnest(?::DATE[]) t(d)",
            [days])
        assert all(metrics.period_start(day, period) == start for day, start in rows), period


def test_unit_tree_and_data_range(example_store):
    tree = metrics.unit_tree(example_store)
    assert tree["unit_code"].tolist() == ["DINKES", "PKM-1", "PKM-2", "DUKCAPIL"]
    assert tree["depth"].tolist() == [0, 1, 1, 0]
    assert tree["path"].tolist() == [[], ["DINKES"], ["DINKES"], []]
    assert metrics.data_range(example_store) == (D(2026, 2, 16), D(2026, 3, 29))


def test_a_parent_pools_its_subtree_rows(example_store):
    table = metrics.kpi_values(example_store, period="month", date_from=D(2026, 3, 1),
                               date_to=D(2026, 3, 1), kpis=["throughput", "abandon_rate"])
    n = {(row.unit_code, row.kpi): row.n for row in table.itertuples()}
    own = example_store.query_value(
        "SELECT count(*) FROM events WHERE unit_code = 'DINKES' AND outcome = 'completed' "
        "AND arrived_at >= '2026-03-01' AND arrived_at < '2026-04-01'")
    assert n[("DINKES", "throughput")] == own + n[("PKM-1", "throughput")] + n[("PKM-2", "throughput")]
    assert n[("*", "abandon_rate")] == n[("DINKES", "abandon_rate")] + n[("DUKCAPIL", "abandon_rate")]
    # pooled, never averaged: DINKES's median is not the mean of its children's medians
    medians = metrics.kpi_values(example_store, period="month", date_from=D(2026, 3, 1),
                                 date_to=D(2026, 3, 1), kpis=["service_time_median"])
    value = dict(zip(medians["unit_code"], medians["value"], strict=True))
    pooled = example_store.query_value(
        "SELECT quantile_cont(epoch(completed_at - arrived_at) / 60, 0.5) FROM events "
        "WHERE unit_code IN ('DINKES', 'PKM-1', 'PKM-2') AND outcome = 'completed' "
        "AND arrived_at >= '2026-03-01' AND arrived_at < '2026-04-01'")
    assert value["DINKES"] == pytest.approx(pooled)


def test_whole_periods_only(example_store):
    def weeks(date_from, date_to):
        table = metrics.kpi_values(example_store, period="week", date_from=date_from,
                                   date_to=date_to, units=["*"], kpis=["throughput"])
        return table["period_start"].tolist()

    assert weeks(D(2026, 2, 17), D(2026, 3, 2)) == [D(2026, 2, 23), D(2026, 3, 2)]
    full_week = metrics.kpi_values(example_store, period="week", date_from=D(2026, 3, 2),
                                   date_to=D(2026, 3, 2), units=["*"], kpis=["throughput"])
    assert full_week["value"].tolist() == [123.0]  # the whole week, though `to` is its Monday
    assert weeks(D(2026, 2, 17), D(2026, 2, 22)) == []


def test_an_arrival_with_an_offset_counts_on_its_local_date(example_store):
    # 2026-02-23 23:40:00+00:00 is 24 February 06:40 in Jakarta
    day = metrics.kpi_values(example_store, period="day", date_from=D(2026, 2, 24),
                             date_to=D(2026, 2, 24), units=["*"], kpis=["abandon_rate"])
    events = example_store.query_value(
        "SELECT count(*) FROM events WHERE arrived_at::DATE = DATE '2026-02-24'")
    assert day["n"].tolist() == [events]


def test_absent_values_are_no_rows():
    store = Store(":memory:")
    load_rows(store, units=[{"unit_code": "A", "name": "A", "type": "dinas"}],
              services=[{"unit_code": "A", "service_code": "S", "name": "S"}],
              events=[{"unit_code": "A", "service_code": "S", "ticket_id": "1",
                       "arrived_at": dt.datetime(2026, 3, 2, 8), "outcome": "no_show"}])
    table = metrics.kpi_table(store, period="day", date_from=D(2026, 3, 2), date_to=D(2026, 3, 2))
    assert sorted(set(table["kpi"])) == ["abandon_rate"]  # no completed event, no survey
    assert table["value"].tolist() == [100.0, 100.0]
    assert table["status"].tolist() == ["none", "none"]


def test_kpi_table_targets_follow_the_period_start(example_store):
    table = metrics.kpi_table(example_store, period="week", date_from=D(2026, 3, 2),
                              date_to=D(2026, 3, 9), units=["PKM-1"],
                              kpis=["service_time_median"])
    assert table["target"].tolist() == [25.0, 22.0]  # PKM-1's row changes on 9 March
    assert table["amber_pct"].tolist() == [20.0, 10.0]


def test_overview(example_store):
    frame = metrics.overview(example_store, period="week", period_start=D(2026, 3, 25))
    assert len(frame) == 5 * len(KPIS)
    assert set(frame["period_start"]) == {D(2026, 3, 23)}
    row = frame[(frame["unit_code"] == "PKM-1") & (frame["kpi"] == "service_time_median")].iloc[0]
    weekly = metrics.series(example_store, unit="PKM-1", kpi="service_time_median", period="week")
    by_week = dict(zip(weekly["period_start"], weekly["value"], strict=True))
    assert row["value"] == pytest.approx(by_week[D(2026, 3, 23)])
    assert row["prev_value"] == pytest.approx(by_week[D(2026, 3, 16)])
    assert row["change"] == pytest.approx(row["value"] - row["prev_value"])
    assert row["target"] == 22.0 and row["status"] in ("green", "amber", "red")
    assert row["name"] == "Puskesmas Contoh Satu" and row["parent_code"] == "DINKES"
    assert frame["last_year_value"].isna().all()
    city_throughput = frame[(frame["unit_code"] == "*") & (frame["kpi"] == "throughput")]
    assert city_throughput["value"].tolist() == [131.0]
    assert city_throughput["status"].tolist() == ["none"]


def test_series_defaults_to_all_data(example_store):
    weekly = metrics.series(example_store, unit="DUKCAPIL", kpi="throughput", period="week")
    assert len(weekly) == 6 and (weekly["target"] == 30.0).all()
    assert list(weekly.columns) == ["period_start", "value", "n", "target", "amber_pct", "status"]


def test_service_breakdown_and_arrivals(example_store):
    services = metrics.service_breakdown(example_store, unit="DINKES", date_from=D(2026, 2, 16),
                                         date_to=D(2026, 3, 29))
    assert sorted(zip(services["unit_code"], services["service_code"], strict=True)) == [
        ("DINKES", "REK"), ("PKM-1", "LAB"), ("PKM-1", "UMUM"), ("PKM-2", "KIA"),
        ("PKM-2", "UMUM")]
    assert services["events"].sum() == example_store.query_value(
        "SELECT count(*) FROM events WHERE unit_code IN ('DINKES', 'PKM-1', 'PKM-2')")
    lab = services[services["service_code"] == "LAB"].iloc[0]
    assert lab["within_standard_pct"] != lab["within_standard_pct"]  # NaN: LAB has no standard
    hours = metrics.arrivals_by_hour(example_store, unit="*", date_from=D(2026, 2, 16),
                                     date_to=D(2026, 3, 29))
    assert hours["arrivals"].sum() == 835
    assert hours["weekday"].between(1, 7).all() and hours["hour"].between(0, 23).all()


def test_funnel(example_store):
    frame = metrics.funnel(example_store, kpi="abandon_rate", period="month",
                           period_start=D(2026, 3, 1))
    assert "*" not in set(frame["unit_code"])
    city = metrics.kpi_values(example_store, period="month", date_from=D(2026, 3, 1),
                              date_to=D(2026, 3, 1), units=["*"], kpis=["abandon_rate"])
    assert frame["city_rate"].iloc[0] == pytest.approx(city["value"].iloc[0])
    assert (frame["lower_998"] < frame["lower_95"]).all()
    assert (frame["upper_95"] < frame["upper_998"]).all()
    assert frame["rate"].tolist() == pytest.approx(
        (100 * frame["numerator"] / frame["denominator"]).tolist())
    with pytest.raises(KinerjaError):
        metrics.funnel(example_store, kpi="throughput", period="month", period_start=D(2026, 3, 1))


def test_a_funnel_of_some_units_is_centred_on_their_pooled_rate(example_store):
    """A city user compares the units of their scope: the centre line and the limits are
    their units' pooled rate (each unit's row pools its subtree), not the store's."""
    whole = metrics.funnel(example_store, kpi="abandon_rate", period="month",
                           period_start=D(2026, 3, 1))
    scoped = metrics.funnel(example_store, kpi="abandon_rate", period="month",
                            period_start=D(2026, 3, 1), centre=["DINKES", "DUKCAPIL"])
    counts = whole.set_index("unit_code")
    pooled = 100 * (counts.loc[["DINKES", "DUKCAPIL"], "numerator"].sum()
                    / counts.loc[["DINKES", "DUKCAPIL"], "denominator"].sum())
    dinkes = metrics.funnel(example_store, kpi="abandon_rate", period="month",
                            period_start=D(2026, 3, 1), centre=["DINKES"])
    assert dinkes["city_rate"].tolist() == pytest.approx([counts.loc["DINKES", "rate"]]
                                                         * len(dinkes))
    assert dinkes["city_rate"].iloc[0] != pytest.approx(whole["city_rate"].iloc[0])
    assert scoped["city_rate"].iloc[0] == pytest.approx(pooled)
    limits = metrics.funnel_limits(dinkes["city_rate"].iloc[0], dinkes["denominator"])
    assert dinkes["upper_998"].tolist() == pytest.approx(limits["upper_998"].tolist())
    # The units and their counts are the same; only the centre and the limits move.
    assert dinkes[["unit_code", "numerator", "denominator", "rate"]].equals(
        whole[["unit_code", "numerator", "denominator", "rate"]])
    with pytest.raises(KinerjaError):
        metrics.funnel(example_store, kpi="abandon_rate", period="month",
                       period_start=D(2026, 3, 1), centre=["NO-SUCH-UNIT"])


@pytest.mark.parametrize("call", [
    lambda s: metrics.kpi_values(s, period="fortnight", date_from=D(2026, 3, 1), date_to=D(2026, 3, 1)),
    lambda s: metrics.kpi_values(s, period="week", date_from=D(2026, 3, 1), date_to=D(2026, 3, 1), units=["X"]),
    lambda s: metrics.kpi_values(s, period="week", date_from=D(2026, 3, 1), date_to=D(2026, 3, 1), kpis=["x"]),
    lambda s: parse_date("2026-13-01"),
])
def test_unknown_arguments_are_refused_in_a_sentence(example_store, call):
    with pytest.raises(KinerjaError) as error:
        call(example_store)
    assert str(error.value).endswith(".")


def test_a_cycle_in_parent_codes_does_not_hang():
    store = Store(":memory:")
    load_rows(store, units=[{"unit_code": "A", "name": "A", "type": "x", "parent_code": "B"},
                            {"unit_code": "B", "name": "B", "type": "x", "parent_code": "A"}],
              services=[{"unit_code": "A", "service_code": "S", "name": "S"}],
              events=[{"unit_code": "A", "service_code": "S", "ticket_id": "1",
                       "arrived_at": dt.datetime(2026, 3, 2, 8), "outcome": "abandoned"}])
    table = metrics.kpi_values(store, period="day", date_from=D(2026, 3, 2), date_to=D(2026, 3, 2))
    assert sorted(table["unit_code"]) == ["*", "A", "B"]
    assert len(metrics.unit_tree(store)) == 2
