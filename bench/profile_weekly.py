"""Where one weekly import's time goes: every statement it runs, timed (issue 26).

Imports one events file into an existing store (in this process: no CLI start) and prints the
opening of the store, the import's wall and CPU time (this process, DuckDB's threads included)
and its 25 costliest statements. Run it on a copy: the import is committed.

    python bench/profile_weekly.py STORE FILE
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from kpi import store as store_module  # noqa: E402
from kpi.ingest import ingest_file  # noqa: E402

TIMINGS: list[tuple[float, float, str]] = []
_EXECUTE = store_module.Cursor.execute


def _timed(self: store_module.Cursor, sql: str, params: Any = None) -> store_module.Cursor:
    started, cpu = time.perf_counter(), time.process_time()
    try:
        return _EXECUTE(self, sql, params)
    finally:
        TIMINGS.append((time.perf_counter() - started, time.process_time() - cpu,
                        " ".join(sql.split())[:150]))


def main(argv: list[str]) -> int:
    path, week = argv
    store_module.Cursor.execute = _timed  # type: ignore[method-assign]
    started, cpu = time.perf_counter(), time.process_time()
    store = store_module.Store(path)
    opened, opened_cpu = time.perf_counter(), time.process_time()
    TIMINGS.clear()
    result = ingest_file(store, "events", week, loaded_by="bench")
    print(f"open {opened - started:.2f} s wall {opened_cpu - cpu:.2f} s CPU; import "
          f"{time.perf_counter() - opened:.2f} s wall {time.process_time() - opened_cpu:.2f} s "
          f"CPU; {result.rows:,} rows, ok {result.ok}; load {os.getloadavg()[0]:.1f}")
    print("   wall     CPU  statement")
    for wall, used, sql in sorted(TIMINGS, reverse=True)[:25]:
        print(f"{wall:7.3f} {used:7.3f}  {sql}")
    print(f"{len(TIMINGS)} statements, {sum(wall for wall, _, _ in TIMINGS):.2f} s wall in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
