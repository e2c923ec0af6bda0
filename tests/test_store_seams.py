"""The store's seams: what engine functions read through (`Reader`)."""

from __future__ import annotations

import pytest

from kpi.errors import StoreError
from kpi.store import Reader, Store


def test_a_store_and_its_cursors_are_readers(empty_store: Store):
    assert isinstance(empty_store, Reader)
    with empty_store.reading() as cur:
        assert isinstance(cur, Reader)
        assert cur.query_value("SELECT count(*) FROM units") == 0
    with empty_store.transaction() as cur:
        assert isinstance(cur, Reader)
    assert not isinstance(object(), Reader)


def test_kpi_memory_limit_caps_duckdb_in_each_process(empty_store: Store, monkeypatch,
                                                      tmp_path):
    """KPI_MEMORY_LIMIT is DuckDB's limit in the process (a server running dashboards and
    imports side by side); unset, DuckDB's own default; a bad value is one sentence in either
    language, not DuckDB's parser error."""
    default = empty_store.query_value("SELECT current_setting('memory_limit')")
    monkeypatch.setenv("KPI_MEMORY_LIMIT", "512MiB")
    capped = Store(empty_store.path)
    try:
        assert capped.query_value("SELECT current_setting('memory_limit')") == "512.0 MiB"
        assert default != "512.0 MiB"
    finally:
        capped.close()
    monkeypatch.setenv("KPI_MEMORY_LIMIT", "lots")
    with pytest.raises(StoreError) as raised:
        Store(empty_store.path)
    assert raised.value.key == "error.memory_limit"
    assert str(raised.value) == ("KPI_MEMORY_LIMIT=lots is not a memory size; write it as "
                                 "DuckDB does, e.g. 8GB or 512MB.")
    assert raised.value.localized("id").startswith("KPI_MEMORY_LIMIT=lots bukan ukuran memori")
