"""Weekly management review (ISO 9001 clause 9.3): the meeting's working page.

Pick the week; the agenda is built from the data (kpi.review): actions carried from earlier
reviews, changes since the last review, the scorecard, the exceptions with their control charts,
the SKM results of a quarter that closed, the opportunities. Actions are raised from an
exception and updated with a comment; notes and decisions are kept per agenda item; "Finalise"
stores the review as an immutable record, which is then shown exactly as it was. The pack (PDF,
Excel, HTML) is the document to hand out.
"""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
import streamlit as st

from kpi import labels, metrics, pack, review
from kpi.errors import KinerjaError
from kpi.i18n import fmt_date, fmt_number
from kpi.vocabulary import CITY, KPIS
from ui.charts_ui import file_name, show_chart
from ui.data import data_version, forget_version, load
from ui.downloads import table_downloads
from ui.guard import guard
from ui.state import keep_in_url, url_value
from ui.text import md

ctx = guard("review")

weeks = load(review.review_weeks)
if not weeks:
    st.info(ctx.t("review.no_data"))
    st.stop()
finals = {row["week"] for row in load(review.reviews) if row["status"] == "final"}


def week_option(week: str) -> str:
    start, end = review.week_bounds(week)
    dates = ctx.t("review.week_dates", start=fmt_date(start, ctx.lang), end=fmt_date(end, ctx.lang))
    key = "review.week_option_final" if week in finals else "review.week_option"
    return ctx.t(key, week=week, dates=dates)


st.title(ctx.t("review.title"))
st.caption(ctx.t("review.caption"))
chosen = url_value("week", load(review.default_week) or weeks[0], choices=weeks)
week = st.selectbox(ctx.t("review.week"), weeks, index=weeks.index(chosen),
                    format_func=week_option, help=ctx.t("review.week_help"), key="review_week")
keep_in_url(week=week)

content = load(review.review_content, week=week)
agenda = content["agenda"]
view = pack.pack_view(content, ctx.lang)
covered = agenda.get("coverage")  # a record finalised before issue 12 has none
if covered and not covered["reported"]:
    st.info(ctx.t("review.no_unit_reported", week=week), icon=":material/hourglass_top:")
elif covered:
    st.caption(ctx.t("filters.units_reported", reported=fmt_number(covered["reported"], ctx.lang, 0),
                     expected=fmt_number(covered["expected"], ctx.lang, 0)))
final = content["review"]["status"] == "final"


def write(action, *args, **kwargs) -> bool:
    """Run an engine write; on success refresh the cached data and rerun, else say why."""
    try:
        action(ctx.store, *args, by=ctx.user, **kwargs)
    except KinerjaError as error:
        st.error(error.localized(ctx.lang), icon=":material/error:")
        return False
    forget_version()
    st.rerun()
    return True


if final:
    st.success(ctx.t("review.status_final",
                     when=pack.format_timestamp(content["review"]["finalised_at"], ctx.lang),
                     who=content["review"]["finalised_by"] or "—"), icon=":material/verified:")
    st.caption(ctx.t("review.checksum", digest=content["review"]["record_sha256"]))
else:
    status_key = "review.status_none" if content["review"]["status"] == "none" \
        else "review.status_draft"
    st.info(ctx.t(status_key), icon=":material/edit_note:")

summary = view["summary"]
tiles = st.columns(4)
tiles[0].metric(ctx.t("pack.tile_off_target"), summary["off_target"], border=True)
tiles[1].metric(ctx.t("pack.tile_concerns"), summary["concerns"], border=True)
tiles[2].metric(ctx.t("pack.tile_open_actions", overdue=summary["overdue"]),
                summary["open_actions"], border=True)
tiles[3].metric(ctx.t("pack.tile_opportunities"), summary["opportunities"], border=True)


def item_minutes(key: str) -> None:
    """Notes and decision of one agenda item: a small form, or the text once final."""
    noted = content["minutes"]["items"].get(key, {})
    if final:
        if noted.get("note"):
            st.markdown(f"**{ctx.t('review.note')}:** {md(noted['note'])}")
        if noted.get("decision"):
            st.markdown(f"**{ctx.t('review.decision')}:** {md(noted['decision'])}")
        return
    with st.expander(ctx.t("review.minutes_for_item"), icon=":material/edit_note:",
                     expanded=bool(noted)), st.form(f"minutes-{key}", border=False):
        note = st.text_area(ctx.t("review.note"), value=noted.get("note", ""), height=80,
                            key=f"note-{key}")
        decision = st.text_area(ctx.t("review.decision"), value=noted.get("decision", ""),
                                height=80, key=f"decision-{key}")
        if st.form_submit_button(ctx.t("review.save_item"), icon=":material/save:"):
            write(review.save_item_minutes, week, key, note=note, decision=decision)


