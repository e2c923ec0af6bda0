"""Issue 22, blocker: on the Upload page one date column feeds several timestamps, and a saved
mapping shows and applies exactly as written (every contract §1.1 feature through the page and
back to the same TOML); services named in words get a value table (major item 2)."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi import editor, import_mapping, ingest, mapping_suggestions, metrics, saved_mappings
from kpi.__main__ import main
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
from tests.queue_export import MAPPING_TOML, SPLIT_TOML, queue_frame, split_frame

WHOLE_YEAR = {"date_from": dt.date(2026, 1, 1), "date_to": dt.date(2026, 12, 31)}
EVENT_KPIS = [k for k in KPIS if k not in ("response_count", "ikm")]


def csv_bytes(frame) -> bytes:
    return frame.to_csv(index=False, sep=";", lineterminator="\r\n").encode("utf-8")


def shown_toml(at) -> str:
    codes = [element.value for element in at.code if "kind = " in element.value]
    assert len(codes) == 1, codes
    return codes[0]


def test_one_date_column_gives_every_timestamp_and_service_names_are_translated(
        units_only, monkeypatch, tmp_path):
    at = upload(open_view(units_only, monkeypatch, "upload", role="analyst", lang="id"),
                ("antrian-split.csv", csv_bytes(split_frame())))
    assert not at.error, texts(at.error)
    found = mapping_sources(at)
    for stamp, clock in (("arrived_at", "Jam Ambil"), ("started_at", "Jam Panggil"),
                         ("completed_at", "Jam Selesai")):
        assert found[stamp] == "Tanggal"
        assert mapping_box(at, stamp, "time").value == clock
    assert found["ticket_id"] == "__compose__"  # the queue number restarts every day
    assert found["channel"] == ""                # `Loket` holds counter numbers: no channel
    # The services are named in words: their value table comes from the unit's service names.
    table = import_mapping.parse(shown_toml(at)).values["service_code"]
    assert table == mapping_suggestions.service_names(editor.services_table(units_only))
    assert {"Rekomendasi": "REK", "Poli umum": "UMUM", "Laboratorium": "LAB"}.items() <= table.items()
    assert not buttons(at, t("upload.validate", "id"))[0].disabled
    at = click(at, t("upload.validate", "id"))
    assert t("upload.valid", "id", rows="835") in texts(at.success)
    at = click(at, t("upload.commit", "id"))
    clean = Store(tmp_path / "clean", create=True)
    for kind in ("units", "services", "targets", "events"):
        assert ingest.ingest_file(clean, kind, EXAMPLE_DIR / f"{kind}.csv").ok
    assert metrics.kpi_table(units_only, period="week", kpis=EVENT_KPIS, **WHOLE_YEAR).equals(
        metrics.kpi_table(clean, period="week", kpis=EVENT_KPIS, **WHOLE_YEAR))


# Every §1.1 feature: kind, delimiter, [columns] (one source giving two contract columns),
# [constants], [timestamps] as one column, as a date and a time column and as a date alone,
# [values] with and without another source, [compose].
EVERY_FEATURE = {
    "events": ("""\
kind = "events"
delimiter = ";"

[columns]
service_code = "Layanan"
channel = "Kanal"

[constants]
unit_code = "PKM-1"

[timestamps.arrived_at]
date = "Tanggal"
time = "Jam Ambil"
format = "%d/%m/%Y %H:%M"

[timestamps.started_at]
date = "Tanggal"
time = "Jam Panggil"
format = "%d/%m/%Y %H:%M"

[timestamps.completed_at]
column = "Waktu Selesai"
format = "%d/%m/%Y %H:%M"

[values.service_code]
"Poli umum" = "UMUM"

[values.outcome]
Selesai = "completed"
Batal = "abandoned"

[compose]
ticket_id = ["Tanggal", "No Antrian"]
""", "Tanggal;No Antrian;Layanan;Jam Ambil;Jam Panggil;Waktu Selesai;outcome;Kanal\r\n"
         "24/03/2026;1;Poli umum;08:00;08:05;24/03/2026 08:30;Selesai;counter\r\n"
         "24/03/2026;2;Poli umum;08:10;;;Batal;online\r\n"),
    "survey": ("""\
kind = "survey"

[columns]
response_id = "No"
u1 = "Nilai"
u2 = "Nilai"
u3 = "Nilai"
u4 = "Nilai"
u5 = "Nilai"
u6 = "Nilai"
u7 = "Nilai"
u8 = "Nilai"
u9 = "Nilai"
comment = "Saran"

[constants]
unit_code = "PKM-1"

[timestamps.submitted_at]
date = "Tanggal Isi"
format = "%d/%m/%Y"
""", "No,Tanggal Isi,Nilai,Saran\nR-1,24/03/2026,3,Cepat\nR-2,25/03/2026,4,\n"),
}


@pytest.mark.parametrize("case", ["events", "survey", "queue", "split"])
def test_a_saved_mapping_shows_and_applies_exactly_as_written(units_only, monkeypatch, capsys,
                                                              tmp_path, case):
    if case in ("queue", "split"):
        toml, content = ((MAPPING_TOML, csv_bytes(queue_frame())) if case == "queue"
                         else (SPLIT_TOML, csv_bytes(split_frame())))
    else:
        toml, text = EVERY_FEATURE[case]
        content = text.encode()
    written = tmp_path / "saved.toml"
    written.write_text(toml, encoding="utf-8")
    assert main(["--db", str(units_only.path), "mappings", "import", str(written),
                 "--name", "Mesin"]) == 0
    capsys.readouterr()
    at = upload(open_view(units_only, monkeypatch, "upload", role="analyst", lang="id"),
                (f"{case}.csv", content))
    assert t("mapping.applied", "id", name="Mesin") in texts(at.caption)
    assert not at.error, texts(at.error)
    expected = import_mapping.parse(toml)
    assert import_mapping.parse(shown_toml(at)) == expected
    assert shown_toml(at).strip() == expected.to_toml().strip()  # the same text, in order
    assert not buttons(at, t("upload.validate", "id"))[0].disabled
    # Saved again from the page under another name: the same TOML.
    name_box = next(w for w in at.text_input if (w.key or "").endswith("_name"))
    name_box.set_value("Mesin lagi")
    at = click(run(at), t("mapping.save", "id"))
    assert saved_mappings.load_mapping(units_only, "Mesin lagi").to_toml() == expected.to_toml()
    at = click(at, t("upload.validate", "id"))
    assert t("upload.valid", "id", rows=str(content.count(b"\n") - 1)) in texts(at.success), (
        texts(at.error), table_with(at, t("upload.col_reason", "id")) if at.error else None)
