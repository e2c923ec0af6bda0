"""The Unit page on the contract's worked example: tiles, since when off target, the trend and
SPC of a KPI, the services and the arrivals, checked against example/expected/*.json."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from kpi.i18n import fmt_number
from tests.helpers import expected, expected_kpi, no_exceptions, open_view, texts

LAST_WEEK = "2026-03-23"


@pytest.fixture
def unit_page(example_store, monkeypatch):
    def open_unit(**query):
        at = open_view(example_store, monkeypatch, "unit", **query)
        no_exceptions(at)
        return at
    return open_unit


def charts(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def numbers(values) -> list:
    """A plotly data array: a list, or a base64 typed array ({"dtype", "bdata"})."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def frame_with(at, column: str):
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a column {column!r}")


def test_the_unit_from_the_url_with_its_finding_and_since_when(unit_page):
    at = unit_page(unit="PKM-1", grain="week", period=LAST_WEEK)
    rows = [row for row in expected("kpis_week")
            if row["unit_code"] == "PKM-1" and row["period_start"] == LAST_WEEK]
    red = [row for row in rows if row["status"] == "red"]
    judged = [row for row in rows if row["status"] != "none"]
    assert (len(red), len(judged)) == (1, 4)
    assert texts(at.title) == ["Puskesmas Contoh Satu: 1 of 4 indicators off target"]
    assert at.selectbox(key="kinerja_filter_unit").value == "PKM-1"
    line = next(text for text in texts(at.markdown) if text.startswith("- :red["))
    assert "**Service time (median)**] 27.8 min against a target of 22.0 min" in line
    assert "off target since 9 Mar 2026 (3 periods in a row)" in line


def test_tiles_show_the_units_values(unit_page):
    at = unit_page(unit="PKM-1", grain="week", period=LAST_WEEK)
    values = {metric.label: metric.value for metric in at.metric}
    assert values["Service time"] == "27.8 min"
    ikm = expected_kpi("kpis_week", "PKM-1", "ikm", LAST_WEEK)
    assert values["IKM"] == fmt_number(ikm["value"], "en", 2)
    assert ikm["status"] == "amber"
    assert any(text.startswith(":orange[:material/warning: Near target]") for text in texts(at.markdown))


def test_the_trend_draws_the_target_as_it_was_valid(unit_page):
    at = unit_page(unit="PKM-1", grain="week", period=LAST_WEEK, kpi="service_time_median")
    trend = charts(at)[0]["data"]
    target = next(trace for trace in trend if trace.get("name") == "Target")
    # PKM-1's own target: 25 minutes until 8 March, 22 from 9 March (targets.csv).
    steps = sorted({(x, y) for x, y in zip(target["x"], target["y"], strict=True) if y})
    assert ("2026-03-08", 25.0) in steps and ("2026-03-09", 22.0) in steps
    values = next(trace for trace in trend if trace.get("name") == "Service time (median)")
    weeks = [row for row in expected("kpis_week")
             if row["unit_code"] == "PKM-1" and row["kpi"] == "service_time_median"]
    assert numbers(values["y"]) == pytest.approx([row["value"] for row in weeks])


def test_the_spc_view_matches_the_contracts_xmr(unit_page):
    # The day grain's window reaches back to the first data, so the page's XmR is the one of
    # `kpi spc --unit PKM-1 --kpi service_time_median --period day`.
    want = expected("spc_pkm1_service_time_day")
    at = unit_page(unit="PKM-1", grain="day", period=want["points"][-1]["period_start"],
                   kpi="service_time_median")
    legend = next(text for text in texts(at.caption) if text.startswith("Mean "))
    assert legend.startswith(f"Mean {fmt_number(want['centre'], 'en', 1)} min, control limits "
                             f"{fmt_number(want['lcl'], 'en', 1)} min to "
                             f"{fmt_number(want['ucl'], 'en', 1)} min, computed from "
                             f"{len(want['points'])} points")
    words = {"common": "Common-cause variation", "concern": "Special cause: concern",
             "improvement": "Special cause: improvement"}
    badges = [text for text in texts(at.markdown) if "-badge[" in text]
    assert any(words[want["variation"]] in badge for badge in badges)
    spc_chart = charts(at)[1]["data"]
    flagged = {point["period_start"] for point in want["points"] if point["signals"]}
    marked = {x for trace in spc_chart if trace.get("name", "").startswith("Special cause")
              for x in trace["x"]}
    assert marked == flagged


def test_services_add_up_to_the_units_events(unit_page):
    at = unit_page(unit="DINKES", grain="week", period=LAST_WEEK)
    services = frame_with(at, "Service")
    # DINKES pools its subtree: its own service and the two Puskesmas'.
    assert set(services["Code"]) == {"REK", "UMUM", "LAB", "KIA"}
    events = expected_kpi("kpis_week", "DINKES", "abandon_rate", LAST_WEEK)["n"]
    completed = expected_kpi("kpis_week", "DINKES", "throughput", LAST_WEEK)["n"]
    assert services["Visits"].map(lambda text: int(text.replace(",", ""))).sum() == events
    assert services["Completed"].map(lambda text: int(text.replace(",", ""))).sum() == completed


def test_arrivals_by_weekday_and_hour(unit_page):
    at = unit_page(unit="PKM-2", grain="week", period=LAST_WEEK)
    arrivals = charts(at)[2]
    assert arrivals["data"][0]["type"] == "heatmap"
    assert arrivals["data"][0]["y"][0] == "Mon"
    assert "Arrivals from 2–29 Mar 2026" in " ".join(texts(at.caption))


def test_an_unknown_unit_is_said_not_crashed(unit_page):
    at = unit_page(unit="NOPE")
    assert any("There is no unit “NOPE”" in text for text in texts(at.warning))


def test_the_city_as_a_unit_and_indonesian(unit_page):
    at = unit_page(unit="*", grain="week", period=LAST_WEEK, lang="id")
    assert texts(at.title)[0].startswith("Kota (semua unit)")
    assert {m.label: m.value for m in at.metric}["Waktu pelayanan"] == "26,8 menit"
