"""Mappings by job: suggestions for common English and Indonesian headers (kpi.mapping_suggestions),
the Upload page's lines and their checks (ui.mapping_editor), saved mappings (kpi.saved_mappings),
rejected rows and the templates (kpi.row_files)."""

from __future__ import annotations

import pytest

from kpi import mapping_suggestions, row_files, saved_mappings
from kpi.errors import InputRejected
from kpi.ingest import ingest_file
from kpi.vocabulary import KINDS, OPTIONAL, REQUIRED
from ui.mapping_editor import COMPOSE, Line, mapping_of


@pytest.mark.parametrize(("kind", "header", "expected"), [
    ("events", ["Kode Unit", "Kode Layanan", "No Antrian", "Waktu Datang", "Jam Mulai",
                "Jam Selesai", "Status", "Kanal"],
     ["unit_code", "service_code", "ticket_id", "arrived_at", "started_at", "completed_at",
      "outcome", "channel"]),
    ("events", ["KODE_UNIT", "kode layanan", "Nomor Tiket", "Tanggal", "Status"],
     ["unit_code", "service_code", "ticket_id", "arrived_at", "outcome"]),
    # the contract's own name beats a synonym, and a plain `Tanggal` loses to `Waktu Datang`
    ("events", ["Tanggal", "Waktu Datang", "status", "outcome"],
     [None, "arrived_at", None, "outcome"]),
    ("survey", ["Kode Unit", "ID Responden", "Tanggal", "Unsur 1", "U2", "Jenis Kelamin", "Umur",
                "Saran"],
     ["unit_code", "response_id", "submitted_at", "u1", "u2", "respondent_gender",
      "respondent_age", "comment"]),
    ("targets", ["Kode Unit", "Indikator", "Target", "Berlaku Dari", "Berlaku Sampai"],
     ["unit_code", "kpi", "target", "valid_from", "valid_to"]),
    ("units", ["Kode Unit", "Nama", "Jenis", "Kode Induk", "Kecamatan", "Telepon"],
     ["unit_code", "name", "type", "parent_code", "district", None]),
])
def test_suggestions(kind, header, expected):
    assert list(mapping_suggestions.suggest(header, kind).values()) == expected


def test_guess_kind_from_indonesian_headers():
    assert mapping_suggestions.guess_kind(["Kode Unit", "Kode Layanan", "No Antrian", "Waktu Datang",
                                "Status"]) == "events"
    assert mapping_suggestions.guess_kind(["unit_code", "name", "type"]) == "units"
    assert mapping_suggestions.guess_kind(["apa", "ini"]) is None


def test_identity_needs_no_mapping():
    header = list(REQUIRED["events"] + OPTIONAL["events"])
    assert mapping_suggestions.is_identity(mapping_suggestions.suggest([h.upper() for h in header], "events"))
    assert not mapping_suggestions.is_identity(mapping_suggestions.suggest([*header, "extra"], "events"))


def test_the_editor_lines_refuse_what_a_toml_file_would():
    lines = {"unit_code": Line(source="a"), "service_code": Line(source="b"),
             "ticket_id": Line(source="c"), "arrived_at": Line(source="d"),
             "outcome": Line(source="e")}
    assert mapping_of("events", lines).columns["ticket_id"] == "c"
    with pytest.raises(InputRejected) as caught:
        mapping_of("events", {**lines, "ticket_id": Line()})
    assert caught.value.key == "mapping.unmapped_required"
    assert caught.value.params["columns"] == "ticket_id"
    with pytest.raises(InputRejected) as caught:  # a time column needs a format
        mapping_of("events", {**lines, "arrived_at": Line(source="d", time="f")})
    assert caught.value.key == "importmap.timestamp_format"
    with pytest.raises(InputRejected) as caught:  # a key of one column is no composition
        mapping_of("events", {**lines, "ticket_id": Line(source=COMPOSE, parts=["c"])})
    assert caught.value.key == "importmap.compose_parts"


def test_saved_mappings_round_trip(empty_store):
    from kpi.import_mapping import rename_only

    mapping = rename_only("events", {"Kode Unit": "unit_code", "Catatan": None,
                                     "No": "ticket_id", "Datang": "arrived_at"})
    saved_mappings.save_mapping(empty_store, "  SIMPUS  ", mapping, by="ana")
    listed = saved_mappings.list_mappings(empty_store, kind="events")
    assert list(listed["name"]) == ["SIMPUS"] and listed["saved_by"].iloc[0] == "ana"
    assert saved_mappings.list_mappings(empty_store, kind="units").empty
    assert saved_mappings.load_mapping(empty_store, "SIMPUS") == mapping
    saved_mappings.save_mapping(empty_store, "SIMPUS", mapping)
    assert len(saved_mappings.list_mappings(empty_store)) == 1  # replaced, not doubled
    with pytest.raises(InputRejected):
        saved_mappings.save_mapping(empty_store, " ", mapping)


