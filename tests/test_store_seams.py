"""The store's seams: what engine functions read through (`Reader`)."""

from __future__ import annotations

from kpi.store import Reader, Store


def test_a_store_and_its_cursors_are_readers(empty_store: Store):
    assert isinstance(empty_store, Reader)
    with empty_store.reading() as cur:
        assert isinstance(cur, Reader)
        assert cur.query_value("SELECT count(*) FROM units") == 0
    with empty_store.transaction() as cur:
        assert isinstance(cur, Reader)
    assert not isinstance(object(), Reader)
