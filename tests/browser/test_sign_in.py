"""Sign-in, roles and unit scope with real components (issue 11).

A real OpenID Connect provider (`oidc-provider-mock`, a process on a free port with predefined
users) and the real dashboard (`streamlit run dashboard.py --secrets.files PATH`, whose `[auth]`
names the provider); Debian's chromium clicks "Sign in" and the provider's user button, as a
person would. Plus local mode: without `[auth]` the server is not reachable on the machine's
network address. Screenshots in tests/artifacts/ (both languages).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kpi import users
from kpi.i18n import t
from kpi.store import Store
from tests.browser.conftest import DESKTOP, TABLET, open_app, serve_dashboard, wait_idle
from tests.conftest import serial
from tests.services import answers, free_port, served

# A group of their own (their own provider and servers): another worker can take them while
# one runs the other browser tests, so that neither group's chain bounds the run.
pytestmark = serial("signin")

ADMIN = "admin@medan.go.id"
ANALYST = "ana@medan.go.id"        # analyst, scoped to PKM-1
REVIEWER = "rev@medan.go.id"
CITY_REVIEWER = "dinkes@medan.go.id"  # reviewer, scoped to DINKES: the review record of its own
VIEWER = "view@medan.go.id"
STRANGER = "stranger@example.org"  # signs in at the provider, unknown to Kinerja
UNVERIFIED = "unverified@medan.go.id"  # a Kinerja user whose address the provider has not verified
EVENTS_HEADER = "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel"
# What each role finds in the navigation (the page titles in English).
MONITOR = ["City overview", "Unit", "Compare units", "Satisfaction (SKM)"]
DATA = ["Upload data", "Import history", "Targets & standards", "Data quality", "Survey posters"]
NAVIGATION = {
    "viewer": [*MONITOR, "My e-mail"],
    "analyst": [*MONITOR, *DATA, "My e-mail"],
    "reviewer": [*MONITOR, "Management review", *DATA, "My e-mail"],
    "admin": [*MONITOR, "Management review", *DATA, "Users", "Audit trail", "My e-mail",
              "E-mail log"],
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory) -> Iterator[str]:
    """oidc-provider-mock on a free port with the test's users predefined; its base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    command = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
    for email in (ADMIN, ANALYST, REVIEWER, CITY_REVIEWER, VIEWER, STRANGER, UNVERIFIED):
        command += ["--user-claims", json.dumps({"sub": email, "email": email,
                                                 "email_verified": email != UNVERIFIED})]
    base = f"http://127.0.0.1:{port}"
    with served(command, f"{base}/.well-known/openid-configuration", log):
        yield base


@pytest.fixture(scope="module")
def signed_store(_example_store_file: Path, tmp_path_factory) -> Path:
    """The worked example with four users; the served app writes to it (imports)."""
    path = tmp_path_factory.mktemp("signin") / "kpi"
    shutil.copytree(_example_store_file, path)
    store = Store(path, create=True)
    users.add_user(store, ADMIN, "admin", by="cli:tests")
    users.add_user(store, ANALYST, "analyst", "PKM-1", by="cli:tests")
    users.add_user(store, REVIEWER, "reviewer", by="cli:tests")
    users.add_user(store, CITY_REVIEWER, "reviewer", "DINKES", by="cli:tests")
    users.add_user(store, VIEWER, "viewer", by="cli:tests")
    users.add_user(store, UNVERIFIED, "admin", by="cli:tests")  # known, yet not let in
    return path


@pytest.fixture(scope="module")
def secure_url(provider: str, signed_store: Path, tmp_path_factory) -> Iterator[str]:
    """The dashboard with sign-in: a secrets file whose [auth] names the provider."""
    port = free_port()
    folder = tmp_path_factory.mktemp("secure")
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "kinerja"\n'
        'client_secret = "kinerja-test-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8")
    with serve_dashboard(signed_store, folder, port=port,
                         extra_args=["--secrets.files", str(secrets_file)]) as url:
        yield url


def sign_in(page, url: str, email: str, lang: str = "en") -> None:
    """Open the app, click Sign in, pick `email` at the provider, land back in the app."""
    open_app(page, f"{url}/?lang={lang}")
    page.get_by_role("button", name=t("signin.button", lang)).click()
    page.locator(f'button[name="sub"][value="{email}"]').click()
    page.wait_for_url(f"{url}/**")
    wait_idle(page)
    # Streamlit lands on the app's root after the provider (the deployment's KPI_LANG): come
    # back in the chosen language, as the language picker would.
    open_app(page, f"{url}/?lang={lang}")


