"""Many readers (issue 26 item 4): two dashboard servers on one shared store and SESSIONS browser
sessions browsing the overview, unit and compare pages while the 33 cities' weekly imports land.

The store: a copy of a kept province store (bench_province.py --keep-store), its weekly imports
rolled back first (bench_province.undo_weekly_imports) and its province totals deferred, as a
province's store is. Then, at once:
- two `streamlit run app.py` servers over the copy (tests/browser's serve_dashboard, loopback);
- the 33 cities' week files imported by 33 CLI processes started together
  (bench_province.cli_import), as on a Monday;
- SESSIONS Playwright contexts in Debian's chromium (half on each server), each opening pages
  one after the other for SECONDS (and on until the last import has landed), once each server
  has served one page (a server's first page copies the store's small tables: it is up before
  a Monday's imports): the province
  overview (the cities), a city's overview, a unit's page, the compare page of the cities or of
  a city's units, chosen at random (seeded).

Per page: the time from navigation to idle (tests/browser's RUN_TRACKER and IDLE: Streamlit's
own run messages, the charts drawn), and whether it showed an error (an exception, an error
alert, or no run within TIMEOUT_S). A torn number: on the province overview at the week grain,
the province's throughput tile (completed events, which add up) differs from the sum of the
cities' throughput in the heatmap below it, which the page reads at one data version: a page
showing part of an import. A page that says the province's totals of the period wait for
`totals --refresh` (a province store defers them: each import updates its own city's figures,
the province's are recounted once after the Monday imports) is counted apart, not checked:
its tile is the province's figure before the week's imports, or none. The benchmark prints p50 and p95
per page kind and over all, the errors, the torn numbers and the imports' outcome, with the
load average, and each server's resident memory at the end and its peak (VmHWM).

    python bench/bench_readers.py --store bench/data/province-10000000-embedded-kept
                                  [--sessions 10] [--seconds 120] [--seed 26] [--clean]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "bench"):  # run as a script from anywhere
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from bench_pages import _peak_rss_mib  # noqa: E402
from bench_province import DATA, cli_import, load, undo_weekly_imports  # noqa: E402
from make_bench_data import week_files  # noqa: E402

from kpi import metrics, precompute  # noqa: E402
from kpi.i18n import t  # noqa: E402
from kpi.store import Store  # noqa: E402
from kpi.vocabulary import KPIS  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    IDLE,
    POLL_MS,
    RUN_TRACKER,
    serve_dashboard,
)

TIMEOUT_S = 60
THROUGHPUT_COLUMN = list(KPIS).index("throughput")

# The page's own account: an exception or error alert, the heatmap's rows and cells, the
# throughput tile (its value is the tile's first number), and whether it says the province's
# totals of the period wait for `totals --refresh` (the caption's English text, the argument).
PAGE_STATE = """(pendingText) => {
  const errors = document.querySelectorAll(
    '[data-testid="stException"], [data-testid="stAlertContentError"]').length;
  const plot = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  const heat = plot && plot.data ? plot.data.find((trace) => trace.type === 'heatmap') : null;
  const tile = document.querySelector('[data-testid="stMetricValue"]');
  return {errors, tile: tile ? tile.innerText : null,
          rows: heat ? heat.y : null, cells: heat ? heat.text : null,
          period: new URL(window.location.href).searchParams.get('period'),
          grain: new URL(window.location.href).searchParams.get('grain'),
          pending: document.body.innerText.includes(pendingText)};
}"""
PENDING_TEXT = t("drill.totals_pending", "en")


def number(text: str) -> float:
    """The number a heatmap cell shows in English ("1,234 ●" → 1234; no value → 0)."""
    found = re.search(r"-?[\d,]+(?:\.\d+)?", text or "")
    return float(found.group(0).replace(",", "")) if found else 0.0


def torn(state: dict[str, Any]) -> str | None:
    """Why the province overview's throughput does not add up (None when it does, or when the
    page is not at the week grain): the province's tile against its cities' heatmap cells."""
    if not state["rows"] or state["tile"] is None or state["grain"] != "week":
        return None
    total = number(state["tile"])
    cities = sum(number(row[THROUGHPUT_COLUMN]) for row in state["cells"])
    return None if total == cities else f"province {total:g} ≠ Σ cities {cities:g}"


class Tally:
    """The page times and what went wrong, from every session (one event loop: no lock)."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.torn: list[str] = []
        self.checked = 0
        self.pending = 0

    def page(self, kind: str, seconds: float) -> None:
        self.times.setdefault(kind, []).append(seconds)


