"""kpi.mappings: suggestions for common English and Indonesian headers, the checks of a mapping,
saved mappings, rejected rows and the templates."""

from __future__ import annotations

import pytest

from kpi import mappings
from kpi.errors import InputRejected
from kpi.ingest import ingest_file
from kpi.vocabulary import KINDS, OPTIONAL, REQUIRED


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
    assert list(mappings.suggest(header, kind).values()) == expected


def test_guess_kind_from_indonesian_headers():
    assert mappings.guess_kind(["Kode Unit", "Kode Layanan", "No Antrian", "Waktu Datang",
                                "Status"]) == "events"
    assert mappings.guess_kind(["unit_code", "name", "type"]) == "units"
    assert mappings.guess_kind(["apa", "ini"]) is None


def test_identity_needs_no_mapping():
    header = list(REQUIRED["events"] + OPTIONAL["events"])
    assert mappings.is_identity(mappings.suggest([h.upper() for h in header], "events"))
    assert not mappings.is_identity(mappings.suggest([*header, "extra"], "events"))


def test_check_mapping_refusals():
    full = {"a": "unit_code", "b": "service_code", "c": "ticket_id", "d": "arrived_at",
            "e": "outcome"}
    mappings.check_mapping(full, "events")
    with pytest.raises(InputRejected) as caught:
        mappings.check_mapping({**full, "c": None}, "events")
    assert caught.value.key == "mapping.unmapped_required"
    assert caught.value.params["columns"] == "ticket_id"
    mappings.check_mapping({**full, "c": None}, "events", undecided=1)  # the import judges it
    with pytest.raises(InputRejected) as caught:
        mappings.check_mapping({**full, "f": "unit_code"}, "events")
    assert caught.value.key == "mapping.duplicate_target"
    with pytest.raises(InputRejected) as caught:
        mappings.check_mapping({**full, "f": "kpi"}, "events")
    assert caught.value.key == "mapping.unknown_target"


def test_saved_mappings_round_trip(empty_store):
    from kpi.import_mapping import rename_only

    mapping = rename_only("events", {"Kode Unit": "unit_code", "Catatan": None,
                                     "No": "ticket_id", "Datang": "arrived_at"})
    mappings.save_mapping(empty_store, "  SIMPUS  ", mapping, by="ana")
    listed = mappings.list_mappings(empty_store, kind="events")
    assert list(listed["name"]) == ["SIMPUS"] and listed["saved_by"].iloc[0] == "ana"
    assert mappings.list_mappings(empty_store, kind="units").empty
    assert mappings.load_mapping(empty_store, "SIMPUS") == mapping
    mappings.save_mapping(empty_store, "SIMPUS", mapping)
    assert len(mappings.list_mappings(empty_store)) == 1  # replaced, not doubled
    with pytest.raises(InputRejected):
        mappings.save_mapping(empty_store, " ", mapping)


def test_rejected_rows_are_the_original_lines_with_reasons(example_store, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "unit_code;service_code;ticket_id;arrived_at;outcome\n"
        "PKM-1;UMUM;\"A\nB\";2026-03-24 08:00:00;no_show\n"  # a quoted line break: lines 2-3
        "PKM-1;UMUM;OK-1;2026-03-24 08:00:00;no_show\n"
        "PKM-9;UMUM;X-1;2026-02-30 08:00:00;no_show\n", encoding="utf-8")
    result = ingest_file(example_store, "events", path, dry_run=True)
    assert {p.line for p in result.problems} == {5}
    rejected = mappings.rejected_rows(path, result.problems, "id")
    assert list(rejected.columns) == ["unit_code", "service_code", "ticket_id", "arrived_at",
                                      "outcome", "rejected_because"]
    assert rejected.iloc[0]["ticket_id"] == "X-1"
    assert rejected.iloc[0]["rejected_because"] == "; ".join(p.message("id") for p in result.problems)
    # when the fixed file comes back, the reasons column is left out by default
    assert mappings.suggest(list(rejected.columns), "events")["rejected_because"] is None
    assert mappings.normalize("rejected_because") in mappings.DROP_BY_DEFAULT


def test_read_rows_of_an_xlsx_file(tmp_path):
    import pandas as pd

    path = tmp_path / "units.xlsx"
    pd.DataFrame({"unit_code": ["A", "B"], "name": ["Satu", "Dua"], "type": ["dinas", "dinas"]}
                 ).to_excel(path, index=False)
    frame = mappings.read_rows(path, limit=1)
    assert frame.to_dict("records") == [{"line": 2, "unit_code": "A", "name": "Satu",
                                         "type": "dinas"}]
    assert list(mappings.read_rows(path, lines={3})["unit_code"]) == ["B"]


def test_every_template_loads_into_an_empty_store(empty_store, tmp_path):
    from kpi.exports import to_csv_bytes

    for kind in KINDS:
        frame = mappings.template_frame(kind)
        assert list(frame.columns) == list(REQUIRED[kind] + OPTIONAL[kind]) and len(frame) == 1
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(to_csv_bytes(frame))
        result = ingest_file(empty_store, kind, path)
        assert result.ok, (kind, [p.reason for p in result.problems])
