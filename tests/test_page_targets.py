"""The Targets & standards page: edits are validated like an upload, saved as a reversible
batch, and the targets in force are shown per unit and KPI."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from kpi import audit, editor
from kpi.i18n import fmt_plain_number, t
from kpi.ingest import list_batches, rollback
from tests.helpers import (
    click,
    foreign_strings,
    open_view,
    run,
    shown_strings,
    table_with,
    target_on,
    texts,
)

TARGETS_EDITOR = "targets_editor_0"
SERVICES_EDITOR = "services_editor_0"


def edit(store, monkeypatch, editor: str, *, lang: str = "en", edited=None, added=None):
    """Open the page with `editor` holding these edits (as a browser would send them)."""
    return open_view(store, monkeypatch, "targets", lang=lang, role="analyst", timeout=60,
                     state={editor: {"edited_rows": edited or {}, "added_rows": added or [],
                                     "deleted_rows": []}})


def new_target(unit="PKM-2", kpi="throughput", target="100", valid_from="2026-01-01",
               valid_to=None, amber="10") -> dict:
    """A row added in the grid; numbers are typed as text (the reader's language)."""
    return {"unit_code": unit, "kpi": kpi, "target": target, "valid_from": valid_from,
            "valid_to": valid_to, "amber_pct": amber}


def problems(at, lang="en") -> list[tuple[int, str, str]]:
    frame = table_with(at, t("upload.col_reason", lang))
    return list(zip(frame[t("upload.col_row", lang)], frame[t("upload.col_column", lang)],
                    frame[t("upload.col_reason", lang)], strict=True))


def test_a_new_target_is_saved_as_a_reversible_batch(example_store, monkeypatch):
    at = edit(example_store, monkeypatch, TARGETS_EDITOR, added=[new_target()])
    at = click(at, t("targetspage.save_targets", "en"))
    batches = list_batches(example_store)
    last = batches.iloc[-1]
    assert (last["kind"], last["file_name"], last["rows_inserted"]) == ("targets", "editor", 1)
    assert t("targetspage.saved", "en", batch=int(last["batch_id"]), inserted="1",
             replaced="0") in texts(at.success)
    found = target_on(example_store, unit="PKM-2", kpi="throughput", day=dt.date(2026, 3, 1))
    assert found["target"] == 100.0
    rollback(example_store, int(last["batch_id"]), by="tests")
    assert target_on(example_store, unit="PKM-2", kpi="throughput",
                              day=dt.date(2026, 3, 1)) is None


def test_changing_a_value_replaces_that_row(example_store, monkeypatch):
    # Row 5 (0-based) is PKM-1's service_time_median from 2026-01-01 (target 25).
    at = edit(example_store, monkeypatch, TARGETS_EDITOR, edited={5: {"target": "24"}})
    at = click(at, t("targetspage.save_targets", "en"))
    last = list_batches(example_store).iloc[-1]
    assert (last["rows_inserted"], last["rows_replaced"]) == (0, 1)
    assert target_on(example_store, unit="PKM-1", kpi="service_time_median",
                              day=dt.date(2026, 2, 1))["target"] == 24.0


@pytest.mark.parametrize(("row", "column", "key"), [
    (new_target(target="-5"), "target", "ingest.target_out_of_range"),  # one rule, the import's
    (new_target(kpi="waiting_time"), "kpi", "ingest.bad_kpi"),
    (new_target(unit="PKM-1", kpi="service_time_median", valid_from="2026-03-01"),
     "valid_from", "targetspage.rule_overlap"),
    (new_target(amber="-1"), "amber_pct", "ingest.negative"),
    (new_target(valid_from="2026-05-01", valid_to="2026-04-01"), "valid_to",
     "ingest.valid_to_before_from"),
])
def test_invalid_edits_are_refused_with_a_message(example_store, fingerprint, monkeypatch, row,
                                                   column, key):
    before = fingerprint(example_store)
    at = edit(example_store, monkeypatch, TARGETS_EDITOR, lang="id", added=[row])
    at = click(at, t("targetspage.save_targets", "id"))
    shown = problems(at, "id")
    assert [(line, col) for line, col, _ in shown] == [(8, column)]  # the 8th row of the editor
    assert shown[0][2].split()[0] in t(key, "id", **_params(key, row, column)), shown
    assert fingerprint(example_store) == before


def _params(key: str, row: dict, column: str) -> dict:
    return {"value": row[column], "name": column, "other": 6, "line": 8, "column": column,
            "detail": ""}


def test_removing_a_row_is_refused(example_store, fingerprint, monkeypatch):
    before = fingerprint(example_store)
    at = edit(example_store, monkeypatch, TARGETS_EDITOR)
    at.session_state[TARGETS_EDITOR] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]}
    at = click(run(at), t("targetspage.save_targets", "en"))
    assert [(line, col) for line, col, _ in problems(at)] == [(1, "valid_from")]
    assert fingerprint(example_store) == before


