"""Moving an earlier single-file store into the lake (`python -m kpi migrate OLD`)."""

from __future__ import annotations

import os

from kpi.errors import InputRejected
from kpi.store import Store, read_old_store

# Tables the lake computes for itself, never copied from an older store.
_NOT_COPIED = frozenset({"meta"})


def lake_tables(store: Store) -> list[str]:
    """The store's own tables, in schema order."""
    return [name for (name,) in store.query_rows(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "ORDER BY table_oid")]


def migrate(store: Store, old: str | os.PathLike[str]) -> dict[str, int]:
    """Copy every table of `old` into the empty `store` in one transaction and check the counts;
    finalised reviews pin the snapshot the copy makes (their numbers came from `old`)."""
    tables = [name for name in lake_tables(store) if name not in _NOT_COPIED]
    with store.transaction() as cur:
        filled = [name for name in tables if Store.count(cur, name)]
        if filled:
            raise InputRejected(
                f"The store {store.path} already holds data ({', '.join(filled)}); migrate into "
                "a new, empty store.", key="migrate.not_empty", path=store.path)
        copied = read_old_store(cur, old, tables)
        for table, expected in copied.items():
            now = Store.count(cur, table)
            if now != expected:
                raise InputRejected(
                    f"Copying {table} gave {now} rows where {old} has {expected}; nothing was "
                    "moved.", key="migrate.count_mismatch", table=table)
    if copied.get("reviews"):
        with store.transaction() as cur:
            cur.execute("UPDATE reviews SET snapshot_id = $snapshot WHERE status = 'final'",
                        {"snapshot": store.data_version()})
    return copied
