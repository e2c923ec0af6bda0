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

from kpi import config, interventions, labels, metrics, pack, review
from kpi.errors import KinerjaError
from kpi.i18n import fmt_int, fmt_number
from kpi.periods import week_bounds
from kpi.vocabulary import CITY, KPIS
from ui.charts_ui import file_name, show_chart
from ui.data import built, data_version, forget_version, load
from ui.downloads import table_downloads
from ui.filters import period_label, visible_tree
from ui.guard import guard
from ui.inputs import DATE_FORMAT
from ui.state import keep_in_url, url_value
from ui.text import md
from ui.tiles import TILE_WIDTH

ctx = guard("review")
# The record this visitor keeps: their unit scope's (a city user's), or the whole store's. The
# engine writes to the author's own scope; the page reads the same one.
scope = review.scope_key(ctx.units)

weeks = load(review.review_weeks, scope=scope)
if not weeks:
    st.info(ctx.t("review.no_data"))
    st.stop()
finals = {row["week"] for row in load(review.reviews, scope=scope) if row["status"] == "final"}


def week_option(week: str) -> str:
    """The week named as the overview names it ("Week 47 · 16–22 Nov 2026")."""
    key = "review.week_option_final" if week in finals else "review.week_option"
    return ctx.t(key, week=period_label(week_bounds(week)[0], "week", ctx.lang))


st.title(ctx.t("review.title"))
st.caption(ctx.t("review.caption"))
chosen = url_value("week", load(review.default_week) or weeks[0], choices=weeks)
week = st.selectbox(ctx.t("review.week"), weeks, index=weeks.index(chosen),
                    format_func=week_option, help=ctx.t("review.week_help"), key="review_week")
keep_in_url(week=week)

# The agenda's data part (scorecard, exceptions and their charts, SKM, opportunities) is cached
# per KPI data version: the meeting's own writes below never recompute it. Each agenda item, the
# actions, the minutes and the pack are fragments: a save reruns only the part it changes.
final = week in finals
data = None if final else load(review.data_agenda, week=week)
# A city user (a unit scope) meets over their own units: the week's agenda of those alone.
visible = frozenset(visible_tree(ctx)["unit_code"]) if ctx.units else None
if data is not None and visible is not None:
    data = review.agenda_of_units(data, visible)


@st.cache_resource(show_spinner=False, max_entries=64, ttl=3600)
def content_and_view(store_key: str, week: str, lang: str, version: int,
                     units: tuple[str, ...]) -> tuple[dict, dict]:
    """The review's content and its formatted view (every number of the agenda as text: a
    tenth of a second on a large city), once per store, week, language, data version and
    scope (`units`: a city user's, whose record and agenda are their units' alone); keyed
    without the agenda itself, which would cost as much to hash. Kept as objects (a
    province's agenda took 0.2 s to unpickle on every rerun): the page only reads them."""
    content = review.review_content(ctx.store, week, data, scope=review.scope_key(units))
    return content, pack.pack_view(content, lang)


content, view = content_and_view(ctx.store.key, week, ctx.lang, data_version(), ctx.units)
agenda = content["agenda"]
covered = agenda.get("coverage")  # a record finalised before issue 12 has none
if covered and not covered["reported"]:
    st.info(ctx.t("review.no_unit_reported", week=week), icon=":material/hourglass_top:")
elif view["incomplete"]:  # the overview's warning, at the top of the agenda (issue 22)
    st.warning(view["incomplete"], icon=":material/hourglass_top:")
elif covered:
    st.caption(ctx.t("filters.units_reported", reported=fmt_number(covered["reported"], ctx.lang, 0),
                     expected=fmt_number(covered["expected"], ctx.lang, 0)))
TOASTS = "review-toasts"


def errors_and_toasts(scope: str) -> None:
    """The sentence of a failed save in `scope`, and the confirmations of the saves queued by
    the callbacks (shown by whichever part reruns first)."""
    if message := st.session_state.pop(f"review-error-{scope}", None):
        st.error(message, icon=":material/error:")
    for message in st.session_state.pop(TOASTS, []):
        st.toast(message, icon=":material/check_circle:")


def saved(scope: str, action, *args, confirm, **kwargs):
    """In a widget callback: run an engine write; on success forget the cached data version and
    queue `confirm(result)` as a toast; on failure keep the sentence for `scope` to show.
    Returns the write's result, or None when it failed."""
    try:
        result = action(ctx.store, *args, by=ctx.user, **kwargs)
    except KinerjaError as error:
        st.session_state[f"review-error-{scope}"] = error.localized(ctx.lang)
        return None
    forget_version()
    st.session_state.setdefault(TOASTS, []).append(confirm(result))
    return True if result is None else result


