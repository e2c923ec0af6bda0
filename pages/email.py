"""My e-mail (issue 25): what the signed-in person receives by e-mail (the Monday digest,
alerts for their units) and in which language. An admin sets anyone's on the Users page."""

from __future__ import annotations

import streamlit as st

from kpi import users
from ui.data import load
from ui.guard import guard
from ui.notify_ui import settings_form

ctx = guard("email")
st.title(ctx.t("emailpage.title"))
st.caption(ctx.t("emailpage.caption"))

known = load(users.role_and_units, email=ctx.user) if "@" in ctx.user else None
if known is None:
    # Local mode (nobody signed in) or an address that is not a user: nothing to set here.
    st.info(ctx.t("emailpage.not_a_user"), icon=":material/mail_off:")
    st.stop()

st.subheader(ctx.t("emailpage.mine", email=ctx.user), anchor=False)
role, units = known
st.markdown(ctx.t("emailpage.scope_all") if not units
            else ctx.t("emailpage.scope_units", units=", ".join(units)))
settings_form(ctx, ctx.user, key="my_email")
