"""The keyed audit trail (issue 20 item 5): an HMAC chain whose key lives outside the store,
migrated once from an older unkeyed trail, refused without its key, its head on the paper."""

from __future__ import annotations

import getpass
import io
import itertools
import json
import stat
from pathlib import Path

import openpyxl
import pytest

from kpi import audit, pack, review, users
from kpi.__main__ import main
from kpi.errors import KinerjaError

pytestmark = pytest.mark.usefixtures("cli_in_english")  # lines compared with English text

CLI = f"cli:{getpass.getuser()}"
OTHER_KEY = "another-key-of-at-least-thirty-two-characters"


def run(capsys, db, *args: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def no_key(monkeypatch, tmp_path: Path) -> Path:
    """No key in the environment, and the key file (not there yet) in `tmp_path`."""
    monkeypatch.delenv(audit.KEY_ENV, raising=False)
    path = tmp_path / "secrets" / "audit.key"
    monkeypatch.setenv(audit.KEY_FILE_ENV, str(path))
    return path


def rows_of(store) -> list[tuple]:
    return store.query_rows("SELECT seq, logged_at, who, action, object, details, prev_sha256, "
                            "sha256 FROM audit_log ORDER BY seq")


def forge(store, seq: int, details: str, key: bytes | None) -> None:
    """Edit row `seq`'s details in the catalog and re-hash it and every later row with the
    code's own function, as someone with write access to the catalog could."""
    rows = rows_of(store)
    prev = rows[seq - 2][7] if seq > 1 else audit.GENESIS
    with store.transaction() as cur:
        for number, at, who, action, obj, text, _, _ in rows[seq - 1:]:
            text = details if number == seq else text
            digest = audit.row_sha256(prev, number, at, who, action, obj, text, key)
            cur.execute("UPDATE audit_log SET details = ?, prev_sha256 = ?, sha256 = ? "
                        "WHERE seq = ?", [text, prev, digest, number])
            prev = digest


def test_an_edit_re_hashed_without_the_key_is_caught(example_store, capsys):
    users.add_user(example_store, "ana@medan.go.id", "analyst", by=CLI)
    users.add_user(example_store, "ana@medan.go.id", "viewer", by=CLI)
    total = len(rows_of(example_store))
    before = audit.verify(example_store)
    assert (before.ok, before.rows, before.keyed_rows) == (True, total, total)
    forge(example_store, total, '{"role":"admin","units":[]}', key=None)
    verdict = audit.verify(example_store)
    assert (verdict.ok, verdict.broken_seq, verdict.reason) == (False, total, "edited")
    code, out, err = run(capsys, example_store.path, "audit", "--verify")
    assert (code, out) == (1, "")
    assert err == (f"The audit trail is broken at row {total} (edited): it was changed outside "
                   "Kinerja.\n")
    # Whoever holds the key can re-hash too; then the head no longer matches the paper.
    forge(example_store, total, '{"role":"admin","units":[]}', key=audit.audit_key())
    after = audit.verify(example_store)
    assert after.ok and after.head_seq == before.head_seq
    assert after.head_short != before.head_short


def test_verify_reports_the_keyed_rows_and_the_head(example_store, capsys):
    rows = rows_of(example_store)
    code, out, err = run(capsys, example_store.path, "audit", "--verify")
    assert (code, err) == (0, "")
    assert out == (f"The audit trail is intact: {len(rows)} rows, {len(rows)} of them keyed; its "
                   f"head is row {len(rows)}, {rows[-1][7][:16]}.\n")
    assert audit.verdict_sentence(audit.verify(example_store), "id") == (
        f"Jejak audit utuh: {len(rows)} baris, {len(rows)} di antaranya berkunci; kepalanya "
        f"baris {len(rows)}, {rows[-1][7][:16]}.")
    assert rows[0][3] == audit.KEYED_MARKER  # the example store was keyed from its first write


def test_an_older_unkeyed_trail_is_migrated_once(empty_store, monkeypatch, tmp_path, capsys):
    no_key(monkeypatch, tmp_path)
    for role in ("viewer", "analyst", "reviewer"):
        users.add_user(empty_store, "ana@medan.go.id", role, by=CLI)
    verdict = audit.verify(empty_store)
    assert (verdict.ok, verdict.rows, verdict.keyed_rows) == (True, 3, 0)
    # The operator makes the key: the trail is keyed from the next row on, once.
    code, out, err = run(capsys, empty_store.path, "audit-key")
    assert (code, err) == (0, "")
    key_file = audit.key_file()
    assert out.splitlines() == [
        f"Warning: A new audit key was written to {key_file}. Keep it safe and back it up apart "
        "from the store: without it the audit trail can no longer be checked or written. Every "
        "server and the CLI need the same key (the file, or KPI_AUDIT_KEY).",
        "The audit trail is keyed from row 4 on (3 earlier rows stay unkeyed)."]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    users.add_user(empty_store, "ana@medan.go.id", "analyst", by=CLI)
    assert run(capsys, empty_store.path, "audit-key")[1].splitlines() == [
        f"An audit key is already configured ({key_file}); nothing was changed.",
        "The audit trail is keyed from row 4 on (3 earlier rows stay unkeyed)."]
    rows = rows_of(empty_store)
    assert [row[3] for row in rows] == ["user.add", "user.change", "user.change",
                                        audit.KEYED_MARKER, "user.change"]
    assert json.loads(rows[3][5]) == {"key_id": audit.key_id(audit.audit_key()),
                                      "unkeyed_rows": 3}
    verdict = audit.verify(empty_store)
    assert (verdict.ok, verdict.rows, verdict.keyed_rows) == (True, 5, 2)
    # The unkeyed rows are covered by the keyed marker: re-hashing them plain is caught there.
    forge(empty_store, 1, '{"role":"admin","units":[]}', key=None)
    marker_seq = 4
    with empty_store.transaction() as cur:  # the forger keeps the marker's link too
        cur.execute("UPDATE audit_log SET prev_sha256 = (SELECT sha256 FROM audit_log "
                    "WHERE seq = 3) WHERE seq = 4")
    verdict = audit.verify(empty_store)
    assert (verdict.ok, verdict.broken_seq, verdict.reason) == (False, marker_seq, "edited")


def test_the_first_write_with_a_key_keys_the_trail_by_itself(empty_store, monkeypatch, tmp_path):
    no_key(monkeypatch, tmp_path)
    users.add_user(empty_store, "ana@medan.go.id", "viewer", by=CLI)
    monkeypatch.setenv(audit.KEY_ENV, OTHER_KEY)
    users.add_user(empty_store, "ana@medan.go.id", "analyst", by=CLI)
    assert [row[3] for row in rows_of(empty_store)] == ["user.add", audit.KEYED_MARKER,
                                                         "user.change"]
    assert audit.verify(empty_store).keyed_rows == 2


def test_without_its_key_a_keyed_trail_refuses_writes_and_says_so(example_store, monkeypatch,
                                                                 tmp_path, capsys):
    before = rows_of(example_store)
    path = no_key(monkeypatch, tmp_path)
    with pytest.raises(audit.AuditKeyError) as refused:
        users.add_user(example_store, "ana@medan.go.id", "analyst", by=CLI)
    assert str(refused.value) == (
        f"Nothing was written: the audit trail is keyed but no audit key was found ({path}); "
        "set KPI_AUDIT_KEY or restore the key file from its backup.")
    assert refused.value.localized("id").startswith("Tidak ada yang ditulis")
    assert users.list_users(example_store).empty and rows_of(example_store) == before
    code, out, err = run(capsys, example_store.path, "users", "add", "a@b.id", "--role", "viewer")
    assert (code, out, err) == (1, "", str(refused.value) + "\n")
    code, out, err = run(capsys, example_store.path, "audit", "--verify")
    assert (code, out) == (1, "")
    assert err == (f"The audit trail's {len(before)} keyed rows cannot be checked: no audit key "
                   f"was found ({path}); set KPI_AUDIT_KEY or restore the key file.\n")
    # Another key is no better: refused, and named as not the trail's.
    monkeypatch.setenv(audit.KEY_ENV, OTHER_KEY)
    with pytest.raises(audit.AuditKeyError, match="not the one this trail was written with"):
        users.add_user(example_store, "ana@medan.go.id", "analyst", by=CLI)
    verdict = audit.verify(example_store)
    assert (verdict.ok, verdict.reason) == (False, "key_other")
    assert rows_of(example_store) == before


def test_a_short_key_is_refused_in_one_sentence(example_store, monkeypatch):
    monkeypatch.setenv(audit.KEY_ENV, "short")
    with pytest.raises(KinerjaError, match=r"^The audit key from KPI_AUDIT_KEY is too short: it "
                                           r"needs at least 32 characters\.$"):
        users.add_user(example_store, "ana@medan.go.id", "analyst", by=CLI)


def test_init_makes_the_key_with_a_warning_and_keys_the_new_trail(monkeypatch, tmp_path, capsys):
    key_file = no_key(monkeypatch, tmp_path)
    db = tmp_path / "kpi"
    code, out, err = run(capsys, db, "init")
    assert (code, err) == (0, "")
    assert f"Warning: A new audit key was written to {key_file}. Keep it safe" in out
    assert "The audit trail is keyed from row 1 on (0 earlier rows stay unkeyed)." in out
    assert len(key_file.read_text().strip()) == 64
    code, out, _ = run(capsys, db, "audit", "--verify")
    assert code == 0 and out.startswith("The audit trail is intact: 1 rows, 1 of them keyed")
    assert "already configured" in run(capsys, db, "init")[1]  # never a second key


def test_audit_json_rows_hold_the_previous_rows_hash(example_store, capsys):
    code, out, _ = run(capsys, example_store.path, "audit", "--json")
    trail = json.loads(out)
    assert code == 0 and trail[0]["prev_sha256"] == audit.GENESIS
    assert all(row["prev_sha256"] == before["sha256"]
               for before, row in itertools.pairwise(trail))


def test_the_head_is_printed_on_the_record_and_the_pack(example_store):
    review.save_minutes(example_store, "2026-W13", decisions="Open earlier", by=CLI)
    head = audit.head(example_store)
    review.finalise(example_store, "2026-W13", by=CLI)
    record = review.load_record(example_store, "2026-W13")
    assert record["review"]["audit_head"] == head  # the head as the record was made
    users.add_user(example_store, "ana@medan.go.id", "analyst", by=CLI)  # later writes
    content = review.review_content(example_store, "2026-W13")
    printed = f"{head['seq']} · {head['sha256'][:16]}"
    for lang, word in (("en", "row"), ("id", "baris")):
        view = pack.pack_view(content, lang)
        assert view["audit_head"] == f"{word} {printed}"
        assert f"{word} {printed}" in pack.render_html(view, lang)
        book = openpyxl.load_workbook(io.BytesIO(
            pack.render_xlsx(view, content, lang)))
        sheet = book.worksheets[-1]
        assert [cell.value for cell in sheet["B"]][-1] == f"{word} {printed}"
    # A draft's pack prints the head as it stands when the pack is made.
    draft = review.review_content(example_store, "2026-W14")
    assert draft["review"]["audit_head"] == audit.head(example_store) != head


def test_init_then_migrate_moves_the_old_trail_in_before_the_key(tmp_path, capsys):
    from tests.test_store_housekeeping import make_old_store  # its older single-file store

    old = make_old_store(tmp_path)
    db = tmp_path / "lake"
    assert run(capsys, db, "init")[0] == 0
    code, out, err = run(capsys, db, "migrate", str(old))
    assert (code, err) == (0, ""), err
    code, out, _ = run(capsys, db, "audit", "--json")
    assert [row["action"] for row in json.loads(out)] == [audit.KEYED_MARKER, "store.migrate"]
    assert run(capsys, db, "audit", "--verify")[0] == 0
