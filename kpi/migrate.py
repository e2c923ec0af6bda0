"""Moving an earlier single-file store into the lake (`python -m kpi migrate OLD`)."""

from __future__ import annotations

import os

from kpi import audit, precompute
from kpi.errors import InputRejected
from kpi.store import Store, copy_table, old_store_tables

# Tables the lake computes for itself, never copied from an older store.
_NOT_COPIED = frozenset({"meta", "kpi_values"})


def lake_tables(store: Store) -> list[str]:
    """The store's own tables, in schema order."""
    return [name for (name,) in store.query_rows(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = $lake "
        "ORDER BY table_oid", {"lake": store.alias})]


def migrate(store: Store, old: str | os.PathLike[str], *, by: str | None = None) -> dict[str, int]:
    """Copy every table of `old` into the empty `store` in one transaction and check the counts;
    finalised reviews pin the snapshot the copy makes (their numbers came from `old`)."""
    tables = [name for name in lake_tables(store) if name not in _NOT_COPIED]
    with old_store_tables(store, old) as sources, store.transaction() as cur:
        audit.drop_lone_marker(cur)  # a store just made by `init`: the old trail comes first
        filled = [name for name in tables if Store.count(cur, name)]
        if filled:
            raise InputRejected("error.migrate_not_empty", path=store.path,
                                tables=", ".join(filled))
        copied = {table: copy_table(cur, table, sources[table])
                  for table in tables if table in sources}
        for table, expected in copied.items():
            now = Store.count(cur, table)
            if now != expected:
                raise InputRejected("error.migrate_count_mismatch", table=table, got=now,
                                    old=str(old), expected=expected)
        precompute.refresh(cur)  # the KPI values of the rows just copied, in the same snapshot
        audit.record(cur, by, "store.migrate", str(old), {"rows": copied})
    if copied.get("reviews"):
        pinned = store.data_version()  # the snapshot the copy made
        with store.transaction() as cur:
            cur.execute("UPDATE reviews SET snapshot_id = $snapshot WHERE status = 'final'",
                        {"snapshot": pinned})
    return copied
