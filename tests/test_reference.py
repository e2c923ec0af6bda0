"""The engine against tests/reference_impl.py on generated cities: every KPI, period grain,
target and status, and the IKM table, must agree to 1e-9."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi import metrics, skm
from kpi.store import Store
from kpi.vocabulary import PERIODS
from tests import reference_impl as ref
from tests.conftest import copy_store

BASE = dt.datetime(2025, 12, 20)  # periods cross a month, quarter and year boundary
SPAN_MINUTES = 50 * 24 * 60
KPI_NAMES = list(ref.KPI_BETTER)


@st.composite
def cities(draw) -> dict:
    unit_count = draw(st.integers(1, 5))
    units = []
    for index in range(unit_count):
        parent = draw(st.one_of(st.none(), st.integers(0, index - 1))) if index else None
        units.append({"unit_code": f"U{index}", "name": f"Unit {index}", "type": "dinas",
                      "parent_code": None if parent is None else f"U{parent}"})
    services = []
    for unit in units:
        for number in range(draw(st.integers(1, 2))):
            standard = draw(st.one_of(st.none(), st.sampled_from([10.0, 30.0, 45.5])))
            services.append({"unit_code": unit["unit_code"], "service_code": f"S{number}",
                             "name": f"Service {number}", "standard_minutes": standard})
    events = []
    for index in range(draw(st.integers(0, 60))):
        service = draw(st.sampled_from(services))
        arrived = BASE + dt.timedelta(seconds=draw(st.integers(0, SPAN_MINUTES * 60)))
        outcome = draw(st.sampled_from(["completed", "completed", "abandoned", "no_show"]))
        started = completed = None
        if draw(st.booleans()):
            started = arrived + dt.timedelta(seconds=draw(st.integers(0, 3600)))
        if outcome == "completed":
            completed = (started or arrived) + dt.timedelta(seconds=draw(st.integers(0, 5400)))
        events.append({"unit_code": service["unit_code"], "service_code": service["service_code"],
                       "ticket_id": f"T{index}", "arrived_at": arrived, "started_at": started,
                       "completed_at": completed, "outcome": outcome})
    survey = []
    answer = st.one_of(st.none(), st.integers(1, 4))
    for index in range(draw(st.integers(0, 30))):
        unit = draw(st.sampled_from(units))
        submitted = BASE + dt.timedelta(seconds=draw(st.integers(0, SPAN_MINUTES * 60)))
        row = {"unit_code": unit["unit_code"], "response_id": f"R{index}",
               "submitted_at": submitted}
        row.update({element: draw(answer) for element in ref.ELEMENTS})
        survey.append(row)
    targets = {}
    for _ in range(draw(st.integers(0, 8))):
        unit = draw(st.sampled_from([*(u["unit_code"] for u in units), "*"]))
        kpi = draw(st.sampled_from(KPI_NAMES))
        valid_from = BASE.date() + dt.timedelta(days=draw(st.integers(-10, 40)))
        length = draw(st.one_of(st.none(), st.integers(0, 30)))
        targets[(unit, kpi, valid_from)] = {
            "unit_code": unit, "kpi": kpi, "valid_from": valid_from,
            "valid_to": None if length is None else valid_from + dt.timedelta(days=length),
            "target": float(draw(st.sampled_from([1, 3, 10, 20, 30, 50, 75, 90]))),
            "amber_pct": float(draw(st.sampled_from([0, 5, 10, 25]))),
        }
    return {"units": units, "services": services, "events": events, "survey": survey,
            "targets": list(targets.values())}


@pytest.fixture(scope="module")
def fresh_store(_empty_store_file: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> Callable[[], Store]:
    """`fresh_store()`: a new empty store for each generated city (a copy of the session's
    empty store: quicker than creating one per example)."""
    folder = tmp_path_factory.mktemp("cities")
    numbers = itertools.count()
    return lambda: copy_store(_empty_store_file, folder / f"city-{next(numbers)}")


def _store_with(store: Store, city: dict) -> Store:
    ref.load_rows(store, units=city["units"], services=city["services"], events=city["events"],
                  survey_responses=city["survey"], targets=city["targets"])
    return store


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(city=cities(), period=st.sampled_from(PERIODS),
       window=st.tuples(st.integers(-20, 60), st.integers(0, 70)))
def test_kpi_table_agrees_with_the_reference(fresh_store, city, period, window):
    date_from = BASE.date() + dt.timedelta(days=window[0])
    date_to = date_from + dt.timedelta(days=window[1])
    store = _store_with(fresh_store(), city)
    table = metrics.kpi_table(store, period=period, date_from=date_from, date_to=date_to)
    expected = ref.kpi_rows(city, period, date_from, date_to)
    got = {}
    for row in table.to_dict("records"):
        target = None if math.isnan(row["target"]) else row["target"]
        got[(row["unit_code"], row["period_start"], row["kpi"])] = (
            row["value"], row["n"], target, row["status"])
    assert set(got) == set(expected)
    for key, (value, n, target, status) in expected.items():
        got_value, got_n, got_target, got_status = got[key]
        assert _close(got_value, value), key
        assert (got_n, got_target, got_status) == (n, target, status), key


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(city=cities(), window=st.tuples(st.integers(-5, 45), st.integers(0, 50)))
def test_ikm_table_agrees_with_the_reference(fresh_store, city, window):
    date_from = BASE.date() + dt.timedelta(days=window[0])
    date_to = date_from + dt.timedelta(days=window[1])
    store = _store_with(fresh_store(), city)
    rows = {row["unit_code"]: row for row in
            skm.ikm_table(store, date_from=date_from, date_to=date_to)}
    expected = ref.ikm_rows(city, date_from, date_to)
    assert set(rows) == set(expected)
    for code, want in expected.items():
        row = rows[code]
        assert _close(row["ikm"], want["ikm"])
        assert all(_close(row["nrr"][element], want["nrr"][element]) for element in ref.ELEMENTS)
        assert (row["n"], row["grade"], row["min_sample"], row["sample_ok"]) == (
            want["n"], want["grade"], want["min_sample"], want["sample_ok"])


def _walk(steps: list[float]) -> list[float]:
    """A random walk: long monotone stretches (trends) and stretches off the centre (shifts)."""
    values, level = [], 10.0
    for step in steps:
        level += step
        values.append(level)
    return values


series_values = st.one_of(
    st.lists(st.sampled_from([0.0, 1.0, 2.0, 2.5, 3.0, 5.0, 9.0, 20.0]), max_size=30),
    st.lists(st.sampled_from([-1.0, 0.0, 0.5, 1.0, 1.0, 1.0, 4.0]), max_size=30).map(_walk),
    st.lists(st.sampled_from([-1.0, -1.0, -1.0, 0.0, 1.0, -6.0]), max_size=30).map(_walk),
)


@settings(max_examples=300, deadline=None)
@given(values=series_values,
       better=st.sampled_from(["higher", "lower"]),
       baseline=st.one_of(st.none(), st.integers(1, 30)),
       target=st.one_of(st.none(), st.sampled_from([-5.0, 0.0, 2.5, 4.0, 30.0])))
def test_xmr_agrees_with_the_reference(values, better, baseline, target):
    from kpi.spc import xmr

    got = xmr(values, better=better, baseline=baseline, target=target)
    want = ref.xmr(values, better, baseline, target)
    assert (got.centre, got.ucl, got.lcl) == (want["centre"], want["ucl"], want["lcl"])
    assert got.trial == want["trial"]
    assert got.signals == want["signals"]
    assert (got.variation, got.assurance) == (want["variation"], want["assurance"])