def current_actions() -> tuple[list[dict], list[dict]]:
    """(carried, new) actions of the week as they stand now (the record's once final)."""
    if final:
        return agenda["carried_actions"], agenda["new_actions"]
    actions = [action for action in load(review.list_actions, week=week)
               if visible is None or action["unit_code"] in visible]
    return ([a for a in actions if a["raised_week"] < week],
            [a for a in actions if a["raised_week"] == week])


def current_minutes() -> dict:
    return content["minutes"] if final else load(review.minutes, week=week, scope=scope)


if content.get("scope_label"):  # a city user's own record, not the whole store's
    st.markdown(ctx.t("reviewscope.whose", label=md(content["scope_label"]),
                      week=period_label(week_bounds(week)[0], "week", ctx.lang)))
    st.caption(ctx.t("reviewscope.whose_caption"))
if final:
    st.success(ctx.t("review.status_final",
                     when=pack.format_timestamp(content["review"]["finalised_at"], ctx.lang),
                     who=content["review"]["finalised_by"] or "—"), icon=":material/verified:")
    st.caption(ctx.t("review.checksum", digest=content["review"]["record_sha256"]))
    if view["audit_head"]:  # the paper's guard against later edits of the trail
        st.caption(ctx.t("audithead.caption", head=view["audit_head"]))
else:
    status_key = "review.status_none" if content["review"]["status"] == "none" \
        else "review.status_draft"
    st.info(ctx.t(status_key), icon=":material/edit_note:")


def item_minutes(key: str) -> None:
    """Notes and decision of one agenda item: two boxes and a save button, or the text once
    final. No form: what is typed reaches the server when the box is left, so finalising saves
    it even when "Save" was not pressed (pending_minutes)."""
    noted = current_minutes()["items"].get(key, {})
    if final:
        if noted.get("note"):
            st.markdown(f"**{ctx.t('review.note')}:** {md(noted['note'])}")
        if noted.get("decision"):
            st.markdown(f"**{ctx.t('review.decision')}:** {md(noted['decision'])}")
        return
    errors_and_toasts(f"minutes-{key}")
    first_save_reruns_the_page()

    def save() -> None:
        note_first_save()
        saved(f"minutes-{key}", review.save_item_minutes, week, key,
              note=st.session_state[f"note-{key}"], decision=st.session_state[f"decision-{key}"],
              confirm=lambda _: ctx.t("review.toast_item_saved"))

    # The boxes are built only while its expander is open (opening it reruns this part alone).
    box = st.expander(ctx.t("review.minutes_for_item"), icon=":material/edit_note:",
                      expanded=bool(noted), key=f"notes-open-{key}", on_change="rerun")
    if not box.open:
        return
    with box:
        st.text_area(ctx.t("review.note"), value=noted.get("note", ""), height=80,
                     key=f"note-{key}")
        st.text_area(ctx.t("review.decision"), value=noted.get("decision", ""), height=80,
                     key=f"decision-{key}")
        st.button(ctx.t("review.save_item"), icon=":material/save:", on_click=save,
                  key=f"save-item-{key}")


FIRST_SAVE = "review-first-minutes-saved"


def note_first_save() -> None:
    """In a save's callback: the page still says "no minutes yet" (rerun it after the save)."""
    if content["review"]["status"] == "none":
        st.session_state[FIRST_SAVE] = True


def first_save_reruns_the_page() -> None:
    """After the week's first minutes were saved in a part, rerun the whole page once, so that
    its banner no longer says "no minutes yet"."""
    if st.session_state.pop(FIRST_SAVE, False):
        st.rerun()


def pending_minutes() -> dict:
    """What is on screen and differs from the saved minutes: {"attendees", "decisions",
    "items": {key: {note, decision}}} (only the parts that differ)."""
    noted = current_minutes()
    pending: dict = {"items": {}}
    for name, stored in (("attendees", "\n".join(noted["attendees"])),
                         ("decisions", noted["decisions"] or "")):
        shown = st.session_state.get(name)
        if shown is not None and shown.strip() != stored.strip():
            pending[name] = shown
    for key in {name.split("-", 1)[1] for name in st.session_state
                if isinstance(name, str) and name.startswith(("note-", "decision-"))}:
        saved_item = noted["items"].get(key, {})
        shown = {part: st.session_state.get(f"{part}-{key}", saved_item.get(part, ""))
                 for part in ("note", "decision")}
        if any((shown[part] or "").strip() != (saved_item.get(part) or "").strip()
               for part in shown):
            pending["items"][key] = shown
    return pending


