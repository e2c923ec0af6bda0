"""The per-snapshot copy of the small tables that `Store.reading()` reads (kpi/store.py): equal
to the lake at the snapshot the reader sees, made again only when a write changed one of them,
and never mixing two snapshots inside one reading."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from kpi import audit, metrics, review, scope, users
from kpi.ingest import ingest_file
from kpi.periods import parse_date
from kpi.store import CACHED_TABLES, Store

SURVEY = ["unit_code,response_id,submitted_at,u1,u2,u3,u4,u5,u6,u7,u8,u9",
          "DUKCAPIL,R-COPY-1,2026-03-03 10:00:00,1,1,1,1,1,1,1,1,"]


def _survey_file(folder: Path) -> Path:
    path = folder / "survey.csv"
    path.write_text("\n".join(SURVEY) + "\n", encoding="utf-8")
    return path


def _copy_schema(store) -> str:
    with store.reading() as cur:
        return cur.query_value("SELECT current_setting('search_path')").split(",")[0]


def _copies(store) -> dict[str, str]:
    """Each copied table's in-memory schema, as a reading finds it."""
    with store.reading() as cur:
        path = cur.query_value("SELECT current_setting('search_path')").split(",")
        rows = cur.query_rows("SELECT schema_name, table_name FROM duckdb_tables() "
                              "WHERE database_name = 'memory'")
    return {table: schema for schema, table in rows if f"memory.{schema}" in path}


def _assert_copy_equals_lake(store) -> None:
    for table in CACHED_TABLES:
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        with store.reading() as cur:
            copied = cur.query_df(sql)
        pd.testing.assert_frame_equal(copied, store.query_df(sql), check_exact=True)


def test_reads_come_from_a_copy_equal_to_the_lake_after_each_write(example_store, tmp_path):
    store = example_store
    assert _copy_schema(store).startswith("memory.kinerja_copy_")
    _assert_copy_equals_lake(store)
    before = metrics.kpi_values(store, period="month", date_from=parse_date("2026-03-01"),
                                date_to=parse_date("2026-03-31"), kpis=["response_count"])
    assert ingest_file(store, "survey", _survey_file(tmp_path), loaded_by="tests").ok
    _assert_copy_equals_lake(store)
    after = metrics.kpi_values(store, period="month", date_from=parse_date("2026-03-01"),
                               date_to=parse_date("2026-03-31"), kpis=["response_count"])
    city = lambda frame: frame.loc[frame["unit_code"] == "*", "value"].iloc[0]  # noqa: E731
    assert city(after) == city(before) + 1


def test_a_write_copies_again_only_the_tables_it_touched(example_store, tmp_path):
    store = example_store
    first = _copies(store)
    assert set(first) == set(CACHED_TABLES)
    with store.transaction() as cur:  # a table that is not copied (the audit trail)
        audit.record(cur, "tests", "test.write", "nothing", {})
    assert _copies(store) == first
    with store.transaction() as cur:  # a meeting-like write: one copied table
        cur.execute("INSERT INTO users (email, role, added_by, added_at) "
                    "VALUES ('a@example.org', 'viewer', 'tests', now()::TIMESTAMP)")
    second = _copies(store)
    assert second["users"] != first["users"]
    assert {table: schema for table, schema in second.items() if table != "users"} == {
        table: schema for table, schema in first.items() if table != "users"}
    _assert_copy_equals_lake(store)
    assert ingest_file(store, "survey", _survey_file(tmp_path), loaded_by="tests").ok
    third = _copies(store)
    assert third["kpi_values"] != second["kpi_values"]
    assert third["users"] == second["users"] and third["actions"] == second["actions"]
    _assert_copy_equals_lake(store)


def test_one_reading_sees_one_snapshot_while_a_write_commits(example_store, tmp_path):
    store = example_store
    counts = ("SELECT (SELECT count(*) FROM survey_responses), "
              "(SELECT sum(n) FROM kpi_values WHERE kpi = 'response_count' AND grain = 'year' "
              "AND unit_code = '*'), (SELECT sum(responses) FROM unit_days)")
    with store.reading() as cur:
        seen = cur.query_rows(counts)
        assert seen[0][0] == seen[0][1] == seen[0][2]
        assert ingest_file(store, "survey", _survey_file(tmp_path), loaded_by="tests").ok
        assert cur.query_rows(counts) == seen  # raw rows and copied values alike
    with store.reading() as cur:
        now = cur.query_rows(counts)
    assert now[0] == (seen[0][0] + 1,) * 3


