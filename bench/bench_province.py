"""Province benchmark (issue 26): 33 cities × 40 units, 18 months, in one store.

Data: bench/make_bench_data.py's province layout (`cities` top-level units, each the parent of
`units_per_city` units: 33 × 41 = 1,353 units by default), written once into
bench/data/province-N/ with the last week's events apart, one file per city (that city's
"Monday import"). Then, for each layout (`embedded`: SQLite catalog and Parquet files in one
folder; `pg+s3`: a PostgreSQL catalog and the files on a local S3 server, both started here on
loopback as the tests start them), in one run, each figure beside its baseline:

  backfill   events and survey through the product's import (`ingest_file`, validation and
             the precomputation included), against DuckDB's raw `read_csv` of the same file
             into the same lake (CREATE TABLE AS, then dropped)
  weekly     one city's last week by the CLI (`python -m kpi ingest events FILE`, a process of
             its own, as a city runs it), split into opening the store and the import; against
             the raw `read_csv` of the same file into the lake
  concurrent the 33 cities' weeks by 33 CLI processes started together: how many succeed, the
             total wall time, against 33 × the single import; then `kpi totals --refresh`
             (the store defers the top-level totals of every period, as a
             province's does; --no-defer: computed at every import, as a city's)
  reads      metrics.overview for the province (every unit) and for one city's subtree, one
             unit's weekly series; against DuckDB's raw weekly aggregate of the same week
  pages      every page's warm AppTest rerun against the Upload page's (bench_pages), and the
             AppTest process's peak RSS (the dashboard's script runs in it)

The load average is printed with every figure (2 CPUs shared: read CPU where given).

    python bench/bench_province.py [--events N] [--responses N] [--layout embedded|pg+s3|both]
                                   [--cities N] [--units-per-city N] [--repeat R]
                                   [--skip-pages] [--skip-concurrent] [--no-defer] [--maintain]
                                   [--keep-store] [--reuse-store STORE] [--pages-only STORE]
                                   [--reads-only STORE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "bench"):  # run as a script from anywhere
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from bench_engine import RAW  # noqa: E402
from bench_import import machine  # noqa: E402
from bench_pages import apptest_pages, print_pages  # noqa: E402
from make_bench_data import make_bench_data, week_files  # noqa: E402

from kpi import metrics, precompute  # noqa: E402
from kpi.catalogs import Location  # noqa: E402
from kpi.ingest import ingest_file, list_batches, rollback  # noqa: E402
from kpi.store import Store, extension_file  # noqa: E402

DATA = ROOT / "bench" / "data"
KINDS = ("units", "services", "targets", "survey", "events")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (5 min {five:.1f})"


def cpu_seconds() -> float:
    """This process's CPU time and its waited-for children's (all threads)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def province_files(events: int, responses: int, cities: int, per_city: int) -> dict[str, Any]:
    """The province's CSV files (made once): kinds → path, and "week" → {city: file}."""
    folder = DATA / f"province-{cities}x{per_city}-{events}-{responses}"
    done = folder / "complete"
    if not done.exists():
        started = time.perf_counter()
        print(f"generating {events:,} events, {responses:,} responses, "
              f"{cities} × {per_city + 1} units into {folder} …", flush=True)
        make_bench_data(folder, events=events, responses=responses, cities=cities,
                        units_per_city=per_city, split_last_week=True)
        done.write_text("")
        print(f"  generated in {time.perf_counter() - started:.0f} s ({load()})", flush=True)
    files: dict[str, Any] = {kind: folder / f"{kind}.csv" for kind in KINDS}
    files["week"] = week_files(folder / "week")
    return files


# -- layouts: each yields the Store and the environment a CLI process needs to open it --------
@contextmanager
def embedded(name: str) -> Iterator[tuple[Store, dict[str, str]]]:
    folder = DATA / f"{name}-lake"
    shutil.rmtree(folder, ignore_errors=True)
    store = Store(folder, create=True)
    try:
        yield store, {"KPI_DB": str(folder)}
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def pg_s3(name: str) -> Iterator[tuple[Store, dict[str, str]]]:
    # The tests' throwaway servers (loopback only): a PostgreSQL cluster and moto's S3.
    from tests.services import postgres_cluster, s3_server

    with ExitStack() as stack:
        catalog = stack.enter_context(postgres_cluster()).url("kinerja")  # the app role's URL
        aws = stack.enter_context(s3_server(DATA / f"{name}-moto.log"))
        os.environ.update(aws)
        data_path = f"s3://kinerja/{name}/"
        store = Store(catalog, create=True, data_path=data_path)
        try:
            yield store, {"KPI_DB": catalog, "KPI_DATA_PATH": data_path, **aws}
        finally:
            store.close()
            for key in aws:
                os.environ.pop(key, None)