def minutes_part(key: str) -> None:
    """`item_minutes` of a section as a fragment of its own: saving reruns only it."""
    st.fragment(item_minutes, key=f"review-minutes-{key}")(key)


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


ACTIONS_FRAGMENT = "review-actions"  # the tiles and section 1
SHOWN_ITEMS = "review-shown-items"  # the item fragments of the page of exceptions shown
EXCEPTIONS_PER_PAGE = 10
EXCEPTION_BUTTONS = 10  # pages of exceptions offered as buttons; more are picked from a list
ITEM_FRAGMENTS = {item["key"]: f"review-item-{index}"
                  for index, item in enumerate(agenda["exceptions"], start=1)}
# Within each item, its actions, the form for a new one and its notes are a fragment of their
# own: saving there reruns that part, not the item's control chart.
ITEM_ACTION_FRAGMENTS = {key: f"{fragment}-actions" for key, fragment in ITEM_FRAGMENTS.items()}


# -- issue 23: closing an action asks whether a change was made, and from which date ------------
def change_question() -> None:
    """In the update form: was a change made (recorded as an intervention when the action is
    closed as done), from which date, and does it re-baseline the charts."""
    st.radio(ctx.t("effect.ask_change"), [False, True], horizontal=True, key="update-change",
             format_func=lambda made: ctx.t("intervention.yes" if made else "intervention.no"),
             help=ctx.t("effect.ask_change_help"))
    left, right = st.columns(2)
    left.date_input(ctx.t("effect.ask_change_from"), value=None, format=DATE_FORMAT,
                    key="update-change-from")
    right.checkbox(ctx.t("intervention.rebase"), key="update-change-rebase",
                   help=ctx.t("intervention.rebase_help"))


def changed_from(status: str) -> dt.date | bool | None:
    """The date of the change the update form reports (only when the action is closed as done);
    None without one; False (with the sentence kept for section 1) when a change was made but
    its date is missing."""
    state = st.session_state
    if status != "done" or state.get("update-change") is not True:
        return None
    if state.get("update-change-from") is None:
        state["review-error-actions"] = ctx.t("effect.ask_change_no_date")
        return False
    return state["update-change-from"]


@st.fragment(key=ACTIONS_FRAGMENT)
def actions_part() -> None:
    """The summary tiles and section 1 (the actions carried and raised, and their update form):
    rerun by a new action or an update, not the whole page."""
    carried_actions, new_actions = current_actions()
    carried_views = [pack.action_view(a, ctx.lang) for a in carried_actions]
    new_views = [pack.action_view(a, ctx.lang) for a in new_actions]
    counts = pack.action_counts(carried_views, new_views)
    summary = view["summary"]
    # Tiles as wide as the KPI tiles, flowing onto a second row on a tablet: in four columns
    # of 820 px the labels were cut ("tindak lanjut terbuka (0 terla…"). The overdue count is
    # the open actions' delta, so that the label stays short.
    with st.container(horizontal=True, wrap=True, gap="small"):
        st.metric(ctx.t("pack.tile_off_target"), summary["off_target"], border=True,
                  width=TILE_WIDTH, height="stretch")
        st.metric(ctx.t("pack.tile_concerns"), summary["concerns"], border=True,
                  width=TILE_WIDTH, height="stretch")
        st.metric(ctx.t("reviewtiles.open_actions"), counts["open_actions"], border=True,
                  width=TILE_WIDTH, height="stretch",
                  delta=ctx.t("reviewtiles.overdue", count=fmt_int(counts["overdue"], ctx.lang)),
                  delta_color="inverse" if counts["overdue"] else "off", delta_arrow="off")
        st.metric(ctx.t("pack.tile_opportunities"), summary["opportunities"], border=True,
                  width=TILE_WIDTH, height="stretch")

    st.header(f"1. {ctx.t('review.section_actions')}", divider="gray")
    st.caption(ctx.t("review.actions_caption"))
    errors_and_toasts("actions")
    if carried_views:  # this review's own actions are under their exceptions
        frame = actions_frame(carried_views)
        st.dataframe(frame, hide_index=True, width="stretch", key="actions-table")
        table_downloads(frame, f"actions-{week}", ctx.lang, key="actions")
    else:
        st.write(ctx.t("review.no_carried_actions"))
    open_actions = [a for a in carried_actions + new_actions
                    if a["status"] not in review.CLOSED_STATUSES]
    if not open_actions or final:
        return
    by_id = {a["action_id"]: a for a in open_actions}

    def update() -> None:
        state = st.session_state
        action_id = state["update-which"]
        status = state["update-status"] or "in_progress"
        change_from = changed_from(status)
        if change_from is False:
            return
        if saved("actions", review.update_action, action_id, status=status,
                 comment=state["update-comment"], week=week, change_from=change_from,
                 change_rebase=bool(state.get("update-change-rebase")),
                 confirm=lambda _: ctx.t("review.toast_action_updated", id=action_id,
                                         status=ctx.t(f"action.status_{status}"))):
            item_key = by_id[action_id].get("item_key")
            shown_items = st.session_state.get(SHOWN_ITEMS, set())
            st.rerun([ACTIONS_FRAGMENT, *([ITEM_ACTION_FRAGMENTS[item_key]]
                                          if ITEM_FRAGMENTS.get(item_key) in shown_items else [])])

    with st.expander(ctx.t("review.update_action"), icon=":material/published_with_changes:"), \
            st.form("update-action", border=False):
        st.selectbox(ctx.t("review.update_which"), list(by_id),
                     format_func=lambda i: f"{i} · {by_id[i]['title']}", key="update-which")
        st.segmented_control(
            ctx.t("review.update_status"), review.ACTION_STATUSES, default="in_progress",
            format_func=lambda s: ctx.t(f"action.status_{s}"), key="update-status")
        st.text_area(ctx.t("review.update_comment"), height=80,
                     help=ctx.t("review.update_comment_help"), key="update-comment")
        change_question()
        st.form_submit_button(ctx.t("review.update_save"), icon=":material/save:",
                              on_click=update)


