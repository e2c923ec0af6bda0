"""A unit scope without holes (issue 20 item 2): every write path, every way out.

The example city: DINKES (PKM-1, PKM-2 under it) and DUKCAPIL. `ana` is an analyst scoped to
PKM-1, `dina` one scoped to DINKES (PKM-1 and PKM-2 are hers too).
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path

import pytest

from kpi import editor, review, scope, set_aside, users
from kpi.ingest import ingest_file, rollback

CLI = f"cli:{getpass.getuser()}"
ANA, DINA = "ana@medan.go.id", "dina@medan.go.id"
UNITS_HEADER = "unit_code,name,type,parent_code,district"
EVENTS_HEADER = "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel"
EXAMPLE_TREE = {"DINKES": None, "PKM-1": "DINKES", "PKM-2": "DINKES", "DUKCAPIL": None}


@pytest.fixture
def scoped(example_store):
    users.add_user(example_store, ANA, "analyst", "PKM-1", by=CLI)
    users.add_user(example_store, DINA, "analyst", "DINKES", by=CLI)
    return example_store


def write(folder: Path, name: str, header: str, rows: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def tree(store) -> dict[str, str | None]:
    return dict(store.query_rows("SELECT unit_code, parent_code FROM units ORDER BY unit_code"))


def problems(result) -> list[tuple[int | None, str, str | None]]:
    return [(p.line, p.key, p.value) for p in result.problems]


# -- units files --------------------------------------------------------------------------------
# Each row with the problem it gets: every way into or out of a scope.
UNIT_ESCAPES = [
    # Another district's unit named under one of the scope: never taken in.
    (ANA, "PKM-2,Puskesmas Dua,puskesmas,PKM-1,Medan Amplas", "ingest.out_of_scope"),
    (ANA, "DUKCAPIL,Disdukcapil,civil_registry,PKM-1,Medan Kota", "ingest.out_of_scope"),
    (DINA, "DUKCAPIL,Disdukcapil,civil_registry,PKM-1,Medan Kota", "ingest.out_of_scope"),
    # One of the scope moved out, or left without a parent.
    (DINA, "PKM-2,Puskesmas Dua,puskesmas,DUKCAPIL,Medan Amplas", "ingest.move_out_of_scope"),
    (DINA, "PKM-2,Puskesmas Dua,puskesmas,,Medan Amplas", "ingest.move_out_of_scope"),
    # The unit a scope starts at keeps its parent (moving it moves it into another's subtree).
    (ANA, "PKM-1,Puskesmas Satu,puskesmas,DUKCAPIL,Medan Baru", "ingest.move_out_of_scope"),
    (ANA, "PKM-1,Puskesmas Satu,puskesmas,,Medan Baru", "ingest.move_out_of_scope"),
    (DINA, "DINKES,Dinas Kesehatan,dinas,DUKCAPIL,Medan Kota", "ingest.move_out_of_scope"),
    # A new unit outside the scope: top level, or under another's unit.
    (ANA, "PKM-9,Puskesmas Baru,puskesmas,,Medan Baru", "ingest.move_out_of_scope"),
    (ANA, "PKM-9,Puskesmas Baru,puskesmas,PKM-2,Medan Baru", "ingest.move_out_of_scope"),
    (ANA, "PKM-9,Puskesmas Baru,puskesmas,DINKES,Medan Baru", "ingest.move_out_of_scope"),
]


def test_a_units_file_cannot_move_a_unit_into_or_out_of_the_scope(scoped, tmp_path):
    for (who, row, key), accept_valid in [(case, accept) for case in UNIT_ESCAPES
                                          for accept in (False, True)]:
        path = write(tmp_path, "units.csv", UNITS_HEADER, [
            "PKM-1A,Pustu Satu A,pustu,PKM-1,Medan Baru",  # a valid row beside it
            row])
        result = ingest_file(scoped, "units", path, loaded_by=who, accept_valid=accept_valid)
        assert problems(result) == [(3, key, row.split(",")[0])], (who, row, accept_valid)
        assert result.batch_id is None and not result.set_aside
        assert tree(scoped) == EXAMPLE_TREE


def test_the_refusal_says_which_parent_and_why_in_both_languages(scoped, tmp_path):
    path = write(tmp_path, "units.csv", UNITS_HEADER,
                 ["PKM-2,Puskesmas Dua,puskesmas,DUKCAPIL,Medan Amplas"])
    problem = ingest_file(scoped, "units", path, loaded_by=DINA).problems[0]
    assert problem.reason == (
        "Unit PKM-2 under parent DUKCAPIL would lie outside your unit scope: add or move units "
        "only under the units of your scope, and keep the parent of a unit your scope starts at.")
    assert problem.message("id").startswith("Unit PKM-2 di bawah induk DUKCAPIL akan berada di luar")


def test_a_scoped_units_file_may_add_under_and_change_inside_the_scope(scoped, tmp_path):
    path = write(tmp_path, "units.csv", UNITS_HEADER, [
        "PKM-1,Puskesmas Satu (renamed),puskesmas,DINKES,Medan Baru",  # its top, parent kept
        "PKM-1A,Pustu Satu A,pustu,PKM-1,Medan Baru",                  # new, under the scope
        "PKM-1B,Pustu Satu B,pustu,PKM-1A,Medan Baru",                 # new, under a new one
    ])
    result = ingest_file(scoped, "units", path, loaded_by=ANA)
    assert result.ok, problems(result)
    # Inside DINA's scope a unit may move from one parent of the scope to another.
    path = write(tmp_path, "units2.csv", UNITS_HEADER, [
        "PKM-1B,Pustu Satu B,pustu,PKM-2,Medan Baru",
        "PKM-2,Puskesmas Dua,puskesmas,PKM-1,Medan Amplas"])
    assert ingest_file(scoped, "units", path, loaded_by=DINA).ok
    assert tree(scoped) == {**EXAMPLE_TREE, "PKM-1A": "PKM-1", "PKM-1B": "PKM-2",
                            "PKM-2": "PKM-1"}
    assert scoped.query_value("SELECT name FROM units WHERE unit_code = 'PKM-1'") == (
        "Puskesmas Satu (renamed)")


def test_the_old_escape_import_then_roll_back_another_units_data_is_closed(scoped, tmp_path):
    """The issue's report: re-parent PKM-2 under PKM-1, then import and roll back its data."""
    path = write(tmp_path, "units.csv", UNITS_HEADER,
                 ["PKM-2,Puskesmas Dua,puskesmas,PKM-1,Medan Amplas"])
    assert not ingest_file(scoped, "units", path, loaded_by=ANA).ok
    events = write(tmp_path, "events.csv", EVENTS_HEADER, [
        "PKM-2,UMUM,X-1,2026-03-30 08:00,2026-03-30 08:05,2026-03-30 08:20,completed,counter"])
    assert problems(ingest_file(scoped, "events", events, loaded_by=ANA)) == [
        (2, "ingest.out_of_scope", "PKM-2")]
    with pytest.raises(scope.OutOfScope):
        rollback(scoped, 3, by=ANA)