def test_standard_minutes_are_saved_as_a_services_batch(example_store, monkeypatch, fingerprint):
    # Row 0 is DINKES/REK, standard 60 minutes.
    at = edit(example_store, monkeypatch, SERVICES_EDITOR, edited={0: {"standard_minutes": "50"}})
    at = click(at, t("targetspage.save_standards", "en"))
    last = list_batches(example_store).iloc[-1]
    assert (last["kind"], last["file_name"], last["rows_replaced"]) == ("services", "editor", 1)
    assert example_store.query_value(
        "SELECT standard_minutes FROM services WHERE unit_code = 'DINKES'") == 50.0
    before = fingerprint(example_store)
    at = edit(example_store, monkeypatch, "services_editor_0", edited={0: {"standard_minutes": "-3"}})
    at = click(at, t("targetspage.save_standards", "en"))
    assert [(line, col) for line, col, _ in problems(at)] == [(1, "standard_minutes")]
    assert fingerprint(example_store) == before


def test_bulk_set_for_every_unit_of_a_type(example_store, monkeypatch):
    at = open_view(example_store, monkeypatch, "targets", role="analyst")
    at.selectbox(key="bulk_type").set_value("puskesmas")
    at.selectbox(key="bulk_kpi").set_value("service_time_median")
    at.text_input(key="bulk_target").input("20")
    at.date_input(key="bulk_from").set_value(dt.date(2026, 3, 16))
    at = click(at, t("targetspage.bulk_apply", "en"))
    assert not at.error, texts(at.error)
    day = dt.date(2026, 3, 20)
    for unit in ("PKM-1", "PKM-2"):
        assert target_on(example_store, unit=unit, kpi="service_time_median",
                                  day=day)["target"] == 20.0
    # PKM-1's own open target (22 from 2026-03-09) was ended the day before.
    assert target_on(example_store, unit="PKM-1", kpi="service_time_median",
                              day=dt.date(2026, 3, 15))["target"] == 22.0
    assert target_on(example_store, unit="DINKES", kpi="service_time_median",
                              day=day)["source_unit"] == "*"


def test_targets_in_force_on_a_day(example_store, monkeypatch):
    at = open_view(example_store, monkeypatch, "targets", role="analyst", lang="id")
    at.date_input(key="in_force_day").set_value(dt.date(2026, 3, 20))
    at = run(at)
    table = table_with(at, t("targetspage.col_source", "id"))
    pkm1 = table[(table[t("targetspage.col_unit", "id")] == "PKM-1")]
    row = pkm1[pkm1[t("targetspage.col_target", "id")].str.startswith("22")].iloc[0]
    assert row[t("targetspage.col_source", "id")] == t("targetspage.source_own", "id")
    assert row[t("targetspage.col_valid_from", "id")] == "9 Mar 2026"
    dinkes = table[table[t("targetspage.col_unit", "id")] == "DINKES"]
    assert set(dinkes[t("targetspage.col_source", "id")]) == {t("targetspage.source_city", "id")}
    assert len(dinkes) == 4  # the four city-wide targets


def change_from_date(at, *, unit: str, kpi: str, target: float, day: dt.date,
                     amber: float | None = None):
    """Fill the "change a target from a date" form and submit it."""
    at.selectbox(key="change_unit").set_value(unit)
    at.selectbox(key="change_kpi").set_value(kpi)
    at.text_input(key="change_target").input(fmt_plain_number(target, "en"))
    at.date_input(key="change_from").set_value(day)
    if amber is not None:
        at.text_input(key="change_amber").input(fmt_plain_number(amber, "en"))
    return click(at, t("targetspage.change_apply", "en"))


