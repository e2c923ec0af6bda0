"""Where one weekly import's time goes: every statement it runs, timed (issue 26).

Imports one events file into an existing embedded store (in this process: no CLI start) and
prints the opening of the store, the import's wall and CPU time (this process, DuckDB's threads
included), DuckDB's raw `read_csv` of the same file into the same lake (after the import, on
the same store: the baseline of the issue's "≤ 3× raw" target) and the import's costliest
statements.

    python bench/profile_weekly.py STORE FILE [--copy-to DIR] [--repeat N] [--top N] [--maintain]

With `--copy-to DIR` each run imports into a fresh copy of STORE made in DIR (its catalog
copied, its data files hard-linked: DuckLake never rewrites a file it wrote, it writes new
ones, so the copy shares them without touching STORE), removed afterwards; with `--repeat N`
the figures are the median of N such runs (one statement: its median over the runs, the
statements matched by their position in the import). Without `--copy-to` the import is
committed into STORE itself: run it on a copy. `--maintain` runs `Store.maintain` first (no
snapshot expired): the store as a province's nightly `python -m kpi maintain` leaves it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "bench"):  # run as a script from anywhere
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from bench_province import cpu_seconds, load, maintained, raw_read_csv  # noqa: E402

from kpi import store as store_module  # noqa: E402
from kpi.catalogs import CATALOG_FILE, DATA_FOLDER  # noqa: E402
from kpi.ingest import ingest_file  # noqa: E402

TIMINGS: list[tuple[float, float, str]] = []
_EXECUTE = store_module.Cursor.execute


def _timed(self: store_module.Cursor, sql: str, params: Any = None) -> store_module.Cursor:
    started, cpu = time.perf_counter(), cpu_seconds()
    try:
        return _EXECUTE(self, sql, params)
    finally:
        TIMINGS.append((time.perf_counter() - started, cpu_seconds() - cpu,
                        " ".join(sql.split())[:150]))


@contextmanager
def store_copy(store: Path, folder: Path | None) -> Iterator[Path]:
    """`store` itself, or a copy of it in `folder` (catalog copied, data files hard-linked),
    removed afterwards."""
    if folder is None:
        yield store
        return
    copy = folder / f"profile-{os.getpid()}"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    try:
        for file in store.iterdir():
            if file.name.startswith(CATALOG_FILE):  # the catalog, its WAL and shared memory
                shutil.copy2(file, copy / file.name)
        shutil.copytree(store / DATA_FOLDER, copy / DATA_FOLDER, copy_function=os.link)
        yield copy
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def run_once(path: Path, week: Path, maintain: bool) -> dict[str, Any]:
    if maintain:
        kept = store_module.Store(path)
        maintained(kept)
        kept.close()
    started, cpu = time.perf_counter(), cpu_seconds()
    store = store_module.Store(path)
    opened, opened_cpu = time.perf_counter(), cpu_seconds()
    TIMINGS.clear()
    store_module.Cursor.execute = _timed  # type: ignore[method-assign]
    try:
        result = ingest_file(store, "events", week, loaded_by="bench")
    finally:
        store_module.Cursor.execute = _EXECUTE  # type: ignore[method-assign]
    done, done_cpu = time.perf_counter(), cpu_seconds()
    if not result.ok:
        raise SystemExit(f"rejected: {[p.reason for p in result.problems[:3]]}")
    raw = raw_read_csv(store, week)
    store.close()
    return {"open": opened - started, "open_cpu": opened_cpu - cpu, "wall": done - opened,
            "cpu": done_cpu - opened_cpu, "raw": raw["wall"], "raw_cpu": raw["cpu"],
            "rows": result.rows, "statements": list(TIMINGS)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("file", type=Path)
    parser.add_argument("--copy-to", type=Path, help="import into a fresh copy made here")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--maintain", action="store_true", help="Store.maintain before the import")
    args = parser.parse_args(argv)
    if args.repeat > 1 and args.copy_to is None:
        parser.error("--repeat needs --copy-to (each run on a fresh copy)")
    runs = []
    for _ in range(args.repeat):
        with store_copy(args.store, args.copy_to) as path:
            runs.append(run_once(path, args.file, args.maintain))
    median = {key: statistics.median(run[key] for run in runs)
              for key in ("open", "open_cpu", "wall", "cpu", "raw", "raw_cpu")}
    print(f"{args.file} ({runs[0]['rows']:,} rows), median of {len(runs)}, {load()}:")
    print(f"  open {median['open']:.2f} s wall {median['open_cpu']:.2f} s CPU; import "
          f"{median['wall']:.2f} s wall {median['cpu']:.2f} s CPU; raw read_csv "
          f"{median['raw']:.3f} s wall {median['raw_cpu']:.3f} s CPU: import "
          f"{median['wall'] / median['raw']:.1f}× raw wall, "
          f"{median['cpu'] / median['raw_cpu']:.1f}× raw CPU")
    counts = {len(run["statements"]) for run in runs}
    if len(counts) > 1:
        print(f"  (the runs ran {sorted(counts)} statements: the first run's are listed)")
        runs = runs[:1]
    statements = [(statistics.median(run["statements"][i][0] for run in runs),
                   statistics.median(run["statements"][i][1] for run in runs),
                   runs[0]["statements"][i][2]) for i in range(len(runs[0]["statements"]))]
    print("   wall     CPU  statement")
    for wall, used, sql in sorted(statements, key=lambda s: -s[1])[:args.top]:
        print(f"{wall:7.3f} {used:7.3f}  {sql}")
    print(f"{len(statements)} statements, {sum(s[0] for s in statements):.2f} s wall, "
          f"{sum(s[1] for s in statements):.2f} s CPU in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
