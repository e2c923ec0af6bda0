"""The e-mail settings form (issue 25), one for "My e-mail" and for an admin on the Users page."""

from __future__ import annotations

import streamlit as st

from kpi import notify
from kpi.errors import KinerjaError
from kpi.i18n import LANGUAGES
from ui.data import forget_version, load
from ui.guard import PageContext

MESSAGE_KEY = "notify_settings_message"


def settings_form(ctx: PageContext, email: str, *, key: str) -> None:
    """Digest on/off, alerts on/off and the language of `email`'s messages, saved together
    (audited, by the signed-in person: kpi.notify refuses someone else's unless an admin)."""
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        st.success(message, icon=":material/check_circle:")
    try:
        current = load(notify.subscription, email=email)
    except KinerjaError as error:
        st.error(error.localized(ctx.lang), icon=":material/block:")
        return
    if not current.chosen:
        st.caption(ctx.t("emailpage.defaults", role=ctx.t(f"roles.{current.user.role}")))
    with st.form(f"{key}_form", border=True):
        digest = st.toggle(ctx.t("emailpage.digest"), value=current.digest,
                           help=ctx.t("emailpage.digest_help"), key=f"{key}_digest")
        alerts = st.toggle(ctx.t("emailpage.alerts"), value=current.alerts,
                           help=ctx.t("emailpage.alerts_help"), key=f"{key}_alerts")
        lang = st.radio(ctx.t("emailpage.language"), LANGUAGES,
                        index=LANGUAGES.index(current.lang), horizontal=True,
                        format_func=lambda code: ctx.t(f"nav.language_{code}"), key=f"{key}_lang")
        if st.form_submit_button(ctx.t("emailpage.save"), type="primary",
                                 icon=":material/save:"):
            try:
                notify.set_subscription(ctx.store, email, digest=digest, alerts=alerts,
                                        lang=lang, by=ctx.user)
            except KinerjaError as error:
                st.error(error.localized(ctx.lang), icon=":material/block:")
                return
            st.session_state[MESSAGE_KEY] = ctx.t("emailpage.saved", email=email)
            forget_version()
            st.rerun()
