"""kpi.offtarget: the ranked list the overview and the management review share."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi.offtarget import exceptions, point_variations, red_run, unit_kpi_history
from tests.helpers import expected

WEEK = dt.date(2026, 3, 23)
FIRST = dt.date(2026, 2, 16)


def weeks(*days: int) -> list[dt.date]:
    return [dt.date(2026, 3, 2) + dt.timedelta(weeks=n) for n in days]


def test_the_red_run_ends_with_the_last_period_and_stops_at_a_gap_or_another_status():
    assert red_run(weeks(0, 1, 2, 3), ["green", "red", "red", "red"], "week") == (weeks(1)[0], 3)
    assert red_run(weeks(0, 1, 3), ["red", "red", "red"], "week") == (weeks(3)[0], 1)  # no week 2
    assert red_run(weeks(0, 1), ["red", "amber"], "week") == (None, 0)
    assert red_run([], [], "week") == (None, 0)


def test_point_variations_read_each_signal_the_way_the_kpi_is_better():
    values = [10.0, 11.0, 30.0, 10.0, -5.0]
    signals = [[], [], ["outside"], [], ["outside"]]
    assert point_variations(values, signals, 10.0, "lower") == [
        "common", "common", "concern", "common", "improvement"]
    assert point_variations(values, signals, 10.0, "higher") == [
        "common", "common", "improvement", "common", "concern"]
    rising = [1.0, 2, 3, 4, 5, 6, 7]
    assert set(point_variations(rising, [["trend"]] * 7, None, "lower")) == {"concern"}


def test_the_worked_example_has_one_exception_red_since_9_march(example_store):
    found = exceptions(example_store, period="week", period_start=WEEK, date_from=FIRST)
    assert found[["unit_code", "kpi", "status"]].values.tolist() == [
        ["PKM-1", "service_time_median", "red"]]
    first = found.iloc[0]
    assert (first["rank"], first["red_since"], first["red_periods"]) == (1, dt.date(2026, 3, 9), 3)
    assert first["worse"]  # 26.97 → 27.77 minutes
    assert first["gap_pct"] == pytest.approx((first["value"] - 22.0) / 22.0 * 100)


def test_the_history_reading_matches_the_contracts_xmr(example_store):
    want = expected("spc_pkm1_service_time_day")
    last = dt.date.fromisoformat(want["points"][-1]["period_start"])
    reading = unit_kpi_history(example_store, period="day", period_start=last, date_from=FIRST,
                               units=["PKM-1"])
    row = reading[reading["kpi"] == "service_time_median"].iloc[0]
    assert row["centre"] == pytest.approx(want["centre"], abs=1e-9)
    assert row["ucl"] == pytest.approx(want["ucl"], abs=1e-9)
    assert row["variation"] == want["variation"] and row["assurance"] == want["assurance"]
    assert row["signals"] == want["points"][-1]["signals"]


def test_a_point_reads_as_the_latest_point_does_when_its_signals_disagree():
    """High above the centre (good for a higher-is-better KPI) but falling for 7 points (bad):
    the chart's marker and the latest point's variation both say concern."""
    from kpi import spc
    from kpi.offtarget import point_variations

    values = [1.0] * 8 + [107.0, 106.0, 105.0, 104.0, 103.0, 102.0, 101.0]
    chart = spc.xmr(values, better="higher")
    assert {"shift", "trend"} <= set(chart.signals[-1])
    assert chart.variation == "concern"
    readings = point_variations(values, chart.signals, chart.centre, "higher")
    assert readings[-1] == chart.variation
