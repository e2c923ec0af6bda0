"""Sharing the embedded store between processes, for real (see kpi/store.py).

Readers never wait: every read sees one whole committed snapshot. Writers take turns through
the store's writer lock; a writer that waits longer than KPI_BUSY_TIMEOUT stops with one
sentence and writes nothing. A writer killed halfway leaves the previous snapshot as it was.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kpi.store import LOCK_FILE, Store
from tests.conftest import EXAMPLE_DIR, ROOT, serial
from tests.services import check_a_killed_import_changes_nothing, stop_process

# Processes and timed waits: one after the other (tests/conftest.py, serial).
pytestmark = [pytest.mark.slow, *serial("services"),
              pytest.mark.usefixtures("cli_in_english")]  # lines compared with English

# Reads in a loop until told to stop; each read must see the example's 835 events from exactly
# one batch (an import replaces them all): anything else is a torn read.
READER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from kpi.store import Store
    store = Store(sys.argv[1])
    stop = Path(sys.argv[2])
    reads = torn = 0
    versions = set()
    while not stop.exists():
        with store.cursor() as cur:
            rows, batches = cur.query_rows(
                "SELECT count(*), count(DISTINCT batch_id) FROM events")[0]
        versions.add(store.data_version())
        reads += 1
        torn += (rows, batches) != (835, 1)
    print(reads, torn, len(versions))
""")

@contextmanager
def reader_beside(path: str, folder: Path) -> Iterator[dict[str, int]]:
    """A process reading the store (READER) over and over while the block runs; after it, the
    dict yielded holds its `reads`, `torn` reads, `versions` seen and `returncode`."""
    stop = folder / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, path, str(stop)], cwd=ROOT,
                              env=env_for(path), stdout=subprocess.PIPE, text=True)
    seen: dict[str, int] = {}
    try:
        yield seen
        stop.touch()
        out, _ = reader.communicate(timeout=60)
    finally:
        stop.touch()
        stop_process(reader)
    seen.update(zip(("reads", "torn", "versions"), map(int, out.split()), strict=True),
                returncode=reader.returncode)


# Holds the writer lock with an open transaction, as a long import would.
HOLDER = textwrap.dedent("""
    import sys, time
    from kpi.store import Store
    store = Store(sys.argv[1])
    with store.transaction() as cur:
        cur.execute("DELETE FROM units")
        print("holding", flush=True)
        time.sleep(120)
""")


def env_for(store: str | Path, **more: str) -> dict[str, str]:
    return {**os.environ, "KPI_DB": str(store), "PYTHONPATH": str(ROOT), **more}


def cli(store: str | Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpi", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=env_for(store, **env))


def test_imports_never_fail_while_another_process_reads(example_store, tmp_path):
    path = example_store.path
    with reader_beside(path, tmp_path) as seen:
        time.sleep(1.0)
        for _ in range(4):
            done = cli(path, "ingest", "events", str(EXAMPLE_DIR / "events.csv"))
            assert done.returncode == 0, done.stderr
    assert seen["returncode"] == 0
    assert seen["torn"] == 0
    assert seen["reads"] > 10
    assert seen["versions"] >= 2  # the reader saw imports land while it read
    assert Store(path).query_value("SELECT count(*) FROM batches WHERE kind = 'events'") == 5


def test_a_writer_that_waits_too_long_stops_with_one_sentence(example_store, fingerprint):
    path = example_store.path
    before = fingerprint(example_store)
    units = example_store.query_value("SELECT count(*) FROM units")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, path], cwd=ROOT, env=env_for(path),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        # Readers are not blocked by the writer, and see the last committed snapshot.
        assert Store(path).query_value("SELECT count(*) FROM units") == units > 0
        started = time.monotonic()
        done = cli(path, "ingest", "events", str(EXAMPLE_DIR / "events.csv"),
                   KPI_BUSY_TIMEOUT="2")
        elapsed = time.monotonic() - started
    finally:
        stop_process(holder)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(f"The store {path} is busy with another import or save")
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert 2 <= elapsed < 30
    assert fingerprint(example_store) == before
    # Once the other writer is gone, the same import goes in.
    assert cli(path, "ingest", "events", str(EXAMPLE_DIR / "events.csv")).returncode == 0


def wait_for_writer(lock_file: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    """Until `process` holds the writer lock (its import has begun)."""
    deadline = time.monotonic() + seconds
    with lock_file.open("a+") as handle:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(handle, fcntl.LOCK_UN)
            except BlockingIOError:
                return
            time.sleep(0.005)
    pytest.fail("the import never took the writer lock")


def test_sigkill_during_an_import_leaves_the_previous_snapshot(example_store, tmp_path):
    lock_file = Path(example_store.path) / LOCK_FILE
    # The lock dies with the process: the next import goes in at once.
    check_a_killed_import_changes_nothing(
        example_store.path, tmp_path, lambda importer: wait_for_writer(lock_file, importer),
        busy_timeout="5")
