"""The store: the one place that talks to DuckDB.

One `Store` owns the DuckDB file. Every unit of work takes its own cursor (`with store.cursor()`
or `with store.transaction()`), so no two threads ever share a connection.

Sharing the file between processes: DuckDB lets one process hold a file read-write. The
dashboard therefore keeps the file open only while it is in use (`keep_alive` seconds after
its last unit of work; its buffer cache stays warm across a page's queries and clicks) and then
releases it. A process that finds the file held (a CLI import while the dashboard renders, or
the dashboard during an import) waits up to `busy_timeout` seconds and then raises `StoreBusy`,
a sentence that says who holds it and what to do. The CLI holds the file for its whole run
(`hold=True`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from kpi.errors import StoreBusy, StoreError, StoreMissing

SCHEMA_FILE = Path(__file__).with_name("schema.sql")
_LOCK_PATTERN = re.compile(r"lock", re.IGNORECASE)
_PID_PATTERN = re.compile(r"PID (\d+)")

Params = Sequence[Any] | dict[str, Any] | None


def _translate(error: Exception, path: Path) -> StoreError:
    """Turn a DuckDB exception into the app's own, with one clear sentence."""
    text = str(error)
    if isinstance(error, duckdb.IOException) and _LOCK_PATTERN.search(text):
        pid = _PID_PATTERN.search(text)
        holder = f"process {pid.group(1)}" if pid else "another process"
        return StoreBusy(
            f"The store {path} is in use by {holder} (probably the running dashboard or "
            "another import); import through the dashboard's Upload page, or wait for the "
            "other process to finish and try again.",
            path=str(path),
            holder=holder,
        )
    first_line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return StoreError(f"The store {path} could not complete the request: {first_line}",
                      path=str(path), detail=first_line)


class Cursor:
    """A DuckDB cursor for one unit of work; errors come out as `StoreError`."""

    def __init__(self, raw: duckdb.DuckDBPyConnection, path: Path) -> None:
        self._raw = raw
        self._path = path

    def execute(self, sql: str, params: Params = None) -> Cursor:
        """Run one parametrised statement (never build SQL from user values)."""
        try:
            self._raw.execute(sql, params)
        except duckdb.Error as error:
            raise _translate(error, self._path) from error
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Cursor:
        try:
            self._raw.executemany(sql, rows)
        except duckdb.Error as error:
            raise _translate(error, self._path) from error
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._raw.fetchall()

    def fetchone(self) -> tuple[Any, ...] | None:
        """The first row; the rest of the result is released, so that the cursor can take other
        work at once (DuckDB 2 refuses e.g. `register` while a result is unfinished)."""
        return self._raw.fetchone()

    def df(self) -> pd.DataFrame:
        return self._raw.df()

    def arrow(self) -> Any:
        return self._raw.fetch_arrow_table()

    @property
    def description(self) -> Any:
        return self._raw.description

    def register(self, name: str, data: Any) -> None:
        """Expose a pandas DataFrame or Arrow table to SQL as view `name` for this cursor."""
        try:
            self._raw.register(name, data)
        except duckdb.Error as error:
            raise _translate(error, self._path) from error

    def unregister(self, name: str) -> None:
        self._raw.unregister(name)

    def query_df(self, sql: str, params: Params = None) -> pd.DataFrame:
        return self.execute(sql, params).df()

    def query_rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        return self.execute(sql, params).fetchall()

    def query_value(self, sql: str, params: Params = None) -> Any:
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]