actions_part()
minutes_part("actions")

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
minutes_part("changes")

# -- tables of many units (a province's) --------------------------------------------------------
TABLE_ROWS = 100  # a table of more units shows one part of the unit tree at a time
WHOLE_TOP = ""  # the part "the top levels" (the province and its cities)
DEPTHS = {row["code"]: row["depth"] for row in view["scorecard"]["rows"]}
NAMES = {row["code"]: row["unit"] for row in view["scorecard"]["rows"]}


def tree_parts(codes: list[str]) -> dict[str, list[int]]:
    """The parts of a table of units in tree order (DEPTHS): WHOLE_TOP the rows down to the
    first level that holds several units (the province and its cities), then each unit of that
    level with the units under it; the positions of each part's rows."""
    deepest = max(DEPTHS.values(), default=1)
    depths = [DEPTHS.get(code, deepest) for code in codes]
    level = next((depth for depth in sorted(set(depths)) if depths.count(depth) > 1),
                 max(depths))
    parts: dict[str, list[int]] = {WHOLE_TOP: []}
    current = None
    for position, (code, depth) in enumerate(zip(codes, depths, strict=True)):
        if depth <= level:
            parts[WHOLE_TOP].append(position)
            current = parts.setdefault(code, []) if depth == level else None
        if current is not None:
            current.append(position)
    return parts


def rows_shown(codes: list[str], key: str) -> list[int]:
    """The positions of the rows a table of units `codes` draws: all of them up to TABLE_ROWS;
    beyond, the part of the tree the reader picks (the table's download keeps every row; a
    province's 1,354 rows were sent to the browser on every rerun)."""
    if len(codes) <= TABLE_ROWS:
        return list(range(len(codes)))
    parts = tree_parts(codes)
    chosen = st.selectbox(
        ctx.t("reviewscope.table_part"), list(parts), key=key,
        help=ctx.t("reviewscope.table_part_help", limit=fmt_int(TABLE_ROWS, ctx.lang)),
        format_func=lambda code: ctx.t(
            "reviewscope.table_top" if code == WHOLE_TOP else "reviewscope.table_subtree",
            unit=NAMES.get(code, code), rows=fmt_int(len(parts[code]), ctx.lang)))
    return parts[chosen]


# -- 3. Scorecard ------------------------------------------------------------------------------
st.header(f"3. {ctx.t('review.section_scorecard')}", divider="gray")
st.caption(ctx.t("review.scorecard_caption"))
kpi_columns = [header["name"] for header in view["scorecard"]["headers"]]
scorecard_view = view["scorecard"]["rows"]
unit_column = ctx.t("pack.col_unit")
scorecard = pd.DataFrame([{
    unit_column: ("\u2003" * max(row["depth"] - 1, 0)) + row["unit"],
    **{name: (f"{cell['symbol']} {cell['value']}".strip() if cell else "—")
       for name, cell in zip(kpi_columns, row["cells"], strict=True)},
} for row in (scorecard_view[position] for position in rows_shown(
    [row["code"] for row in scorecard_view], "review-scorecard-part"))])
