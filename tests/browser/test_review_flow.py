"""A short management review meeting in a real browser: open the review of a week, raise an
action from an exception, finalise, and keep screenshots (tests/artifacts/review-*.png).

The meeting writes (an action, minutes, a finalised record), so it runs against a dashboard of
its own over a private copy of the worked example: the shared served store stays unchanged.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kpi import review
from kpi.i18n import t
from kpi.store import Store
from tests.browser.conftest import serve_dashboard

ROOT = Path(__file__).resolve().parents[2]
WEEK = "2026-W10"
ACTION = "Phone every booked patient the day before"


@pytest.fixture(scope="module")
def meeting_app(_example_store_file: Path, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """(url, store path) of a dashboard served over a private copy of the worked example: the
    meeting writes to it, and the shared browser store must stay unchanged."""
    folder = tmp_path_factory.mktemp("review-browser")
    store = folder / "kpi"
    shutil.copytree(_example_store_file, store)
    with serve_dashboard(store, folder) as url:
        yield url, store


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
    # The finalised page replaces the forms once its rerun ends (stale elements linger until
    # then on a busy machine): wait for them to go rather than look once.
    expect(page.get_by_role("button", name=t("action.save", "en"))).to_have_count(
        0, timeout=60_000)
    screenshot(page, "review-finalised")
    record = review.load_record(Store(store_path), WEEK)
    assert record["minutes"]["attendees"] == ["Wali Kota", "Kepala Dinas Kesehatan"]
    assert [a["title"] for a in record["agenda"]["new_actions"]] == [ACTION]
