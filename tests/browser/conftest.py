"""The browser harness: the real dashboard served by `streamlit run`, driven in Debian's chromium.

Fixtures:
- `app_store`: the contract's worked example in a store file of this session;
- `app_url`: `streamlit run app.py` (the dashboard and the public pages) on a free port over that
  store (KPI_DB), up and healthy;
- `browser`: Debian's /usr/bin/chromium through playwright (never a downloaded browser);
- `page`: a page at 1366×768 with no other test's cookies or storage; `new_page(width,
  height)` for other viewports (see `new_page`);
- `screenshot(page, name)`: a full-page PNG in tests/artifacts/ (gitignored) to look at.
Helpers: `open_app(page, url)` and `wait_idle(page)` wait until the script runs the page asked
for have finished and been drawn (Streamlit's own messages, never a fixed sleep).
Every test here is marked `browser`; without chromium they are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.conftest import serial
from tests.services import free_port, served

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
DESKTOP = (1366, 768)
TABLET = (820, 1180)
RUN_TIMEOUT_MS = 60_000
# wait_idle looks at the page every POLL_MS: Playwright's default, every animation frame, keeps
# the page's renderer busy the whole wait (~6 times the CPU) on a machine that is running the
# script the test waits for.
POLL_MS = 100

# Streamlit's own account of its script runs, read off its WebSocket in the page (installed in
# every page before the app's scripts): the frontend asks for a run with a BackMsg
# `rerun_script` (field 11; a file upload first sends `file_urls_request`, 16), and the server
# answers every run with ForwardMsg `new_session` (field 4) when it starts and
# `script_finished` (field 6, with its status) when it ends. A run that was asked for has
# finished when a `new_session` came after the last request and a `script_finished` after
# that `new_session` (other than "finished early for a rerun", status 2, whose rerun follows).
# Only the top-level field of each message is read (a protobuf tag is a varint).
RUN_TRACKER = """
(() => {
  const runs = {seq: 0, asked: 0, uploading: 0, started: 0, finished: 0};
  window.__kinerjaRuns = runs;
  const topField = (data) => {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data)
      : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : null;
    if (!bytes) return [0, 0];
    let at = 0;
    const varint = () => {
      let value = 0, scale = 1, byte;
      do { byte = bytes[at++]; value += (byte & 0x7f) * scale; scale *= 128; }
      while (byte & 0x80 && at < bytes.length);
      return value;
    };
    while (at < bytes.length) {
      const tag = varint(), field = Math.floor(tag / 8), wire = tag % 8;
      if (field > 2) return [field, wire === 0 ? varint() : 0];  // past hash (1), metadata (2)
      if (wire === 0) varint();
      else if (wire === 2) { const length = varint(); at += length; }  // varint() moves `at`
      else if (wire === 1) at += 8; else if (wire === 5) at += 4; else return [0, 0];
    }
    return [0, 0];
  };
  const Native = window.WebSocket;
  class TrackedWebSocket extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const [field, value] = topField(event.data);
        if (field === 4) runs.started = ++runs.seq;
        else if (field === 6 && value !== 2) runs.finished = ++runs.seq;
      });
    }
    send(data) {
      const [field] = topField(data);
      if (field === 11) runs.asked = ++runs.seq;
      else if (field === 16) runs.uploading = ++runs.seq;
      return super.send(data);
    }
  }
  window.WebSocket = TrackedWebSocket;
})();
"""

# The page is idle: every run asked for has started and finished (RUN_TRACKER), Streamlit
# shows itself connected and not running, no element is still a skeleton, and every visible
# plotly chart has been drawn at its container's width (plotly draws after the run, and again
# after a resize).
IDLE = """() => {
  const runs = window.__kinerjaRuns;
  if (!runs || runs.started <= Math.max(runs.asked, runs.uploading)
      || runs.finished <= runs.started) return false;
  const app = document.querySelector('[data-test-script-state]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning'
      || app.getAttribute('data-test-connection-state') !== 'CONNECTED'
      || document.querySelector('[data-testid="stSkeleton"]')) return false;
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!chart.getClientRects().length) continue;  // not shown (a closed tab or expander)
    const plot = chart.querySelector('.js-plotly-plot');
    if (!plot || !plot._fullLayout || !plot.querySelector('.main-svg')) return false;
    if (Math.abs(plot._fullLayout.width - plot.getBoundingClientRect().width) > 1) return false;
  }
  return true;
}"""

# No CSS transition or animation is running in the element `selector` names (the sidebar
# sliding open or closed).
SETTLED = """(selector) => {
  const element = document.querySelector(selector);
  return !element || element.getAnimations({subtree: true}).length === 0;
}"""


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder `browser` (select with -m browser, leave out with
    -m 'not browser') and serial("browser") (each serves the app on a port and waits on it, so
    `make test` runs them one after the other on one worker), unless its module names another
    group."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if item.get_closest_marker("xdist_group") is None:
                for mark in serial("browser"):
                    item.add_marker(mark)


@pytest.fixture(scope="session")
def app_store(_example_store_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the worked example's store for the served app (the app only reads it)."""
    path = tmp_path_factory.mktemp("browser") / "kpi"
    shutil.copytree(_example_store_file, path)
    return path


