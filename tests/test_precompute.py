"""The precomputed KPI values (kpi/precompute.py) equal a computation over the raw rows after
every kind of write: imports of each kind, a replacing import, rollbacks, a target edit, a
change of the unit tree and a standard."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpi import editor, ingest, metrics, precompute
from kpi.ingest import ingest_file
from kpi.vocabulary import PERIODS


def _stored(store) -> pd.DataFrame:
    frame = store.query_df(
        "SELECT grain, unit_code, kpi, period_start, value, n, parts FROM kpi_values")
    return frame.sort_values(["grain", "unit_code", "kpi", "period_start"], ignore_index=True)


def _from_raw_rows(store) -> pd.DataFrame:
    """Every KPI of every grain computed afresh from the raw rows (the engine's own SQL)."""
    parts = []
    for grain in PERIODS:
        params: dict = {}
        sql = metrics.kpi_rows_sql(grain, None, None, list(metrics.KPIS), params)
        part = store.query_df(
            f"SELECT unit_code, kpi, period_start, value, n, parts FROM ({sql})", params)
        parts.append(part.assign(grain=grain))
    frame = pd.concat(parts, ignore_index=True)[
        ["grain", "unit_code", "kpi", "period_start", "value", "n", "parts"]]
    return frame.sort_values(["grain", "unit_code", "kpi", "period_start"], ignore_index=True)


_UNIT_DAYS_FROM_RAW_ROWS = """
    SELECT unit_code, day, sum(events) AS events, sum(responses) AS responses FROM (
        SELECT unit_code, arrived_at::DATE AS day, count(*) AS events, 0 AS responses
        FROM events GROUP BY ALL
        UNION ALL
        SELECT unit_code, submitted_at::DATE, 0, count(*) FROM survey_responses GROUP BY ALL)
    GROUP BY ALL ORDER BY ALL"""


def assert_fresh(store) -> None:
    stored, fresh = _stored(store), _from_raw_rows(store)
    assert len(fresh) > 0
    pd.testing.assert_frame_equal(stored, fresh, check_exact=True, check_dtype=False)
    # Each unit's own rows per day (which units reported) follow the same writes.
    days = store.query_df("SELECT unit_code, day, events, responses FROM unit_days ORDER BY ALL")
    pd.testing.assert_frame_equal(days, store.query_df(_UNIT_DAYS_FROM_RAW_ROWS),
                                  check_exact=True, check_dtype=False)


def _write(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def import_then_roll_back(store, folder: Path, kind: str, lines: list[str]) -> None:
    """Import `lines` as a `kind` file, then roll the batch back: the values are fresh after
    each step."""
    batch = ingest_file(store, kind, _write(folder, f"{kind}.csv", lines), loaded_by="tests")
    assert batch.ok
    assert_fresh(store)
    ingest.rollback(store, batch.batch_id, by="tests")
    assert_fresh(store)


def test_values_follow_imports_rollbacks_and_edits(example_store, tmp_path):
    store = example_store
    assert_fresh(store)  # after the five imports of the example
    # A batch that replaces a ticket with one two weeks later and adds a new one.
    moved = store.query_df("SELECT * FROM events WHERE outcome = 'completed' LIMIT 1").iloc[0]
    later = (moved["arrived_at"] + pd.Timedelta(days=15)).strftime("%Y-%m-%d %H:%M:%S")
    done = (moved["arrived_at"] + pd.Timedelta(days=15, minutes=95)).strftime(
        "%Y-%m-%d %H:%M:%S")
    service = store.query_value(
        "SELECT service_code FROM services WHERE unit_code = 'PKM-2' ORDER BY ALL LIMIT 1")
    events = _write(tmp_path, "events.csv", [
        "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel",
        f"{moved['unit_code']},{moved['service_code']},{moved['ticket_id']},{later},,{done},"
        "completed,counter",
        f"PKM-2,{service},NEW-1,"
        "2026-03-02 08:00:00,2026-03-02 08:10:00,2026-03-02 08:20:00,completed,counter",
    ])
    before = _stored(store)
    batch = ingest_file(store, "events", events, loaded_by="tests")
    assert batch.ok and batch.replaced == 1
    assert_fresh(store)
    assert not _stored(store).equals(before)
    ingest.rollback(store, batch.batch_id, by="tests")
    assert_fresh(store)
    pd.testing.assert_frame_equal(_stored(store), before, check_exact=True)

    # A survey batch, then its rollback.
    import_then_roll_back(store, tmp_path, "survey", [
        "unit_code,response_id,submitted_at,u1,u2,u3,u4,u5,u6,u7,u8,u9",
        "DUKCAPIL,R-NEW-1,2026-03-03 10:00:00,1,1,1,1,1,1,1,1,",
    ])

    # A target edit changes no stored value (status is derived at read time).
    stored_before_edit = _stored(store)
    original = editor.targets_table(store)
    edited = original.copy()
    first = edited.index[0]
    edited.loc[first, "target"] = float(edited.loc[first, "target"]) + 7
    assert editor.save_targets(store, original, edited, by="tests").ok
    assert_fresh(store)
    pd.testing.assert_frame_equal(_stored(store), stored_before_edit, check_exact=True)

    # A standard edit moves within_standard_pct of the service's unit and its ancestors.
    original = editor.services_table(store)
    edited = original.copy()
    edited.loc[edited.index[0], "standard_minutes"] = 1.0
    assert editor.save_services(store, original, edited, by="tests").ok
    assert_fresh(store)

    # The unit tree changes: PKM-2 moves from DINKES to DUKCAPIL; then back by rollback.
    import_then_roll_back(store, tmp_path, "units", [
        "unit_code,name,type,parent_code,district",
        "PKM-2,Puskesmas Contoh Dua,puskesmas,DUKCAPIL,Medan Amplas",
    ])


def test_a_dry_run_and_a_rejected_file_leave_the_values(example_store, tmp_path, fingerprint):
    before = fingerprint(example_store)
    events = _write(tmp_path, "events.csv", [
        "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel",
        "PKM-1,UMUM,NEW-9,2026-03-02 08:00:00,,2026-03-02 08:20:00,completed,counter",
    ])
    assert ingest_file(example_store, "events", events, dry_run=True).ok
    bad = _write(tmp_path, "bad.csv", [
        "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel",
        "PKM-1,UMUM,NEW-9,2026-03-02 08:00:00,,,completed,counter",
    ])
    assert not ingest_file(example_store, "events", bad).ok
    assert fingerprint(example_store) == before


@pytest.mark.parametrize("table", ["kpi_values", "unit_days"])
def test_a_store_without_the_table_gets_it_once(example_store, table):
    """A store made before the table existed (or whose build never ran) gets it on opening."""
    with example_store.transaction() as cur:
        cur.execute(f"DELETE FROM {table}")
        cur.execute("DELETE FROM meta WHERE key = $key", {"key": f"{table}_ready"})
    precompute.ensure_ready(example_store)
    assert_fresh(example_store)
    version = example_store.data_version()
    precompute.ensure_ready(example_store)  # ready: nothing written
    assert example_store.data_version() == version


def test_finalise_takes_the_pages_agenda_only_when_made_from_the_same_kpi_data(example_store):
    """The page hands finalise the agenda it shows (cached per KPI data version); one made
    from other KPI data than the snapshot the record pins is computed afresh instead."""
    from kpi import review

    week = "2026-W12"
    shown = review.data_agenda(example_store, week)
    assert shown["exceptions"]
    other_data = {**shown, "exceptions": [], "kpi_data_version": shown["kpi_data_version"] - 1}
    review.finalise(example_store, week, by="tests", data=other_data)
    assert review.load_record(example_store, week)["agenda"]["exceptions"] == shown["exceptions"]

    week = "2026-W13"
    shown = review.data_agenda(example_store, week)
    marked = {**shown, "exceptions": shown["exceptions"][:1]}  # same KPI data: used as given
    review.finalise(example_store, week, by="tests", data=marked)
    assert review.load_record(example_store, week)["agenda"]["exceptions"] == marked["exceptions"]


def test_a_province_store_defers_the_top_level_totals(example_store, tmp_path):
    """With the totals deferred (a province, issue 26), a unit's import recomputes its own
    subtrees for every grain; the `*` of its day, week, month, quarter and year wait in
    kpi_pending, keep their old values meanwhile, and `refresh_pending` makes every value
    equal to a fresh computation again."""
    store = example_store
    precompute.set_defer_totals(store, True, by="tests")
    assert precompute.defers_totals(store)
    before = _stored(store)
    service = store.query_value(
        "SELECT service_code FROM services WHERE unit_code = 'PKM-2' ORDER BY ALL LIMIT 1")
    batch = ingest_file(store, "events", _write(tmp_path, "events.csv", [
        "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel",
        f"PKM-2,{service},NEW-1,2026-03-02 08:00:00,2026-03-02 08:10:00,2026-03-02 09:50:00,"
        "completed,counter",
    ]), loaded_by="tests")
    assert batch.ok
    assert [(grain, start) for grain, start, _ in precompute.pending_totals(store)] == [
        ("day", pd.Timestamp("2026-03-02").date()), ("month", pd.Timestamp("2026-03-01").date()),
        ("quarter", pd.Timestamp("2026-01-01").date()), ("week", pd.Timestamp("2026-03-02").date()),
        ("year", pd.Timestamp("2026-01-01").date())]
    stored, fresh = _stored(store), _from_raw_rows(store)
    key = ["grain", "unit_code", "kpi", "period_start"]
    compared = stored.merge(fresh, on=key, how="outer", suffixes=("", "_fresh"), indicator=True)
    differs = compared[(compared["_merge"] != "both")
                       | (compared["value"] != compared["value_fresh"])
                       | (compared["n"] != compared["n_fresh"])]
    # Only the waiting `*` values differ from a fresh computation (they miss the new event) ...
    assert set(differs["unit_code"]) == {metrics.CITY}
    assert {(grain, str(start)[:10]) for grain, start in zip(differs["grain"],
                                                            differs["period_start"], strict=True)} == {
        ("day", "2026-03-02"), ("week", "2026-03-02"), ("month", "2026-03-01"),
        ("quarter", "2026-01-01"), ("year", "2026-01-01")}
    assert (differs["n"] == differs["n_fresh"] - 1).all()
    # ... and they are the values before the import.
    waiting = before.merge(differs[key], on=key)
    pd.testing.assert_frame_equal(
        waiting.reset_index(drop=True),
        stored.merge(differs[key], on=key).reset_index(drop=True), check_exact=True)
    version = store.data_version()
    assert precompute.refresh_pending(store, by="tests") == 5
    assert precompute.pending_totals(store) == []
    assert store.data_version() != version
    assert_fresh(store)
    assert store.query_value("SELECT count(*) FROM audit_log WHERE action = 'totals.refresh'") == 1
    # Turning the deferral off recomputes what waits, at once.
    ingest.rollback(store, batch.batch_id, by="tests")
    assert len(precompute.pending_totals(store)) == 5
    precompute.set_defer_totals(store, False, by="tests")
    assert precompute.pending_totals(store) == []
    assert_fresh(store)


def test_a_weekly_import_into_a_province_store_equals_a_full_recomputation(example_store,
                                                                          tmp_path):
    """A province's store (partitioned by month, sorted by unit: `partition_by_month`), its
    totals deferred: one city's week (several units and days, across a month and a quarter,
    one row replacing an older event of another month) recomputes only that city's subtrees
    and periods. Every value but the waiting `*` ones then equals a full recomputation from the
    raw rows; after `refresh_pending` every value does, and so after a rollback."""
    store = example_store
    store.partition_by_month()
    precompute.set_defer_totals(store, True, by="tests")
    services = dict(store.query_rows(
        "SELECT unit_code, min(service_code) FROM services GROUP BY ALL"))
    header = "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel"
    rows = [header]
    for day, unit in enumerate(["PKM-1", "PKM-2", "DINKES", "PKM-1", "PKM-2", "PKM-1", "DINKES"]):
        date = f"2026-{'03-' + str(30 + day) if day < 2 else f'04-0{day - 1}'}"
        for number in range(3):
            rows.append(f"{unit},{services[unit]},WEEK-{day}-{number},{date} 08:0{number}:00,"
                        f"{date} 08:1{number}:00,{date} 09:{10 + 7 * number + day}:00,"
                        "completed,counter")
    rows.append(f"DINKES,{services['DINKES']},TDINKES-000-001,2026-02-16 14:25:46,"
                "2026-02-16 14:30:00,2026-02-16 15:44:51,completed,online")  # replaces one
    before = _stored(store)
    batch = ingest_file(store, "events", _write(tmp_path, "week.csv", rows), loaded_by="tests")
    assert batch.ok and batch.replaced == 1
    stored, fresh = _stored(store), _from_raw_rows(store)
    city = metrics.CITY
    pd.testing.assert_frame_equal(
        stored[stored["unit_code"] != city].reset_index(drop=True),
        fresh[fresh["unit_code"] != city].reset_index(drop=True),
        check_exact=True, check_dtype=False)
    # The other city's values were not rewritten, and `*` keeps its old values meanwhile.
    untouched = before[before["unit_code"].isin(["DUKCAPIL", city])].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        stored[stored["unit_code"].isin(["DUKCAPIL", city])].reset_index(drop=True), untouched,
        check_exact=True)
    assert {grain for grain, _, _ in precompute.pending_totals(store)} == set(PERIODS)
    precompute.refresh_pending(store, by="tests")
    assert_fresh(store)
    ingest.rollback(store, batch.batch_id, by="tests")
    precompute.refresh_pending(store, by="tests")
    assert_fresh(store)
    pd.testing.assert_frame_equal(_stored(store), before, check_exact=True)
