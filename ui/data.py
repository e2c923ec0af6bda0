"""The dashboard's access to the engine: one Store per process, results cached per data version.

Every engine call goes through `load(fn, **kwargs)`, which caches the result until the store's
data version changes, so a new import or a rollback shows at once and nothing stale is shown.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from kpi import config, precompute
from kpi.i18n import t
from kpi.reads import reads_kpi_data_only
from kpi.store import Store
from ui.state import language

R = TypeVar("R")  # what a cached engine function returns (load, built)

_VERSION_TTL_SECONDS = 0.5
_version_memo: dict[tuple[str, str], tuple[float, int]] = {}


@st.cache_resource(show_spinner=False)
def _opened(location: str) -> Store:
    """The process-wide Store for the full `location` (KPI_DB, with any credentials): opened
    once per process, never again from a display form (readers never wait for writers)."""
    return Store(location, create=True, busy_timeout=config.busy_timeout(),
                 data_path=config.data_path())


_ready_stores: weakref.WeakSet[Store] = weakref.WeakSet()
_ready_lock = threading.Lock()


def _store_for(location: str, notice: Callable[[], None] | None = None) -> Store:
    """The process-wide Store for `location`, its precomputed KPI values built (a store made
    before them) or recomputed (a store made before a change to the KPI definitions) once per
    process first; `notice` shows while that runs (it is not cached, unlike what `_opened`
    does)."""
    store = _opened(location)
    if store not in _ready_stores:
        with _ready_lock:
            if store not in _ready_stores:
                precompute.ensure_ready(store, on_recompute=notice)
                _ready_stores.add(store)
    return store


_warm_up_started = threading.Event()
# After the first page's run the browser still draws it (and the server sends it): the warm-up,
# which shares the interpreter (and its lock) with the pages, waits that long.
WARM_UP_AFTER_SECONDS = 2.0


def warm_up_once() -> None:
    """Start the background warm-up (`_warm_up`) once per server process, shortly after the
    first page's run (the router calls this at the end of every run), never during it."""
    if not config.warm_up() or _warm_up_started.is_set():
        return
    _warm_up_started.set()
    warm = threading.Timer(WARM_UP_AFTER_SECONDS, _warm_up)
    warm.name, warm.daemon = "kinerja-warm-up", True
    warm.start()


def _warm_up() -> None:
    """At server start, in the background and below the pages' priority: open the store's
    blocks, compute the default week's review agenda into the cache the page reads, and render
    its charts into the image cache the pack reads. A page never waits for this; one that
    needs the same result first computes it itself."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)  # this thread only
    try:
        from kpi import pack, review

        store = _store_for(config.store_location())  # no notice: no page runs this thread
        version = precompute.data_version(store)
        week = _engine_call("kpi.review.default_week", store.key, version, {})
        if week is None:
            return
        data = _engine_call("kpi.review.data_agenda", store.key, version, {"week": week})
        pack.chart_images(review.review_content(store, week, data), config.default_language())
    except Exception:  # a warm-up that fails costs only the time it would have saved
        logging.getLogger(__name__).warning("Warming the caches failed", exc_info=True)


def get_store() -> Store:
    """This process's store, named by KPI_DB (created empty if the folder does not exist yet).
    Pages use this one Store; nothing opens another from its display form (`Store.path`),
    which holds no credentials."""
    return _store_for(config.store_location(), notice=_recomputing_notice)


def _recomputing_notice() -> None:
    """Shown while a store made before a change to the KPI definitions is recomputed."""
    st.info(t("upkeep.recomputing_page", language()), icon=":material/hourglass_top:")


def _memo_version(kind: str, read: Callable[[Store], int]) -> int:
    """`read(store)`, re-read at most every half second (one page run's many calls)."""
    path = config.store_location()
    now = time.monotonic()
    memo = _version_memo.get((kind, path))
    if memo and now - memo[0] < _VERSION_TTL_SECONDS:
        return memo[1]
    version = read(get_store())
    _version_memo[(kind, path)] = (now, version)
    return version


def data_version() -> int:
    """The store's data version: changes with every committed write."""
    return _memo_version("data", Store.data_version)


def kpi_data_version() -> int:
    """The version of the data KPIs derive from (imports, rollbacks, targets; not the review's
    actions and minutes): see kpi.precompute."""
    return _memo_version("kpi", precompute.data_version)


def forget_version() -> None:
    """Call after a write from this process so the next load sees the new data at once."""
    _version_memo.clear()


# Engine results, kept in this process as objects: a page's rerun at 1,300 units read its
# results back from st.cache_data's pickles at 0.1-0.2 s each (the review's agenda, the
# overview's frames). A DataFrame is handed out as a shallow copy, which pandas'
# copy-on-write keeps apart from the kept one whatever the page does with it; any other
# result (a dict, a list) is shared by every session and never changed by a page.
_RESULTS_KEPT = 512
_results: OrderedDict[tuple, Any] = OrderedDict()
_results_lock = threading.Lock()
_computing: dict[tuple, threading.Lock] = {}  # one computation of a result at a time


def _frozen(value: Any) -> Hashable:
    """`value` (engine keyword arguments: dates, strings, numbers, lists of codes) as a key."""
    if isinstance(value, dict):
        return tuple((key, _frozen(item))
                     for key, item in sorted(value.items(), key=lambda pair: repr(pair[0])))
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, set | frozenset):
        return tuple(sorted((_frozen(item) for item in value), key=repr))
    if isinstance(value, float) and value != value:  # NaN equals nothing, not even itself
        return ("NaN",)
    hash(value)  # anything else must be hashable: a TypeError names the argument's type
    return value


