"""The import half of the CLI: `python -m kpi ingest | batches | rollback | demo`."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kpi.__main__ import main

pytestmark = pytest.mark.usefixtures("cli_in_english")  # lines compared with English text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DIR = ROOT.parent / "shared" / "spec" / "example"
EVENTS_HEADER = "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel"


def run(capsys, store, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(store.path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real thing, in a process of its own."""
    return subprocess.run([sys.executable, "-m", "kpi", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def bad_events(folder: Path, count: int) -> Path:
    path = folder / "bad.csv"
    rows = [f"PKM-1,UMUM,B-{i},2026-03-30 08:00,,,lost," for i in range(count)]
    path.write_text("\n".join([EVENTS_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_ingest_prints_the_batch_and_its_counts(example_store, capsys):
    code, out, err = run(capsys, example_store, "ingest", "events",
                         str(EXAMPLE_DIR / "events.csv"))
    assert (code, err) == (0, "")
    assert out == "Batch 6: 835 rows (0 inserted, 835 replaced) from events.csv\n"
    assert example_store.query_value("SELECT loaded_by FROM batches WHERE batch_id = 6") == (
        f"cli:{getpass.getuser()}")


def test_ingest_json(example_store, capsys):
    code, out, _ = run(capsys, example_store, "ingest", "targets",
                       str(EXAMPLE_DIR / "targets.csv"), "--json")
    data = json.loads(out)
    assert code == 0
    assert {k: data[k] for k in ("batch_id", "kind", "file_name", "rows", "inserted",
                                 "replaced", "ok", "problems")} == {
        "batch_id": 6, "kind": "targets", "file_name": "targets.csv", "rows": 7,
        "inserted": 0, "replaced": 7, "ok": True, "problems": []}
    assert len(data["sha256"]) == 64


def test_rejected_rows_exit_2_with_the_report(example_store, fingerprint, capsys, tmp_path):
    before = fingerprint(example_store)
    problems_csv = tmp_path / "problems.csv"
    code, out, err = run(capsys, example_store, "ingest", "events", str(bad_events(tmp_path, 3)),
                         "--problems-csv", str(problems_csv))
    assert code == 2
    assert err == "bad.csv was rejected and nothing was written; problems found: 3.\n"
    assert "  line 4, outcome: Outcome lost is not one of completed, abandoned, no_show." in out
    assert f"Every problem is listed in {problems_csv}" in out
    assert pd.read_csv(problems_csv)["line"].tolist() == [2, 3, 4]
    assert fingerprint(example_store) == before


def test_a_long_report_stops_at_50_and_names_the_full_list(example_store, capsys, tmp_path):
    code, out, _ = run(capsys, example_store, "ingest", "events", str(bad_events(tmp_path, 80)))
    assert code == 2
    listed = [line for line in out.splitlines() if line.startswith("  line ")]
    assert len(listed) == 50
    last = out.splitlines()[-1]
    assert last.startswith("… and 30 more; every problem is listed in ")
    full = Path(last.rsplit(" ", 1)[1])
    try:
        assert len(pd.read_csv(full)) == 80
    finally:
        full.unlink()


def test_ingest_json_when_rejected(example_store, capsys, tmp_path):
    code, out, err = run(capsys, example_store, "ingest", "events", str(bad_events(tmp_path, 2)),
                         "--json")
    data = json.loads(out)
    assert code == 2 and data["ok"] is False and data["batch_id"] is None
    assert data["problems"][0] == {"line": 2, "column": "outcome", "value": "lost",
                                   "reason": "Outcome lost is not one of completed, abandoned, "
                                             "no_show."}
    assert "rejected" in err


def test_whole_file_problem_is_one_sentence_exit_2(example_store, capsys, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("unit_code\tticket_id\nA\t1\n", encoding="utf-8")
    code, out, err = run(capsys, example_store, "ingest", "events", str(path))
    assert (code, out) == (2, "")
    assert err == ("events.csv is separated by tabs, which is not supported; use commas or "
                   "semicolons.\n")
    code, out, _ = run(capsys, example_store, "ingest", "events", str(path), "--json")
    assert code == 2 and json.loads(out)["problems"][0]["line"] is None


def test_batches_and_rollback(example_store, capsys):
    code, out, _ = run(capsys, example_store, "batches")
    assert code == 0
    assert out.splitlines()[0].split()[:4] == ["batch_id", "kind", "file_name", "rows_in_file"]
    assert len(out.splitlines()) == 6
    code, out, _ = run(capsys, example_store, "batches", "--json")
    listed = json.loads(out)
    assert [b["kind"] for b in listed] == ["units", "services", "events", "survey", "targets"]
    assert listed[0]["status"] == "committed" and listed[0]["rolled_back_at"] is None
    code, out, _ = run(capsys, example_store, "rollback", "5")
    assert (code, out) == (0, "Rolled back batch 5 (targets): removed 7 rows, restored 0 "
                              "replaced rows.\n")
    code, out, err = run(capsys, example_store, "rollback", "5")
    assert (code, err) == (2, "Batch 5 was already rolled back.\n")
    code, _, err = run(capsys, example_store, "rollback", "42")
    assert (code, err) == (2, "There is no batch 42.\n")


def test_demo_loads_the_bundled_city(tmp_path, capsys):
    db = tmp_path / "demo"
    code = main(["--db", str(db), "demo"])
    out, _ = capsys.readouterr()
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Demo city loaded into {db}:"
    assert [line.split(" from ")[1] for line in lines[1:]][:2] == ["units.csv", "services.csv"]
    assert len(lines) == 6


@pytest.mark.slow
def test_real_process_exit_codes_and_no_traceback(example_store, tmp_path):
    ok = cli("--db", str(example_store.path), "ingest", "units", str(EXAMPLE_DIR / "units.csv"))
    assert ok.returncode == 0 and ok.stdout.startswith("Batch 6: 4 rows")
    bad = cli("--db", str(example_store.path), "ingest", "events", str(bad_events(tmp_path, 1)))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr + bad.stdout
    missing = cli("--db", str(example_store.path), "ingest", "events", str(tmp_path / "no.csv"))
    assert missing.returncode == 1
    assert missing.stderr == f"There is no file {tmp_path / 'no.csv'}.\n"


@pytest.mark.slow
def test_naive_timestamps_do_not_follow_the_machine_time_zone(example_store, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(EVENTS_HEADER + "\nPKM-1,UMUM,Z-1,2026-03-30 08:00:00,,,no_show,\n"
                    "PKM-1,UMUM,Z-2,2026-02-23 23:40:00+00:00,,,no_show,\n", encoding="utf-8")
    done = cli("--db", str(example_store.path), "ingest", "events", str(path),
               env={"TZ": "America/New_York"})
    assert done.returncode == 0, done.stderr
    assert example_store.query_rows(
        "SELECT ticket_id, strftime(arrived_at, '%Y-%m-%d %H:%M') FROM events "
        "WHERE ticket_id LIKE 'Z-%' ORDER BY 1") == [
        ("Z-1", "2026-03-30 08:00"), ("Z-2", "2026-02-24 06:40")]
