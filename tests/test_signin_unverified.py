"""An account whose e-mail address the identity provider has not verified is told so, in one
sentence of the reader's language, rather than sent back to the sign-in screen without a word
(issue 20). The browser test with the real provider is in tests/browser/test_sign_in.py."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from kpi import users
from kpi.i18n import t
from tests.helpers import DASHBOARD, run, texts

AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback",
                 "cookie_secret": "test-only", "client_id": "kinerja",
                 "client_secret": "test-only",
                 "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}


@pytest.mark.parametrize("lang", ["en", "id"])
def test_an_unverified_address_is_told_why_it_is_not_let_in(example_store, monkeypatch, lang):
    # Even an address Kinerja knows is not trusted while the provider has not verified it.
    users.add_user(example_store, "ana@medan.go.id", "admin", by="tests")
    monkeypatch.setenv("KPI_DB", str(example_store.path))
    for page in (None, "pages/upload.py"):  # the router, and a page's own guard at its address
        at = AppTest.from_file(DASHBOARD, default_timeout=90)
        at.secrets = AUTH
        at.user = {"is_logged_in": True, "email": "Ana@Medan.go.id", "email_verified": False}
        at.query_params["lang"] = lang
        if page:
            at.switch_page(page)
        run(at)
        assert texts(at.title) == [t("signin.unverified_title", lang)]
        assert texts(at.text) == [t("signin.unverified_body", lang, email="ana@medan.go.id")]
        assert [button.label for button in at.button] == [t("signin.sign_out", lang)]
        assert not at.dataframe and not at.metric
