"""The public form's intake: accepted submissions wait in a small durable queue beside the lake,
and are written into it in batches (issue 24).

Why a queue: every write to the lake holds its one writer lock (kpi.store), and an import may
hold it for a minute. A citizen's answer must never wait for that, and twenty answers a second
must not make imports wait either. So a submission is only *accepted* here, in a database of its
own that takes no part in the lake's lock: a SQLite file in the embedded store's folder
(`intake.sqlite`, WAL), or tables in the shared store's PostgreSQL database (any number of
servers then share one queue). `flush` (every few seconds in each server, see web/) then takes
the waiting rows and imports them per unit through kpi.ingest, exactly as a survey.csv of the
same rows (the same rules, a batch, precomputed values and the audit trail, by
"public form <unit>"). A row leaves the queue only after its batch has committed; a crash in
between imports it again later under the same response_id, which replaces rather than doubles.

The same database holds what must be shared by all servers at once: the rate limit per client
and unit (a keyed hash of the client's address, never the address, kept only for the window),
the forms already used (a form's token is accepted once) and, unless `KPI_SECRET_KEY` is set,
the secret that signs the forms and keys those hashes.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpi import config
from kpi.errors import StoreBusy
from kpi.ingest import IngestResult, ingest_file
from kpi.store import Store
from kpi.vocabulary import OPTIONAL, REQUIRED

if TYPE_CHECKING:
    import pandas as pd

INTAKE_FILE = "intake.sqlite"
CHANNEL = "public_form"
FORM_FILE_NAME = "public form"  # the batches' file name: the channel the rows came by
_LOG = logging.getLogger("kinerja.survey")
_CLAIM_SECONDS = 300   # a claimed row not removed after this long is flushed again
_FLUSH_ROWS = 5000     # rows per flush round
_SURVEY_COLUMNS = REQUIRED["survey"] + OPTIONAL["survey"]

_SCHEMA = {
    "sqlite": """
        CREATE TABLE IF NOT EXISTS survey_queue (
            id INTEGER PRIMARY KEY AUTOINCREMENT, unit_code TEXT NOT NULL,
            payload TEXT NOT NULL, received_at REAL NOT NULL,
            claimed_by TEXT, claimed_at REAL, failed TEXT);
        CREATE TABLE IF NOT EXISTS survey_hits (
            unit_code TEXT NOT NULL, client TEXT NOT NULL, at REAL NOT NULL);
        CREATE INDEX IF NOT EXISTS survey_hits_client ON survey_hits (unit_code, client, at);
        CREATE TABLE IF NOT EXISTS survey_forms_used (nonce TEXT PRIMARY KEY, at REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS survey_secret (id INTEGER PRIMARY KEY, secret TEXT NOT NULL);
    """,
    "postgres": """
        CREATE TABLE IF NOT EXISTS kinerja_survey_queue (
            id BIGSERIAL PRIMARY KEY, unit_code TEXT NOT NULL,
            payload TEXT NOT NULL, received_at DOUBLE PRECISION NOT NULL,
            claimed_by TEXT, claimed_at DOUBLE PRECISION, failed TEXT);
        CREATE TABLE IF NOT EXISTS kinerja_survey_hits (
            unit_code TEXT NOT NULL, client TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
        CREATE INDEX IF NOT EXISTS kinerja_survey_hits_client
            ON kinerja_survey_hits (unit_code, client, at);
        CREATE TABLE IF NOT EXISTS kinerja_survey_forms_used (
            nonce TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL);
        CREATE TABLE IF NOT EXISTS kinerja_survey_secret (
            id INTEGER PRIMARY KEY, secret TEXT NOT NULL);
    """,
}
_TABLES = ("survey_queue", "survey_hits", "survey_forms_used", "survey_secret")


def rate_limit() -> tuple[int, float]:
    """(submissions, seconds): a client may send at most so many answers to one unit within so
    many seconds (`KPI_SURVEY_RATE`, e.g. `30/3600`, the default). Many phones can share one
    address (a mobile operator's, a unit's guest Wi-Fi), so keep it generous."""
    text = os.environ.get("KPI_SURVEY_RATE", "30/3600")
    count, _, seconds = text.partition("/")
    return int(count), float(seconds or 3600)


def flush_seconds() -> float:
    """How often each server moves accepted answers into the lake (`KPI_SURVEY_FLUSH_SECONDS`)."""
    return float(os.environ.get("KPI_SURVEY_FLUSH_SECONDS", "2"))


class _Side:
    """One connection to the intake database, in one dialect; `?` placeholders throughout."""

    def __init__(self, store: Store) -> None:
        self.location = store.location
        self.dialect = "postgres" if store.location.shared else "sqlite"
        self._ready = False

    def table(self, name: str) -> str:
        return f"kinerja_{name}" if self.dialect == "postgres" else name

    def sql(self, text: str) -> str:
        for name in _TABLES:
            text = text.replace(f"{{{name}}}", self.table(name))
        return text.replace("?", "%s") if self.dialect == "postgres" else text

    def transaction(self, lock_key: str | None = None) -> contextlib.AbstractContextManager[Any]:
        """A connection inside one transaction, committed at the end. `lock_key` serialises the
        transactions that name the same key (across every server)."""
        if self.dialect == "sqlite":
            return self._sqlite_transaction()
        return self._postgres_transaction(lock_key)

    @contextlib.contextmanager
    def _sqlite_transaction(self) -> Iterator[sqlite3.Connection]:
        assert self.location.folder is not None
        con = sqlite3.connect(self.location.folder / INTAKE_FILE, timeout=30,
                              isolation_level=None)
        try:
            if not self._ready:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA["sqlite"])
                self._ready = True
            # IMMEDIATE: the write lock from the start, so that a count and the insert it
            # allows cannot interleave with another server's (SQLite has one writer at a time).
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.close()

    @contextlib.contextmanager
    def _postgres_transaction(self, lock_key: str | None) -> Iterator[Any]:
        import psycopg  # only a shared (PostgreSQL) store needs the driver

        with psycopg.connect(self.location.conninfo, connect_timeout=10) as con:
            if not self._ready:
                with con.transaction():
                    con.execute("SELECT pg_advisory_xact_lock(%s)", (_pg_key("schema"),))
                    con.execute(_SCHEMA["postgres"])
                self._ready = True
            with con.transaction():
                if lock_key is not None:
                    con.execute("SELECT pg_advisory_xact_lock(%s)", (_pg_key(lock_key),))
                yield con

    def run(self, con: Any, text: str, params: tuple[Any, ...] = ()) -> Any:
        return con.execute(self.sql(text), params)


def _pg_key(text: str) -> int:
    """A 64-bit advisory lock key for `text`."""
    return int.from_bytes(hashlib.sha256(f"kinerja-survey:{text}".encode()).digest()[:8],
                          "big", signed=True)


@dataclass
class FlushResult:
    imported: int = 0                 # rows now in the lake
    set_aside: int = 0                # rows the import's rules set aside (kept with the batch)
    failed: int = 0                   # rows no import could take (kept in the queue, marked)
    batches: list[int] = field(default_factory=list)
    busy: bool = False                # the lake was busy: the rest waits for the next round


class Intake:
    """The intake of one store (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._side = _Side(store)
        self._secret: bytes | None = None
        self.worker = uuid.uuid4().hex

    # -- the secret --------------------------------------------------------------------------
    def secret(self) -> bytes:
        """The key that signs forms and hashes client addresses: `KPI_SECRET_KEY` when set
        (every server must then have the same), else one made once and kept in the intake."""
        if self._secret is None:
            configured = os.environ.get("KPI_SECRET_KEY", "")
            if configured:
                self._secret = configured.encode()
            else:
                with self._side.transaction("secret") as con:
                    self._side.run(con, "INSERT INTO {survey_secret} (id, secret) VALUES (1, ?) "
                                   "ON CONFLICT (id) DO NOTHING", (secrets.token_hex(32),))
                    row = self._side.run(con, "SELECT secret FROM {survey_secret} WHERE id = 1"
                                         ).fetchone()
                self._secret = str(row[0]).encode()
        return self._secret

    def client_key(self, unit_code: str, address: str) -> str:
        """The keyed hash the rate limit counts a client by: the address never leaves memory."""
        message = f"{unit_code}\x1f{address}".encode()
        return hmac.new(self.secret(), message, hashlib.sha256).hexdigest()[:32]

    # -- accepting ---------------------------------------------------------------------------
    def accept(self, unit_code: str, address: str, nonce: str, row: dict[str, str],
               occupation: str = "", now: float | None = None) -> str:
        """Queue one judged submission (kpi.survey_form.check's row) for `unit_code`, from a
        client at `address`, made from the form whose token carried `nonce`. Returns
        "accepted", "rate_limited" (nothing kept) or "used" (that form was already sent;
        nothing kept)."""
        now = time.time() if now is None else now
        limit, window = rate_limit()
        client = self.client_key(unit_code, address)
        local = config.local_now()
        payload = {
            **row, "unit_code": unit_code,
            "response_id": f"WEB-{local:%Y%m%d}-{secrets.token_hex(5).upper()}",
            "submitted_at": local.isoformat(sep=" "), "occupation": occupation,
        }
        side = self._side
        with side.transaction(f"hits:{unit_code}:{client}") as con:
            side.run(con, "DELETE FROM {survey_hits} WHERE unit_code = ? AND client = ? "
                     "AND at < ?", (unit_code, client, now - window))
            sent = side.run(con, "SELECT count(*) FROM {survey_hits} WHERE unit_code = ? "
                            "AND client = ?", (unit_code, client)).fetchone()[0]
            if int(sent) >= limit:
                return "rate_limited"
            fresh = side.run(con, "INSERT INTO {survey_forms_used} (nonce, at) VALUES (?, ?) "
                             "ON CONFLICT (nonce) DO NOTHING", (nonce, now)).rowcount
            if fresh != 1:
                return "used"
            side.run(con, "INSERT INTO {survey_hits} (unit_code, client, at) VALUES (?, ?, ?)",
                     (unit_code, client, now))
            side.run(con, "INSERT INTO {survey_queue} (unit_code, payload, received_at) "
                     "VALUES (?, ?, ?)", (unit_code, json.dumps(payload, ensure_ascii=False), now))
        return "accepted"

    def waiting(self) -> int:
        """Accepted answers not in the lake yet (failed ones included)."""
        with self._side.transaction() as con:
            return int(self._side.run(con, "SELECT count(*) FROM {survey_queue}").fetchone()[0])

    def prune(self, form_max_age: float, now: float | None = None) -> None:
        """Forget hits older than the rate window and used forms older than a form may be."""
        now = time.time() if now is None else now
        _, window = rate_limit()
        with self._side.transaction() as con:
            self._side.run(con, "DELETE FROM {survey_hits} WHERE at < ?", (now - window,))
            self._side.run(con, "DELETE FROM {survey_forms_used} WHERE at < ?",
                           (now - form_max_age,))

    # -- flushing ----------------------------------------------------------------------------
    def _claim(self, now: float) -> list[tuple[int, str, dict[str, Any]]]:
        side = self._side
        with side.transaction("claim") as con:
            rows = side.run(
                con, "UPDATE {survey_queue} SET claimed_by = ?, claimed_at = ? WHERE id IN ("
                "SELECT id FROM {survey_queue} WHERE failed IS NULL AND (claimed_at IS NULL "
                "OR claimed_at < ?) ORDER BY id LIMIT ?) RETURNING id, unit_code, payload",
                (self.worker, now, now - _CLAIM_SECONDS, _FLUSH_ROWS)).fetchall()
        return sorted((int(i), str(unit), json.loads(payload)) for i, unit, payload in rows)

    def _release(self, ids: list[int]) -> None:
        self._done(ids, "UPDATE {survey_queue} SET claimed_by = NULL, claimed_at = NULL "
                        "WHERE claimed_by = ? AND id IN ({ids})")

    def _done(self, ids: list[int], statement: str, *extra: Any) -> None:
        if not ids:
            return
        side = self._side
        with side.transaction() as con:
            marks = ", ".join("?" for _ in ids)
            side.run(con, statement.replace("{ids}", marks), (*extra, self.worker, *ids))

    def flush(self, now: float | None = None) -> FlushResult:
        """Import the waiting answers, one batch per unit; see the module docstring. (`now`, in
        seconds since the epoch, is the time the claims are judged at.)"""
        result = FlushResult()
        claimed = self._claim(time.time() if now is None else now)
        if not claimed:
            return result
        payloads = [payload for _, _, payload in claimed]
        _resolve_tickets(self.store, payloads)
        by_unit: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for row_id, unit, payload in claimed:
            by_unit.setdefault(unit, []).append((row_id, payload))
        details: list[tuple[str, str, str, int]] = []
        for position, (unit, items) in enumerate(by_unit.items()):
            ids = [row_id for row_id, _ in items]
            try:
                imported = _import(self.store, unit, [payload for _, payload in items])
            except StoreBusy:
                result.busy = True
                self._release([i for _, rows in list(by_unit.items())[position:]
                               for i, _ in rows])
                break
            if imported.batch_id is None:  # no row could go in: keep them, say why
                reasons = json.dumps([p.reason for p in imported.problems][:20])
                self._done(ids, "UPDATE {survey_queue} SET failed = ? "
                                "WHERE claimed_by = ? AND id IN ({ids})", reasons)
                result.failed += len(ids)
                _LOG.warning("public form answers for %s could not be imported: %s", unit,
                             reasons)
                continue
            self._done(ids, "DELETE FROM {survey_queue} WHERE claimed_by = ? AND id IN ({ids})")
            result.batches.append(imported.batch_id)
            result.imported += imported.inserted + imported.replaced
            result.set_aside += imported.set_aside
            details += [(unit, payload["response_id"], payload.get("occupation") or "",
                         imported.batch_id) for _, payload in items]
        if details:
            _record_details(self.store, details)
        return result


def _import(store: Store, unit: str, payloads: list[dict[str, Any]]) -> IngestResult:
    """One unit's answers as a survey.csv of their rows, through the import (accept-valid: a
    row its rules refuse is kept with the batch's set-aside rows, never dropped)."""
    with tempfile.TemporaryDirectory(prefix="kinerja-form-") as folder:
        path = Path(folder) / "survey.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(_SURVEY_COLUMNS)
            for payload in payloads:
                writer.writerow([payload.get(column) or "" for column in _SURVEY_COLUMNS])
        return ingest_file(store, "survey", path, file_name=FORM_FILE_NAME,
                           loaded_by=f"public form {unit}", accept_valid=True,
                           audit_action="survey.form")


def _resolve_tickets(store: Store, payloads: list[dict[str, Any]]) -> None:
    """Replace each typed queue number by the ticket of the unit's visit it names: that very
    ticket_id, or else the visit of the same day whose ticket ends in "-<number>" (a mapping
    composes tickets as date-number). A number with no visit yet is kept as typed: the visit
    may be imported later, and the Satisfaction page matches then."""
    asked = [(index, p["unit_code"], p["ticket_id"], p["submitted_at"][:10])
             for index, p in enumerate(payloads) if p.get("ticket_id")]
    if not asked:
        return
    with store.reading() as cur:
        cur.register("asked_tickets", _frame(asked))
        found = cur.query_rows(
            "SELECT a.k, e.ticket_id, e.ticket_id = a.ticket AS exact, e.arrived_at "
            "FROM asked_tickets a JOIN events e ON e.unit_code = a.unit_code "
            "AND (e.ticket_id = a.ticket OR (e.arrived_at >= a.day::DATE "
            "AND e.arrived_at < a.day::DATE + 1 "
            "AND ends_with(upper(e.ticket_id), '-' || upper(a.ticket))))")
        cur.unregister("asked_tickets")
    best: dict[int, tuple[bool, dt.datetime, str]] = {}
    for index, ticket, exact, arrived in found:
        candidate = (bool(exact), arrived, str(ticket))
        if int(index) not in best or candidate > best[int(index)]:
            best[int(index)] = candidate
    for index, (_, _, ticket) in best.items():
        payloads[index]["ticket_id"] = ticket


def _frame(asked: list[tuple[int, str, str, str]]) -> pd.DataFrame:
    import pandas as pd  # the look-up's table (pandas is loaded by the import anyway)

    return pd.DataFrame(asked, columns=["k", "unit_code", "ticket", "day"])


def _record_details(store: Store, details: list[tuple[str, str, str, int]]) -> None:
    """The form's own answers (channel, occupation) beside the rows a flush imported."""
    try:
        with store.transaction() as cur:
            cur.executemany(
                "INSERT INTO survey_form_details (unit_code, response_id, channel, occupation, "
                "batch_id) VALUES (?, ?, ?, nullif(?, ''), ?)",
                [(unit, response, CHANNEL, occupation, batch)
                 for unit, response, occupation, batch in details])
    except StoreBusy:  # the answers are in; only their occupation waits for nobody
        _LOG.warning("the occupations of %d public form answers were not kept: store busy",
                     len(details))
