"""The audit trail: one append-only row per write, chained by a keyed hash (issues 11, 20).

`record(cur, who, action, object, details)` is called by every writer INSIDE the transaction of
the write it describes, so the trail and the data commit together or not at all. A row's hash
(column `sha256`) covers the previous row's hash and the row's canonical content; the first
row's previous is 64 zeros. Editing a row's content, deleting a row, or reordering rows breaks
the chain, and `verify` names the first row where it breaks.

The hash is an HMAC-SHA256 with the audit key, which is kept outside the store (`KPI_AUDIT_KEY`,
or the key file `KPI_AUDIT_KEY_FILE`, default .streamlit/audit.key beside the secrets; `init`
makes one): someone who can write the catalog but has not the key cannot re-hash an edited row.
Trails begun before the key are migrated once: the first write with a key appends the marker row
`audit.keyed` (naming the key's id, never the key); the rows before it stay plain sha256 and are
reported as unkeyed, the marker and every later row are keyed, and the marker's hash covers the
unkeyed rows through the chain. Once a trail is keyed, a write without the key (or with another
key) is refused: the chain cannot be continued honestly. The chain's head (the last row's seq
and hash) is printed on every review record and pack, so that an edit re-hashed by someone who
has the key still shows against the paper. (Deleting rows at the end of the trail leaves a
shorter, consistent chain: the printed head, backups and the store's own history are the guard
there.)
"""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpi import config
from kpi.errors import StoreError
from kpi.i18n import fmt_int, t
from kpi.reads import reads

if TYPE_CHECKING:
    import pandas as pd

    from kpi.store import Reader, Store, Writer

GENESIS = "0" * 64
KEY_ENV = "KPI_AUDIT_KEY"
KEY_FILE_ENV = "KPI_AUDIT_KEY_FILE"
DEFAULT_KEY_FILE = config.ROOT / ".streamlit" / "audit.key"
KEYED_MARKER = "audit.keyed"  # the action of the row from which the trail is keyed (and in _LAST_AND_MARKER_SQL)
HEAD_DIGITS = 16  # the head's short form, as printed on paper
_MIN_KEY_CHARACTERS = 32
_KEY_ID_MESSAGE = b"kinerja audit key id"


class AuditKeyError(StoreError):
    """The audit key is missing, unreadable, too short or not the trail's: nothing is written."""

    key = "audit.error_key_missing"


# -- the key ------------------------------------------------------------------------------------
def key_file() -> Path:
    """Where the key file is looked for (and `init` writes it): `KPI_AUDIT_KEY_FILE`, else
    .streamlit/audit.key in the checkout, beside the secrets."""
    named = os.environ.get(KEY_FILE_ENV)
    return Path(named).expanduser().resolve() if named else DEFAULT_KEY_FILE


def key_source() -> str:
    """Where the key comes from, for messages (never the key itself)."""
    return KEY_ENV if os.environ.get(KEY_ENV) else str(key_file())


def audit_key() -> bytes | None:
    """The audit key (`KPI_AUDIT_KEY`, else the key file), or None when there is none."""
    text = os.environ.get(KEY_ENV)
    if not text:
        try:
            text = key_file().read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            raise AuditKeyError("audit.error_key_unreadable", path=str(key_file()),
                                detail=error.strerror or type(error).__name__) from error
    text = text.strip()
    if not text:
        return None
    if len(text) < _MIN_KEY_CHARACTERS:
        raise AuditKeyError("audit.error_key_short", source=key_source(),
                            minimum=_MIN_KEY_CHARACTERS)
    return text.encode("utf-8")


def key_id(key: bytes) -> str:
    """A short fingerprint of the key, recorded on the marker row: it tells a wrong key from an
    edited row, and reveals nothing of the key."""
    return hmac.new(key, _KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:HEAD_DIGITS]


def make_key_file(path: Path | None = None) -> Path | None:
    """Write a new random key to the key file (readable by its owner only) unless a key is
    already configured; returns the file written, or None when a key existed."""
    if audit_key() is not None:
        return None
    path = path or key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


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
               details: str, key: bytes | None = None) -> str:
    """The chain's hash of one row: HMAC-SHA256 with `key`, plain sha256 for an unkeyed row."""
    message = (prev_sha256 + _content(seq, at, who, action, obj, details)).encode("utf-8")
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


# The last row and the trail's marker row (its seq and details), in one read of the trail.
_LAST_AND_MARKER_SQL = """
SELECT last.seq, last.sha256, marker.seq, marker.details
FROM (SELECT seq, sha256 FROM audit_log ORDER BY seq DESC LIMIT 1) AS last
LEFT JOIN (SELECT seq, details FROM audit_log WHERE action = 'audit.keyed'
           ORDER BY seq LIMIT 1) AS marker ON true
"""


