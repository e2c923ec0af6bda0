"""Survey posters (issue 24): each unit's public SKM form address, its printable QR poster (A4
or A5 PDF, one unit or every unit of the visitor's scope), and replacing the address when a
poster was misused."""

from __future__ import annotations

import streamlit as st

from kpi import posters, survey_links
from kpi.survey_queue import Intake
from ui.charts_ui import file_name
from ui.data import forget_version, load
from ui.guard import guard
from ui.text import md

REVOKED_KEY = "kinerja_posters_revoked"  # the unit and new address, shown after the rerun

ctx = guard("posters")
st.header(ctx.t("posters.page_title"))
st.write(ctx.t("posters.page_intro"))
st.caption(ctx.t("posters.where_to_hang"))
units = load(survey_links.units_in_scope, who=ctx.user)
if not units:
    st.info(ctx.t("survey.no_units"))
    st.stop()
names = dict(units)
left, right = st.columns([3, 1])
unit = left.selectbox(ctx.t("posters.unit"), list(names), key="posters-unit",
                      format_func=lambda code: f"{names[code]} ({code})")
size = right.segmented_control(ctx.t("posters.size"), posters.SIZES, default="A4",
                               key="posters-size") or "A4"
revoked = st.session_state.pop(REVOKED_KEY, None)
if revoked:
    st.success(ctx.t("posters.revoked", unit=md(revoked[0]), url=revoked[1]),
               icon=":material/check_circle:")

# The unit's address (made on its first visit here: a write, on the audit trail).
link = survey_links.links(ctx.store, [unit], who=ctx.user)[0]
st.markdown(f"**{ctx.t('posters.link')}**")
st.code(link.url, language=None)
row = st.container(horizontal=True)
row.download_button(ctx.t("posters.download_unit", unit=names[unit], size=size),
                    lambda: posters.posters_pdf([link], size),
                    file_name=f"{file_name('poster', unit, size)}.pdf", mime="application/pdf",
                    icon=":material/print:", on_click="ignore", key="posters-one")
row.download_button(ctx.t("posters.download_all", count=len(names), size=size),
                    lambda: posters.posters_pdf(
                        survey_links.links(ctx.store, list(names), who=ctx.user), size),
                    file_name=f"{file_name('posters', size)}.pdf", mime="application/pdf",
                    icon=":material/picture_as_pdf:", on_click="ignore", key="posters-all")



def revoke(code: str) -> None:
    """Before the rerun (a widget callback): a new address, and the confirmation box unticked."""
    new = survey_links.revoke(ctx.store, code, who=ctx.user)
    st.session_state[REVOKED_KEY] = (names[code], new.url)
    st.session_state["posters-sure"] = False
    forget_version()


with st.expander(ctx.t("posters.revoke"), icon=":material/sync_lock:"):
    sure = st.checkbox(ctx.t("posters.revoke_confirm", unit=names[unit]), key="posters-sure")
    st.button(ctx.t("posters.revoke"), disabled=not sure, type="primary", key="posters-revoke",
              on_click=revoke, args=(unit,))
st.caption(ctx.t("posters.waiting", count=Intake(ctx.store).waiting()))
