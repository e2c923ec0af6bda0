"""View state that lives in the URL, so that a copied link reproduces the exact view."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import streamlit as st

from kpi import config
from kpi.i18n import LANGUAGES

T = TypeVar("T")


def url_value(name: str, default: T, *, choices: Sequence[Any] | None = None,
              parse: Callable[[str], T] | None = None) -> T:
    """The query parameter `name`, parsed and checked; `default` when absent or invalid."""
    raw = st.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = parse(raw) if parse else raw
    except (TypeError, ValueError):
        return default
    if choices is not None and value not in choices:
        return default
    return value  # type: ignore[return-value]


def keep_in_url(**values: Any) -> None:
    """Write the current view into the query parameters (None removes a parameter)."""
    for name, value in values.items():
        if value is None or value == "" or value == []:
            if name in st.query_params:
                del st.query_params[name]
        elif isinstance(value, list | tuple):
            st.query_params[name] = [str(v) for v in value]
        else:
            # Written even when equal: a link to the page itself (a drill-down) reruns it with
            # its parameters but leaves the browser's address as it was; the write puts them
            # in it (the browser ignores an address that did not change).
            st.query_params[name] = str(value)


def language() -> str:
    """The chosen language: URL `lang`, else this session's last choice, else the deployment's."""
    lang = url_value("lang", st.session_state.get("kinerja_lang", config.default_language()),
                     choices=LANGUAGES)
    st.session_state["kinerja_lang"] = lang
    return lang
