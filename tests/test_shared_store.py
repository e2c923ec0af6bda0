"""The shared store for real: a PostgreSQL catalog (a throwaway cluster of Debian's postgresql)
with its Parquet files in a folder or on a local S3-compatible server (moto), used at once by
several dashboard servers and CLI processes."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from kpi.errors import StoreError, StoreUnreachable
from kpi.i18n import t
from kpi.store import Location, Store, _Engine
from tests.conftest import EXAMPLE_DIR, EXAMPLE_KINDS, ROOT, serial
from tests.helpers import DASHBOARD
from tests.services import (
    APP_PASSWORD,
    APP_ROLE,
    big_events_file,
    check_a_killed_import_changes_nothing,
    s3_server,
)
from tests.test_example_contract import (
    COMMANDS,
    EXPECTED,
    INTERVENTIONS,
    assert_same,
    normalise,
)

pytestmark = [pytest.mark.slow, *serial("services"),
              pytest.mark.usefixtures("cli_in_english")]  # lines compared with English


def cli(db: str, *args: str, data_path: Path | str | None = None, **env: str
        ) -> subprocess.CompletedProcess:
    environment = {**os.environ, "KPI_DB": db, "PYTHONPATH": str(ROOT), **env}
    if data_path is not None:
        environment["KPI_DATA_PATH"] = str(data_path)
    return subprocess.run([sys.executable, "-m", "kpi", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=300)


def load_example(db: str, data_path: Path | str, **env: str) -> None:
    assert cli(db, "init", data_path=data_path, **env).returncode == 0
    for kind in EXAMPLE_KINDS:
        done = cli(db, "ingest", kind, str(EXAMPLE_DIR / f"{kind}.csv"), **env)
        assert done.returncode == 0, done.stderr
    for command in INTERVENTIONS:  # what the example's effect files need, as the contract test
        done = cli(db, *command, **env)
        assert done.returncode == 0, done.stderr


def load_example_here(db: str, data_path: Path) -> None:
    """The example loaded as load_example does (init, then each kind), in this process: for
    the tests about what comes after the load, which a CLI process for each of the six steps
    (~1.5 s of CPU each) would only make slower. The CLI load is tested by
    test_the_contract_example_gives_the_same_numbers_on_postgresql and the S3 test."""
    from kpi.audit import cli_user
    from kpi.ingest import ingest_file
    from kpi.precompute import ensure_ready

    store = Store(db, create=True, data_path=str(data_path))
    ensure_ready(store)
    for kind in EXAMPLE_KINDS:
        result = ingest_file(store, kind, EXAMPLE_DIR / f"{kind}.csv", loaded_by=cli_user())
        assert result.ok, [problem.reason for problem in result.problems]


def test_the_contract_example_gives_the_same_numbers_on_postgresql(catalog_url, tmp_path):
    load_example(catalog_url, tmp_path / "files")
    assert any((tmp_path / "files").rglob("*.parquet")) or Store(catalog_url).query_value(
        "SELECT count(*) FROM events") == 835
    for expected_file, args in COMMANDS.items():
        done = cli(catalog_url, *args)
        assert done.returncode == 0, done.stderr
        want = normalise(json.loads((EXPECTED / expected_file).read_text(encoding="utf-8")))
        assert_same(normalise(json.loads(done.stdout)), want, expected_file)


def secrets_of(url: str) -> list[str]:
    """What no message may show of a catalog URL: its host and port, user and password."""
    parts = urlsplit(url)
    return [f"{parts.hostname}:{parts.port}", f"{parts.hostname}", str(parts.port),
            str(parts.username), unquote(parts.password or "-"), parts.password or "-"]


def test_the_app_role_signs_in_with_its_password_only(cluster):
    """The tests' catalog is reached as Kinerja is deployed: a role that is not a superuser,
    with a password (SCRAM over TCP), through the URL alone."""
    url = cluster.url("kinerja")
    assert not [name for name in os.environ if name.startswith("PG")]
    with psycopg.connect(url) as pg:
        superuser, createdb = pg.execute(
            "SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user").fetchone()
    assert (superuser, createdb) == (False, False)
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(cluster.url("kinerja", password=None), connect_timeout=5).close()
    with psycopg.connect(cluster.admin) as pg:
        rules = pg.execute("SELECT type, user_name, auth_method FROM pg_hba_file_rules "
                           "WHERE error IS NULL ORDER BY line_number").fetchall()
    assert ("host", [APP_ROLE], "scram-sha-256") in rules
    assert [rule for rule in rules if APP_ROLE in rule[1] or "all" in rule[1]] == [
        ("host", [APP_ROLE], "scram-sha-256")]


def test_an_uninitialised_catalog_is_one_sentence(catalog_url):
    done = cli(catalog_url, "batches")
    assert done.returncode == 1
    database = urlsplit(catalog_url).path
    assert done.stderr.startswith(f"There is no store at postgresql://…{database} yet")
    assert len(done.stderr.strip().splitlines()) == 1
    assert not [secret for secret in secrets_of(catalog_url) if secret in done.stderr]


def test_the_pages_that_read_the_store_twice_open_with_a_password_role(catalog_url, tmp_path,
                                                                       monkeypatch):
    """The overview (which asks whether the store holds data) and the review (which caches its
    content per store) use the one Store the process opened from the full URL; they once
    reopened it from its display form, without user and password (as "root")."""
    load_example_here(catalog_url, tmp_path / "files")
    monkeypatch.setenv("KPI_DB", catalog_url)
    for page in ("overview", "review"):
        at = AppTest.from_file(DASHBOARD, default_timeout=90)
        at.query_params["lang"] = "en"
        at.session_state["kinerja_role"] = "admin"
        at.switch_page(f"pages/{page}.py")
        at.run()
        assert not at.exception and not at.error, [element.value for element in at.error]
        assert at.title and t("start.title", "en") not in [title.value for title in at.title]


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_catalog_that_refuses_the_sign_in_is_said_without_its_address(
        cluster, catalog_url, lang, monkeypatch, caplog):
    """A wrong password: every page says the store cannot be reached, in the user's language,
    and nothing of the catalog's address or credentials; the reason is in the log, for the
    administrator, without the password."""
    Store(catalog_url, create=True, data_path=str(Path(tempfile.mkdtemp()) / "files"))
    wrong = catalog_url.replace(quote(APP_PASSWORD, safe=""), quote("Wr0ng/Secret", safe=""))
    assert wrong != catalog_url
    monkeypatch.setenv("KPI_DB", wrong)
    for page in ("overview", "history"):
        at = AppTest.from_file(DASHBOARD, default_timeout=60)
        at.query_params["lang"] = lang
        at.switch_page(f"pages/{page}.py")
        with caplog.at_level(logging.ERROR, logger="kinerja.store"):
            at.run()
        assert not at.exception
        shown = [element.value for element in at.error]
        assert shown == [t("error.store_unreachable", lang)]
        everything = " ".join(str(element.value) for element in at.main
                              if hasattr(element, "value"))
        assert not [secret for secret in [*secrets_of(wrong), "Wr0ng"] if secret in everything]
    logged = caplog.text
    assert "password authentication failed" in logged
    assert f"{APP_ROLE}@127.0.0.1:{cluster.port}" in logged
    assert "Wr0ng" not in logged and APP_PASSWORD not in logged


def test_no_error_of_the_store_holds_the_password(catalog_url, tmp_path):
    """DuckDB names the catalog's URL, password and all, in its own errors: the store's
    errors, and the DuckDB errors chained to them, hold it no more."""
    store = Store(catalog_url, create=True, data_path=str(tmp_path / "files"))
    wrong = catalog_url.replace(quote(APP_PASSWORD, safe=""), "Wr0ngSecret")
    location = Location.parse(wrong)
    with pytest.raises(StoreUnreachable) as raised:
        _Engine(location).attach("lake")  # DuckDB's own ATTACH, without the store's look first
    assert raised.value.__cause__ is not None  # DuckDB's error, chained
    logged = "".join(traceback.format_exception(raised.value))
    assert "Unable to connect" in logged and "Wr0ngSecret" not in logged
    with pytest.raises(StoreError) as raised:
        store.query_value("SELECT no_such_column FROM units")
    assert "no_such_column" in str(raised.value)
    assert not [secret for secret in secrets_of(catalog_url) if secret in str(raised.value)]


def test_concurrent_cli_writers_on_postgresql_take_turns(catalog_url, tmp_path):
    load_example_here(catalog_url, tmp_path / "files")
    env = {**os.environ, "KPI_DB": catalog_url, "PYTHONPATH": str(ROOT)}
    writers = [subprocess.Popen([sys.executable, "-m", "kpi", "ingest", "events",
                                 str(EXAMPLE_DIR / "events.csv")], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(3)]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    store = Store(catalog_url)
    batch_ids = [row[0] for row in store.query_rows("SELECT batch_id FROM batches")]
    assert len(batch_ids) == len(set(batch_ids)) == 8
    assert store.query_value("SELECT count(*) FROM events") == 835


def test_sigkill_during_an_import_on_postgresql_leaves_the_previous_snapshot(
        catalog_url, tmp_path):
    load_example_here(catalog_url, tmp_path / "files")

    def holds_the_advisory_lock(importer: subprocess.Popen) -> None:
        deadline = time.monotonic() + 60
        with psycopg.connect(catalog_url, autocommit=True) as pg:
            while not pg.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                                 ).fetchone()[0]:
                assert time.monotonic() < deadline and importer.poll() is None
                time.sleep(0.005)

    check_a_killed_import_changes_nothing(catalog_url, tmp_path, holds_the_advisory_lock,
                                          busy_timeout="20")


def test_files_on_s3_import_query_time_travel_and_maintain(catalog_url, tmp_path):
    with s3_server(tmp_path / "moto.log") as aws:
        os.environ.update(aws)
        try:
            load_example(catalog_url, "s3://kinerja/lake/", **aws)
            store = Store(catalog_url)
            assert store.query_value("SELECT count(*) FROM events") == 835
            first = store.data_version()
            big = big_events_file(tmp_path, 20_000)
            assert cli(catalog_url, "ingest", "events", str(big), **aws).returncode == 0
            assert store.query_value("SELECT count(*) FROM events") == 20_835
            paths = [row[0] for row in store.query_rows(
                "SELECT data_file FROM ducklake_list_files('lake', 'events')")]
            assert paths and all(path.startswith("s3://kinerja/lake/") for path in paths)
            # Time travel: the store as it was before the big import.
            assert store.at_snapshot(first).query_value("SELECT count(*) FROM events") == 835
            done = cli(catalog_url, "maintain", **aws)
            assert done.returncode == 0, done.stderr
            assert "Maintenance done" in done.stdout
            assert store.query_value("SELECT count(*) FROM events") == 20_835
            kpis = cli(catalog_url, *COMMANDS["kpis_month.json"], **aws)
            assert kpis.returncode == 0 and json.loads(kpis.stdout)
        finally:
            for key in aws:
                os.environ.pop(key, None)


def table_rows(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table, in order."""
    with store.cursor() as cur:
        names = [name for (name,) in cur.query_rows(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
            "AND database_name = current_database() ORDER BY table_name")]
        return {name: cur.query_rows(f'SELECT * FROM "{name}" ORDER BY ALL') for name in names}


