"""The public SKM form under load (issue 24): a CLI import and 20 form submissions a second for
30 seconds at once, against each alone, measured in the same run on the same server.

Generates (once) bench/make_bench_data.py's city (40 units) with --events events into
bench/data/survey/ (gitignored) and splits the events into two halves of the same size. A fresh
embedded store gets the units and services; one `streamlit run app.py` serves it (the public
form's answers moved into the lake every KPI_SURVEY_FLUSH_SECONDS, default 2 s). Then:

  alone     the first half imported by `python -m kpi ingest events` with the server idle;
            --rate submissions a second for --seconds (each: open the form, send it) with no
            import; /publik and the form page fetched every second throughout
  together  the second half imported while --rate submissions a second run for --seconds,
            the pages fetched every second throughout

and prints: the import's seconds together / alone; the submissions' and the pages' latencies
(median, 95th percentile) together / alone; the server's CPU time per submission (its process
and children, flushes included: a figure a busy machine does not inflate the way it inflates
latencies); the submissions accepted and how many of them are in the lake once the flushes have
caught up (must be all), and how long that took. Usage:

    python bench/bench_survey.py [--events N] [--rate R] [--seconds S] [--regenerate]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from kpi import survey_links  # noqa: E402
from kpi.ingest import ingest_file  # noqa: E402
from kpi.store import Store  # noqa: E402

DATA = ROOT / "bench" / "data" / "survey"
UNITS = ("BU05", "BU06", "BU07", "BU08", "BU09")  # the forms the submissions go to
ANSWERS = {f"u{i}": str(1 + i % 4) for i in range(1, 10)}


def generate(events: int, regenerate: bool) -> tuple[Path, Path]:
    halves = (DATA / "events-a.csv", DATA / "events-b.csv")
    if all(path.exists() for path in halves) and not regenerate:
        return halves
    shutil.rmtree(DATA, ignore_errors=True)
    subprocess.run([sys.executable, str(ROOT / "bench" / "make_bench_data.py"), "--out",
                    str(DATA), "--events", str(events), "--responses", "1000"], check=True)
    with (DATA / "events.csv").open("rb") as source:
        header = source.readline()
        lines = source.readlines()
    middle = len(lines) // 2
    for path, part in zip(halves, (lines[:middle], lines[middle:]), strict=True):
        with path.open("wb") as out:
            out.write(header)
            out.writelines(part)
    return halves


def percentiles(values: list[float]) -> tuple[float, float]:
    """(median, 95th percentile) in milliseconds."""
    if len(values) < 2:
        return (values[0] * 1000, values[0] * 1000) if values else (float("nan"),) * 2
    ordered = sorted(values)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


class Load:
    """Submissions at a steady rate, and the pages fetched every second, while it runs."""

    def __init__(self, url: str, tokens: list[str], rate: float, seconds: float) -> None:
        self.url, self.tokens, self.rate, self.seconds = url, tokens, rate, seconds
        self.submit_seconds: list[float] = []
        self.page_seconds: list[float] = []
        self.statuses: list[int] = []
        self.failures = 0
        self._lock = threading.Lock()

    def _submit(self, client: httpx.Client, index: int) -> None:
        token = self.tokens[index % len(self.tokens)]
        started = time.perf_counter()
        try:
            form = client.get(f"{self.url}/skm/{token}")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            status = client.post(f"{self.url}/skm/{token}",
                                 data={"csrf": csrf.group(1) if csrf else "", **ANSWERS,
                                       "comment": f"bench {index}"}).status_code
        except httpx.HTTPError:
            status = 0
        with self._lock:
            self.submit_seconds.append(time.perf_counter() - started)
            self.statuses.append(status)

    def _pages(self, client: httpx.Client, stop: threading.Event) -> None:
        while not stop.wait(1.0):
            for path in ("/publik", f"/skm/{self.tokens[0]}"):
                started = time.perf_counter()
                try:
                    ok = client.get(f"{self.url}{path}").status_code == 200
                except httpx.HTTPError:
                    ok = False
                with self._lock:
                    self.page_seconds.append(time.perf_counter() - started)
                    self.failures += not ok

    def run(self) -> None:
        stop = threading.Event()
        with httpx.Client(timeout=120, limits=httpx.Limits(max_connections=64)) as client, \
                ThreadPoolExecutor(48) as pool:
            pages = threading.Thread(target=self._pages, args=(client, stop))
            pages.start()
            started = time.perf_counter()
            count = int(self.rate * self.seconds)
            for index in range(count):
                due = started + index / self.rate
                time.sleep(max(0.0, due - time.perf_counter()))
                pool.submit(self._submit, client, index)
            pool.shutdown(wait=True)
            stop.set()
            pages.join()


def web_rows(store: Path) -> int:
    probe = Store(store)
    try:
        return int(probe.query_value("SELECT count(*) FROM survey_responses "
                                     "WHERE response_id LIKE 'WEB-%'"))
    finally:
        probe.close()


def wait_stored(store: Path, expected: int, limit: float = 300) -> float:
    """Seconds until the lake holds `expected` form answers (or `limit`)."""
    started = time.perf_counter()
    while web_rows(store) < expected and time.perf_counter() - started < limit:
        time.sleep(0.5)
    return time.perf_counter() - started


def timed_import(store: Path, path: Path, env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kpi", "--db", str(store), "ingest", "events",
                           str(path)], cwd=ROOT, env=env, capture_output=True, text=True)
    return time.perf_counter() - started, done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=6_000_000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--port", type=int, default=8599)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    half_a, half_b = generate(args.events, args.regenerate)
    store_path = DATA / "store"
    shutil.rmtree(store_path, ignore_errors=True)
    store = Store(store_path, create=True)
    for kind in ("units", "services"):
        assert ingest_file(store, kind, DATA / f"{kind}.csv", loaded_by="bench").ok
    tokens = [link.token for link in survey_links.links(store, list(UNITS), who="bench")]
    survey_links.set_published(store, list(UNITS), True, who="bench")
    store.close()
    env = {**os.environ, "KPI_DB": str(store_path), "KPI_WARM_UP": "0",
           "KPI_SURVEY_RATE": "1000000/3600",  # every submission comes from this one address
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    url = f"http://127.0.0.1:{args.port}"
    log = (DATA / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(args.port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start; see bench/data/survey/server.log")
            time.sleep(0.5)
        print(f"{platform.node()} · {os.cpu_count()} CPUs · load {os.getloadavg()[0]:.1f} · "
              f"{args.events:,} events in two halves · {args.rate:g}/s for {args.seconds:g} s")

        alone_import, status_a = timed_import(store_path, half_a, env)
        process = psutil.Process(server.pid)

        def server_cpu() -> float:
            times = process.cpu_times()
            return times.user + times.system

        idle_started, idle_cpu = time.perf_counter(), server_cpu()
        time.sleep(10)
        idle_rate = (server_cpu() - idle_cpu) / (time.perf_counter() - idle_started)
        alone = Load(url, tokens, args.rate, args.seconds)
        load_started, cpu_started = time.perf_counter(), server_cpu()
        alone.run()
        accepted_alone = alone.statuses.count(303)
        wait_stored(store_path, accepted_alone)
        alone_cpu = server_cpu() - cpu_started - idle_rate * (time.perf_counter() - load_started)

        together = Load(url, tokens, args.rate, args.seconds)
        importing: dict[str, float] = {}

        def run_import() -> None:
            importing["seconds"], importing["status"] = timed_import(store_path, half_b, env)

        importer = threading.Thread(target=run_import)
        started = time.perf_counter()
        importer.start()
        together.run()
        submissions_end = time.perf_counter() - started
        importer.join()
        accepted = accepted_alone + together.statuses.count(303)
        drained = wait_stored(store_path, accepted)
        stored = web_rows(store_path)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    def ratio(numerator: float, denominator: float) -> str:
        return f"{numerator / denominator:.2f}x" if denominator else "-"

    sub_a, sub_b = percentiles(alone.submit_seconds), percentiles(together.submit_seconds)
    page_a, page_b = percentiles(alone.page_seconds), percentiles(together.page_seconds)
    print(f"import {half_b.name}: {importing['seconds']:.1f} s together, {alone_import:.1f} s "
          f"alone ({ratio(importing['seconds'], alone_import)}); exit {int(importing['status'])} "
          f"(alone {status_a}); submissions ran {submissions_end:.1f} s")
    print(f"submission (open + send): median {sub_b[0]:.0f} ms, p95 {sub_b[1]:.0f} ms together; "
          f"{sub_a[0]:.0f} / {sub_a[1]:.0f} ms alone ({ratio(sub_b[0], sub_a[0])} median, "
          f"{ratio(sub_b[1], sub_a[1])} p95)")
    print(f"pages (/publik, the form): median {page_b[0]:.0f} ms, p95 {page_b[1]:.0f} ms "
          f"together; {page_a[0]:.0f} / {page_a[1]:.0f} ms alone ({ratio(page_b[0], page_a[0])} "
          f"median); failed {together.failures} together, {alone.failures} alone")
    statuses = sorted(set(alone.statuses + together.statuses))
    per_submission = alone_cpu / max(1, len(alone.statuses)) * 1000
    print(f"server CPU per submission (open + send + its share of the flushes, idle server's "
          f"{idle_rate * 1000:.0f} ms/s taken off): {per_submission:.1f} ms; at {args.rate:g}/s "
          f"{per_submission * args.rate / 1000:.2f} CPU")
    print(f"accepted {accepted} of {len(alone.statuses) + len(together.statuses)} "
          f"(statuses {statuses}); in the lake {stored}; the last ones {drained:.1f} s after the "
          f"import and the submissions ended")
    ok = stored == accepted and importing["status"] == 0 and together.failures == 0
    print("OK" if ok else "FAILED: an accepted answer is missing, the import failed or a page "
          "did not answer")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
