"""The store shared for real, browsed in Debian's chromium: on one machine, the dashboard, a
reader and CLI imports at once on the embedded store; on several, two dashboard servers and CLI
imports on a PostgreSQL catalog, an import showing in both servers."""

from __future__ import annotations

import pytest

from kpi.store import Store
from tests.browser.conftest import open_app, serve_dashboard
from tests.conftest import EXAMPLE_DIR, serial
from tests.test_shared_store import cli, load_example_here

pytestmark = [pytest.mark.slow, *serial("services")]


def test_two_dashboard_servers_and_cli_imports_share_one_store(catalog_url, tmp_path, browser):
    load_example_here(catalog_url, tmp_path / "files")
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    with serve_dashboard(catalog_url, tmp_path / "first") as first, \
            serve_dashboard(catalog_url, tmp_path / "second") as second:
        pages = []
        for url in (first, second):
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            open_app(page, f"{url}/history?lang=en")
            pages.append(page)
        renamed = tmp_path / "events-from-the-queue-machine.csv"
        renamed.write_bytes((EXAMPLE_DIR / "events.csv").read_bytes())
        for _ in range(3):
            done = cli(catalog_url, "ingest", "events", str(renamed))
            assert done.returncode == 0, done.stderr
        for page, url in zip(pages, (first, second), strict=True):
            open_app(page, f"{url}/history?lang=en")
            # The history table's cells (glide data grid) are in the page's accessible grid.
            page.get_by_text("events-from-the-queue-machine.csv").first.wait_for(
                state="attached", timeout=30_000)
            page.close()
    assert Store(catalog_url).query_value("SELECT count(*) FROM batches") == 8


def test_the_embedded_store_takes_cli_imports_while_the_dashboard_is_browsed(
        example_store, tmp_path, browser):
    """One machine: the dashboard served and browsed in chromium, a reader process and a loop
    of CLI imports at once; every import succeeds and no page shows an error."""
    from tests.test_concurrency import reader_beside

    path = example_store.path
    with reader_beside(path, tmp_path) as seen, serve_dashboard(path, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        for _ in range(3):
            done = cli(path, "ingest", "events", str(EXAMPLE_DIR / "events.csv"))
            assert done.returncode == 0, done.stderr
            for view in ("overview", "history", "unit?unit=PKM-1"):
                open_app(page, f"{url}/{view}")
                assert page.locator('[data-testid="stException"]').count() == 0, view
                assert page.locator('[data-testid="stAlertContentError"]').count() == 0, view
        open_app(page, f"{url}/history")
        assert page.get_by_text("events.csv").count() >= 1
        page.close()
    assert seen["reads"] > 0 and seen["torn"] == 0
    assert Store(path).query_value(
        "SELECT count(*) FROM batches WHERE kind = 'events' AND status = 'committed'") == 4
