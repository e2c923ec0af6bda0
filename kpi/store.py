"""The store: the one place that talks to DuckDB, on a DuckLake (a catalog plus Parquet files).

`KPI_DB` names the store (a `Location`; each kind of catalog is a class of kpi/catalogs.py
holding what differs: attach, extension, writer lock, backup and restore):
- a folder (default `data/kpi`): the embedded store, a SQLite catalog in WAL mode
  (`catalog.sqlite`) and its Parquet files (`data/`) side by side; writers take an exclusive
  `flock` on `write.lock` for their whole transaction, readers never wait;
- `postgresql://…`: a shared catalog on PostgreSQL, its files in `KPI_DATA_PATH` (a folder or
  `s3://bucket/prefix`); writers take a PostgreSQL advisory lock, so any number of dashboard
  servers and CLI processes on any number of machines can share it.

Every read sees the latest committed snapshot as a whole (snapshot isolation), and every write
is one DuckLake transaction: all of it becomes one snapshot, or nothing does. DuckLake has no
keys, indexes or sequences: the import enforces keys, and new ids are `max + 1` under the
writer lock (`next_id`). The lake's snapshot id is the data version the dashboard's caches key
on; a finalised review pins the snapshot it was made from (`at_snapshot`).

One DuckDB instance per Store and process; every unit of work takes its own cursor
(`with store.cursor()` or `with store.transaction()`), so no two threads share a connection.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import functools
import hashlib
import importlib
import itertools
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit

import duckdb
import pandas as pd

from kpi import config
from kpi.catalogs import (
    BACKUP_MANIFEST,
    CATALOG_FILE,
    DATA_FOLDER,
    LOCK_FILE,
    LOCK_OWNER_FILE,
    PG_DUMP_FILE,
    EmbeddedCatalog,
    Location,
    PostgresCatalog,
    quote,
    restore,
)
from kpi.errors import StoreError

__all__ = [  # what the rest of Kinerja imports from here (the catalog kinds' names included)
    "BACKUP_MANIFEST", "CACHED_TABLES", "CATALOG_FILE", "DATA_FOLDER", "LAKE", "LOCK_FILE",
    "LOCK_OWNER_FILE", "PG_DUMP_FILE", "PROVINCE_ORDER", "SCHEMA_FILE", "Cursor",
    "EmbeddedCatalog", "Location", "PostgresCatalog", "Reader", "Store", "Writer", "copy_table",
    "extension_file", "old_store_tables", "one_unit_of_work", "restore", "schema_digest",
]
SCHEMA_FILE = Path(__file__).with_name("schema.sql")
# meta's record of the schema.sql a store last applied (a digest of the file): a store opened
# after the file changed (a feature's new tables) applies it once, under the writer lock.
SCHEMA_KEY = "schema_sha"
LAKE = "lake"
# The extensions ship as wheels built for exactly this DuckDB (the package index's
# duckdb-extension-* 1.5.5); DuckDB never downloads anything.
_EXTENSION_PACKAGES = {
    "ducklake": "duckdb_extension_ducklake",
    "sqlite_scanner": "duckdb_extension_sqlite_scanner",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
    "httpfs": "duckdb_extension_httpfs",
}
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_SELECT = re.compile(r"\s*SELECT\b", re.IGNORECASE)  # a statement that writes nothing
# A statement that writes one table, named: INSERT, UPDATE or DELETE.
_WRITES_ONE = re.compile(r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"
                         rf"(?:{_IDENTIFIER.pattern}\.)*({_IDENTIFIER.pattern})\b", re.IGNORECASE)
# The small tables the pages read again and again (the unit tree, targets, the precomputed
# values, and the meeting's own records): copied into the instance's in-memory database, where
# a query costs a fraction of a millisecond; on the lake each table a query touches costs a
# catalog lookup (4-5 ms of CPU on SQLite, 10-50 ms for a table whose rows are still inlined in
# the catalog). A copy is made again only for the tables a write touched: after a meeting's
# write (an action, a note) only its own tables are read from the lake. The big raw tables and
# the audit trail are always read from the lake.
CACHED_TABLES = ("units", "services", "targets", "kpi_values", "unit_days", "meta", "users",
                 "reviews", "review_minutes", "actions", "action_updates", "interventions",
                 "survey_links", "published_units")
# Copies kept in the order pages filter them by: DuckDB then skips the row groups (zone maps)
# of other periods; the overview's read of three periods takes half the time.
_COPY_ORDER = {"kpi_values": "grain, period_start", "unit_days": "day"}
# A table whose data files pass this size is read from the lake itself, not copied: at a
# province's 1,353 units the precomputed values (7 M rows, 37 MB of Parquet at 10^7 events) cost
# 680 MB of memory and 5.6 s of CPU in every dashboard server after every import, where their
# catalog lookup costs milliseconds; a city's tables stay far below it (bench/README.md).
COPY_MAX_BYTES = 24 << 20
# A province's store (`Store.partition_by_month`): each table's rows in this order in its files.
# The precomputed values by grain first: the pages read one grain's periods for many units
# (the overview of the cities, of a city), and a city's weekly DELETE still skips the other
# units' row groups inside each grain. By unit first, a read of one week's values for 33
# cities read every row group: at 10^7 events 2-3x the CPU of this order (bench/README.md).
PROVINCE_ORDER = {
    "events": "unit_code, arrived_at",
    "survey_responses": "unit_code, submitted_at",
    "kpi_values": "grain, unit_code, period_start",
    "unit_days": "unit_code, day",
}
# `maintain` rewrites a data file once this share of its rows is deleted. A DELETE that
# touches a file rewrites that file's whole list of deleted rows: a weekly import's few
# deletions in the files of the backfill paid for the backfill's hundreds of thousands (a
# province's `unit_days` after its events' backfill: 0.26 s of CPU in each import at 3·10^6
# events), and the replaced KPI values of every week add to the list (bench/README.md).
REWRITE_DELETED_SHARE = 0.01
_CACHES_KEPT = 2  # per lake: the current snapshot's copy and the one before (readers in flight)
# Snapshot changes that name the tables they touched by id; any other kind of change (a table
# created, altered or dropped, files compacted) makes a new copy of every table.
_TABLE_ID_CHANGES = ("tables_inserted_into", "tables_deleted_from", "inlined_insert",
                     "inlined_delete")

Params = Sequence[Any] | dict[str, Any] | None
P = ParamSpec("P")
R = TypeVar("R")


@runtime_checkable
class Reader(Protocol):
    """What an engine function reads the store through: a `Store` (each call one reading of
    the latest snapshot) or a `Cursor` (one unit of work, or a write transaction). Type an
    engine function's first parameter with it, and mypy checks every call."""

    def query_df(self, sql: str, params: Params = None) -> pd.DataFrame: ...

    def query_rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]: ...

    def query_value(self, sql: str, params: Params = None) -> Any: ...

    def as_begun(self, table: str) -> str:
        """The name that reads `table`: in a write transaction, its copy made at the snapshot
        the transaction began on (`Cursor.as_begun`); the lake's own table otherwise."""
        ...


