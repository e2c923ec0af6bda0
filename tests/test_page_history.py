"""The Import history page: every batch listed; undo with a confirmation that says what goes;
refusals in the reader's language; the numbers go back at once."""

from __future__ import annotations

import datetime as dt

from kpi import metrics
from kpi.i18n import t
from kpi.ingest import ingest_file
from tests.helpers import buttons, click, open_view, run, table_with, texts

WEEK = dt.date(2026, 3, 23)
HEADER = "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel"


def events_batch(store, tmp_path, name: str, *tickets: str) -> int:
    path = tmp_path / name
    rows = [f"PKM-2,UMUM,{ticket},2026-03-24 08:00:00,2026-03-24 08:05:00,2026-03-24 08:30:00,"
            "completed,counter" for ticket in tickets]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = ingest_file(store, "events", path, loaded_by="ana")
    assert result.ok
    return result.batch_id


def throughput(store) -> float:
    values = metrics.kpi_values(store, period="week", date_from=WEEK, date_to=WEEK,
                                units=["PKM-2"], kpis=["throughput"])
    return float(values["value"].iloc[0])


def test_every_batch_is_listed_in_the_readers_language(example_store, monkeypatch):
    at = open_view(example_store, monkeypatch, "history", role="analyst", lang="id")
    table = table_with(at, t("history.col_batch", "id"))
    assert list(table[t("history.col_batch", "id")]) == [5, 4, 3, 2, 1]  # newest first
    assert list(table[t("history.col_kind", "id")]) == [
        t(f"upload.kind_{kind}", "id") for kind in ("targets", "survey", "events", "services", "units")]
    assert list(table[t("history.col_file", "id")])[-1] == "units.csv"
    assert set(table[t("history.col_by", "id")]) == {"tests"}
    assert table[t("history.col_rows", "id")].iloc[2] == "835"
    assert set(table[t("history.col_status", "id")]) == {f"✓ {t('history.status_committed', 'id')}"}
    assert all(len(checksum) == 64 for checksum in table[t("history.col_checksum", "id")])


def test_rollback_asks_first_then_restores_the_numbers(example_store, monkeypatch, tmp_path):
    before = throughput(example_store)
    batch = events_batch(example_store, tmp_path, "extra.csv", "H-1", "H-2")
    assert throughput(example_store) == before + 2
    at = open_view(example_store, monkeypatch, "history", role="analyst")
    assert at.selectbox(key="history_batch").value == batch
    at = click(at, t("history.undo_button", "en"))
    warning = texts(at.warning)[0]
    assert f"batch {batch}" in warning and "extra.csv" in warning
    assert "Its 2 rows are removed" in warning and "the 0 rows it replaced" in warning
    assert throughput(example_store) == before + 2, "asking wrote something"
    at = click(at, t("history.confirm_yes", "en", batch=batch))
    assert t("history.rolled_back", "en", batch=batch, removed="2", restored="0") in texts(at.success)
    assert throughput(example_store) == before
    table = table_with(at, t("history.col_batch", "en"))
    status = table[t("history.col_status", "en")].iloc[0]
    assert status.startswith(f"↩ {t('history.status_rolled_back', 'en')}")
    assert batch not in at.selectbox(key="history_batch").options


def test_cancel_writes_nothing(example_store, fingerprint, monkeypatch):
    before = fingerprint(example_store)
    at = click(open_view(example_store, monkeypatch, "history", role="analyst"), t("history.undo_button", "en"))
    at = click(at, t("history.cancel", "en"))
    assert not at.warning
    assert fingerprint(example_store) == before


def test_refusal_is_shown_in_the_readers_language(example_store, fingerprint, monkeypatch, tmp_path):
    first = events_batch(example_store, tmp_path, "first.csv", "R-1")
    later = events_batch(example_store, tmp_path, "again.csv", "R-1")  # replaces first's row
    before = fingerprint(example_store)
    at = open_view(example_store, monkeypatch, "history", role="analyst", lang="id")
    at.selectbox(key="history_batch").set_value(first)
    at = click(run(at), t("history.undo_button", "id"))
    at = click(at, t("history.confirm_yes", "id", batch=first))
    assert t("batches.later_batch", "id", batch=first, later=later) in texts(at.error)
    assert fingerprint(example_store) == before
    assert not buttons(at, t("history.confirm_yes", "id", batch=first))


def test_empty_store_says_nothing_was_loaded(empty_store, monkeypatch):
    at = open_view(empty_store, monkeypatch, "history", role="analyst")
    assert t("history.empty", "en") in texts(at.info)


def test_the_newest_batch_is_offered_after_a_new_import_unless_one_was_chosen(
        example_store, monkeypatch, tmp_path):
    from ui.data import forget_version

    at = open_view(example_store, monkeypatch, "history", role="analyst")
    assert at.selectbox(key="history_batch").value == 5
    newer = events_batch(example_store, tmp_path, "newer.csv", "N-1")
    forget_version()  # the app's memo of the data version, as after another person's import
    run(at)
    assert at.selectbox(key="history_batch").value == newer
    at.selectbox(key="history_batch").set_value(3)
    run(at)
    newest = events_batch(example_store, tmp_path, "newest.csv", "N-2")
    forget_version()
    run(at)
    assert at.selectbox(key="history_batch").value == 3  # the person's choice stands
    assert at.selectbox(key="history_batch").options[0].startswith(f"Batch {newest} ")
