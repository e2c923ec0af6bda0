"""The store's catalog backends: one class for each place a DuckLake's catalog can live, holding
everything that differs between them (kpi/store.py holds what is the same, and alone talks to
DuckDB):

- `EmbeddedCatalog`: a folder (`KPI_DB=data/kpi`): a SQLite catalog in WAL mode
  (`catalog.sqlite`) and its Parquet files (`data/`) side by side; writers take an exclusive
  `flock` on `write.lock`; backup through SQLite's backup API and a copy of the folder.
- `PostgresCatalog`: `KPI_DB=postgresql://…`: the catalog in a PostgreSQL database, the files in
  `KPI_DATA_PATH` (a folder or `s3://bucket/prefix`); writers take a PostgreSQL advisory lock;
  backup through `pg_dump` and a copy of the files' folder.

Each says how DuckDB attaches it (`catalog`, `attach_options`, `extension`), how it is named in
messages (`display`, never a host or a password) and in the administrator's log (`logged`),
whether it exists, how writers take turns (`writer_lock`), and how it is backed up and
restored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from kpi.errors import StoreBusy, StoreError, StoreMissing, StoreUnreachable

_LOG = logging.getLogger("kinerja.store")
CATALOG_FILE = "catalog.sqlite"
DATA_FOLDER = "data"
LOCK_FILE = "write.lock"
LOCK_OWNER_FILE = "write.owner"  # who holds write.lock now (pid, time): waiters see hand-overs
PG_DUMP_FILE = "catalog.pgdump"  # a PostgreSQL catalog's backup (pg_dump, custom format)
BACKUP_MANIFEST = "kinerja-backup.json"
_ADVISORY_KEY = 0x4B494E45  # "KINE": the PostgreSQL advisory lock every Kinerja writer takes
# DuckDB's postgres_scanner (or libpq) says it could not connect, or lost the connection.
_CONNECTION_FAILED = re.compile(r"unable to connect|connection to server|could not connect|"
                                r"server closed the connection|connection .*failed|"
                                r"no connection to the server", re.IGNORECASE)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def quote(text: str) -> str:
    """`text` inside a SQL string literal."""
    return text.replace("'", "''")


class Location(ABC):
    """Where a store lives, parsed from `KPI_DB` (and `KPI_DATA_PATH` for PostgreSQL)."""

    shared: ClassVar[bool]  # several machines may share it
    extension: ClassVar[str]  # the DuckDB extension that reads the catalog
    backup_marker: ClassVar[str]  # the file that makes a folder a backup of this kind
    kind: ClassVar[str]  # for messages

    def __init__(self, text: str, data_path: str | None = None) -> None:
        self.text = text
        self.data_path = data_path

    @staticmethod
    def parse(text: str | os.PathLike[str], data_path: str | None = None) -> Location:
        value = os.fspath(text)
        if value.startswith(("postgresql://", "postgres://")):
            return PostgresCatalog(value, _absolute(data_path))
        return EmbeddedCatalog(value)

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self) and isinstance(other, Location)
                and (other.text, other.data_path) == (self.text, self.data_path))

    def __hash__(self) -> int:
        return hash((type(self), self.text, self.data_path))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.display!r})"

    @property
    def folder(self) -> Path | None:
        """The embedded store's folder (None for a catalog elsewhere)."""
        return None

    @property
    def conninfo(self) -> str:
        """The PostgreSQL catalog's connection string ("" for the embedded store)."""
        return ""

    @property
    @abstractmethod
    def catalog(self) -> str:
        """The DuckLake ATTACH target."""

    @abstractmethod
    def attach_options(self) -> list[str]:
        """The ATTACH options beyond a snapshot's."""

    @property
    def uses_s3(self) -> bool:
        return bool(self.data_path and self.data_path.startswith("s3://"))

    @property
    def display(self) -> str:
        """The location for messages (pages, the CLI, the audit trail)."""
        return self.text

    @property
    def logged(self) -> str:
        """The location for the administrator's log (never a password)."""
        return self.text

    def secrets(self) -> list[str]:
        """The texts that must not leave the store, longest first."""
        return []

    def scrub(self, text: str) -> str:
        """`text` with the catalog's URL shown as `logged` and any password as ***."""
        for secret in self.secrets():
            replacement = self.logged if secret in (self.conninfo, self.catalog) else "***"
            text = text.replace(secret, replacement)
        return text

    def scrub_exception(self, error: BaseException) -> None:
        """Take the password out of `error`'s own text, so that a traceback in a log (the
        error is chained to the app's own) does not show it."""
        if self.secrets() and error.args:
            error.args = tuple(self.scrub(arg) if isinstance(arg, str) else arg
                               for arg in error.args)

    def unreachable(self, detail: str) -> StoreUnreachable:
        """The error for a catalog that cannot be reached: the reason goes to the log, the
        dashboard's message says only that (the CLI, run by the administrator, names the
        reason from the error's `location` and `detail`, never the password)."""
        _LOG.error("The store %s cannot be reached: %s", self.logged, self.scrub(detail))
        return StoreUnreachable("error.store_unreachable", location=self.logged,
                                detail=self.scrub(detail))

    def translate(self, error: Exception) -> StoreError:
        """Turn a DuckDB exception into the app's own, with one clear sentence; no message,
        log line or traceback of it holds the catalog's password."""
        self.scrub_exception(error)
        detail = first_line(error)
        if self.shared and _CONNECTION_FAILED.search(detail):
            return self.unreachable(detail)
        return StoreError("error.store", path=self.display, detail=detail)

    @abstractmethod
    def exists(self) -> bool:
        """Whether a store has been created here."""

    @abstractmethod
    def prepare(self, create: bool) -> None:
        """Before the store is opened: refuse what cannot be a store, make room for a new one."""

    @abstractmethod
    def writer_lock(self, timeout: float) -> contextlib.AbstractContextManager[None]:
        """The lock every write transaction holds (see `_wait_for_lock`)."""

    @abstractmethod
    def backup(self, destination: Path, snapshot: int) -> None:
        """Copy the store into the new folder `destination`; the caller holds the writer
        lock, so nothing changes meanwhile."""

    @abstractmethod
    def restore(self, backup: Path, busy_timeout: float) -> Path | None:
        """Make this store a copy of `backup` (of this kind); returns where a store it
        replaced is kept (None: there was none)."""

    def busy(self, timeout: float) -> StoreBusy:
        return StoreBusy("error.store_busy", path=self.display, seconds=f"{timeout:g}")


