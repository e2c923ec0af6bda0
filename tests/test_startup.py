"""No accidental exposure (ui/startup.py): real `streamlit run dashboard.py` starts. Local mode
(no [auth]) refuses any address but loopback; a secrets file named on purpose but missing,
unreadable or without [auth] is an error, never local mode; sign-in may listen anywhere. And a
script run on a server that should not have started shows the reason alone."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from kpi.i18n import t
from tests.conftest import ROOT
from tests.helpers import DASHBOARD
from tests.services import answers, free_port, served
from ui.startup import is_loopback

DEFAULT_SECRETS = f"{Path.home() / '.streamlit' / 'secrets.toml'}, {ROOT / '.streamlit' / 'secrets.toml'}"


def streamlit(store: Path, *args: str, entry: str = "app.py") -> list[str]:
    """`streamlit run` of `entry`: app.py (the dashboard and the public pages, `make run`) or
    dashboard.py (the dashboard alone)."""
    return [sys.executable, "-m", "streamlit", "run", entry, "--server.headless", "true",
            "--server.fileWatcherType", "none", *args]


def environment(store: Path) -> dict[str, str]:
    return {**os.environ, "KPI_DB": str(store), "KPI_WARM_UP": "0",
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}


def refused(store: Path, *args: str, entry: str = "app.py") -> str:
    """Start the server with `args`; it must exit 1 without ever answering, and its last
    line of output is returned (the one sentence)."""
    port = free_port()
    done = subprocess.run(streamlit(store, "--server.port", str(port), *args, entry=entry),
                          cwd=ROOT,
                          env=environment(store), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert not answers(f"http://127.0.0.1:{port}/_stcore/health")
    assert "Traceback" not in done.stderr
    return done.stderr.strip().splitlines()[-1]


def auth_file(folder: Path, port: int) -> Path:
    path = folder / "secrets.toml"
    path.write_text("[auth]\n"
                    f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
                    f'cookie_secret = "{secrets.token_hex(32)}"\n'
                    'client_id = "kinerja"\nclient_secret = "x"\n'
                    'server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\n',
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "192.0.2.10", "kinerja.example"])
def test_the_loopback_check(address):
    assert not is_loopback(address)
    assert not is_loopback(None) and not is_loopback("")
    assert all(is_loopback(name) for name in ("127.0.0.1", "127.1.2.3", "::1", "localhost"))


@pytest.mark.slow
@pytest.mark.serial  # serial("services"): the server starts take turns with the other services
@pytest.mark.xdist_group("services")
def test_real_server_starts(empty_store, tmp_path):
    """One test for the servers, so that they start one after the other (each ~2 s of CPU)."""
    store = empty_store.path
    # Local mode on every interface: refused, naming the missing [auth] and the files looked at,
    # through either entry point.
    for entry in ("app.py", "dashboard.py"):
        assert refused(store, "--server.address", "0.0.0.0", entry=entry) == t(
            "startup.local_mode_exposed", "en", address="0.0.0.0", path=DEFAULT_SECRETS)
    # A secrets file named but missing: an error even on loopback, never local mode.
    missing = tmp_path / "sercets.toml"
    assert refused(store, "--server.address", "127.0.0.1", "--secrets.files", str(missing)) == t(
        "startup.secrets_missing", "en", path=str(missing))
    # Named, present, but without [auth].
    no_auth = tmp_path / "no-auth.toml"
    no_auth.write_text('[connections]\nurl = "x"\n', encoding="utf-8")
    assert refused(store, "--server.address", "127.0.0.1", "--secrets.files", str(no_auth)) == t(
        "startup.secrets_without_auth", "en", path=str(no_auth))
    # Named, present, not TOML.
    broken = tmp_path / "broken.toml"
    broken.write_text("[auth\nredirect_uri = ", encoding="utf-8")
    assert refused(store, "--server.address", "127.0.0.1", "--secrets.files", str(broken)) == t(
        "startup.secrets_unreadable", "en", path=str(broken))
    # With sign-in configured, the server may listen on the network.
    port = free_port()
    signed = auth_file(tmp_path, port)
    command = streamlit(store, "--server.port", str(port), "--server.address", "0.0.0.0",
                        "--secrets.files", str(signed))
    with served(command, f"http://127.0.0.1:{port}/_stcore/health", tmp_path / "signed.log",
                cwd=ROOT, env=environment(store)):
        pass


def test_a_script_run_on_an_exposed_local_server_shows_only_the_reason(example_store,
                                                                       monkeypatch):
    """A server started some other way (not through dashboard.py's st.App) on a network
    address in local mode: every page shows the reason, in the user's language, and nothing
    else (no navigation, no data)."""
    monkeypatch.setenv("KPI_DB", str(example_store.path))
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        for lang in ("en", "id"):
            at = AppTest.from_file(DASHBOARD, default_timeout=60)
            at.query_params["lang"] = lang
            at.run()
            assert [error.value for error in at.error] == [t(
                "startup.local_mode_exposed", lang, address="0.0.0.0", path=DEFAULT_SECRETS)]
            assert not at.title and not at.metric and not at.sidebar.children
    finally:
        config.set_option("server.address", before)