def _marker_key_id(details: str | None) -> str | None:
    try:
        return json.loads(details or "").get("key_id")
    except (ValueError, AttributeError):
        return None


def _append(cur: Writer, seq: int, prev: str, who: str, action: str, obj: str, text: str,
            key: bytes | None) -> str:
    at = config.local_now()
    digest = row_sha256(prev, seq, at, who, action, obj, text, key)
    cur.execute(
        "INSERT INTO audit_log (seq, logged_at, who, action, object, details, prev_sha256, sha256) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [seq, at, who, action, obj, text, prev, digest])
    return digest


def _append_marker(cur: Writer, seq: int, prev: str, who: str, key: bytes) -> str:
    return _append(cur, seq, prev, who, KEYED_MARKER, "audit trail",
                   canonical_json({"key_id": key_id(key), "unkeyed_rows": seq - 1}), key)


@functools.cache
def _warn_unkeyed() -> None:
    """Once per process: a trail written without a key proves only that nobody edited it naively."""
    logging.getLogger(__name__).warning(
        "The audit trail is not keyed: no audit key was found (%s); run `python -m kpi audit-key`.",
        key_source())


def key_trail(store: Store, who: str | None = None) -> tuple[int, int] | None:
    """Key the trail now rather than at its next write (the one migration of an older trail):
    (the marker row's seq, the unkeyed rows before it), or None without a key. A trail keyed
    already is left as it is."""
    key = audit_key()
    if key is None:
        return None
    with store.transaction() as cur:
        last = cur.query_rows(_LAST_AND_MARKER_SQL)
        seq, prev, marker_seq, marker_details = (
            (int(last[0][0]), last[0][1], last[0][2], last[0][3]) if last
            else (0, GENESIS, None, None))
        if marker_seq is not None and _marker_key_id(marker_details) != key_id(key):
            raise AuditKeyError("audit.error_key_other", source=key_source())
        if marker_seq is None:
            marker_seq = seq + 1
            _append_marker(cur, marker_seq, prev, who or cli_user(), key)
    return int(marker_seq), int(marker_seq) - 1


def drop_lone_marker(cur: Writer) -> None:
    """Empty a trail that holds nothing but its keying marker (a store `init` just made), so that
    an older store's trail can be moved in first (kpi.migrate); its next write keys it again."""
    rows = cur.query_rows("SELECT action FROM audit_log LIMIT 2")
    if [action for (action,) in rows] == [KEYED_MARKER]:
        cur.execute("DELETE FROM audit_log")


def record(cur: Writer, who: str | None, action: str, obj: str | int,
           details: dict[str, Any] | None = None) -> int:
    """Append one row to the trail on `cur` (inside the write's transaction); returns its seq.
    `who` None is a script without a signed-in person: `cli:<os user>`. The first write with a
    key on an unkeyed trail appends the marker row first; a keyed trail without its key refuses
    (AuditKeyError, which rolls the write back)."""
    key = audit_key()
    last = cur.query_rows(_LAST_AND_MARKER_SQL)
    seq, prev, marker_seq, marker_details = (
        (int(last[0][0]), last[0][1], last[0][2], last[0][3]) if last else (0, GENESIS, None, None))
    who = who or cli_user()
    if marker_seq is not None:
        if key is None:
            raise AuditKeyError(source=key_source())
        if _marker_key_id(marker_details) != key_id(key):
            raise AuditKeyError("audit.error_key_other", source=key_source())
    elif key is not None:  # the trail's one migration: from here on, every row is keyed
        seq += 1
        prev = _append_marker(cur, seq, prev, who, key)
    else:
        _warn_unkeyed()
    seq += 1
    _append(cur, seq, prev, who, action, str(obj), canonical_json(details or {}), key)
    return seq


def record_alone(store: Store, who: str | None, action: str, obj: str | int,
                 details: dict[str, Any] | None = None) -> int:
    """`record` in a transaction of its own, for what is not a data write of the store but
    changes or copies it as a whole (maintenance, backup, restore)."""
    with store.transaction() as cur:
        return record(cur, who, action, obj, details)


@reads("audit_log")
def trail(store: Reader, *, since: dt.date | None = None, who: str | None = None,
          action: str | None = None) -> pd.DataFrame:
    """The trail, oldest first: seq, logged_at, who, action, object, details (JSON text),
    prev_sha256, sha256;
    rows from local date `since` on, by `who`, of `action` (each filter optional)."""
    return store.query_df(
        "SELECT seq, logged_at, who, action, object, details, prev_sha256, sha256 FROM audit_log "
        "WHERE ($since IS NULL OR logged_at >= $since) AND ($who IS NULL OR who = $who) "
        "AND ($action IS NULL OR action = $action) ORDER BY seq",
        {"since": dt.datetime.combine(since, dt.time()) if since else None, "who": who,
         "action": action})


@dataclass(frozen=True)
class Verdict:
    """The chain check: `ok`, how many rows were checked, how many of them are keyed, the head
    (last row's seq and hash), and the first broken row or why the keyed rows could not be
    checked."""

    ok: bool
    rows: int
    broken_seq: int | None = None
    reason: str | None = None  # edited | missing | order | key_missing | key_other
    keyed_rows: int = 0
    head_seq: int | None = None
    head_sha256: str | None = None

    @property
    def head_short(self) -> str:
        return short_hash(self.head_sha256)


def short_hash(digest: str | None) -> str:
    """The head's hash as printed: its first HEAD_DIGITS hex digits."""
    return (digest or "")[:HEAD_DIGITS]


@reads("audit_log")
def verify(store: Reader) -> Verdict:
    """Check the whole chain, oldest first; stops at the first broken row. The keyed rows need
    the key: without it (or with another) the verdict says so rather than half a check."""
    rows = store.query_rows("SELECT seq, logged_at, who, action, object, details, prev_sha256, sha256 "
                            "FROM audit_log ORDER BY seq")
    marker = next((row for row in rows if row[3] == KEYED_MARKER), None)
    keyed_rows = len(rows) - int(marker[0]) + 1 if marker else 0
    head = (int(rows[-1][0]), rows[-1][7]) if rows else (None, None)
    key = audit_key()
    if marker is not None and key is None:
        return Verdict(False, len(rows), None, "key_missing", keyed_rows, *head)
    if marker is not None and key is not None and _marker_key_id(marker[5]) != key_id(key):
        return Verdict(False, len(rows), int(marker[0]), "key_other", keyed_rows, *head)
    prev, expected_seq = GENESIS, 1
    for seq, at, who, action, obj, details, prev_sha256, sha256 in rows:
        if seq != expected_seq:
            # A row before this one was deleted (or a seq was rewritten).
            return Verdict(False, len(rows), int(seq), "missing" if seq > expected_seq else "order",
                           keyed_rows, *head)
        row_key = key if marker is not None and seq >= marker[0] else None
        if prev_sha256 != prev or row_sha256(prev, seq, at, who, action, obj, details,
                                             row_key) != sha256:
            return Verdict(False, len(rows), int(seq), "edited", keyed_rows, *head)
        prev, expected_seq = sha256, seq + 1
    return Verdict(True, len(rows), None, None, keyed_rows, *head)


def verdict_sentence(verdict: Verdict, lang: str) -> str:
    """The check in one sentence of `lang`: intact (rows, keyed rows, head), broken at a row,
    or the keyed rows unchecked for want of the key."""
    if verdict.reason in ("key_missing", "key_other"):
        return t(f"audit.verify_{verdict.reason}", lang,
                 keyed=fmt_int(verdict.keyed_rows, lang), source=key_source())
    if not verdict.ok:
        return t("audit.verify_broken", lang, seq=verdict.broken_seq,
                 reason=t(f"audit.reason_{verdict.reason}", lang))
    if not verdict.rows:
        return t("audit.verify_empty", lang)
    return t("audit.verify_intact", lang, rows=fmt_int(verdict.rows, lang),
             keyed=fmt_int(verdict.keyed_rows, lang), seq=verdict.head_seq,
             head=verdict.head_short)


def head(store_or_cur: Reader) -> dict[str, Any] | None:
    """The chain's head, {"seq", "sha256"} of its last row (None while the trail is empty): what
    a review record and pack print, so a later edit of earlier rows shows against the paper."""
    rows = store_or_cur.query_rows("SELECT seq, sha256 FROM audit_log ORDER BY seq DESC LIMIT 1")
    return {"seq": int(rows[0][0]), "sha256": rows[0][1]} if rows else None


@reads("audit_log")
def actions(store: Reader) -> list[str]:
    """The actions that occur in the trail, alphabetically (for the page's filter)."""
    return [row[0] for row in store.query_rows(
        "SELECT DISTINCT action FROM audit_log ORDER BY action")]


@reads("audit_log")
def people(store: Reader) -> list[str]:
    """Everyone who wrote something, alphabetically (for the page's filter)."""
    return [row[0] for row in store.query_rows("SELECT DISTINCT who FROM audit_log ORDER BY who")]
