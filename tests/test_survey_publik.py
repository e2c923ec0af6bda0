"""The public results page /publik (issue 24; contract §3): without sign-in, only the published
units, the regulation's table per unit (NRR per element, weighted NRR, IKM, grade, respondents,
period), in both languages, with a CSV; never a comment."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from kpi import survey_links
from kpi.publication import parse_period, period_of
from kpi.skm import ikm_table
from kpi.store import Store
from tests.conftest import EXAMPLE_DIR
from web import server


@pytest.fixture
def client(example_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("KPI_DB", example_store.path)
    server._store.cache_clear()
    server._intake.cache_clear()
    with TestClient(Starlette(routes=server.routes())) as test_client:
        yield test_client
    server._store.cache_clear()
    server._intake.cache_clear()


def example_comments() -> list[str]:
    with (EXAMPLE_DIR / "survey.csv").open(encoding="utf-8") as handle:
        return [row["comment"] for row in csv.DictReader(handle) if row["comment"]]


def test_nothing_published_yet(client: TestClient) -> None:
    page = client.get("/publik")
    assert page.status_code == 200
    assert "Belum ada unit layanan yang hasil SKM-nya dipublikasikan." in page.text


def test_only_the_published_units_and_no_comment(client: TestClient,
                                                 example_store: Store) -> None:
    survey_links.set_published(example_store, ["PKM-2", "DUKCAPIL"], True, who="tests")
    page = client.get("/publik?period=2026-Q1")
    assert page.status_code == 200 and "<script" not in page.text.lower()
    assert "Puskesmas Contoh Dua" in page.text and "Disdukcapil Contoh" in page.text
    assert "Puskesmas Contoh Satu" not in page.text and "Dinas Kesehatan Contoh" not in page.text
    for comment in example_comments():
        assert comment not in page.text and comment.replace('"', "&#34;") not in page.text
    expected = {row["unit_code"]: row for row in ikm_table(
        example_store, date_from=parse_period("2026-Q1").first,
        date_to=parse_period("2026-Q1").last)}
    pkm2 = expected["PKM-2"]
    section = page.text.split('id="unit-PKM-2"')[1].split("</section>")[0]
    ikm_id = f"{pkm2['ikm_rounded']:.2f}".replace(".", ",")
    assert f"<strong>{ikm_id}</strong>" in section
    assert f"<strong>{pkm2['grade']}</strong>" in section and pkm2["label"] in section
    assert f"{pkm2['nrr']['u3']:.2f}".replace(".", ",") in section
    assert f">{pkm2['n']}<" in section and "Triwulan 1 2026" in section
    english = client.get("/publik?period=2026-Q1&lang=en")
    assert "Service grade" in english.text and f"{pkm2['ikm_rounded']:.2f}" in english.text
    table = client.get("/publik.csv?period=2026-Q1")
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"))))
    assert [row["unit_code"] for row in rows] == ["DUKCAPIL", "PKM-2"]
    assert float(rows[1]["ikm"]) == pkm2["ikm_rounded"] and rows[1]["respondents"] == str(pkm2["n"])
    assert "comment" not in rows[0]
    survey_links.set_published(example_store, ["PKM-2"], False, who="tests")
    assert "Puskesmas Contoh Dua" not in client.get("/publik?period=2026-Q1").text


def test_the_periods_offered(client: TestClient, example_store: Store) -> None:
    survey_links.set_published(example_store, ["DINKES"], True, who="tests")
    page = client.get("/publik")
    assert "Triwulan 1 2026" in page.text and "?period=2026-S1" in page.text
    assert "?period=2026&amp;" in page.text
    year = client.get("/publik?period=2026&lang=en")
    assert "Answers sent from 2026-01-01 to 2026-12-31" in year.text
    assert parse_period("2026-Q5") is None and parse_period("2026-S3") is None
    assert period_of(parse_period("2026-S2").last, "quarter").key == "2026-Q4"
