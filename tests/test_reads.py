"""Explicit cache keys (kpi/reads.py): every engine function a page caches declares the tables
it reads, and reads no other. The statements a function runs are recorded and their tables
named by DuckDB's own parser (json_serialize_sql), never by a pattern over the SQL."""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kpi import reads
from kpi.store import Cursor, Store
from tests.conftest import copy_store, one_worker

pytestmark = one_worker("reads")  # one copy of the example, read by every test here

ROOT = Path(__file__).resolve().parent.parent
D = dt.date
WEEK = D(2026, 3, 23)
MARCH = {"date_from": D(2026, 3, 2), "date_to": D(2026, 3, 29)}
QUARTER = {"date_from": D(2026, 1, 1), "date_to": D(2026, 3, 31)}

# One call of every declared function, on the contract's worked example: the arguments that
# make it read the most (a unit named, every filter on).
CALLS: dict[str, list[dict[str, Any]]] = {
    "kpi.alerts.alert_log": [{}],
    "kpi.audit.actions": [{}], "kpi.audit.people": [{}], "kpi.audit.verify": [{}],
    "kpi.audit.trail": [{"since": D(2026, 1, 1), "who": "tests", "action": "events.import"}],
    "kpi.editor.services_table": [{}], "kpi.editor.targets_table": [{}],
    "kpi.editor.unit_codes": [{}], "kpi.editor.unit_names": [{}], "kpi.editor.unit_types": [{}],
    "kpi.ingest.list_batches": [{}],
    "kpi.interventions.list_interventions": [{"unit": "PKM-1"}],
    "kpi.metrics.arrivals_by_hour": [{"unit": "PKM-1", **MARCH}],
    "kpi.metrics.data_range": [{}],
    "kpi.metrics.funnel": [{"kpi": "abandon_rate", "period": "week", "period_start": WEEK}],
    "kpi.metrics.kpi_values": [{"period": "week", **MARCH, "units": ["PKM-1", "*"]}],
    "kpi.metrics.overview": [{"period": "week", "period_start": WEEK},
                             {"period": "week", "period_start": WEEK, "units": ["PKM-1"]}],
    "kpi.metrics.series": [{"unit": "PKM-1", "kpi": "service_time_median", "period": "week"}],
    "kpi.metrics.service_breakdown": [{"unit": "PKM-1", **MARCH}],
    "kpi.metrics.unit_tree": [{}],
    "kpi.notify.delivery_log": [{}],
    "kpi.notify.subscription": [{"email": "analyst@example.org"}],
    "kpi.offtarget.exceptions": [{"period": "week", "period_start": WEEK,
                                  "date_from": D(2025, 10, 1), "units": ["PKM-1"]}],
    "kpi.offtarget.unit_kpi_history": [{"period": "week", "period_start": WEEK,
                                        "date_from": D(2025, 10, 1), "units": ["PKM-1"]}],
    "kpi.quality.empty_weeks": [MARCH], "kpi.quality.long_service_times": [MARCH],
    "kpi.quality.small_samples": [{"quarter_start": D(2026, 1, 1)}],
    "kpi.quality.summary": [{**MARCH, "quarter_start": D(2026, 1, 1)}],
    "kpi.quality.volume_spikes": [MARCH],
    "kpi.precompute.pending_totals": [{}],
    "kpi.reporting.reported_units": [{"period": "week"}],
    "kpi.reporting.coverages": [{"period": "week"}],
    "kpi.review.data_agenda": [{"week": "2026-W13"}], "kpi.review.default_week": [{}],
    "kpi.review.list_actions": [{"week": "2026-W13"}], "kpi.review.minutes": [{"week": "2026-W13"}],
    "kpi.review.review_weeks": [{}], "kpi.review.reviews": [{}],
    "kpi.saved_mappings.list_mappings": [{"kind": "events"}],
    "kpi.set_aside.listing": [{"lang": "en"}],
    "kpi.skm.comments": [{"unit": "PKM-1", **QUARTER, "search": "antri"}],
    "kpi.skm.ikm_breakdown": [{"unit": "PKM-1", **QUARTER, "by": "age_band"}],
    "kpi.skm.ikm_by_period": [{"period": "quarter", "unit": "PKM-1", **QUARTER}],
    "kpi.skm.ikm_table": [{**QUARTER, "unit": "PKM-1"}],
    "kpi.skm_visits.ikm_by_visit_standard": [{"unit": "PKM-1", **QUARTER}],
    "kpi.spc.spc_series": [{"unit": "PKM-1", "kpi": "service_time_median", "period": "week",
                            "stored_rebase": True}],
    "kpi.survey_links.units_in_scope": [{"who": "analyst@example.org"}],
    "kpi.targets.target_steps": [{"unit": "PKM-1", "kpi": "service_time_median"}],
    "kpi.targets.targets_in_force": [{"day": WEEK}],
    "kpi.users.list_users": [{}], "kpi.users.role_and_units": [{"email": "analyst@example.org"}],
}