st.dataframe(scorecard, hide_index=True, width="stretch", key="scorecard-table",
             height=min(36 * (len(scorecard) + 1) + 4, 720))
st.caption(" · ".join([*(labels.status_text(status, ctx.lang)
                         for status in ("green", "amber", "red")),
                       ctx.t("pack.legend_no_target")]))


def scorecard_rows() -> pd.DataFrame:
    """The scorecard's file, one row per unit and KPI with numbers: built when it is asked for
    (a province's 10,000 rows cost a tenth of a second on every rerun)."""
    return pd.DataFrame([{
        ctx.t("pack.col_code"): row["unit_code"],
        ctx.t("pack.col_kpi"): labels.kpi_name(row["kpi"], ctx.lang),
        ctx.t("pack.col_value"): row["value"], ctx.t("pack.col_target"): row["target"],
        ctx.t("pack.col_status"): labels.status_text(row["status"], ctx.lang),
        ctx.t("pack.col_previous"): row["prev_value"], ctx.t("pack.col_change"): row["change"],
    } for row in agenda["scorecard"]])


table_downloads(scorecard_rows, f"scorecard-{week}", ctx.lang, key="scorecard")
minutes_part("scorecard")

# -- 4. Exceptions -----------------------------------------------------------------------------
st.header(f"4. {ctx.t('review.section_exceptions')}", divider="gray")
if not agenda["exceptions"]:
    st.write(ctx.t("review.no_exceptions"))
else:
    st.caption(ctx.t("review.exceptions_count",
                     count=fmt_int(len(agenda["exceptions"]), ctx.lang)))
# The units an action may be raised for: a city user's own (the engine refuses the others).
tree = load(metrics.unit_tree) if visible is None else visible_tree(ctx)
unit_names = ({CITY: ctx.t("review.city_unit")} if visible is None else {}) | dict(
    zip(tree["unit_code"], tree["name"], strict=True))
due_default = review.default_due_date(week, config.local_today())


def action_form(item: dict) -> None:
    """Raise an action from an exception: what, owning unit, responsible, due date, KPI. Saving
    reruns this item's actions part and the actions (section 1 and the tiles), not the page."""
    key = item["key"]

    def create() -> None:
        state = st.session_state
        if saved(f"item-{key}", review.create_action, week, title=state[f"title-{key}"],
                 unit_code=state[f"unit-{key}"], responsible=state[f"who-{key}"],
                 due_date=state[f"due-{key}"], kpi=state[f"kpi-{key}"], item_key=key,
                 confirm=lambda action_id: ctx.t("review.toast_action_created", id=action_id,
                                                 title=state[f"title-{key}"].strip())):
            st.rerun([ITEM_ACTION_FRAGMENTS[key], ACTIONS_FRAGMENT])

    box = st.expander(ctx.t("review.create_action"), icon=":material/add_task:",
                      key=f"action-open-{key}", on_change="rerun")
    if not box.open:  # built only while open: opening it reruns this item alone
        return
    with box, st.form(f"action-{key}", border=False):
        st.markdown(ctx.t("review.action_form_title", unit=md(unit_names.get(
            item["unit_code"], item["unit_code"])), kpi=labels.kpi_name(item["kpi"], ctx.lang)))
        st.text_input(ctx.t("action.title"), key=f"title-{key}")
        codes = list(unit_names)
        st.selectbox(ctx.t("action.unit"), codes, index=codes.index(item["unit_code"])
                     if item["unit_code"] in codes else 0,
                     format_func=lambda code: unit_names[code], key=f"unit-{key}")
        st.text_input(ctx.t("action.responsible"), key=f"who-{key}")
        st.date_input(ctx.t("action.due_date"), value=due_default, format=DATE_FORMAT,
                      key=f"due-{key}")
        kpis = [None, *KPIS]
        st.selectbox(ctx.t("action.kpi"), kpis, index=kpis.index(item["kpi"]),
                     format_func=lambda k: labels.kpi_name(k, ctx.lang) if k
                     else ctx.t("review.kpi_none"), key=f"kpi-{key}")
        st.form_submit_button(ctx.t("action.save"), type="primary", icon=":material/add:",
                              on_click=create)