def actions_frame(actions: list[dict]) -> pd.DataFrame:
    # Due date and status right after the title: what the meeting reads first, on screen
    # without scrolling sideways.
    rows = [{
        ctx.t("pack.col_id"): a["id"], ctx.t("pack.col_action"): a["title"],
        ctx.t("pack.col_due"): a["due"], ctx.t("pack.col_status"): a["status_full"],
        ctx.t("pack.col_unit"): a["unit"], ctx.t("pack.col_responsible"): a["responsible"],
        ctx.t("pack.col_kpi"): a["kpi"], ctx.t("pack.col_comment"): a["last_comment"],
    } for a in actions]
    return pd.DataFrame(rows)


# -- 1. Actions from earlier reviews -----------------------------------------------------------
st.header(f"1. {ctx.t('review.section_actions')}", divider="gray")
st.caption(ctx.t("review.actions_caption"))
carried = view["carried_actions"]  # this review's own actions are under their exceptions
if carried:
    frame = actions_frame(carried)
    st.dataframe(frame, hide_index=True, width="stretch", key="actions-table")
    table_downloads(frame, f"actions-{week}", ctx.lang, key="actions")
else:
    st.write(ctx.t("review.no_carried_actions"))
open_actions = [a for a in agenda["carried_actions"] + agenda["new_actions"]
                if a["status"] not in review.CLOSED_STATUSES]
if open_actions and not final:
    with st.expander(ctx.t("review.update_action"), icon=":material/published_with_changes:"), \
            st.form("update-action", border=False):
        by_id = {a["action_id"]: a for a in open_actions}
        action_id = st.selectbox(ctx.t("review.update_which"), list(by_id),
                                 format_func=lambda i: f"{i} · {by_id[i]['title']}",
                                 key="update-which")
        status = st.segmented_control(
            ctx.t("review.update_status"), review.ACTION_STATUSES, default="in_progress",
            format_func=lambda s: ctx.t(f"action.status_{s}"), key="update-status")
        comment = st.text_area(ctx.t("review.update_comment"), height=80,
                               help=ctx.t("review.update_comment_help"), key="update-comment")
        if st.form_submit_button(ctx.t("review.update_save"), icon=":material/save:"):
            write(review.update_action, action_id, status=status or "in_progress",
                  comment=comment, week=week)
item_minutes("actions")

# -- 2. Changes since the last review ----------------------------------------------------------
st.header(f"2. {ctx.t('review.section_changes')}", divider="gray")
changes = view["changes"]
st.caption(changes["intro"])
if changes["batches"]:
    st.dataframe(pd.DataFrame([{
        ctx.t("pack.col_batch"): b["id"],
        ctx.t("pack.col_kind"): f"{b['kind']} · ↶ {ctx.t('pack.rolled_back')}"
        if b["rolled_back"] else b["kind"],
        ctx.t("pack.col_file"): b["file"], ctx.t("pack.col_rows"): b["rows"],
        ctx.t("pack.col_replaced"): b["replaced"], ctx.t("pack.col_by"): b["by"],
        ctx.t("pack.col_when"): b["when"]} for b in changes["batches"]]),
        hide_index=True, width="stretch", key="imports-table")
else:
    st.write(ctx.t("review.changes_none"))
if changes["targets"]:
    st.subheader(ctx.t("review.changes_targets"))
    st.dataframe(pd.DataFrame([{
        ctx.t("pack.col_unit"): row["unit"], ctx.t("pack.col_kpi"): row["kpi"],
        ctx.t("pack.col_target"): row["target"], ctx.t("pack.col_valid"): row["valid"]}
        for row in changes["targets"]]), hide_index=True, width="stretch", key="targets-table")
if changes["units"]:
    st.subheader(ctx.t("review.changes_units"))
    st.text(", ".join(changes["units"]))
item_minutes("changes")

# -- 3. Scorecard ------------------------------------------------------------------------------
st.header(f"3. {ctx.t('review.section_scorecard')}", divider="gray")
st.caption(ctx.t("review.scorecard_caption"))
kpi_columns = [header["name"] for header in view["scorecard"]["headers"]]
scorecard = pd.DataFrame([{
    ctx.t("pack.col_unit"): ("\u2003" * max(row["depth"] - 1, 0)) + row["unit"],
    **{name: (f"{cell['symbol']} {cell['value']}".strip() if cell else "—")
       for name, cell in zip(kpi_columns, row["cells"], strict=True)},
} for row in view["scorecard"]["rows"]])
st.dataframe(scorecard, hide_index=True, width="stretch", key="scorecard-table",
             height=min(36 * (len(scorecard) + 1) + 4, 720))