def test_a_write_reads_the_copy_it_began_on_until_it_writes_the_table(example_store):
    """Inside a write transaction, `as_begun` names the in-memory copy made at the snapshot it
    began on, equal to the lake's table there; once the transaction has written the table
    (or run any statement that may write more than one), the lake's own table."""
    store = example_store
    copies = _copies(store)
    with store.transaction() as cur:
        for table in ("users", "units", "reviews", "actions"):
            assert cur.as_begun(table) == f"memory.{copies[table]}.{table}"
            sql = "SELECT * FROM {} ORDER BY ALL"
            pd.testing.assert_frame_equal(cur.query_df(sql.format(cur.as_begun(table))),
                                          cur.query_df(sql.format(table)), check_exact=True)
        assert cur.as_begun("audit_log") == "audit_log"  # not copied
        audit.record(cur, "tests", "test.write", "nothing", {})
        assert cur.as_begun("users") == f"memory.{copies['users']}.users"
        cur.execute("INSERT INTO users (email, role, added_by, added_at) "
                    "VALUES ('b@example.org', 'viewer', 'tests', now()::TIMESTAMP)")
        assert cur.as_begun("users") == "users"
        assert cur.query_value(f"SELECT count(*) FROM {cur.as_begun('users')} "
                               "WHERE email = 'b@example.org'") == 1
        assert cur.as_begun("reviews") == f"memory.{copies['reviews']}.reviews"
        cur.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS one")  # may write anything
        assert cur.as_begun("reviews") == "reviews"


def test_a_scope_changed_by_another_process_binds_the_next_write(example_store):
    """A process's copy of `users` is not used by its next write once another process has
    changed a user: the narrower scope refuses the action at once."""
    store = example_store
    users.add_user(store, "ana@example.org", "analyst", ["DINKES"], by="tests")
    week = review.default_week(store)
    action = {"title": "Call back", "responsible": "dr. Sari", "due_date": dt.date(2026, 4, 30),
              "by": "ana@example.org"}
    review.create_action(store, week, unit_code="PKM-1", **action)  # PKM-1 is under DINKES
    _copies(store)  # this process now holds a copy with ana's wider scope
    other = Store(store.path)  # another engine, as another process (or server) has
    users.add_user(other, "ana@example.org", "analyst", ["PKM-2"], by="tests")
    with pytest.raises(scope.OutOfScope):
        review.create_action(store, week, unit_code="PKM-1", **action)
    review.create_action(store, week, unit_code="PKM-2", **action)


def test_a_table_past_the_size_limit_is_read_from_the_lake(example_store, tmp_path,
                                                              monkeypatch):
    """A province's precomputed values are too big to copy into every server after every
    import: a table whose data files pass COPY_MAX_BYTES is read from the lake at the same
    snapshot, the small ones still from the copy, and the figures are the same."""
    from kpi import store as store_module

    store = example_store
    period = dict(period="month", date_from=parse_date("2026-03-01"),
                  date_to=parse_date("2026-03-31"), kpis=["response_count", "throughput"])
    copied = metrics.kpi_values(store, **period)
    monkeypatch.setattr(store_module, "COPY_MAX_BYTES", 10_000)  # the example's: 26 kB
    assert ingest_file(store, "survey", _survey_file(tmp_path), loaded_by="tests").ok
    copies = _copies(store)
    assert "kpi_values" not in copies and "units" in copies
    _assert_copy_equals_lake(store)
    read_from_lake = metrics.kpi_values(store, **period)
    city = lambda frame, kpi: frame.loc[(frame["unit_code"] == "*")  # noqa: E731
                                        & (frame["kpi"] == kpi), "value"].iloc[0]
    assert city(read_from_lake, "response_count") == city(copied, "response_count") + 1
    assert city(read_from_lake, "throughput") == city(copied, "throughput")
