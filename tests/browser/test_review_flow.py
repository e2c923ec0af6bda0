"""A short management review meeting in a real browser: open the review of a week, raise an
action from an exception, finalise, and keep screenshots (tests/artifacts/review-*.png).

The meeting writes (an action, minutes, a finalised record), so it runs against a dashboard of
its own over a private copy of the worked example: the shared served store stays unchanged.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kpi import review
from kpi.i18n import t
from kpi.store import Store

ROOT = Path(__file__).resolve().parents[2]
WEEK = "2026-W10"
ACTION = "Phone every booked patient the day before"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def meeting_app(_example_store_file: Path, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """(url, store path) of a dashboard served over a private copy of the worked example."""
    store = tmp_path_factory.mktemp("review-browser") / "kpi.duckdb"
    shutil.copyfile(_example_store_file, store)
    port = _free_port()
    log_path = store.with_name("server.log")
    env = {**os.environ, "KPI_DB": str(store), "KPI_LANG": "en", "KPI_DEFAULT_ROLE": "admin",
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    command = [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless",
               "true", "--server.port", str(port), "--server.address", "127.0.0.1",
               "--server.fileWatcherType", "none"]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start: {log_path.read_text(errors='replace')}")
            time.sleep(0.3)
        yield url, store
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def test_a_short_review_meeting(page, meeting_app, idle, screenshot):
    url, store_path = meeting_app
    page.goto(f"{url}/review?week={WEEK}&lang=en")
    idle(page)
    page.get_by_role("heading", name=f"4. {t('review.section_exceptions', 'en')}").wait_for()
    screenshot(page, "review-agenda")

    # Raise an action from the first exception.
    exception = page.locator('[data-testid="stExpander"]').filter(
        has_text=t("review.create_action", "en")).first
    exception.locator("summary").click()
    exception.get_by_label(t("action.title", "en")).fill(ACTION)
    exception.get_by_label(t("action.responsible", "en")).fill("dr. Sari")
    exception.get_by_role("button", name=t("action.save", "en")).click()
    idle(page)
    actions = page.locator('[data-testid="stDataFrame"]').first
    actions.wait_for()
    stored = review.list_actions(Store(store_path))
    assert [(a["title"], a["responsible"], a["raised_week"]) for a in stored] == [
        (ACTION, "dr. Sari", WEEK)]

    # Attendees, then finalise.
    page.get_by_role("textbox", name=t("review.attendees", "en")).fill("Wali Kota\nKepala Dinas Kesehatan")
    page.get_by_role("button", name=t("review.save_minutes", "en")).click()
    idle(page)
    page.get_by_text(t("review.finalise_confirm", "en")).click()
    idle(page)
    page.get_by_role("button", name=t("review.finalise", "en")).click()
    idle(page)
    page.get_by_text("✓ Finalised on").first.wait_for()
    assert page.get_by_role("button", name=t("action.save", "en")).count() == 0
    screenshot(page, "review-finalised")
    record = review.load_record(Store(store_path), WEEK)
    assert record["minutes"]["attendees"] == ["Wali Kota", "Kepala Dinas Kesehatan"]
    assert [a["title"] for a in record["agenda"]["new_actions"]] == [ACTION]