def _function(qualified_name: str) -> Callable:
    module, name = qualified_name.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def _cached_by_pages() -> set[str]:
    """The engine functions pages/ and ui/ pass to ui.data.load (read from their source)."""
    found = set()
    for path in [*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"), ROOT / "dashboard.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {alias.asname or alias.name: f"{node.module}.{alias.name}"
                   for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
                   for alias in node.names}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "load"
                    and node.args and isinstance(node.args[0], ast.Attribute)
                    and isinstance(node.args[0].value, ast.Name)):
                module = modules.get(node.args[0].value.id, node.args[0].value.id)
                found.add(f"{module}.{node.args[0].attr}")
    return found


def _tables_named(store: Store, statements: list[str], known: set[str]) -> set[str]:
    """The store's tables that `statements` name (CTE names and temporary tables aside)."""
    named: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE" and node.get("table_name") in known:
                named.add(node["table_name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for sql in statements:
        tree = json.loads(store.query_value("SELECT json_serialize_sql($sql)", {"sql": sql}))
        assert not tree.get("error"), f"not a SELECT, or not parsed: {sql[:80]}"
        walk(tree)
    return named


@pytest.fixture(scope="module")
def store(_example_store_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """One copy of the worked example for the module (every call here only reads), with a
    user for the functions that look one up."""
    from kpi import users

    copied = copy_store(_example_store_file, tmp_path_factory.mktemp("reads") / "kpi")
    users.add_user(copied, "analyst@example.org", "analyst", by="tests")
    return copied


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch):
    """`recorded(store, function, **kwargs)`: the store tables `function` read, all in one
    snapshot (asserted)."""

    def run(store: Store, function: Callable, **kwargs: Any) -> set[str]:
        with store.cursor() as cur:
            known = {name for (name,) in cur.query_rows(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()")}
        statements: list[str] = []
        readings: list[Store] = []
        execute, reading = Cursor.execute, Store.reading

        def recording(cursor: Cursor, sql: str, params: Any = None) -> Cursor:
            statements.append(sql)
            return execute(cursor, sql, params)

        def counted(self: Store) -> Any:
            readings.append(self)
            return reading(self)

        with monkeypatch.context() as patch:
            patch.setattr(Cursor, "execute", recording)
            patch.setattr(Store, "reading", counted)
            function(store, **kwargs)
        # Called with the Store (as ui.data.load does), it reads one snapshot: its numbers
        # never mix the data before an import with the data after it.
        assert len(readings) <= 1, f"{len(readings)} snapshots read: make it one_unit_of_work"
        return _tables_named(store, statements, known)

    return run


def test_every_function_a_page_caches_declares_its_tables():
    undeclared = sorted(name for name in _cached_by_pages()
                        if reads.tables_read(_function(name)) is None)
    assert undeclared == [], "declare them with @reads(...) (kpi/reads.py)"


def test_every_declared_function_has_a_call_here():
    for name in _cached_by_pages():
        _function(name)  # imports the module, which declares its functions
    assert sorted(set(reads.DECLARED) - set(CALLS)) == []


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_function_reads_only_the_tables_it_declares(store, recorded, name):
    function = _function(name)
    declared = reads.tables_read(function)
    assert declared is not None
    for kwargs in CALLS[name]:
        assert recorded(store, function, **kwargs) - declared == set()


def test_the_check_sees_an_undeclared_table(store, recorded):
    @reads.reads("units")
    def sneaky(store: Store) -> int:
        return int(store.query_value("SELECT count(*) FROM units JOIN targets USING (unit_code)"))

    try:
        assert recorded(store, sneaky) - reads.tables_read(sneaky) == {"targets"}
    finally:
        del reads.DECLARED[f"{sneaky.__module__}.{sneaky.__qualname__}"]


def test_only_the_kpi_data_keeps_a_cache_through_a_meetings_writes():
    from kpi import metrics, review, spc

    assert reads.reads_kpi_data_only(metrics.overview)
    assert not reads.reads_kpi_data_only(review.list_actions)
    assert not reads.reads_kpi_data_only(spc.spc_series)  # interventions rebase its limits