async def session(index: int, url: str, tree: dict[str, list[str]], browser: Any,
                  until: Any, tally: Tally, seed: int) -> None:
    """One reader: pages one after the other until `until()` is true."""
    chooser = random.Random(seed + index)
    context = await browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]},
                                        locale="en-GB", timezone_id="Asia/Jakarta")
    context.set_default_timeout(TIMEOUT_S * 1000)
    await context.add_init_script(RUN_TRACKER)
    page = await context.new_page()
    cities = sorted(tree)
    while not until():
        city = chooser.choice(cities)
        kind = chooser.choice(["province", "city", "unit", "compare"])
        path = {"province": "overview?lang=en",
                "city": f"overview?parent={city}&lang=en",
                "unit": f"unit?unit={chooser.choice(tree[city])}&lang=en",
                "compare": chooser.choice(["compare?kpi=throughput&lang=en",
                                           f"compare?kpi=throughput&parent={city}&lang=en"])}[kind]
        started = time.perf_counter()
        try:
            await page.goto(f"{url}/{path}")
            await page.wait_for_function(IDLE, timeout=TIMEOUT_S * 1000, polling=POLL_MS)
            seconds = time.perf_counter() - started
            state = await page.evaluate(PAGE_STATE, PENDING_TEXT)
        except Exception as error:  # a timeout or a lost page: an error the reader saw
            tally.errors.append(f"{path}: {type(error).__name__}: {str(error)[:160]}")
            continue
        tally.page(kind, seconds)
        if state["errors"]:
            tally.errors.append(f"{path}: {state['errors']} error element(s) shown")
        if kind == "province" and state["grain"] == "week" and state["pending"]:
            tally.pending += 1  # the province's own figures wait, and the page says so
        elif kind == "province" and state["grain"] == "week":
            tally.checked += 1
            why = torn(state)
            if why:
                tally.torn.append(f"{path} (period {state['period']}): {why}")
    await context.close()


async def warm(browser: Any, url: str) -> float:
    """Open the province overview once on the server at `url` (its first page copies the
    store's small tables, as a server does once before the Monday imports); its seconds."""
    context = await browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
    await context.add_init_script(RUN_TRACKER)
    page = await context.new_page()
    started = time.perf_counter()
    await page.goto(f"{url}/overview?lang=en", timeout=600_000)
    await page.wait_for_function(IDLE, timeout=600_000, polling=POLL_MS)
    await context.close()
    return time.perf_counter() - started


