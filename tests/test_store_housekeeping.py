"""Housekeeping of the embedded store: maintain, backup and restore, moving an earlier
single-file store in, and a finalised review's pinned snapshot."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from kpi import audit, review
from kpi.__main__ import main
from kpi.errors import StoreError
from kpi.ingest import ingest_file, rollback
from kpi.store import LAKE, PROVINCE_ORDER, Store, restore
from tests.conftest import EXAMPLE_DIR, EXAMPLE_KINDS, ROOT

pytestmark = pytest.mark.usefixtures("cli_in_english")  # lines compared with English text

WEEK = "2026-W12"


def finalise_week(store: Store) -> str:
    review.finalise(store, WEEK, by="chair@medan.go.id")
    return WEEK


def test_a_finalised_review_pins_its_snapshot_and_reads_its_numbers_there(example_store):
    finalise_week(example_store)
    record = review.load_record(example_store, WEEK)
    pinned = record["review"]["snapshot_id"]
    assert review.pinned_snapshots(example_store) == {pinned}
    # New data after the meeting changes the live numbers, never the pinned ones.
    rollback(example_store, 3, by="analyst@medan.go.id")
    assert example_store.query_value("SELECT count(*) FROM events") == 0
    assert example_store.at_snapshot(pinned).query_value("SELECT count(*) FROM events") == 835
    assert review.pinned_agenda(example_store, WEEK) == record["agenda"]


def test_maintain_expires_old_snapshots_but_keeps_a_finalised_reviews(example_store):
    finalise_week(example_store)
    pinned = review.pinned_snapshots(example_store)
    for _ in range(3):
        assert ingest_file(example_store, "events", EXAMPLE_DIR / "events.csv").ok
    kept_before = set(example_store.snapshots()["snapshot_id"])
    done = example_store.maintain(0, pinned)
    kept_after = set(example_store.snapshots()["snapshot_id"])
    assert done["snapshots_expired"] > 0
    assert pinned <= kept_after
    assert len(kept_after) < len(kept_before)
    assert example_store.data_version() in kept_after
    (snapshot,) = pinned
    assert example_store.at_snapshot(snapshot).query_value("SELECT count(*) FROM events") == 835
    assert example_store.query_value("SELECT count(*) FROM events") == 835


def _data_files(store: Store, table: str) -> list[tuple[str, str | None]]:
    """(data file, its delete file or None) of each file `table`'s rows are in now."""
    return store.query_rows("SELECT data_file, delete_file FROM ducklake_list_files($lake, "
                            "$table)", {"lake": LAKE, "table": table})


def test_maintain_rewrites_a_file_whose_rows_were_partly_replaced(example_store, tmp_path,
                                                                  fingerprint):
    """A reload of a few events deletes them from the file the first load wrote; `maintain`
    writes that file again without them (a later DELETE touching it would otherwise rewrite
    its whole list of deleted rows), and every table reads as before."""
    lines = (EXAMPLE_DIR / "events.csv").read_text(encoding="utf-8").splitlines()
    again = tmp_path / "again.csv"
    again.write_text("\n".join(lines[:21]) + "\n", encoding="utf-8")
    assert ingest_file(example_store, "events", again).replaced == 20
    assert any(deleted for _, deleted in _data_files(example_store, "events"))
    before = fingerprint(example_store)
    example_store.maintain(30, set())
    assert not any(deleted for _, deleted in _data_files(example_store, "events"))
    assert fingerprint(example_store) == before


def test_partition_by_month_rewrites_the_stored_values_in_grain_order(example_store,
                                                                      fingerprint):
    """A province's layout on a store that holds precomputed values already: the same rows,
    now written by grain, then unit, then period (the pages read one grain's periods of many
    units), in files with no deleted rows left; applying it again changes nothing."""
    before = fingerprint(example_store)
    example_store.partition_by_month()
    assert fingerprint(example_store) == before
    files = _data_files(example_store, "kpi_values")
    assert files and not any(deleted for _, deleted in files)
    order = ["grain", "unit_code", "period_start"]
    for data_file, _ in files:
        written = example_store.query_rows(
            f"SELECT {', '.join(order)} FROM read_parquet($file)", {"file": data_file})
        assert len(written) > 1 and written == sorted(written)
    assert PROVINCE_ORDER["kpi_values"] == ", ".join(order)  # new writes keep it
    example_store.partition_by_month()
    assert fingerprint(example_store) == before


def test_backup_and_restore_give_back_the_same_store(example_store, tmp_path, fingerprint):
    before = fingerprint(example_store)
    example_store.backup(tmp_path / "backup")
    with pytest.raises(StoreError, match="not empty"):
        example_store.backup(tmp_path / "backup")
    rollback(example_store, 3, by="analyst@medan.go.id")
    assert fingerprint(example_store) != before
    kept = restore(tmp_path / "backup", example_store.location.text)
    assert kept is not None and (kept / "catalog.sqlite").exists()
    assert fingerprint(Store(example_store.location.text)) == before
    # A restored store is a working store: it takes the next import.
    assert ingest_file(Store(example_store.location.text), "events",
                       EXAMPLE_DIR / "events.csv").ok


def test_restore_into_a_new_folder(example_store, tmp_path, fingerprint):
    example_store.backup(tmp_path / "backup")
    assert restore(tmp_path / "backup", tmp_path / "elsewhere") is None
    assert fingerprint(Store(tmp_path / "elsewhere")) == fingerprint(example_store)


