"""Interventions: dated changes at one unit (issue 23; contract §2 "Interventions and their
effect").

An intervention is a date, a title (kept exactly as typed), optionally one KPI (else every KPI
of the unit), whether it re-baselines the unit's charts (`rebase`), and optionally the review
action it carries out. Every write runs in one transaction, on the audit trail, within the
writer's unit scope (kpi.scope); a viewer writes nothing. The charts mark them; kpi.spc starts a
segment at the rebasing ones; kpi.effect judges what followed each.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from kpi import audit, config
from kpi.errors import InputRejected, KinerjaError
from kpi.i18n import fmt_date, t
from kpi.reads import reads
from kpi.scope import require_in_scope
from kpi.store import Reader, Store, Writer, one_unit_of_work
from kpi.users import get_user
from kpi.vocabulary import CITY, KPIS

TITLE_MAX = 200  # characters: a title is a line on a chart and an agenda, not a report
COLUMNS = ["intervention_id", "unit_code", "date", "title", "kpi", "rebase", "action_id",
           "recorded_by", "recorded_at"]


class UnknownIntervention(KinerjaError):
    """An intervention id the store does not hold (a bad argument of a read)."""

    key = "intervention.error_missing"


def parse_day(value: str | dt.date | None) -> dt.date:
    """An intervention's date from a date or `YYYY-MM-DD`; one sentence for an impossible one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InputRejected("intervention.error_date", text=str(value or "")) from None


def _clean_title(title: str | None) -> str:
    """The title as typed (a blank one refused; only a title of blanks is empty)."""
    text = "" if title is None else str(title)
    if not text.strip():
        raise InputRejected("intervention.error_title")
    if len(text) > TITLE_MAX:
        raise InputRejected("intervention.error_title_long", limit=TITLE_MAX)
    return text


def _require_writer(cur: Reader, who: str | None, unit_code: str) -> None:
    """Refuse a viewer, and anyone whose unit scope does not hold `unit_code`."""
    user = get_user(cur, who)
    if user is not None and user.role == "viewer":
        raise InputRejected("intervention.error_viewer")
    require_in_scope(cur, who, [unit_code])  # the city `*` lies in no scoped user's subtree


def add(store: Store, *, unit_code: str, date: str | dt.date, title: str,
        kpi: str | None = None, rebase: bool = False, action_id: int | None = None,
        by: str | None = None) -> int:
    """Record an intervention; returns its id."""
    with store.transaction() as cur:
        return record(cur, unit_code=unit_code, date=date, title=title, kpi=kpi, rebase=rebase,
                      action_id=action_id, by=by)


def record(cur: Writer, *, unit_code: str, date: str | dt.date, title: str, kpi: str | None = None,
           rebase: bool = False, action_id: int | None = None, by: str | None = None) -> int:
    """`add` on the cursor of a write transaction of the caller's (closing a review action
    records its change in the same transaction); returns the new id."""
    day = parse_day(date)
    text = _clean_title(title)
    kpi = kpi or None
    if kpi is not None and kpi not in KPIS:
        raise InputRejected("intervention.error_kpi", kpi=kpi, kpis=", ".join(KPIS))
    unit_code = str(unit_code or "").strip()
    known = unit_code == CITY or cur.query_value(
        f"SELECT count(*) FROM {cur.as_begun('units')} WHERE unit_code = ?",  # noqa: S608
        [unit_code])
    if not known:
        raise InputRejected("intervention.error_unit", unit=unit_code)
    _require_writer(cur, by, unit_code)
    if action_id is not None and not cur.query_value(
            f"SELECT count(*) FROM {cur.as_begun('actions')} WHERE action_id = ?",  # noqa: S608
            [action_id]):
        raise InputRejected("intervention.error_action", action=action_id)
    new_id = Store.next_id(cur, "interventions", "intervention_id")
    cur.execute(
        "INSERT INTO interventions (intervention_id, unit_code, date, title, kpi, rebase, "
        "action_id, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [new_id, unit_code, day, text, kpi, bool(rebase), action_id, by or audit.cli_user(),
         config.local_now()])
    audit.record(cur, by, "intervention.add", f"intervention {new_id}", {
        "unit_code": unit_code, "date": day.isoformat(), "title": text, "kpi": kpi,
        "rebase": bool(rebase), "action_id": action_id})
    return new_id


def _existing(cur: Reader, intervention_id: int) -> dict[str, Any]:
    rows = cur.query_df(
        f"SELECT * FROM {cur.as_begun('interventions')} WHERE intervention_id = ?",  # noqa: S608
        [int(intervention_id)])
    if rows.empty:
        raise InputRejected("intervention.error_missing", id=intervention_id)
    return rows.to_dict("records")[0]