def test_changing_a_target_from_a_date_ends_the_row_in_force_in_one_save(example_store,
                                                                         monkeypatch):
    # PKM-1's service_time_median: 25 (amber 20 %) until 2026-03-08, then 22 from 2026-03-09.
    batches_before = len(list_batches(example_store))
    at = open_view(example_store, monkeypatch, "targets", role="analyst")
    at = change_from_date(at, unit="PKM-1", kpi="service_time_median", target=24.0,
                          day=dt.date(2026, 2, 1))
    assert not at.error and not at.warning, (texts(at.error), texts(at.warning))
    batches = list_batches(example_store)
    assert len(batches) == batches_before + 1  # one save, one batch
    last = batches.iloc[-1]
    assert (last["kind"], last["file_name"], last["rows_inserted"], last["rows_replaced"]) == (
        "targets", "editor", 1, 1)
    assert list(audit.trail(example_store, action="targets.edit")["object"]) == [
        f"batch {last['batch_id']}"]

    def on(day: dt.date) -> dict | None:
        return target_on(example_store, unit="PKM-1", kpi="service_time_median", day=day)

    assert on(dt.date(2026, 1, 31))["target"] == 25.0
    assert on(dt.date(2026, 1, 31))["valid_to"] == dt.date(2026, 1, 31)
    assert (on(dt.date(2026, 2, 1))["target"], on(dt.date(2026, 2, 1))["amber_pct"]) == (24.0, 20.0)
    assert on(dt.date(2026, 3, 8))["target"] == 24.0  # keeps the old row's end
    assert on(dt.date(2026, 3, 9))["target"] == 22.0


def test_changing_the_city_wide_target_from_a_date_with_its_own_amber(example_store,
                                                                       monkeypatch):
    at = open_view(example_store, monkeypatch, "targets", role="analyst")
    at = change_from_date(at, unit="*", kpi="abandon_rate", target=8.0,
                          day=dt.date(2026, 4, 1), amber=5.0)
    assert not at.error and not at.warning, (texts(at.error), texts(at.warning))
    old = target_on(example_store, unit="DINKES", kpi="abandon_rate", day=dt.date(2026, 3, 31))
    new = target_on(example_store, unit="DINKES", kpi="abandon_rate", day=dt.date(2026, 4, 1))
    assert (old["target"], old["valid_to"]) == (10.0, dt.date(2026, 3, 31))
    assert (new["target"], new["amber_pct"], new["source_unit"]) == (8.0, 5.0, "*")
    assert pd.isna(new["valid_to"])


def test_the_grid_shows_the_row_numbers_the_messages_name(example_store, monkeypatch):
    row = new_target(unit="PKM-1", kpi="service_time_median", valid_from="2026-03-01")
    at = edit(example_store, monkeypatch, TARGETS_EDITOR, added=[row])
    at = click(at, t("targetspage.save_targets", "en"))
    reason = problems(at)[0][2]
    assert reason == t("targetspage.rule_overlap", "en", other=6)
    grid = at.data_editor(key=TARGETS_EDITOR).value
    assert list(grid.index) == list(range(1, 8))
    named = grid.loc[6]  # "row 6" is the one the new row overlaps: 25 until 2026-03-08
    assert (named["unit_code"], named["kpi"], named["target"]) == ("PKM-1", "service_time_median",
                                                                   "25")
    columns = json.loads(at.data_editor(key=TARGETS_EDITOR).proto.columns)
    assert columns["_index"]["label"] == t("targetspage.col_row", "en")
    assert list(at.data_editor(key=SERVICES_EDITOR).value.index) == list(range(1, 8))


def test_empty_cells_are_blank_and_units_have_their_names(example_store, monkeypatch):
    at = open_view(example_store, monkeypatch, "targets", role="analyst")
    for key in (TARGETS_EDITOR, SERVICES_EDITOR):
        grid = at.data_editor(key=key)
        assert grid.proto.HasField("placeholder") and grid.proto.placeholder == "", key
        options = json.loads(grid.proto.columns)["unit_code"]["type_config"]["options"]
        labels = {option["value"]: option["label"] for option in options}
        assert labels["PKM-1"] == "PKM-1 · Puskesmas Contoh Satu", key
    at.date_input(key="in_force_day").set_value(dt.date(2026, 3, 20))
    table = table_with(run(at), t("targetspage.col_unit_name", "en"))
    pkm1 = table[table[t("targetspage.col_unit", "en")] == "PKM-1"]
    assert set(pkm1[t("targetspage.col_unit_name", "en")]) == {"Puskesmas Contoh Satu"}


