"""No accidental exposure: the checks a dashboard server passes before it serves anything.

Local mode (no `[auth]` in Streamlit's secrets) lets everyone in as `KPI_DEFAULT_ROLE`, so it
serves this machine alone: a server on any other address refuses to start. A secrets file
named on purpose (`--secrets.files`, or `secrets.files` in a config file) that is missing or has
no `[auth]` is an error, never a quiet fall back to local mode; so is a secrets file that
cannot be read. `streamlit run app.py` and `streamlit run dashboard.py` run these checks at
start (their `st.App`'s lifespan, `checked`); every script run checks again, so that a server
started another way shows the reason and nothing else.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit import config

from kpi.i18n import t
from ui.auth import auth_configured

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(address: str | None) -> bool:
    """Whether a server listening on `address` is reachable from this machine alone. No
    address at all means every interface (Streamlit's default)."""
    if not address:
        return False
    if address.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:  # a host name: it names a network interface
        return False


def secrets_files() -> list[Path]:
    """The secrets files Streamlit reads, as absolute paths (what the messages name)."""
    return [Path(path).expanduser().resolve()
            for path in config.get_option("secrets.files") or []]


def start_refusal(lang: str = "en") -> str | None:
    """The one sentence that says why this server must not start (None: it may)."""
    files = secrets_files()
    listed = ", ".join(map(str, files)) or "—"
    named = config.is_manually_set("secrets.files")
    missing = [str(path) for path in files if not path.exists()]
    if named and missing:
        return t("startup.secrets_missing", lang, path=", ".join(missing))
    signed_in = auth_configured()
    present = [str(path) for path in files if path.exists()]
    if present and not signed_in and not st.secrets.load_if_toml_exists():
        return t("startup.secrets_unreadable", lang, path=", ".join(present))
    if named and not signed_in:
        return t("startup.secrets_without_auth", lang, path=listed)
    address = config.get_option("server.address")
    if not signed_in and not is_loopback(address):
        return t("startup.local_mode_exposed", lang, address=address or "0.0.0.0", path=listed)
    return None


Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def checked(lifespan: Lifespan | None = None) -> Lifespan:
    """An `st.App` lifespan that first refuses to start (one sentence on stderr, exit status 1)
    when `start_refusal` says so, then runs `lifespan` (the app's own start-up and shut-down)."""

    @asynccontextmanager
    async def run(app: Any) -> AsyncIterator[None]:
        refusal = start_refusal()
        if refusal is not None:
            # At once: an exception here would reach uvicorn's log as a traceback. The server
            # has served nothing yet.
            print(refusal, file=sys.stderr, flush=True)
            os._exit(1)
        if lifespan is None:
            yield
        else:
            async with lifespan(app):
                yield

    return run


def refuse_on_page(lang: str) -> None:
    """In a script run: when this server should not have started (see `start_refusal`), show
    the reason and stop; nothing else is shown."""
    refusal = start_refusal(lang)
    if refusal is not None:
        st.error(refusal, icon=":material/gpp_bad:")
        st.stop()