class Store:
    """Owns the DuckDB file named by `path`; hands out a cursor per unit of work."""

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool = False,
        hold: bool = False,
        keep_alive: float = 0.0,
        busy_timeout: float = 5.0,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._hold = hold
        self._keep_alive = keep_alive
        self._held: duckdb.DuckDBPyConnection | None = None
        self._active = 0
        self._last_used = 0.0
        self._release_timer: threading.Timer | None = None
        self._lock = threading.Lock()
        if not create and not self.path.exists():
            raise StoreMissing(
                f"There is no store at {self.path}; run `python -m kpi init` (or `make run`) first.",
                path=str(self.path),
            )
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.init()

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.02
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.Error as error:
                translated = _translate(error, self.path)
                if not isinstance(translated, StoreBusy) or time.monotonic() >= deadline:
                    raise translated from error
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not (self._hold or self._keep_alive):
            raw = self._connect()
            try:
                yield raw
            finally:
                raw.close()
            return
        with self._lock:
            if self._held is None:
                self._held = self._connect()
            self._active += 1
            raw = self._held.cursor()
        try:
            yield raw
        finally:
            raw.close()
            with self._lock:
                self._active -= 1
                self._last_used = time.monotonic()
                if self._keep_alive and not self._hold and self._active == 0:
                    self._schedule_release()

    def _schedule_release(self) -> None:
        """Close the file `keep_alive` seconds after the last unit of work (lock held by caller).

        While the dashboard is in use its DuckDB instance (and buffer cache) stays warm; once it
        is idle the file is free for a CLI import, which waits up to its busy timeout for that.
        """
        if self._release_timer is not None:
            self._release_timer.cancel()
        timer = threading.Timer(self._keep_alive, self._release_if_idle)
        timer.daemon = True
        self._release_timer = timer
        timer.start()

    def _release_if_idle(self) -> None:
        with self._lock:
            idle = time.monotonic() - self._last_used
            if self._held is not None and self._active == 0 and idle >= self._keep_alive * 0.9:
                self._held.close()
                self._held = None

    @contextmanager
    def cursor(self) -> Iterator[Cursor]:
        """A cursor for one unit of work (reads, or writes that need no transaction)."""
        with self._connection() as raw:
            yield Cursor(raw, self.path)

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A cursor inside BEGIN … COMMIT: all of it is written, or none (ROLLBACK on error).

        Every committed transaction bumps the data version, which the dashboard's caches key on.
        """
        with self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute("UPDATE meta SET value = value + 1 WHERE key = 'data_version'")
                cur.execute("COMMIT")
            except BaseException:
                # The transaction may already be aborted; either way nothing was written.
                with suppress(duckdb.Error):
                    cur._raw.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Release the file now (only matters with `hold` or `keep_alive`)."""
        with self._lock:
            if self._release_timer is not None:
                self._release_timer.cancel()
                self._release_timer = None
            if self._held is not None:
                self._held.close()
                self._held = None

    # -- schema and shortcuts ----------------------------------------------------------------
    def init(self) -> None:
        """Create every table that is missing (idempotent)."""
        with self.cursor() as cur:
            cur.execute(SCHEMA_FILE.read_text(encoding="utf-8"))

    def query_df(self, sql: str, params: Params = None) -> pd.DataFrame:
        with self.cursor() as cur:
            return cur.query_df(sql, params)

    def query_rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        with self.cursor() as cur:
            return cur.query_rows(sql, params)

    def query_value(self, sql: str, params: Params = None) -> Any:
        with self.cursor() as cur:
            return cur.query_value(sql, params)

    def data_version(self) -> int:
        """A number that changes with every committed write: the key for cached results."""
        return int(self.query_value("SELECT value FROM meta WHERE key = 'data_version'"))

    def is_empty(self) -> bool:
        """True when no events and no survey responses have been loaded yet."""
        return not self.query_value(
            "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM survey_responses)"
        )


def one_unit_of_work(function):
    """Decorator for engine functions `f(store, ...)`: the whole call runs on one cursor, so a
    call that makes several queries opens one connection (with `hold=False` each opening costs
    tens of milliseconds on a large file). A cursor passed in is used as it is, so engine
    functions can call each other inside one unit of work."""
    import functools

    @functools.wraps(function)
    def run(store, *args, **kwargs):
        if isinstance(store, Cursor):
            return function(store, *args, **kwargs)
        with store.cursor() as cur:
            return function(cur, *args, **kwargs)

    return run
