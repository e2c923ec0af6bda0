"""Sharing the store between processes, for real (see kpi/store.py).

The decision: the dashboard never keeps the file open (Store(hold=False): a connection per unit
of work), the CLI holds it for its one run (hold=True), and opening a held file retries until
`busy_timeout` (the CLI's: $KPI_BUSY_TIMEOUT, 5 s) before StoreBusy says what to do. So a CLI
import succeeds while the dashboard runs and reads, and a process that keeps the file makes the
import fail in a few seconds with one sentence, exit 1, and the store unchanged.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DIR = ROOT.parent / "shared" / "spec" / "example"
STREAMLIT = Path(sys.executable).with_name("streamlit")

# Servers, ports and timed waits: run alone (`make test` runs `-m serial` after the rest).
pytestmark = [pytest.mark.slow, pytest.mark.serial]

# Short units of work with Store(hold=False), as the dashboard does, until told to stop.
READER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from kpi.errors import StoreBusy
    from kpi.store import Store
    store = Store(sys.argv[1], busy_timeout=30)
    stop = Path(sys.argv[2])
    reads = busy = 0
    while not stop.exists():
        try:
            store.query_value("SELECT count(*) FROM events")
            reads += 1
        except StoreBusy:
            busy += 1
        time.sleep(0.01)
    print(reads, busy)
""")

# Keeps the file with an open transaction, as a second writer would.
HOLDER = textwrap.dedent("""
    import sys, time
    from kpi.store import Store
    store = Store(sys.argv[1], hold=True)
    with store.transaction() as cur:
        cur.execute("DELETE FROM units")
        print("holding", flush=True)
        time.sleep(120)
""")


def _env(store_path: Path, **more: str) -> dict[str, str]:
    return {**os.environ, "KPI_DB": str(store_path), "PYTHONPATH": str(ROOT), **more}


def _ingest(store_path: Path, kind: str, path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpi", "ingest", kind, str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env=_env(store_path, **env))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(port: int, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited: {server.stdout.read() if server.stdout else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail("streamlit did not become healthy in time")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_cli_import_succeeds_while_the_dashboard_runs_and_reads(example_store, tmp_path):
    path = example_store.path
    assert (ROOT / "dashboard.py").exists()
    port = _free_port()
    server = subprocess.Popen(
        [str(STREAMLIT), "run", "dashboard.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=_env(path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(path), str(stop)], cwd=ROOT,
                              env=_env(path), stdout=subprocess.PIPE, text=True)
    try:
        _wait_healthy(port, server)
        time.sleep(0.5)  # the reader is opening and closing the file all the time now
        for kind in ("events", "survey", "targets"):
            done = _ingest(path, kind, EXAMPLE_DIR / f"{kind}.csv")
            assert done.returncode == 0, done.stderr
            assert done.stdout.startswith("Batch ")
        time.sleep(0.3)
        stop.touch()
        out, _ = reader.communicate(timeout=30)
        reads, busy = map(int, out.split())
        assert reader.returncode == 0 and reads > 10 and busy == 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as r:
            assert r.status == 200
    finally:
        stop.touch()
        _stop(reader)
        _stop(server)
    from kpi.store import Store

    assert Store(path).query_value("SELECT count(*) FROM batches") == 8


def test_a_process_holding_the_store_makes_the_import_fail_fast(example_store, fingerprint):
    path = example_store.path
    before = fingerprint(example_store)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], cwd=ROOT,
                              env=_env(path), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        done = _ingest(path, "events", EXAMPLE_DIR / "events.csv")
        elapsed = time.monotonic() - started
        assert done.returncode == 1
        assert done.stdout == ""
        assert done.stderr.startswith(f"The store {path} is in use by process {holder.pid}")
        assert "wait for the other process to finish and try again" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert 4 < elapsed < 15  # the CLI's default busy_timeout is 5 s
        quick = _ingest(path, "events", EXAMPLE_DIR / "events.csv", KPI_BUSY_TIMEOUT="0.5")
        assert quick.returncode == 1 and "is in use by" in quick.stderr
    finally:
        _stop(holder)
    assert fingerprint(example_store) == before