def _wait_for_lock(take: Callable[[], bool], holder: Callable[[], object], timeout: float,
                   busy: Callable[[], StoreBusy]) -> None:
    """Call `take` until it succeeds. A writer waits while the lock changes hands: `timeout`
    counts from the last change of `holder` (who holds the lock now), not from the start of the
    wait, so a queue of writers (a province's 33 Monday imports) drains instead of failing at a
    fixed wait. When one writer has held the lock for `timeout` seconds, give up (StoreBusy);
    nothing has been written by then."""
    seen, deadline = holder(), time.monotonic() + timeout
    delay = 0.01
    while not take():
        now = holder()
        if now != seen:
            seen, deadline = now, time.monotonic() + timeout
        elif time.monotonic() >= deadline:
            raise busy()
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


class EmbeddedCatalog(Location):
    """The embedded store: a folder with a SQLite catalog and its data files."""

    shared = False
    extension = "sqlite_scanner"
    backup_marker = CATALOG_FILE
    kind = "embedded"

    @property
    def folder(self) -> Path:
        return Path(self.text)

    @property
    def catalog(self) -> str:
        return f"ducklake:sqlite:{self.folder.resolve() / CATALOG_FILE}"

    def attach_options(self) -> list[str]:
        # The folder's own data/, wherever the folder now is (moved, restored).
        data = self.folder.resolve() / DATA_FOLDER
        return ["META_JOURNAL_MODE 'WAL'", f"DATA_PATH '{quote(str(data) + os.sep)}'",
                "OVERRIDE_DATA_PATH true"]

    @property
    def logged(self) -> str:
        return str(self.folder.resolve())

    def exists(self) -> bool:
        return (self.folder / CATALOG_FILE).exists()

    def prepare(self, create: bool) -> None:
        if self.folder.is_file():
            raise StoreError("error.store_old_file", path=self.text)
        if not create and not self.exists():
            raise StoreMissing("error.store_missing", path=self.display)
        if create:
            (self.folder / DATA_FOLDER).mkdir(parents=True, exist_ok=True)

    @contextmanager
    def writer_lock(self, timeout: float) -> Iterator[None]:
        """An exclusive `flock` on the folder's write.lock; its owner file says who holds it."""
        path = self.folder / LOCK_FILE
        owner = self.folder / LOCK_OWNER_FILE

        def take() -> bool:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        def holder() -> object:
            with suppress(OSError):
                return owner.read_bytes()
            return None

        with path.open("a+") as handle:
            _wait_for_lock(take, holder, timeout, lambda: self.busy(timeout))
            try:
                # Who holds the lock, for the waiters: a new value at every hand-over.
                with suppress(OSError):
                    owner.write_text(f"{os.getpid()} {time.time_ns()}")
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def backup(self, destination: Path, snapshot: int) -> None:
        destination.mkdir(parents=True, exist_ok=True)
        _copy_sqlite(self.folder / CATALOG_FILE, destination / CATALOG_FILE)
        shutil.copytree(self.folder / DATA_FOLDER, destination / DATA_FOLDER, dirs_exist_ok=True)

    def restore(self, backup: Path, busy_timeout: float) -> Path | None:
        """A store already in the folder is moved aside (returned), never overwritten."""
        folder = self.folder
        kept: Path | None = None
        folder.mkdir(parents=True, exist_ok=True)
        with self.writer_lock(busy_timeout):
            if (folder / CATALOG_FILE).exists():
                stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
                kept = folder.with_name(f"{folder.name}.before-restore-{stamp}")
                kept.mkdir()
                for name in (CATALOG_FILE, f"{CATALOG_FILE}-wal", f"{CATALOG_FILE}-shm",
                             DATA_FOLDER):
                    if (folder / name).exists():
                        shutil.move(str(folder / name), str(kept / name))
            _copy_sqlite(backup / CATALOG_FILE, folder / CATALOG_FILE)
            shutil.copytree(backup / DATA_FOLDER, folder / DATA_FOLDER, dirs_exist_ok=True)
        return kept