def unit_changes_of(item: dict) -> list[dict]:
    """The interventions the agenda marks on an item's chart: those of its unit (issue 23)."""
    markers = (agenda.get("effects") or {}).get("markers") or []
    return [change for change in markers if change["unit_code"] == item["unit_code"]]


def rebase_toggle(item: dict, changes: list[dict]) -> bool:
    """The switch "re-baseline at changes" of an item's chart, when a change of its unit asks
    for it (off by default: the exception was found on the limits without it)."""
    if not interventions.rebase_dates_of(changes, item["kpi"]):
        return False
    return st.toggle(ctx.t("intervention.rebase_switch"), value=False,
                     key=f"rebase-{item['key']}", help=ctx.t("intervention.rebase_help"))


def exception_item(index: int, item: dict, shown: dict) -> None:
    """One exception: its facts, its control chart (drawn when opened; the first is open),
    the actions raised from it, the form for a new one, and its notes."""
    with st.container(border=True):
        st.subheader(f"{index}. {md(shown['unit'])} — {shown['kpi']}")
        st.markdown(ctx.t("review.facts", value=shown["value"], target=shown["target"],
                          previous=shown["prev_value"]) + " · "
                    + labels.status_markdown(item["status"], ctx.lang,
                                             has_value=not labels.is_missing(item["value"])))
        st.caption(f"{ctx.t('review.col_reason')}: {shown['reasons']}"
                   + (f" · {ctx.t('review.col_signals')}: {shown['signals']}"
                      if shown["signals"] else ""))
        chart_place = st.container()
        # The actions part before the chart is drawn into its place above: a fragment starts
        # with a deep copy of the page's element cursors, a drawn chart's among them. Once final,
        # nothing in it is saved, and it is no fragment at all.
        if final:
            item_actions(item)
        else:
            st.fragment(item_actions, key=ITEM_ACTION_FRAGMENTS[item["key"]])(item)
        if item.get("chart") and item["chart"].get("points"):
            chart = chart_place.expander(ctx.t("review.chart_open"), icon=":material/show_chart:",
                                         expanded=index == 1, key=f"chart-open-{item['key']}",
                                         on_change="rerun")
            if chart.open:
                changes = unit_changes_of(item)
                with chart:
                    rebased = rebase_toggle(item, changes)
                figure = built(pack.item_figure, item=item, lang=ctx.lang, title=ctx.t(
                    "review.chart_title", unit=shown["unit"], kpi=shown["kpi"]),
                    changes=changes, rebased=rebased)
                with chart:
                    show_chart(figure, ctx.lang,
                               name=file_name("review", week, item["unit_code"], item["kpi"]),
                               alt=ctx.t("pack.chart_alt", unit=shown["unit"], kpi=shown["kpi"]),
                               key=f"chart-{item['key']}")


def item_actions(item: dict) -> None:
    """The actions raised from one exception, the form for a new one, and its notes."""
    carried_actions, new_actions = current_actions()
    for action in carried_actions + new_actions:
        if action.get("item_key") == item["key"]:
            action = pack.action_view(action, ctx.lang)
            st.markdown(f":material/task_alt: **{action['id']}** · {md(action['title'])} · "
                        f"{md(action['responsible'])} · {action['due']} · "
                        f"{action['status_text']}")
    if not final:
        errors_and_toasts(f"item-{item['key']}")
        action_form(item)
    item_minutes(item["key"])


numbered = list(enumerate(zip(agenda["exceptions"], view["exceptions"], strict=True), start=1))
if len(numbered) > EXCEPTIONS_PER_PAGE:  # a page of exceptions at a time
    pages = list(range(0, len(numbered), EXCEPTIONS_PER_PAGE))

    def exceptions_range(start: int) -> str:
        return ctx.t("review.exceptions_range", first=fmt_int(start + 1, ctx.lang),
                     last=fmt_int(min(start + EXCEPTIONS_PER_PAGE, len(numbered)), ctx.lang))

    # A button a page while they fit on a row; a province's hundreds of pages in a list (275
    # buttons cost a fortieth of a second on every rerun, and did not fit on a screen).
    if len(pages) <= EXCEPTION_BUTTONS:
        first = st.segmented_control(ctx.t("review.exceptions_page"), pages, default=0,
                                     key="review-exceptions-page", format_func=exceptions_range)
    else:
        first = st.selectbox(ctx.t("review.exceptions_page"), pages,
                             key="review-exceptions-pages", format_func=exceptions_range)
    numbered = numbered[(first or 0):(first or 0) + EXCEPTIONS_PER_PAGE]
