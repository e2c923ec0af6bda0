"""The review pack's layout (issue 22): no table row alone on a PDF page, scorecard cells that
keep their text inside their padding, and a workbook whose minutes sheet gives each of its
tables (attendees, decisions, the items' notes) its own header.

The PDFs are rendered without chart images (they play no part here), from week 12 of the
worked example in Indonesian, whose words are the longest."""

from __future__ import annotations

import copy
import io
from pathlib import Path

import openpyxl
import pypdfium2
import pytest

from kpi import pack, review
from kpi.i18n import t
from kpi.store import Store
from tests.conftest import copy_store, one_worker

pytestmark = one_worker("pack_layout")

WEEK = "2026-W12"
MM = 72 / 25.4  # PDF points per millimetre
LANDSCAPE_RIGHT_MARGIN_MM = 10  # @page landscape in review_pack.css: 12mm 10mm 14mm
LANDSCAPE_TOP_MARGIN_MM, LANDSCAPE_BOTTOM_MARGIN_MM = 12, 14  # the running header and footer
SCORECARD_CELL_PADDING_MM = 1
MARKER = "Unit Uji"


@pytest.fixture(scope="module")
def store(_example_store_file: Path, tmp_path_factory) -> Store:
    store = copy_store(_example_store_file, tmp_path_factory.mktemp("layout") / "example")
    review.save_minutes(store, WEEK, attendees="Wali Kota\nKadis Kesehatan",
                        decisions="Uji coba panggilan pengingat.", by="tests")
    review.save_item_minutes(store, WEEK, "exception:PKM-1:service_time_median",
                             note="Antrean pagi panjang.", decision="Tambah loket.", by="tests")
    return store


@pytest.fixture(scope="module")
def content(store) -> dict:
    return review.review_content(store, WEEK)


def pdf_of(content: dict, lang: str = "id") -> pypdfium2.PdfDocument:
    html = pack.render_html(pack.pack_view(content, lang), lang, {})
    return pypdfium2.PdfDocument(pack.render_pdf(html))


def page_texts(pdf: pypdfium2.PdfDocument) -> list[str]:
    return [pdf[number].get_textpage().get_text_range() for number in range(len(pdf))]


def with_new_targets(content: dict, count: int) -> dict:
    """`content` whose "changes since the last review" list `count` new targets."""
    changed = copy.deepcopy(content)
    changed["agenda"]["changes"]["new_targets"] = [
        {"unit_code": f"U{number:03d}", "unit_name": f"{MARKER} {number:03d}", "kpi": "ikm",
         "target": 80.0, "valid_from": "2026-01-01", "valid_to": None, "amber_pct": 10.0}
        for number in range(count)]
    return changed


def marked_rows_per_page(pdf: pypdfium2.PdfDocument) -> list[int]:
    return [text.count(MARKER) for text in page_texts(pdf)]


def test_no_row_of_a_table_stands_alone_on_a_page(content):
    # How many rows fit on the page where the table starts; one more leaves the last alone
    # unless the pack keeps rows together.
    long = marked_rows_per_page(pdf_of(with_new_targets(content, 60)))
    first_page_rows = next(count for count in long if count)
    for count in (first_page_rows + 1, first_page_rows + 2):
        per_page = [rows for rows in marked_rows_per_page(pdf_of(with_new_targets(content, count)))
                    if rows]
        assert sum(per_page) == count
        assert 1 not in per_page, (count, per_page)


def test_scorecard_text_stays_inside_the_cells_padding(content):
    # The widest IKM cell: off target and a two-decimal fall ("× tidak memenuhi ▼ −12,35"),
    # as the demo city's Disdukcapil had in week 47, in the last column, at the page's edge.
    changed = copy.deepcopy(content)
    for row in changed["agenda"]["scorecard"]:
        if row["kpi"] == "ikm":
            row.update(value=64.5, target=76.61, status="red", change=-12.345)
    pdf = pdf_of(changed)
    [page] = [pdf[number] for number in range(len(pdf))
              if pdf[number].get_width() > pdf[number].get_height()]  # the landscape page
    assert t("review.section_scorecard", "id") in page.get_textpage().get_text_range()
    width, height = page.get_size()
    inner_edge = width - (LANDSCAPE_RIGHT_MARGIN_MM + SCORECARD_CELL_PADDING_MM) * MM
    text = page.get_textpage()
    boxes = [(text.get_text_range(index, 1), text.get_charbox(index))
             for index in range(text.count_chars()) if text.get_text_range(index, 1).strip()]
    body = [(char, box) for char, box in boxes  # (left, bottom, right, top) from the bottom
            if box[1] > LANDSCAPE_BOTTOM_MARGIN_MM * MM
            and box[3] < height - LANDSCAPE_TOP_MARGIN_MM * MM]
    assert len(body) > len(boxes) / 2
    over = [(char, round(box[2] - inner_edge, 2)) for char, box in body
            if box[2] > inner_edge + 0.2]
    assert over == []


def test_the_minutes_sheet_gives_each_table_its_own_header(content):
    view = pack.pack_view(content, "id")
    book = openpyxl.load_workbook(io.BytesIO(pack.render_xlsx(view, content, "id")))
    rows = [list(row) for row in book[t("pack.sheet_minutes", "id")].iter_rows(values_only=True)]
    blocks: list[list[list]] = [[]]
    for row in rows:
        cells = [cell for cell in row if cell is not None]
        if cells:
            blocks[-1].append(cells)
        elif blocks[-1]:
            blocks.append([])
    assert blocks == [
        [[t("pack.attendees", "id")], ["Wali Kota"], ["Kadis Kesehatan"]],
        [[t("review.decisions", "id")], ["Uji coba panggilan pengingat."]],
        [[t("pack.col_item", "id"), t("pack.col_note", "id"), t("pack.col_decision", "id")],
         [view["minutes"]["entries"][0]["item"], "Antrean pagi panjang.", "Tambah loket."]],
    ]
    # A one-table sheet keeps its header in view.
    assert book[t("pack.sheet_exceptions", "id")].freeze_panes == "A2"