class Writer(Reader, Protocol):
    """What an engine function writes through: the cursor of a write transaction
    (`with store.transaction() as cur`). A `Store` is no Writer: a function that writes takes
    the transaction its caller opened, so that the caller's writes and its own are one
    snapshot, or none."""

    def execute(self, sql: str, params: Params = None) -> Writer: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Writer: ...

    def register(self, name: str, data: Any) -> None: ...

    def unregister(self, name: str) -> None: ...


def extension_file(name: str) -> Path:
    """The installed extension file of `name` (from its duckdb-extension-* wheel)."""
    package = _EXTENSION_PACKAGES[name]
    try:
        module = importlib.import_module(package)
    except ImportError as error:
        raise StoreError("error.store_extension_missing", name=name) from error
    found = next(Path(module.__path__[0]).glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension"),
                 None)
    if found is None:
        raise StoreError("error.store_extension_version", package=package,
                         version=duckdb.__version__)
    return found


class Cursor:
    """A DuckDB cursor for one unit of work; errors come out as `StoreError`."""

    def __init__(self, raw: duckdb.DuckDBPyConnection, location: Location) -> None:
        self._raw = raw
        self._location = location
        # In a write transaction: the in-memory copies, equal to the lake's tables at the
        # snapshot it began on, of the tables it has not written yet (see `as_begun`).
        self._begun: dict[str, str] = {}

    def as_begun(self, table: str) -> str:
        """The name that reads `table` in a write transaction: its in-memory copy made at the
        snapshot the transaction began on, while the transaction has not written to it (a
        read of it costs no catalog lookup; on the lake, 10-30 ms for a small table whose
        rows are inlined in the catalog); the lake's own table otherwise."""
        return self._begun.get(table, _name(table))

    def _forget_copies_written_by(self, sql: str) -> None:
        """The copies `sql` makes stale: the table an INSERT, UPDATE or DELETE names; every
        copy for any other statement that is not a SELECT."""
        if _SELECT.match(sql):
            return
        written = _WRITES_ONE.match(sql)
        if written is None:
            self._begun = {}
        else:
            self._begun.pop(written.group(1).lower(), None)

    def execute(self, sql: str, params: Params = None) -> Cursor:
        """Run one parametrised statement (never build SQL from user values)."""
        if self._begun:
            self._forget_copies_written_by(sql)
        try:
            self._raw.execute(sql, params)
        except duckdb.Error as error:
            raise self._location.translate(error) from error
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Cursor:
        if self._begun:
            self._forget_copies_written_by(sql)
        try:
            self._raw.executemany(sql, rows)
        except duckdb.Error as error:
            raise self._location.translate(error) from error
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._raw.fetchall()

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._raw.fetchone()

    def df(self) -> pd.DataFrame:
        return self._raw.df()

    @property
    def description(self) -> Any:
        return self._raw.description

    def register(self, name: str, data: Any) -> None:
        """Expose a pandas DataFrame or Arrow table to SQL as view `name` for this cursor."""
        try:
            self._raw.register(name, data)
        except duckdb.Error as error:
            raise self._location.translate(error) from error

    def unregister(self, name: str) -> None:
        self._raw.unregister(name)

    def query_df(self, sql: str, params: Params = None) -> pd.DataFrame:
        return self.execute(sql, params).df()

    def query_rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        return self.execute(sql, params).fetchall()

    def query_value(self, sql: str, params: Params = None) -> Any:
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]