LAYOUTS: dict[str, Callable[[str], Any]] = {"embedded": embedded, "pg+s3": pg_s3}


# -- measurements ---------------------------------------------------------------------------
def raw_read_csv(store: Store, path: Path) -> dict[str, float]:
    """DuckDB's own load of `path` into the lake (sniffed types, no checks), then dropped."""
    with store.cursor() as cur:
        started, cpu = time.perf_counter(), cpu_seconds()
        cur.execute("CREATE TABLE bench_raw AS SELECT * FROM read_csv($path)", {"path": str(path)})
        out = {"wall": time.perf_counter() - started, "cpu": cpu_seconds() - cpu}
        cur.execute("DROP TABLE bench_raw")
    return out


def maintained(store: Store) -> dict[str, float]:
    """`python -m kpi maintain`'s work (no snapshot expired): the files with deleted rows
    rewritten, small files merged."""
    started, cpu = time.perf_counter(), cpu_seconds()
    store.maintain(36500, set())
    out = {"wall": time.perf_counter() - started, "cpu": cpu_seconds() - cpu}
    print(f"  maintain: {out['wall']:.1f} s wall {out['cpu']:.1f} s CPU ({load()})", flush=True)
    return out


def imported(store: Store, kind: str, path: Path) -> dict[str, float]:
    started, cpu = time.perf_counter(), cpu_seconds()
    result = ingest_file(store, kind, path, loaded_by="bench")
    if not result.ok:
        raise SystemExit(f"{kind} rejected: {[p.reason for p in result.problems[:3]]}")
    return {"wall": time.perf_counter() - started, "cpu": cpu_seconds() - cpu,
            "rows": result.rows}


def backfill(store: Store, files: dict[str, Any]) -> dict[str, Any]:
    store.partition_by_month()
    out: dict[str, Any] = {}
    for kind in KINDS:
        if kind in ("survey", "events"):
            out[f"raw_{kind}"] = raw_read_csv(store, files[kind])
            out[kind] = imported(store, kind, files[kind])
            ratio = out[kind]["wall"] / out[f"raw_{kind}"]["wall"]
            cpu_ratio = out[kind]["cpu"] / out[f"raw_{kind}"]["cpu"]
            print(f"  backfill {kind}: import {out[kind]['wall']:.1f} s wall "
                  f"{out[kind]['cpu']:.1f} s CPU, raw read_csv {out[f'raw_{kind}']['wall']:.1f} s "
                  f"wall {out[f'raw_{kind}']['cpu']:.1f} s CPU: {ratio:.1f}× wall, "
                  f"{cpu_ratio:.1f}× CPU (target ≤ 3×) ({load()})", flush=True)
        else:
            imported(store, kind, files[kind])
    return out


# One process per import, as a city runs it: the CLI. The opening of the store is timed apart
# by the same process (OPEN), so the import's own part is the difference.
OPEN = ("import sys, time; t = time.perf_counter(); from kpi.store import Store; "
        "Store(sys.argv[1]); print(time.perf_counter() - t)")


def _child_env(env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **env, "PYTHONPATH": str(ROOT), "KPI_LANG": "en"}


