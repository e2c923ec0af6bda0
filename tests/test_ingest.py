"""The import engine (kpi/ingest.py): the bad-input list of the Foundation issue, one test per
case, each proving that the store is unchanged afterwards; then the good forms of a file,
re-import, rollback, column maps and dry runs."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pandas as pd
import pytest

from kpi import ingest
from kpi.errors import FileRejected, InputRejected
from kpi.ingest import ingest_file
from kpi.sources import read_columns
from kpi.vocabulary import KINDS, detect_kind

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "shared" / "spec" / "example"

EVENTS_HEADER = "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel"
GOOD_EVENT = "PKM-1,UMUM,NEW-1,2026-03-30 08:00:00,2026-03-30 08:05:00,2026-03-30 08:30:00,completed,counter"
SURVEY_HEADER = "unit_code,response_id,submitted_at,u1,u2,u3,u4,u5,u6,u7,u8,u9,service_code"


def write(folder: Path, name: str, text: str, *, encoding: str = "utf-8",
          newline: str = "\n") -> Path:
    path = folder / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def events_file(folder: Path, *rows: str, name: str = "events.csv") -> Path:
    return write(folder, name, "\n".join([EVENTS_HEADER, *rows]) + "\n")


def rejected(store, fingerprint, kind: str, path: Path, **kwargs) -> ingest.IngestResult:
    """Import `path`, expect row problems, and prove nothing was written."""
    before = fingerprint(store)
    result = ingest_file(store, kind, path, **kwargs)
    assert not result.ok and result.batch_id is None
    assert fingerprint(store) == before
    return result


def refused(store, fingerprint, kind: str, path: Path) -> FileRejected:
    """Import `path`, expect a whole-file rejection, and prove nothing was written."""
    before = fingerprint(store)
    with pytest.raises(FileRejected) as caught:
        ingest_file(store, kind, path)
    assert fingerprint(store) == before
    return caught.value


def only(result: ingest.IngestResult) -> tuple[int | None, str | None, str]:
    assert len(result.problems) == 1, [p.reason for p in result.problems]
    problem = result.problems[0]
    return problem.line, problem.column, problem.reason


# -- the bad-input list ---------------------------------------------------------------------------
def test_missing_required_column(example_store, fingerprint, tmp_path):
    path = write(tmp_path, "events.csv", "unit_code,service_code,ticket_id,outcome\n"
                 "PKM-1,UMUM,X-1,completed\n")
    error = refused(example_store, fingerprint, "events", path)
    assert "required column arrived_at is missing" in str(error)
    assert isinstance(error, InputRejected)


def test_misspelt_column_suggests_the_contract_name(example_store, fingerprint, tmp_path):
    path = write(tmp_path, "events.csv", EVENTS_HEADER.replace("arrived_at", "arived_at")
                 + "\n" + GOOD_EVENT + "\n")
    error = refused(example_store, fingerprint, "events", path)
    assert str(error) == "Column arived_at is not one of the events columns; did you mean arrived_at?"
    assert "maksud Anda arrived_at" in error.localized("id")


def test_extra_unmapped_column(example_store, fingerprint, tmp_path):
    path = write(tmp_path, "events.csv", EVENTS_HEADER + ",operator\n" + GOOD_EVENT + ",Budi\n")
    error = refused(example_store, fingerprint, "events", path)
    assert "Column operator is not one of the events columns" in str(error)


def test_empty_file(example_store, fingerprint, tmp_path):
    error = refused(example_store, fingerprint, "events", write(tmp_path, "events.csv", ""))
    assert str(error) == "events.csv is empty."


def test_header_only(example_store, fingerprint, tmp_path):
    error = refused(example_store, fingerprint, "events", events_file(tmp_path))
    assert "has a header but no data rows" in str(error)


def test_tab_separated_file(example_store, fingerprint, tmp_path):
    path = write(tmp_path, "events.csv", (EVENTS_HEADER + "\n" + GOOD_EVENT + "\n")
                 .replace(",", "\t"))
    error = refused(example_store, fingerprint, "events", path)
    assert "separated by tabs, which is not supported" in str(error)


def test_non_utf8_bytes_name_their_line(example_store, fingerprint, tmp_path):
    rows = [GOOD_EVENT.replace("NEW-1", f"NEW-{i}") for i in range(5)]
    rows[2] = rows[2].replace("counter", "loket café")
    path = write(tmp_path, "events.csv", "\n".join([EVENTS_HEADER, *rows]) + "\n",
                 encoding="latin-1")
    error = refused(example_store, fingerprint, "events", path)
    assert str(error) == ("events.csv is not UTF-8 text: line 4 has bytes that are not UTF-8; "
                          "save it as CSV UTF-8 and try again.")


def test_non_utf8_far_into_a_file_is_found_by_the_full_read(example_store, fingerprint,
                                                             tmp_path):
    rows = [GOOD_EVENT.replace("NEW-1", f"NEW-{i}") for i in range(3000)]
    rows[2500] = rows[2500].replace("counter", "loket café")
    path = write(tmp_path, "events.csv", "\n".join([EVENTS_HEADER, *rows]) + "\n",
                 encoding="latin-1")
    error = refused(example_store, fingerprint, "events", path)
    assert "line 2502 has bytes that are not UTF-8" in str(error)


def test_date_that_does_not_exist(example_store, fingerprint, tmp_path):
    path = write(tmp_path, "targets.csv", "unit_code,kpi,target,valid_from\n"
                 "PKM-1,throughput,10,2026-02-28\nPKM-2,throughput,10,2026-02-30\n")
    result = rejected(example_store, fingerprint, "targets", path)
    assert only(result) == (3, "valid_from",
                            "2026-02-30 is not a valid date (expected YYYY-MM-DD).")
    assert result.problems[0].value == "2026-02-30"


def test_timestamp_with_offset_is_converted_to_the_deployment_zone(example_store, tmp_path):
    path = events_file(
        tmp_path,
        "PKM-1,UMUM,TZ-1,2026-02-23 23:40:00+00:00,,2026-02-24 00:10:00Z,completed,",
        "PKM-1,UMUM,TZ-2,2026-02-24 08:00:00+0700,2026-02-24T08:10,2026-02-24 08:20,completed,",
        "PKM-1,UMUM,TZ-3,2026-02-24 01:00:00.250,,,no_show,",
        "PKM-1,UMUM,TZ-4,2026-02-23 23:40+07,,,no_show,",
        "PKM-1,UMUM,TZ-5,2026-02-23T23:40:00.5-03:00,,,no_show,",
    )
    result = ingest_file(example_store, "events", path)
    assert result.ok, [p.reason for p in result.problems]
    rows = dict(example_store.query_rows(
        "SELECT ticket_id, [arrived_at, started_at, completed_at] FROM events "
        "WHERE ticket_id LIKE 'TZ-%'"))
    assert rows["TZ-1"] == [dt.datetime(2026, 2, 24, 6, 40), None, dt.datetime(2026, 2, 24, 7, 10)]
    assert rows["TZ-2"] == [dt.datetime(2026, 2, 24, 8, 0), dt.datetime(2026, 2, 24, 8, 10),
                            dt.datetime(2026, 2, 24, 8, 20)]
    assert rows["TZ-3"] == [dt.datetime(2026, 2, 24, 1, 0, 0, 250000), None, None]
    assert rows["TZ-4"][0] == dt.datetime(2026, 2, 23, 23, 40)
    assert rows["TZ-5"][0] == dt.datetime(2026, 2, 24, 9, 40, 0, 500000)


def test_timestamps_that_are_not_iso(example_store, fingerprint, tmp_path):
    bad = ["2026-2-3 1:2:3", "2026-02-23 23:40:00 Asia/Jakarta", "2026-02-23", "23/02/2026 10:00"]
    path = events_file(tmp_path, *[f"PKM-1,UMUM,B-{i},{value},,,no_show," for i, value in
                                   enumerate(bad)])
    result = rejected(example_store, fingerprint, "events", path)
    assert [(p.line, p.value, p.key) for p in result.problems] == [
        (line, value, "ingest.bad_timestamp") for line, value in enumerate(bad, start=2)]


def test_time_zone_is_configurable(example_store, tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_TZ", "Asia/Makassar")
    path = events_file(tmp_path, "PKM-1,UMUM,TZ-1,2026-02-23 23:40:00+00:00,,,no_show,")
    assert ingest_file(example_store, "events", path).ok
    assert example_store.query_value("SELECT arrived_at FROM events WHERE ticket_id = 'TZ-1'") \
        == dt.datetime(2026, 2, 24, 7, 40)


def test_completed_before_arrived(example_store, fingerprint, tmp_path):
    path = events_file(
        tmp_path, GOOD_EVENT,
        "PKM-1,UMUM,BAD-1,2026-03-30 09:00:00,,2026-03-30 08:59:00,completed,counter",
        "PKM-1,UMUM,BAD-2,2026-03-30 09:00:00,2026-03-30 09:10:00,2026-03-30 09:05:00,completed,",
        "PKM-1,UMUM,BAD-3,2026-03-30 09:00:00,2026-03-30 08:10:00,2026-03-30 09:05:00,completed,",
    )
    result = rejected(example_store, fingerprint, "events", path)
    assert [(p.line, p.column, p.key) for p in result.problems] == [
        (3, "completed_at", "ingest.completed_before_arrived"),
        (4, "completed_at", "ingest.completed_before_started"),
        (5, "started_at", "ingest.started_before_arrived"),
    ]
    assert result.problems[0].reason == "completed_at 2026-03-30 08:59:00 is before arrived_at."


@pytest.mark.parametrize("answer", ["5", "0"])
def test_u_value_outside_one_to_four(example_store, fingerprint, tmp_path, answer):
    path = write(tmp_path, "survey.csv", SURVEY_HEADER + "\n"
                 "PKM-1,R-NEW-1,2026-03-30 10:00,4,4,4,4,4,4,4,4,4,UMUM\n"
                 f"PKM-1,R-NEW-2,2026-03-30 10:00,4,4,{answer},4,4,4,4,,4,\n")
    result = rejected(example_store, fingerprint, "survey", path)
    assert only(result) == (3, "u3", f"{answer} is not an answer from 1 to 4.")


def test_unknown_unit(example_store, fingerprint, tmp_path):
    path = events_file(tmp_path, GOOD_EVENT, GOOD_EVENT.replace("PKM-1", "PKM-9"))
    result = rejected(example_store, fingerprint, "events", path)
    assert only(result) == (3, "unit_code",
                            "Unit PKM-9 is not known; load it with the units file first.")


def test_unknown_service(example_store, fingerprint, tmp_path):
    path = events_file(tmp_path, GOOD_EVENT.replace("UMUM", "KTP"))
    result = rejected(example_store, fingerprint, "events", path)
    assert only(result) == (2, "service_code", "Service KTP is not known for unit PKM-1; "
                            "load it with the services file first.")


def test_same_key_twice_names_both_lines(example_store, fingerprint, tmp_path):
    other = GOOD_EVENT.replace("NEW-1", "NEW-2")
    path = events_file(tmp_path, GOOD_EVENT, other, other.replace("counter", "phone"))
    result = rejected(example_store, fingerprint, "events", path)
    assert only(result) == (4, "ticket_id", "The key (unit_code PKM-1, ticket_id NEW-2) is also "
                            "on line 3; a key may appear only once in a file.")


@pytest.mark.slow
def test_a_50_mb_file_is_accepted(empty_store, tmp_path):
    units = write(tmp_path, "units.csv", "unit_code,name,type\nU1,Unit satu,puskesmas\n")
    services = write(tmp_path, "services.csv", "unit_code,service_code,name\nU1,S1,Umum\n")
    assert ingest_file(empty_store, "units", units).ok
    assert ingest_file(empty_store, "services", services).ok
    line = "U1,S1,{:09d},2026-03-30 08:00:00,2026-03-30 08:05:00,2026-03-30 08:30:00,completed,counter\n"
    rows = 50 * 1024 * 1024 // len(line.format(0)) + 1
    path = tmp_path / "events.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(EVENTS_HEADER + "\n")
        handle.writelines(line.format(i) for i in range(rows))
    assert path.stat().st_size >= 50 * 1024 * 1024
    result = ingest_file(empty_store, "events", path)
    assert result.ok and (result.rows, result.inserted) == (rows, rows)
    assert empty_store.query_value("SELECT count(*) FROM events") == rows


def test_png_renamed_csv(example_store, fingerprint, tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    error = refused(example_store, fingerprint, "events", path)
    assert str(error).startswith("events.csv is not a CSV or XLSX file")


def test_cell_starting_with_equals_is_stored_as_text(example_store, tmp_path):
    path = write(tmp_path, "survey.csv", SURVEY_HEADER + ",comment\n"
                 'PKM-1,R-EQ-1,2026-03-30 10:00,4,4,4,4,4,4,4,4,4,,"=HYPERLINK(""http://x"",""y"")"\n'
                 "PKM-1,R-EQ-2,2026-03-30 10:00,4,4,4,4,4,4,4,4,4,,=1+1\n")
    assert ingest_file(example_store, "survey", path).ok
    assert example_store.query_rows(
        "SELECT comment FROM survey_responses WHERE response_id LIKE 'R-EQ-%' ORDER BY 1") == [
        ('=1+1',), ('=HYPERLINK("http://x","y")',)]


def test_unit_codes_with_quotes_and_semicolons(empty_store, tmp_path):
    odd = "PKM 'A\";B"
    units = write(tmp_path, "units.csv", 'unit_code;name;type;parent_code\n'
                  '"PKM \'A"";B";Puskesmas "A";puskesmas;\n'
                  "CHILD;Anak;puskesmas;\"PKM 'A\"\";B\"\n")
    services = write(tmp_path, "services.csv", 'unit_code,service_code,name\n'
                     '"PKM \'A"";B",S;1,Umum\n')
    events = events_file(tmp_path, '"PKM \'A"";B",S;1,T1,2026-03-30 08:00,,,no_show,')
    for kind, path in (("units", units), ("services", services), ("events", events)):
        result = ingest_file(empty_store, kind, path)
        assert result.ok, [p.reason for p in result.problems]
    assert empty_store.query_rows("SELECT unit_code, parent_code FROM units ORDER BY 1") == [
        ("CHILD", odd), (odd, None)]
    assert empty_store.query_rows("SELECT unit_code, service_code FROM events") == [(odd, "S;1")]


# -- forms of a good file -------------------------------------------------------------------------
@pytest.mark.parametrize(("label", "newline", "bom", "separator"), [
    ("semicolon", "\n", "", ";"), ("bom", "\n", "\ufeff", ","), ("crlf", "\r\n", "", ","),
    ("everything", "\r\n", "\ufeff", ";"),
])
def test_separator_bom_and_crlf(example_store, tmp_path, label, newline, bom, separator):
    rows = [GOOD_EVENT, GOOD_EVENT.replace("NEW-1", "NEW-2").replace("counter", "")]
    text = bom + "\n".join([EVENTS_HEADER, *rows]).replace(",", separator) + "\n"
    result = ingest_file(example_store, "events", write(tmp_path, f"{label}.csv", text,
                                                        newline=newline))
    assert result.ok, [p.reason for p in result.problems]
    assert (result.rows, result.inserted) == (2, 2)
    assert example_store.query_rows(
        "SELECT ticket_id, channel FROM events WHERE ticket_id LIKE 'NEW-%' ORDER BY 1") == [
        ("NEW-1", "counter"), ("NEW-2", None)]


def test_line_numbers_count_quoted_line_breaks_and_blank_lines(example_store, fingerprint,
                                                               tmp_path):
    path = write(tmp_path, "survey.csv", SURVEY_HEADER + ",comment\n"
                 'PKM-1,R-1,2026-03-30 10:00,4,4,4,4,4,4,4,4,4,,"two\nlines"\n'
                 "\n"
                 "PKM-1,R-2,2026-03-30 10:00,4,4,4,4,4,4,4,4,7,,\n")
    result = rejected(example_store, fingerprint, "survey", path)
    assert only(result)[:2] == (5, "u9")


def test_xlsx(example_store, tmp_path):
    frame = pd.DataFrame({
        "Unit_Code ": ["PKM-1", "PKM-2"], "service_code": ["UMUM", "KIA"],
        "ticket_id": ["X-1", "X-2"], "arrived_at": ["2026-03-30 08:00:00", "2026-03-30 09:00"],
        "started_at": [None, None], "completed_at": ["2026-03-30 08:40:00", None],
        "outcome": ["completed", "no_show"], "channel": ["counter", None]})
    path = tmp_path / "events.xlsx"
    frame.to_excel(path, index=False)
    result = ingest_file(example_store, "events", path)
    assert result.ok, [p.reason for p in result.problems]
    assert example_store.query_rows(
        "SELECT ticket_id, completed_at FROM events WHERE ticket_id LIKE 'X-%' ORDER BY 1") == [
        ("X-1", dt.datetime(2026, 3, 30, 8, 40)), ("X-2", None)]
    frame.loc[1, "outcome"] = "lost"
    frame.to_excel(path, index=False)
    assert only(ingest_file(example_store, "events", path))[:2] == (3, "outcome")


def test_xlsx_with_date_and_number_cells(example_store, tmp_path):
    frame = pd.DataFrame({"unit_code": ["PKM-1", "*"], "kpi": ["ikm", "throughput"],
                          "target": [76.61, 30], "valid_from": [dt.datetime(2026, 5, 1)] * 2,
                          "valid_to": [dt.datetime(2026, 12, 31), None]})
    path = tmp_path / "targets.xlsx"
    frame.to_excel(path, index=False)
    result = ingest_file(example_store, "targets", path)
    assert result.ok, [p.reason for p in result.problems]
    assert example_store.query_rows(
        "SELECT unit_code, target, valid_from, valid_to FROM targets "
        "WHERE valid_from = DATE '2026-05-01' ORDER BY 1") == [
        ("*", 30.0, dt.date(2026, 5, 1), None),
        ("PKM-1", 76.61, dt.date(2026, 5, 1), dt.date(2026, 12, 31))]


def test_csv_gz(example_store, tmp_path):
    path = tmp_path / "events.csv.gz"
    path.write_bytes(gzip.compress((EVENTS_HEADER + "\n" + GOOD_EVENT + "\n").encode()))
    result = ingest_file(example_store, "events", path)
    assert result.ok and result.rows == 1 and result.file_name == "events.csv.gz"


# -- batches: re-import, rollback -----------------------------------------------------------------
def test_reimport_replaces_and_records_the_count(example_store, tmp_path):
    first = ingest_file(example_store, "events", events_file(tmp_path, GOOD_EVENT))
    path = events_file(tmp_path, GOOD_EVENT.replace("counter", "phone"),
                       GOOD_EVENT.replace("NEW-1", "NEW-2"), name="again.csv")
    second = ingest_file(example_store, "events", path, loaded_by="ana")
    assert (second.rows, second.inserted, second.replaced) == (2, 1, 1)
    assert second.batch_id == first.batch_id + 1
    assert example_store.query_rows(
        "SELECT channel, batch_id FROM events WHERE ticket_id = 'NEW-1'") == [
        ("phone", second.batch_id)]
    batches = ingest.list_batches(example_store).set_index("batch_id")
    assert batches.loc[second.batch_id, ["file_name", "rows_in_file", "rows_inserted",
                                         "rows_replaced", "loaded_by", "status"]].tolist() == [
        "again.csv", 2, 1, 1, "ana", "committed"]
    assert len(batches.loc[second.batch_id, "sha256"]) == 64


def test_reimporting_the_same_file_is_harmless(example_store):
    before = example_store.query_df("SELECT * EXCLUDE (batch_id) FROM events ORDER BY ALL")
    result = ingest_file(example_store, "events", EXAMPLE_DIR / "events.csv")
    assert (result.rows, result.inserted, result.replaced) == (835, 0, 835)
    after = example_store.query_df("SELECT * EXCLUDE (batch_id) FROM events ORDER BY ALL")
    pd.testing.assert_frame_equal(before, after)


def test_rollback_restores_exactly_the_replaced_rows(example_store, fingerprint, tmp_path):
    def data(store):
        print_ = fingerprint(store)
        return {table: print_[table] for table in ("events", "events_replaced")}

    before = data(example_store)
    path = events_file(tmp_path, GOOD_EVENT,  # new key
                       "PKM-1,UMUM,TPKM-1-000-000,2026-02-16 09:00:00,,,abandoned,phone")
    result = ingest_file(example_store, "events", path)
    assert (result.inserted, result.replaced) == (1, 1)
    undone = ingest.rollback(example_store, result.batch_id, by="ana")
    assert undone == {"batch_id": result.batch_id, "kind": "events", "removed": 2,
                      "restored": 1}
    assert data(example_store) == before
    status = ingest.list_batches(example_store).set_index("batch_id").loc[result.batch_id]
    assert status["status"] == "rolled_back" and pd.notna(status["rolled_back_at"])
    with pytest.raises(InputRejected, match="already rolled back"):
        ingest.rollback(example_store, result.batch_id)


def test_rollback_refused_while_a_later_batch_replaced_its_rows(example_store, fingerprint,
                                                                tmp_path):
    first = ingest_file(example_store, "events", events_file(tmp_path, GOOD_EVENT))
    second = ingest_file(example_store, "events", events_file(tmp_path, GOOD_EVENT, name="b.csv"))
    before = fingerprint(example_store)
    with pytest.raises(InputRejected) as caught:
        ingest.rollback(example_store, first.batch_id)
    assert str(caught.value) == (f"Batch {second.batch_id} replaced rows of batch "
                                 f"{first.batch_id}; roll back batch {second.batch_id} first.")
    assert fingerprint(example_store) == before
    ingest.rollback(example_store, second.batch_id)
    ingest.rollback(example_store, first.batch_id)
    assert not example_store.query_value("SELECT count(*) FROM events WHERE ticket_id = 'NEW-1'")


def test_rollback_of_an_unknown_batch(example_store):
    with pytest.raises(InputRejected, match=r"There is no batch 99\."):
        ingest.rollback(example_store, 99)


# -- column maps, dry runs, the example, helpers ----------------------------------------------------
def test_column_map_renames_and_drops(example_store, fingerprint, tmp_path):
    header = EVENTS_HEADER.replace("ticket_id", "Nomor Antrian") + ",petugas"
    path = write(tmp_path, "events.csv", header + "\n" + GOOD_EVENT + ",Budi\n")
    refused(example_store, fingerprint, "events", path)
    result = ingest_file(example_store, "events", path,
                         column_map={"nomor antrian": "ticket_id", "Petugas": None})
    assert result.ok and result.inserted == 1
    assert example_store.query_value("SELECT count(*) FROM events WHERE ticket_id = 'NEW-1'") == 1


def test_dry_run_checks_everything_and_writes_nothing(example_store, fingerprint, tmp_path):
    before = fingerprint(example_store)
    good = ingest_file(example_store, "events", events_file(tmp_path, GOOD_EVENT), dry_run=True)
    assert good.ok and good.dry_run and good.batch_id is None and good.inserted == 1
    bad = ingest_file(example_store, "events",
                      events_file(tmp_path, GOOD_EVENT.replace("UMUM", "XX"), name="b.csv"),
                      dry_run=True)
    assert bad.problems[0].key == "ingest.unknown_service"
    assert fingerprint(example_store) == before


def test_the_contract_example_loads_with_its_counts(example_store):
    counts = example_store.query_rows(
        "SELECT kind, rows_in_file, rows_inserted, rows_replaced FROM batches ORDER BY batch_id")
    assert counts == [("units", 4, 4, 0), ("services", 7, 7, 0), ("events", 835, 835, 0),
                      ("survey", 172, 172, 0), ("targets", 7, 7, 0)]
    assert example_store.query_value("SELECT count(*) FROM events") == 835
    assert example_store.query_value("SELECT count(*) FROM survey_responses") == 172
    assert example_store.query_rows(
        "SELECT amber_pct FROM targets WHERE unit_code = '*' ORDER BY kpi") == [
        (10.0,), (10.0,), (10.0,), (5.0,)]


def test_every_bad_row_is_listed(example_store, fingerprint, tmp_path):
    rows = [GOOD_EVENT.replace("NEW-1", f"N-{i}").replace("completed,", "done,")
            for i in range(120)]
    result = rejected(example_store, fingerprint, "events", events_file(tmp_path, *rows))
    assert [p.line for p in result.problems] == list(range(2, 122))
    assert result.rows == 120
    frame = result.problems_frame("id")
    assert list(frame.columns) == ["line", "column", "value", "reason"]
    assert frame.loc[0, "reason"] == "Hasil done bukan salah satu dari completed, abandoned, no_show."


def test_row_with_too_many_values(example_store, fingerprint, tmp_path):
    path = events_file(tmp_path, GOOD_EVENT, GOOD_EVENT.replace("NEW-1", "NEW-2") + ",extra",
                       GOOD_EVENT.replace("NEW-1", "NEW-3").replace("UMUM", "NOPE"))
    result = rejected(example_store, fingerprint, "events", path)
    assert [(p.line, p.key) for p in result.problems] == [
        (3, "ingest.bad_structure"), (4, "ingest.unknown_service")]


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("events", EVENTS_HEADER + "\nPKM-1,UMUM,T,2026-03-30 08:00,,,completed,",
     ("completed_at", "ingest.completed_needs_time")),
    ("events", EVENTS_HEADER + "\nPKM-1,UMUM,T,30/03/2026 08:00,,,no_show,",
     ("arrived_at", "ingest.bad_timestamp")),
    ("events", EVENTS_HEADER + "\nPKM-1,UMUM,,2026-03-30 08:00,,,no_show,",
     ("ticket_id", "ingest.required")),
    ("targets", "unit_code,kpi,target,valid_from\n*,speed,1,2026-01-01",
     ("kpi", "ingest.bad_kpi")),
    ("targets", "unit_code,kpi,target,valid_from\nPKM-7,ikm,80,2026-01-01",
     ("unit_code", "ingest.unknown_unit")),
    ("targets", "unit_code,kpi,target,valid_from,valid_to\n*,ikm,80,2026-02-01,2026-01-01",
     ("valid_to", "ingest.valid_to_before_from")),
    ("survey", SURVEY_HEADER + "\nPKM-2,R-X,2026-03-30 10:00,1,2,3,4,1,2,3,4,1,LAB",
     ("service_code", "ingest.unknown_service")),
    ("services", "unit_code,service_code,name,standard_minutes\nPKM-1,NEW,Baru,-5",
     ("standard_minutes", "ingest.negative")),
    ("units", "unit_code,name,type,parent_code\nPKM-3,Tiga,puskesmas,NOWHERE",
     ("parent_code", "ingest.unknown_parent")),
])
def test_row_rules(example_store, fingerprint, tmp_path, kind, text, expected):
    result = rejected(example_store, fingerprint, kind, write(tmp_path, f"{kind}.csv", text + "\n"))
    assert [(p.column, p.key) for p in result.problems] == [expected]
    assert all(p.message("id") and p.message("en") == p.reason for p in result.problems)


def test_targets_star_and_default_amber(example_store, tmp_path):
    path = write(tmp_path, "targets.csv", "unit_code,kpi,target,valid_from,valid_to,amber_pct\n"
                 "*,throughput,100,2026-04-01,,\nPKM-1,ikm,80,2026-04-01,2026-12-31,15\n")
    assert ingest_file(example_store, "targets", path).ok
    assert example_store.query_rows(
        "SELECT unit_code, amber_pct FROM targets WHERE valid_from = DATE '2026-04-01' "
        "ORDER BY 1") == [("*", 10.0), ("PKM-1", 15.0)]


def test_units_may_name_parents_inside_the_same_file(empty_store, tmp_path):
    path = write(tmp_path, "units.csv", "unit_code,name,type,parent_code\n"
                 "C,Child,puskesmas,P\nP,Parent,dinas,\n")
    assert ingest_file(empty_store, "units", path).ok


def test_read_columns_and_detect_kind(tmp_path):
    path = write(tmp_path, "x.csv", "\ufeff Unit_Code ;Ticket_ID;service_code;arrived_at;outcome\n")
    columns = read_columns(path)
    assert columns == ["Unit_Code", "Ticket_ID", "service_code", "arrived_at", "outcome"]
    assert detect_kind(columns) == "events"
    assert detect_kind(["unit_code", "name", "type"]) == "units"
    assert detect_kind(["unit_code", "service_code", "name"]) == "services"
    assert detect_kind(["whatever"]) is None


def test_load_demo_reads_csv_and_csv_gz(empty_store, tmp_path):
    for kind in KINDS:
        text = (EXAMPLE_DIR / f"{kind}.csv").read_bytes()
        if kind in ("events", "survey"):
            (tmp_path / f"{kind}.csv.gz").write_bytes(gzip.compress(text))
        else:
            (tmp_path / f"{kind}.csv").write_bytes(text)
    results = ingest.load_demo(empty_store, tmp_path)
    assert [(r.kind, r.rows, r.ok) for r in results] == [
        ("units", 4, True), ("services", 7, True), ("events", 835, True), ("survey", 172, True),
        ("targets", 7, True)]


def test_values_are_trimmed_and_blank_means_empty(example_store, fingerprint, tmp_path):
    path = events_file(tmp_path, " PKM-1 , UMUM ,  T-1 , 2026-03-30 08:00 ,  ,,no_show, ")
    result = ingest_file(example_store, "events", path)
    assert result.ok, [p.reason for p in result.problems]
    assert example_store.query_rows(
        "SELECT unit_code, service_code, ticket_id, arrived_at, started_at, channel FROM events "
        "WHERE ticket_id = 'T-1'") == [
        ("PKM-1", "UMUM", "T-1", dt.datetime(2026, 3, 30, 8, 0), None, None)]
    blank = events_file(tmp_path, "PKM-1,UMUM,   ,2026-03-30 08:00,,,no_show,", name="b.csv")
    assert only(rejected(example_store, fingerprint, "events", blank))[:2] == (2, "ticket_id")


def test_a_loop_of_parents_is_rejected(example_store, fingerprint, tmp_path):
    loop = write(tmp_path, "units.csv", "unit_code,name,type,parent_code\n"
                 "A,A,dinas,B\nB,B,dinas,C\nC,C,dinas,A\nD,D,dinas,A\n")
    result = rejected(example_store, fingerprint, "units", loop)
    assert [(p.line, p.key) for p in result.problems] == [
        (2, "ingest.parent_cycle"), (3, "ingest.parent_cycle"), (4, "ingest.parent_cycle")]
    assert result.problems[0].reason == ("Unit A would become its own ancestor: the chain of "
                                         "parents from B leads back to it.")
    # Through the store: DINKES is PKM-1's parent, so DINKES under PKM-1 closes a loop.
    through_store = write(tmp_path, "again.csv", "unit_code,name,type,parent_code\n"
                          "DINKES,Dinas,dinas,PKM-1\n")
    assert only(rejected(example_store, fingerprint, "units", through_store))[:2] == (
        2, "parent_code")
