"""Contract §1.1 mappings: a queue machine's export goes in as it is (issue 12)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest

from kpi import import_mapping, ingest, metrics, row_files, saved_mappings, set_aside
from kpi.__main__ import main
from kpi.errors import FileRejected, InputRejected
from kpi.i18n import t
from kpi.store import Store
from tests.queue_export import HEADER, MAPPING_TOML, queue_frame, write_export, write_mapping

pytestmark = pytest.mark.usefixtures("cli_in_english")  # lines compared with English text

WHOLE_YEAR = {"date_from": dt.date(2026, 1, 1), "date_to": dt.date(2026, 12, 31)}
EVENT_KPIS = [kpi for kpi in metrics.KPIS if kpi not in ("response_count", "ikm")]


def run(capsys, store: Store, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(store.path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def with_two_bad_rows(tmp_path: Path) -> tuple[Path, list[int]]:
    """The export with a misspelt status and an impossible arrival time (file lines named)."""
    frame = queue_frame()
    frame.loc[10, "Status"] = "Selesaii"
    frame.loc[40, "Jam Datang"] = "25:61:00"
    return write_export(tmp_path / "antrian-bad.csv", frame), [10 + 2, 40 + 2]


def test_the_mapped_export_gives_exactly_the_kpis_of_the_clean_import(example_store, units_only,
                                                                      tmp_path, capsys):
    export = write_export(tmp_path / "antrian.csv")
    assert b";" in export.read_bytes()[:200] and b"\r\n" in export.read_bytes()[:200]
    code, out, err = run(capsys, units_only, "ingest", "events", str(export),
                         "--mapping", str(write_mapping(tmp_path / "antrian.toml")))
    assert code == 0, err
    assert "835 rows" in out
    for period in ("day", "week", "month"):
        clean = metrics.kpi_table(example_store, period=period, kpis=EVENT_KPIS, **WHOLE_YEAR)
        mapped = metrics.kpi_table(units_only, period=period, kpis=EVENT_KPIS, **WHOLE_YEAR)
        assert len(clean) >= 60
        pd.testing.assert_frame_equal(clean, mapped)
    tickets = units_only.query_rows("SELECT ticket_id FROM events ORDER BY arrived_at LIMIT 1")
    assert tickets[0][0].count("/") == 2 and tickets[0][0].endswith("-1")  # date-queue number


def test_two_bad_rows_reject_the_whole_file_naming_the_source_lines(units_only, tmp_path, capsys,
                                                                    fingerprint):
    bad, lines = with_two_bad_rows(tmp_path)
    before = fingerprint(units_only)
    code, out, err = run(capsys, units_only, "ingest", "events", str(bad),
                         "--mapping", str(write_mapping(tmp_path / "m.toml")))
    assert code == 2
    # Named as the file has them (issue 22): its columns and the mapping's format.
    assert f"line {lines[0]}, Status: Outcome Selesaii is not one of" in out
    assert (f"line {lines[1]}, Tanggal + Jam Datang: " in out and "25:61:00 is not a date and "
            "time in the format %d/%m/%Y %H:%M:%S that the mapping reads Tanggal + Jam Datang "
            "with." in out)
    assert "problems found: 2" in err
    assert fingerprint(units_only) == before


def test_accept_valid_imports_the_rest_and_sets_two_aside(units_only, tmp_path, capsys):
    bad, lines = with_two_bad_rows(tmp_path)
    mapping_file = write_mapping(tmp_path / "m.toml")
    code, out, err = run(capsys, units_only, "ingest", "events", str(bad),
                         "--mapping", str(mapping_file), "--accept-valid")
    assert code == 0, err
    assert f"2 rows set aside (lines {lines[0]}, {lines[1]})" in out
    assert units_only.query_value("SELECT count(*) FROM events") == 833
    batch = int(units_only.query_value("SELECT max(batch_id) FROM batches"))
    assert set_aside.counts(units_only) == {batch: 2}
    listed = set_aside.listing(units_only, "en")
    assert list(listed["line"]) == lines and "Selesaii" in listed["reason"].iloc[0]

    # The download is the source's own shape plus the reason: fix it, import it again.
    content, count = set_aside.rows_file(units_only, batch, "en")
    assert count == 2
    text = content.decode("utf-8-sig")
    assert text.startswith(";".join(HEADER) + ";rejected_because\r\n")
    fixed = text.replace("Selesaii", "Selesai").replace("25:61:00", "09:00:00")
    again = tmp_path / "antrian-fixed.csv"
    again.write_bytes(fixed.encode("utf-8"))
    result = ingest.ingest_file(units_only, "events", again,
                                mapping=import_mapping.load(mapping_file))
    assert result.ok, [p.reason for p in result.problems]
    assert result.inserted == 2
    assert set_aside.counts(units_only) == {}  # gone once their keys came in
    ingest.rollback(units_only, result.batch_id)
    assert set_aside.counts(units_only) == {batch: 2}  # rolling back brings them back


def test_all_or_nothing_stays_the_default_in_the_engine(units_only, tmp_path):
    bad, _ = with_two_bad_rows(tmp_path)
    mapping = import_mapping.parse(MAPPING_TOML)
    result = ingest.ingest_file(units_only, "events", bad, mapping=mapping)
    assert not result.ok and result.batch_id is None
    assert units_only.query_value("SELECT count(*) FROM events") == 0


def test_a_mapping_naming_a_missing_column_rejects_the_file_in_one_sentence(units_only, tmp_path):
    frame = queue_frame().drop(columns=["Loket"])
    export = write_export(tmp_path / "antrian.csv", frame)
    with pytest.raises(FileRejected) as caught:
        ingest.ingest_file(units_only, "events", export, mapping=import_mapping.parse(MAPPING_TOML))
    assert str(caught.value) == "The mapping names the column Loket, which antrian.csv does not have."
    assert "Pemetaan menyebut kolom Loket" in caught.value.localized("id")


def test_constants_date_only_timestamps_and_unlisted_columns(units_only, tmp_path):
    export = tmp_path / "pkm1.csv"
    export.write_text(
        "No;Layanan;Datang;Hasil;Catatan\n"
        "1;UMUM;16/02/2026 08:00;Batal;a note\n"
        "2;UMUM;16/02/2026 08:05;tidak hadir ;x\n", encoding="utf-8")
    mapping = import_mapping.parse("""