def cli_import(env: dict[str, str], path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kpi", "ingest", "events", str(path),
                             "--json"], cwd=ROOT, env=_child_env(env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def weekly(store: Store, env: dict[str, str], city: str, path: Path) -> dict[str, float]:
    raw = raw_read_csv(store, path)
    started = time.perf_counter()
    opened = subprocess.run([sys.executable, "-c", OPEN, env["KPI_DB"]], cwd=ROOT,
                            env=_child_env(env), capture_output=True, text=True, check=True)
    open_process = time.perf_counter() - started
    open_inside = float(opened.stdout.strip().splitlines()[-1])
    started = time.perf_counter()
    process = cli_import(env, path)
    out, err = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"weekly import of {city} failed: {err.strip()}")
    rows = json.loads(out)["rows"]
    result = {"raw": raw["wall"], "raw_cpu": raw["cpu"], "cli": wall, "rows": rows,
              "open_process": open_process, "open_store": open_inside,
              "import": wall - open_process}
    print(f"  weekly import of {city} ({rows:,} events): CLI {wall:.2f} s = opening "
          f"(process + store) {open_process:.2f} s (the store alone {open_inside:.2f} s) + import "
          f"{result['import']:.2f} s; raw read_csv {raw['wall']:.3f} s: import "
          f"{result['import'] / raw['wall']:.1f}× raw (target ≤ 3× + the opening, ≤ 10 s wall) "
          f"({load()})", flush=True)
    return result


def concurrent(env: dict[str, str], weeks: dict[str, Path], single: float) -> dict[str, Any]:
    started = time.perf_counter()
    processes = {city: cli_import(env, path) for city, path in weeks.items()}
    ended: dict[str, float] = {}
    failures: dict[str, str] = {}

    def wait(city: str, process: subprocess.Popen) -> None:
        _, err = process.communicate()
        ended[city] = time.perf_counter() - started
        if process.returncode != 0:
            failures[city] = err.strip().splitlines()[-1] if err.strip() else "?"

    waiters = [threading.Thread(target=wait, args=item) for item in processes.items()]
    for waiter in waiters:
        waiter.start()
    for waiter in waiters:
        waiter.join()
    total = time.perf_counter() - started
    budget = len(weeks) * single * 1.1
    print(f"  {len(weeks)} imports started together: {len(weeks) - len(failures)} succeeded, "
          f"total {total:.1f} s against {len(weeks)} × {single:.2f} s + 10 % = {budget:.1f} s "
          f"({total / (len(weeks) * single):.2f}× the sum) ({load()})", flush=True)
    for city, reason in sorted(failures.items()):
        print(f"    {city} failed: {reason}")
    waits = sorted(ended.values())
    print(f"    each import's end, from the start: first {waits[0]:.1f} s, median "
          f"{statistics.median(waits):.1f} s, last {waits[-1]:.1f} s", flush=True)
    return {"total": total, "failed": failures, "budget": budget, "walls": waits}


def copy_into(store: Store, kept: Path) -> None:
    """Every row of the kept embedded store `kept`, table by table, into `store` (a new store
    of another layout, made a province's first): the same data as the embedded backfill left
    it, without a second backfill through the local S3 server (whose 10^8 run was killed by
    the kernel's OOM killer after 50 minutes, bench/README.md). Events and survey responses
    go a month at a time (one month's rows sorted in memory, not 10^8); meta keeps the new
    store's own schema rows."""
    store.partition_by_month()
    old = Location.parse(kept)
    options = ", ".join([*old.attach_options(), "READ_ONLY"])
    started = time.perf_counter()
    with store.cursor() as cur:
        cur.execute("SET memory_limit = '8GB'")  # the server's other processes need the rest
        cur.execute(f"LOAD '{extension_file('sqlite_scanner')}'")
        cur.execute(f"ATTACH '{old.catalog}' AS kept ({options})")
        tables = [name for (name,) in cur.query_rows(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'kept' "
            "AND schema_name = 'main' ORDER BY table_name")]
        months = {"events": "arrived_at", "survey_responses": "submitted_at"}
        for table in tables:
            source = f"kept.main.{table}"
            if table == "meta":
                source += " WHERE key NOT IN (SELECT key FROM meta)"
            parts = [source]
            if table in months:
                column = months[table]
                parts = [f"{source} WHERE {column} >= DATE '{first}' AND {column} < "
                         f"DATE '{first}' + INTERVAL 1 MONTH" for (first,) in cur.query_rows(
                             f"SELECT DISTINCT date_trunc('month', {column})::DATE FROM {source} "
                             "ORDER BY 1")]
            for part in parts:
                cur.execute("BEGIN TRANSACTION")
                cur.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {part}")
                cur.execute("COMMIT")
            print(f"  copied {table} ({len(parts)} statement(s)), {time.perf_counter() - started:.0f}"
                  f" s so far ({load()})", flush=True)
        cur.execute("DETACH kept")