class _Engine:
    """One in-memory DuckDB instance with the lake attached; shared by a Store and its pinned
    views, which attach the same catalog read-only at a snapshot."""

    def __init__(self, location: Location) -> None:
        self.location = location
        self.lock = threading.Lock()
        try:
            # The extension files are those of the duckdb-extension-* wheels, installed
            # hash-checked from the locks; nothing is downloaded or loaded by name. DuckDB's
            # own signature check of each file on every connection (ducklake and sqlite_scanner
            # together: 0.25-0.3 s CPU, 0.4-1.8 s wall on a busy 2-CPU machine; paid by every
            # CLI run, opened store and server start) adds nothing to that.
            settings: dict[str, str | bool | int | float | list[str]] = {
                "autoinstall_known_extensions": "false", "autoload_known_extensions": "false",
                "allow_unsigned_extensions": "true"}
            limit = config.memory_limit()
            if limit is not None:
                settings["memory_limit"] = limit
            try:
                self.db = duckdb.connect(config=settings)
            except duckdb.Error as error:
                if limit is None:
                    raise
                raise StoreError("error.memory_limit", value=limit) from error
            names = ["ducklake", location.extension]
            if location.uses_s3:
                names.append("httpfs")
            for name in names:
                self.db.execute(f"LOAD '{extension_file(name)}'")
            if location.uses_s3:
                self.db.execute(*_s3_secret_sql())
        except duckdb.Error as error:
            raise location.translate(error) from error
        self.attached: set[str] = set()
        self.cache_lock = threading.Lock()  # one copy is made at a time
        self.caches: dict[str, list[_Cached]] = {}  # per attached alias, newest first
        self._serial = itertools.count(1)

    def attach(self, alias: str, snapshot: int | None = None) -> None:
        with self.lock:
            if alias in self.attached:
                return
            options = self.location.attach_options()
            if snapshot is not None:
                options += [f"SNAPSHOT_VERSION {int(snapshot)}", "READ_ONLY"]
            listed = f" ({', '.join(options)})" if options else ""
            sql = f"ATTACH '{quote(self.location.catalog)}' AS {alias}{listed}"
            try:
                self.db.execute(sql)
            except duckdb.Error as error:
                raise self.location.translate(error) from error
            self.attached.add(alias)

    def raw_cursor(self, alias: str | None) -> duckdb.DuckDBPyConnection:
        with self.lock:
            raw = self.db.cursor()
        if alias is not None:
            raw.execute(f"USE {alias}")
        return raw

    # -- the per-snapshot copy of the small tables -----------------------------------------
    def begin_read(self, raw: duckdb.DuckDBPyConnection, alias: str, cached: bool) -> None:
        """BEGIN a read transaction on `raw`; with `cached`, unqualified names find the copy
        of CACHED_TABLES made at the very snapshot this transaction reads (then the lake)."""
        if not cached:
            raw.execute(f"USE {alias}")
            raw.execute("BEGIN TRANSACTION")
            return
        for _ in range(3):
            known = self.known_copies(alias)
            raw.execute("BEGIN TRANSACTION")
            snapshot, copy = self.copy_at(raw, alias, known)
            if copy is not None:
                raw.execute(f"SET search_path = '{copy.search_path(alias)}'")
                return
            raw.execute("ROLLBACK")
            self._make_copy(alias, snapshot)  # then read again: a new transaction sees it
        # Writes kept coming in between: read the lake itself.
        raw.execute(f"USE {alias}")
        raw.execute("BEGIN TRANSACTION")

    def known_copies(self, alias: str) -> list[_Cached]:
        """The copies of `alias` made so far. Taken before a BEGIN, every one of them is
        visible inside that transaction (a schema committed after it would not be)."""
        with self.cache_lock:
            return list(self.caches.get(alias, []))

    def copy_at(self, raw: duckdb.DuckDBPyConnection, alias: str,
                known: list[_Cached]) -> tuple[int, _Cached | None]:
        """In a transaction begun on `raw` after `known` was taken: the snapshot it reads and
        the copy of `known` equal to the lake there (None when there is none)."""
        row = raw.execute(f"SELECT id FROM {alias}.current_snapshot()").fetchone()  # noqa: S608
        assert row is not None
        snapshot = int(row[0])
        return snapshot, self._copy_for(raw, alias, snapshot, known)

    def _copy_for(self, raw: duckdb.DuckDBPyConnection, alias: str, snapshot: int,
                  known: list[_Cached]) -> _Cached | None:
        """The copy valid at `snapshot`: one made at it, or the newest earlier one when no
        snapshot since has touched a cached table."""
        made_at = next((copy for copy in known if snapshot in copy.snapshots), None)
        if made_at is not None:
            return made_at
        base = _newest_before(known, snapshot)
        if base is None:
            return None
        touched = _touched_tables(raw, alias, max(base.snapshots), snapshot)
        if touched is None or touched & {table_id for table_id, _ in base.tables.values()}:
            return None
        with self.cache_lock:
            base.snapshots = base.snapshots | {snapshot}  # a new set: readers iterate the old
        return base

    def _make_copy(self, alias: str, snapshot: int) -> None:
        """A copy of CACHED_TABLES as of `snapshot`, each table in a schema of its own in the
        in-memory database. Tables no snapshot since the newest earlier copy has touched are
        that copy's own; only the others are read from the lake."""
        with self.cache_lock:
            copies = self.caches.get(alias, [])
            if any(snapshot in copy.snapshots for copy in copies):
                return
            raw = self.db.cursor()
            try:
                raw.execute("BEGIN TRANSACTION")
                info = raw.execute(
                    "SELECT table_name, table_id::VARCHAR, file_count, file_size_bytes "
                    "FROM ducklake_table_info($alias)", {"alias": alias}).fetchall()
                lake_ids = {name: table_id for name, table_id, _, size in info
                            if size <= COPY_MAX_BYTES}
                without_files = {name for name, _, files, _ in info if not files}
                base = _newest_before(copies, snapshot)
                touched = None if base is None else _touched_tables(
                    raw, alias, max(base.snapshots), snapshot)
                tables: dict[str, tuple[str, str]] = {}
                for table in (name for name in CACHED_TABLES if name in lake_ids):
                    kept = base.tables.get(table) if base is not None else None
                    if kept is None or touched is None or kept[0] != lake_ids[table] \
                            or kept[0] in touched:
                        schema = f"kinerja_copy_{next(self._serial)}"
                        raw.execute(f"CREATE SCHEMA memory.{schema}")
                        source = f"{alias}.{table} AT (VERSION => {snapshot})"
                        # A table with no data file (empty, or its rows inlined in the catalog)
                        # has no statistics here, and a scan of it looks them up column by
                        # column: 50 ms when it is empty, where counting it costs 15 and
                        # copying its columns alone 4. Counted on its first copy only: one
                        # copied again was written to, and is seldom empty.
                        empty = kept is None and table in without_files and raw.execute(
                            f"SELECT count(*) FROM {source}").fetchone() == (0,)  # noqa: S608
                        tail = " LIMIT 0" if empty else (
                            f" ORDER BY {_COPY_ORDER[table]}" if table in _COPY_ORDER else "")
                        raw.execute(f"CREATE TABLE memory.{schema}.{table} AS "  # noqa: S608
                                    f"SELECT * FROM {source}{tail}")
                        kept = (lake_ids[table], schema)
                    tables[table] = kept
                raw.execute("COMMIT")
            except duckdb.Error:
                # A table created after `snapshot`, say: this read goes to the lake itself.
                with suppress(duckdb.Error):
                    raw.execute("ROLLBACK")
                raw.close()
                return
            copies = [_Cached(frozenset({snapshot}), tables), *copies]
            self.caches[alias] = copies[:_CACHES_KEPT]
            in_use = {schema for kept in self.caches.values() for copy in kept
                      for _, schema in copy.tables.values()}
            for old in copies[_CACHES_KEPT:]:  # readers still on it keep their version (MVCC)
                for _, schema in old.tables.values():
                    if schema not in in_use:
                        with suppress(duckdb.Error):
                            raw.execute(f"DROP SCHEMA memory.{schema} CASCADE")
            raw.close()

    def close(self) -> None:
        with self.lock:
            self.db.close()


