"""The e-mails as a reader sees them (issue 25): each message's HTML opened in chromium with its
inline images (as a mail client shows the related parts), screenshotted in both languages, and
a digest's link followed into the served dashboard, which opens on that unit, KPI and week."""

from __future__ import annotations

import base64
import email
from email import policy
from email.message import EmailMessage
from pathlib import Path

from kpi import notify, users
from kpi.__main__ import main
from kpi.ingest import ingest_file
from tests.browser.conftest import ARTIFACTS, open_app, take_screenshot
from tests.conftest import copy_store
from tests.test_notify import slow_events

MAIL_WIDTH = 720  # a mail client's reading pane


def as_shown(message: EmailMessage) -> str:
    """The message's HTML with its cid: images inlined as data URIs (what a client displays)."""
    html = message.get_body(("html",)).get_content()
    for part in message.walk():
        cid = part.get("Content-ID")
        if cid:
            data = base64.b64encode(part.get_content()).decode("ascii")
            html = html.replace(f"cid:{cid.strip('<>')}",
                                f"data:{part.get_content_type()};base64,{data}")
    return html


def mail_screenshot(page, name: str) -> Path:
    """A full-page PNG of a message (a static page: no Streamlit run to wait for) in
    tests/artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def read(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def test_each_message_in_chromium_and_a_link_into_the_dashboard(
        _example_store_file, tmp_path, monkeypatch, app_url, new_page):
    store = copy_store(_example_store_file, tmp_path / "kpi")
    users.add_user(store, "admin@medan.go.id", "admin", by="tests")
    users.add_user(store, "rev@medan.go.id", "reviewer", ["DINKES"], by="tests")
    users.add_user(store, "ana@medan.go.id", "analyst", ["PKM-2"], by="tests")
    notify.set_subscription(store, "admin@medan.go.id", lang="en", by="tests")
    notify.set_subscription(store, "ana@medan.go.id", lang="en", by="tests")
    (tmp_path / "slow.csv").write_text(slow_events("PKM-2", "UMUM", 40, "2026-03-24"))
    assert ingest_file(store, "events", tmp_path / "slow.csv", loaded_by="tests").ok
    monkeypatch.setenv("KPI_DB", str(store.path))
    monkeypatch.setenv("KPI_BASE_URL", app_url)
    monkeypatch.delenv("KPI_SMTP_URL", raising=False)
    out = tmp_path / "out"
    assert main(["notify", "digest", "--week", "2026-W13", "--dry-run", str(out)]) == 0
    assert main(["notify", "alerts", "--dry-run", str(out)]) == 0
    shots = {"digest-en": "digest-2026-W13-admin@medan.go.id",
             "digest-id": "digest-2026-W13-rev@medan.go.id",
             "alerts-en": "alerts-now-ana@medan.go.id",
             "alerts-id": "alerts-now-rev@medan.go.id"}
    page = new_page(MAIL_WIDTH, 900)
    for name, stem in shots.items():
        message = read(out / f"{stem}.eml")
        page.set_content(as_shown(message))
        # Every inline image decoded and drawn (none is broken, none fetched from anywhere).
        assert page.evaluate("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        mail_screenshot(page, f"email-{name}")
    # The English digest's first exception opens the unit page on that KPI and week.
    message = read(out / f"{shots['digest-en']}.eml")
    page.set_content(as_shown(message))
    link = page.locator(".item-head a").first.get_attribute("href")
    assert link.startswith(app_url + "/unit?") and "unit=PKM-2" in link
    dashboard = new_page(1366, 768)
    open_app(dashboard, link)
    take_screenshot(dashboard, "email-digest-link-opens-unit")
    main_text = dashboard.locator('[data-testid="stMain"]').inner_text()
    assert "Puskesmas Contoh Dua" in main_text, main_text[:2000]
    assert "Service time (median)" in main_text and "Week 13" in main_text
