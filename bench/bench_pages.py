"""Page benchmark (issue 13): every page's warm rerun against the Upload page's, the review
meeting's clicks in a real browser, the first page after a server start, and the pack.

1. AppTest (streamlit.testing) of dashboard.py, in a child process per store: each page is
   run once (cold), then --repeat times (warm, the median is kept). The Upload page is the
   baseline: Streamlit and the router alone. Ratio = page / Upload, measured in the same run.
   Stores: the demo city (`python -m kpi demo`, built once into bench/data/pages/) and the
   engine benchmark's large store (bench/bench_engine.py builds it; --large-events).
2. The real server (`streamlit run`, warm-up at start on) over a copy of the demo store, driven
   in Debian's chromium by Playwright:
   - the first page after the server is up (the City overview), and the review page;
   - on the review page: create an action, save an item's notes, prepare the pack, finalise:
     each timed from the click to its confirmation on screen (toast, "ready", "Finalised"),
     once the start-up warm-up has computed the week's agenda and rendered its charts (when
     that was, from the server's start, is printed too);
   - the dashboard's RSS afterwards.
3. The pack from the CLI (`python -m kpi review`) over a copy of the demo store, cold (empty
   chart image cache) and warm: wall time, the CLI's CPU time and its Chromium's. Alone, and
   --repeat rounds (medians), with --cli-pack-only.

Wall times on a shared machine are inflated by the others' load: the load average is printed
with the results, the ratios are measured in the same run, and the AppTest part also reports
the process CPU time of each rerun (all threads), which the load inflates much less.

4. Navigation to settled (issue 22): the real server (warm-up on, as in production) over a copy
   of the demo store (and with --province STORE over a copy of that store), each page opened in
   Debian's chromium by `page.goto` and timed until Streamlit's own run state says its run has
   finished and been drawn (tests/browser's `wait_idle`), per viewport (desktop 1366 px, tablet
   820 px) in a fresh browser context: the cold first page after the server start, each page's
   first open, then --repeat rounds (warm: median); ratios against the Upload page's warm
   navigation in the same viewport and run, in wall time and in server CPU.

With --large-rss the real server is also run over a copy of the large store: every page opened
once in chromium, then the dashboard's RSS and its peak (VmHWM).

    python bench/bench_pages.py [--repeat R] [--skip-large] [--skip-browser] [--skip-apptest]
                                [--large-rss] [--cli-pack-only] [--navigation-only]
                                [--skip-navigation] [--province STORE [--province-apptest]]
                                [--pages upload,overview,...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "pages"
ENGINE_DATA = ROOT / "bench" / "data" / "engine"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

APPTEST = textwrap.dedent("""
    import json, resource, statistics, sys, time
    from streamlit.testing.v1 import AppTest
    from ui.registry import PAGES
    repeat = int(sys.argv[1])
    out = {}
    for spec in PAGES:
        at = AppTest.from_file("dashboard.py", default_timeout=600)
        at.query_params["lang"] = "en"
        at.session_state["kinerja_role"] = "admin"
        at.switch_page(spec.path)
        times, cpu = [], []
        for _ in range(repeat + 1):
            started, started_cpu = time.perf_counter(), time.process_time()
            at.run()
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        if at.exception:
            raise SystemExit(f"{spec.key}: {at.exception[0].value}")
        out[spec.key] = {"cold": times[0], "warm": statistics.median(times[1:]),
                         "cpu": statistics.median(cpu[1:])}
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
""")


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs"


def demo_store() -> Path:
    """The demo city's store, built once through the CLI (`kpi init`, `kpi demo`)."""
    path = DATA / "demo"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KPI_DB": str(path)}
    for command in ("init", "demo"):
        subprocess.run([sys.executable, "-m", "kpi", command], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    return path


def apptest_pages(store: Path | str, repeat: int, extra_env: dict[str, str] | None = None) -> dict:
    """Every page's AppTest reruns over `store` (a folder or a catalog URL; `extra_env`: its
    data path and S3 settings), in a child process; {page: figures}, and "peak_rss_mib"."""
    env = {**os.environ, **(extra_env or {}), "KPI_DB": str(store), "KPI_WARM_UP": "0",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", APPTEST, str(repeat)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"AppTest child failed: {done.stderr.strip()[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_pages(title: str, pages: dict) -> None:
    pages = dict(pages)
    peak = pages.pop("peak_rss_mib", None)
    base, base_cpu = pages["upload"]["warm"], pages["upload"]["cpu"]
    print(f"\n{title}: AppTest warm rerun (median) against the Upload page "
          f"({base:.3f} s wall, {base_cpu:.3f} s CPU)")
    print(f"  {'page':14s}{'cold':>9s}{'warm':>9s}{'ratio':>8s}{'CPU':>9s}{'ratio':>8s}"
          "  target <= 3x (CPU ratio)")
    for key, run in pages.items():
        ratio, cpu_ratio = run["warm"] / base, run["cpu"] / base_cpu
        print(f"  {key:14s}{run['cold']:8.2f}s{run['warm']:8.3f}s{ratio:7.1f}x"
              f"{run['cpu']:8.3f}s{cpu_ratio:7.1f}x  {'ok' if cpu_ratio <= 3 else 'OVER'}")
    if peak is not None:
        print(f"  AppTest process peak RSS (the dashboard's script runs in it): {peak:.0f} MiB "
              "(target < 1536 MiB)")


# -- the browser -------------------------------------------------------------------------------
def _visible(page, locator, timeout_ms: int = 120_000) -> None:
    locator.first.wait_for(state="visible", timeout=timeout_ms)


def browser_session(store: Path) -> dict:
    """The timings of part 2 over a private copy of `store` (the meeting writes to it)."""
    import psutil
    from browser.conftest import CHROMIUM, CHROMIUM_ARGS, serve_dashboard, wait_idle
    from playwright.sync_api import sync_playwright

    from kpi.i18n import t
    from kpi.review import data_agenda, default_week
    from kpi.store import Store

    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="kinerja-bench-pages-") as folder:
        copy = Path(folder) / "kpi"
        shutil.copytree(store, copy)
        week = default_week(Store(copy))
        charted = sum(bool(item.get("chart") and item["chart"].get("points"))
                      for item in data_agenda(Store(copy), week)["exceptions"])
        images = Path(folder) / "cache" / "charts"
        os.environ["KPI_CACHE_DIR"] = str(Path(folder) / "cache")  # a cold chart cache
        # The server warms up as in production (the tests' conftest, imported for its
        # helpers, turns the warm-up off for the tests' own servers).
        os.environ["KPI_WARM_UP"] = "1"
        started = server_started = time.perf_counter()
        with serve_dashboard(copy, Path(folder)) as url, sync_playwright() as playwright:
            out["server_up"] = time.perf_counter() - started
            server = next(child for child in psutil.Process().children(recursive=True)
                          if "streamlit" in " ".join(child.cmdline()))

            def server_cpu() -> float:
                times = server.cpu_times()
                return times.user + times.system
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.set_default_timeout(180_000)
            started, cpu = time.perf_counter(), server_cpu()
            page.goto(f"{url}/?lang=en")
            wait_idle(page, 180_000)
            out["first_page"] = time.perf_counter() - started
            out["first_page_cpu"] = server_cpu() - cpu
            # The meeting is timed as it meets the server: after the start-up warm-up (begun
            # after the first page) has computed the week's agenda and rendered its charts into
            # the image cache; how long that took from the start is printed. Clicks made during
            # it share the CPU with it; the CLI's cold run below is the pack with no image cached.
            while len(list(images.glob("*.jpg"))) < charted \
                    and time.perf_counter() - server_started < 300:
                time.sleep(0.2)
            out["warm_up_ready"] = time.perf_counter() - server_started
            started, cpu = time.perf_counter(), server_cpu()
            page.goto(f"{url}/review?lang=en&week={week}")
            wait_idle(page, 180_000)
            page.get_by_role("heading", name=f"4. {t('review.section_exceptions', 'en')}").wait_for()
            out["review_open"] = time.perf_counter() - started
            out["review_open_cpu"] = server_cpu() - cpu

            form = page.locator('[data-testid="stExpander"]').filter(
                has_text=t("review.create_action", "en")).first
            form.locator("summary").click()
            form.get_by_label(t("action.title", "en")).fill("Call every booked patient")
            form.get_by_label(t("action.responsible", "en")).fill("dr. Sari")
            started, cpu = time.perf_counter(), server_cpu()
            form.get_by_role("button", name=t("action.save", "en")).click()
            _visible(page, page.get_by_text("Call every booked patient.", exact=False))
            out["create_action"] = time.perf_counter() - started
            wait_idle(page)
            out["create_action_cpu"] = server_cpu() - cpu  # the whole rerun, to the end of the run

            notes = page.locator('[data-testid="stExpander"]').filter(
                has_text=t("review.minutes_for_item", "en")).first
            notes.locator("summary").click()
            notes.get_by_label(t("review.note", "en")).fill("Discussed with the head of unit.")
            started, cpu = time.perf_counter(), server_cpu()
            notes.get_by_role("button", name=t("review.save_item", "en")).click()
            _visible(page, page.get_by_text(t("review.toast_item_saved", "en")))
            out["save_minute"] = time.perf_counter() - started
            wait_idle(page)
            out["save_minute_cpu"] = server_cpu() - cpu  # the whole rerun, to the end of the run

            started, cpu = time.perf_counter(), server_cpu()
            page.get_by_role("button", name=t("review.pack_prepare", "en")).click()
            _visible(page, page.get_by_text(f"The pack of week {week} is ready"))
            out["pack_page"] = time.perf_counter() - started
            wait_idle(page)
            out["pack_page_cpu"] = server_cpu() - cpu  # the whole rerun, to the end of the run

            page.get_by_text(t("review.finalise_confirm", "en")).click()
            wait_idle(page)
            started, cpu = time.perf_counter(), server_cpu()
            page.get_by_role("button", name=t("review.finalise", "en")).click()
            _visible(page, page.get_by_text("✓ Finalised on"))
            out["finalise"] = time.perf_counter() - started
            wait_idle(page)
            out["finalise_cpu"] = server_cpu() - cpu  # the whole rerun, to the end of the run
            browser.close()
            out["rss_mib"] = server.memory_info().rss / 2**20
    return out


def _peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def served_pages_rss(store: Path) -> dict:
    """The real server (warm-up on, a cold chart-image cache) over a private copy of `store`:
    every page opened once in Debian's chromium, each timed to the end of its run; then the
    dashboard's RSS and its peak."""
    import psutil
    from browser.conftest import CHROMIUM, CHROMIUM_ARGS, serve_dashboard, wait_idle
    from playwright.sync_api import sync_playwright

    from ui.registry import PAGES

    out: dict = {"pages": {}}
    with tempfile.TemporaryDirectory(prefix="kinerja-bench-rss-") as folder:
        copy = Path(folder) / "kpi"
        shutil.copytree(store, copy)
        os.environ["KPI_CACHE_DIR"] = str(Path(folder) / "cache")
        with serve_dashboard(copy, Path(folder)) as url, sync_playwright() as playwright:
            server = next(child for child in psutil.Process().children(recursive=True)
                          if "streamlit" in " ".join(child.cmdline()))
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.set_default_timeout(300_000)
            for spec in PAGES:
                started = time.perf_counter()
                page.goto(f"{url}/{spec.key}?lang=en")
                wait_idle(page, 300_000)
                out["pages"][spec.key] = time.perf_counter() - started
            browser.close()
            out["rss_mib"] = server.memory_info().rss / 2**20
            out["peak_mib"] = _peak_rss_mib(server.pid)
    return out


VIEWPORTS = {"desktop": (1366, 768), "tablet": (820, 1180)}
# Part 4's pages, the baseline first: the Upload page is Streamlit and the router alone.
NAVIGATED = ("upload", "overview", "unit", "compare", "satisfaction", "review", "targets",
             "quality", "history")
QUIET_CPU_SHARE = 0.05  # the server counts as quiet below this share of one CPU over a second


def _server_of_children():
    """The `streamlit run` process this benchmark started (a child of this process)."""
    import psutil

    return next(child for child in psutil.Process().children(recursive=True)
                if "streamlit" in " ".join(child.cmdline()))


def _cpu_seconds(process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _browser_cpu_seconds() -> float:
    """The CPU time of every chromium process now running under this one (renderers come and
    go: a difference of two readings is the work of the processes alive at both)."""
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            if "chromium" in child.name():
                total += _cpu_seconds(child)
        except psutil.Error:
            pass  # ended between the listing and the reading
    return total


def _wait_quiet(server, limit: float = 120.0) -> float:
    """Wait until the server has used less than QUIET_CPU_SHARE of a CPU over a second (its
    start-up warm-up done, a page's late work over); the seconds waited. The warm-up starts
    WARM_UP_AFTER_SECONDS after the first page's run: that long is waited first."""
    from ui.data import WARM_UP_AFTER_SECONDS

    started = time.perf_counter()
    time.sleep(WARM_UP_AFTER_SECONDS + 0.5)
    while time.perf_counter() - started < limit:
        before = _cpu_seconds(server)
        time.sleep(1.0)
        if _cpu_seconds(server) - before < QUIET_CPU_SHARE:
            break
    return time.perf_counter() - started


def navigation_times(store: Path | str, repeat: int, pages: list[str],
                     extra_env: dict[str, str] | None = None) -> dict:
    """Navigation to settled in Debian's chromium, the real server (`streamlit run`, warm-up on
    as in production) over `store` (a private copy of a folder store; a catalog URL as it is):
    from `page.goto` until every script run the page asked for has finished and been drawn
    (tests/browser's `wait_idle`: Streamlit's own run state off its WebSocket, every plotly
    chart drawn at its width). Per viewport (VIEWPORTS) in a fresh browser context: each page's
    first open, then `repeat` rounds over every page (warm: median). The very first page (the
    overview, right after the server is up, browser cache empty) is the cold first page. Also
    the server's CPU time per navigation, and its RSS and peak at the end."""
    import statistics

    from browser.conftest import CHROMIUM, CHROMIUM_ARGS, RUN_TRACKER, serve_dashboard, wait_idle
    from playwright.sync_api import sync_playwright

    out: dict = {"viewports": {}}
    with tempfile.TemporaryDirectory(prefix="kinerja-bench-nav-") as folder:
        served = str(store)
        if Path(served).is_dir():
            served = str(Path(folder) / "kpi")
            shutil.copytree(store, served)
        saved = {key: os.environ.get(key) for key in ("KPI_CACHE_DIR", "KPI_WARM_UP")}
        os.environ["KPI_CACHE_DIR"] = str(Path(folder) / "cache")  # a cold chart cache
        os.environ["KPI_WARM_UP"] = "1"  # as in production
        try:
            with serve_dashboard(Path(served), Path(folder), env=extra_env) as url, \
                    sync_playwright() as playwright:
                server = _server_of_children()
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                     args=CHROMIUM_ARGS)

                def timed(page, path: str) -> tuple[float, float, float]:
                    """Wall time, server CPU and chromium CPU of one navigation."""
                    started, cpu = time.perf_counter(), _cpu_seconds(server)
                    drawing = _browser_cpu_seconds()
                    page.goto(f"{url}/{path}")
                    wait_idle(page, 300_000)
                    return (time.perf_counter() - started, _cpu_seconds(server) - cpu,
                            _browser_cpu_seconds() - drawing)

                for number, (name, (width, height)) in enumerate(VIEWPORTS.items()):
                    context = browser.new_context(viewport={"width": width, "height": height},
                                                  locale="en-GB", timezone_id="Asia/Jakarta")
                    context.set_default_timeout(300_000)
                    context.add_init_script(RUN_TRACKER)
                    page = context.new_page()
                    if number == 0:
                        (out["first_page"], out["first_page_cpu"],
                         out["first_page_browser"]) = timed(page, "?lang=en")
                        out["quiet_after_first"] = _wait_quiet(server)
                    first = {key: timed(page, f"{key}?lang=en") for key in pages}
                    warm: dict[str, list[tuple[float, float, float]]] = {key: [] for key in pages}
                    for _ in range(repeat):
                        for key in pages:
                            warm[key].append(timed(page, f"{key}?lang=en"))
                    out["viewports"][name] = {key: {
                        "first": first[key][0], "first_cpu": first[key][1],
                        "warm": statistics.median(run[0] for run in warm[key]),
                        "warm_cpu": statistics.median(run[1] for run in warm[key]),
                        "warm_browser": statistics.median(run[2] for run in warm[key])}
                        for key in pages}
                    context.close()
                browser.close()
                out["rss_mib"] = server.memory_info().rss / 2**20
                out["peak_mib"] = _peak_rss_mib(server.pid)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return out


def print_navigation(title: str, found: dict, baseline: str = "upload") -> None:
    """The navigation times, each warm one as a ratio of the baseline page's in the same
    viewport (wall and server CPU)."""
    print(f"\n{title}: navigation to settled in chromium (page.goto until Streamlit's run is "
          "finished and drawn)")
    print(f"  cold first page (overview, right after the server start): "
          f"{found['first_page']:.2f} s ({found['first_page_cpu']:.2f} s server CPU, "
          f"{found['first_page_browser']:.2f} s chromium CPU)  "
          f"target <= 3 s idle: {'ok' if found['first_page'] <= 3 else 'OVER'}"
          f"  (server quiet {found['quiet_after_first']:.0f} s later)")
    for name, pages in found["viewports"].items():
        base = pages[baseline]
        width = VIEWPORTS[name][0]
        print(f"  {name} ({width} px): baseline {baseline} warm {base['warm']:.2f} s, "
              f"{base['warm_cpu']:.2f} s server CPU")
        print(f"    {'page':14s}{'first':>8s}{'CPU':>7s}{'warm':>8s}{'CPU':>7s}{'ratio':>7s}"
              f"{'CPU ratio':>10s}{'chromium':>9s}  target warm <= 1 s idle")
        for key, run in pages.items():
            ratio = run["warm"] / base["warm"]
            cpu_ratio = run["warm_cpu"] / base["warm_cpu"] if base["warm_cpu"] else float("nan")
            print(f"    {key:14s}{run['first']:7.2f}s{run['first_cpu']:6.2f}s{run['warm']:7.2f}s"
                  f"{run['warm_cpu']:6.2f}s{ratio:6.1f}x{cpu_ratio:9.1f}x"
                  f"{run['warm_browser']:8.2f}s  "
                  f"{'ok' if run['warm'] <= 1 else 'OVER'}")
    print(f"  dashboard RSS afterwards {found['rss_mib']:.0f} MiB, peak {found['peak_mib']:.0f} MiB"
          " (target < 1536 MiB)")


def _run_sampled(command: list[str], env: dict) -> dict:
    """Run `command`; its wall time, its own CPU time and its descendants' (the Chromium that
    kaleido starts: its processes are not all reaped by the CLI, so getrusage misses most of
    them), sampled every 50 ms."""
    import psutil

    started = time.perf_counter()
    process = psutil.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    own = 0.0
    descendants: dict[int, float] = {}
    while process.poll() is None:
        try:
            times = process.cpu_times()
            own = times.user + times.system
            for child in process.children(recursive=True):
                times = child.cpu_times()
                descendants[child.pid] = times.user + times.system
        except psutil.Error:
            pass  # a process ended between listing and reading it
        time.sleep(0.05)
    wall = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()}")
    return {"wall": wall, "cpu": own, "browser_cpu": sum(descendants.values())}


def cli_pack(store: Path, rounds: int = 1) -> dict:
    """The pack from the CLI over a copy of `store`, cold (an empty image cache) then warm,
    `rounds` times (medians)."""
    import statistics

    from kpi.review import default_week
    from kpi.store import Store

    runs: dict[str, list[dict]] = {"cold": [], "warm": []}
    with tempfile.TemporaryDirectory(prefix="kinerja-bench-pack-") as folder:
        copy = Path(folder) / "demo"
        shutil.copytree(store, copy)  # the CLI's store.init() writes; the bench's store is kept
        week = default_week(Store(copy))
        for round_ in range(rounds):
            cache = Path(folder) / f"cache-{round_}"
            env = {**os.environ, "KPI_DB": str(copy), "KPI_CACHE_DIR": str(cache)}
            for label in ("cold", "warm"):
                runs[label].append(_run_sampled(
                    [sys.executable, "-m", "kpi", "review", "--week", week, "--out",
                     str(Path(folder) / "packs"), "--lang", "en"], env))
    return {label: {key: statistics.median(run[key] for run in measured)
                    for key in ("wall", "cpu", "browser_cpu")}
            for label, measured in runs.items()}


def print_cli_pack(pack: dict) -> None:
    for label, what in (("cold", "cold image cache"), ("warm", "warm image cache")):
        run = pack[label]
        print(f"pack from the CLI, {what}: {run['wall']:.1f} s (CPU: CLI {run['cpu']:.1f} s, "
              f"Chromium {run['browser_cpu']:.1f} s) (target < 10 s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-apptest", action="store_true")
    parser.add_argument("--large-rss", action="store_true",
                        help="also open every page in the real server over the large store and "
                             "print the dashboard's RSS")
    parser.add_argument("--cli-pack-only", action="store_true",
                        help="only the pack from the CLI, cold and warm, --repeat times")
    parser.add_argument("--navigation-only", action="store_true",
                        help="only part 4: navigation to settled per page and viewport")
    parser.add_argument("--skip-navigation", action="store_true")
    parser.add_argument("--province", metavar="STORE", default=None,
                        help="also time part 4 (and with --province-apptest part 1) over this "
                             "store (bench_province.py --keep-store's folder)")
    parser.add_argument("--province-apptest", action="store_true")
    parser.add_argument("--pages", default=",".join(NAVIGATED),
                        help="part 4's pages, comma-separated (the first is the baseline)")
    args = parser.parse_args(argv)
    from bench_import import machine

    print(f"machine: {machine()}")
    print(f"before: {load_average()}")
    demo = demo_store()
    if args.cli_pack_only:
        print(f"the pack from the CLI, median of {args.repeat} rounds:")
        print_cli_pack(cli_pack(demo, args.repeat))
        print(f"after: {load_average()}")
        return 0
    if not args.skip_navigation:
        navigated = args.pages.split(",")
        print_navigation(f"demo city ({load_average()})",
                         navigation_times(demo, args.repeat, navigated), navigated[0])
        if args.province:
            print_navigation(f"province store {args.province} ({load_average()})",
                             navigation_times(args.province, args.repeat, navigated),
                             navigated[0])
        print(f"after the navigation runs: {load_average()}")
    if args.province and args.province_apptest:
        print_pages(f"province store ({args.province})", apptest_pages(args.province, args.repeat))
    if args.navigation_only:
        return 0
    large = ENGINE_DATA / "lake"
    if not args.skip_apptest:
        print_pages(f"demo city ({demo})", apptest_pages(demo, args.repeat))
    if not args.skip_large and not args.skip_apptest:
        if not large.exists():
            print("\nno large store: run bench/bench_engine.py first (--events N)")
        else:
            size = (ENGINE_DATA / "bench.size").read_text().split()
            print_pages(f"large store ({int(size[0]):,} events, {int(size[1]):,} responses)",
                        apptest_pages(large, args.repeat))
    print(f"\nafter the AppTest runs: {load_average()}")
    if args.large_rss and large.exists():
        served = served_pages_rss(large)
        size = (ENGINE_DATA / "bench.size").read_text().split()
        print(f"\nreal server over the large store ({int(size[0]):,} events), every page once "
              "(open to the end of its run):")
        for key, seconds in served["pages"].items():
            print(f"  {key:14s}{seconds:7.2f} s")
        print(f"  dashboard RSS afterwards {served['rss_mib']:.0f} MiB, peak "
              f"{served['peak_mib']:.0f} MiB (target < 1536 MiB)")
        print(f"after the large-store server: {load_average()}")
    if not args.skip_browser:
        session = browser_session(demo)
        print("\nreal server over the demo city, Debian's chromium (click to confirmation):")
        for key, label, target in (
                ("server_up", "server start to healthy", None),
                ("first_page", "first page after start (overview)", 5.0),
                ("warm_up_ready", "warm-up done (from the start)", None),
                ("review_open", "review page, first open", None),
                ("create_action", "create an action", 1.0),
                ("save_minute", "save an item's notes", 1.0),
                ("pack_page", "prepare the pack (page)", 10.0),
                ("finalise", "finalise", 1.0)):
            verdict = "" if target is None else (
                f"  target < {target:g} s: {'ok' if session[key] < target else 'OVER'}")
            cpu = session.get(f"{key}_cpu")
            spent = f" ({cpu:.2f} s server CPU)" if cpu is not None else ""
            print(f"  {label:36s}{session[key]:7.2f} s{spent}{verdict}")
        print(f"  dashboard RSS afterwards            {session['rss_mib']:7.0f} MiB")
        print_cli_pack(cli_pack(demo))
        print(f"after the browser runs: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
