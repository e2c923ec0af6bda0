"""The router and the guard: roles hold even at a page's direct address, an empty store shows
the start page, an unknown language falls back, and an error speaks from the catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kpi.errors import KinerjaError
from tests.helpers import no_exceptions, open_view, texts
from ui.registry import PAGES, ROLES, may_open

ROOT = Path(__file__).resolve().parent.parent
RESTRICTED = [page.key for page in PAGES if not may_open("viewer", page)]


def test_every_registered_page_has_its_file():
    assert [page.path for page in PAGES if not (ROOT / page.path).is_file()] == []


def test_the_roles_rank_as_documented():
    assert ROLES == ("viewer", "analyst", "reviewer", "admin")
    assert set(RESTRICTED) == {"review", "upload", "history", "targets", "quality", "users",
                               "audit", "mail_log", "posters"}


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


def test_an_error_says_its_catalogue_sentence_in_each_language():
    error = KinerjaError("error.generic", detail="d")
    assert str(error) == "Something went wrong: d"  # the CLI prints the English sentence
    assert error.localized("id") == "Terjadi kesalahan: d"
    with pytest.raises(KeyError):  # a key missing from the catalogue fails loudly
        KinerjaError("no_such_area.no_such_key")


def test_the_pages_directory_mode_is_switched_off_and_a_page_file_runs_through_the_router(
        example_store, monkeypatch):
    """ui/guard.py keeps pages/ under st.navigation by writing Streamlit's private
    `PagesManager.uses_pages_directory`. While it is on (a fresh process, before any run called
    st.navigation), Streamlit runs a requested pages/ file directly, without dashboard.py.
    This fails loudly when a Streamlit upgrade renames the flag, drops the mode (then the hack
    can go) or stops honouring it."""
    from streamlit.runtime.pages_manager import PagesManager

    from ui.guard import ROUTED_KEY

    assert "uses_pages_directory" in vars(PagesManager), "Streamlit renamed the flag ui.guard sets"
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
    PagesManager(str(ROOT / "dashboard.py"))
    assert PagesManager.uses_pages_directory is True, "Streamlit no longer has the pages/ mode"

    # AppTest starts every test in that mode; asking for pages/unit.py before the first run is
    # what a link to /unit does right after a restart.
    monkeypatch.setenv("KPI_DB", str(example_store.path))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90)
    at.query_params["lang"] = "en"
    at.query_params["unit"] = "PKM-1"
    at.session_state["kinerja_role"] = "viewer"
    at.switch_page("pages/unit.py")
    at.run()
    no_exceptions(at)
    assert PagesManager.uses_pages_directory is False
    assert at.session_state[ROUTED_KEY], "the page ran without the router (dashboard.py)"
    assert [title for title in texts(at.title) if "PKM-1" in title or "Puskesmas" in title]
