"""Users (admin): who may sign in, with which role and unit scope; add, change or remove."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi import users
from kpi.editor import unit_codes
from kpi.errors import KinerjaError
from kpi.i18n import fmt_date
from ui.auth import role_name
from ui.data import forget_version, load
from ui.downloads import table_downloads
from ui.guard import guard
from ui.notify_ui import settings_form

ctx = guard("users")


def when(value) -> str:
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    return f"{fmt_date(stamp.date(), ctx.lang)} {stamp:%H:%M}"


def display_frame(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        ctx.t("userspage.col_email"): row["email"],
        ctx.t("userspage.col_role"): role_name(row["role"], ctx.lang),
        ctx.t("userspage.col_units"): row["units"] or ctx.t("signin.whole_city"),
        ctx.t("userspage.col_added_by"): row["added_by"],
        ctx.t("userspage.col_added_at"): when(row["added_at"]),
    } for row in table.to_dict("records")])


def write(action, success_key: str, **params) -> None:
    """Run one change: a refusal is said here and now, a success after the rerun."""
    try:
        action()
    except KinerjaError as error:
        st.error(error.localized(ctx.lang), icon=":material/block:")
        return
    st.session_state["users_message"] = ctx.t(success_key, **params)
    forget_version()
    st.rerun()


st.title(ctx.t("userspage.title"))
st.caption(ctx.t("userspage.caption"))

message = st.session_state.pop("users_message", None)
if message:
    st.success(message, icon=":material/check_circle:")

table = load(users.list_users)
if table.empty:
    st.info(ctx.t("userspage.none"), icon=":material/group:")
else:
    shown = display_frame(table)
    st.dataframe(shown, hide_index=True, width="stretch")
    table_downloads(shown, "users", ctx.lang, key="users")

with st.form("users_form", clear_on_submit=False, border=True):
    st.subheader(ctx.t("userspage.form_title"), anchor=False)
    email = st.text_input(ctx.t("userspage.email"), key="users_email")
    role = st.selectbox(ctx.t("userspage.role"), users.ROLES, index=0, key="users_role",
                        format_func=lambda name: role_name(name, ctx.lang))
    units = st.multiselect(ctx.t("userspage.units"), load(unit_codes), key="users_units",
                           placeholder=ctx.t("forms.units_placeholder"))
    if st.form_submit_button(ctx.t("userspage.save"), type="primary", icon=":material/person_add:"):
        write(lambda: users.add_user(ctx.store, email, role, units, by=ctx.user),
              "userspage.saved", email=email.strip().lower(), role=role_name(role, ctx.lang))

if not table.empty:
    st.subheader(ctx.t("userspage.remove_title"), anchor=False)
    chosen = st.selectbox(ctx.t("userspage.remove_pick"), list(table["email"]),
                          key="users_remove_pick")
    if st.button(ctx.t("userspage.remove"), icon=":material/person_remove:", key="users_remove"):
        write(lambda: users.remove_user(ctx.store, chosen, by=ctx.user), "userspage.removed",
              email=chosen)

# -- e-mail settings of any user (issue 25: an admin sets everyone's; each person their own on
# "My e-mail") ------------------------------------------------------------------------------
if not table.empty:
    st.subheader(ctx.t("emailpage.admin_title"), anchor=False)
    whose = st.selectbox(ctx.t("emailpage.admin_pick"), list(table["email"]),
                         key="users_notify_pick")
    settings_form(ctx, whose, key="users_notify")
