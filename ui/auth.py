"""Who is looking: the role of the current user.

A city deployment signs users in with Streamlit's OIDC login (`st.login`, configured in
.streamlit/secrets.toml) and maps e-mail addresses to roles in `[kinerja.roles]` of the secrets.
Without a login provider (a local or demo install) everyone gets KPI_DEFAULT_ROLE (default
`admin`), so `make run` shows every page.
"""

from __future__ import annotations

import os

import streamlit as st

from ui.registry import ROLES


def _roles_from_secrets() -> dict[str, str]:
    try:
        return {str(k).lower(): str(v) for k, v in st.secrets["kinerja"]["roles"].items()}
    except (KeyError, FileNotFoundError, AttributeError):
        return {}


def current_role() -> str:
    """The role of this session's user (see the module docstring)."""
    override = st.session_state.get("kinerja_role")
    if override in ROLES:  # tests and an admin's "view as" set this
        return override
    if st.user.get("is_logged_in"):
        email = str(st.user.get("email", "")).lower()
        return _roles_from_secrets().get(email, "viewer")
    role = os.environ.get("KPI_DEFAULT_ROLE", "admin")
    return role if role in ROLES else "viewer"


def current_user_name() -> str:
    """A name to record in batches and reviews."""
    if st.user.get("is_logged_in"):
        return str(st.user.get("email") or st.user.get("name") or "user")
    return os.environ.get("KPI_USER") or os.environ.get("USER") or "dashboard"