async def browse(urls: list[str], sessions: int, tree: dict[str, list[str]], until: Any,
                 tally: Tally, seed: int, start_imports: Any) -> None:
    """Warm both servers, start the imports, then run the sessions until `until()`."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=CHROMIUM_ARGS)
        for url in urls:
            print(f"  {url} warmed in {await warm(browser, url):.0f} s ({load()})", flush=True)
        start_imports()
        reporter = asyncio.create_task(progress(tally, until))
        await asyncio.gather(*(session(n, urls[n % len(urls)], tree, browser, until, tally, seed)
                               for n in range(sessions)))
        reporter.cancel()
        await browser.close()


async def progress(tally: Tally, until: Any) -> None:
    """A line every 30 s: pages done, errors, torn numbers, the load."""
    started = time.perf_counter()
    while not until():
        await asyncio.sleep(30)
        done = sum(len(times) for times in tally.times.values())
        print(f"  {time.perf_counter() - started:4.0f} s: {done} pages, {len(tally.errors)} "
              f"errors, {len(tally.torn)} torn ({load()})", flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def prepared_store(kept: Path, folder: Path, *, clean: bool) -> Path:
    """A copy of the kept store as a province's Monday finds it: no weekly import yet (unless
    `clean`: the kept store has none), the province totals deferred."""
    copy = folder / "store"
    shutil.copytree(kept, copy)
    store = Store(copy)
    if not clean:
        undo_weekly_imports(store)
    precompute.set_defer_totals(store, True, by="bench")
    store.close()
    return copy


def city_units(store_path: Path) -> dict[str, list[str]]:
    store = Store(store_path)
    tree = metrics.unit_tree(store)
    store.close()
    cities = tree[tree["depth"] == 0]["unit_code"].tolist()
    return {city: tree[tree["parent_code"] == city]["unit_code"].tolist() for city in cities}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True,
                        help="a kept embedded province store (bench_province.py --keep-store)")
    parser.add_argument("--weeks", type=Path, default=None,
                        help="the folder of the cities' week files (default: the store's data "
                             "set in bench/data, province-33x40-<events>-<responses>/week)")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--clean", action="store_true",
                        help="the store has no weekly import to roll back (a copy made by a "
                             "run before, its imports rolled back)")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit("Debian's chromium is not installed (make system-deps installs it)")
    weeks_folder = args.weeks or next(DATA.glob("province-33x40-10000000-*/week"))
    weeks = week_files(weeks_folder)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="readers-",
                                                                      dir=DATA)))
        started = time.perf_counter()
        store_path = prepared_store(args.store, folder, clean=args.clean)
        print(f"store ready in {time.perf_counter() - started:.0f} s ({load()})", flush=True)
        tree = city_units(store_path)
        urls = []
        for name in ("first", "second"):
            (folder / name).mkdir()
            urls.append(stack.enter_context(serve_dashboard(
                store_path, folder / name, env={"KPI_DEFAULT_ROLE": "admin"})))
        print(f"two servers up: {', '.join(urls)} ({load()})", flush=True)
        env = {"KPI_DB": str(store_path)}
        tally = Tally()
        imports: dict[str, Any] = {"done": 0, "failed": {}, "last": None}
        clock = {"began": time.perf_counter()}

        def land() -> None:
            processes = {city: cli_import(env, path) for city, path in weeks.items()}
            for city, process in processes.items():
                _, err = process.communicate()
                if process.returncode != 0:
                    imports["failed"][city] = (err.strip().splitlines() or ["?"])[-1]
                imports["done"] += 1
            imports["last"] = time.perf_counter() - clock["began"]

        lander = threading.Thread(target=land, name="imports")

        def start_imports() -> None:
            clock["began"] = time.perf_counter()
            lander.start()

        def until() -> bool:
            return (time.perf_counter() - clock["began"] >= args.seconds
                    and imports["done"] == len(weeks))

        asyncio.run(browse(urls, args.sessions, tree, until, tally, args.seed, start_imports))
        lander.join()
        browsed = time.perf_counter() - clock["began"]
        servers = [child for child in psutil.Process().children(recursive=True)
                   if "streamlit" in " ".join(child.cmdline())]
        memory = [{"rss_mib": server.memory_info().rss / 2**20,
                   "peak_mib": _peak_rss_mib(server.pid)} for server in servers]
    every = [seconds for times in tally.times.values() for seconds in times]
    print(f"\n{args.sessions} sessions on 2 servers for {browsed:.0f} s ({load()}); the "
          f"{len(weeks)} imports: {len(weeks) - len(imports['failed'])} succeeded, the last "
          f"landed at {imports['last']:.0f} s")
    for city, reason in sorted(imports["failed"].items()):
        print(f"  import {city} failed: {reason}")
    for kind, times in sorted(tally.times.items()):
        print(f"  {kind:9s} {len(times):4d} pages  p50 {statistics.median(times):5.2f} s  "
              f"p95 {percentile(times, 0.95):5.2f} s  max {max(times):5.2f} s")
    if every:
        print(f"  {'all':9s} {len(every):4d} pages  p50 {statistics.median(every):5.2f} s  "
              f"p95 {percentile(every, 0.95):5.2f} s (target ≤ 3 s)")
    for index, used in enumerate(memory, 1):
        print(f"  server {index}: RSS {used['rss_mib']:,.0f} MiB at the end, peak "
              f"{used['peak_mib']:,.0f} MiB (target < 1.5 GB)")
    print(f"  errors seen: {len(tally.errors)}; torn numbers: {len(tally.torn)} of "
          f"{tally.checked} province overviews checked ({tally.pending} more said the "
          "province's totals of the week wait for the recount)")
    for line in [*tally.errors[:10], *tally.torn[:10]]:
        print(f"    {line}")
    result = {"sessions": args.sessions, "seconds": browsed, "load": os.getloadavg(),
              "imports_failed": imports["failed"], "imports_last": imports["last"],
              "times": tally.times, "errors": tally.errors, "torn": tally.torn,
              "checked": tally.checked, "pending": tally.pending, "servers": memory}
    out = DATA / f"readers-results-{int(time.time())}.json"
    out.write_text(json.dumps(result, indent=1))
    print(f"results: {out}")
    return 0 if not tally.errors and not tally.torn and not imports["failed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
