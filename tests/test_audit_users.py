"""Users, unit scope and the audit trail (issue 11), through the engine and the real CLI."""

from __future__ import annotations

import datetime as dt
import getpass
import json
from pathlib import Path

import pytest

from kpi import audit, review, scope, users
from kpi.__main__ import main
from kpi.errors import InputRejected
from kpi.ingest import ingest_file, rollback

pytestmark = pytest.mark.usefixtures("cli_in_english")  # lines compared with English text

CLI = f"cli:{getpass.getuser()}"
EVENTS_HEADER = "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel"


def run(capsys, store, *args: str) -> tuple[int, str, str]:
    code = main(["--db", str(store.path), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def units_of(store) -> dict[str, str | None]:
    return dict(store.query_rows("SELECT unit_code, parent_code FROM units"))


def events_file(folder: Path, rows: list[str], name: str = "events.csv") -> Path:
    path = folder / name
    path.write_text("\n".join([EVENTS_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_users_cli_adds_changes_lists_and_removes(example_store, capsys):
    assert run(capsys, example_store, "users", "add", "Boss@Medan.go.id", "--role", "admin")[0] == 0
    code, out, err = run(capsys, example_store, "users", "add", "ana@medan.go.id",
                         "--role", "analyst", "--units", "PKM-1")
    assert (code, err) == (0, "")
    assert out == "Added ana@medan.go.id: analyst, PKM-1\n"
    code, out, _ = run(capsys, example_store, "users", "add", "ana@medan.go.id",
                       "--role", "reviewer")
    assert out == "Changed ana@medan.go.id: reviewer, the whole city\n"
    code, out, _ = run(capsys, example_store, "users", "list", "--json")
    listed = json.loads(out)
    assert [(u["email"], u["role"], u["units"], u["added_by"]) for u in listed] == [
        ("ana@medan.go.id", "reviewer", [], CLI), ("boss@medan.go.id", "admin", [], CLI)]
    assert run(capsys, example_store, "users", "remove", "ANA@medan.go.id")[:2] == (
        0, "Removed ana@medan.go.id\n")
    assert [u["email"] for u in json.loads(run(capsys, example_store, "users", "list",
                                                "--json")[1])] == ["boss@medan.go.id"]


@pytest.mark.parametrize(("args", "sentence"), [
    (["add", "not-an-email", "--role", "viewer"], "'not-an-email' is not an e-mail address.\n"),
    (["add", "a@b.id", "--role", "analyst", "--units", "PKM-1,NOPE"], "Unknown unit(s): NOPE.\n"),
    (["add", "a@b.id", "--role", "admin", "--units", "PKM-1"],
     "A unit scope applies to analysts and reviewers only, not to the admin role.\n"),
    (["remove", "nobody@b.id"], "There is no user nobody@b.id.\n"),
])
def test_users_cli_refuses_bad_input_in_one_sentence(example_store, capsys, args, sentence):
    # Exit status 1: 2 is for rejected files (the contract's CLI).
    code, out, err = run(capsys, example_store, "users", *args)
    assert (code, out, err) == (1, "", sentence)
    assert users.list_users(example_store).empty


def test_the_last_admin_cannot_be_removed_or_demoted(example_store):
    users.add_user(example_store, "boss@medan.go.id", "admin", by=CLI)
    with pytest.raises(InputRejected, match="last admin"):
        users.remove_user(example_store, "boss@medan.go.id", by=CLI)
    with pytest.raises(InputRejected, match="last admin"):
        users.add_user(example_store, "boss@medan.go.id", "viewer", by=CLI)
    users.add_user(example_store, "deputy@medan.go.id", "admin", by="boss@medan.go.id")
    users.remove_user(example_store, "boss@medan.go.id", by="deputy@medan.go.id")
    assert list(users.list_users(example_store)["email"]) == ["deputy@medan.go.id"]


def test_a_scope_covers_the_subtrees_of_its_units(example_store):
    parents = units_of(example_store)
    root = next(code for code, parent in parents.items()
                if any(p == code for p in parents.values()))
    children = sorted(code for code, parent in parents.items() if parent == root)
    users.add_user(example_store, "ana@medan.go.id", "analyst", root, by=CLI)
    with example_store.cursor() as cur:
        allowed = scope.writable_units(cur, "ana@medan.go.id")
        assert set(children) | {root} <= set(allowed)
        assert scope.writable_units(cur, "boss@medan.go.id") is None  # not a user: unscoped
        assert scope.writable_units(cur, CLI) is None


def test_a_scoped_import_refuses_the_whole_file_naming_the_rows_outside(example_store, tmp_path):
    users.add_user(example_store, "ana@medan.go.id", "analyst", "PKM-1", by=CLI)
    before = example_store.query_value("SELECT count(*) FROM events")
    path = events_file(tmp_path, [
        "PKM-1,UMUM,S-1,2026-03-30 08:00,2026-03-30 08:05,2026-03-30 08:20,completed,counter",
        "PKM-2,UMUM,S-2,2026-03-30 08:00,2026-03-30 08:05,2026-03-30 08:20,completed,counter",
        "PKM-1,UMUM,S-3,2026-03-30 08:00,2026-03-30 08:05,2026-03-30 08:20,completed,counter",
    ])
    result = ingest_file(example_store, "events", path, loaded_by="ana@medan.go.id")
    assert [(p.line, p.column, p.value, p.key) for p in result.problems] == [
        (3, "unit_code", "PKM-2", "ingest.out_of_scope")]
    assert result.problems[0].reason == (
        "Unit PKM-2 is outside your unit scope; remove the row or ask an administrator.")
    assert example_store.query_value("SELECT count(*) FROM events") == before
    # The same file without the foreign row goes in, named after the analyst.
    path = events_file(tmp_path, [
        "PKM-1,UMUM,S-1,2026-03-30 08:00,2026-03-30 08:05,2026-03-30 08:20,completed,counter"])
    result = ingest_file(example_store, "events", path, loaded_by="ana@medan.go.id")
    assert result.ok and result.batch_id == 6
    assert example_store.query_value(
        "SELECT loaded_by FROM batches WHERE batch_id = 6") == "ana@medan.go.id"


def test_a_scoped_rollback_of_a_batch_with_other_units_is_refused(example_store):
    users.add_user(example_store, "ana@medan.go.id", "analyst", "PKM-1", by=CLI)
    with pytest.raises(scope.OutOfScope, match=r"outside your scope: DINKES, DUKCAPIL, PKM-2\."):
        rollback(example_store, 3, by="ana@medan.go.id")  # batch 3: the events of every unit
    assert example_store.query_value("SELECT status FROM batches WHERE batch_id = 3") == "committed"


def test_a_scoped_reviewer_raises_actions_only_for_their_units(example_store):
    users.add_user(example_store, "rev@medan.go.id", "reviewer", "PKM-1", by=CLI)
    due = dt.date(2026, 3, 31)
    made = review.create_action(example_store, "2026-W13", title="Open a second counter",
                                unit_code="PKM-1", responsible="Head", due_date=due,
                                by="rev@medan.go.id")
    with pytest.raises(scope.OutOfScope):
        review.create_action(example_store, "2026-W13", title="x", unit_code="PKM-2",
                             responsible="Head", due_date=due, by="rev@medan.go.id")
    with pytest.raises(scope.OutOfScope):
        review.create_action(example_store, "2026-W13", title="x", unit_code="*",
                             responsible="Head", due_date=due, by="rev@medan.go.id")
    assert example_store.query_rows("SELECT action_id, created_by FROM actions") == [
        (made, "rev@medan.go.id")]


def test_the_trail_names_who_did_what_and_the_cli_lists_it(example_store, capsys, tmp_path):
    users.add_user(example_store, "ana@medan.go.id", "analyst", by=CLI)
    path = events_file(tmp_path, [
        "PKM-1,UMUM,T-1,2026-03-30 08:00,2026-03-30 08:05,2026-03-30 08:20,completed,counter"])
    assert ingest_file(example_store, "events", path, loaded_by="ana@medan.go.id").ok
    rollback(example_store, 6, by="boss@medan.go.id")
    review.save_minutes(example_store, "2026-W13", decisions="Open earlier", by="rev@medan.go.id")
    review.finalise(example_store, "2026-W13", by="rev@medan.go.id")
    code, out, err = run(capsys, example_store, "audit", "--json")
    assert (code, err) == (0, "")
    trail = json.loads(out)
    # The example's five loads came first: they are on the trail too.
    assert [(row["who"], row["action"], row["object"]) for row in trail[-5:]] == [
        (CLI, "user.add", "ana@medan.go.id"),
        ("ana@medan.go.id", "import", "batch 6"),
        ("boss@medan.go.id", "rollback", "batch 6"),
        ("rev@medan.go.id", "review.minutes", "week 2026-W13"),
        ("rev@medan.go.id", "review.finalise", "week 2026-W13"),
    ]
    assert trail[-4]["details"]["file"] == "events.csv" and trail[-4]["details"]["rows"] == 1
    assert [row["seq"] for row in trail] == list(range(1, len(trail) + 1))
    code, out, _ = run(capsys, example_store, "audit", "--since", "2999-01-01")
    assert (code, out) == (0, "No writes recorded in that range.\n")
    code, out, _ = run(capsys, example_store, "audit")
    assert "ana@medan.go.id" in out and "review.finalise" in out


def test_verify_catches_a_row_edited_behind_the_trails_back(example_store, capsys):
    users.add_user(example_store, "ana@medan.go.id", "analyst", by=CLI)
    users.add_user(example_store, "ana@medan.go.id", "reviewer", by=CLI)
    users.add_user(example_store, "boss@medan.go.id", "admin", by=CLI)
    rows = example_store.query_value("SELECT count(*) FROM audit_log")
    code, out, err = run(capsys, example_store, "audit", "--verify")
    assert (code, err) == (0, "") and out.startswith(f"The audit trail is intact: {rows} rows, ")
    edited = rows - 1  # the change of ana's role, made to look like an admin grant
    with example_store.transaction() as cur:
        cur.execute("UPDATE audit_log SET details = ? WHERE seq = ?",
                    ['{"role":"admin","units":[]}', edited])
    code, out, err = run(capsys, example_store, "audit", "--verify")
    assert (code, out) == (1, "")
    assert err == (f"The audit trail is broken at row {edited} (edited): it was changed "
                   "outside Kinerja.\n")


def test_verify_catches_a_deleted_row(example_store):
    for role in ("viewer", "analyst", "reviewer"):
        users.add_user(example_store, "ana@medan.go.id", role, by=CLI)
    with example_store.transaction() as cur:
        cur.execute("DELETE FROM audit_log WHERE seq = 2")
    verdict = audit.verify(example_store)
    assert (verdict.ok, verdict.broken_seq, verdict.reason) == (False, 3, "missing")


def test_a_failed_write_leaves_no_trail(example_store):
    rows = example_store.query_value("SELECT count(*) FROM audit_log")
    with pytest.raises(InputRejected):
        review.create_action(example_store, "2026-W13", title="x", unit_code="NOPE",
                             responsible="Head", due_date=dt.date(2026, 3, 31), by="a@b.id")
    assert example_store.query_value("SELECT count(*) FROM audit_log") == rows
