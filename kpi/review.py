"""The weekly management review (ISO 9001 clause 9.3): agenda, action log, minutes, record.

Pure functions over the store. The agenda of an ISO week is built from the data:
(a) actions raised by earlier reviews and not yet closed (overdue ones first); (b) changes
since the last review (imports, new units, new targets); (c) the scorecard of every unit against
its targets, with the change from the week before; (d) exceptions: red statuses and SPC signals
of concern; (e) the SKM results of a quarter that closed in the week; (f) opportunities: SPC
signals of improvement.

A review is a draft until it is finalised. Finalising stores the whole review (agenda, the
numbers it showed, minutes, the actions as they stood) as one JSON document with its sha256;
from then on the review is opened from that JSON, never recomputed, and every change to it is
refused with `ReviewLocked`, here in the engine and not only in the UI.

Everything the agenda holds is plain JSON (ISO dates as text, floats, None), so that a live
draft and a finalised record have exactly the same shape and render the same way.

A review record belongs to a week and a scope: what its reviewers may see. `*` (WHOLE_STORE) is
the whole store's review, held by unscoped users (admins, the CLI, local mode) and made by
`python -m kpi review`; a city user (an analyst or reviewer added with units, kpi/scope.py) keeps
the record of their own units, keyed by their unit codes sorted and comma-joined (`K01`,
`K01,K02`: `scope_key`). The scope of a write is the author's own, read in the engine from the
users table (never from the page), so a city reviewer's minutes and finalising never touch the
province's record of the week, nor another city's, and the other way round. A scoped record's
agenda holds its units alone (`agenda_of_units`: their scorecard, exceptions, SKM results,
actions, new units and targets, changes and their effects, and the week's coverage; the
imports listed are the store's, a batch naming no unit); the record names its scope, so its sha256
covers it, and a record read under another scope than it names is refused. Rows written before
scopes existed (scope NULL) are the whole store's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from typing import Any

import pandas as pd

from kpi import (
    audit,
    config,
    effect,
    interventions,
    metrics,
    offtarget,
    precompute,
    reporting,
    skm,
    spc,
)
from kpi.errors import InputRejected, KinerjaError, ReviewLocked, StoreError
from kpi.periods import (
    last_complete_week,
    next_period,
    parse_week,
    period_start,
    week_bounds,
    week_label,
)
from kpi.reads import reads
from kpi.scope import require_in_scope, scope_roots, subtrees
from kpi.store import Reader, Store, Writer, one_unit_of_work
from kpi.users import parse_units
from kpi.vocabulary import CITY, KPIS

RECORD_FORMAT = 1
# The scope of the whole store's review. Rows written before scopes existed hold NULL: the
# queries compare `coalesce(scope, '*')`.
WHOLE_STORE = "*"
ACTION_STATUSES = ("open", "in_progress", "done", "dropped")
CLOSED_STATUSES = ("done", "dropped")
# Weeks of history the SPC readings and charts rest on: the overview page's weekly window
# (ui/filters.HISTORY_PERIODS), so that the review and the overview flag the same exceptions.
SPC_HISTORY_WEEKS = 26
RECENT_BATCHES = 20  # imports listed under "changes since the last review"
DEFAULT_ACTION_DAYS = 14


# -- scopes ----------------------------------------------------------------------------------
def scope_key(units: str | list[str] | tuple[str, ...] | None) -> str:
    """The scope a review record of a person with unit scope `units` belongs to: their unit
    codes sorted and comma-joined (`K01,K02`), or `*` for the whole store (no units)."""
    codes = sorted(set(parse_units(units)))
    return ",".join(codes) if codes else WHOLE_STORE


def author_scope(cur: Reader, who: str | None) -> str:
    """The scope of the review records `who` writes: their own unit scope (kpi.scope)."""
    return scope_key(scope_roots(cur, who))


def scope_units(cur: Reader, scope: str) -> frozenset[str] | None:
    """The units a record of `scope` covers (its roots' subtrees), or None for the whole store."""
    if scope == WHOLE_STORE:
        return None
    return frozenset(subtrees(cur, parse_units(scope)))


def scope_label(store: Reader, scope: str) -> str | None:
    """Whose record a scope's is, for people: `K01 — Kota Binjai` (each root with its name,
    comma-separated); None for the whole store's."""
    if scope == WHOLE_STORE:
        return None
    roots = parse_units(scope)
    names = dict(store.query_rows(
        "SELECT unit_code, name FROM units WHERE list_contains($roots, unit_code)",
        {"roots": list(roots)}))
    return ", ".join(f"{code} — {names[code]}" if names.get(code) else code for code in roots)


# -- weeks -------------------------------------------------------------------------------------
def review_day(week: str) -> dt.date:
    """The day the review of `week` looks from: the Monday after the week (an action due on or
    before the week's Sunday and still open is overdue)."""
    return parse_week(week) + dt.timedelta(days=7)


def default_due_date(week: str, today: dt.date) -> dt.date:
    """The due date a new action of `week`'s review starts with: DEFAULT_ACTION_DAYS after the
    meeting, so that the review two weeks on follows it up. The meeting is the review day, or
    today when the week is reviewed late: a week reviewed after its review day must not offer a
    date already past (or today, as happened two weeks after the review day, issue 22)."""
    return max(review_day(week), today) + dt.timedelta(days=DEFAULT_ACTION_DAYS)


def data_weeks(store: Reader) -> list[str]:
    """Every ISO week with data, newest first (empty for an empty store)."""
    first, last = metrics.data_range(store)
    if first is None or last is None:
        return []
    weeks = []
    day = first - dt.timedelta(days=first.weekday())
    while day <= last:
        weeks.append(week_label(day))
        day += dt.timedelta(days=7)
    return weeks[::-1]


@reads("kpi_values", "reviews")
@one_unit_of_work
def review_weeks(store: Reader, today: dt.date | None = None,
                 scope: str = WHOLE_STORE) -> list[str]:
    """The weeks a review can be opened for, newest first: every week with data, then (F7)
    the weeks after the data up to today's and any week that already has a review of `scope`,
    whose meetings go through the carried actions and keep minutes before the data arrives."""
    weeks = set(data_weeks(store))
    if not weeks:
        return []
    today = today or config.local_today()
    day = parse_week(max(weeks)) + dt.timedelta(days=7)
    while day <= today:
        weeks.add(week_label(day))
        day += dt.timedelta(days=7)
    first = min(weeks)
    weeks |= {row["week"] for row in reviews(store, scope) if row["week"] >= first}
    return sorted(weeks, reverse=True)


@reads("kpi_values", "unit_days")
@one_unit_of_work
def default_week(store: Reader, today: dt.date | None = None) -> str | None:
    """The week a review normally looks at: the last complete ISO week by `today`, or the last
    week with data when the data ends earlier (offices closed on Sunday still end a week)."""
    _, last = metrics.data_range(store)
    if last is None:
        return None
    today = today or config.local_today()
    week = min(week_label(last), last_complete_week(today - dt.timedelta(days=1)))
    # Not a week only a few units have reported (issue 12): the latest complete one before.
    reported = reporting.reported_units(store, period="week")
    starts = [start for start in sorted(set(reported["period_start"]), reverse=True)
              if start <= parse_week(week)]
    complete = reporting.latest_complete(reported, starts, "week")
    return week_label(complete) if complete else week


def _check_week_can_be_reviewed(store: Reader, week: str) -> tuple[dt.date, dt.date, dt.date]:
    """Monday, Sunday and the first day with data; a week before the data (or any week of an
    empty store) is refused. A week after the data can be reviewed (F7): its meeting still
    goes through the actions carried from earlier reviews and keeps minutes."""
    start, end = week_bounds(week)
    first, last = metrics.data_range(store)
    if first is None or last is None or end < first:
        if first is None:
            raise KinerjaError("review.error_no_data_yet", week=week)
        raise KinerjaError("review.error_no_data", week=week, first=str(first), last=str(last))
    return start, end, first


# -- plain JSON values -------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """`value` as JSON: dates as ISO text, NaN/NaT as None, numpy scalars as Python ones."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _day(value: Any) -> str | None:
    """An ISO date (text) from a date, timestamp or text; None for null."""
    value = _plain(value)
    return None if value is None else str(value)[:10]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [_plain(row) for row in frame.to_dict("records")]


# -- the agenda --------------------------------------------------------------------------------
def _scorecard(store: Reader, start: dt.date) -> list[dict]:
    """Every unit (the city first, then the unit tree) × KPI for the week: value, target,
    status, the value of the week before and the change."""
    frame = metrics.overview(store, period="week", period_start=start)
    return [_plain({
        "unit_code": row["unit_code"], "unit_name": row["name"], "depth": int(row["depth"]) + 1,
        "kpi": row["kpi"], "value": row["value"], "n": row["n"], "target": row["target"],
        "status": row["status"] or "none", "prev_value": row["prev_value"],
        "change": row["change"],
    }) for row in frame.to_dict("records")]


def _history_start(first: dt.date, start: dt.date) -> dt.date:
    """The first week of the SPC history window that ends with week `start`."""
    window = start - dt.timedelta(weeks=SPC_HISTORY_WEEKS - 1)
    return max(window, period_start(first, "week"))


def _charts(store: Reader, pairs: list[tuple[str, str]], date_from: dt.date,
            start: dt.date) -> dict[tuple[str, str], dict]:
    """The XmR chart data of agenda items {(unit, kpi): centre, ucl, lcl, trial, points} over
    the history window, from one query (the record stores it, so the chart can be redrawn)."""
    if not pairs:
        return {}
    values = metrics.kpi_values(store, period="week", date_from=date_from, date_to=start,
                                units=sorted({unit for unit, _ in pairs}),
                                kpis=sorted({kpi for _, kpi in pairs}))
    values = values.sort_values("period_start")
    found = {}
    for (unit, kpi), series in values.groupby(["unit_code", "kpi"], sort=False):
        if (unit, kpi) not in pairs:
            continue
        chart = spc.xmr(series["value"].tolist(), better=KPIS[kpi].better)
        found[(unit, kpi)] = _plain({
            "centre": chart.centre, "ucl": chart.ucl, "lcl": chart.lcl, "trial": chart.trial,
            "points": [{"period_start": _day(day), "value": value, "n": n, "signals": signals}
                       for day, value, n, signals in zip(series["period_start"], series["value"],
                                                         series["n"], chart.signals,
                                                         strict=True)]})
    return found


def _agenda_item(kind: str, row: dict, scorecard: dict, chart: dict | None) -> dict:
    unit, kpi = row["unit_code"], row["kpi"]
    reasons = {"exception": [reason for reason, present in (
        ("off_target", row["status"] == "red"),
        ("spc_concern", row["variation"] == "concern")) if present],
        "opportunity": ["spc_improvement"]}[kind]
    return {**scorecard[(unit, kpi)], "key": f"{kind}:{unit}:{kpi}", "reasons": reasons,
            "variation": _plain(row["variation"]), "signals": list(row["signals"] or []),
            "red_periods": _plain(row.get("red_periods")), "chart": chart}


def _exceptions(store: Reader, scorecard_rows: list[dict], first: dt.date,
                start: dt.date) -> tuple[list[dict], list[dict]]:
    """(exceptions, opportunities) of the week. Exceptions are kpi.offtarget's ranked list (red
    statuses, then SPC concerns; the overview page shows the same list), the city included;
    opportunities are SPC signals of improvement that are not red, volume KPIs left out."""
    date_from = _history_start(first, start)
    scorecard = {(row["unit_code"], row["kpi"]): row for row in scorecard_rows}
    history = offtarget.unit_kpi_history(store, period="week", period_start=start,
                                              date_from=date_from)
    ranked = offtarget.exceptions(store, period="week", period_start=start,
                                       date_from=date_from, include_city=True, history=history)
    # Volume KPIs (throughput, responses) rise and fall with demand, not with the service's
    # quality: their "improvements" are not opportunities to learn from.
    volume = [kpi for kpi, info in KPIS.items() if info.unit == "count"]
    improving = history[(history["variation"] == "improvement") & (history["status"] != "red")
                        & ~history["kpi"].isin(volume)]
    order = {key: index for index, key in enumerate(scorecard)}
    improving = sorted(improving.to_dict("records"),
                       key=lambda row: order.get((row["unit_code"], row["kpi"]), len(order)))
    ranked = ranked.to_dict("records")
    charts = _charts(store, [(row["unit_code"], row["kpi"]) for row in ranked], date_from, start)
    exceptions = [_agenda_item("exception", row, scorecard,
                               charts.get((row["unit_code"], row["kpi"]))) for row in ranked]
    opportunities = [_agenda_item("opportunity", row, scorecard, None) for row in improving]
    return exceptions, opportunities


def _quarter_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the quarter that contains `day`."""
    start = period_start(day, "quarter")
    return start, next_period(start, "quarter") - dt.timedelta(days=1)


def closed_quarter(week: str) -> tuple[dt.date, dt.date] | None:
    """The SKM quarter whose last day falls in `week`, or None."""
    start, end = week_bounds(week)
    quarter = _quarter_of(end)
    if start <= quarter[1] <= end:
        return quarter
    quarter = _quarter_of(start)
    return quarter if start <= quarter[1] <= end else None


def _satisfaction(store: Reader, week: str, names: dict, order: list[str]) -> dict:
    """IKM per unit of the quarter that closed in `week`; without one, the quarter to date."""
    end = week_bounds(week)[1]
    quarter = closed_quarter(week)
    closed = quarter is not None
    q_start, q_end = quarter if quarter is not None else (_quarter_of(end)[0], end)
    rows = skm.ikm_table(store, date_from=q_start, date_to=q_end)
    previous_start = _quarter_of(q_start - dt.timedelta(days=1))[0]
    before = skm.ikm_by_period(store, period="quarter", date_from=previous_start,
                               date_to=q_start - dt.timedelta(days=1))
    prev = {} if before.empty else dict(zip(before["unit_code"], before["ikm"], strict=True))
    rank = {code: index for index, code in enumerate(order)}
    rows = sorted(rows, key=lambda row: rank.get(row["unit_code"], len(rank)))
    return _plain({
        "closed": closed, "quarter_start": q_start, "quarter_end": q_end,
        "rows": [{"unit_code": row["unit_code"], "unit_name": names.get(row["unit_code"]),
                  "n": row["n"], "ikm": row["ikm_rounded"], "grade": row["grade"],
                  "min_sample": row["min_sample"], "sample_ok": row["sample_ok"],
                  "prev_ikm": prev.get(row["unit_code"])} for row in rows],
    })


def _previous_review(cur: Reader, week: str, scope: str) -> dict | None:
    rows = cur.query_df(
        "SELECT week, status, created_at, finalised_at FROM reviews "
        "WHERE week < $week AND coalesce(scope, '*') = $scope ORDER BY week DESC LIMIT 1",
        {"week": week, "scope": scope})
    return None if rows.empty else _records(rows)[0]


@one_unit_of_work
def _changes(cur: Reader, week: str, names: dict, scope: str) -> dict:
    """What changed since the last review of `scope`: imports, new units, targets that are
    new."""
    start, end = week_bounds(week)
    previous = _previous_review(cur, week, scope)
    since = None
    if previous:
        since = previous["finalised_at"] or previous["created_at"]
    batches = cur.query_df(
        "SELECT batch_id, kind, file_name, rows_in_file, rows_inserted, rows_replaced, "
        "loaded_by, loaded_at, status FROM batches "
        # Times are kept to the second: an import in the very second the last review was
        # made is listed (again) rather than missed.
        "WHERE $since IS NULL OR loaded_at >= $since::TIMESTAMP "
        "ORDER BY loaded_at DESC, batch_id DESC", {"since": since})
    batch_ids = [int(b) for b in batches["batch_id"]] if not batches.empty else []
    # The targets of the batches listed (all since the last review; the latest ones at the
    # first review), so that a targets import listed never comes with "no new targets".
    listed = batch_ids if previous else batch_ids[:RECENT_BATCHES]
    new_units = cur.query_df(
        "SELECT u.unit_code, u.name, u.type FROM units u "
        "WHERE $first IS FALSE AND list_contains($ids, u.batch_id) AND NOT EXISTS ("
        "  SELECT 1 FROM units_replaced r WHERE r.unit_code = u.unit_code "
        "  AND r.replaced_by = u.batch_id) ORDER BY u.unit_code",
        {"first": previous is None, "ids": batch_ids})
    targets = cur.query_df(
        "SELECT unit_code, kpi, target, valid_from, valid_to, amber_pct FROM targets "
        "WHERE valid_from BETWEEN $start AND $end OR list_contains($ids, batch_id) "
        "ORDER BY valid_from, unit_code, kpi",
        {"start": start, "end": end, "ids": listed})
    targets = targets.assign(unit_name=targets["unit_code"].map(names))
    return _plain({
        "previous_week": previous["week"] if previous else None,
        "since": since,
        "batch_count": len(batch_ids),
        "batches": _records(batches.head(RECENT_BATCHES)),
        "new_units": _records(new_units),
        "new_targets": _records(targets),
    })


@reads("events", "kpi_values", "meta", "survey_responses", "targets", "unit_days", "units")
@one_unit_of_work  # one snapshot: an import landing meanwhile never mixes its numbers in
def data_agenda(store: Reader, week: str) -> dict:
    """The parts of `week`'s agenda computed from the KPI data alone (scorecard, exceptions
    with their charts, coverage, SKM results, opportunities): the costly part, which changes
    only with an import, a rollback or a target edit, never with the meeting's own writes
    (actions, minutes), so the dashboard caches it per KPI data version (kpi.precompute)."""
    version = precompute.data_version(store)
    start, end, first = _check_week_can_be_reviewed(store, week)
    scorecard = _scorecard(store, start)
    names = {row["unit_code"]: row["unit_name"] for row in scorecard}
    exceptions, opportunities = _exceptions(store, scorecard, first, start)
    return {
        "kpi_data_version": version,
        "week": week, "week_start": start.isoformat(), "week_end": end.isoformat(),
        "review_day": review_day(week).isoformat(),
        "coverage": _coverage(store, week),
        "scorecard": scorecard,
        "exceptions": exceptions,
        "satisfaction": _satisfaction(store, week, names, list(names)),
        "opportunities": opportunities,
    }


def _coverage(store: Reader, week: str, units: frozenset[str] | None = None) -> dict:
    """How many units reported in `week` (among `units`, None for every unit): reported,
    expected, complete."""
    start, end = week_bounds(week)
    reported = reporting.reported_units(store, period="week",
                                        date_from=start - dt.timedelta(weeks=reporting.LOOKBACK),
                                        date_to=end + dt.timedelta(days=1))
    if units is not None:
        reported = reported[reported["unit_code"].isin(units)]
    covered = reporting.coverage(reported, start, "week")
    return {"reported": covered.reported, "expected": covered.expected,
            "complete": covered.complete}


_UNIT_ROWS = ("scorecard", "exceptions", "opportunities", "carried_actions", "new_actions")


def agenda_of_units(agenda: dict, units: set[str] | frozenset[str]) -> dict:
    """`agenda` (a data_agenda, build_agenda or a record's agenda) with only the rows, items and
    actions of `units`: a city user's view of the week (issue 26)."""
    shown: dict[str, Any] = {key: [row for row in agenda[key] if row.get("unit_code") in units]
                             for key in _UNIT_ROWS if key in agenda}
    if "satisfaction" in agenda:
        shown["satisfaction"] = {**agenda["satisfaction"], "rows": [
            row for row in agenda["satisfaction"]["rows"] if row.get("unit_code") in units]}
    if agenda.get("changes"):  # the imports stay: a batch names no unit
        changes = agenda["changes"]
        shown["changes"] = {
            **changes,
            "new_units": [row for row in changes["new_units"] if row["unit_code"] in units],
            # A target of every unit (`*`) holds for theirs too.
            "new_targets": [row for row in changes["new_targets"]
                            if row["unit_code"] in units or row["unit_code"] == CITY]}
    if agenda.get("effects"):  # their units' changes, not the store's (`*`) nor other cities'
        effects = agenda["effects"]
        shown["effects"] = {
            **effects,
            "items": [item for item in effects["items"] if item["unit_code"] in units],
            "markers": [change for change in effects["markers"] if change["unit_code"] in units]}
    return {**agenda, **shown}


def build_agenda(store: Reader, week: str, data: dict | None = None,
                 scope: str = WHOLE_STORE) -> dict:
    """The agenda of `week`'s review of `scope`, built from the data as it is now (see the
    module doc): a scoped review's holds the rows, items and actions of its units alone.
    `data`: `data_agenda(store, week)` when the caller already holds it for the current data
    (of the whole store or of the scope's units)."""
    data = data_agenda(store, week) if data is None else data
    names = {row["unit_code"]: row["unit_name"] for row in data["scorecard"]}
    actions = list_actions(store, week=week)
    agenda = {
        **{key: data[key] for key in ("week", "week_start", "week_end", "review_day",
                                      "coverage")},
        "carried_actions": [a for a in actions if a["raised_week"] < week],
        "new_actions": [a for a in actions if a["raised_week"] == week],
        "changes": _changes(store, week, names, scope),
        **{key: data[key] for key in ("scorecard", "exceptions", "satisfaction",
                                      "opportunities")},
        # Issue 23: the verdicts on the changes made (interventions are no KPI data: not
        # cached with the data part); the record pins them as they were.
        "effects": _plain(effect.review_section(store, week_start=parse_week(week),
                                                week_end=week_bounds(week)[1])),
    }
    units = scope_units(store, scope)
    if units is None:
        return agenda
    # A scope's week is complete when its own units have reported.
    return {**agenda_of_units(agenda, units), "coverage": _coverage(store, week, units)}


# -- actions -----------------------------------------------------------------------------------
def _history(cur: Reader, action_ids: list[int]) -> dict[int, list[dict]]:
    if not action_ids:
        return {}
    frame = cur.query_df(
        "SELECT action_id, week, status, comment, updated_at, updated_by FROM action_updates "
        "WHERE list_contains(?, action_id) ORDER BY updated_at, rowid", [action_ids])
    history: dict[int, list[dict]] = {}
    for row in _records(frame):
        history.setdefault(int(row.pop("action_id")), []).append(row)
    return history


@reads("action_updates", "actions", "units")
@one_unit_of_work
def list_actions(cur: Reader, *, week: str | None = None, unit: str | None = None,
                 open_only: bool = False) -> list[dict]:
    """Actions with their history, overdue flag and unit name.

    With `week`: what that review shows: actions raised in that week or earlier that are still
    open, or that were closed during that review; overdue ones first, then by due date. With
    `unit`: that unit's actions. `open_only`: neither done nor dropped.
    """
    as_of = review_day(week) if week else config.local_today()
    frame = cur.query_df(
        "SELECT a.*, u.name AS unit_name FROM actions a "
        "LEFT JOIN units u ON u.unit_code = a.unit_code "
        "WHERE ($week IS NULL OR a.raised_week <= $week) "
        "  AND ($unit IS NULL OR a.unit_code = $unit) "
        "  AND (NOT $open_only OR a.status NOT IN ('done', 'dropped')) "
        "  AND ($week IS NULL OR a.status NOT IN ('done', 'dropped') OR EXISTS ("
        "       SELECT 1 FROM action_updates x WHERE x.action_id = a.action_id "
        "       AND x.week = $week AND x.status IN ('done', 'dropped')))",
        {"week": week, "unit": unit, "open_only": open_only})
    actions = _records(frame)
    history = _history(cur, [int(a["action_id"]) for a in actions])
    for action in actions:
        action["due_date"] = _day(action["due_date"])
        action["overdue"] = (action["status"] not in CLOSED_STATUSES
                             and dt.date.fromisoformat(action["due_date"]) < as_of)
        action["history"] = history.get(int(action["action_id"]), [])
    actions.sort(key=lambda a: (not a["overdue"], a["status"] in CLOSED_STATUSES,
                                a["due_date"], a["action_id"]))
    return actions


def _require(value: str | None, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InputRejected(f"action.error_{field}")
    return text


def create_action(store: Store, week: str, *, title: str, unit_code: str, responsible: str,
                  due_date: dt.date, kpi: str | None = None, item_key: str | None = None,
                  by: str | None = None) -> int:
    """Record a new action raised in `week`'s review; returns its id. Refused (ReviewLocked)
    once that review is finalised."""
    parse_week(week)
    title = _require(title, "title")
    responsible = _require(responsible, "responsible")
    if not isinstance(due_date, dt.date):
        raise InputRejected("action.error_due_date")
    if kpi is not None and kpi not in KPIS:
        raise InputRejected("action.error_kpi", kpi=kpi)
    with store.transaction() as cur:
        _open_review(cur, week, by)
        known = unit_code == CITY or cur.query_value(
            f"SELECT count(*) FROM {cur.as_begun('units')} WHERE unit_code = ?",  # noqa: S608
            [unit_code])
        if not known:
            raise InputRejected("action.error_unit", unit=unit_code)
        require_in_scope(cur, by, [unit_code])
        action_id = store.next_id(cur, "actions", "action_id")
        now = config.local_now()
        cur.execute(
            "INSERT INTO actions (action_id, title, unit_code, responsible, due_date, kpi, "
            "raised_week, item_key, status, created_at, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
            [action_id, title, unit_code, responsible, due_date, kpi, week, item_key, now, by])
        cur.execute(
            "INSERT INTO action_updates (action_id, week, status, comment, updated_at, "
            "updated_by) VALUES (?, ?, 'open', NULL, ?, ?)", [action_id, week, now, by])
        audit.record(cur, by, "action.create", f"action {action_id}", {
            "week": week, "title": title, "unit_code": unit_code, "responsible": responsible,
            "due_date": due_date.isoformat(), "kpi": kpi, "item_key": item_key})
    return action_id


def update_action(store: Store, action_id: int, *, status: str, comment: str,
                  week: str | None = None, by: str | None = None,
                  change_from: dt.date | None = None, change_rebase: bool = False) -> None:
    """Change an action's status with a comment; the history keeps every change. `week` is the
    review it is done in (refused once that review is finalised); None outside a review.
    `change_from`: closing it, a change was made from that date: recorded in the same
    transaction as an intervention of the action's unit and KPI (kpi.interventions)."""
    if status not in ACTION_STATUSES:
        raise InputRejected("action.error_status", status=status)
    comment = _require(comment, "comment")
    with store.transaction() as cur:
        if week is not None:
            _open_review(cur, week, by)
        unit_code = cur.query_value(
            f"SELECT unit_code FROM {cur.as_begun('actions')} WHERE action_id = ?",  # noqa: S608
            [action_id])
        if unit_code is None:
            raise InputRejected("action.error_missing", action=action_id)
        require_in_scope(cur, by, [unit_code])
        cur.execute("UPDATE actions SET status = ? WHERE action_id = ?", [status, action_id])
        cur.execute(
            "INSERT INTO action_updates (action_id, week, status, comment, updated_at, "
            "updated_by) VALUES (?, ?, ?, ?, ?, ?)",
            [action_id, week, status, comment, config.local_now(), by])
        audit.record(cur, by, "action.update", f"action {action_id}",
                     {"week": week, "status": status, "comment": comment})
        if change_from is not None:
            _record_change(cur, action_id, change_from, change_rebase, by)


def _record_change(cur: Writer, action_id: int, day: dt.date, rebase: bool, by: str | None) -> None:
    """The change an action made, as an intervention of its unit and KPI titled as the action
    (issue 23)."""
    unit_code, title, kpi = cur.query_rows(
        "SELECT unit_code, title, kpi FROM actions WHERE action_id = ?", [action_id])[0]
    interventions.record(cur, unit_code=unit_code, date=day, title=title, kpi=kpi,
                         rebase=rebase, action_id=action_id, by=by)


# -- reviews, minutes, the record --------------------------------------------------------------
def _ensure_editable(cur: Reader, week: str, scope: str) -> str | None:
    """The status of `scope`'s review of `week` (None while it has none yet); ReviewLocked once
    it is final."""
    status = cur.query_value(
        f"SELECT status FROM {cur.as_begun('reviews')} "  # noqa: S608
        "WHERE week = $week AND coalesce(scope, '*') = $scope",
        {"week": week, "scope": scope})
    if status == "final":
        raise ReviewLocked(week=week)
    return status


def _open_review(cur: Writer, week: str, by: str | None) -> str:
    """Refuse (ReviewLocked) a write to `by`'s finalised review of `week`; begin the draft when
    there is none yet. Returns the review's scope (`by`'s own). One read of the reviews table:
    each table a statement reads on the lake costs a catalog lookup."""
    scope = author_scope(cur, by)
    if _ensure_editable(cur, week, scope) is None:
        cur.execute(
            "INSERT INTO reviews (week, week_start, status, created_at, created_by, scope) "
            "VALUES (?, ?, 'draft', ?, ?, ?)",
            [week, parse_week(week), config.local_now(), by, scope])
    return scope


@one_unit_of_work
def get_review(store: Reader, week: str, scope: str = WHOLE_STORE) -> dict:
    """The state of `scope`'s review of `week`: status (none | draft | final), attendees (list),
    decisions, who finalised it and when, and the record's checksum."""
    parse_week(week)
    rows = store.query_df(
        "SELECT status, attendees, decisions, created_at, created_by, finalised_at, "
        "finalised_by, record_sha256 FROM reviews "
        "WHERE week = $week AND coalesce(scope, '*') = $scope",
        {"week": week, "scope": scope})
    if rows.empty:
        return {"week": week, "scope": scope, "status": "none", "attendees": [],
                "decisions": "", "finalised_at": None, "finalised_by": None,
                "record_sha256": None}
    review = _records(rows)[0]
    review["week"] = week
    review["scope"] = scope
    review["attendees"] = _attendee_list(review["attendees"])
    review["decisions"] = review["decisions"] or ""
    return review


def _attendee_list(text: str | list | None) -> list[str]:
    lines = text if isinstance(text, list) else (text or "").replace(";", "\n").splitlines()
    return [line.strip() for line in lines if line and line.strip()]


def save_minutes(store: Store, week: str, *, attendees: str | list[str] | None = None,
                 decisions: str | None = None, by: str | None = None) -> None:
    """Record the attendees (one a line) and the meeting's decisions in `by`'s review of `week`
    (their scope's). ReviewLocked once final."""
    parse_week(week)
    with store.transaction() as cur:
        scope = _open_review(cur, week, by)
        where = {"week": week, "scope": scope}
        if attendees is not None:
            cur.execute("UPDATE reviews SET attendees = $text "
                        "WHERE week = $week AND coalesce(scope, '*') = $scope",
                        {**where, "text": "\n".join(_attendee_list(attendees))})
        if decisions is not None:
            cur.execute("UPDATE reviews SET decisions = $text "
                        "WHERE week = $week AND coalesce(scope, '*') = $scope",
                        {**where, "text": decisions.strip()})
        audit.record(cur, by, "review.minutes", f"week {week}", {
            "scope": scope,
            "attendees": None if attendees is None else _attendee_list(attendees),
            "decisions": None if decisions is None else decisions.strip()})


def save_item_minutes(store: Store, week: str, item_key: str, *, note: str = "", decision: str = "",
                      by: str | None = None) -> None:
    """Record the note and decision on one agenda item of `by`'s review of `week` (their
    scope's). ReviewLocked once final."""
    parse_week(week)
    note, decision = (note or "").strip(), (decision or "").strip()
    with store.transaction() as cur:
        scope = _open_review(cur, week, by)
        cur.execute(
            "DELETE FROM review_minutes "
            "WHERE week = $week AND item_key = $item AND coalesce(scope, '*') = $scope",
            {"week": week, "item": item_key, "scope": scope})
        if note or decision:
            cur.execute(
                "INSERT INTO review_minutes (week, item_key, note, decision, updated_at, "
                "updated_by, scope) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [week, item_key, note, decision, config.local_now(), by, scope])
        audit.record(cur, by, "review.item_minutes", f"week {week}", {
            "scope": scope, "item_key": item_key, "note": note, "decision": decision})


@reads("review_minutes", "reviews")
@one_unit_of_work
def minutes(store: Reader, week: str, scope: str = WHOLE_STORE) -> dict:
    """attendees, decisions and the notes per agenda item {item_key: {note, decision}} of
    `scope`'s review of `week`."""
    review = get_review(store, week, scope)
    rows = store.query_df(
        "SELECT item_key, note, decision FROM review_minutes "
        "WHERE week = $week AND coalesce(scope, '*') = $scope ORDER BY item_key",
        {"week": week, "scope": scope})
    items = {row["item_key"]: {"note": row["note"] or "", "decision": row["decision"] or ""}
             for row in _records(rows)}
    return {"attendees": review["attendees"], "decisions": review["decisions"], "items": items}


def _canonical(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False)


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def finalise(store: Store, week: str, *, by: str | None = None, data: dict | None = None) -> str:
    """Store `by`'s review of `week` (their scope's) as its immutable record (agenda, numbers,
    minutes, actions as they stand) and lock it; returns the record's sha256. ReviewLocked when
    already final. The other scopes' reviews of the week stay as they are. `data`:
    `data_agenda(store, week)` of the current data, when the caller holds it (of the whole
    store or of the scope's units)."""
    # Everything the record holds (the numbers, the actions, the minutes) is read in one reading,
    # at one snapshot, which the record pins: reopened, its agenda is read from that snapshot
    # again (`pinned_agenda`), whatever was imported since. A `data` part computed from other
    # KPI data than the snapshot's is not used.
    with store.reading() as cur:
        scope = author_scope(cur, by)
        _ensure_editable(cur, week, scope)
        snapshot = Store.current_snapshot(cur)
        if data is not None and data.get("kpi_data_version") != precompute.data_version(cur):
            data = None
        agenda = build_agenda(cur, week, data, scope)
        noted = minutes(cur, week, scope)
        label = scope_label(cur, scope)
        # The audit trail's head as the record is made: printed with it, so that a later edit
        # of the rows before shows against the paper.
        audit_head = audit.head(cur)
    now = config.local_now()
    record = {
        "format": RECORD_FORMAT,
        "city": config.city_name(),
        "week": week,
        # Whose review it is, inside what the checksum covers (see load_record).
        "scope": scope,
        "scope_label": label,
        "agenda": agenda,
        "minutes": noted,
        "review": {"status": "final", "finalised_at": _plain(now), "finalised_by": by,
                   "snapshot_id": snapshot, "audit_head": audit_head},
    }
    text = _canonical(record)
    digest = checksum(text)
    with store.transaction() as cur:
        # Again, inside the transaction: nobody finalised meanwhile (nor changed `by`'s scope).
        if _open_review(cur, week, by) != scope:
            raise ReviewLocked(week=week)
        cur.execute(
            "UPDATE reviews SET status = 'final', finalised_at = $now, finalised_by = $by, "
            "record_json = $text, record_sha256 = $digest, snapshot_id = $snapshot "
            "WHERE week = $week AND coalesce(scope, '*') = $scope",
            {"now": now, "by": by, "text": text, "digest": digest, "snapshot": snapshot,
             "week": week, "scope": scope})
        audit.record(cur, by, "review.finalise", f"week {week}",
                     {"record_sha256": digest, "scope": scope})
    return digest


def pinned_snapshots(store: Reader) -> set[int]:
    """The lake snapshots finalised reviews (of every scope) read their numbers from (kept by
    `maintain`)."""
    return {int(snapshot) for (snapshot,) in store.query_rows(
        "SELECT snapshot_id FROM reviews WHERE status = 'final' AND snapshot_id IS NOT NULL")}


def pinned_agenda(store: Store, week: str, scope: str = WHOLE_STORE) -> dict | None:
    """The agenda of `scope`'s finalised review of `week` computed afresh at its pinned snapshot
    (None when the review is not final or pins none): equal to the stored record's while the
    data it was made from is kept."""
    row = store.query_rows(
        "SELECT snapshot_id FROM reviews "
        "WHERE week = $week AND coalesce(scope, '*') = $scope AND status = 'final'",
        {"week": week, "scope": scope})
    if not row or row[0][0] is None:
        return None
    return json.loads(_canonical(build_agenda(store.at_snapshot(int(row[0][0])), week,
                                              scope=scope)))


def load_record(store: Reader, week: str, scope: str = WHOLE_STORE) -> dict | None:
    """The finalised record of `scope`'s review of `week` exactly as stored (None while not
    finalised); a record whose checksum no longer matches, or that names another scope than
    its row (a record made before scopes names none: the whole store's), is refused."""
    parse_week(week)
    row = store.query_rows(
        "SELECT record_json, record_sha256 FROM reviews "
        "WHERE week = $week AND coalesce(scope, '*') = $scope AND status = 'final'",
        {"week": week, "scope": scope})
    if not row:
        return None
    text, digest = row[0]
    if checksum(text) != digest:
        raise StoreError("review.error_checksum", week=week)
    record = json.loads(text)
    if record.get("scope", WHOLE_STORE) != scope:
        raise StoreError("reviewscope.error_scope", week=week, scope=scope,
                         record=record.get("scope", WHOLE_STORE))
    record["review"]["record_sha256"] = digest
    return record


@one_unit_of_work  # one snapshot, as data_agenda
def review_content(store: Reader, week: str, data: dict | None = None,
                   scope: str = WHOLE_STORE) -> dict:
    """What the page and the pack show for `scope`'s review of `week`: its stored record once
    finalised, or the live agenda with the draft minutes, in the same shape. `data`: as for
    build_agenda."""
    record = load_record(store, week, scope)
    if record is not None:
        return record
    review = get_review(store, week, scope)
    # As a record would hold it (through its canonical JSON): the draft's items are then equal
    # to the finalised record's, and so are the figures built from them (cached once).
    return json.loads(_canonical({
        "format": RECORD_FORMAT,
        "city": config.city_name(),
        "week": week,
        "scope": scope,
        "scope_label": scope_label(store, scope),
        "agenda": build_agenda(store, week, data, scope),
        "minutes": minutes(store, week, scope),
        "review": {"status": review["status"], "finalised_at": None, "finalised_by": None,
                   "record_sha256": None, "audit_head": audit.head(store)},
    }))


@reads("reviews")
def reviews(store: Reader, scope: str = WHOLE_STORE) -> list[dict]:
    """Every review of `scope`: week, status, finalised_at, finalised_by, newest first."""
    return _records(store.query_df(
        "SELECT week, status, finalised_at, finalised_by FROM reviews "
        "WHERE coalesce(scope, '*') = $scope ORDER BY week DESC", {"scope": scope}))
