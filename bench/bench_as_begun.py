"""Is `Cursor.as_begun` worth keeping? (issue 21, item 2.) The engine part of a review click,
"create an action" (`review.create_action`, what the review page's button runs), with the write
transaction's checks reading the in-memory copy of the small tables made at the snapshot it
began on (`as_begun`, "on") against reading the lake's own tables ("off": `as_begun` returns the
table's name), interleaved in one process on one store so that the machine's load falls on
both alike. Before each click a page's read makes the copy at the current snapshot, as the
review page's rerun does.

    python bench/bench_as_begun.py [--store DIR] [--rounds N]

Without --store it builds the demo city (`kpi init` + `kpi demo`) in a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kpi import precompute, review  # noqa: E402
from kpi import store as store_module  # noqa: E402
from kpi.store import Cursor, Store  # noqa: E402


def demo_store(folder: Path) -> Path:
    env = {**os.environ, "KPI_DB": str(folder), "PYTHONPATH": str(ROOT)}
    for command in (["init"], ["demo"]):
        subprocess.run([sys.executable, "-m", "kpi", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="kinerja-bench-as-begun-"))
    try:
        source = args.store or demo_store(scratch / "demo")
        shutil.copytree(source, scratch / "store")
        store = Store(scratch / "store")
        precompute.ensure_ready(store)
        week = review.default_week(store)
        unit = store.query_value("SELECT unit_code FROM units ORDER BY unit_code LIMIT 1")
        real = Cursor.as_begun
        modes = {"on": real, "off": lambda self, table: store_module._name(table)}
        times: dict[str, list[float]] = {"on": [], "off": []}
        for index in range(args.rounds):
            for mode in ("on", "off") if index % 2 == 0 else ("off", "on"):
                Cursor.as_begun = modes[mode]  # type: ignore[method-assign]
                store.query_value("SELECT count(*) FROM units")  # the page's read: the copy
                start = time.perf_counter()
                review.create_action(store, week, title=f"bench {index} {mode}", unit_code=unit,
                                     responsible="Kepala", due_date=dt.date(2030, 1, 1),
                                     by="bench@medan.go.id")
                times[mode].append(time.perf_counter() - start)
        Cursor.as_begun = real  # type: ignore[method-assign]
        for mode, values in times.items():
            print(f"as_begun {mode:3}: median {statistics.median(values) * 1000:6.1f} ms, "
                  f"min {min(values) * 1000:6.1f} ms ({len(values)} clicks)")
        ratio = statistics.median(times["off"]) / statistics.median(times["on"])
        print(f"off / on (median): {ratio:.2f}; load average {os.getloadavg()}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