def undo_weekly_imports(store: Store, *, refresh: bool = True) -> None:
    """Roll back every events batch after the backfill's (a kept store's weekly imports), and
    recompute what waits (with `refresh`): the store as the backfill left it."""
    batches = list_batches(store)
    kept = batches[(batches["kind"] == "events") & batches["rolled_back_at"].isna()]
    events = sorted(kept["batch_id"].tolist())
    for batch_id in reversed(events[1:]):  # newest first: a later batch may replace rows
        rollback(store, int(batch_id), by="bench")
    if refresh:
        precompute.refresh_pending(store, by="bench")
    print(f"  rolled back {len(events) - 1} weekly imports of the kept store ({load()})",
          flush=True)


def totals_refresh(env: dict[str, str]) -> float:
    """`python -m kpi totals --refresh`: the top-level totals the imports left waiting."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kpi", "totals", "--refresh"], cwd=ROOT,
                          env=_child_env(env), capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    print(f"  totals --refresh after the imports: {seconds:.1f} s "
          f"({done.stdout.strip().splitlines()[0]}) ({load()})", flush=True)
    return seconds


def _timed(call: Callable[[], Any], repeat: int) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(repeat + 1):
        started, cpu = time.perf_counter(), cpu_seconds()
        call()
        walls.append(time.perf_counter() - started)
        cpus.append(cpu_seconds() - cpu)
    return {"cold": walls[0], "warm": statistics.median(walls[1:]),
            "cpu": statistics.median(cpus[1:])}


def reads(store: Store, env: dict[str, str], repeat: int) -> dict[str, Any]:
    first, last = metrics.data_range(store)
    assert first is not None and last is not None
    week = metrics.previous_period(metrics.period_start(last, "week"), "week")
    tree = metrics.unit_tree(store)
    city = sorted(tree[tree["depth"] == 0]["unit_code"])[0]
    city_units = sorted(tree[(tree["unit_code"] == city) | (tree["parent_code"] == city)]
                        ["unit_code"])
    leaf = city_units[1]
    cities = ["*", *tree[tree["depth"] == 0]["unit_code"]]
    # The province overview page reads the level it shows: the cities, then one city's units.
    calls = {
        "overview (the cities)": lambda: metrics.overview(store, period="week", period_start=week,
                                                          units=cities),
        "overview (one city)": lambda: metrics.overview(store, period="week", period_start=week,
                                                        units=city_units),
        "overview (every unit)": lambda: metrics.overview(store, period="week",
                                                          period_start=week),
        "unit series (78 weeks)": lambda: metrics.series(
            store, unit=leaf, kpi="service_time_median", period="week", date_from=first,
            date_to=last),
    }
    out: dict[str, Any] = {name: _timed(call, repeat) for name, call in calls.items()}
    done = subprocess.run([sys.executable, "-c", RAW, env["KPI_DB"], str(repeat),
                           dt.datetime.combine(week, dt.time()).isoformat()], cwd=ROOT,
                          env=_child_env(env), capture_output=True, text=True, check=True)
    out["raw weekly aggregate"] = json.loads(done.stdout.strip().splitlines()[-1])
    raw = out["raw weekly aggregate"]
    print(f"  reads, week {week} ({load()}); warm = median of {repeat}:")
    for name, run in out.items():
        ratio = (f"  {run['warm'] / raw['warm']:.2f}× raw wall, {run['cpu'] / raw['cpu']:.2f}× "
                 "raw CPU" if name != "raw weekly aggregate" else "  (baseline, own process)")
        print(f"    {name:24s} cold {run['cold'] * 1000:7.0f} ms  warm {run['warm'] * 1000:7.0f}"
              f" ms  CPU {run['cpu'] * 1000:7.0f} ms{ratio}", flush=True)
    return out


def pages(env: dict[str, str], repeat: int) -> dict[str, Any]:
    found = apptest_pages(env["KPI_DB"], repeat, env)
    print_pages(f"  pages ({load()})", found)
    return found


def run_layout(name: str, files: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    tag = f"province-{args.events}-{name.replace('+', '-')}"
    print(f"\n== {name}: {args.events:,} events, {args.responses:,} responses ({load()})",
          flush=True)
    out: dict[str, Any] = {"layout": name, "events": args.events}
    with LAYOUTS[name](tag) as (store, env):
        if args.reuse_store and name != "embedded":
            copy_into(store, Path(args.reuse_store))
            started = time.perf_counter()
            undo_weekly_imports(store, refresh=not args.skip_refresh)
            print(f"  rollbacks took {time.perf_counter() - started:.0f} s", flush=True)
        elif args.reuse_store:
            store.close()
            shutil.rmtree(env["KPI_DB"])
            shutil.copytree(args.reuse_store, env["KPI_DB"])
            store = Store(env["KPI_DB"])
            undo_weekly_imports(store)
        else:
            out["backfill"] = backfill(store, files)
        if args.maintain:  # README, a province deployment: `maintain` after the backfill
            out["maintain"] = maintained(store)
        if not args.no_defer:  # a province's store (README: a province deployment)
            precompute.set_defer_totals(store, True, by="bench")
        weeks = files["week"]
        city = sorted(weeks)[0]
        out["weekly"] = weekly(store, env, city, weeks[city])
        if not args.skip_concurrent:
            out["concurrent"] = concurrent(env, weeks, out["weekly"]["cli"])
        if not args.no_defer and not args.skip_refresh:
            out["totals_refresh"] = totals_refresh(env)
        store.close()  # the readers below are the dashboard's, opened afresh
        reader = Store(env["KPI_DB"])
        out["reads"] = reads(reader, env, args.repeat)
        reader.close()
        if not args.skip_pages:
            out["pages"] = pages(env, args.repeat)
        if args.keep_store and name == "embedded":
            kept = DATA / f"{tag}-kept"
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(env["KPI_DB"], kept)
            print(f"  store kept in {kept}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--responses", type=int, default=None, help="default: events / 10")
    parser.add_argument("--cities", type=int, default=33)
    parser.add_argument("--units-per-city", type=int, default=40)
    parser.add_argument("--layout", choices=("embedded", "pg+s3", "both"), default="embedded")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-concurrent", action="store_true")
    parser.add_argument("--no-defer", action="store_true",
                        help="imports recompute the top-level totals of every grain (a city's "
                             "store) instead of leaving months, quarters, years to totals --refresh")
    parser.add_argument("--maintain", action="store_true",
                        help="Store.maintain after the backfill, as the README's province "
                             "deployment runs `python -m kpi maintain` (then nightly)")
    parser.add_argument("--keep-store", action="store_true",
                        help="keep a copy of the embedded store (bench/data/…-kept)")
    parser.add_argument("--reuse-store", metavar="STORE", default=None,
                        help="skip the backfill: a copy of this kept embedded store (its files "
                             "must exist; for pg+s3, its rows copied into the new layout) takes "
                             "the imports")
    parser.add_argument("--skip-refresh", action="store_true",
                        help="leave the province totals waiting: no `totals --refresh` (at 10^8 "
                             "it re-reads the year's events of every city)")
    parser.add_argument("--pages-only", metavar="STORE", default=None,
                        help="only the pages' AppTest reruns, over this kept embedded store")
    parser.add_argument("--reads-only", metavar="STORE", default=None,
                        help="only the reads against the raw weekly aggregate, over this kept "
                             "embedded store")
    args = parser.parse_args(argv)
    if args.pages_only:
        print(f"machine: {machine()}")
        pages({"KPI_DB": args.pages_only}, args.repeat)
        return 0
    if args.reads_only:
        print(f"machine: {machine()}")
        reader = Store(args.reads_only)
        reads(reader, {"KPI_DB": args.reads_only}, args.repeat)
        reader.close()
        return 0
    args.responses = args.responses if args.responses is not None else max(args.events // 10, 1)
    print(f"machine: {machine()}")
    files = province_files(args.events, args.responses, args.cities, args.units_per_city)
    layouts = ("embedded", "pg+s3") if args.layout == "both" else (args.layout,)
    results = [run_layout(name, files, args) for name in layouts]
    out = DATA / f"province-results-{args.events}-{int(time.time())}.json"
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nresults: {out} ({load()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
