"""The e-mail pages (issue 25) through AppTest: "My e-mail" for a signed-in person, the admin's
settings of any user on the Users page, and the admin's E-mail log."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from kpi import audit, notify, users
from kpi.__main__ import main
from tests.conftest import serial
from tests.helpers import DASHBOARD, open_view, run, texts
from tests.smtp_server import smtp_server

pytestmark = serial("mail")

AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback",
                 "cookie_secret": "test-only", "client_id": "kinerja",
                 "client_secret": "test-only",
                 "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}


def signed_in(store, monkeypatch, email: str, *, lang: str = "en") -> AppTest:
    """The "My e-mail" page as `email` signed in through the identity provider."""
    monkeypatch.setenv("KPI_DB", str(store.path))
    at = AppTest.from_file(DASHBOARD, default_timeout=90)
    at.secrets = AUTH
    at.user = {"is_logged_in": True, "email": email, "email_verified": True}
    at.query_params["lang"] = lang
    at.switch_page("pages/email.py")
    return run(at)


def test_a_signed_in_person_sets_their_own_e_mail(example_store, monkeypatch):
    users.add_user(example_store, "ana@medan.go.id", "analyst", ["PKM-1"], by="tests")
    at = signed_in(example_store, monkeypatch, "ana@medan.go.id")
    assert texts(at.title) == ["My e-mail"]
    assert "Messages to ana@medan.go.id" in texts(at.subheader)
    assert "**your units** and the units under them: PKM-1" in " ".join(texts(at.markdown))
    assert "defaults for the analyst role" in " ".join(texts(at.caption))
    assert at.toggle(key="my_email_digest").value is False
    assert at.toggle(key="my_email_alerts").value is True
    at.toggle(key="my_email_digest").set_value(True)
    at.radio(key="my_email_lang").set_value("en")
    at.get("form_submit_button")[0].click()
    run(at)
    assert texts(at.success) == ["Saved the e-mail settings of ana@medan.go.id."]
    found = notify.subscription(example_store, "ana@medan.go.id")
    assert (found.digest, found.alerts, found.lang) == (True, True, "en")
    row = audit.trail(example_store, action="notify.subscription").iloc[-1]
    assert (row["who"], row["object"]) == ("ana@medan.go.id", "ana@medan.go.id")


def test_local_mode_has_no_own_e_mail_settings(example_store, monkeypatch):
    at = open_view(example_store, monkeypatch, "email", lang="id", role="viewer")
    assert texts(at.title) == ["Surel saya"]
    assert "mode lokal" in texts(at.info)[0]
    assert not at.toggle


def test_the_admin_sets_anyones_settings_and_reads_the_log(example_store, monkeypatch):
    users.add_user(example_store, "rev@medan.go.id", "reviewer", ["DINKES"], by="tests")
    at = open_view(example_store, monkeypatch, "users", role="admin")
    assert "E-mail settings of a user" in texts(at.subheader)
    assert at.toggle(key="users_notify_digest").value is True
    at.toggle(key="users_notify_alerts").set_value(False)
    at.get("form_submit_button")[-1].click()
    run(at)
    assert "Saved the e-mail settings of rev@medan.go.id." in texts(at.success)
    assert notify.subscription(example_store, "rev@medan.go.id").alerts is False
    at = open_view(example_store, monkeypatch, "mail_log", role="admin")
    assert texts(at.title) == ["E-mail log"]
    assert texts(at.info) == ["No message has been sent yet.", "No alert has been found yet."]
    with smtp_server() as server:  # one digest sent: the log shows it
        monkeypatch.setenv("KPI_SMTP_URL", server.url())
        assert main(["notify", "digest", "--week", "2026-W13"]) == 0
    at = open_view(example_store, monkeypatch, "mail_log", role="admin")
    assert texts(at.markdown)[0] == "1 message(s): 1 sent, 0 refused."
    row = at.dataframe[0].value.to_dict("records")[0]
    assert (row["To"], row["Message"], row["Subject"], row["Result"]) == (
        "rev@medan.go.id", "Digest", "Kinerja W13: 1 unit di luar target", "✓ sent")
    viewer = open_view(example_store, monkeypatch, "mail_log", role="viewer")
    assert not viewer.dataframe and viewer.error  # an admin page