def test_rejected_rows_are_the_original_lines_with_reasons(example_store, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "unit_code;service_code;ticket_id;arrived_at;outcome\n"
        "PKM-1;UMUM;\"A\nB\";2026-03-24 08:00:00;no_show\n"  # a quoted line break: lines 2-3
        "PKM-1;UMUM;OK-1;2026-03-24 08:00:00;no_show\n"
        "PKM-9;UMUM;X-1;2026-02-30 08:00:00;no_show\n", encoding="utf-8")
    result = ingest_file(example_store, "events", path, dry_run=True)
    assert {p.line for p in result.problems} == {5}
    rejected = row_files.rejected_rows(path, result.problems, "id")
    assert list(rejected.columns) == ["unit_code", "service_code", "ticket_id", "arrived_at",
                                      "outcome", "rejected_because"]
    assert rejected.iloc[0]["ticket_id"] == "X-1"
    assert rejected.iloc[0]["rejected_because"] == "; ".join(p.message("id") for p in result.problems)
    # when the fixed file comes back, the reasons column is left out by default
    assert mapping_suggestions.suggest(list(rejected.columns), "events")["rejected_because"] is None
    assert mapping_suggestions.normalize("rejected_because") in mapping_suggestions.DROP_BY_DEFAULT


def test_read_rows_of_an_xlsx_file(tmp_path):
    import pandas as pd

    path = tmp_path / "units.xlsx"
    pd.DataFrame({"unit_code": ["A", "B"], "name": ["Satu", "Dua"], "type": ["dinas", "dinas"]}
                 ).to_excel(path, index=False)
    frame = row_files.read_rows(path, limit=1)
    assert frame.to_dict("records") == [{"line": 2, "unit_code": "A", "name": "Satu",
                                         "type": "dinas"}]
    assert list(row_files.read_rows(path, lines={3})["unit_code"]) == ["B"]


def test_every_template_loads_into_an_empty_store(empty_store, tmp_path):
    from kpi.exports import to_csv_bytes

    for kind in KINDS:
        frame = row_files.template_frame(kind)
        assert list(frame.columns) == list(REQUIRED[kind] + OPTIONAL[kind]) and len(frame) == 1
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(to_csv_bytes(frame))
        result = ingest_file(empty_store, kind, path)
        assert result.ok, (kind, [p.reason for p in result.problems])


def test_a_date_column_is_the_date_of_every_time_column_not_a_whole_timestamp():
    """Issue 22 (minor): `Tanggal` beside time-only columns is their date, never the whole
    arrived_at; a daily queue number is composed with it even when the sample's numbers are all
    different; `Loket` holding counter numbers is no channel."""
    import pandas as pd

    rows = pd.DataFrame({"Tanggal": ["24/03/2026", "24/03/2026"], "No Antrian": ["1", "2"],
                         "Kode Unit": ["PKM-1", "PKM-1"], "Layanan": ["Poli umum", "Poli umum"],
                         "Jam Ambil": ["08:00", "08:10"], "Jam Panggil": ["08:05", ""],
                         "Jam Selesai": ["08:30", ""], "Status": ["Selesai", "Batal"],
                         "Loket": ["1", "2"]}, dtype=object)
    mapping = mapping_suggestions.suggest_mapping(list(rows.columns), rows, "events",
                                                  names={"Poli umum": "UMUM"})
    for stamp, clock in (("arrived_at", "Jam Ambil"), ("started_at", "Jam Panggil"),
                         ("completed_at", "Jam Selesai")):
        spec = mapping.timestamps[stamp]
        assert (spec.date, spec.time, spec.format) == ("Tanggal", clock, "%d/%m/%Y %H:%M")
    assert mapping.compose == {"ticket_id": ["Tanggal", "No Antrian"]}
    assert "channel" not in mapping.produced()
    assert mapping.values["service_code"] == {"Poli umum": "UMUM"}
    assert mapping.values["outcome"] == {"Selesai": "completed", "Batal": "abandoned"}
    # A `Loket` column of channel words is the channel.
    rows["Loket"] = ["Loket", "Daring"]
    mapping = mapping_suggestions.suggest_mapping(list(rows.columns), rows, "events")
    assert mapping.columns["channel"] == "Loket"
    assert mapping.values["channel"] == {"Loket": "counter", "Daring": "online"}


def test_editor_lines_give_back_the_mapping_they_came_from():
    from kpi import import_mapping
    from tests.queue_export import MAPPING_TOML, SPLIT_TOML
    from ui.mapping_editor import lines_of

    for text in (MAPPING_TOML, SPLIT_TOML):
        mapping = import_mapping.parse(text)
        again = mapping_of(mapping.kind, lines_of(mapping), mapping.delimiter)
        assert again == mapping and again.to_toml() == mapping.to_toml()
