"""The dashboard's access to the engine: one Store per process, results cached per data version.

Every engine call goes through `load(fn, **kwargs)`, which caches the result until the store's
data version changes, so a new import or a rollback shows at once and nothing stale is shown.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

import streamlit as st

from kpi import config
from kpi.store import Store

_VERSION_TTL_SECONDS = 0.5
_version_memo: dict[str, tuple[float, int]] = {}


@st.cache_resource(show_spinner=False)
def _store_for(path: str) -> Store:
    """The process-wide Store for `path` (readers never wait for writers)."""
    return Store(path, create=True, busy_timeout=config.busy_timeout(), data_path=config.data_path())


def get_store() -> Store:
    """The store named by KPI_DB (created empty if the file does not exist yet)."""
    return _store_for(config.store_location())


def data_version() -> int:
    """The store's data version, re-read at most every half second (one page run's many calls)."""
    path = config.store_location()
    now = time.monotonic()
    memo = _version_memo.get(path)
    if memo and now - memo[0] < _VERSION_TTL_SECONDS:
        return memo[1]
    version = get_store().data_version()
    _version_memo[path] = (now, version)
    return version


def forget_version() -> None:
    """Call after a write from this process so the next load sees the new data at once."""
    _version_memo.clear()


@st.cache_data(show_spinner=False, max_entries=512, ttl=3600)
def _engine_call(qualified_name: str, db: str, version: int, kwargs: dict[str, Any]) -> Any:
    """Run engine function `qualified_name(store, **kwargs)`; cached per store file and version."""
    module_name, function_name = qualified_name.rsplit(".", 1)
    function = getattr(importlib.import_module(module_name), function_name)
    return function(_store_for(db), **kwargs)


def load(function: Any, **kwargs: Any) -> Any:
    """`function(store, **kwargs)` from the engine, cached until the data changes."""
    qualified_name = f"{function.__module__}.{function.__qualname__}"
    return _engine_call(qualified_name, config.store_location(), data_version(), kwargs)
