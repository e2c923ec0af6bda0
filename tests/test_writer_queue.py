"""A queue of writers drains instead of failing (issue 26: a province's 33 Monday imports).

A writer's wait for the writer lock counts from the last hand-over: as long as the lock keeps
changing hands, every writer in the queue gets its turn, however long the queue; a writer that
holds the lock longer than the timeout still makes the next one give up (StoreBusy), having
written nothing. Both lock kinds: the embedded store's flock and PostgreSQL's advisory lock.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from kpi.errors import StoreBusy
from kpi.store import Store
from tests.conftest import serial

pytestmark = [pytest.mark.slow, *serial("services")]

TIMEOUT = 1.0  # seconds a writer waits without a hand-over
HOLD = 0.45  # seconds each writer holds the lock: five of them take more than TIMEOUT


def _writers(store: Store, count: int, hold: float) -> tuple[list[str], list[float]]:
    """`count` threads writing at once, each holding the lock `hold` seconds; the errors they
    met and the order their writes committed in (the `meta` values)."""
    errors: list[str] = []
    start = threading.Barrier(count)

    def write(number: int) -> None:
        start.wait()
        try:
            with store.transaction() as cur:
                cur.execute("INSERT INTO meta (key, value) VALUES ('queue_test', $n)",
                            {"n": number})
                time.sleep(hold)
        except StoreBusy as error:
            errors.append(str(error))

    threads = [threading.Thread(target=write, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    written = [value for (value,) in store.query_rows(
        "SELECT value FROM meta WHERE key = 'queue_test' ORDER BY value")]
    return errors, written


def _check_queue_and_give_up(store: Store) -> None:
    started = time.monotonic()
    errors, written = _writers(store, 5, HOLD)
    assert errors == []
    assert written == [0, 1, 2, 3, 4]
    assert time.monotonic() - started > TIMEOUT  # the queue outlasted one timeout
    # A writer that keeps the lock longer than the timeout: the next one gives up.
    held = threading.Event()
    release = threading.Event()

    def long_writer() -> None:
        with store.transaction():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=long_writer)
    holder.start()
    assert held.wait(10)
    waited = time.monotonic()
    with pytest.raises(StoreBusy), store.transaction() as cur:
        cur.execute("INSERT INTO meta (key, value) VALUES ('queue_test', 99)")
    assert TIMEOUT <= time.monotonic() - waited < TIMEOUT + 2
    release.set()
    holder.join(10)
    assert store.query_value("SELECT count(*) FROM meta WHERE value = 99") == 0


def test_a_queue_of_writers_on_the_embedded_store_drains(empty_store: Store):
    _check_queue_and_give_up(Store(empty_store.path, busy_timeout=TIMEOUT))


def test_a_queue_of_writers_on_postgresql_drains(catalog_url: str, tmp_path: Path):
    Store(catalog_url, create=True, data_path=str(tmp_path / "files")).close()
    _check_queue_and_give_up(Store(catalog_url, busy_timeout=TIMEOUT))


def test_postgresql_writers_get_the_lock_in_the_order_they_asked(catalog_url: str,
                                                                 tmp_path: Path):
    """Writers wait in PostgreSQL's own lock queue: the lock goes to them in the order they
    asked for it (no import of a Monday overtaken by later ones), the moment it is released."""
    import psycopg  # the test's own look at the server's lock queue

    Store(catalog_url, create=True, data_path=str(tmp_path / "files")).close()
    store = Store(catalog_url, busy_timeout=30)
    held, release = threading.Event(), threading.Event()
    order: list[int] = []

    def first_writer() -> None:
        with store.transaction():
            held.set()
            release.wait(30)

    def writer(number: int) -> None:
        with store.transaction() as cur:
            order.append(number)
            cur.execute("INSERT INTO meta (key, value) VALUES ('fair_test', $n)", {"n": number})

    holder = threading.Thread(target=first_writer)
    holder.start()
    assert held.wait(10)
    threads = []
    with psycopg.connect(catalog_url, autocommit=True) as watcher:
        for number in range(5):
            threads.append(threading.Thread(target=writer, args=(number,)))
            threads[-1].start()
            deadline = time.monotonic() + 10
            while watcher.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                  "AND NOT granted").fetchone() != (number + 1,):
                assert time.monotonic() < deadline, f"writer {number} is not in the queue"
                time.sleep(0.02)
    release.set()
    for thread in [holder, *threads]:
        thread.join(30)
    assert order == [0, 1, 2, 3, 4]
    assert store.query_value("SELECT count(*) FROM meta WHERE key = 'fair_test'") == 5
