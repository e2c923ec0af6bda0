"""Write a large contract-format CSV set for benchmarks (default: bench/data/, gitignored).

40 units in a two-level hierarchy, 5 services each, 10 million events over 18 months and
1 million SKM responses, plus targets. With `cities` (a province, issue 26): that many cities
as top-level units, each with `units_per_city` units under it (codes K01, K01U01 …). Rows are produced by DuckDB SQL (through a scratch
`kpi.store.Store`) from `range(n)` and a seeded hash of the row number, so the same arguments
give the same files and ten million events take seconds, not minutes. Events come out sorted
by day, so the file is in rough time order like a real export.

Usage: python bench/make_bench_data.py [--out DIR] [--events N] [--responses N] [--units N]
                                      [--cities N [--units-per-city N]]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from kpi.store import Cursor, Store  # noqa: E402

DEFAULT_OUT = ROOT / "bench" / "data"
FIRST_DAY = "2025-05-26"
DAYS = 546  # 2025-05-26 .. 2026-11-22, 18 months
PARENTS = 4  # the first units are the parents of all the others
SERVICES_PER_UNIT = 5
STANDARDS = (30, 45, 60, 90)  # the fifth service has no standard
OPEN_SECONDS = 7 * 3600 + 30 * 60
OPEN_SPAN_SECONDS = 7 * 3600 + 30 * 60  # arrivals 07:30..15:00

COPY_OPTIONS = "(HEADER, DELIMITER ',')"

# Every query takes $seed, $units and, for events/survey, $n. Columns are in contract order.
# A unit is named by its number i (0 … $units - 1) through the macros of the layout
# (`_layout_macros`): unit_code_of(i), unit_name_of(i), unit_type_of(i), parent_of(i).
UNITS_SQL = """
SELECT unit_code_of(i) AS unit_code, unit_name_of(i) AS name, unit_type_of(i) AS type,
       parent_of(i) AS parent_code, printf('Kecamatan %d', i % 21 + 1) AS district
FROM range($units) AS r(i)
"""

SERVICES_SQL = f"""
SELECT unit_code_of(u) AS unit_code,
       printf('S%d', s + 1) AS service_code,
       printf('Layanan %d', s + 1) AS name,
       CASE s WHEN 0 THEN {STANDARDS[0]} WHEN 1 THEN {STANDARDS[1]} WHEN 2 THEN {STANDARDS[2]}
              WHEN 3 THEN {STANDARDS[3]} ELSE NULL END AS standard_minutes
