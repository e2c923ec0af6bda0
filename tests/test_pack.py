"""The review pack (kpi/pack.py) for a fixture week of the worked example, produced headlessly
by `python -m kpi review`: the PDF's text (pypdf) and the workbook (openpyxl) hold the exception
units with their values and targets and the open actions; the HTML is one self-contained file;
an action raised in week 1 is in week 2's pack until it is closed."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from kpi import pack, review
from kpi.__main__ import main
from kpi.i18n import t
from kpi.vocabulary import KPIS
from tests.conftest import one_worker

pytestmark = one_worker("pack_files")  # the pack the CLI writes, once

WEEK_1, WEEK_2, WEEK_3 = "2026-W11", "2026-W12", "2026-W13"
# Week 12's red statuses in the worked example (expected/kpis_week.json, 2026-03-16).
EXCEPTIONS = {
    ("Puskesmas Contoh Satu", "service_time_median"): ("27.0 min", "22.0 min", 26.966666666666665),
    ("Puskesmas Contoh Satu", "abandon_rate"): ("11.5%", "10.0%", 11.538461538461538),
    ("Puskesmas Contoh Dua", "abandon_rate"): ("13.2%", "10.0%", 13.157894736842104),
    ("Dinas Kesehatan Contoh", "abandon_rate"): ("11.1%", "10.0%", 11.11111111111111),
}
CARRIED = "Call back booked patients the day before"
RAISED = "Second registration counter on Mondays"


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


def sheet_rows(data: bytes, name: str) -> list[dict]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book[name]
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.freeze_panes == "A2"  # the header stays in view
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture(scope="module")
def pack_files(_example_store_file: Path, tmp_path_factory) -> dict[str, bytes]:
    """Week 12's pack in English, written by the CLI, with an action carried from week 11 and
    one raised in week 12, and minutes; the review is finalised first."""
    folder = tmp_path_factory.mktemp("pack")
    db = folder / "kpi"
    shutil.copytree(_example_store_file, db)
    from kpi.store import Store

    store = Store(db, create=True)
    review.create_action(store, WEEK_1, title=CARRIED, unit_code="PKM-2",
                         responsible="dr. Sari", due_date=dt.date(2026, 3, 20),
                         kpi="abandon_rate", by="tests")
    review.create_action(store, WEEK_2, title=RAISED, unit_code="PKM-1",
                         responsible="Budi Santoso", due_date=dt.date(2026, 4, 3),
                         kpi="service_time_median", item_key="exception:PKM-1:service_time_median",
                         by="tests")
    review.save_minutes(store, WEEK_2, attendees="Wali Kota\nKadis Kesehatan",
                        decisions="Pilot reminder calls.", by="tests")
    review.finalise(store, WEEK_2, by="chair")
    out = folder / "out"
    assert main(["--db", str(db), "review", "--week", WEEK_2, "--out", str(out),
                 "--lang", "en"]) == 0
    return {path.suffix: path.read_bytes() for path in out.iterdir()}


def test_the_cli_writes_three_files(pack_files, capsys):
    assert set(pack_files) == {".pdf", ".xlsx", ".html"}
    assert pack_files[".pdf"].startswith(b"%PDF")


def test_the_pdf_names_every_exception_with_value_and_target(pack_files):
    text = pdf_text(pack_files[".pdf"])
    assert "Pemerintah Kota Medan" in text and "Week 12 of 2026" in text
    assert "16 Mar 2026 – 22 Mar 2026" in text
    for (unit, kpi), (value, target, _) in EXCEPTIONS.items():
        name = t(f"kpi.{kpi}.name", "en")
        assert re.search(f"{re.escape(unit)} {re.escape(name)} {re.escape(value)} "
                         f"{re.escape(target)} ✕ Off target", text), (unit, kpi)
    assert "Final record, finalised on" in text and "Wali Kota, Kadis Kesehatan" in text


def test_the_pdf_shows_every_exception_chart_as_a_jpeg(pack_files):
    # WeasyPrint lists every image in each page's resources: one per name
    images = list({image.name: image for page in PdfReader(io.BytesIO(pack_files[".pdf"])).pages
                   for image in page.images}.values())
    assert len(images) == len(EXCEPTIONS)  # one control chart per exception
    assert all(image.data[:2] == b"\xff\xd8" for image in images)  # embedded as they are
    assert all(image.image.size == (round(pack.CHART_WIDTH * pack.CHART_SCALE),
                                    round(pack.CHART_HEIGHT * pack.CHART_SCALE))
               for image in images)


def test_the_pdf_lists_the_open_actions(pack_files):
    text = pdf_text(pack_files[".pdf"])
    assert CARRIED in text and RAISED in text
    assert "dr. Sari" in text and "Budi Santoso" in text
    assert "⚠ Overdue" in text  # due 20 March, still open at the review of week 12


def test_the_workbook_holds_exceptions_actions_scorecard_and_skm(pack_files):
    data = pack_files[".xlsx"]
    exceptions = sheet_rows(data, "Exceptions")
    found = {(row["Unit"], kpi): row for row in exceptions
             for kpi in KPIS if row["Indicator"] == t(f"kpi.{kpi}.name", "en")}
    for key, (_, _, value) in EXCEPTIONS.items():
        assert found[key]["Value"] == pytest.approx(value, abs=1e-9)
        assert found[key]["Status"] == "✕ Off target"
    assert found[("Puskesmas Contoh Satu", "service_time_median")]["Target"] == 22.0
    actions = {row["Action"]: row for row in sheet_rows(data, "Actions")}
    assert actions[CARRIED]["Status"] == "Open" and actions[CARRIED]["Overdue"] == "Overdue"
    assert actions[RAISED]["Responsible"] == "Budi Santoso"
    assert actions[RAISED]["Due"] == dt.datetime(2026, 4, 3)
    scorecard = sheet_rows(data, "Scorecard")
    assert len(scorecard) == 5 * 8
    skm = sheet_rows(data, "SKM")
    assert {row["Unit code"] for row in skm} == {"*", "DINKES", "PKM-1", "PKM-2", "DUKCAPIL"}
    minutes = list(openpyxl.load_workbook(io.BytesIO(data))["Minutes"].iter_rows(values_only=True))
    assert minutes[:3] == [("Attendees",), ("Wali Kota",), ("Kadis Kesehatan",)]


def test_the_html_is_one_self_contained_file(pack_files):
    html = pack_files[".html"].decode("utf-8")
    sources = re.findall(r'src="([^"]*)"', html)
    assert len(sources) == len(EXCEPTIONS)  # one chart per exception
    assert all(source.startswith("data:image/jpeg;base64,") for source in sources)
    assert "<link" not in html and "http://" not in html and "https://" not in html
    assert CARRIED in html and "Puskesmas Contoh Dua" in html


def test_an_action_is_in_every_pack_until_it_is_closed(example_store):
    action = review.create_action(example_store, WEEK_1, title=CARRIED, unit_code="PKM-2",
                                  responsible="dr. Sari", due_date=dt.date(2026, 4, 10),
                                  kpi="abandon_rate", by="tests")

    def pack_of(week: str, lang: str = "id") -> pack.Pack:
        content = review.review_content(example_store, week)
        return pack.build_pack(content, lang, with_charts=False)

    week_2 = pack_of(WEEK_2)
    assert CARRIED in pdf_text(week_2.pdf)
    rows = sheet_rows(week_2.xlsx, t("pack.sheet_actions", "id"))
    assert [row[t("pack.col_action", "id")] for row in rows] == [CARRIED]
    assert rows[0][t("pack.col_status", "id")] == t("action.status_open", "id")
    review.update_action(example_store, action, status="done", comment="Selesai", week=WEEK_2)
    assert CARRIED in pdf_text(pack_of(WEEK_2).pdf)  # closed in this review: still reported
    week_3 = pack_of(WEEK_3)
    assert CARRIED not in pdf_text(week_3.pdf)
    assert sheet_rows(week_3.xlsx, t("pack.sheet_actions", "id")) == []


def test_the_indonesian_pack_uses_indonesian_words_and_numbers(example_store):
    content = review.review_content(example_store, WEEK_2)
    text = pdf_text(pack.build_pack(content, "id", with_charts=False).pdf)
    assert "Tinjauan manajemen mingguan" in text and "Minggu ke-12 tahun 2026" in text
    assert "13,2 % 10,0 % ✕ Tidak memenuhi target" in text
    assert "27,0 menit 22,0 menit" in text
    assert "Draf: belum final" in text


def test_the_cover_says_how_many_units_reported(example_store):
    """Issue 12: the pack, like the page, never presents a partial week as the city's week."""
    content = review.review_content(example_store, WEEK_2)
    covered = content["agenda"]["coverage"]
    text = pdf_text(pack.build_pack(content, "en", with_charts=False).pdf)
    assert (f"{t('pack.coverage', 'en')} "
            f"{covered['reported']} of {covered['expected']} units reported") in text
    empty = review.review_content(example_store, "2026-W30")  # the data has not reached it
    text = pdf_text(pack.build_pack(empty, "id", with_charts=False).pdf)
    assert re.sub(r"\s+", " ", t("review.no_unit_reported", "id", week="2026-W30")) in text


