"""Two dashboard servers and CLI imports sharing one store on a PostgreSQL catalog, browsed in
Debian's chromium: an import made by the CLI shows in both servers."""

from __future__ import annotations

import pytest

from kpi.store import Store
from tests.browser.conftest import open_app, serve_dashboard
from tests.conftest import EXAMPLE_DIR
from tests.test_shared_store import cli, load_example

pytestmark = [pytest.mark.slow, pytest.mark.serial]


def test_two_dashboard_servers_and_cli_imports_share_one_store(catalog_url, tmp_path, browser):
    load_example(catalog_url, tmp_path / "files")
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
