"""The Survey posters page (issue 24): for analysts and admins, each unit's form address, its
poster as PDF (one unit or every unit), and replacing the address."""

from __future__ import annotations

import pypdfium2

from kpi.store import Store
from tests.helpers import no_exceptions, open_view, run, texts


def current_token(store: Store, unit: str) -> str:
    return store.query_value("SELECT token FROM survey_links WHERE unit_code = ? "
                             "AND revoked_at IS NULL", [unit])


def test_an_analyst_sees_the_address_and_downloads_the_poster(example_store, monkeypatch):
    monkeypatch.setenv("KPI_BASE_URL", "https://skm.medan.example")
    at = open_view(example_store, monkeypatch, "posters", lang="id", role="analyst")
    no_exceptions(at)
    assert texts(at.header) == ["Poster survei SKM"]
    [unit] = at.selectbox
    assert unit.options == ["Dinas Kesehatan Contoh (DINKES)", "Disdukcapil Contoh (DUKCAPIL)",
                            "Puskesmas Contoh Satu (PKM-1)", "Puskesmas Contoh Dua (PKM-2)"]
    token = current_token(example_store, "DINKES")
    assert [code.value for code in at.code] == [f"https://skm.medan.example/skm/{token}"]
    labels = [button.label for button in at.get("download_button")]
    assert labels == ["Unduh poster Dinas Kesehatan Contoh (PDF, A4)",
                      "Unduh semua poster (4 unit, PDF, A4)"]
    # The unit chosen, in A5: its own address.
    at.selectbox[0].set_value("PKM-2")
    at.segmented_control[0].set_value("A5")
    run(at)
    assert [code.value for code in at.code] == [
        f"https://skm.medan.example/skm/{current_token(example_store, 'PKM-2')}"]
    assert at.get("download_button")[0].label == (
        "Unduh poster Puskesmas Contoh Dua (PDF, A5)")


def test_the_poster_pdf_the_page_offers(example_store, tmp_path):
    from kpi import posters, survey_links

    links = survey_links.links(example_store, ["PKM-1", "PKM-2"], who="tests")
    path = tmp_path / "all.pdf"
    path.write_bytes(posters.posters_pdf(links, "A4"))
    document = pypdfium2.PdfDocument(path)
    assert len(document) == 2 and round(document[0].get_width() / 72 * 25.4) == 210


def test_replacing_the_address_asks_first_and_shows_the_new_one(example_store, monkeypatch):
    at = open_view(example_store, monkeypatch, "posters", lang="en", role="admin")
    old = current_token(example_store, "DINKES")
    [replace] = [b for b in at.button if b.label == "Replace the form address"]
    assert replace.disabled  # not before the box is ticked
    at.checkbox[0].check()
    run(at)
    [replace] = [b for b in at.button if b.label == "Replace the form address"]
    replace.click()
    run(at)
    no_exceptions(at)
    new = current_token(example_store, "DINKES")
    assert new != old
    [done] = texts(at.success)
    assert done.startswith("New address of Dinas Kesehatan Contoh: ") and new in done
    assert at.checkbox[0].value is False
    assert at.code[0].value.endswith(f"/skm/{new}")


def test_a_viewer_may_not_open_it(example_store, monkeypatch):
    at = open_view(example_store, monkeypatch, "posters", lang="en", role="viewer")
    assert at.error and "needs the analyst role" in at.error[0].value
    assert not at.code
