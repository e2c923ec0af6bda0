"""Import benchmark: kpi.ingest.ingest_file against DuckDB's own CSV load of the same file.

Generates (once) ten million contract-format events with bench/make_bench_data.py into
bench/data/import/ (gitignored), then, each in a fresh process and a fresh store file:

  baseline  CREATE TABLE raw AS SELECT * FROM read_csv(file)   (DuckDB's sniffing load)
  ingest    ingest_file(store, "events", file) after units and services are loaded

and prints both times, the ratio (target <= 1.2, issue 13: the precomputation included) and each process's peak RSS (target < 2 GB).
Then, in the same processes, a weekly import: one week of the same events re-exported
(bench/data/import/events-week.csv, every row replacing its stored ticket) into the loaded
store, against read_csv of that file into the lake. Runs alternate and the best of --repeat
runs counts. Usage:

    python bench/bench_import.py [--events N] [--repeat R] [--regenerate]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "import"
WEEK, WEEK_END = "2026-03-02", "2026-03-09"  # a Monday inside make_bench_data's 18 months

# Each measurement runs in a child so that its peak RSS is its own.
BASELINE = textwrap.dedent("""
    import json, resource, sys, time
    from kpi.store import Store
    def cpu():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    store = Store(sys.argv[1], create=True)
    with store.cursor() as cur:
        started, cpu_started = time.perf_counter(), cpu()
        cur.execute("CREATE TABLE raw AS SELECT * FROM read_csv($path)", {"path": sys.argv[2]})
        seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_started
        rows = cur.query_value("SELECT count(*) FROM raw")
        week_started, week_cpu_started = time.perf_counter(), cpu()
        cur.execute("CREATE TABLE raw_week AS SELECT * FROM read_csv($path)", {"path": sys.argv[3]})
        week_seconds, week_cpu = time.perf_counter() - week_started, cpu() - week_cpu_started
    store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu_seconds, "rows": rows, "peak_rss": peak,
                      "week_seconds": week_seconds, "week_cpu": week_cpu}))
