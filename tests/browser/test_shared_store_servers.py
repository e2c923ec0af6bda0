"""The store shared for real, browsed in Debian's chromium: on one machine, the dashboard, a
reader and CLI imports at once on the embedded store; on several, two dashboard servers and CLI
imports on a PostgreSQL catalog, an import showing in both servers."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from kpi.i18n import t
from kpi.store import Store
from tests.browser.conftest import open_app, serve_dashboard
from tests.conftest import EXAMPLE_DIR, serial
from tests.test_shared_store import cli, load_example_here
from ui.registry import PAGES

pytestmark = [pytest.mark.slow, *serial("services")]


def assert_every_page_shows_data(page, url: str, catalog_url: str) -> None:
    """Every page of the registry opens on the server at `url` with the store's data: no
    error, no traceback, not the empty store's start page, and no trace of the catalog's
    address or credentials."""
    host_port = url_parts(catalog_url)
    for spec in PAGES:
        open_app(page, f"{url}/{spec.key}?lang=en")
        assert page.locator('[data-testid="stException"]').count() == 0, spec.key
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0, spec.key
        assert page.locator("[data-testid=\"stMain\"] :is(h1, h2)").count() >= 1, spec.key
        text = page.locator('[data-testid="stMain"]').inner_text()
        assert t("start.title", "en") not in text, spec.key
        assert not any(secret in text for secret in host_port), spec.key


def url_parts(catalog_url: str) -> list[str]:
    """What no page may show of a catalog URL: host and port, user, password."""
    parts = urlsplit(catalog_url)
    return [f"{parts.hostname}:{parts.port}", str(parts.username), unquote(parts.password or "")]


def test_two_dashboard_servers_and_cli_imports_share_one_store(catalog_url, tmp_path, new_page):
    """Two servers on one PostgreSQL catalog, signed in to it as a role that is not a
    superuser, with a password, through the URL alone: every page of both shows the data, and
    an import by the CLI shows in both. (Pages come from `new_page`, whose contexts install
    the run tracker that open_app waits on; the second page shares nothing with the first.)"""
    load_example_here(catalog_url, tmp_path / "files")
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    with serve_dashboard(catalog_url, tmp_path / "first") as first, \
            serve_dashboard(catalog_url, tmp_path / "second") as second:
        pages = []
        for url in (first, second):
            page = new_page()
            assert_every_page_shows_data(page, url, catalog_url)
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
        example_store, tmp_path, new_page):
    """One machine: the dashboard served and browsed in chromium, a reader process and a loop
    of CLI imports at once; every import succeeds and no page shows an error."""
    from tests.test_concurrency import reader_beside

    path = example_store.path
    with reader_beside(path, tmp_path) as seen, serve_dashboard(path, tmp_path) as url:
        page = new_page()
        for _ in range(3):
            done = cli(path, "ingest", "events", str(EXAMPLE_DIR / "events.csv"))
            assert done.returncode == 0, done.stderr
            for view in ("overview", "history", "unit?unit=PKM-1"):
                open_app(page, f"{url}/{view}")
                assert page.locator('[data-testid="stException"]').count() == 0, view
                assert page.locator('[data-testid="stAlertContentError"]').count() == 0, view
        open_app(page, f"{url}/history")
        # The history table's cells (glide data grid) reach the page's accessible grid after
        # the run has finished, when the grid is drawn: wait for them.
        page.get_by_text("events.csv").first.wait_for(state="attached")
        page.close()
    assert seen["reads"] > 0 and seen["torn"] == 0
    assert Store(path).query_value(
        "SELECT count(*) FROM batches WHERE kind = 'events' AND status = 'committed'") == 4
