"""Targets: which row applies (unit beats `*`, latest valid_from, validity inclusive), status."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi import targets
from kpi.store import Store
from tests.helpers import target_on
from tests.reference_impl import load_rows

D = dt.date


@pytest.mark.parametrize(("value", "target", "better", "amber", "expected"), [
    (100.0, 100.0, "higher", 10.0, "green"),
    (90.0, 100.0, "higher", 10.0, "amber"),      # exactly target × (1 − 10 %)
    (89.99, 100.0, "higher", 10.0, "red"),
    (100.0, 100.0, "lower", 10.0, "green"),
    (110.0, 100.0, "lower", 10.0, "amber"),      # exactly target × (1 + 10 %)
    (110.01, 100.0, "lower", 10.0, "red"),
    (30.1, 30.0, "lower", 0.0, "red"),           # amber_pct 0: no amber band
    (None, 30.0, "lower", 10.0, "none"),
    (31.0, None, "lower", 10.0, "none"),
    (float("nan"), 30.0, "higher", 10.0, "none"),
    (0.0, 0.0, "lower", 10.0, "green"),
])
def test_status(value, target, better, amber, expected):
    assert targets.status(value, target, better, amber) == expected


def test_status_default_amber_is_ten_percent():
    assert targets.status(9.0, 10.0, "higher") == "amber"
    assert targets.status(8.9, 10.0, "higher") == "red"


@pytest.fixture(scope="module")
def store() -> Store:
    """Three units and their targets, built once: the tests below only read them."""
    store = Store(":memory:")
    rows = [
        ("*", "service_time_median", 30.0, D(2026, 1, 1), None, 10.0),
        ("*", "service_time_median", 28.0, D(2026, 3, 1), None, 10.0),
        ("A", "service_time_median", 25.0, D(2026, 1, 1), D(2026, 3, 8), 20.0),
        ("A", "service_time_median", 22.0, D(2026, 3, 9), None, 10.0),
        ("B", "service_time_median", 20.0, D(2026, 2, 1), D(2026, 2, 28), 10.0),
        ("B", "service_time_median", 18.0, D(2026, 2, 15), D(2026, 2, 20), 5.0),  # overlaps
    ]
    load_rows(store,
              units=[{"unit_code": code, "name": code, "type": "dinas"} for code in "ABC"],
              targets=[dict(zip(["unit_code", "kpi", "target", "valid_from", "valid_to",
                                 "amber_pct"], row, strict=True)) for row in rows])
    return store


@pytest.mark.parametrize(("unit", "day", "target", "source"), [
    ("A", D(2026, 3, 8), 25.0, "A"),   # valid_to is inclusive
    ("A", D(2026, 3, 9), 22.0, "A"),
    ("A", D(2025, 12, 31), None, None),
    ("B", D(2026, 1, 15), 30.0, "*"),  # no row of its own yet: the city's
    ("B", D(2026, 2, 16), 18.0, "B"),  # overlapping own rows: the latest valid_from
    ("B", D(2026, 2, 21), 20.0, "B"),
    ("B", D(2026, 3, 1), 28.0, "*"),   # own rows expired; the latest `*` row
    ("C", D(2026, 2, 28), 30.0, "*"),
    ("*", D(2026, 3, 9), 28.0, "*"),   # the city only ever gets `*` rows
])
def test_the_target_in_force(store, unit, day, target, source):
    found = target_on(store, unit=unit, kpi="service_time_median", day=day)
    assert (found and found["target"], found and found["source_unit"]) == (target, source)


def test_no_target_in_force_for_another_kpi(store):
    assert target_on(store, unit="A", kpi="ikm", day=D(2026, 3, 1)) is None


def test_target_steps_for_a_step_line(store):
    steps = targets.target_steps(store, unit="B", kpi="service_time_median")
    assert steps[["valid_from", "valid_to", "target", "source_unit"]].values.tolist() == [
        [D(2026, 1, 1), D(2026, 1, 31), 30.0, "*"],
        [D(2026, 2, 1), D(2026, 2, 14), 20.0, "B"],
        [D(2026, 2, 15), D(2026, 2, 20), 18.0, "B"],
        [D(2026, 2, 21), D(2026, 2, 28), 20.0, "B"],
        [D(2026, 3, 1), None, 28.0, "*"],
    ]


def test_targets_in_force(store):
    table = targets.targets_in_force(store, day=D(2026, 3, 9))
    assert dict(zip(table["unit_code"], table["target"], strict=True)) == {
        "*": 28.0, "A": 22.0, "B": 28.0, "C": 28.0}
    assert set(table["kpi"]) == {"service_time_median"}


@pytest.mark.parametrize(("kpi", "target"), [
    ("abandon_rate", "99999999999999999999999"), ("within_standard_pct", "-1"),
    ("within_standard_pct", "100.5"), ("ikm", "24.9"), ("ikm", "101"),
    ("service_time_median", "0"), ("wait_time_median", "10080"), ("throughput", "-3")])
def test_a_target_outside_its_kpis_sensible_range_is_refused(example_store, tmp_path, kpi, target):
    """Issue 22 (minor): a target of 1e23 was saved and flattened every chart."""
    from kpi.i18n import t as message
    from kpi.ingest import ingest_file

    path = tmp_path / "targets.csv"
    path.write_text("unit_code,kpi,target,valid_from\n"
                    f"*,{kpi},{target},2026-06-01\n", encoding="utf-8")
    result = ingest_file(example_store, "targets", path, dry_run=True)
    assert [(p.line, p.column, p.key) for p in result.problems] == [
        (2, "target", "ingest.target_out_of_range")]
    assert message("ingest.target_out_of_range", "id", value=target) in [
        p.message("id") for p in result.problems]


def test_targets_at_the_edges_of_their_range_are_kept(example_store, tmp_path):
    from kpi.ingest import ingest_file

    path = tmp_path / "targets.csv"
    path.write_text("unit_code,kpi,target,valid_from\n*,abandon_rate,0,2026-06-01\n"
                    "*,within_standard_pct,100,2026-06-01\n*,ikm,25,2026-06-01\n"
                    "*,service_time_median,10079,2026-06-01\n", encoding="utf-8")
    assert ingest_file(example_store, "targets", path, dry_run=True).ok
