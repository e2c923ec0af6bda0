"""A store made before a change still works after it: schema.sql's new tables are created in an
existing store once, when it is opened."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi import store as store_module
from kpi.store import Store


@pytest.fixture
def new_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """schema.sql as a feature extends it: one more table."""
    extended = tmp_path / "schema.sql"
    extended.write_text(store_module.SCHEMA_FILE.read_text(encoding="utf-8")
                        + "\nCREATE TABLE IF NOT EXISTS upgrade_probe (note VARCHAR);\n",
                        encoding="utf-8")
    monkeypatch.setattr(store_module, "SCHEMA_FILE", extended)
    store_module.schema_digest.cache_clear()
    yield extended
    store_module.schema_digest.cache_clear()


def _tables(store: Store) -> set[str]:
    with store.cursor() as cur:  # the lake itself (reads go to copies of the small tables)
        return {name for (name,) in cur.query_rows(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()")}


def test_opening_an_older_store_applies_the_new_schema_once(empty_store, new_schema):
    path = empty_store.location.text
    opened = Store(path)
    assert "upgrade_probe" in _tables(opened)
    snapshot = opened.data_version()
    again = Store(path)
    assert "upgrade_probe" in _tables(again)
    assert again.data_version() == snapshot  # the second opening wrote nothing


# -- precomputed values follow the formulas ----------------------------------------------------
def _city_abandon_rates(store) -> list[float]:
    import datetime as dt

    from kpi import metrics

    frame = metrics.kpi_values(store, period="month", date_from=dt.date(2026, 1, 1),
                               date_to=dt.date(2026, 12, 31), units=["*"],
                               kpis=["abandon_rate"])
    return frame["value"].tolist()


def test_a_changed_formula_recomputes_an_existing_store_once(example_store, monkeypatch):
    from dataclasses import replace

    from kpi import precompute
    from kpi.vocabulary import KPIS

    before = _city_abandon_rates(example_store)
    assert before and not precompute.ensure_ready(example_store)  # current: nothing to do
    # A new definition: abandonment in per mille instead of per cent.
    monkeypatch.setitem(KPIS, "abandon_rate", replace(
        KPIS["abandon_rate"], value="1000.0::DOUBLE * n_abandoned / n_events"))
    told = []
    assert precompute.ensure_ready(example_store, on_recompute=lambda: told.append(True))
    assert told == [True]
    assert _city_abandon_rates(example_store) == pytest.approx([10 * rate for rate in before])
    version = example_store.data_version()
    assert not precompute.ensure_ready(example_store, on_recompute=lambda: told.append(True))
    assert told == [True] and example_store.data_version() == version  # once: nothing written


def test_the_digest_follows_the_formulas_not_the_python_around_them(monkeypatch):
    from dataclasses import replace

    from kpi import precompute
    from kpi.vocabulary import KPIS

    digest = precompute.definitions_digest()
    assert precompute.definitions_digest() == digest
    monkeypatch.setitem(KPIS, "ikm", replace(KPIS["ikm"], n="n_responses + 0"))
    assert precompute.definitions_digest() != digest
    monkeypatch.undo()
    monkeypatch.setattr(precompute, "PRECOMPUTE_VERSION", precompute.PRECOMPUTE_VERSION + 1)
    assert precompute.definitions_digest() != digest


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_dashboard_says_so_while_it_recomputes_then_shows_the_new_values(
        example_store, monkeypatch, lang):
    from dataclasses import replace

    from kpi.i18n import t
    from kpi.vocabulary import KPIS
    from tests.helpers import open_view, texts

    before = _city_abandon_rates(example_store)
    monkeypatch.setitem(KPIS, "abandon_rate", replace(
        KPIS["abandon_rate"], value="1000.0::DOUBLE * n_abandoned / n_events"))
    at = open_view(example_store, monkeypatch, lang=lang)
    assert texts(at.info)[0] == t("upkeep.recomputing_page", lang)
    assert _city_abandon_rates(example_store) == pytest.approx([10 * rate for rate in before])
    at.run()  # recomputed once: the next run shows no notice
    assert t("upkeep.recomputing_page", lang) not in texts(at.info)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_cli_prints_a_progress_line_while_it_recomputes(example_store, monkeypatch, capsys,
                                                            lang):
    from dataclasses import replace

    from kpi.__main__ import main
    from kpi.i18n import t
    from kpi.vocabulary import KPIS

    monkeypatch.setenv("KPI_LANG", lang)
    monkeypatch.setitem(KPIS, "abandon_rate", replace(
        KPIS["abandon_rate"], value="1000.0::DOUBLE * n_abandoned / n_events"))
    assert main(["--db", str(example_store.path), "batches"]) == 0
    assert capsys.readouterr().err == t("upkeep.recomputing", lang) + "\n"
    assert main(["--db", str(example_store.path), "batches"]) == 0
    assert capsys.readouterr().err == ""  # once
