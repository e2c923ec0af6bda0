"""Who is looking: sign-in, the visitor's role and unit scope, and the sidebar's identity panel.

Two modes, chosen by Streamlit's own secrets (whatever file Streamlit reads, including
`streamlit run … --secrets.files PATH`):

- **Signed in** (the secrets have an `[auth]` section): Streamlit's native OIDC login
  (`st.login`, `st.user`, `st.logout`) with any identity provider. The e-mail address the
  provider vouches for is looked up in the store's users table (kpi/users.py), which gives the
  role and the unit scope. An anonymous visitor sees only the sign-in screen; an address the
  table does not hold sees "no access" and a sign-out button.
- **Local mode** (no `[auth]`: a laptop, `make run`): the server listens on 127.0.0.1 only
  (.streamlit/config.toml), and everyone gets KPI_DEFAULT_ROLE (default `admin`).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from kpi import users
from kpi.i18n import t
from kpi.users import ROLES

ROLE_OVERRIDE_KEY = "kinerja_role"  # local mode only: tests set a role for a session


@dataclass(frozen=True)
class Visitor:
    """The person behind this session."""

    local: bool              # no sign-in configured (local mode)
    email: str | None        # the address the identity provider vouched for (None: anonymous)
    role: str | None         # None: may not enter (anonymous, or an unknown address)
    units: tuple[str, ...]   # unit scope roots; empty = the whole city
    # Signed in at the provider with an address it has not verified (not trusted, not `email`).
    unverified: str | None = None

    @property
    def may_enter(self) -> bool:
        return self.role in ROLES

    @property
    def name(self) -> str:
        """The author recorded on batches, reviews, actions and the audit trail."""
        if self.email:
            return self.email
        try:
            return f"local:{getpass.getuser()}"
        except (KeyError, OSError):
            return "local:unknown"


def auth_configured() -> bool:
    """True when Streamlit's secrets hold an `[auth]` section (sign-in is on)."""
    return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)


def _provider() -> str | None:
    """The provider for st.login: None when `[auth]` itself names one (client_id), else the
    first `[auth.NAME]` table (a city with one identity provider configures one)."""
    section = st.secrets["auth"]
    if "client_id" in section:
        return None
    return next((name for name, value in section.items() if isinstance(value, Mapping)), None)


def _local_role() -> str:
    override = st.session_state.get(ROLE_OVERRIDE_KEY)
    if override in ROLES:
        return override
    role = os.environ.get("KPI_DEFAULT_ROLE", "admin")
    return role if role in ROLES else "viewer"


def _provider_address() -> tuple[str | None, bool]:
    """The address the provider gives for the signed-in person (None when nobody is signed in
    or it gives none) and whether it vouches for it: an address the provider marks unverified
    is not trusted (some providers let anyone register any address)."""
    if not st.user.get("is_logged_in"):
        return None, False
    email = st.user.get("email") or st.user.get("preferred_username") or ""
    email = str(email).strip().lower()
    return (email if "@" in email else None), st.user.get("email_verified") is not False


def current_visitor() -> Visitor:
    """This session's visitor (see the module docstring); the role is re-read from the store
    whenever its data version changes, so a removed user loses access at their next click."""
    if not auth_configured():
        return Visitor(local=True, email=None, role=_local_role(), units=())
    email, verified = _provider_address()
    if email is None:
        return Visitor(local=False, email=None, role=None, units=())
    if not verified:
        return Visitor(local=False, email=None, role=None, units=(), unverified=email)
    from ui.data import load

    found = load(users.role_and_units, email=email)
    if found is None:
        return Visitor(local=False, email=email, role=None, units=())
    role, units = found
    return Visitor(local=False, email=email, role=role, units=tuple(units))


def current_role() -> str | None:
    """The role of this session's visitor (None: may not enter)."""
    return current_visitor().role


def current_user_name() -> str:
    """The name to record in batches, reviews, actions and the audit trail."""
    return current_visitor().name


def role_name(role: str | None, lang: str) -> str:
    return t(f"roles.{role}", lang) if role in ROLES else "—"


# -- screens -----------------------------------------------------------------------------------
def sign_in_screen(lang: str) -> None:
    """All an anonymous visitor sees: a title, one sentence and the sign-in button."""
    st.title(t("signin.title", lang))
    st.text(t("signin.body", lang))
    if st.button(t("signin.button", lang), type="primary", icon=":material/login:",
                 key="kinerja_sign_in"):
        st.login(_provider())


def no_access_screen(visitor: Visitor, lang: str) -> None:
    """What a signed-in address the users table does not hold sees."""
    st.title(t("signin.no_access_title", lang))
    st.text(t("signin.no_access_body", lang, email=visitor.email or "—"))
    if st.button(t("signin.sign_out", lang), icon=":material/logout:", key="kinerja_no_access_out"):
        st.logout()


def unverified_screen(visitor: Visitor, lang: str) -> None:
    """What someone whose address the provider has not verified sees: why they are not let in,
    and a sign-out button (to sign in with another account)."""
    st.title(t("signin.unverified_title", lang))
    st.text(t("signin.unverified_body", lang, email=visitor.unverified or "—"))
    if st.button(t("signin.sign_out", lang), icon=":material/logout:",
                 key="kinerja_unverified_out"):
        st.logout()


def gate(visitor: Visitor, lang: str) -> None:
    """The sign-in, unverified or no-access screen for a visitor who may not enter."""
    if visitor.unverified:
        unverified_screen(visitor, lang)
    elif visitor.email is None:
        sign_in_screen(lang)
    else:
        no_access_screen(visitor, lang)


def identity_panel(visitor: Visitor, lang: str) -> None:
    """The sidebar's who-am-I: e-mail, role, units and sign-out; or the local-mode notice."""
    if visitor.local:
        st.caption(t("signin.local_mode", lang),
                   help=t("signin.local_mode_help", lang, role=role_name(visitor.role, lang)))
        return
    if visitor.email is None:
        return
    st.text(t("signin.signed_in_as", lang, email=visitor.email))
    if visitor.may_enter:
        st.caption(t("signin.role_line", lang, role=role_name(visitor.role, lang)))
        if visitor.units:
            st.text(t("signin.scope_line", lang, units=", ".join(visitor.units)))
    if st.button(t("signin.sign_out", lang), icon=":material/logout:", key="kinerja_sign_out"):
        st.logout()