st.session_state[SHOWN_ITEMS] = {ITEM_FRAGMENTS[item["key"]] for _, (item, _) in numbered}
for index, (item, shown) in numbered:
    st.fragment(exception_item, key=ITEM_FRAGMENTS[item["key"]])(index, item, shown)

# -- 5. Satisfaction ---------------------------------------------------------------------------
st.header(f"5. {ctx.t('review.section_satisfaction')}", divider="gray")
satisfaction = view["satisfaction"]
if satisfaction and satisfaction["rows"]:
    st.caption(satisfaction["heading"])
    shown_rows = rows_shown([row["unit_code"] for row in agenda["satisfaction"]["rows"]],
                            "review-skm-part")
    columns = {name: ctx.t(f"pack.col_{name}") for name in (
        "unit", "respondents", "ikm", "grade", "prev_ikm", "min_sample", "sample_ok")}
    st.dataframe(pd.DataFrame([{
        columns["unit"]: row["unit"], columns["respondents"]: row["n"],
        columns["ikm"]: row["ikm"], columns["grade"]: row["grade"],
        columns["prev_ikm"]: row["prev_ikm"], columns["min_sample"]: row["min_sample"],
        columns["sample_ok"]: row["sample_text"]}
        for row in (satisfaction["rows"][position] for position in shown_rows)]),
        hide_index=True, width="stretch", key="skm-table")
else:
    st.write(ctx.t("review.no_satisfaction"))
minutes_part("satisfaction")

# -- 6. Opportunities --------------------------------------------------------------------------
st.header(f"6. {ctx.t('review.section_opportunities')}", divider="gray")
if view["opportunities"]:
    st.caption(ctx.t("review.opportunities_count",
                     count=fmt_int(len(view["opportunities"]), ctx.lang)))
    st.dataframe(pd.DataFrame([{
        ctx.t("pack.col_unit"): o["unit"], ctx.t("pack.col_kpi"): o["kpi"],
        ctx.t("pack.col_value"): o["value"], ctx.t("pack.col_target"): o["target"],
        ctx.t("pack.col_status"): o["status_text"], ctx.t("review.col_signals"): o["signals"]}
        for o in view["opportunities"]]), hide_index=True, width="stretch",
        key="opportunities-table")
else:
    st.write(ctx.t("review.no_opportunities"))
minutes_part("opportunities")

# -- 7. Effectiveness of actions taken (issue 23) ---------------------------------------------
def effectiveness_section() -> None:
    """Every change of the last 26 weeks (and older ones still too early) with its weekly
    verdict per KPI in plain words, and a small before/after chart (opened on demand)."""
    effects = view.get("effects")
    if effects is None:  # a record finalised before the section existed
        return
    st.header(f"7. {ctx.t('effect.section')}", divider="gray")
    st.caption(ctx.t("effect.caption"))
    if not effects:
        st.write(ctx.t("effect.none"))
    items = {item["key"]: item for item in agenda["effects"]["items"]}
    for shown in effects:
        item = items[shown["key"]]
        with st.container(border=True):
            st.subheader(md(shown["heading"]))
            st.caption(md(shown["meta"]))
            # A line a KPI (not a grid): the sentences stay whole on a tablet.
            st.markdown("\n".join(
                f"- **{row['verdict']}** — {md(row['words'])} · "
                + ctx.t("effect.weeks_before_after", before=row["before_n"],
                        after=row["after_n"]) for row in shown["rows"]))
            judged = [row for row in item["rows"] if row["verdict"] != "no_baseline"]
            if not judged:
                continue
            box = st.expander(ctx.t("effect.chart_open"), icon=":material/show_chart:",
                              key=f"effect-open-{item['key']}", on_change="rerun")
            if not box.open:
                continue
            with box:
                first = pack.chart_row(item)
                names = [row["kpi"] for row in judged]
                kpi = st.selectbox(ctx.t("effect.col_kpi"), names,
                                   index=names.index(first["kpi"]) if first else 0,
                                   format_func=lambda name: labels.kpi_name(name, ctx.lang),
                                   key=f"effect-kpi-{item['key']}")
                row = next(row for row in judged if row["kpi"] == kpi)
                kpi_name = labels.kpi_name(kpi, ctx.lang)
                figure = built(pack.effect_figure, item=item, row=row, lang=ctx.lang,
                               title=ctx.t("effect.chart_title", kpi=kpi_name), height=300)
                show_chart(figure, ctx.lang, name=file_name("effect", item["intervention_id"], kpi),
                           alt=ctx.t("effect.chart_alt", kpi=kpi_name, unit=shown["unit"],
                                     title=item["title"]),
                           key=f"effect-chart-{item['key']}")
    minutes_part("effects")


