"""The Upload page through AppTest: good files commit and change the numbers; every kind of bad
input is reported in the reader's language, by line, and writes nothing."""

from __future__ import annotations

import datetime as dt
import tempfile

import pytest

from kpi import import_mapping, metrics, saved_mappings
from kpi.errors import FileRejected
from kpi.i18n import fmt_int, t
from kpi.ingest import ingest_file
from kpi.labels import kpi_short
from tests.helpers import (
    BAD_EVENTS,
    EVENTS_HEADER,
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

WEEK = dt.date(2026, 3, 23)
GOOD_EVENTS = "\n".join([
    EVENTS_HEADER,
    "PKM-2,UMUM,UP-1,2026-03-24 08:00:00,2026-03-24 08:05:00,2026-03-24 08:30:00,completed,counter",
    "PKM-2,UMUM,UP-2,2026-03-24 09:00:00,2026-03-24 09:05:00,2026-03-24 09:40:00,completed,online",
    "PKM-2,KIA,UP-3,2026-03-25 10:00:00,2026-03-25 10:02:00,2026-03-25 10:20:00,completed,counter",
]) + "\n"
SURVEY_HEADER = "unit_code,response_id,submitted_at,u1,u2,u3,u4,u5,u6,u7,u8,u9"


def throughput(store, unit: str = "PKM-2") -> float | None:
    values = metrics.kpi_values(store, period="week", date_from=WEEK, date_to=WEEK,
                                units=[unit], kpis=["throughput"])
    return None if values.empty else float(values["value"].iloc[0])


def choose_kind(at, kind: str):
    at.selectbox(key="upload_kind").set_value(kind)
    return run(at)


def engine_problems(store, kind: str, tmp_path, name: str, content: bytes, lang: str):
    """What the engine says about the same bytes: (line, column, message in `lang`) rows."""
    path = tmp_path / name
    path.write_bytes(content)
    try:
        problems = ingest_file(store, kind, path, dry_run=True).problems
    except FileRejected as rejected:
        problems = rejected.problems
    return problems, [(p.line, p.column or "", p.message(lang)) for p in problems]


def shown_problems(at, lang: str) -> list[tuple]:
    frame = table_with(at, t("upload.col_reason", lang))
    lines = [None if line == "" else int(line) for line in frame[t("upload.col_line", lang)]]
    return list(zip(lines, frame[t("upload.col_column", lang)],
                    frame[t("upload.col_reason", lang)], strict=True))


def test_good_file_commits_and_the_numbers_change(example_store, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # to see the upload's copies
    before = throughput(example_store)
    at = upload(open_view(example_store, monkeypatch, "upload", role="analyst"), ("events-w13.csv", GOOD_EVENTS.encode()))
    assert at.selectbox[1].value == "events"  # detected from the columns
    at = click(at, t("upload.validate", "en"))
    assert t("upload.valid", "en", rows="3") in texts(at.success)
    assert throughput(example_store) == before, "checking wrote something"
    at = click(at, t("upload.commit", "en"))
    batch = int(example_store.query_value("SELECT max(batch_id) FROM batches"))
    assert t("upload.committed", "en", batch=batch, inserted="3", replaced="0") in texts(at.success)
    assert throughput(example_store) == before + 3
    assert list(tmp_path.glob("kinerja-upload-*")) == [], "a temporary copy was left behind"
    assert example_store.query_value(
        "SELECT file_name FROM batches WHERE batch_id = ?", [batch]) == "events-w13.csv"
    # The overview (last complete week: 23 March) shows the city's new number at once.
    at.switch_page("pages/overview.py")
    at = run(at)
    tiles = {metric.label: metric.value for metric in at.metric}
    assert tiles[kpi_short("throughput", "en")] == fmt_int(throughput(example_store, "*"), "en")


@pytest.mark.parametrize("lang", ["en", "id"])
def test_bad_rows_are_listed_by_line_in_the_users_language(example_store, fingerprint,
                                                           monkeypatch, tmp_path, lang):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # to see the upload's copies
    before = fingerprint(example_store)
    at = upload(open_view(example_store, monkeypatch, "upload", role="analyst", lang=lang),
                ("events-bad.csv", BAD_EVENTS.encode()))
    at = click(at, t("upload.validate", lang))
    problems, expected = engine_problems(example_store, "events", tmp_path, "bad.csv",
                                         BAD_EVENTS.encode(), lang)
    assert {(p.line, p.key) for p in problems} == {
        (2, "ingest.bad_timestamp"), (3, "ingest.completed_before_arrived"),
        (4, "ingest.unknown_unit"), (5, "ingest.unknown_service"), (7, "ingest.duplicate_key")}
    assert shown_problems(at, lang) == expected
    assert t("upload.problems_found", lang, count="5") in texts(at.error)
    assert not buttons(at, t("upload.commit", lang))
    labels = [button.label for button in at.download_button]
    assert t("upload.download_rejected", lang, count="5") in labels
    assert fingerprint(example_store) == before
    assert list(tmp_path.glob("kinerja-upload-*")) == [], "a temporary copy was left behind"


def survey_row(answers: str) -> str:
    return f"PKM-1,R-NEW-1,2026-03-24 10:00:00,{answers}"


BAD_FILES = {
    "missing column": ("events", "events.csv", b"unit_code,service_code,ticket_id,arrived_at\n"
                       b"PKM-1,UMUM,X1,2026-03-24 08:00:00\n"),
    "misspelt column": ("events", "events.csv", EVENTS_HEADER.replace("ticket_id", "tiket_id")
                        .encode() + b"\nPKM-1,UMUM,X1,2026-03-24 08:00:00,,,no_show,counter\n"),
    "extra column": ("events", "events.csv", (EVENTS_HEADER + ",remark\n").encode()
                     + b"PKM-1,UMUM,X1,2026-03-24 08:00:00,,,no_show,counter,hi\n"),
    "empty file": ("events", "events.csv", b""),
    "header only": ("events", "events.csv", (EVENTS_HEADER + "\n").encode()),
    "wrong separator": ("events", "events.csv", EVENTS_HEADER.replace(",", "\t").encode()
                        + b"\nPKM-1\tUMUM\tX1\t2026-03-24 08:00:00\t\t\tno_show\tcounter\n"),
    "not UTF-8": ("units", "units.csv", "unit_code,name,type\nPKM-3,Puskesmas Sélayang,puskesmas\n"
                  .encode("latin-1")),
    "u-value 5": ("survey", "survey.csv", f"{SURVEY_HEADER}\n{survey_row('3,3,5,3,3,3,3,3,3')}\n"
                  .encode()),
    "PNG renamed .csv": ("events", "photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_is_reported_and_nothing_written(example_store, fingerprint, monkeypatch,
                                                  tmp_path, case):
    kind, name, content = BAD_FILES[case]
    before = fingerprint(example_store)
    at = choose_kind(open_view(example_store, monkeypatch, "upload", role="analyst", lang="id"), kind)
    at = upload(at, (name, content))
    if buttons(at, t("upload.validate", "id")):
        at = click(at, t("upload.validate", "id"))
    _, expected = engine_problems(example_store, kind, tmp_path, name, content, "id")
    assert expected, f"{case}: the engine found nothing wrong"
    assert shown_problems(at, "id") == expected
    assert not buttons(at, t("upload.commit", "id"))
    assert fingerprint(example_store) == before


def test_file_over_the_upload_limit(example_store, fingerprint, monkeypatch):
    monkeypatch.setenv("KPI_UPLOAD_LIMIT_MB", "1")
    row = "PKM-2,UMUM,T{0},2026-03-24 08:00:00,,,no_show,counter\n"
    content = (EVENTS_HEADER + "\n" + "".join(row.format(i) for i in range(25_000))).encode()
    assert len(content) > 1024 * 1024
    before = fingerprint(example_store)
    at = upload(open_view(example_store, monkeypatch, "upload", role="analyst"), ("big.csv", content))
    size = f"{len(content) / 1024 / 1024:.2f} MB"
    assert t("upload.too_large", "en", file="big.csv", size=size, limit="1") in texts(at.error)
    assert not buttons(at, t("upload.validate", "en"))
    assert fingerprint(example_store) == before


def test_two_files_one_bad_the_good_one_still_imports(example_store, monkeypatch):
    units = b"unit_code,name,type,parent_code,district\nPKM-3,Puskesmas Tiga,puskesmas,DINKES,Medan Johor\n"
    at = upload(open_view(example_store, monkeypatch, "upload", role="analyst"),
                ("events-bad.csv", BAD_EVENTS.encode()), ("units-new.csv", units))
    assert [s.value for s in at.subheader][:2] == ["units-new.csv", "events-bad.csv"]  # load order
    for index in range(2):
        buttons(at, t("upload.validate", "en"))[index].click()
        at = run(at)
    assert len(buttons(at, t("upload.commit", "en"))) == 1
    assert t("upload.problems_found", "en", count="5") in texts(at.error)
    at = click(at, t("upload.commit", "en"))
    assert example_store.query_value("SELECT count(*) FROM units WHERE unit_code = 'PKM-3'") == 1
    assert example_store.query_value("SELECT count(*) FROM events WHERE ticket_id LIKE 'BAD-%'") == 0
    assert t("upload.problems_found", "en", count="5") in texts(at.error)  # still reported


INDONESIAN_EVENTS = "\n".join([
    "Kode Unit;Kode Layanan;No Antrian;Waktu Datang;Jam Mulai;Jam Selesai;Status;Kanal",
    "PKM-2;UMUM;ID-1;2026-03-24 08:00:00;2026-03-24 08:05:00;2026-03-24 08:30:00;completed;counter",
    "PKM-2;UMUM;ID-2;2026-03-24 09:00:00;2026-03-24 09:10:00;2026-03-24 09:30:00;completed;counter",
]) + "\n"


def test_indonesian_columns_are_mapped_saved_and_imported(example_store, monkeypatch):
    before = throughput(example_store)
    at = upload(open_view(example_store, monkeypatch, "upload", role="analyst", lang="id"),
                ("antrian.csv", INDONESIAN_EVENTS.encode()))
    assert at.selectbox[1].value == "events"
    assert mapping_sources(at) == {
        "unit_code": "Kode Unit", "service_code": "Kode Layanan", "ticket_id": "No Antrian",
        "arrived_at": "Waktu Datang", "started_at": "Jam Mulai", "completed_at": "Jam Selesai",
        "outcome": "Status", "channel": "Kanal"}
    at.text_input(key=next(w.key for w in at.text_input if w.key.endswith("_name"))).set_value("SIMPUS")
    at = click(run(at), t("mapping.save", "id"))
    assert t("mapping.saved", "id", name="SIMPUS") in texts(at.success)
    saved = saved_mappings.load_mapping(example_store, "SIMPUS")
    assert saved.kind == "events" and saved.columns["ticket_id"] == "No Antrian"
    at = click(at, t("upload.validate", "id"))
    at = click(at, t("upload.commit", "id"))
    assert throughput(example_store) == before + 2


def test_mapping_that_leaves_a_required_column_unmapped_is_refused(example_store, fingerprint,
                                                                   monkeypatch):
    before = fingerprint(example_store)
    at = upload(open_view(example_store, monkeypatch, "upload", role="analyst"),
                ("antrian.csv", INDONESIAN_EVENTS.encode()))
    mapping_box(at, "ticket_id").set_value("")
    at = run(at)
    at.multiselect(key=next(m.key for m in at.multiselect if m.key.endswith("_left_out"))
                   ).set_value(["No Antrian"])
    at = run(at)
    assert t("mapping.unmapped_required", "en", columns="ticket_id") in texts(at.error)
    assert buttons(at, t("upload.validate", "en"))[0].disabled
    assert fingerprint(example_store) == before


def test_saved_mapping_is_reused_for_next_weeks_file(example_store, monkeypatch):
    saved_mappings.save_mapping(example_store, "Loket", import_mapping.rename_only("events", {
        "Loket": "unit_code", "Layanan": "service_code", "Nomor": "ticket_id",
        "Masuk": "arrived_at", "Hasil": "outcome", "Catatan": None}), by="tests")
    text = ("Loket,Layanan,Nomor,Masuk,Hasil,Catatan\n"
            "PKM-2,UMUM,L-1,2026-03-24 08:00:00,no_show,x\n")
    at = choose_kind(open_view(example_store, monkeypatch, "upload", role="analyst"), "events")
    at = upload(at, ("loket.csv", text.encode()))
    saved_box = next(b for b in at.selectbox if b.key and b.key.endswith("_saved"))
    assert saved_box.value == "Loket"  # the header fits: applied without asking
    assert t("mapping.applied", "en", name="Loket") in texts(at.caption)
    assert mapping_sources(at) == {"unit_code": "Loket", "service_code": "Layanan",
                                   "ticket_id": "Nomor", "arrived_at": "Masuk",
                                   "started_at": "", "completed_at": "", "outcome": "Hasil",
                                   "channel": ""}
    left_out = next(m for m in at.multiselect if m.key.endswith("_left_out"))
    assert left_out.value == ["Catatan"]
    at = click(at, t("upload.validate", "en"))
    assert t("upload.valid", "en", rows="1") in texts(at.success)


def test_navigating_away_mid_way_writes_nothing(example_store, fingerprint, monkeypatch):
    before = fingerprint(example_store)
    at = upload(open_view(example_store, monkeypatch, "upload", role="analyst"), ("events.csv", GOOD_EVENTS.encode()))
    at = click(at, t("upload.validate", "en"))
    assert buttons(at, t("upload.commit", "en"))
    at.switch_page("pages/history.py")
    at = run(at)
    assert [title.value for title in at.title] == [t("history.title", "en")]
    assert fingerprint(example_store) == before


def test_templates_are_offered_for_every_kind(example_store, monkeypatch):
    at = open_view(example_store, monkeypatch, "upload", role="analyst", lang="id")
    labels = [button.label for button in at.download_button]
    for kind in ("units", "services", "events", "survey", "targets"):
        assert t(f"upload.kind_{kind}", "id") in labels


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_wrong_file_type_is_refused_in_the_readers_language(example_store, fingerprint,
                                                              monkeypatch, lang):
    """Issue 22 (minor): the uploader refused it with an English hover text beside "no file"."""
    before = fingerprint(example_store)
    at = upload(open_view(example_store, monkeypatch, "upload", role="analyst", lang=lang),
                ("laporan.pdf", b"%PDF-1.4 laporan mingguan"))
    assert t("partial.wrong_type", lang, file="laporan.pdf", types=".csv, .gz, .xlsx") in texts(
        at.error)
    assert not buttons(at, t("upload.validate", lang))
    assert fingerprint(example_store) == before
