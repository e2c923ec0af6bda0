"""Real servers for the shared-store tests, started by the tests and stopped after them:
a throwaway PostgreSQL cluster (Debian's postgresql, `initdb` + `pg_ctl` in a temporary folder,
on a free port) and a local S3-compatible server (`moto_server`, from moto[server]).
Plus the one check both store kinds share: an import killed halfway changes nothing."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import psycopg.sql
import pytest

from kpi.store import Store
from tests.conftest import EXAMPLE_DIR, ROOT, store_fingerprint

# Debian's postgresql, whichever major version the release ships.
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), default=Path("/usr/lib/postgresql/bin"),
             key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    """Whether `url` answers 200 (a server is up)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def served(command: list[str], ready_url: str, log: Path,
           **popen: Any) -> Iterator[subprocess.Popen]:
    """Start a server the tests need (`command`, its output into `log`), wait until
    `ready_url` answers, yield its process, then stop it. The test fails with the log's end
    when the server exits or has not answered within START_SECONDS."""
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **popen)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not answers(ready_url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{Path(command[0]).name} {' '.join(command[1:3])} did not start: "
                            f"{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield server
    finally:
        stop_process(server)


def stop_process(process: subprocess.Popen) -> None:
    """Stop a server the tests started: politely, then for good."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


# The role Kinerja connects as: not a superuser, may not create databases or roles, signs in
# with a password (SCRAM) over TCP and in no other way. Its password needs percent-encoding in
# a URL, as a generated one often does.
APP_ROLE = "kinerja_app"
APP_PASSWORD = "s3cret/pa:ss@word"


@dataclass(frozen=True)
class Cluster:
    """A throwaway PostgreSQL cluster: `admin` (the bootstrap superuser, over the cluster's own
    Unix socket, for the tests' setup only) and `url(database)`, Kinerja's way in."""

    admin: str
    port: int

    def url(self, database: str, password: str | None = APP_PASSWORD) -> str:
        secret = f":{quote(password, safe='')}" if password is not None else ""
        return f"postgresql://{APP_ROLE}{secret}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database owned by the app role; its URL."""
        with psycopg.connect(self.admin, autocommit=True) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{name}"')
            pg.execute(f'CREATE DATABASE "{name}" OWNER {APP_ROLE}')
        return self.url(name)


# Who may connect how: the superuser through the socket (the tests' setup), the app role with
# its password over TCP from this machine; nobody else, no peer or trust for the app role.
PG_HBA = f"""local all postgres trust
host all {APP_ROLE} 127.0.0.1/32 scram-sha-256
"""


@contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster of its own in a new temporary folder (which the `postgres` user can
    reach, unlike pytest's), listening on 127.0.0.1 only, with the app role (APP_ROLE) and one
    database `kinerja` it owns; removes the cluster afterwards. Kinerja is given URLs only:
    the PG* environment variables are removed for the session, so nothing else can sign it in."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip("Debian's postgresql is not installed (make system-deps installs it)")
    for name in [name for name in os.environ if name.startswith("PG")]:
        os.environ.pop(name)
    folder = Path(tempfile.mkdtemp(prefix="kinerja-pg-"))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "cluster"
    port = free_port()
    subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                                 "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                                 "--no-sync"]), check=True, capture_output=True)
    (data / "pg_hba.conf").write_text(PG_HBA, encoding="utf-8")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options,
                                 "-l", str(folder / "server.log"), "-w", "-t", str(START_SECONDS),
                                 "start"]), check=True, capture_output=True)
    try:
        cluster = Cluster(admin=f"host={folder} port={port} user=postgres dbname=postgres",
                          port=port)
        with psycopg.connect(cluster.admin, autocommit=True) as pg:
            pg.execute(psycopg.sql.SQL(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                    psycopg.sql.Identifier(APP_ROLE), psycopg.sql.Literal(APP_PASSWORD)))
        cluster.create_database("kinerja")
        yield cluster
    finally:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                     "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def s3_server(log: Path) -> Iterator[dict[str, str]]:
    """moto's S3-compatible server on a free loopback port with one bucket `kinerja`; yields the
    AWS environment variables that point at it."""
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    if not moto.exists():
        pytest.skip("moto[server] is not installed (make dev-deps installs it)")
    endpoint = f"http://127.0.0.1:{port}"
    with served([str(moto), "-H", "127.0.0.1", "-p", str(port)], f"{endpoint}/moto-api/", log):
        request = urllib.request.Request(f"{endpoint}/kinerja", method="PUT")
        urllib.request.urlopen(request, timeout=10).close()
        yield {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


def big_events_file(folder: Path, rows: int) -> Path:
    """`rows` valid events of the example city's first service, one file."""
    lines = ["unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome"]
    lines += [f"PKM-1,UMUM,BIG-{index},2026-03-02 08:00,2026-03-02 08:05,"
              "2026-03-02 08:20,completed" for index in range(rows)]
    path = folder / "big_events.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def check_a_killed_import_changes_nothing(location: str, folder: Path,
                                          wait_for_writer: Callable[[subprocess.Popen], None],
                                          busy_timeout: str) -> None:
    """SIGKILL a CLI import of a big events file halfway: once `wait_for_writer(importer)`
    has seen it take the store's writer lock, and a moment later. Then every row of the store
    and its snapshot must be as before, and the next import (waiting at most `busy_timeout`
    seconds for the lock) must go in."""
    store = Store(location)
    before, version = store_fingerprint(store), store.data_version()
    big = big_events_file(folder, 400_000)
    env = {**os.environ, "KPI_DB": location, "PYTHONPATH": str(ROOT)}
    importer = subprocess.Popen([sys.executable, "-m", "kpi", "ingest", "events", str(big)],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    try:
        wait_for_writer(importer)
        time.sleep(0.3)
        importer.send_signal(signal.SIGKILL)
        importer.wait(timeout=30)
    finally:
        stop_process(importer)
    assert importer.returncode == -signal.SIGKILL  # killed, not finished or failed on its own
    reopened = Store(location)
    assert store_fingerprint(reopened) == before
    assert reopened.data_version() == version
    done = subprocess.run([sys.executable, "-m", "kpi", "ingest", "events",
                           str(EXAMPLE_DIR / "events.csv")], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**env, "KPI_BUSY_TIMEOUT": busy_timeout})
    assert done.returncode == 0, done.stderr