effectiveness_section()

# -- Minutes and finalising --------------------------------------------------------------------
@st.fragment(key="review-minutes")
def minutes_and_finalising() -> None:
    """Attendees and decisions (saving reruns only this part), and finalising (which reruns the
    page: it is then shown from the stored record)."""
    st.header(ctx.t("review.section_minutes"), divider="gray")
    noted = current_minutes()
    if final:
        st.markdown(f"**{ctx.t('review.attendees')}:** " + (md(", ".join(noted["attendees"])) or "—"))
        st.markdown(f"**{ctx.t('review.decisions')}:**")
        st.text(noted["decisions"] or "—")
        st.info(ctx.t("review.locked_note"), icon=":material/lock:")
        return
    errors_and_toasts("minutes")
    first_save_reruns_the_page()

    def save() -> None:
        note_first_save()
        saved("minutes", review.save_minutes, week, attendees=st.session_state["attendees"],
              decisions=st.session_state["decisions"],
              confirm=lambda _: ctx.t("review.toast_minutes_saved"))

    # No form: typed text reaches the server when the box is left, so Finalise can save it.
    with st.container(border=True):
        st.text_area(ctx.t("review.attendees"), value="\n".join(noted["attendees"]),
                     help=ctx.t("review.attendees_help"), key="attendees")
        st.text_area(ctx.t("review.decisions"), value=noted["decisions"], key="decisions")
        st.button(ctx.t("review.save_minutes"), icon=":material/save:", on_click=save,
                  key="save-minutes")
    confirmed = st.checkbox(ctx.t("review.finalise_confirm"), key="finalise-confirm")
    if view["incomplete"]:  # an incomplete week is finalised only when that is said, too
        confirmed = st.checkbox(ctx.t("partial.finalise_incomplete", week=week, coverage=ctx.t(
            "filters.units_reported", reported=fmt_number(covered["reported"], ctx.lang, 0),
            expected=fmt_number(covered["expected"], ctx.lang, 0))),
            key="finalise-incomplete") and confirmed
    if st.button(ctx.t("review.finalise"), type="primary", icon=":material/verified:",
                 disabled=not confirmed, help=ctx.t("review.finalise_help"), key="finalise"):
        try:
            save_pending_minutes()
            digest = review.finalise(ctx.store, week, by=ctx.user, data=data)
        except KinerjaError as error:
            st.error(error.localized(ctx.lang), icon=":material/error:")
            return
        forget_version()
        st.session_state.setdefault(TOASTS, []).append(
            ctx.t("review.finalised", week=week, digest=digest[:12]))
        st.rerun()


def save_pending_minutes() -> None:
    """Before finalising: save the minutes on screen that were not saved (never lose them)."""
    pending = pending_minutes()
    if "attendees" in pending or "decisions" in pending:
        review.save_minutes(ctx.store, week, attendees=pending.get("attendees"),
                            decisions=pending.get("decisions"), by=ctx.user)
    for key, item in pending["items"].items():
        review.save_item_minutes(ctx.store, week, key, note=item["note"],
                                 decision=item["decision"], by=ctx.user)


minutes_and_finalising()
errors_and_toasts("page")  # a confirmation queued before a full rerun (finalising)


# -- The pack ----------------------------------------------------------------------------------
def pack_files(*, week: str, lang: str) -> dict[str, bytes]:
    """The pack's three files of the review as it stands now."""
    current, _ = content_and_view(ctx.store.key, week, lang, data_version(), ctx.units)
    return pack.build_pack(current, lang).files()


@st.fragment(key="review-pack")
def pack_part() -> None:
    """Prepare the pack (PDF, Excel, HTML) of the review as it stands; reruns only this part."""
    st.header(ctx.t("review.pack_title"), divider="gray")
    st.caption(ctx.t("review.pack_caption"))
    pack_key = (week, ctx.lang, data_version())
    prepared = st.session_state.get("review_pack")
    if st.button(ctx.t("review.pack_prepare"), icon=":material/picture_as_pdf:",
                 key="pack-prepare"):
        with st.spinner(ctx.t("review.pack_preparing")):
            started = time.monotonic()
            files = pack_files(week=week, lang=ctx.lang)
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
                                   file_name=f"{stem}.{suffix}", mime=mime,
                                   icon=":material/download:", on_click="ignore",
                                   key=f"pack-{suffix}")


pack_part()
