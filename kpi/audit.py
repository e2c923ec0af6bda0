"""The audit trail: one append-only row per write, chained by sha256 (issue 11).

`record(cur, who, action, object, details)` is called by every writer INSIDE the transaction of
the write it describes, so the trail and the data commit together or not at all. A row's sha256
is sha256(previous row's sha256 + the row's canonical content); the first row's previous is 64
zeros. Editing a row's content, deleting a row, or reordering rows breaks the chain, and
`verify` names the first row where it breaks. (Deleting rows at the end of the trail leaves a
shorter, consistent chain: backups and the store's own history are the guard there.)
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kpi import config

if TYPE_CHECKING:
    import pandas as pd

GENESIS = "0" * 64


def cli_user() -> str:
    """The name the CLI (and any script without a signed-in person) writes under:
    `cli:<os user>`, the operator of the machine."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        name = "unknown"
    return f"cli:{name}"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: one text for one value, so its hash is stable."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str)


def _content(seq: int, at: dt.datetime, who: str, action: str, obj: str, details: str) -> str:
    return canonical_json([seq, at.isoformat(sep=" "), who, action, obj, details])


def row_sha256(prev_sha256: str, seq: int, at: dt.datetime, who: str, action: str, obj: str,
               details: str) -> str:
    """The chain's hash of one row."""
    content = _content(seq, at, who, action, obj, details)
    return hashlib.sha256((prev_sha256 + content).encode("utf-8")).hexdigest()


def record(cur, who: str | None, action: str, obj: str | int,
           details: dict[str, Any] | None = None) -> int:
    """Append one row to the trail on `cur` (inside the write's transaction); returns its seq.
    `who` None is a script without a signed-in person: `cli:<os user>`."""
    last = cur.query_rows("SELECT seq, sha256 FROM audit_log ORDER BY seq DESC LIMIT 1")
    seq, prev = (int(last[0][0]) + 1, last[0][1]) if last else (1, GENESIS)
    at = config.local_now()
    text = canonical_json(details or {})
    who = who or cli_user()
    digest = row_sha256(prev, seq, at, who, action, str(obj), text)
    cur.execute(
        "INSERT INTO audit_log (seq, logged_at, who, action, object, details, prev_sha256, sha256) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [seq, at, who, action, str(obj), text, prev, digest])
    return seq


def record_alone(store, who: str | None, action: str, obj: str | int,
                 details: dict[str, Any] | None = None) -> int:
    """`record` in a transaction of its own, for what is not a data write of the store but
    changes or copies it as a whole (maintenance, backup, restore)."""
    with store.transaction() as cur:
        return record(cur, who, action, obj, details)


def trail(store, *, since: dt.date | None = None, who: str | None = None,
          action: str | None = None) -> pd.DataFrame:
    """The trail, oldest first: seq, logged_at, who, action, object, details (JSON text), sha256;
    rows from local date `since` on, by `who`, of `action` (each filter optional)."""
    return store.query_df(
        "SELECT seq, logged_at, who, action, object, details, sha256 FROM audit_log "
        "WHERE ($since IS NULL OR logged_at >= $since) AND ($who IS NULL OR who = $who) "
        "AND ($action IS NULL OR action = $action) ORDER BY seq",
        {"since": dt.datetime.combine(since, dt.time()) if since else None, "who": who,
         "action": action})


@dataclass(frozen=True)
class Verdict:
    """The chain check: `ok`, how many rows were checked, and the first broken row."""

    ok: bool
    rows: int
    broken_seq: int | None = None
    reason: str | None = None  # edited | missing | order


def verify(store) -> Verdict:
    """Check the whole chain, oldest first; stops at the first broken row."""
    rows = store.query_rows("SELECT seq, logged_at, who, action, object, details, prev_sha256, sha256 "
                            "FROM audit_log ORDER BY seq")
    prev, expected_seq = GENESIS, 1
    for seq, at, who, action, obj, details, prev_sha256, sha256 in rows:
        if seq != expected_seq:
            # A row before this one was deleted (or a seq was rewritten).
            return Verdict(False, len(rows), int(seq), "missing" if seq > expected_seq else "order")
        if prev_sha256 != prev:
            return Verdict(False, len(rows), int(seq), "edited")
        if row_sha256(prev, seq, at, who, action, obj, details) != sha256:
            return Verdict(False, len(rows), int(seq), "edited")
        prev, expected_seq = sha256, seq + 1
    return Verdict(True, len(rows))


def actions(store) -> list[str]:
    """The actions that occur in the trail, alphabetically (for the page's filter)."""
    return [row[0] for row in store.query_rows(
        "SELECT DISTINCT action FROM audit_log ORDER BY action")]


def people(store) -> list[str]:
    """Everyone who wrote something, alphabetically (for the page's filter)."""
    return [row[0] for row in store.query_rows("SELECT DISTINCT who FROM audit_log ORDER BY who")]