@dataclass
class _Cached:
    """A copy of CACHED_TABLES equal to the lake's tables at every snapshot in `snapshots`:
    `tables` maps each table to the lake's id of it and the in-memory schema holding its copy
    (a copy shares the schemas of the tables a write left alone with the copy before it)."""

    snapshots: frozenset[int]
    tables: dict[str, tuple[str, str]]

    def qualified_names(self) -> dict[str, str]:
        """Each copied table's full name in the in-memory database."""
        return {table: f"memory.{schema}.{table}" for table, (_, schema) in self.tables.items()}

    def search_path(self, alias: str) -> str:
        """Unqualified names find the copied tables first, then the lake's own."""
        return ",".join([*(f"memory.{schema}" for _, schema in self.tables.values()),
                         f"{alias}.main"])


def _newest_before(copies: list[_Cached], snapshot: int) -> _Cached | None:
    """The copy made at the newest snapshot before `snapshot` (None when there is none)."""
    earlier = [copy for copy in copies if max(copy.snapshots) < snapshot]
    return max(earlier, key=lambda each: max(each.snapshots)) if earlier else None


def _touched_tables(raw: duckdb.DuckDBPyConnection, alias: str, since: int,
                    now: int) -> set[str] | None:
    """The lake ids of the tables the snapshots after `since` up to `now` wrote to; None when
    one of them changed something else (a table created, altered or dropped, files merged)."""
    rows = raw.execute(
        f"SELECT changes FROM {alias}.snapshots() "  # noqa: S608 - alias is ours
        "WHERE snapshot_id > $since AND snapshot_id <= $now",
        {"since": since, "now": now}).fetchall()
    touched: set[str] = set()
    for (changes,) in rows:
        for kind, ids in (changes or {}).items():
            if kind not in _TABLE_ID_CHANGES:
                return None
            touched |= {str(table_id) for table_id in ids or ()}
    return touched