@contextmanager
def serve_dashboard(store: Path, log_dir: Path, *, port: int | None = None,
                    extra_args: Sequence[str] = (), address: str = "127.0.0.1",
                    env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `streamlit run app.py` (the dashboard and web/'s public pages, as `make run`) over
    `store` on a free port (or `port`), with `extra_args` (e.g. `--secrets.files PATH`) and
    `env` (more environment variables); yield its URL, then stop it."""
    port = port or free_port()
    log_path = log_dir / "server.log"
    env = {**os.environ, "KPI_DB": str(store), "KPI_LANG": "en",
           "KPI_DEFAULT_ROLE": "admin", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
           **(env or {})}
    command = [sys.executable, "-m", "streamlit", "run", "app.py",
               "--server.headless", "true", "--server.port", str(port),
               *(["--server.address", address] if address else []),
               "--server.fileWatcherType", "none", *extra_args]
    url = f"http://127.0.0.1:{port}"
    with served(command, f"{url}/_stcore/health", log_path, cwd=ROOT, env=env):
        yield url


@pytest.fixture(scope="session")
def app_url(app_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of the dashboard served over `app_store`; stopped after the session."""
    with serve_dashboard(app_store, tmp_path_factory.mktemp("streamlit")) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _new_context(browser):
    context = browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]},
                                  locale="en-GB", timezone_id="Asia/Jakarta")
    context.set_default_timeout(RUN_TIMEOUT_MS)
    context.add_init_script(RUN_TRACKER)
    return context


@pytest.fixture(scope="session")
def _reused_context(browser):
    """One browser context that the tests of a worker take turns in, emptied after each test:
    it keeps the HTTP cache, so the dashboard's scripts are fetched and compiled once per
    worker rather than once per test (about 2 s of CPU each)."""
    context = _new_context(browser)
    yield context
    context.close()


@pytest.fixture
def new_page(browser, _reused_context) -> Iterator[Callable[..., object]]:
    """`new_page(width, height)`: a page with no cookies or storage from any other test. The
    first page of a test opens in the worker's reused context, emptied of the test before's
    cookies and storage; every further page of the same test opens in a context of its own, so
    that two pages of one test share nothing (a copied link opened "in a fresh browser")."""
    contexts: list = []
    opened: list = []

    def make(width: int = DESKTOP[0], height: int = DESKTOP[1]):
        context = _reused_context
        if opened:  # a further page of the same test: a context of its own
            context = _new_context(browser)
            contexts.append(context)
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        opened.append(page)
        return page

    yield make
    for context in contexts:
        context.close()
    for page in _reused_context.pages:
        with suppress(Exception):  # a page on about:blank or mid-navigation has nothing stored
            page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
        page.close()
    _reused_context.clear_cookies()


@pytest.fixture
def page(new_page):
    return new_page(*DESKTOP)


def wait_idle(page, timeout_ms: int = RUN_TIMEOUT_MS) -> None:
    """Wait until every script run the page has asked for has finished and been drawn (see
    RUN_TRACKER and IDLE): after opening a page, a click, a choice or an upload. An
    interaction that asks for no run (a tab, an expander) finds the page idle at once."""
    page.wait_for_function(IDLE, timeout=timeout_ms, polling=POLL_MS)


def wait_settled(page, selector: str, timeout_ms: int = RUN_TIMEOUT_MS) -> None:
    """Wait until no transition or animation runs in `selector` (a sidebar sliding)."""
    page.wait_for_function(SETTLED, arg=selector, timeout=timeout_ms, polling=POLL_MS)


def open_app(page, url: str) -> None:
    page.goto(url)
    # Without RUN_TRACKER wait_idle could never see a run finish: fail now, saying why, rather
    # than after RUN_TIMEOUT_MS.
    if not page.evaluate("() => Boolean(window.__kinerjaRuns)"):
        raise AssertionError(
            "this page has no run tracker (RUN_TRACKER): open pages with the `page` or "
            "`new_page` fixtures (their contexts install it), not browser.new_page()")
    wait_idle(page)


def take_screenshot(page, name: str) -> Path:
    """Save a full-page PNG as tests/artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Streamlit scrolls inside its main section, not the document: grow the viewport to the
    # section's height for the shot, then put it back.
    viewport = page.viewport_size
    height = page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        return main ? main.scrollHeight : document.documentElement.scrollHeight;
    }""")
    page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], height)})
    wait_idle(page)  # plotly lays the charts out again for the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(viewport)
    return path


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """`screenshot(page, name)`: see take_screenshot."""
    return take_screenshot


@pytest.fixture
def goto(app_url: str) -> Callable[..., None]:
    """`goto(page, "unit?unit=PKM-1")`: open a path of the app and wait for its run to end."""

    def open_path(page, path: str = "") -> None:
        open_app(page, f"{app_url}/{path.lstrip('/')}")

    return open_path


@pytest.fixture
def idle() -> Callable[..., None]:
    """`idle(page)`: wait until the script run that an interaction started has finished."""
    return wait_idle
