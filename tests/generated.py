"""Stores of bench/make_bench_data.py's province layout for the page tests: built once per
module through the import, copied for each test."""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.make_bench_data import make_bench_data
from kpi.ingest import ingest_file
from kpi.store import Store


def generated_cities(folder: Path, *, events: int, responses: int, cities: int,
                     units_per_city: int) -> Path:
    """A store of `cities` top-level units with `units_per_city` units each, loaded through
    the import (the file kinds in the order the contract loads them); its folder."""
    files = make_bench_data(folder / "csv", events=events, responses=responses, cities=cities,
                            units_per_city=units_per_city)
    store = Store(folder / "kpi", create=True)
    for kind in ("units", "services", "targets", "survey", "events"):
        assert ingest_file(store, kind, files[kind], loaded_by="tests").ok
    store.close()
    return folder / "kpi"


def copied_store(source: Path, tmp_path: Path) -> Store:
    """A store of the test's own, copied from `source` (built once per module)."""
    copy = tmp_path / "kpi"
    shutil.copytree(source, copy)
    return Store(copy)
