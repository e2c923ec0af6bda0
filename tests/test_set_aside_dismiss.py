"""Dismissing set-aside rows (issue 22): a row fixed under another key is never resolved by an
import and stayed listed for good, once per batch; an analyst dismisses it, within their units,
and the audit trail has who and when."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest

from kpi import audit, set_aside, users
from kpi.i18n import fmt_int, t
from kpi.ingest import ingest_file
from kpi.scope import OutOfScope
from tests.helpers import click, open_view, texts

CLI = f"cli:{getpass.getuser()}"
ANA, DINA = "ana@medan.go.id", "dina@medan.go.id"  # analysts of PKM-1 and of DINKES's tree
EVENTS_HEADER = "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel"
GOOD = "2026-03-30 08:00,2026-03-30 08:05,2026-03-30 08:20,completed,counter"


def write(folder: Path, name: str, rows: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join([EVENTS_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def kept(example_store, tmp_path):
    """A batch with PKM-2's row Y-2 set aside (line 3), then fixed under the key Y-2B."""
    users.add_user(example_store, ANA, "analyst", "PKM-1", by=CLI)
    users.add_user(example_store, DINA, "analyst", "DINKES", by=CLI)
    bad = write(tmp_path, "events.csv", [
        f"PKM-1,UMUM,Y-1,{GOOD}", "PKM-2,UMUM,Y-2,2026-03-30 08:00,bad,,completed,counter"])
    result = ingest_file(example_store, "events", bad, loaded_by=CLI, accept_valid=True)
    assert result.set_aside == 1
    fixed = write(tmp_path, "fixed.csv", [f"PKM-2,UMUM,Y-2B,{GOOD}"])
    assert ingest_file(example_store, "events", fixed, loaded_by=CLI).ok
    return result.batch_id


def test_a_row_fixed_under_another_key_waits_until_an_analyst_in_scope_dismisses_it(
        example_store, kept):
    assert set_aside.counts(example_store) == {kept: 1}  # the fix did not resolve it
    listed = set_aside.listing(example_store, "en")
    assert list(zip(listed["line"], listed["unit_code"], strict=True)) == [(3, "PKM-2")]
    with pytest.raises(OutOfScope, match="PKM-2"):
        set_aside.dismiss(example_store, kept, [3], by=ANA)
    assert set_aside.counts(example_store) == {kept: 1}
    assert audit.trail(example_store, action="set_aside.dismiss").empty

    assert set_aside.dismiss(example_store, kept, [3], by=DINA) == 1
    assert set_aside.counts(example_store) == {}
    assert set_aside.listing(example_store, "en").empty
    assert set_aside.rows_file(example_store, kept, "en") == (b"", 0)
    [row] = audit.trail(example_store, action="set_aside.dismiss").to_dict("records")
    assert (row["who"], row["object"]) == (DINA, f"batch {kept}")
    assert json.loads(row["details"]) == {"kind": "events", "lines": [3], "units": ["PKM-2"]}
    assert row["logged_at"] is not None
    assert example_store.query_rows(
        "SELECT batch_id, line, dismissed_by FROM set_aside_dismissals") == [(kept, 3, DINA)]
    assert set_aside.dismiss(example_store, kept, [3], by=DINA) == 0  # already gone


def test_a_row_without_a_unit_is_dismissed_only_by_the_whole_city(example_store, tmp_path):
    users.add_user(example_store, DINA, "analyst", "DINKES", by=CLI)
    bad = write(tmp_path, "events.csv", [f"PKM-1,UMUM,Z-1,{GOOD}", f",UMUM,Z-2,{GOOD}"])
    batch = ingest_file(example_store, "events", bad, loaded_by=CLI, accept_valid=True).batch_id
    with pytest.raises(Exception, match="only an analyst for the whole city"):
        set_aside.dismiss(example_store, batch, [3], by=DINA)
    assert set_aside.dismiss(example_store, batch, [3], by=CLI) == 1


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_history_page_dismisses_the_chosen_rows(example_store, kept, monkeypatch, lang):
    at = open_view(example_store, monkeypatch, "history", role="analyst", lang=lang)
    box = at.multiselect(key=f"set_aside_lines_{kept}")
    assert box.placeholder == t("setasidedismiss.placeholder", lang)
    assert box.options == ["3"]
    box.select(3)
    at = click(at, t("setasidedismiss.button", lang))
    assert t("setasidedismiss.done", lang, count=fmt_int(1, lang), batch=kept) in texts(
        at.success)
    assert set_aside.counts(example_store) == {}
    assert t("setaside.title", lang) not in texts(at.subheader)
    assert len(audit.trail(example_store, action="set_aside.dismiss")) == 1