def navigation(page) -> list[str]:
    # Streamlit folds a long navigation behind "View more": unfold it to read every link.
    more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if more.count() and "more" in more.inner_text().lower():
        more.click()
        page.locator('[data-testid="stSidebarNavViewButton"]', has_text="less").wait_for()
    # A link's text is its icon's name, then its title.
    return [text.strip().splitlines()[-1] for text in
            page.locator('[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]')
            .all_inner_texts()]


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


@pytest.mark.parametrize("lang", ["en", "id"])
def test_an_anonymous_visitor_sees_only_the_sign_in_screen(page, secure_url, screenshot, lang):
    for path in ("", "unit?unit=PKM-1", "upload", "review", "users", "audit", "compare"):
        open_app(page, f"{secure_url}/{path}{'&' if '?' in path else '?'}lang={lang}")
        assert page.get_by_role("button", name=t("signin.button", lang)).count() == 1, path
        text = main_text(page)
        for secret in ("Puskesmas", "PKM-1", "DINKES", "Dinas", "%", "min"):
            assert secret not in text, (path, secret)
        assert navigation(page) == [], path
        assert page.locator('[data-testid="stMetric"]').count() == 0
        assert page.locator('[data-testid="stDataFrame"]').count() == 0
    assert t("signin.body", lang) in main_text(page)
    screenshot(page, f"signin-anonymous-{lang}")


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_stranger_is_told_to_ask_an_administrator(new_page, secure_url, screenshot, lang):
    page = new_page()
    sign_in(page, secure_url, STRANGER, lang)
    text = main_text(page)
    assert t("signin.no_access_body", lang, email=STRANGER) in text
    assert "Puskesmas" not in text and navigation(page) == []
    assert page.locator('[data-testid="stMetric"]').count() == 0
    screenshot(page, f"signin-stranger-{lang}")
    open_app(page, f"{secure_url}/unit?unit=PKM-1&lang={lang}")  # any address: still nothing
    assert t("signin.no_access_title", lang) in main_text(page)
    assert "Puskesmas" not in main_text(page)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_an_unverified_address_is_told_so_in_one_sentence(new_page, secure_url, screenshot, lang):
    page = new_page()
    sign_in(page, secure_url, UNVERIFIED, lang)
    text = main_text(page)
    assert t("signin.unverified_body", lang, email=UNVERIFIED) in text
    assert t("signin.button", lang) not in text and navigation(page) == []
    assert "Puskesmas" not in text and page.locator('[data-testid="stMetric"]').count() == 0
    screenshot(page, f"signin-unverified-{lang}")


@pytest.mark.parametrize(("email", "role"), [(VIEWER, "viewer"), (ANALYST, "analyst"),
                                             (REVIEWER, "reviewer"), (ADMIN, "admin")])
def test_each_role_sees_exactly_its_pages(new_page, secure_url, screenshot, email, role):
    page = new_page()
    sign_in(page, secure_url, email)
    assert navigation(page) == NAVIGATION[role]
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert t("signin.signed_in_as", "en", email=email) in sidebar
    assert t("signin.role_line", "en", role=role) in sidebar
    assert page.get_by_role("button", name=t("signin.sign_out", "en")).count() == 1
    assert page.locator('[data-testid="stMetric"]').count() == 8  # the city's tiles
    if role == "viewer":
        screenshot(page, "signin-viewer-overview-en")


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_page_above_the_role_names_the_role_it_needs(new_page, secure_url, screenshot, lang):
    page = new_page()
    sign_in(page, secure_url, VIEWER, lang)
    open_app(page, f"{secure_url}/upload?lang={lang}")
    expected = t("roleguard.needs_role", lang, role=t("roles.analyst", lang),
                 current=t("roles.viewer", lang))
    page.get_by_text(expected).wait_for()
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    screenshot(page, f"signin-needs-role-{lang}")
    open_app(page, f"{secure_url}/users?lang={lang}")
    page.get_by_text(t("roleguard.needs_role", lang, role=t("roles.admin", lang),
                       current=t("roles.viewer", lang))).wait_for()


def upload_and_check(page, path: Path) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    wait_idle(page)
    page.get_by_role("heading", name=path.name).wait_for()
    page.get_by_role("button", name=t("upload.validate", "en")).first.click()
    wait_idle(page)


