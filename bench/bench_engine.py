"""Engine benchmark: the dashboard's heaviest reads on a city-sized store, against the usual
Streamlit approach (load the events table into pandas, then group).

Builds (once) a store of 10 million events, 1 million survey responses and 40 units from
bench/make_bench_data.py through kpi.ingest.ingest_file (bench/data/engine/, gitignored). Then,
in a child process per side so that each peak RSS is its own:

  engine   kpi.metrics / kpi.spc as the dashboard calls them (one Store, as ui/data.py
           keeps one per process):
             overview  all units × all KPIs × one week, with previous week and statuses
             series    one unit's weekly service_time_median over the 18 months
             spc       the XmR chart of that series
             spc_segments  the same re-baselined: a --rebase date mid-series plus the
                       unit's stored rebasing interventions (read from the store)
  pandas   SELECT * FROM events into a DataFrame, then the same overview by groupby (subtrees
           by concatenating each parent's children; medians and shares per unit and week)

Each timing is the median of --repeat warm runs (the first, cold, run is printed apart); "best"
is the fastest warm run and "CPU" the process CPU time (all threads), which a busy machine
inflates less than wall time. "fresh" repeats the engine side opening a new Store for every
call (attaching the lake again each time).
  raw      DuckDB's own weekly aggregate of the same week's events (median and P90 of the
           service time, median wait, counts per unit): the baseline of the overview ratio.
Targets (issue 13): overview <= 1.0x the raw weekly aggregate, series and spc < 50 ms, engine
peak RSS < 1.5 GB. The engine reads the values precomputed at import (kpi/precompute.py).

    python bench/bench_engine.py [--repeat R] [--events N] [--responses N] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "engine"
KINDS = ("units", "services", "events", "survey", "targets")

ENGINE = textwrap.dedent("""
    import datetime as dt, json, resource, statistics, sys, time
    from kpi import metrics, spc
    from kpi.store import Store
    fresh = sys.argv[3] == "fresh"
    store = Store(sys.argv[1])
    repeat = int(sys.argv[2])
    first, last = metrics.data_range(store)
    week = metrics.previous_period(metrics.period_start(last, "week"), "week")  # last full week
    tree = metrics.unit_tree(store)
    leaf = tree[tree["depth"] == 1]["unit_code"].iloc[0]
    def opened():  # "fresh": a Store of its own for every call (attaching the lake again)
        return Store(sys.argv[1]) if fresh else store

    calls = {
        "overview": lambda: metrics.overview(opened(), period="week", period_start=week),
        "series": lambda: metrics.series(opened(), unit=leaf, kpi="service_time_median",
                                         period="week", date_from=first, date_to=last),
        "spc": lambda: spc.spc_series(opened(), unit=leaf, kpi="service_time_median",
                                      period="week", date_from=first, date_to=last),
        "spc_segments": lambda: spc.spc_series(
            opened(), unit=leaf, kpi="service_time_median", period="week", date_from=first,
            date_to=last, rebase=[first + (last - first) / 2]),
    }
    out = {"week": week.isoformat(), "unit": leaf}
    for name, call in calls.items():
        times, cpu = [], []
        for _ in range(repeat + 1):
            started, started_cpu = time.perf_counter(), time.process_time()
            result = call()
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        out[name] = {"cold": times[0], "warm": statistics.median(times[1:]),
                     "best": min(times[1:]), "cpu": statistics.median(cpu[1:]),
                     "rows": len(result) if hasattr(result, "__len__") else None}
    out["spc_points"] = len(calls["spc"]()["points"])
    out["segment_count"] = len(calls["spc_segments"]()["segments"])
    out["overview_rows"] = len(calls["overview"]())
    out["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(out))
""")

# The usual approach: the whole events table in pandas (as st.cache_data would hold it), then
# groupby. Only the overview's event KPIs for the chosen week and the week before.
PANDAS = textwrap.dedent("""
    import datetime as dt, json, resource, statistics, sys, time
    import pandas as pd
    from kpi.store import Store
    store = Store(sys.argv[1])
    repeat = int(sys.argv[2])
    week = dt.date.fromisoformat(sys.argv[3])
    started = time.perf_counter()
    events = store.query_df("SELECT * FROM events")
    services = store.query_df("SELECT unit_code, service_code, standard_minutes FROM services")
    units = store.query_df("SELECT unit_code, parent_code FROM units")
    load = time.perf_counter() - started

    def overview():
        start = pd.Timestamp(week) - pd.Timedelta(days=7)
        end = pd.Timestamp(week) + pd.Timedelta(days=7)
        frame = events[(events["arrived_at"] >= start) & (events["arrived_at"] < end)]
        frame = frame.merge(services, on=["unit_code", "service_code"], how="left")
        frame = frame.assign(
            week=frame["arrived_at"].dt.to_period("W-SUN").dt.start_time,
            service=(frame["completed_at"] - frame["arrived_at"]).dt.total_seconds() / 60,
            wait=(frame["started_at"] - frame["arrived_at"]).dt.total_seconds() / 60,
            lost=frame["outcome"].isin(["abandoned", "no_show"]),
            done=frame["outcome"] == "completed")
        frame["within"] = frame["done"] & (frame["service"] <= frame["standard_minutes"])
        frame["has_standard"] = frame["done"] & frame["standard_minutes"].notna()
        scopes = [frame.assign(scope=frame["unit_code"]), frame.assign(scope="*")]
        parents = units.dropna(subset=["parent_code"])
        scopes.append(frame.merge(parents, on="unit_code").assign(
            scope=lambda f: f["parent_code"]))
        pooled = pd.concat(scopes, ignore_index=True)
        done = pooled[pooled["done"]]
        grouped = pooled.groupby(["scope", "week"])
        table = pd.DataFrame({
            "throughput": grouped["done"].sum(),
            "abandon_rate": 100 * grouped["lost"].mean(),
            "within_standard_pct": 100 * grouped["within"].sum() / grouped["has_standard"].sum(),
        })
        completed = done.groupby(["scope", "week"])
        table["service_time_median"] = completed["service"].median()
        table["service_time_p90"] = completed["service"].quantile(0.9)
        table["wait_time_median"] = completed["wait"].median()
        return table

    times = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        result = overview()
        times.append(time.perf_counter() - started)
    print(json.dumps({"load": load, "cold": times[0], "warm": statistics.median(times[1:]),
                      "rows": len(events), "overview_rows": len(result),
                      "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
""")


# The baseline of issue 13: DuckDB's own weekly aggregate over the same events, one pass with
# the median and P90 of the service time and the median wait per unit, for the overview's week.
RAW = textwrap.dedent("""
    import datetime as dt, json, statistics, sys, time
    from kpi.store import Store
    store = Store(sys.argv[1])
    repeat = int(sys.argv[2])
    week = dt.datetime.fromisoformat(sys.argv[3])
    sql = (
        "SELECT unit_code, count(*) AS events, "
        "count(*) FILTER (WHERE outcome = 'completed') AS completed, "
        "quantile_cont(date_diff('microsecond', arrived_at, completed_at) / 60e6, [0.5, 0.9]) "
        "    FILTER (WHERE outcome = 'completed') AS service, "
        "quantile_cont(date_diff('microsecond', arrived_at, started_at) / 60e6, 0.5) "
        "    FILTER (WHERE outcome = 'completed') AS wait "
        "FROM events WHERE arrived_at >= $start AND arrived_at < $end GROUP BY unit_code")
    params = {"start": week, "end": week + dt.timedelta(days=7)}
    times, cpu = [], []
    for _ in range(repeat + 1):
        started, started_cpu = time.perf_counter(), time.process_time()
        rows = store.query_rows(sql, params)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    print(json.dumps({"cold": times[0], "warm": statistics.median(times[1:]),
                      "cpu": statistics.median(cpu[1:]), "rows": len(rows)}))
""")


def machine() -> str:
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_import import machine as describe

    return describe()


def ensure_store(events: int, responses: int, rebuild: bool) -> Path:
    """The benchmark store, built through the real import when missing or of another size."""
    store_path = DATA / "lake"  # a DuckLake store: a folder (catalog + Parquet files)
    marker = DATA / "bench.size"
    size = f"{events} {responses}"
    if not rebuild and store_path.exists() and marker.exists() and marker.read_text() == size:
        sys.path.insert(0, str(ROOT))
        from kpi.precompute import ensure_ready
        from kpi.store import Store

        kept = Store(store_path)
        ensure_ready(kept)  # a store built before a precomputed table existed gets it once
        kept.close()
        return store_path
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from make_bench_data import make_bench_data

    from kpi.ingest import ingest_file
    from kpi.store import Store

    DATA.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(store_path, ignore_errors=True)
    marker.unlink(missing_ok=True)
    print(f"generating {events:,} events and {responses:,} responses into {DATA} …", flush=True)
    files = make_bench_data(DATA / "csv", events=events, responses=responses)
    store = Store(store_path, create=True)
    for kind in KINDS:
        result = ingest_file(store, kind, files[kind], loaded_by="bench")
        assert result.ok, [problem.reason for problem in result.problems[:5]]
        print(f"  loaded {kind}", flush=True)
    store.close()
    for path in files.values():
        path.unlink()
    marker.write_text(size)
    return store_path


def run_child(script: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark child failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    store = ensure_store(args.events, args.responses, args.rebuild)
    print(f"machine: {machine()}")
    size = sum(path.stat().st_size for path in store.rglob("*") if path.is_file())
    print(f"store: {store} ({size / 2**20:,.0f} MiB, {args.events:,} events, "
          f"{args.responses:,} responses)")
    engine = run_child(ENGINE, str(store), str(args.repeat), "dashboard")
    fresh = run_child(ENGINE, str(store), str(args.repeat), "fresh")
    raw = run_child(RAW, str(store), str(args.repeat), engine["week"])
    baseline = run_child(PANDAS, str(store), str(args.repeat), engine["week"])
    print(f"week {engine['week']}, unit {engine['unit']}; warm = median of {args.repeat} runs")
    print(f"load average before the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'':27s}{'cold':>11s}{'warm':>11s}{'best':>11s}{'CPU':>11s}"
          f"{'fresh warm':>11s}{'fresh CPU':>11s}  target")
    for name, target in (("overview", raw["warm"]), ("series", 0.05), ("spc", 0.05),
                         ("spc_segments", 0.05)):
        run, kept = engine[name], fresh[name]
        print(f"engine {name:20s}{ms(run['cold'])} {ms(run['warm'])} {ms(run['best'])} "
              f"{ms(run['cpu'])} {ms(kept['warm'])} {ms(kept['cpu'])}   < {target * 1000:.0f} ms")
    print(f"duckdb raw weekly aggregate{ms(raw['cold'])} {ms(raw['warm'])} {'':11s} "
          f"{ms(raw['cpu'])}")
    print(f"ratio overview engine/raw weekly aggregate: "
          f"{engine['overview']['warm'] / raw['warm']:.2f}x wall, "
          f"{engine['overview']['cpu'] / raw['cpu']:.2f}x CPU (target <= 1.0x)")
    print(f"pandas load events table   {ms(baseline['load'])}")
    print(f"pandas overview groupby    {ms(baseline['cold'])} {ms(baseline['warm'])}")
    with_load = baseline["load"] + baseline["warm"]
    print(f"ratio overview pandas/engine: {baseline['warm'] / engine['overview']['warm']:.1f}x "
          f"(groupby on the cached frame), {with_load / engine['overview']['warm']:.0f}x "
          f"(load + groupby)")
    print(f"peak RSS: engine {engine['peak_rss'] / 2**20:.0f} MiB (target < 1536 MiB), "
          f"pandas {baseline['peak_rss'] / 2**20:.0f} MiB")
    print(f"spc_segments: {engine['segment_count']} segments; ratio to the unsegmented spc: "
          f"{engine['spc_segments']['warm'] / engine['spc']['warm']:.2f}x wall, "
          f"{engine['spc_segments']['cpu'] / engine['spc']['cpu']:.2f}x CPU")
    ok = (engine["overview"]["warm"] <= raw["warm"] and engine["series"]["warm"] < 0.05
          and engine["spc"]["warm"] < 0.05 and engine["spc_segments"]["warm"] < 0.05
          and engine["peak_rss"] < 1.5 * 2**30)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