st.caption(" · ".join([*(labels.status_text(status, ctx.lang)
                         for status in ("green", "amber", "red")),
                       ctx.t("pack.legend_no_target")]))
scorecard_rows = pd.DataFrame([{
    ctx.t("pack.col_code"): row["unit_code"], ctx.t("pack.col_kpi"): labels.kpi_name(row["kpi"], ctx.lang),
    ctx.t("pack.col_value"): row["value"], ctx.t("pack.col_target"): row["target"],
    ctx.t("pack.col_status"): labels.status_text(row["status"], ctx.lang),
    ctx.t("pack.col_previous"): row["prev_value"], ctx.t("pack.col_change"): row["change"],
} for row in agenda["scorecard"]])
table_downloads(scorecard_rows, f"scorecard-{week}", ctx.lang, key="scorecard")
item_minutes("scorecard")

# -- 4. Exceptions -----------------------------------------------------------------------------
st.header(f"4. {ctx.t('review.section_exceptions')}", divider="gray")
if not agenda["exceptions"]:
    st.write(ctx.t("review.no_exceptions"))
else:
    st.caption(ctx.t("review.exceptions_count", count=len(agenda["exceptions"])))
tree = load(metrics.unit_tree)
unit_names = {CITY: ctx.t("review.city_unit")} | dict(
    zip(tree["unit_code"], tree["name"], strict=True))
agenda_actions = agenda["carried_actions"] + agenda["new_actions"]
shown_actions = {a["id"]: a for a in view["carried_actions"] + view["new_actions"]}
due_default = review.review_day(week) + dt.timedelta(days=review.DEFAULT_ACTION_DAYS)


def action_form(item: dict) -> None:
    """Raise an action from an exception: what, owning unit, responsible, due date, KPI."""
    with st.expander(ctx.t("review.create_action"), icon=":material/add_task:"), \
            st.form(f"action-{item['key']}", border=False):
        st.markdown(ctx.t("review.action_form_title", unit=md(unit_names.get(
            item["unit_code"], item["unit_code"])), kpi=labels.kpi_name(item["kpi"], ctx.lang)))
        title = st.text_input(ctx.t("action.title"), key=f"title-{item['key']}")
        codes = list(unit_names)
        unit = st.selectbox(ctx.t("action.unit"), codes, index=codes.index(item["unit_code"])
                            if item["unit_code"] in codes else 0,
                            format_func=lambda code: unit_names[code], key=f"unit-{item['key']}")
        responsible = st.text_input(ctx.t("action.responsible"), key=f"who-{item['key']}")
        due = st.date_input(ctx.t("action.due_date"), value=due_default,
                            format="DD/MM/YYYY", key=f"due-{item['key']}")
        kpis = [None, *KPIS]
        kpi = st.selectbox(ctx.t("action.kpi"), kpis, index=kpis.index(item["kpi"]),
                           format_func=lambda k: labels.kpi_name(k, ctx.lang) if k
                           else ctx.t("review.kpi_none"), key=f"kpi-{item['key']}")
        if st.form_submit_button(ctx.t("action.save"), type="primary", icon=":material/add:"):
            write(review.create_action, week, title=title, unit_code=unit,
                  responsible=responsible, due_date=due, kpi=kpi, item_key=item["key"])


for index, (item, shown) in enumerate(zip(agenda["exceptions"], view["exceptions"],
                                          strict=True), start=1):
    with st.container(border=True):
        st.subheader(f"{index}. {md(shown['unit'])} — {shown['kpi']}")
        st.markdown(ctx.t("review.facts", value=shown["value"], target=shown["target"],
                          previous=shown["prev_value"]) + " · "
                    + labels.status_markdown(item["status"], ctx.lang,
                                             has_value=not labels.is_missing(item["value"])))
        st.caption(f"{ctx.t('review.col_reason')}: {shown['reasons']}"
                   + (f" · {ctx.t('review.col_signals')}: {shown['signals']}"
                      if shown["signals"] else ""))
        figure = pack.item_figure(item, ctx.lang, title=ctx.t(
            "review.chart_title", unit=shown["unit"], kpi=shown["kpi"]))
        if figure is not None:
            show_chart(figure, ctx.lang, name=file_name("review", week, item["unit_code"],
                                                        item["kpi"]),
                       alt=ctx.t("pack.chart_alt", unit=shown["unit"], kpi=shown["kpi"]),
                       key=f"chart-{item['key']}")
        raised = [shown_actions[a["action_id"]] for a in agenda_actions
                  if a.get("item_key") == item["key"]]
        for action in raised:
            st.markdown(f":material/task_alt: **{action['id']}** · {md(action['title'])} · "
                        f"{md(action['responsible'])} · {action['due']} · "
                        f"{action['status_text']}")
        if not final:
            action_form(item)
        item_minutes(item["key"])