def _name(identifier: str) -> str:
    """`identifier` when it is a plain lower-case SQL name (our own tables and columns, the only
    names ever put into SQL text)."""
    if not _IDENTIFIER.fullmatch(identifier):
        raise ValueError(f"not a plain SQL name: {identifier!r}")
    return identifier


def _s3_secret_sql() -> tuple[str, dict[str, Any]]:
    """An S3 secret from the standard AWS environment variables (a local S3-compatible server
    is named by AWS_ENDPOINT_URL)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    parts = urlsplit(endpoint) if endpoint else None
    settings: dict[str, Any] = {
        "key_id": os.environ.get("AWS_ACCESS_KEY_ID", ""),
        "secret": os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
        "region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    }
    fields = "TYPE s3, KEY_ID $key_id, SECRET $secret, REGION $region"
    if parts is not None and parts.netloc:
        settings["endpoint"] = parts.netloc
        settings["use_ssl"] = parts.scheme == "https"
        fields += ", ENDPOINT $endpoint, USE_SSL $use_ssl, URL_STYLE 'path'"
    # CREATE SECRET takes no prepared parameters: inline them as literals.
    literal = {key: ("true" if value is True else "false" if value is False
                     else f"'{quote(str(value))}'") for key, value in settings.items()}
    for key, value in literal.items():
        fields = fields.replace(f"${key}", value)
    return f"CREATE OR REPLACE SECRET kinerja_s3 ({fields})", {}


class _WriterLock:
    """The lock every write transaction holds, the catalog kind's (`Location.writer_lock`),
    waiting up to `timeout` seconds from its last hand-over."""

    def __init__(self, location: Location, timeout: float) -> None:
        self.location = location
        self.timeout = timeout

    def held(self) -> contextlib.AbstractContextManager[None]:
        return self.location.writer_lock(self.timeout)


class Store:
    """Owns the lake named by `location`; hands out a cursor per unit of work."""

    def __init__(
        self,
        location: str | os.PathLike[str] | Location,
        *,
        create: bool = False,
        busy_timeout: float = 60.0,
        data_path: str | None = None,
    ) -> None:
        self._temporary: Path | None = None
        if not isinstance(location, Location):
            if os.fspath(location) == ":memory:":
                # A throwaway embedded store (tests, scratch work), removed at exit.
                self._temporary = Path(tempfile.mkdtemp(prefix="kinerja-store-"))
                atexit.register(shutil.rmtree, self._temporary, True)
                location = self._temporary
                create = True
            location = Location.parse(location, data_path)
        self.location = location
        self.busy_timeout = busy_timeout
        self.alias = LAKE
        self.snapshot: int | None = None
        location.prepare(create)
        self._writer = _WriterLock(location, busy_timeout)
        self._engine = _Engine(location)
        if create:
            with self._writer.held():
                self._engine.attach(LAKE)
                self._create_schema()
        else:
            self._engine.attach(LAKE)
            self._upgrade_schema()

    @property
    def path(self) -> str:
        """The location for messages: see `Location.display` (never a password, host or user)."""
        return self.location.display

    @property
    def key(self) -> str:
        """This store among others, for cache keys: a digest of its full location (which a
        shared catalog's display form alone would not tell apart, and which holds a password)."""
        return hashlib.sha256(self.location.text.encode()).hexdigest()[:16]

    # -- units of work -----------------------------------------------------------------------
    @contextmanager
    def cursor(self) -> Iterator[Cursor]:
        """A cursor for one unit of work, reading the latest committed snapshot."""
        try:
            raw = self._engine.raw_cursor(self.alias)
        except duckdb.Error as error:
            raise self.location.translate(error) from error
        try:
            yield Cursor(raw, self.location)
        finally:
            raw.close()

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A cursor whose statements all read one snapshot (a read-only transaction): a page's
        numbers never mix the data before an import with the data after it. The small tables
        (CACHED_TABLES) are read from a copy made at that same snapshot."""
        try:
            raw = self._engine.raw_cursor(None)
        except duckdb.Error as error:
            raise self.location.translate(error) from error
        try:
            try:
                self._engine.begin_read(raw, self.alias, cached=self.snapshot is None)
            except duckdb.Error as error:
                raise self.location.translate(error) from error
            yield Cursor(raw, self.location)
        finally:
            with suppress(duckdb.Error):
                raw.execute("ROLLBACK")
            raw.close()

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A cursor inside BEGIN … COMMIT under the writer lock: all of it is written as one
        snapshot, or none of it (ROLLBACK on any error)."""
        if self.snapshot is not None:
            raise StoreError("error.store_read_only", path=self.path, snapshot=self.snapshot)
        with self._writer.held(), self.cursor() as cur:
            # The checks before the first write read the copy made at the snapshot this
            # transaction begins on, when this process holds one (`Cursor.as_begun`); a
            # process without copies (the CLI) neither looks for one nor makes one.
            known = self._engine.known_copies(self.alias)
            cur.execute("BEGIN TRANSACTION")
            try:
                if known:
                    try:
                        _, copy = self._engine.copy_at(cur._raw, self.alias, known)
                    except duckdb.Error as error:
                        raise self.location.translate(error) from error
                    if copy is not None:
                        cur._begun = copy.qualified_names()
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                # The transaction may already be aborted; either way nothing was written.
                with suppress(duckdb.Error):
                    cur._raw.execute("ROLLBACK")
                raise

    @staticmethod
    def next_id(cur: Writer, table: str, column: str) -> int:
        """The next id of `table.column` (max + 1): call inside `transaction()`, whose writer
        lock makes it unique."""
        sql = f"SELECT coalesce(max({_name(column)}), 0) + 1 FROM {cur.as_begun(table)}"  # noqa: S608
        return int(cur.query_value(sql))

    @staticmethod
    def count(cur: Cursor, table: str) -> int:
        """The number of rows of one of the store's own tables."""
        return int(cur.query_value(f"SELECT count(*) FROM {_name(table)}"))  # noqa: S608

    def partition_by_month(self) -> None:
        """Write events and survey responses into one file set per month from now on (a
        province's years: time-bounded reads then open only their months' files), each table
        in its PROVINCE_ORDER: a city's weekly import reads and replaces its own units' rows,
        which then lie together (adjacent codes), and DuckDB skips the other files and row
        groups by their min/max statistics instead of reading every row's unit code (issue
        26). The precomputed values already stored are rewritten in their order (a province's
        store made before it: run `init --partition-by-month` again)."""
        with self.transaction() as cur:
            cur.execute("ALTER TABLE events SET PARTITIONED BY (year(arrived_at), month(arrived_at))")
            cur.execute("ALTER TABLE survey_responses "
                        "SET PARTITIONED BY (year(submitted_at), month(submitted_at))")
            for table, order in PROVINCE_ORDER.items():
                cur.execute(f"ALTER TABLE {table} SET SORTED BY ({order})")
        self._rewrite_in_order("kpi_values")

    def _rewrite_in_order(self, table: str) -> None:
        """Write `table`'s rows again, in its PROVINCE_ORDER (same rows, one snapshot), and
        drop the files that held them (each of their rows then deleted)."""
        with self.transaction() as cur:
            if not cur.query_value(f"SELECT count(*) FROM {_name(table)}"):  # noqa: S608
                return
            cur.execute(f"CREATE OR REPLACE TEMP TABLE __in_order AS SELECT * FROM {_name(table)}")  # noqa: S608
            cur.execute(f"DELETE FROM {_name(table)}")  # noqa: S608
            cur.execute(f"INSERT INTO {_name(table)} SELECT * FROM __in_order "  # noqa: S608
                        f"ORDER BY {PROVINCE_ORDER[table]}")
            cur.execute("DROP TABLE __in_order")
        with self._writer.held(), self.cursor() as cur:
            cur.execute(f"CALL ducklake_rewrite_data_files('{LAKE}', '{table}')")

    def at_snapshot(self, snapshot: int) -> Store:
        """A read-only view of the store as it was at `snapshot` (a finalised review's)."""
        view = object.__new__(Store)
        view.__dict__.update(self.__dict__)
        view.alias = f"{LAKE}_at_{int(snapshot)}"
        view.snapshot = int(snapshot)
        self._engine.attach(view.alias, snapshot=int(snapshot))
        return view

    def close(self) -> None:
        self._engine.close()
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)

    # -- schema and shortcuts ----------------------------------------------------------------
    def init(self) -> None:
        """Create every table that is missing (idempotent), as one snapshot."""
        with self._writer.held():
            self._create_schema()

    def _create_schema(self) -> None:
        with self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            cur.execute(SCHEMA_FILE.read_text(encoding="utf-8"))
            cur.execute("DELETE FROM meta WHERE key = $key", {"key": SCHEMA_KEY})
            cur.execute("INSERT INTO meta (key, value) VALUES ($key, $value)",
                        {"key": SCHEMA_KEY, "value": schema_digest()})
            cur.execute("COMMIT")

    def _schema_applied(self) -> bool:
        """Whether the store has applied this schema.sql (its digest is in meta)."""
        with self.cursor() as cur:
            try:
                return bool(cur.query_value(
                    "SELECT count(*) FROM meta WHERE key = $key AND value = $value",
                    {"key": SCHEMA_KEY, "value": schema_digest()}))
            except StoreError:  # no meta table yet: a catalog made outside Kinerja
                return False

    def _upgrade_schema(self) -> None:
        """Create the tables schema.sql added since the store last applied it (idempotent:
        every statement is IF NOT EXISTS), once: the next opening finds the digest."""
        if self._schema_applied():
            return
        with self._writer.held():
            if not self._schema_applied():  # another process may have done it meanwhile
                self._create_schema()

    # Reads of one statement: inside `reading()`, so that they too find the small tables' copy.
    def query_df(self, sql: str, params: Params = None) -> pd.DataFrame:
        with self.reading() as cur:
            return cur.query_df(sql, params)

    def query_rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        with self.reading() as cur:
            return cur.query_rows(sql, params)

    def query_value(self, sql: str, params: Params = None) -> Any:
        with self.reading() as cur:
            return cur.query_value(sql, params)

    @staticmethod
    def as_begun(table: str) -> str:
        """The lake's own `table`: a Store's reads see the latest snapshot (see `Reader`)."""
        return _name(table)

    def data_version(self) -> int:
        """The lake's current snapshot id: changes with every committed write, in any process;
        the key for cached results."""
        if self.snapshot is not None:
            return self.snapshot
        with self.cursor() as cur:
            return self.current_snapshot(cur)

    @staticmethod
    def current_snapshot(cur: Cursor) -> int:
        """The snapshot `cur` reads: inside `reading()`, the one all its statements see."""
        return int(cur.query_value(f"SELECT id FROM {LAKE}.current_snapshot()"))  # noqa: S608

    def is_empty(self) -> bool:
        """True when no events and no survey responses have been loaded yet."""
        return not self.query_value(
            "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM survey_responses)"
        )

    # -- housekeeping ------------------------------------------------------------------------
    def snapshots(self) -> pd.DataFrame:
        """Every snapshot still kept: id, time (UTC) and what it changed."""
        return self.query_df(
            "SELECT snapshot_id, snapshot_time, changes FROM ducklake_snapshots($lake) "
            "ORDER BY snapshot_id", {"lake": LAKE})

    def maintain(self, keep_days: float, pinned: set[int]) -> dict[str, int]:
        """Rewrite the files whose rows were partly deleted, merge small files, expire
        snapshots older than `keep_days` (but the `pinned` ones and the current one), and
        delete the files nothing refers to any more."""
        with self._writer.held(), self.cursor() as cur:
            cur.execute(f"CALL ducklake_flush_inlined_data('{LAKE}')")
            # Before the merge (which leaves a file with deletions as it is): the rewritten
            # files are merged with their neighbours.
            cur.execute(f"CALL ducklake_rewrite_data_files('{LAKE}', "
                        f"delete_threshold => {REWRITE_DELETED_SHARE})")
            cur.execute(f"CALL ducklake_merge_adjacent_files('{LAKE}')")
            current = self.current_snapshot(cur)
            cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=keep_days)
            rows = cur.query_rows(
                "SELECT snapshot_id FROM ducklake_snapshots($lake) WHERE snapshot_time < $cutoff",
                {"lake": LAKE, "cutoff": cutoff})
            expire = sorted(s for (s,) in rows if s != current and s not in pinned)
            if expire:
                cur.execute(f"CALL ducklake_expire_snapshots('{LAKE}', versions => $versions)",
                            {"versions": expire})
            cleaned = cur.query_rows(f"CALL ducklake_cleanup_old_files('{LAKE}', cleanup_all => true)")
            orphans = cur.query_rows(
                f"CALL ducklake_delete_orphaned_files('{LAKE}', cleanup_all => true)")
        return {"snapshots_expired": len(expire), "files_deleted": len(cleaned) + len(orphans)}

    def backup(self, target: str | os.PathLike[str]) -> Path:
        """Copy the store to the empty or new folder `target`, consistent: no write runs
        meanwhile (readers go on). What is copied is the catalog kind's (`Location.backup`)."""
        destination = Path(target)
        if destination.exists() and any(destination.iterdir()):
            raise StoreError("error.backup_not_empty", path=str(destination))
        with self._writer.held():
            self.location.backup(destination, self.data_version())
        return destination