def test_backup_and_restore_of_a_postgresql_catalog_round_trip(cluster, catalog_url, tmp_path):
    """`backup DIR` on a shared store (pg_dump of the catalog, a copy of the data files) and
    `restore DIR` into a new database with the files in a new folder give back every table's
    every row, and the snapshots a finalised review pins; the restored store stands alone."""
    load_example_here(catalog_url, tmp_path / "files")
    source = Store(catalog_url)
    rows, snapshots = table_rows(source), source.snapshots()
    middle = int(snapshots["snapshot_id"].iloc[len(snapshots) // 2])
    then = source.at_snapshot(middle).query_value(
        "SELECT (SELECT count(*) FROM units) + (SELECT count(*) FROM events)")
    assert 0 < then < len(rows["units"]) + len(rows["events"])
    done = cli(catalog_url, "backup", str(tmp_path / "backup"))
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in (tmp_path / "backup").iterdir()) == [
        "catalog.pgdump", "data", "kinerja-backup.json"]
    target = cluster.create_database(urlsplit(catalog_url).path[1:] + "_restored")
    done = cli(target, "restore", str(tmp_path / "backup"), data_path=tmp_path / "restored")
    assert done.returncode == 0, done.stderr
    assert not [secret for secret in secrets_of(target) if secret in done.stdout + done.stderr]
    shutil.rmtree(tmp_path / "files")  # the restored store needs nothing of the original
    restored = Store(target)
    again = table_rows(restored)
    assert [row[3] for row in again.pop("audit_log")][-1] == "store.restore"
    assert again == {name: table for name, table in rows.items() if name != "audit_log"}
    assert restored.snapshots()["snapshot_id"].tolist()[:len(snapshots)] == snapshots[
        "snapshot_id"].tolist()
    assert restored.at_snapshot(middle).query_value(
        "SELECT (SELECT count(*) FROM units) + (SELECT count(*) FROM events)") == then
    paths = [path for (path,) in restored.query_rows(
        "SELECT data_file FROM ducklake_list_files('lake', 'events')")]
    assert paths and all(path.startswith(str(tmp_path / "restored")) for path in paths)
    # It takes the next import, and a restore never goes over a store.
    assert cli(target, "ingest", "events", str(EXAMPLE_DIR / "events.csv")).returncode == 0
    refused = cli(target, "restore", str(tmp_path / "backup"), data_path=tmp_path / "again")
    assert refused.returncode == 1
    assert refused.stderr.startswith("The catalog database postgresql://…/")
    assert not (tmp_path / "again").exists()


def test_init_needs_kpi_data_path_and_records_it_absolute(catalog_url, tmp_path, monkeypatch):
    monkeypatch.delenv("KPI_DATA_PATH", raising=False)
    done = cli(catalog_url, "init")
    assert (done.returncode, done.stderr) == (1, t("error.data_path_missing", "en") + "\n")
    done = subprocess.run([sys.executable, "-m", "kpi", "init"], cwd=tmp_path, text=True,
                          capture_output=True, timeout=300,
                          env={**os.environ, "KPI_DB": catalog_url, "KPI_DATA_PATH": "lake-files",
                               "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].endswith(f"its data files go to {tmp_path / 'lake-files'}")
    with psycopg.connect(catalog_url) as pg:
        recorded = pg.execute("SELECT value FROM ducklake_metadata WHERE key = 'data_path'"
                              ).fetchone()[0]
    assert recorded.rstrip("/") == str(tmp_path / "lake-files")