# -- rollback -------------------------------------------------------------------------------------
def test_rolling_back_a_move_into_the_scope_would_move_the_unit_out_and_is_refused(scoped,
                                                                                   tmp_path):
    # An administrator moves PKM-2 under PKM-1: it is ANA's now, and data of it too.
    path = write(tmp_path, "units.csv", UNITS_HEADER,
                 ["PKM-2,Puskesmas Dua,puskesmas,PKM-1,Medan Amplas"])
    moved = ingest_file(scoped, "units", path, loaded_by=CLI).batch_id
    with pytest.raises(scope.OutOfScope, match="PKM-2"):
        rollback(scoped, moved, by=ANA)  # would hand PKM-2 back to DINKES: out of her scope
    assert tree(scoped)["PKM-2"] == "PKM-1"
    rollback(scoped, moved, by=DINA)  # both parents lie in DINA's scope
    assert tree(scoped) == EXAMPLE_TREE


def test_rolling_back_a_change_of_a_scope_top_is_refused(scoped, tmp_path):
    path = write(tmp_path, "units.csv", UNITS_HEADER,
                 ["PKM-1,Puskesmas Satu,puskesmas,PKM-2,Medan Baru"])
    moved = ingest_file(scoped, "units", path, loaded_by=CLI).batch_id
    with pytest.raises(scope.OutOfScope, match="PKM-1"):
        rollback(scoped, moved, by=ANA)  # PKM-1's parent would change under her
    assert tree(scoped)["PKM-1"] == "PKM-2"