# -- 5. Satisfaction ---------------------------------------------------------------------------
st.header(f"5. {ctx.t('review.section_satisfaction')}", divider="gray")
satisfaction = view["satisfaction"]
if satisfaction and satisfaction["rows"]:
    st.caption(satisfaction["heading"])
    st.dataframe(pd.DataFrame([{
        ctx.t("pack.col_unit"): row["unit"], ctx.t("pack.col_respondents"): row["n"],
        ctx.t("pack.col_ikm"): row["ikm"], ctx.t("pack.col_grade"): row["grade"],
        ctx.t("pack.col_prev_ikm"): row["prev_ikm"],
        ctx.t("pack.col_min_sample"): row["min_sample"],
        ctx.t("pack.col_sample_ok"): row["sample_text"]} for row in satisfaction["rows"]]),
        hide_index=True, width="stretch", key="skm-table")
else:
    st.write(ctx.t("review.no_satisfaction"))
item_minutes("satisfaction")

# -- 6. Opportunities --------------------------------------------------------------------------
st.header(f"6. {ctx.t('review.section_opportunities')}", divider="gray")
if view["opportunities"]:
    st.caption(ctx.t("review.opportunities_count", count=len(view["opportunities"])))
    st.dataframe(pd.DataFrame([{
        ctx.t("pack.col_unit"): o["unit"], ctx.t("pack.col_kpi"): o["kpi"],
        ctx.t("pack.col_value"): o["value"], ctx.t("pack.col_target"): o["target"],
        ctx.t("pack.col_status"): o["status_text"], ctx.t("review.col_signals"): o["signals"]}
        for o in view["opportunities"]]), hide_index=True, width="stretch",
        key="opportunities-table")
else:
    st.write(ctx.t("review.no_opportunities"))
item_minutes("opportunities")

# -- Minutes and finalising --------------------------------------------------------------------
st.header(ctx.t("review.section_minutes"), divider="gray")
if final:
    st.markdown(f"**{ctx.t('review.attendees')}:** "
                + (md(", ".join(content["minutes"]["attendees"])) or "—"))
    st.markdown(f"**{ctx.t('review.decisions')}:**")
    st.text(content["minutes"]["decisions"] or "—")
    st.info(ctx.t("review.locked_note"), icon=":material/lock:")
else:
    with st.form("minutes", border=True):
        attendees = st.text_area(ctx.t("review.attendees"),
                                 value="\n".join(content["minutes"]["attendees"]),
                                 help=ctx.t("review.attendees_help"), key="attendees")
        decisions = st.text_area(ctx.t("review.decisions"), value=content["minutes"]["decisions"],
                                 key="decisions")
        if st.form_submit_button(ctx.t("review.save_minutes"), icon=":material/save:"):
            write(review.save_minutes, week, attendees=attendees, decisions=decisions)
    confirmed = st.checkbox(ctx.t("review.finalise_confirm"), key="finalise-confirm")
    if st.button(ctx.t("review.finalise"), type="primary", icon=":material/verified:",
                 disabled=not confirmed, help=ctx.t("review.finalise_help"), key="finalise"):
        write(review.finalise, week)

# -- The pack ----------------------------------------------------------------------------------
st.header(ctx.t("review.pack_title"), divider="gray")
st.caption(ctx.t("review.pack_caption"))
pack_key = (week, ctx.lang, data_version())
prepared = st.session_state.get("review_pack")
if st.button(ctx.t("review.pack_prepare"), icon=":material/picture_as_pdf:", key="pack-prepare"):
    with st.spinner(ctx.t("review.pack_preparing")):
        started = time.monotonic()
        files = pack.build_pack(content, ctx.lang).files()
        seconds = time.monotonic() - started
    prepared = {"key": pack_key, "files": files, "seconds": seconds}
    st.session_state["review_pack"] = prepared
if prepared and prepared["key"] == pack_key:
    st.success(ctx.t("review.pack_ready", week=week,
                     seconds=fmt_number(prepared["seconds"], ctx.lang, 0)),
               icon=":material/check_circle:")
    stem = pack.pack_name(week)
    buttons = st.columns(3)
    for column, (suffix, label_key, mime) in zip(buttons, (
            ("pdf", "review.pack_pdf", "application/pdf"),
            ("xlsx", "review.pack_xlsx",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("html", "review.pack_html", "text/html")), strict=True):
        column.download_button(ctx.t(label_key), prepared["files"][f"{stem}.{suffix}"],
                               file_name=f"{stem}.{suffix}", mime=mime, icon=":material/download:",
                               on_click="ignore", key=f"pack-{suffix}")