def remove(store: Store, intervention_id: int, *, by: str | None = None) -> None:
    """Delete an intervention (the audit trail keeps what it was)."""
    with store.transaction() as cur:
        row = _existing(cur, intervention_id)
        _require_writer(cur, by, row["unit_code"])
        cur.execute("DELETE FROM interventions WHERE intervention_id = ?", [int(intervention_id)])
        audit.record(cur, by, "intervention.remove", f"intervention {intervention_id}", {
            "unit_code": row["unit_code"], "date": str(row["date"])[:10], "title": row["title"],
            "kpi": row["kpi"], "rebase": bool(row["rebase"]), "action_id": _plain_id(row)})


def edit_title(store: Store, intervention_id: int, title: str, *, by: str | None = None) -> None:
    """Change an intervention's title (a typo; the change itself is on the audit trail)."""
    text = _clean_title(title)
    with store.transaction() as cur:
        row = _existing(cur, intervention_id)
        _require_writer(cur, by, row["unit_code"])
        cur.execute("UPDATE interventions SET title = ? WHERE intervention_id = ?",
                    [text, int(intervention_id)])
        audit.record(cur, by, "intervention.edit", f"intervention {intervention_id}",
                     {"title": text, "previous_title": row["title"]})


def _plain_id(row: dict) -> int | None:
    value = row.get("action_id")
    return None if value is None or pd.isna(value) else int(value)


@reads("interventions")
@one_unit_of_work
def list_interventions(cur: Reader, *, unit: str | None = None, since: dt.date | None = None,
                       until: dt.date | None = None) -> list[dict[str, Any]]:
    """Interventions (of `unit` alone, when given; dated in [since, until]), oldest first:
    intervention_id, unit_code, date (ISO), title, kpi, rebase, action_id, recorded_by,
    recorded_at (ISO, seconds)."""
    frame = cur.query_df(
        "SELECT * FROM interventions WHERE ($unit IS NULL OR unit_code = $unit) "
        "AND ($since IS NULL OR date >= $since) AND ($until IS NULL OR date <= $until) "
        "ORDER BY date, intervention_id", {"unit": unit, "since": since, "until": until})
    return [_record(row) for row in frame.to_dict("records")]


@one_unit_of_work
def get(cur: Reader, intervention_id: int) -> dict[str, Any]:
    """One intervention as `list_interventions` gives it; UnknownIntervention when absent."""
    frame = cur.query_df("SELECT * FROM interventions WHERE intervention_id = ?",
                         [int(intervention_id)])
    if frame.empty:
        raise UnknownIntervention(id=intervention_id)
    return _record(frame.to_dict("records")[0])


def _record(row: dict[str, Any]) -> dict[str, Any]:
    recorded = row["recorded_at"]
    return {
        "intervention_id": int(row["intervention_id"]),
        "unit_code": row["unit_code"],
        "date": str(row["date"])[:10],
        "title": row["title"],
        "kpi": None if row["kpi"] is None or pd.isna(row["kpi"]) else row["kpi"],
        "rebase": bool(row["rebase"]),
        "action_id": _plain_id(row),
        "recorded_by": row["recorded_by"],
        "recorded_at": pd.Timestamp(recorded).isoformat(sep=" ", timespec="seconds"),
    }


@one_unit_of_work
def rebase_dates(cur: Reader, *, unit: str, kpi: str) -> list[dt.date]:
    """The dates of `unit`'s own rebasing interventions for `kpi` or for every KPI (contract
    §2: not its parents', not its children's)."""
    rows = cur.query_rows(
        "SELECT DISTINCT date FROM interventions WHERE rebase AND unit_code = ? "
        "AND (kpi IS NULL OR kpi = ?) ORDER BY date", [unit, kpi])
    return [pd.Timestamp(day).date() for (day,) in rows]


def applies_to(change: dict[str, Any], kpi: str) -> bool:
    """Whether an intervention concerns `kpi` (its own KPI, or every KPI when it names none)."""
    return change["kpi"] is None or change["kpi"] == kpi


def chart_markers(changes: list[dict[str, Any]], kpi: str, lang: str, *,
                  first: dt.date | None = None, last: dt.date | None = None) -> list[dict]:
    """The markers of the interventions concerning `kpi` dated in [first, last] (either open)
    for kpi.charts.spc_chart: id, date, title (as typed), hover (title, date and author)."""
    return [{"id": change["intervention_id"], "date": change["date"], "title": change["title"],
             "hover": t("intervention.marker_hover", lang, title=change["title"],
                        date=fmt_date(dt.date.fromisoformat(change["date"]), lang),
                        who=change["recorded_by"])
             + ("\n" + t("intervention.marker_rebase", lang) if change["rebase"] else "")}
            for change in changes if applies_to(change, kpi)
            and (first is None or dt.date.fromisoformat(change["date"]) >= first)
            and (last is None or dt.date.fromisoformat(change["date"]) <= last)]


def rebase_dates_of(changes: list[dict[str, Any]], kpi: str) -> tuple[dt.date, ...]:
    """The dates of the rebasing interventions among `changes` that concern `kpi` (a page's
    list of one unit's interventions: the same dates `rebase_dates` reads from the store)."""
    return tuple(sorted({dt.date.fromisoformat(change["date"]) for change in changes
                         if change["rebase"] and applies_to(change, kpi)}))