def test_a_scoped_rollback_of_its_own_units_batch_goes_through(scoped, tmp_path):
    path = write(tmp_path, "units.csv", UNITS_HEADER, ["PKM-1A,Pustu Satu A,pustu,PKM-1,Medan Baru"])
    added = ingest_file(scoped, "units", path, loaded_by=ANA).batch_id
    assert rollback(scoped, added, by=ANA)["removed"] == 1
    assert tree(scoped) == EXAMPLE_TREE


def test_a_rollback_of_another_units_batch_is_refused(scoped):
    # Batch 1 is the example's units file: every unit of the city.
    with pytest.raises(scope.OutOfScope, match="DUKCAPIL"):
        rollback(scoped, 1, by=DINA)
    assert scoped.query_value("SELECT status FROM batches WHERE batch_id = 1") == "committed"


# -- targets: files, `*`, the editor ----------------------------------------------------------
def test_a_scoped_targets_file_for_the_city_or_another_unit_is_refused(scoped, tmp_path):
    before = scoped.query_value("SELECT count(*) FROM targets")
    for unit in ("*", "PKM-2", "DINKES"):
        path = write(tmp_path, "targets.csv", "unit_code,kpi,target,valid_from,valid_to,amber_pct",
                     ["PKM-1,abandon_rate,8,2026-04-01,,", f"{unit},abandon_rate,1,2026-04-01,,"])
        result = ingest_file(scoped, "targets", path, loaded_by=ANA, accept_valid=True)
        assert problems(result) == [(3, "ingest.out_of_scope", unit)]
        assert scoped.query_value("SELECT count(*) FROM targets") == before


def test_the_targets_editor_refuses_a_scoped_change_of_the_city_or_another_unit(scoped):
    original = editor.targets_table(scoped)
    for unit in ("*", "PKM-2"):
        edited = editor.with_target_change(original, unit=unit, kpi="abandon_rate", target=1.0,
                                           valid_from=dt.date(2026, 4, 1))
        result = editor.save_targets(scoped, original, edited, by=ANA)
        assert result.problems and {p.key for p in result.problems} == {"ingest.out_of_scope"}
        assert result.batch_id is None
        assert editor.targets_table(scoped).equals(original)
    # The same change of the analyst's own unit is saved.
    edited = editor.with_target_change(original, unit="PKM-1", kpi="abandon_rate", target=1.0,
                                       valid_from=dt.date(2026, 4, 1))
    assert editor.save_targets(scoped, original, edited, by=ANA).ok


def test_the_services_editor_refuses_another_units_standard(scoped):
    original = editor.services_table(scoped)
    edited = original.copy()
    edited.loc[edited["unit_code"] == "PKM-2", "standard_minutes"] = 1
    result = editor.save_services(scoped, original, edited, by=ANA)
    assert {p.key for p in result.problems} == {"ingest.out_of_scope"}
    assert editor.services_table(scoped).equals(original)


# -- set-aside replacement ----------------------------------------------------------------------
def test_a_scoped_replacement_of_another_units_set_aside_row_is_refused(scoped, tmp_path):
    good = "2026-03-30 08:00,2026-03-30 08:05,2026-03-30 08:20,completed,counter"
    path = write(tmp_path, "events.csv", EVENTS_HEADER, [
        f"PKM-1,UMUM,Y-1,{good}", "PKM-2,UMUM,Y-2,2026-03-30 08:00,bad,,completed,counter"])
    kept = ingest_file(scoped, "events", path, loaded_by=CLI, accept_valid=True)
    assert kept.set_aside == 1
    fix = write(tmp_path, "fix.csv", EVENTS_HEADER, [f"PKM-2,UMUM,Y-2,{good}"])
    for accept_valid in (False, True):
        result = ingest_file(scoped, "events", fix, loaded_by=ANA, accept_valid=accept_valid)
        assert problems(result) == [(2, "ingest.out_of_scope", "PKM-2")]
    assert set_aside.counts(scoped) == {kept.batch_id: 1}  # still waiting, for someone in scope
    assert ingest_file(scoped, "events", fix, loaded_by=DINA).ok
    assert set_aside.counts(scoped) == {}