kind = "events"
[columns]
ticket_id = "No"
service_code = "Layanan"
outcome = "Hasil"
[constants]
unit_code = "PKM-1"
[timestamps.arrived_at]
column = "Datang"
format = "%d/%m/%Y %H:%M"
[values.outcome]
"Batal" = "abandoned"
"TIDAK HADIR" = "no_show"
""")
    result = ingest.ingest_file(units_only, "events", export, mapping=mapping)
    assert result.ok, [p.reason for p in result.problems]
    rows = units_only.query_rows(
        "SELECT unit_code, ticket_id, arrived_at, outcome, channel FROM events ORDER BY ticket_id")
    assert rows == [("PKM-1", "1", dt.datetime(2026, 2, 16, 8, 0), "abandoned", None),
                    ("PKM-1", "2", dt.datetime(2026, 2, 16, 8, 5), "no_show", None)]


@pytest.mark.parametrize(("text", "fragment"), [
    ('kind = "visits"', "kind must be one of"),
    ('kind = "events"\n[columns]\nticket = "No"', "ticket is not a column of events files"),
    ('kind = "events"\n[timestamps.arrived_at]\ncolumn = "A"', "needs a format"),
    ('kind = "events"\n[compose]\nticket_id = ["A"]', "at least two source columns"),
    ('kind = "events"\ndelimiter = "|"', "delimiter must be"),
    ('kind = "events"\n[columns\n', "not valid TOML"),
    ('kind = "events"\n[columns]\nunit_code = "A"\n[constants]\nunit_code = "X"',
     "gives unit_code more than once"),
])
def test_a_wrong_mapping_is_one_sentence(text, fragment):
    with pytest.raises(InputRejected, match=fragment):
        import_mapping.parse(text)


def test_the_toml_round_trips():
    mapping = import_mapping.parse(MAPPING_TOML)
    assert import_mapping.parse(mapping.to_toml()) == mapping
    assert mapping.fits(HEADER) and not mapping.fits(HEADER[:-1])


def test_mappings_commands(units_only, tmp_path, capsys):
    source = write_mapping(tmp_path / "antrian.toml")
    code, out, _ = run(capsys, units_only, "mappings", "import", str(source), "--name", "SIMPUS")
    assert code == 0 and "SIMPUS" in out
    code, out, _ = run(capsys, units_only, "mappings", "list")
    assert out.startswith("SIMPUS\tevents\t")
    code, out, _ = run(capsys, units_only, "mappings", "show", "SIMPUS")
    assert import_mapping.parse(out) == import_mapping.parse(MAPPING_TOML)
    code, _, _ = run(capsys, units_only, "mappings", "export", "SIMPUS", str(tmp_path / "out.toml"))
    assert import_mapping.load(tmp_path / "out.toml") == import_mapping.parse(MAPPING_TOML)
    code, _, err = run(capsys, units_only, "mappings", "show", "nothing")
    assert code == 2 and "no saved mapping named" in err
    # A saved mapping's name works for --mapping too.
    export = write_export(tmp_path / "antrian.csv")
    code, out, err = run(capsys, units_only, "ingest", "events", str(export), "--mapping", "SIMPUS")
    assert code == 0, err


def test_the_saved_mapping_fits_by_header_and_reads_old_json(units_only):
    saved_mappings.save_mapping(units_only, "SIMPUS", import_mapping.parse(MAPPING_TOML), by="ana")
    saved = saved_mappings.list_mappings(units_only)
    assert saved_mappings.fitting_mapping(saved, [h.upper() for h in HEADER]) == "SIMPUS"
    assert saved_mappings.fitting_mapping(saved, HEADER, kind="survey") is None
    assert saved_mappings.fitting_mapping(saved, HEADER[:3]) is None
    with units_only.transaction() as cur:  # a rename-only mapping saved before section 1.1
        cur.execute("INSERT INTO column_mappings VALUES ('old', 'events', "
                    "'{\"No Antrian\": \"ticket_id\", \"Petugas\": null}', 'ana', now()::TIMESTAMP)")
    assert saved_mappings.load_mapping(units_only, "old").columns == {"ticket_id": "No Antrian"}


def test_rejected_rows_come_back_with_the_mapping(units_only, tmp_path):
    """D2: the rejected-rows file, with its `rejected_because` column, imports with the mapping
    it was checked with once fixed (the reasons column is not a column the mapping names)."""
    bad, _ = with_two_bad_rows(tmp_path)
    mapping = import_mapping.parse(MAPPING_TOML)
    result = ingest.ingest_file(units_only, "events", bad, mapping=mapping, dry_run=True)
    content = row_files.rejected_csv(bad, result.problems, "en")
    assert content.decode("utf-8-sig").split("\r\n")[0].endswith(";rejected_because")
    rejected = pd.read_csv(io.BytesIO(content), sep=";", dtype=str, encoding="utf-8-sig")
    assert len(rejected) == 2
    fixed = tmp_path / "fixed.csv"
    fixed.write_bytes(content.decode("utf-8-sig").replace("Selesaii", "Selesai")
                      .replace("25:61:00", "09:00:00").encode("utf-8"))
    again = ingest.ingest_file(units_only, "events", fixed, mapping=mapping)
    assert again.ok and again.rows == 2


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_mapped_files_problems_name_its_own_columns_and_formats(units_only, tmp_path, lang):
    # Issue 22: the reasons cited the contract's "YYYY-MM-DD HH:MM" and completed_at where the
    # analyst knows "Waktu Selesai" and %d/%m/%Y.
    frame = queue_frame()
    done = frame.index[frame["Status"] == "Selesai"]
    frame.loc[done[0], "Waktu Selesai"] = "31/02/2026 10:00:00"
    called = frame.loc[done[1], "Waktu Dipanggil"]
    frame.loc[done[1], "Waktu Selesai"] = called.replace(called[-8:-6], f"{int(called[-8:-6]) - 1:02d}")
    export = write_export(tmp_path / "antrian-bad.csv", frame)
    mapping = import_mapping.load(write_mapping(tmp_path / "m.toml"))
    result = ingest.ingest_file(units_only, "events", export, mapping=mapping)
    shown = [(problem.line, problem.column, problem.message(lang)) for problem in result.problems]
    earlier = frame.loc[done[1], "Waktu Selesai"]
    assert shown == [
        (done[0] + 2, "Waktu Selesai", t("mappedreason.bad_timestamp", lang,
                                         value="31/02/2026 10:00:00", format="%d/%m/%Y %H:%M:%S",
                                         column="Waktu Selesai")),
        (done[1] + 2, "Waktu Selesai", t("mappedreason.completed_before_started", lang,
                                         column="Waktu Selesai", value=earlier,
                                         other="Waktu Dipanggil")),
    ]
    assert not any("YYYY" in text or "completed_at" in text or "started_at" in text
                   for _, _, text in shown)


def test_an_unmapped_files_problems_keep_the_contracts_words(units_only, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,"
                    "outcome,channel\nPKM-1,UMUM,T-1,31/03/2026 08:00,,,no_show,counter\n",
                    encoding="utf-8")
    [problem] = ingest.ingest_file(units_only, "events", path).problems
    assert (problem.column, problem.key) == ("arrived_at", "ingest.bad_timestamp")
    assert "YYYY-MM-DD HH:MM" in problem.message("en")