@functools.cache
def schema_digest() -> int:
    """A digest of schema.sql (64 bits, as meta's BIGINT): changes with every edit of it."""
    digest = hashlib.sha256(SCHEMA_FILE.read_bytes()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def old_store_tables(store: Store, old: str | os.PathLike[str]) -> Iterator[dict[str, str]]:
    """The tables of an earlier single-file store (attached read-only), or of a folder written
    by DuckDB's `EXPORT DATABASE … (FORMAT parquet)`: {table: SQL source to select from}."""
    source = Path(old)
    if source.is_dir():
        yield {file.stem: f"read_parquet('{quote(str(file))}')"
               for file in sorted(source.glob("*.parquet")) if _IDENTIFIER.fullmatch(file.stem)}
        return
    with store.cursor() as cur:
        try:
            cur.execute(f"ATTACH '{quote(str(source))}' AS old_store (READ_ONLY)")
        except StoreError as error:
            raise StoreError("error.old_store_unreadable", path=str(source),
                             version=duckdb.__version__,
                             detail=error.params.get("detail")) from error
        try:
            names = cur.query_rows(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'old_store'")
            yield {name: f"old_store.{name}" for (name,) in names if _IDENTIFIER.fullmatch(name)}
        finally:
            cur.execute("DETACH old_store")


def copy_table(cur: Cursor, table: str, source_sql: str) -> int:
    """Append every row of `source_sql` (from `old_store_tables`) to `table`, columns matched
    by name; returns the number of rows the source has."""
    expected = int(cur.query_value(f"SELECT count(*) FROM {source_sql}"))  # noqa: S608
    cur.execute(f"INSERT INTO {_name(table)} BY NAME SELECT * FROM {source_sql}")  # noqa: S608
    return expected


def one_unit_of_work(
    function: Callable[Concatenate[Any, P], R],
) -> Callable[Concatenate[Reader, P], R]:
    """Decorator for engine functions `f(store, ...)`: the whole call runs on one cursor that
    reads one snapshot. A cursor (or any other Reader) passed in is used as it is, so engine
    functions can call each other inside one unit of work (or inside a write transaction)."""

    @functools.wraps(function)
    def run(store: Reader, *args: P.args, **kwargs: P.kwargs) -> R:
        if not isinstance(store, Store):
            return function(store, *args, **kwargs)
        with store.reading() as cur:
            return function(cur, *args, **kwargs)

    return run


if TYPE_CHECKING:  # mypy checks that both are Readers, and a Cursor a Writer
    def _both_read(store: Store, cur: Cursor) -> tuple[Reader, Reader]:
        return store, cur

    def _cursor_writes(cur: Cursor) -> Writer:
        return cur