""")

INGEST = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    from kpi.ingest import ingest_file
    from kpi.store import Store
    def cpu():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    store = Store(sys.argv[1], create=True)
    data = Path(sys.argv[2]).parent
    for kind in ("units", "services"):
        assert ingest_file(store, kind, data / f"{kind}.csv").ok
    started, cpu_started = time.perf_counter(), cpu()
    result = ingest_file(store, "events", sys.argv[2])
    seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_started
    assert result.ok, [p.reason for p in result.problems[:5]]
    week_started, week_cpu_started = time.perf_counter(), cpu()
    week = ingest_file(store, "events", sys.argv[3])
    week_seconds, week_cpu = time.perf_counter() - week_started, cpu() - week_cpu_started
    assert week.ok and week.replaced == week.rows > 0, week.to_dict()
    store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu_seconds, "rows": result.rows,
                      "peak_rss": peak, "week_seconds": week_seconds, "week_cpu": week_cpu}))
""")


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = next(int(line.split()[1]) for line in
                         Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal"))
        memory = f"{memory_kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration):
        memory = "unknown RAM"
    return f"{os.cpu_count()} CPUs ({cpu}), {memory}, Python {platform.python_version()}"


def ensure_data(events: int, regenerate: bool) -> Path:
    path = DATA / "events.csv"
    marker = DATA / "events.count"
    if regenerate or not path.exists() or not marker.exists() \
            or marker.read_text().strip() != str(events):
        sys.path.insert(0, str(ROOT / "bench"))
        from make_bench_data import make_bench_data

        print(f"generating {events:,} events into {DATA} …", flush=True)
        make_bench_data(DATA, events=events, responses=1000)
        marker.write_text(str(events))
    week = DATA / "events-week.csv"
    if not week.exists() or week.stat().st_mtime < path.stat().st_mtime:
        sys.path.insert(0, str(ROOT))
        from kpi.store import Store

        scratch = Store(":memory:")  # a throwaway store, only for its DuckDB
        with scratch.cursor() as cur:
            cur.execute(f"COPY (SELECT * FROM read_csv('{path}', all_varchar = true) "
                        f"WHERE arrived_at >= '{WEEK}' AND arrived_at < '{WEEK_END}') "
                        f"TO '{week}' (HEADER, DELIMITER ',')")
        scratch.close()
    return path


def measure(script: str, csv_path: Path, folder: Path, label: str) -> dict:
    store = folder / f"{label}-lake"  # a DuckLake store is a folder (catalog + Parquet files)
    shutil.rmtree(store, ignore_errors=True)
    done = subprocess.run([sys.executable, "-c", script, str(store), str(csv_path),
                           str(DATA / "events-week.csv")], cwd=ROOT,
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise SystemExit(f"{label} failed: {done.stderr.strip()}")
    shutil.rmtree(store, ignore_errors=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    csv_path = ensure_data(args.events, args.regenerate)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"machine: {machine()}")
    print(f"file: {csv_path} ({size_mb:,.0f} MB, {args.events:,} events)")
    runs: dict[str, list[dict]] = {"baseline": [], "ingest": []}
    with tempfile.TemporaryDirectory(prefix="bench-import-", dir=DATA) as scratch:
        for attempt in range(args.repeat):
            for label, script in (("baseline", BASELINE), ("ingest", INGEST)):
                run = measure(script, csv_path, Path(scratch), label)
                assert run["rows"] == args.events, run
                runs[label].append(run)
                print(f"  run {attempt + 1} {label:8s} {run['seconds']:7.2f} s wall "
                      f"{run['cpu']:7.2f} s CPU  peak RSS {run['peak_rss'] / 2**20:5.0f} MiB  "
                      f"week {run['week_seconds']:5.2f} s wall {run['week_cpu']:5.2f} s CPU  "
                      f"(load average {os.getloadavg()[0]:.1f})", flush=True)
    best = {label: min(found, key=lambda r: r["seconds"]) for label, found in runs.items()}
    least_cpu = {label: min(r["cpu"] for r in found) for label, found in runs.items()}
    ratio = best["ingest"]["seconds"] / best["baseline"]["seconds"]
    cpu_ratio = least_cpu["ingest"] / least_cpu["baseline"]
    peak = max(r["peak_rss"] for r in runs["ingest"])
    print(f"baseline (read_csv CTAS): {best['baseline']['seconds']:.2f} s wall, "
          f"{least_cpu['baseline']:.2f} s CPU")
    print(f"ingest_file:              {best['ingest']['seconds']:.2f} s wall, "
          f"{least_cpu['ingest']:.2f} s CPU "
          f"({args.events / best['ingest']['seconds'] / 1e6:.2f} M rows/s)")
    # On a shared machine wall time swings with the neighbours' load; CPU time much less.
    print(f"ratio: {ratio:.2f} wall, {cpu_ratio:.2f} CPU (target <= 1.2)  "
          f"ingest peak RSS: {peak / 2**20:.0f} MiB (target < 2048 MiB)")
    week = {label: (min(r["week_seconds"] for r in found), min(r["week_cpu"] for r in found))
            for label, found in runs.items()}
    print(f"weekly import (one week re-exported, every row replacing): read_csv "
          f"{week['baseline'][0]:.2f} s wall {week['baseline'][1]:.2f} s CPU, ingest_file "
          f"{week['ingest'][0]:.2f} s wall {week['ingest'][1]:.2f} s CPU: ratio "
          f"{week['ingest'][0] / week['baseline'][0]:.1f} wall, "
          f"{week['ingest'][1] / week['baseline'][1]:.1f} CPU")
    return 0 if ratio <= 1.2 and peak < 2 * 2**30 else 1


if __name__ == "__main__":
    raise SystemExit(main())
