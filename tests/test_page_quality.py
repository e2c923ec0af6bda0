"""The Data quality page: one row per unit with its findings, linked to the unit page."""

from __future__ import annotations

import datetime as dt

from kpi.i18n import t
from kpi.ingest import ingest_file
from tests.helpers import open_view, table_with

HEADER = "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel"


def test_units_are_listed_with_findings_and_links(example_store, monkeypatch, tmp_path):
    path = tmp_path / "late.csv"
    path.write_text(f"{HEADER}\nPKM-2,UMUM,L-1,2026-03-24 08:00:00,,2026-03-26 08:00:00,"
                    "completed,counter\n", encoding="utf-8")
    assert ingest_file(example_store, "events", path).ok
    at = open_view(example_store, monkeypatch, "quality", role="analyst", lang="id")
    # the last 91 days of data, cut at the first day with data
    assert at.date_input(key="quality_range").value == (dt.date(2026, 2, 16), dt.date(2026, 3, 29))
    table = table_with(at, t("quality.col_status", "id")).set_index(t("quality.col_unit", "id"))
    assert list(table.index) == [f"unit?unit={code}&lang=id"
                                 for code in ("DINKES", "DUKCAPIL", "PKM-1", "PKM-2")]
    pkm2 = table.loc["unit?unit=PKM-2&lang=id"]
    assert pkm2[t("quality.col_long", "id")] == "⚠ 1"
    # the example's 29 responses of PKM-2 against a minimum of 138, now 139 with one more served
    assert pkm2[t("quality.col_sample", "id")] == "⚠ " + t("quality.sample_of", "id", n="29",
                                                              minimum="139")
    assert pkm2[t("quality.col_status", "id")] == "⚠ " + t("quality.status_issues", "id", count="2")
    assert pkm2[t("quality.col_last_event", "id")] == "28 Mar 2026"
    pkm1 = table.loc["unit?unit=PKM-1&lang=id"]
    assert pkm1[t("quality.col_long", "id")] == "✓ 0"
    expanders = [e.label for e in at.expander]
    assert "⚠ " + t("quality.detail_long", "id", hours="24", count="1") in expanders
    long_times = table_with(at, t("quality.col_ticket", "id"))
    assert list(long_times[t("quality.col_ticket", "id")]) == ["L-1"]
    assert list(long_times[t("quality.col_hours", "id")]) == ["48,0"]


def test_empty_store_shows_the_start_page(empty_store, monkeypatch):
    at = open_view(empty_store, monkeypatch, "quality", role="analyst")
    assert [title.value for title in at.title] == [t("start.title", "en")]