class PostgresCatalog(Location):
    """A shared catalog on PostgreSQL; its files in `data_path` (KPI_DATA_PATH)."""

    shared = True
    extension = "postgres_scanner"
    backup_marker = PG_DUMP_FILE
    kind = "PostgreSQL"

    @property
    def conninfo(self) -> str:
        return self.text

    @property
    def catalog(self) -> str:
        return f"ducklake:postgres:{self.conninfo}"

    def attach_options(self) -> list[str]:
        return [f"DATA_PATH '{quote(self.data_path)}'"] if self.data_path else []

    @property
    def uses_s3(self) -> bool:
        return super().uses_s3 or bool(os.environ.get("AWS_ENDPOINT_URL"))

    @property
    def display(self) -> str:
        """A shared catalog by its database's name alone, never its host, port, user or
        password."""
        parts = urlsplit(self.conninfo)
        return f"{parts.scheme}://…{parts.path}"

    @property
    def logged(self) -> str:
        """User, host, port and database, without the password."""
        parts = urlsplit(self.conninfo)
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{user}{parts.hostname or 'localhost'}{port}{parts.path}"

    def secrets(self) -> list[str]:
        """The catalog's URL and its password (as written and decoded)."""
        password = urlsplit(self.conninfo).password
        found = [self.conninfo, self.catalog]
        if password:
            found += [password, unquote(password)]
        return sorted({text for text in found if text}, key=len, reverse=True)

    def _connect(self, **options: Any) -> Any:
        """A psycopg connection to the catalog database; a failure is `unreachable`."""
        import psycopg  # only a PostgreSQL catalog needs it

        try:
            return psycopg.connect(self.conninfo, connect_timeout=10, **options)
        except psycopg.Error as error:
            self.scrub_exception(error)
            raise self.unreachable(first_line(error)) from error

    def exists(self) -> bool:
        import psycopg  # only a PostgreSQL catalog needs it

        try:
            with self._connect() as pg:
                row = pg.execute("SELECT to_regclass('public.ducklake_metadata')").fetchone()
        except psycopg.Error as error:
            self.scrub_exception(error)
            raise self.unreachable(first_line(error)) from error
        return bool(row and row[0])

    def prepare(self, create: bool) -> None:
        if not create and not self.exists():
            raise StoreMissing("error.store_missing", path=self.display)
        if create and not self.data_path and not self.exists():
            raise StoreError("error.data_path_missing")

    @contextmanager
    def writer_lock(self, timeout: float) -> Iterator[None]:
        """The PostgreSQL advisory lock every Kinerja writer takes (any machine)."""
        import psycopg  # only a PostgreSQL catalog needs it

        with self._connect(autocommit=True) as pg:
            _wait_in_postgresql_queue(pg, timeout, lambda: self.busy(timeout))
            try:
                yield
            finally:
                with suppress(psycopg.Error):
                    pg.execute("SELECT pg_advisory_unlock(%s)", (_ADVISORY_KEY,))

    def _data_folder(self) -> Path:
        """The local folder the files are in, as the catalog records it; files on S3 are the
        bucket's to keep (versioning), not a backup's."""
        with self._connect() as pg:
            row = pg.execute("SELECT value FROM ducklake_metadata WHERE key = 'data_path'"
                             ).fetchone()
        recorded = str(row[0]) if row else ""
        if not recorded or "://" in recorded:
            raise StoreError("error.backup_remote_files", data_path=recorded or "—")
        return Path(recorded)

    def backup(self, destination: Path, snapshot: int) -> None:
        """`pg_dump` of the catalog database, a copy of the files' folder, and a manifest
        naming where the files came from."""
        data_folder = self._data_folder()
        destination.mkdir(parents=True, exist_ok=True)
        self._run_tool("pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                       f"--file={destination / PG_DUMP_FILE}")
        shutil.copytree(data_folder, destination / DATA_FOLDER, dirs_exist_ok=True)
        (destination / BACKUP_MANIFEST).write_text(json.dumps({
            "catalog": "postgresql", "data_path": str(data_folder), "snapshot": snapshot,
            "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}, indent=1),
            encoding="utf-8")

    def restore(self, backup: Path, busy_timeout: float) -> Path | None:
        """Into an empty database only (never over a store): first the data files (into
        KPI_DATA_PATH or where they came from), then the catalog in one transaction, pointed
        at the files' new place. A failure leaves the database empty."""
        if self.exists():
            raise StoreError("error.restore_not_empty", path=self.display)
        if self.uses_s3 and self.data_path:
            raise StoreError("error.backup_remote_files", data_path=self.data_path)
        manifest = json.loads((backup / BACKUP_MANIFEST).read_text(encoding="utf-8"))
        target = Path(self.data_path or manifest["data_path"]).resolve()
        with self.writer_lock(busy_timeout):
            target.mkdir(parents=True, exist_ok=True)
            shutil.copytree(backup / DATA_FOLDER, target, dirs_exist_ok=True)
            self._run_tool("pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                           "--single-transaction", str(backup / PG_DUMP_FILE))
            with self._connect() as pg:
                # As DuckLake records a folder: with a separator at the end.
                pg.execute("UPDATE ducklake_metadata SET value = %s WHERE key = 'data_path'",
                           (str(target) + os.sep,))
        return None

    def _run_tool(self, tool: str, *args: str) -> None:
        """Run PostgreSQL's `tool` on the catalog database. The password goes through the
        child's environment (PGPASSWORD), never its command line, which any user of the
        machine can read."""
        parts = urlsplit(self.conninfo)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        environment = {**os.environ}
        if parts.password:
            environment["PGPASSWORD"] = unquote(parts.password)
        done = subprocess.run([_pg_tool(tool), f"--dbname={parts._replace(netloc=netloc).geturl()}",
                               *args], env=environment, capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            _LOG.error("%s on %s failed: %s", tool, self.logged,
                       self.scrub((done.stderr or done.stdout).strip()))
            raise StoreError("error.backup_tool_failed", tool=tool)


def restore(source: str | os.PathLike[str], target: str | os.PathLike[str],
            busy_timeout: float = 60.0, data_path: str | None = None) -> Path | None:
    """Make the store `target` a copy of the backup `source`, written by `Store.backup` from a
    store of the same kind (see each kind's `restore`; a PostgreSQL catalog's files go to
    `data_path`, KPI_DATA_PATH, by default the folder they were backed up from)."""
    backup = Path(source)
    location = Location.parse(target, data_path)
    kind = next((each for each in (EmbeddedCatalog, PostgresCatalog)
                 if (backup / each.backup_marker).exists()), None)
    if kind is None:
        raise StoreMissing("error.not_a_backup", path=str(backup))
    if not isinstance(location, kind):
        raise StoreError("error.restore_other_kind", path=str(backup), kind=kind.kind)
    return location.restore(backup, busy_timeout)


def _absolute(data_path: str | None) -> str | None:
    """A folder data path made absolute (the catalog records it at `init`, and every process
    of every machine reads it from there, whatever its working directory); s3://… as given."""
    if not data_path or "://" in data_path:
        return data_path
    ending = os.sep if data_path.endswith(("/", os.sep)) else ""
    return str(Path(data_path).expanduser().resolve()) + ending


def _advisory_holder(pg: Any) -> object:
    """The backend and the start of the transaction holding the writers' advisory lock (None:
    nobody): a new value at every hand-over. A one-argument advisory key is stored as classid
    (its high 32 bits) and objid (its low 32 bits), objsubid 1."""
    return pg.execute(
        "SELECT l.pid, a.backend_start, a.state_change FROM pg_locks AS l "
        "LEFT JOIN pg_stat_activity AS a USING (pid) WHERE l.locktype = 'advisory' "
        "AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 1",
        (_ADVISORY_KEY >> 32, _ADVISORY_KEY & 0xFFFFFFFF)).fetchone()


def _wait_in_postgresql_queue(pg: Any, timeout: float, busy: Callable[[], StoreBusy]) -> None:
    """Take the writers' advisory lock, waiting in PostgreSQL's own lock queue: granted in the
    order asked and handed over the moment it is released, with no polling (a province's 33
    Monday imports: 32 waiting processes asked `pg_locks` up to five times a second each).
    As in `_wait_for_lock`, `timeout` counts from
    the last hand-over: a wait that times out while the writer who held the lock when it
    began still holds it gives up (StoreBusy); nothing has been written by then."""
    import psycopg  # only a PostgreSQL catalog needs it

    # In milliseconds; 0 would mean no limit to PostgreSQL, and it takes at most 2^31 - 1.
    pg.execute(f"SET lock_timeout = {min(max(1, round(timeout * 1000)), 2**31 - 1)}")
    try:
        seen = _advisory_holder(pg)
        while True:
            try:
                pg.execute("SELECT pg_advisory_lock(%s)", (_ADVISORY_KEY,))
                return
            except psycopg.errors.LockNotAvailable:
                now = _advisory_holder(pg)
                if now is not None and now == seen:
                    raise busy() from None
                seen = now
    finally:
        pg.execute("RESET lock_timeout")


def _pg_tool(name: str) -> str:
    """PostgreSQL's client tool `name` (pg_dump, pg_restore): on the PATH, or Debian's newest."""
    found = shutil.which(name) or next(
        (str(path) for path in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                                      reverse=True)), None)
    if found is None:
        raise StoreError("error.backup_tool_missing", tool=name)
    return found


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite catalog (its WAL included), by SQLite's backup API."""
    with contextlib.closing(sqlite3.connect(source)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