def _handed_out(value: Any) -> Any:
    return value.copy(deep=False) if isinstance(value, pd.DataFrame | pd.Series) else value


def _kept(key: tuple, compute: Callable[[], Any]) -> Any:
    """The result kept under `key` (computing it once, whoever asks at the same time); the
    results of the same call at older versions (`key[2]`) are let go."""
    with _results_lock:
        if key in _results:
            _results.move_to_end(key)
            return _handed_out(_results[key])
        lock = _computing.setdefault(key, threading.Lock())
    with lock:
        with _results_lock:
            if key in _results:
                return _handed_out(_results[key])
        value = compute()
        with _results_lock:
            for older in [kept for kept in _results if kept[:2] == key[:2]
                          and kept[3:] == key[3:] and kept[2] < key[2]]:
                del _results[older]
            _results[key] = value
            while len(_results) > _RESULTS_KEPT:
                _results.popitem(last=False)
            _computing.pop(key, None)
    return _handed_out(value)


def _engine_call(qualified_name: str, store_key: str, version: int, kwargs: dict[str, Any]) -> Any:
    """Engine function `qualified_name(store, **kwargs)` on this process's store (whose
    `Store.key` is `store_key`), computed once per store and version."""

    def compute() -> Any:
        module_name, function_name = qualified_name.rsplit(".", 1)
        function = getattr(importlib.import_module(module_name), function_name)
        return function(get_store(), **kwargs)

    return _kept((qualified_name, store_key, version, _frozen(kwargs)), compute)


def load(function: Callable[..., R], **kwargs: Any) -> R:
    """`function(store, **kwargs)` from the engine, cached until the data changes."""
    qualified_name = f"{function.__module__}.{function.__qualname__}"
    # The key follows the tables the function declares it reads (kpi.reads): the KPI data
    # alone keeps it through a review meeting's writes; anything else, or nothing declared,
    # is read again after every write.
    version = kpi_data_version() if reads_kpi_data_only(function) else data_version()
    return _engine_call(qualified_name, get_store().key, version, kwargs)


def _pure_call(qualified_name: str, kwargs: dict[str, Any]) -> Any:
    def compute() -> Any:
        module_name, function_name = qualified_name.rsplit(".", 1)
        return getattr(importlib.import_module(module_name), function_name)(**kwargs)

    return _kept((qualified_name, "", 0, _frozen(kwargs)), compute)


def built(function: Callable[..., R], **kwargs: Any) -> R:
    """`function(**kwargs)` of an engine function that depends on its arguments alone (a chart
    from its data, say), built once per distinct arguments."""
    return _pure_call(f"{function.__module__}.{function.__qualname__}", kwargs)


def per_version(name: str, build: Callable[[], R], **key: Any) -> R:
    """What `build()` returns (a page's table or figure made from the KPI data's engine results:
    kpi.reads.KPI_DATA_TABLES), built once per KPI data version and `key`: every choice the
    result follows besides the data (period, units shown, language). `name` tells one page's
    builds from another's. Only the key is hashed: st.cache_resource hashed the frames a figure
    is built from on every rerun, which cost a page at 1,353 units more than drawing it."""
    return _kept((f"view.{name}", get_store().key, kpi_data_version(), _frozen(key)), build)

