"""Scale benchmark: how the lake's costs grow from 10⁷ to 10⁸ events (a province's years).

For each size, a fresh store with its events (and survey responses) partitioned by month is
loaded through `kpi.ingest.ingest_file`, the product's own import, from the files of
bench/make_bench_data.py (40 units, 18 months; generated once under bench/data/scale-N/).
Then the dashboard's reads are timed (median of --repeat warm runs, after one cold run):

  overview  metrics.overview: all units × all KPIs × the last full week, with the week before
  series    metrics.series: one unit's weekly service_time_median over all its history
  spc       spc.spc_series of that series

Stores: `local` (the embedded store: SQLite catalog, Parquet files in its folder) and, with
--s3, `pg+s3` (a PostgreSQL catalog in a throwaway cluster, files on a local S3-compatible
server, moto; both started here on loopback as the tests start them). The last table gives each
figure's growth factor from the small store to the large one: 10× the data should cost at most
10× for the import and far less for the reads, which touch one week or one unit.

    python bench/bench_scale.py [--small N] [--large N] [--repeat R] [--s3] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.make_bench_data import make_bench_data  # noqa: E402
from kpi import metrics, spc  # noqa: E402
from kpi.ingest import ingest_file  # noqa: E402
from kpi.store import Store  # noqa: E402

DATA = ROOT / "bench" / "data"
KINDS = ("units", "services", "targets", "survey", "events")


def bench_files(events: int) -> dict[str, Path]:
    """The benchmark CSVs for `events` events (one tenth as many responses), made once."""
    folder = DATA / f"scale-{events}"
    paths = {kind: folder / f"{kind}.csv" for kind in KINDS}
    if not all(path.exists() for path in paths.values()):
        started = time.perf_counter()
        print(f"  generating {events:,} events into {folder} …", flush=True)
        made = make_bench_data(folder, events=events, responses=max(events // 10, 1))
        paths = {kind: made[kind] for kind in KINDS}
        print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return paths


@contextmanager
def local_store(events: int) -> Iterator[Store]:
    folder = DATA / f"scale-{events}" / "lake"
    shutil.rmtree(folder, ignore_errors=True)
    try:
        yield Store(folder, create=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def shared_store(events: int) -> Iterator[Store]:
    from tests.services import postgres_cluster, s3_server

    with ExitStack() as stack:
        catalog = stack.enter_context(postgres_cluster()).url("kinerja")  # the app role's URL
        aws = stack.enter_context(s3_server(DATA / f"moto-{events}.log"))
        os.environ.update(aws)
        try:
            yield Store(catalog, create=True, data_path=f"s3://kinerja/scale-{events}/")
        finally:
            for key in aws:
                os.environ.pop(key, None)


def load(store: Store, files: dict[str, Path]) -> dict[str, float]:
    """Partition by month, then import every file; seconds and rows of the events import."""
    store.partition_by_month()
    result: dict[str, float] = {}
    for kind in KINDS:
        started = time.perf_counter()
        done = ingest_file(store, kind, files[kind], loaded_by="bench")
        if not done.ok:
            raise SystemExit(f"{kind} rejected: {done.problems[:3]}")
        if kind == "events":
            result["import_s"] = time.perf_counter() - started
            result["rows"] = done.rows
    return result


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(cold seconds, median warm seconds)."""
    started = time.perf_counter()
    call()
    cold = time.perf_counter() - started
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        warm.append(time.perf_counter() - started)
    return cold, statistics.median(warm)


def reads(store: Store, repeat: int) -> dict[str, tuple[float, float]]:
    first, last = metrics.data_range(store)
    assert first is not None and last is not None
    week: dt.date = metrics.previous_period(metrics.period_start(last, "week"), "week")
    tree = metrics.unit_tree(store)
    leaf = tree[tree["depth"] == 1]["unit_code"].iloc[0]
    calls = {
        "overview": lambda: metrics.overview(store, period="week", period_start=week),
        "series": lambda: metrics.series(store, unit=leaf, kpi="service_time_median",
                                         period="week", date_from=first, date_to=last),
        "spc": lambda: spc.spc_series(store, unit=leaf, kpi="service_time_median",
                                      period="week", date_from=first, date_to=last),
    }
    return {name: timed(call, repeat) for name, call in calls.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000_000)
    parser.add_argument("--large", type=int, default=100_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--s3", action="store_true", help="also a PostgreSQL catalog + S3 files")
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV files")
    args = parser.parse_args(argv)
    backends: dict[str, Callable[[int], Any]] = {"local": local_store}
    if args.s3:
        backends["pg+s3"] = shared_store
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for size in (args.small, args.large):
        files = bench_files(size)
        for name, opener in backends.items():
            print(f"{name}, {size:,} events: importing …", flush=True)
            with opener(size) as store:
                loaded = load(store, files)
                figures = reads(store, args.repeat)
            results[(name, size)] = {**loaded, **figures}
            print(f"  events import {loaded['import_s']:.1f} s "
                  f"({loaded['rows'] / loaded['import_s']:,.0f} rows/s); "
                  + "; ".join(f"{call} cold {cold * 1000:.0f} ms, warm {warm * 1000:.0f} ms"
                              for call, (cold, warm) in figures.items()), flush=True)
        if not args.keep and size == args.large:
            shutil.rmtree(DATA / f"scale-{size}", ignore_errors=True)
    print()
    print(f"{'store':8s} {'figure':16s} {args.small:>14,} {args.large:>14,} {'growth':>8s}")
    for name in backends:
        small, large = results[(name, args.small)], results[(name, args.large)]
        rows = [("import s", small["import_s"], large["import_s"])]
        rows += [(f"{call} warm ms", small[call][1] * 1000, large[call][1] * 1000)
                 for call in ("overview", "series", "spc")]
        for label, a, b in rows:
            print(f"{name:8s} {label:16s} {a:14.1f} {b:14.1f} {b / a:7.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
