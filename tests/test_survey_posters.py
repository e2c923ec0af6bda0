"""`survey link|revoke|posters` and `publish` (issue 24, contract §3) through the CLI's main(),
and the posters' QR codes read back from the printed page with a real decoder (zxing-cpp on the
PDF rendered by pypdfium2)."""

from __future__ import annotations

import json
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp

from kpi.__main__ import main
from kpi.store import Store

pytestmark = pytest.mark.usefixtures("cli_in_english")  # lines compared with English text


@pytest.fixture
def cli(example_store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    monkeypatch.setenv("KPI_DB", example_store.path)
    monkeypatch.setenv("KPI_BASE_URL", "https://skm.medan.example/")

    def run(*argv: str) -> tuple[int, str, str]:
        status = main(list(argv))
        out, err = capsys.readouterr()
        return status, out, err

    return run


def decoded(pdf: Path) -> list[str]:
    """The text of every QR code on every page of `pdf`, page by page."""
    document = pypdfium2.PdfDocument(pdf)
    texts = []
    for page in document:
        image = page.render(scale=2).to_pil()
        texts.append(" ".join(code.text for code in zxingcpp.read_barcodes(image)))
    document.close()
    return texts


def test_link_is_stable_until_revoked(cli, example_store: Store) -> None:
    status, first, _ = cli("survey", "link", "PKM-1")
    assert status == 0 and first.startswith("https://skm.medan.example/skm/")
    assert cli("survey", "link", "PKM-1")[1] == first  # the same address again
    status, revoked, _ = cli("survey", "revoke", "PKM-1")
    assert status == 0 and "the old address no longer works" in revoked
    status, second, _ = cli("survey", "link", "PKM-1")
    assert second != first and second.strip() in revoked
    assert example_store.query_value(
        "SELECT count(*) FROM survey_links WHERE unit_code = 'PKM-1' AND revoked_at IS NULL") == 1
    actions = [row[0] for row in example_store.query_rows(
        "SELECT action FROM audit_log WHERE object = 'unit PKM-1' ORDER BY seq")]
    assert actions == ["survey.link", "survey.revoke"]
    status, _, err = cli("survey", "link", "NOPE")
    assert status == 2 and err.strip() == "Unknown unit: NOPE."


def test_posters_carry_the_form_address_in_their_qr_code(cli, tmp_path: Path) -> None:
    status, out, _ = cli("survey", "posters", "--out", str(tmp_path), "--unit", "PKM-1,PKM-2",
                         "--size", "A5")
    assert status == 0 and out.strip() == f"3 posters written to {tmp_path}."
    urls = [cli("survey", "link", code)[1].strip() for code in ("PKM-1", "PKM-2")]
    assert decoded(tmp_path / "poster-PKM-1-A5.pdf") == [urls[0]]
    assert decoded(tmp_path / "posters-A5.pdf") == urls
    page = pypdfium2.PdfDocument(tmp_path / "poster-PKM-1-A5.pdf")[0]
    assert round(page.get_width() / 72 * 25.4) == 148  # A5 portrait, in millimetres
    text = " ".join(page.get_textpage().get_text_range().split())
    assert "Puskesmas" in text and "skm.medan.example/skm/" in text
    assert "Pindai kode ini" in text and "Scan the code" in text
    status, _, err = cli("survey", "posters", "--out", str(tmp_path), "--size", "A3")
    assert status == 2 and err.strip() == "The poster size must be A4 or A5."


def test_publish_on_off_and_list(cli, example_store: Store) -> None:
    assert cli("publish", "--list") == (0, "No unit is published yet.\n", "")
    assert cli("publish", "PKM-1,DINKES")[1] == "Published: PKM-1, DINKES.\n"
    assert cli("publish", "PKM-1")[1] == "Nothing changed.\n"
    assert cli("publish", "DINKES", "--off")[1] == "No longer published: DINKES.\n"
    status, out, _ = cli("publish", "--list", "--json")
    assert status == 0 and [row["unit_code"] for row in json.loads(out)] == ["PKM-1"]
    assert cli("publish", "PKM-1,NOPE")[0] == 2
    assert example_store.query_rows(
        "SELECT action, object FROM audit_log WHERE action LIKE 'publish.%' ORDER BY seq") == [
        ("publish.on", "PKM-1, DINKES"), ("publish.off", "DINKES")]