def test_a_scoped_analyst_imports_only_their_units(new_page, secure_url, signed_store,
                                                   screenshot, tmp_path):
    page = new_page()
    sign_in(page, secure_url, ANALYST)
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert t("signin.scope_line", "en", units="PKM-1") in sidebar
    outside = tmp_path / "events-two-units.csv"
    outside.write_text("\n".join([
        EVENTS_HEADER,
        "PKM-1,UMUM,SCOPE-1,2026-03-30 08:00,2026-03-30 08:05,2026-03-30 08:20,completed,counter",
        "PKM-2,UMUM,SCOPE-2,2026-03-30 08:00,2026-03-30 08:05,2026-03-30 08:20,completed,counter",
    ]) + "\n", encoding="utf-8")
    open_app(page, f"{secure_url}/upload?lang=en")
    upload_and_check(page, outside)
    page.get_by_text(t("upload.problems_found", "en", count="1")).wait_for()
    reason = t("ingest.out_of_scope", "en", value="PKM-2")
    page.get_by_text(reason).wait_for()  # the problems' table is drawn after its heading
    assert page.get_by_role("button", name=t("upload.commit", "en"), exact=True).count() == 0
    screenshot(page, "signin-scope-refused-en")

    inside = tmp_path / "events-pkm1.csv"
    inside.write_text("\n".join([
        EVENTS_HEADER,
        "PKM-1,UMUM,SCOPE-3,2026-03-30 08:00,2026-03-30 08:05,2026-03-30 08:20,completed,counter",
    ]) + "\n", encoding="utf-8")
    open_app(page, f"{secure_url}/upload?lang=en")
    upload_and_check(page, inside)
    page.get_by_text(t("upload.valid", "en", rows="1")).wait_for()
    page.get_by_role("button", name=t("upload.commit", "en"), exact=True).click()
    wait_idle(page)
    # The import's message comes once its transaction committed: only then is its batch read.
    page.get_by_text(re.compile(r"Imported as batch \d+: 1 new rows")).wait_for()
    store = Store(signed_store, busy_timeout=30)
    batch = store.query_value("SELECT max(batch_id) FROM batches")
    page.get_by_text(t("upload.committed", "en", batch=batch, inserted="1",
                       replaced="0")).wait_for()
    assert store.query_rows("SELECT file_name, loaded_by FROM batches WHERE batch_id > 5") == [
        ("events-pkm1.csv", ANALYST)]
    assert store.query_rows(
        "SELECT who, action, object FROM audit_log WHERE action = 'import' ORDER BY seq DESC "
        "LIMIT 1") == [(ANALYST, "import", f"batch {batch}")]


def test_sign_out_returns_to_the_sign_in_screen(new_page, secure_url):
    page = new_page()
    sign_in(page, secure_url, REVIEWER)
    assert navigation(page) == NAVIGATION["reviewer"]
    page.get_by_role("button", name=t("signin.sign_out", "en")).click()
    # The provider offers to end its session too; confirm, and come back to Kinerja.
    end = page.get_by_role("button", name="End session")
    end.wait_for()
    end.click()
    page.wait_for_url(f"{secure_url}/**")
    wait_idle(page)
    open_app(page, f"{secure_url}/?lang=en")
    assert page.get_by_role("button", name=t("signin.button", "en")).count() == 1
    assert navigation(page) == [] and "Puskesmas" not in main_text(page)


def _network_address() -> str | None:
    """The machine's first non-loopback IPv4 address (`hostname -I`), or None."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for address in out.split():
        if "." in address and not address.startswith("127."):
            return address
    return None


def test_local_mode_is_not_reachable_on_the_network_address(app_store, tmp_path, new_page,
                                                            screenshot):
    address = _network_address()
    if address is None:
        pytest.skip("this machine has no non-loopback network address to try")
    # The app as `make run` starts it: no --server.address, so .streamlit/config.toml decides.
    with serve_dashboard(app_store, tmp_path, address="") as url:
        port = int(url.rsplit(":", 1)[1])
        assert answers(f"{url}/_stcore/health")
        with pytest.raises(OSError), socket.create_connection((address, port), timeout=3):
            pass
        page = new_page()
        open_app(page, f"{url}/?lang=id")
        assert t("signin.local_mode", "id") in page.locator('[data-testid="stSidebar"]').inner_text()
        screenshot(page, "local-mode-id")



@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_a_city_reviewer_meets_over_their_own_review_record(new_page, secure_url, screenshot,
                                                            lang, viewport):
    """Issue 26: a reviewer scoped to DINKES keeps the review record of DINKES; the page says
    whose record it is, above its status."""
    page = new_page(*viewport)
    sign_in(page, secure_url, CITY_REVIEWER, lang)
    open_app(page, f"{secure_url}/review?lang={lang}&week=2026-W12")
    caption = t("reviewscope.whose_caption", lang)
    page.get_by_text(caption).wait_for()
    shown = main_text(page)
    assert "DINKES — Dinas Kesehatan Contoh" in shown
    assert shown.index(caption) < shown.index(t("review.status_none", lang))
    name = "desktop" if viewport == DESKTOP else "tablet"
    screenshot(page, f"review-city-record-{name}-{lang}")