# -- review actions -----------------------------------------------------------------------------
def test_a_scoped_reviewer_cannot_update_another_units_action(scoped):
    users.add_user(scoped, "rev@medan.go.id", "reviewer", "PKM-1", by=CLI)
    due = dt.date(2026, 3, 31)
    other = review.create_action(scoped, "2026-W13", title="Second counter", unit_code="PKM-2",
                                 responsible="Head", due_date=due, by=CLI)
    city = review.create_action(scoped, "2026-W13", title="City-wide", unit_code="*",
                                responsible="Mayor", due_date=due, by=CLI)
    for action_id in (other, city):
        with pytest.raises(scope.OutOfScope):
            review.update_action(scoped, action_id, status="done", comment="closed",
                                 week="2026-W13", by="rev@medan.go.id")
    with pytest.raises(scope.OutOfScope):
        review.create_action(scoped, "2026-W13", title="x", unit_code="DINKES",
                             responsible="Head", due_date=due, by="rev@medan.go.id")
    assert scoped.query_rows("SELECT status FROM actions ORDER BY action_id") == [
        ("open",), ("open",)]


# -- interventions ------------------------------------------------------------------------------
def test_a_scoped_analyst_records_interventions_only_for_their_units(scoped):
    from kpi import interventions

    theirs = interventions.add(scoped, unit_code="PKM-1", date="2026-03-16", title="Second counter",
                               by=ANA)
    other = interventions.add(scoped, unit_code="PKM-2", date="2026-03-16", title="New hours",
                              by=CLI)
    for unit in ("PKM-2", "DINKES", "*"):
        with pytest.raises(scope.OutOfScope):
            interventions.add(scoped, unit_code=unit, date="2026-03-16", title="x", by=ANA)
    with pytest.raises(scope.OutOfScope):
        interventions.edit_title(scoped, other, "renamed", by=ANA)
    with pytest.raises(scope.OutOfScope):
        interventions.remove(scoped, other, by=ANA)
    interventions.edit_title(scoped, theirs, "Second counter, mornings", by=ANA)
    assert scoped.query_rows("SELECT intervention_id, unit_code, title FROM interventions "
                             "ORDER BY intervention_id") == [
        (theirs, "PKM-1", "Second counter, mornings"), (other, "PKM-2", "New hours")]


# -- the public survey form: links and publication ----------------------------------------------
def test_a_scoped_analyst_cannot_revoke_or_publish_another_units_survey(scoped):
    from kpi import survey_links

    before = {link.unit_code: link.token for link in survey_links.links(scoped, ["PKM-1", "PKM-2"])}
    with pytest.raises(scope.OutOfScope):
        survey_links.revoke(scoped, "PKM-2", who=ANA)
    for units in (["PKM-2"], ["PKM-1", "DUKCAPIL"]):
        with pytest.raises(scope.OutOfScope):
            survey_links.set_published(scoped, units, True, who=ANA)
    assert survey_links.published(scoped) == []
    assert survey_links.revoke(scoped, "PKM-1", who=ANA).token != before["PKM-1"]
    assert survey_links.set_published(scoped, ["PKM-1"], True, who=ANA) == ["PKM-1"]
    assert {link.unit_code: link.token for link in survey_links.links(
        scoped, ["PKM-2"])} == {"PKM-2": before["PKM-2"]}


# -- users: a scoped person cannot widen their own scope --------------------------------------
def test_only_an_admin_changes_users_whatever_page_calls(scoped):
    for change in (lambda: users.add_user(scoped, ANA, "analyst", "DINKES", by=ANA),
                   lambda: users.add_user(scoped, ANA, "admin", by=DINA),
                   lambda: users.remove_user(scoped, DINA, by=ANA)):
        with pytest.raises(users.InputRejected, match="Only an administrator may change users"):
            change()
    assert users.get_user(scoped, ANA).units == ("PKM-1",)
    users.add_user(scoped, "boss@medan.go.id", "admin", by=CLI)
    users.add_user(scoped, ANA, "analyst", "DINKES", by="boss@medan.go.id")
    assert users.get_user(scoped, ANA).units == ("DINKES",)
