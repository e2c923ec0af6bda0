"""The Upload page builds a §1.1 mapping for a queue machine's export, saves it, imports with
it, and offers "import the valid rows" (issue 12)."""

from __future__ import annotations

import datetime as dt

from kpi import import_mapping, ingest, metrics, saved_mappings, set_aside
from kpi.i18n import t
from kpi.store import Store
from kpi.vocabulary import KPIS
from tests.conftest import EXAMPLE_DIR
from tests.helpers import (
    buttons,
    click,
    mapping_box,
    mapping_sources,
    open_view,
    run,
    table_with,
    texts,
    upload,
)
from tests.queue_export import MAPPING_TOML, queue_frame

WHOLE_YEAR = {"date_from": dt.date(2026, 1, 1), "date_to": dt.date(2026, 12, 31)}


def export_bytes(frame=None) -> bytes:
    frame = queue_frame() if frame is None else frame
    return frame.to_csv(index=False, sep=";", lineterminator="\r\n").encode("utf-8")


def test_the_page_builds_saves_and_imports_the_queue_mapping(units_only, monkeypatch, tmp_path):
    at = upload(open_view(units_only, monkeypatch, "upload", role="analyst", lang="id"),
                ("antrian.csv", export_bytes()))
    assert mapping_sources(at) == {
        "unit_code": "Kode Unit", "service_code": "Kode Layanan", "ticket_id": "__compose__",
        "arrived_at": "Tanggal", "started_at": "Waktu Dipanggil",
        "completed_at": "Waktu Selesai", "outcome": "Status", "channel": "Loket"}
    assert mapping_box(at, "arrived_at", "time").value == "Jam Datang"
    parts = next(box for box in at.multiselect if box.key.endswith("_ticket_id_parts"))
    assert parts.value == ["Tanggal", "No Antrian"]
    assert {box.label: box.value for box in at.text_input if "_format_" in (box.key or "")} == {
        t("mapeditor.format", "id", column=column): "%d/%m/%Y %H:%M:%S"
        for column in ("arrived_at", "started_at", "completed_at")}
    # The preview shows the first rows as parsed, before any check.
    preview = table_with(at, "ticket_id")
    assert preview["outcome"].iloc[0] == "completed"
    assert preview["arrived_at"].iloc[0].startswith("2026-")
    name_box = next(w for w in at.text_input if (w.key or "").endswith("_name"))
    name_box.set_value("Antrian PKM")
    at = click(run(at), t("mapping.save", "id"))
    assert t("mapping.saved", "id", name="Antrian PKM") in texts(at.success)
    saved = saved_mappings.load_mapping(units_only, "Antrian PKM")
    expected = import_mapping.parse(MAPPING_TOML)
    assert saved.compose == expected.compose and saved.timestamps == expected.timestamps
    assert saved.values["outcome"] == expected.values["outcome"]
    at = click(at, t("upload.validate", "id"))
    assert t("upload.valid", "id", rows="835") in texts(at.success)
    at = click(at, t("upload.commit", "id"))
    clean = Store(tmp_path / "clean", create=True)
    for kind in ("units", "services", "targets", "events"):
        assert ingest.ingest_file(clean, kind, EXAMPLE_DIR / f"{kind}.csv").ok
    kpis = [k for k in KPIS if k not in ("response_count", "ikm")]
    assert metrics.kpi_table(units_only, period="week", kpis=kpis, **WHOLE_YEAR).equals(
        metrics.kpi_table(clean, period="week", kpis=kpis, **WHOLE_YEAR))


def test_a_saved_mapping_applies_itself_and_valid_rows_can_go_in(units_only, monkeypatch):
    saved_mappings.save_mapping(units_only, "Antrian PKM", import_mapping.parse(MAPPING_TOML))
    frame = queue_frame()
    frame.loc[3, "Status"] = "Selesaii"
    frame.loc[7, "Jam Datang"] = "25:61:00"
    at = upload(open_view(units_only, monkeypatch, "upload", role="analyst"), ("antrian.csv", export_bytes(frame)))
    assert t("mapping.applied", "en", name="Antrian PKM") in texts(at.caption)
    at = click(at, t("upload.validate", "en"))
    assert not buttons(at, t("upload.commit", "en"))  # all or nothing by default
    at.checkbox(key=next(c.key for c in at.checkbox if "upload_accept_" in c.key)).check()
    at = run(at)
    at = click(at, t("upload.commit_valid", "en", rows="833", count="2"))
    assert t("upload.set_aside", "en", count="2") in texts(at.warning)
    assert units_only.query_value("SELECT count(*) FROM events") == 833
    assert list(set_aside.listing(units_only, "en")["line"]) == [5, 9]
    # Import history and Data quality list them, with the file to fix.
    for page in ("history", "quality"):
        at = open_view(units_only, monkeypatch, page, role="analyst", lang="id")
        batch = int(units_only.query_value("SELECT max(batch_id) FROM batches"))
        assert t("setaside.count", "id", count="2", batch=batch, file="antrian.csv") in texts(
            at.warning)
        assert t("setaside.download", "id") in [b.label for b in at.download_button]