def test_change_from_a_date_on_a_rows_own_start_or_with_no_row_in_force(example_store):
    table = editor.targets_table(example_store)
    # On the very day a row starts, that row takes the new values: nothing to end.
    same_day = editor.with_target_change(table, unit="PKM-1", kpi="service_time_median",
                                         target=21.0, valid_from=dt.date(2026, 3, 9))
    assert len(same_day) == len(table) and same_day.loc[7, "target"] == 21.0
    # PKM-2 has no throughput row: the new one is open-ended, with the default amber band.
    added = editor.with_target_change(table, unit="PKM-2", kpi="throughput", target=50.0,
                                      valid_from=dt.date(2026, 3, 1)).iloc[-1]
    assert (added["unit_code"], added["target"], added["amber_pct"]) == ("PKM-2", 50.0, 10.0)
    assert pd.isna(added["valid_to"])
    result = editor.save_targets(example_store, table, same_day, by="tests")
    assert result.ok and (result.inserted, result.replaced) == (0, 1)


# -- the page in the reader's language (issue 22) ---------------------------------------------
@pytest.mark.parametrize("lang", ["en", "id"])
def test_every_string_numbers_dates_and_unit_types_in_the_readers_language(example_store,
                                                                           monkeypatch, lang):
    at = open_view(example_store, monkeypatch, "targets", role="analyst", lang=lang)
    assert foreign_strings(at, lang) == []
    shown = shown_strings(at)
    # Unit types by their names from the catalogue, never their codes.
    types = editor.unit_types(example_store)
    assert at.selectbox(key="bulk_type").options == [
        t(f"filters.unit_types.{code}", lang) for code in types]
    assert not set(types) & set(shown)
    # Numbers are typed and shown with the language's decimal separator: no number inputs
    # (Streamlit writes those with a point), the grids hold text like the rest of the page.
    assert len(at.number_input) == 0
    grid = at.data_editor(key=TARGETS_EDITOR).value
    ikm = grid[(grid["unit_code"] == "*") & (grid["kpi"] == "ikm")]["target"].iloc[0]
    assert ikm == {"en": "76.61", "id": "76,61"}[lang]
    assert at.text_input(key="bulk_amber").value == "10"
    # Dates are picked as the review's form picks them.
    assert {element.proto.format for element in at.date_input} == {"DD/MM/YYYY"}
    columns = json.loads(at.data_editor(key=TARGETS_EDITOR).proto.columns)
    assert {columns[name]["type_config"]["format"] for name in ("valid_from", "valid_to")} == {
        "DD/MM/YYYY"}


def test_a_decimal_typed_the_indonesian_way_is_saved_and_the_other_way_refused(
        example_store, monkeypatch, fingerprint):
    at = open_view(example_store, monkeypatch, "targets", role="analyst", lang="id")
    before = fingerprint(example_store)
    at.selectbox(key="change_unit").set_value("PKM-2")
    at.selectbox(key="change_kpi").set_value("throughput")
    at.text_input(key="change_target").input("24.5")  # a point: 245 in Indonesian? refused
    at.date_input(key="change_from").set_value(dt.date(2026, 3, 1))
    at = click(at, t("targetspage.change_apply", "id"))
    assert texts(at.warning) == [t("forms.bad_number", "id", value="24.5", example="12,5")]
    assert fingerprint(example_store) == before
    at.text_input(key="change_target").input("24,5")
    at = click(at, t("targetspage.change_apply", "id"))
    assert not at.warning, texts(at.warning)
    assert target_on(example_store, unit="PKM-2", kpi="throughput",
                     day=dt.date(2026, 3, 2))["target"] == 24.5


def test_a_grid_cell_that_is_not_a_number_in_the_language_is_named(example_store, monkeypatch,
                                                                    fingerprint):
    before = fingerprint(example_store)
    at = edit(example_store, monkeypatch, TARGETS_EDITOR, lang="id",
              edited={5: {"target": "24.5"}}, added=[new_target(target="100,5")])
    at = click(at, t("targetspage.save_targets", "id"))
    assert texts(at.warning) == ["- " + t(
        "forms.bad_cell", "id", row=6, column=t("targetspage.col_target", "id"),
        reason=t("forms.bad_number", "id", value="24.5", example="12,5"))]
    assert fingerprint(example_store) == before
    at = edit(example_store, monkeypatch, TARGETS_EDITOR, lang="id",
              edited={5: {"target": "24,5"}}, added=[new_target(target="100,5")])
    at = click(at, t("targetspage.save_targets", "id"))
    assert not at.warning and not at.error, texts(at.warning)
    assert target_on(example_store, unit="PKM-1", kpi="service_time_median",
                     day=dt.date(2026, 2, 1))["target"] == 24.5
    assert target_on(example_store, unit="PKM-2", kpi="throughput",
                     day=dt.date(2026, 3, 1))["target"] == 100.5