def test_the_cli_refuses_an_invalid_week_with_one_sentence(example_store, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["--db", str(example_store.path), "review", "--week", "2026-47",
                 "--out", str(out)])
    error = capsys.readouterr().err.strip()
    assert code == 1 and error.count("\n") == 0 and "YYYY-Www" in error
    assert not out.exists()


def test_a_chart_image_is_rendered_once_then_read_from_the_cache(tmp_path, monkeypatch):
    """cached_images keeps each image under a digest of its key: the second call builds no
    figure and needs no browser at all (here none can start), and a new key is rendered anew."""
    from kpi import charts

    monkeypatch.setenv("KPI_CACHE_DIR", str(tmp_path / "cache"))
    built = []

    def figure(y3: int):
        def build():
            built.append(y3)
            return charts.go.Figure(charts.go.Scatter(x=[1, 2, 3], y=[3, 1, y3]))
        return build

    options = {"image_format": "jpg", "width": 300, "height": 200, "scale": 1}
    first = charts.cached_images([("points 3 1 2", figure(2))], **options)
    assert first[0][:2] == b"\xff\xd8"  # a JPEG
    assert len(list((tmp_path / "cache" / "charts").iterdir())) == 1
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-browser"))
    again = charts.cached_images([("points 3 1 2", figure(2))], **options)
    assert again == first and built == [2]
    with pytest.raises(Exception):  # noqa: B017 - any failure to start the missing browser
        charts.cached_images([("points 3 1 9", figure(9))], **options)


def test_images_drawn_in_one_page_are_those_of_a_fresh_page(tmp_path, monkeypatch):
    """The browser's page is not reloaded between images (kpi.charts._one_page_kaleido): a
    figure drawn after another in the same page is byte for byte the figure drawn first."""
    import kaleido

    from kpi import charts

    # the private kaleido method that the one-page session replaces is still kaleido's
    assert "_return_kaleido_tab" in vars(kaleido.Kaleido)
    monkeypatch.setenv("KPI_CACHE_DIR", str(tmp_path / "cache"))

    def lines():
        return charts.base_layout(charts.go.Figure(charts.go.Scatter(
            x=[1, 2, 3], y=[3, 1, 2], name="lines")), "en", title="Lines")

    def heatmap():
        return charts.base_layout(charts.go.Figure(charts.go.Heatmap(
            z=[[1, 2], [3, 4]], colorbar={"title": {"text": "count"}})), "id", title="Peta")

    options = {"image_format": "jpg", "width": 300, "height": 200, "scale": 1}
    first, other, again = charts.cached_images(
        [("lines", lines), ("heatmap", heatmap), ("lines, again", lines)], **options)
    assert first == again != other
