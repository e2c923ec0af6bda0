"""The router and the guard: roles hold even at a page's direct address, an empty store shows
the start page, and an unknown language or missing message falls back instead of crashing."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_views import no_exceptions, open_view, texts
from streamlit.testing.v1 import AppTest

from kpi.errors import KinerjaError
from ui.registry import PAGES, ROLES, may_open

ROOT = Path(__file__).resolve().parent.parent
RESTRICTED = [page.key for page in PAGES if not may_open("viewer", page)]


def test_every_registered_page_has_its_file():
    assert [page.path for page in PAGES if not (ROOT / page.path).is_file()] == []


def test_the_roles_rank_as_documented():
    assert ROLES == ("viewer", "analyst", "reviewer", "admin")
    assert set(RESTRICTED) == {"review", "upload", "history", "targets", "quality", "users",
                               "audit"}


@pytest.mark.parametrize("page", RESTRICTED)
def test_a_viewer_switching_to_a_restricted_page_is_told_the_role_it_needs(page, example_store,
                                                                           monkeypatch):
    at = open_view(example_store, monkeypatch, page, role="viewer")
    assert [element.value for element in at.exception] == []
    needed = next(spec.role for spec in PAGES if spec.key == page)
    assert texts(at.error) == [
        f"This page needs the {needed} role. You are signed in as viewer; ask an administrator "
        "if you need it."]
    assert texts(at.title) == []  # neither the page nor the overview ran
    assert not at.get("file_uploader") and not at.metric and not at.get("download_button")


@pytest.mark.parametrize("page", RESTRICTED)
def test_a_restricted_page_run_at_its_address_is_stopped_by_its_guard(page, example_store,
                                                                      monkeypatch):
    # A page file served directly (as Streamlit does for a page's URL before its router has
    # run in the process): only the page's own guard stands in the way.
    monkeypatch.setenv("KPI_DB", str(example_store.path))
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    at.session_state["kinerja_role"] = "viewer"
    at.run()
    assert [element.value for element in at.exception] == []
    assert len(at.error) == 1 and at.error[0].value.startswith("This page needs the ")
    assert texts(at.title) == []  # the page itself never ran
    assert not at.get("file_uploader") and not at.button and not at.get("download_button")


def test_an_analyst_may_open_the_analyst_pages(example_store, monkeypatch):
    at = open_view(example_store, monkeypatch, "history", role="analyst")
    assert not any(text.startswith("This page needs") for text in texts(at.error))


def test_the_empty_store_shows_the_start_page_with_the_demo_button(empty_store, monkeypatch):
    at = open_view(empty_store, monkeypatch, role="admin")
    no_exceptions(at)
    assert texts(at.title) == ["Welcome to Kinerja"]
    assert [button.label for button in at.button] == ["Load the demo city"]


def test_a_viewer_on_an_empty_store_is_told_to_ask_an_analyst(empty_store, monkeypatch):
    at = open_view(empty_store, monkeypatch, "unit", role="viewer")
    no_exceptions(at)
    assert texts(at.title) == ["Welcome to Kinerja"]
    assert at.button == [] or [b.label for b in at.button] == []
    assert texts(at.info) == ["Ask an analyst to upload the first data."]


@pytest.mark.slow
def test_the_demo_button_loads_the_demo_city(empty_store, monkeypatch):
    at = open_view(empty_store, monkeypatch, role="admin", timeout=180)
    at.button[0].click()
    at.run()
    no_exceptions(at)
    assert texts(at.title) != ["Welcome to Kinerja"]
    assert len(at.metric) == 8  # the city's tiles over the demo data


def test_an_unknown_language_falls_back_to_the_default(example_store, monkeypatch):
    monkeypatch.setenv("KPI_LANG", "id")
    at = open_view(example_store, monkeypatch, lang="fr")
    no_exceptions(at)
    assert texts(at.title) == ["1 unit tidak memenuhi target"]
    assert at.query_params["lang"] == "id"


def test_an_error_without_a_translation_falls_back_to_its_english_sentence():
    error = KinerjaError("The thing went wrong.", key="no_such_area.no_such_key")
    assert error.localized("id") == "The thing went wrong."
    assert KinerjaError("x", key="error.generic", detail="d").localized("id") == "Terjadi kesalahan: d"
