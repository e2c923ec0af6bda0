"""No injection in what Kinerja produces (issue 11): a unit named with HTML (accepted from
units.csv, as it should be), an action title and minutes with markup go into the review pack as
text. The HTML escapes them, the PDF prints them, and WeasyPrint fetches none of the URLs they
name (a real HTTP server on 127.0.0.1 counts the requests)."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import re
import shutil
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from kpi import review
from kpi.__main__ import main
from kpi.ingest import ingest_file
from kpi.store import Store
from ui.text import md

WEEK = "2026-W12"
EVIL_UNIT = 'Puskesmas <img src=x onerror="alert(1)"> Belawan'


@pytest.fixture
def listener():
    """An HTTP server on 127.0.0.1 that records every path asked of it."""
    asked: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


@pytest.fixture
def evil_pack(_example_store_file: Path, tmp_path: Path, listener) -> dict[str, bytes]:
    base, _ = listener
    db = tmp_path / "kpi"
    shutil.copytree(_example_store_file, db)
    store = Store(db, create=True)
    units = tmp_path / "units.csv"
    units.write_text("unit_code,name,type,parent_code,district\n"
                     f'PKM-1,"{EVIL_UNIT.replace(chr(34), chr(34) * 2)}",puskesmas,DINKES,'
                     "Medan Baru\n", encoding="utf-8")
    assert ingest_file(store, "units", units, loaded_by="tests").ok
    review.create_action(store, WEEK, title=f'<script>alert(2)</script><img src="{base}/title">',
                         unit_code="PKM-1", responsible="<b>Budi</b>",
                         due_date=dt.date(2026, 4, 3), kpi="service_time_median",
                         item_key="exception:PKM-1:service_time_median", by="tests")
    review.save_minutes(store, WEEK, attendees="Wali Kota",
                        decisions=f'<link rel="stylesheet" href="{base}/css"><img src="{base}/minutes">',
                        by="tests")
    out = tmp_path / "out"
    assert main(["--db", str(db), "review", "--week", WEEK, "--out", str(out),
                 "--lang", "en"]) == 0
    return {path.suffix: path.read_bytes() for path in out.iterdir()}


def test_the_html_pack_holds_the_markup_escaped(evil_pack):
    html = evil_pack[".html"].decode("utf-8")
    assert "Puskesmas &lt;img src=x onerror=&#34;alert(1)&#34;&gt; Belawan" in html
    assert "<img src=x" not in html and "<script>alert(2)" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html and "&lt;b&gt;Budi&lt;/b&gt;" in html
    assert '<link rel="stylesheet" href="http' not in html
    # The charts are still the pack's own data: images.
    assert re.search(r'<img [^>]*src="data:image/jpeg;base64,', html)


def test_the_pdf_prints_the_markup_as_text_and_fetches_nothing(evil_pack, listener):
    _, asked = listener
    text = re.sub(r"\s+", " ", "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(evil_pack[".pdf"])).pages))
    assert EVIL_UNIT in text
    assert "<script>alert(2)</script>" in text and "<b>Budi</b>" in text
    assert asked == []


def test_render_pdf_refuses_every_url_but_data(listener):
    from kpi.pack import render_pdf

    base, asked = listener
    pdf = render_pdf(f'<html><body><p>text</p><img src="{base}/a.png">'
                     f'<img src="file:///etc/hostname"><link rel="stylesheet" href="{base}/b.css">'
                     '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                     "</body></html>")
    assert pdf.startswith(b"%PDF") and asked == []


@pytest.mark.parametrize(("typed", "shown"), [
    (EVIL_UNIT, 'Puskesmas \\<img src=x onerror="alert(1)"\\> Belawan'),
    ("*bold* _it_ [link](http://x) ![i](http://x/i.png)",
     "\\*bold\\* \\_it\\_ \\[link\\](http\\://x) !\\[i\\](http\\://x/i.png)"),
    ("$x$ :red[alarm] `code` ~~gone~~ a|b", "\\$x\\$ \\:red\\[alarm\\] \\`code\\` \\~\\~gone\\~\\~ a\\|b"),
    ("# Heading", "\\# Heading"), ("1. item", "1\\. item"), ("- item", "\\- item"),
    ("two\nlines", "two lines"), ("Kota (semua unit)", "Kota (semua unit)"),
])
def test_md_escapes_what_markdown_would_read(typed, shown):
    assert md(typed) == shown