def test_maintenance_backup_and_restore_are_on_the_audit_trail(example_store, tmp_path):
    """Every change of the store as a whole has a name and a time, like every data write."""
    db, backup = str(example_store.path), tmp_path / "backup"
    for command in (["maintain"], ["backup", str(backup)], ["restore", str(backup)]):
        assert main(["--db", db, *command]) == 0, command
    restored = Store(db)
    trail = audit.trail(restored)
    # The backup's own row is written after the copy, so it is in the store it replaced.
    assert list(trail["action"])[-2:] == ["store.maintain", "store.restore"]
    assert set(trail["who"].tail(2)) == {audit.cli_user()}
    assert str(backup) in list(trail["object"])[-1]
    assert audit.verify(restored).ok
    kept = json.loads(list(trail["details"])[-1])["replaced_store_kept_in"]
    assert list(audit.trail(Store(kept))["action"])[-1] == "store.backup"


# An earlier Kinerja's single-file store, as DuckDB writes it (the old schema had a sequence
# and a data_version counter; the tables the lake has gained since are absent).
OLD_STORE = textwrap.dedent("""
    import sys
    import duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("CREATE TABLE meta (key VARCHAR, value BIGINT)")
    con.execute("INSERT INTO meta VALUES ('data_version', 7), ('schema_version', 1)")
    con.execute("CREATE SEQUENCE batch_id_seq START 1")
    con.execute("CREATE TABLE batches (batch_id BIGINT, kind VARCHAR, file_name VARCHAR,"
                " sha256 VARCHAR, rows_in_file BIGINT, rows_inserted BIGINT, rows_replaced BIGINT,"
                " loaded_by VARCHAR, loaded_at TIMESTAMP, status VARCHAR,"
                " rolled_back_at TIMESTAMP, rolled_back_by VARCHAR)")
    con.execute("INSERT INTO batches VALUES (1, 'units', 'units.csv', 'x', 4, 4, 0, 'ana',"
                " '2026-03-01 08:00', 'committed', NULL, NULL)")
    con.execute("CREATE TABLE units (unit_code VARCHAR, name VARCHAR, type VARCHAR,"
                " parent_code VARCHAR, district VARCHAR, batch_id BIGINT)")
    con.execute("INSERT INTO units SELECT unit_code, name, type, parent_code, district, 1"
                " FROM read_csv(?, all_varchar = true)", [sys.argv[2]])
    con.execute("CREATE TABLE reviews (week VARCHAR, week_start DATE, status VARCHAR,"
                " attendees VARCHAR, decisions VARCHAR, created_at TIMESTAMP, created_by VARCHAR,"
                " finalised_at TIMESTAMP, finalised_by VARCHAR, record_json VARCHAR,"
                " record_sha256 VARCHAR)")
    con.execute("INSERT INTO reviews VALUES ('2026-W10', '2026-03-02', 'final', NULL, NULL,"
                " '2026-03-09 09:00', 'chair', '2026-03-09 10:00', 'chair', '{}', 'abc')")
    if len(sys.argv) > 3:
        con.execute(f"EXPORT DATABASE '{sys.argv[3]}' (FORMAT parquet)")
    con.close()
""")


def make_old_store(tmp_path, export: bool = False):
    old = tmp_path / "kpi.duckdb"
    args = [sys.executable, "-c", OLD_STORE, str(old), str(EXAMPLE_DIR / "units.csv")]
    if export:
        args.append(str(tmp_path / "export"))
    subprocess.run(args, check=True, cwd=ROOT, timeout=120)
    return tmp_path / "export" if export else old


@pytest.mark.parametrize("export", [False, True], ids=["duckdb-file", "parquet-export"])
def test_migrate_moves_an_earlier_store_in_with_its_counts(tmp_path, export):
    old = make_old_store(tmp_path, export)
    target = tmp_path / "lake"
    done = subprocess.run([sys.executable, "-m", "kpi", "--db", str(target), "migrate", str(old)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "units: 4 row(s)" in done.stdout and "batches: 1 row(s)" in done.stdout
    store = Store(target)
    assert store.query_value("SELECT count(*) FROM units") == 4
    assert store.query_value("SELECT loaded_by FROM batches") == "ana"
    pinned = store.query_value("SELECT snapshot_id FROM reviews WHERE week = '2026-W10'")
    assert store.at_snapshot(pinned).query_value("SELECT count(*) FROM units") == 4
    assert audit.trail(store, action="store.migrate")["object"].tolist() == [str(old)]
    # Batches keep counting from the old ones, and a second migration is refused.
    assert ingest_file(store, "services", EXAMPLE_DIR / "services.csv").batch_id == 2
    again = subprocess.run([sys.executable, "-m", "kpi", "--db", str(target), "migrate",
                            str(old)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2
    assert "already holds data" in again.stderr and len(again.stderr.strip().splitlines()) == 1


def test_an_old_single_file_store_named_as_the_store_says_to_migrate(tmp_path):
    old = make_old_store(tmp_path)
    done = subprocess.run([sys.executable, "-m", "kpi", "--db", str(old), "batches"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "python -m kpi migrate" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_every_example_kind_goes_into_a_fresh_lake_as_one_snapshot_each(tmp_path):
    store = Store(tmp_path / "kpi", create=True)
    start = store.data_version()
    for kind in EXAMPLE_KINDS:
        assert ingest_file(store, kind, EXAMPLE_DIR / f"{kind}.csv").ok
    assert store.data_version() == start + len(EXAMPLE_KINDS)