FROM range($units) AS a(u), range({SERVICES_PER_UNIT}) AS b(s)
ORDER BY u, s
"""

# h is a seeded 64-bit hash of the row number; its bit fields drive the independent choices.
EVENTS_SQL = f"""
WITH base AS (
    SELECT i,
           hash(i, $seed) AS h,
           hash(i, $seed + 1) AS g,
           TIMESTAMP '{FIRST_DAY} 00:00:00'
             + to_days(CAST(i * {DAYS} // $n AS INTEGER))
             + to_seconds(CAST({OPEN_SECONDS} + hash(i, $seed + 2) % {OPEN_SPAN_SECONDS}
                               AS BIGINT)) AS arrived_at
    FROM range($first, $end) AS r(i)
), shaped AS (
    SELECT *,
           CASE WHEN h % 100 < 4 THEN 'abandoned' WHEN h % 100 < 7 THEN 'no_show'
                ELSE 'completed' END AS outcome,
           arrived_at + to_seconds(CAST((h >> 8) % 2400 AS BIGINT)) AS called_at
    FROM base
)
SELECT unit_code_of((h >> 16) % $units) AS unit_code,
       printf('S%d', (h >> 24) % {SERVICES_PER_UNIT} + 1) AS service_code,
       printf('T%09d', i) AS ticket_id,
       arrived_at,
       CASE WHEN outcome = 'completed' AND g % 20 <> 0 THEN called_at END AS started_at,
       CASE WHEN outcome = 'completed'
            THEN called_at + to_seconds(CAST(60 + (g >> 8) % 3600 AS BIGINT)) END
           AS completed_at,
       outcome,
       CASE (h >> 32) % 10 WHEN 0 THEN 'phone' WHEN 1 THEN 'online' WHEN 2 THEN 'online'
            ELSE 'counter' END AS channel
FROM shaped
ORDER BY i
"""

# Answers lean towards 3 (as real SKM data does); about 2% of each element is left empty.
ANSWER = "CASE WHEN hash(i, $seed, {k}) % 50 = 0 THEN NULL ELSE [1, 2, 2, 3, 3, 3, 3, 4, 4, 4][CAST(hash(i, $seed, {k}) // 50 % 10 AS INTEGER) + 1] END AS u{k}"
SURVEY_SQL = f"""
WITH base AS (SELECT i, hash(i, $seed + 3) AS h FROM range($n) AS r(i))
SELECT unit_code_of(h % $units) AS unit_code,
       printf('R%08d', i) AS response_id,
       TIMESTAMP '{FIRST_DAY} 00:00:00'
         + to_days(CAST(i * {DAYS} // $n AS INTEGER))
         + to_seconds(CAST(8 * 3600 + (h >> 8) % (14 * 3600) AS BIGINT)) AS submitted_at,
       {", ".join(ANSWER.format(k=k) for k in range(1, 10))},
       CASE WHEN (h >> 24) % 3 = 0 THEN NULL
            ELSE printf('S%d', (h >> 26) % {SERVICES_PER_UNIT} + 1) END AS service_code,
       CASE (h >> 30) % 3 WHEN 0 THEN 'L' WHEN 1 THEN 'P' END AS respondent_gender,
       CAST(17 + (h >> 32) % 60 AS INTEGER) AS respondent_age,
       ['SD', 'SMP', 'SMA', 'D3', 'S1', 'S2'][CAST((h >> 40) % 6 AS INTEGER) + 1]
           AS respondent_education,
       CASE (h >> 44) % 8 WHEN 0 THEN 'Antrian terlalu lama' WHEN 1 THEN 'Petugas ramah'
            WHEN 2 THEN 'Pelayanan cepat, terima kasih' END AS comment
FROM base
ORDER BY i
"""

TARGETS_SQL = """
SELECT * FROM (VALUES
    ('*', 'service_time_median', 45.0::DOUBLE, DATE '2025-01-01', NULL::DATE, NULL::DOUBLE),
    ('*', 'wait_time_median', 20.0, DATE '2025-01-01', NULL, NULL),
    ('*', 'within_standard_pct', 80.0, DATE '2025-01-01', DATE '2026-06-30', 5.0),
    ('*', 'within_standard_pct', 85.0, DATE '2026-07-01', NULL, 5.0),
    ('*', 'abandon_rate', 10.0, DATE '2025-01-01', NULL, NULL),
    ('*', 'ikm', 76.61, DATE '2025-01-01', NULL, NULL),
    (unit_code_of(4), 'service_time_median', 30.0, DATE '2025-01-01', NULL, 20.0)
) AS t(unit_code, kpi, target, valid_from, valid_to, amber_pct)
"""

FILES = {  # kind: (file name, query, takes $n from)
    "units": ("units.csv", UNITS_SQL, None),
    "services": ("services.csv", SERVICES_SQL, None),
    "events": ("events.csv", EVENTS_SQL, "events"),
    "survey": ("survey.csv", SURVEY_SQL, "responses"),
    "targets": ("targets.csv", TARGETS_SQL, None),
}


def _layout_macros(cities: int, units_per_city: int) -> list[str]:
    """The macros naming unit number i: a city of PARENTS dinas and their units (BU01 …), or
    a province of `cities` cities (K01 …), each the parent of `units_per_city` units
    (K01U01 …). The numbers are constants of this module or integers, never user text."""
    if not cities:
        return ["unit_code_of(i) AS printf('BU%02d', i + 1)",
                f"unit_name_of(i) AS CASE WHEN i < {PARENTS} THEN printf('Dinas Bench %d', i + 1) "
                "ELSE printf('Unit Layanan Bench %02d', i + 1) END",
                f"unit_type_of(i) AS CASE WHEN i < {PARENTS} THEN 'dinas' ELSE 'puskesmas' END",
                f"parent_of(i) AS CASE WHEN i < {PARENTS} THEN NULL "
                f"ELSE printf('BU%02d', i % {PARENTS} + 1) END"]
    size = int(units_per_city) + 1  # the city itself, then its units
    return [f"unit_code_of(i) AS CASE WHEN i % {size} = 0 THEN printf('K%02d', i // {size} + 1) "
            f"ELSE printf('K%02dU%02d', i // {size} + 1, i % {size}) END",
            f"unit_name_of(i) AS CASE WHEN i % {size} = 0 "
            f"THEN printf('Kota Bench %02d', i // {size} + 1) "
            f"ELSE printf('Unit Layanan %02d-%02d', i // {size} + 1, i % {size}) END",
            f"unit_type_of(i) AS CASE WHEN i % {size} = 0 THEN 'dinas' ELSE 'puskesmas' END",
            f"parent_of(i) AS CASE WHEN i % {size} = 0 THEN NULL "
            f"ELSE printf('K%02d', i // {size} + 1) END"]


def _copy(cur: Cursor, query: str, path: Path, params: dict[str, int],
          options: str = COPY_OPTIONS) -> None:
    used = {name: value for name, value in params.items() if f"${name}" in query}
    # The queries and options are this module's constants; only values travel as parameters.
    cur.execute(f"COPY ({query}) TO $path {options}", {**used, "path": str(path)})


def last_week_start(events: int) -> int:
    """The number of the first event of the data's last week (days 539 … 545)."""
    return -(-(DAYS - 7) * events // DAYS)


def make_bench_data(out_dir: Path, events: int = 10_000_000, responses: int = 1_000_000,
                    units: int = 40, seed: int = 7, *, cities: int = 0,
                    units_per_city: int = 40, split_last_week: bool = False) -> dict[str, Path]:
    """Write units, services, events, survey and targets CSVs into `out_dir`; {kind: path}.
    `cities` > 0: a province (`units` is then cities × (units_per_city + 1)).
    `split_last_week`: events.csv stops before the last week, whose events go one file per
    city (top-level unit) into `out_dir`/week/<city>.csv (kind "week")."""
    if cities:
        units = cities * (units_per_city + 1)
    elif units <= PARENTS:
        raise ValueError(f"need more than {PARENTS} units (the first {PARENTS} are parents)")
    if events < 1 or responses < 1:
        raise ValueError("events and responses must be at least 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = {"events": events, "responses": responses}
    cut = last_week_start(events) if split_last_week else events
    written: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="kinerja-bench-") as scratch:
        store = Store(Path(scratch) / "scratch.duckdb", create=True)
        with store.cursor() as cur:
            cur.execute("SET enable_progress_bar = false")
            for macro in _layout_macros(cities, units_per_city):
                cur.execute(f"CREATE TEMP MACRO {macro}")
            for kind, (name, query, size_key) in FILES.items():
                params = {"seed": seed, "units": units, "first": 0, "end": cut}
                if size_key:
                    params["n"] = sizes[size_key]
                written[kind] = out_dir / name
                _copy(cur, query, written[kind], params)
            if split_last_week:
                written["week"] = out_dir / "week"
                shutil.rmtree(written["week"], ignore_errors=True)
                parent = "coalesce(parent_code, unit_code)" if cities else "unit_code"
                by_city = (f"WITH tree AS ({UNITS_SQL}) SELECT e.*, {parent} AS city "
                           f"FROM ({EVENTS_SQL}) AS e JOIN tree USING (unit_code) ORDER BY ticket_id")
                _copy(cur, by_city, written["week"],
                      {"seed": seed, "units": units, "n": events, "first": cut, "end": events},
                      "(FORMAT csv, HEADER, PARTITION_BY (city), OVERWRITE_OR_IGNORE)")
    return written


def week_files(week_folder: Path) -> dict[str, Path]:
    """{city code: its last-week events file} of a folder written by `split_last_week`."""
    return {path.parent.name.split("=", 1)[1]: path
            for path in sorted(Path(week_folder).glob("city=*/*.csv"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the large benchmark CSV set.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--cities", type=int, default=0, help="a province of this many cities")
    parser.add_argument("--units-per-city", type=int, default=40)
    parser.add_argument("--split-last-week", action="store_true",
                        help="the last week's events apart, one file per city")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = make_bench_data(args.out, events=args.events, responses=args.responses,
                            units=args.units, seed=args.seed, cities=args.cities,
                            units_per_city=args.units_per_city,
                            split_last_week=args.split_last_week)
    for kind, path in paths.items():
        size = sum(file.stat().st_size for file in ([path] if path.is_file()
                                                     else path.rglob("*.csv")))
        print(f"{kind:9s} {path} ({size:,} bytes)")
    print(f"written in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
