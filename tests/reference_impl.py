"""A small, independent implementation of the contract's section 2, for tests only.

Plain Python over lists of dicts (statistics/math only: no DuckDB, no pandas, nothing from
kpi.metrics), written from the contract's words so that the engine's SQL has something to be
checked against. Also `load_rows`, which writes such rows into a store through plain SQL.
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

KPI_BETTER = {
    "throughput": "higher", "service_time_median": "lower", "service_time_p90": "lower",
    "wait_time_median": "lower", "within_standard_pct": "higher", "abandon_rate": "lower",
    "response_count": "higher", "ikm": "higher",
}
ELEMENTS = [f"u{i}" for i in range(1, 10)]

UNIT_COLUMNS = ["unit_code", "name", "type", "parent_code", "district"]
SERVICE_COLUMNS = ["unit_code", "service_code", "name", "standard_minutes"]
EVENT_COLUMNS = ["unit_code", "service_code", "ticket_id", "arrived_at", "started_at",
                 "completed_at", "outcome", "channel"]
SURVEY_COLUMNS = ["unit_code", "response_id", "submitted_at", *ELEMENTS, "service_code",
                  "respondent_gender", "respondent_age", "respondent_education", "comment"]
TARGET_COLUMNS = ["unit_code", "kpi", "target", "valid_from", "valid_to", "amber_pct"]
TABLES = {"units": UNIT_COLUMNS, "services": SERVICE_COLUMNS, "events": EVENT_COLUMNS,
          "survey_responses": SURVEY_COLUMNS, "targets": TARGET_COLUMNS}


def load_rows(store, **tables: list[dict]) -> None:
    """Insert rows (dicts; missing columns are NULL) into the named tables of `store`, then
    refresh the store's precomputed KPI values in the same transaction, as every write of the
    app does (the reference computation below uses nothing from the engine)."""
    from kpi.precompute import refresh

    with store.transaction() as cur:
        for table, rows in tables.items():
            columns = TABLES[table]
            if not rows:
                continue
            # One statement for all the rows (executemany runs one INSERT per row, each a
            # write to the lake: twice the time).
            placeholders = "(" + ", ".join("?" for _ in columns) + ")"
            cur.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                        + ", ".join(placeholders for _ in rows),
                        [row.get(column) for row in rows for column in columns])
        # Like every write of the app, refresh the precomputed KPI values in the transaction.
        refresh(cur)


# -- periods and subtrees ----------------------------------------------------------------------
def first_day(day: dt.date, period: str) -> dt.date:
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.isoweekday() - 1)
    if period == "month":
        return dt.date(day.year, day.month, 1)
    if period == "quarter":
        return dt.date(day.year, [1, 1, 1, 4, 4, 4, 7, 7, 7, 10, 10, 10][day.month - 1], 1)
    return dt.date(day.year, 1, 1)


def subtree(units: list[dict], code: str) -> set[str]:
    """`code` and every unit below it (the city `*`: every unit code)."""
    if code == "*":
        return None  # every row
    members, frontier = {code}, [code]
    while frontier:
        parent = frontier.pop()
        for unit in units:
            if unit.get("parent_code") == parent and unit["unit_code"] not in members:
                members.add(unit["unit_code"])
                frontier.append(unit["unit_code"])
    return members


def _in(members: set[str] | None, row: dict) -> bool:
    return members is None or row["unit_code"] in members


# -- statistics ---------------------------------------------------------------------------------
def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (NumPy's default, DuckDB's quantile_cont)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def minutes(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 60


def event_kpis(events: list[dict], standards: dict[tuple[str, str], float | None]) -> dict:
    """{kpi: (value, n)} over one group of events; KPIs with n = 0 are left out."""
    completed = [e for e in events if e["outcome"] == "completed"]
    service = [minutes(e["arrived_at"], e["completed_at"]) for e in completed]
    waits = [minutes(e["arrived_at"], e["started_at"]) for e in completed if e["started_at"]]
    with_standard = [e for e in completed
                     if standards.get((e["unit_code"], e["service_code"])) is not None]
    within = [e for e in with_standard if minutes(e["arrived_at"], e["completed_at"])
              <= standards[(e["unit_code"], e["service_code"])]]
    lost = [e for e in events if e["outcome"] in ("abandoned", "no_show")]
    out = {}
    if completed:
        out["throughput"] = (float(len(completed)), len(completed))
        out["service_time_median"] = (quantile(service, 0.5), len(completed))
        out["service_time_p90"] = (quantile(service, 0.9), len(completed))
    if waits:
        out["wait_time_median"] = (quantile(waits, 0.5), len(waits))
    if with_standard:
        out["within_standard_pct"] = (100 * len(within) / len(with_standard), len(with_standard))
    if events:
        out["abandon_rate"] = (100 * len(lost) / len(events), len(events))
    return out


def nrr_and_ikm(responses: list[dict]) -> tuple[dict[str, float | None], float | None]:
    nrr = {}
    for element in ELEMENTS:
        answered = [r[element] for r in responses if r.get(element) is not None]
        nrr[element] = sum(answered) / len(answered) if answered else None
    present = [value for value in nrr.values() if value is not None]
    return nrr, (25 * sum(present) / len(present) if present else None)


def survey_kpis(responses: list[dict]) -> dict:
    out = {}
    if responses:
        out["response_count"] = (float(len(responses)), len(responses))
        _, ikm = nrr_and_ikm(responses)
        if ikm is not None:
            out["ikm"] = (ikm, len(responses))
    return out


def grade(ikm: float) -> str:
    return "A" if ikm >= 88.31 else "B" if ikm >= 76.61 else "C" if ikm >= 65.00 else "D"


def min_sample(population: int) -> int:
    chi, p, d = Fraction("3.841"), Fraction(1, 2), Fraction("0.05")
    if population <= 0:
        return 0
    return math.ceil(chi * population * p * (1 - p) / (d * d * (population - 1) + chi * p * (1 - p)))


# -- targets -----------------------------------------------------------------------------------
def target_of(targets: list[dict], unit: str, kpi: str, day: dt.date) -> dict | None:
    valid = [t for t in targets if t["kpi"] == kpi and t["unit_code"] in (unit, "*")
             and t["valid_from"] <= day and (t.get("valid_to") is None or day <= t["valid_to"])]
    own = [t for t in valid if t["unit_code"] == unit]
    candidates = own or valid
    return max(candidates, key=lambda t: t["valid_from"]) if candidates else None


def status(value: float | None, target: float | None, better: str, amber_pct: float) -> str:
    if value is None or target is None:
        return "none"
    if better == "higher":
        if value >= target:
            return "green"
        return "amber" if value >= target * (1 - amber_pct / 100) else "red"
    if value <= target:
        return "green"
    return "amber" if value <= target * (1 + amber_pct / 100) else "red"


# -- the kpis command ----------------------------------------------------------------------------
def kpi_rows(data: dict, period: str, date_from: dt.date, date_to: dt.date) -> dict:
    """{(unit_code, period_start, kpi): (value, n, target, status)} as the `kpis` command."""
    units = data["units"]
    standards = {(s["unit_code"], s["service_code"]): s.get("standard_minutes")
                 for s in data["services"]}
    rows = {}
    for code in [u["unit_code"] for u in units] + ["*"]:
        members = subtree(units, code)
        groups: dict[dt.date, dict[str, list]] = {}
        for event in data["events"]:
            if _in(members, event):
                start = first_day(event["arrived_at"].date(), period)
                groups.setdefault(start, {"events": [], "survey": []})["events"].append(event)
        for response in data["survey"]:
            if _in(members, response):
                start = first_day(response["submitted_at"].date(), period)
                groups.setdefault(start, {"events": [], "survey": []})["survey"].append(response)
        for start, group in groups.items():
            if not date_from <= start <= date_to:
                continue
            values = {**event_kpis(group["events"], standards), **survey_kpis(group["survey"])}
            for kpi, (value, n) in values.items():
                target = target_of(data["targets"], code, kpi, start)
                target_value = target["target"] if target else None
                amber = target["amber_pct"] if target else 10.0
                rows[(code, start, kpi)] = (value, n, target_value,
                                            status(value, target_value, KPI_BETTER[kpi], amber))
    return rows


def ikm_rows(data: dict, date_from: dt.date, date_to: dt.date) -> dict:
    """{unit_code: {n, nrr, ikm, grade, min_sample, sample_ok}} as the `ikm` command."""
    units = data["units"]
    out = {}
    for code in [u["unit_code"] for u in units] + ["*"]:
        members = subtree(units, code)
        responses = [r for r in data["survey"] if _in(members, r)
                     and date_from <= r["submitted_at"].date() <= date_to]
        nrr, ikm = nrr_and_ikm(responses)
        if not responses or ikm is None:
            continue
        served = sum(1 for e in data["events"] if _in(members, e) and e["outcome"] == "completed"
                     and date_from <= e["arrived_at"].date() <= date_to)
        needed = min_sample(served)
        out[code] = {"n": len(responses), "nrr": nrr, "ikm": ikm, "grade": grade(ikm),
                     "min_sample": needed, "sample_ok": len(responses) >= needed}
    return out


# -- XmR (brute force over windows, unlike kpi.spc's run detection) ----------------------------
def xmr(values: list[float], better: str, baseline: int | None, target: float | None) -> dict:
    basis = values[:baseline] if baseline else values
    centre = sum(basis) / len(basis) if basis else None
    ucl = lcl = upper = lower = None
    if len(basis) >= 2:
        mean_range = sum(abs(basis[i] - basis[i - 1]) for i in range(1, len(basis))) / (len(basis) - 1)
        ucl, lcl = centre + 2.66 * mean_range, centre - 2.66 * mean_range
        upper, lower = centre + (2 / 3) * 2.66 * mean_range, centre - (2 / 3) * 2.66 * mean_range
    signals = [set() for _ in values]
    for i, value in enumerate(values):
        if ucl is not None and (value > ucl or value < lcl):
            signals[i].add("outside")
    for start in range(len(values) - 6):
        window = range(start, start + 7)
        if centre is not None and (all(values[i] > centre for i in window)
                                   or all(values[i] < centre for i in window)):
            for i in window:
                signals[i].add("shift")
        steps = [values[i + 1] - values[i] for i in range(start, start + 6)]
        if all(step > 0 for step in steps) or all(step < 0 for step in steps):
            for i in window:
                signals[i].add("trend")
    for start in range(len(values) - 2):
        window = range(start, start + 3)
        for beyond in ([i for i in window if upper is not None and values[i] > upper],
                       [i for i in window if lower is not None and values[i] < lower]):
            if len(beyond) >= 2:
                for i in beyond:
                    signals[i].add("two_of_three")
    variation = None
    if values:
        last = signals[-1]
        good_up = better == "higher"
        worse = False
        if last - {"trend"}:
            worse = (values[-1] > centre) != good_up
        if "trend" in last:
            worse = worse or ((values[-1] > values[-2]) != good_up)
        variation = "common" if not last else "concern" if worse else "improvement"
    assurance = None
    if target is not None and ucl is not None:
        if better == "higher":
            assurance = "pass" if lcl >= target else "fail" if ucl < target else "hit_and_miss"
        else:
            assurance = "pass" if ucl <= target else "fail" if lcl > target else "hit_and_miss"
    return {"centre": centre, "ucl": ucl, "lcl": lcl, "trial": len(basis) < 12,
            "signals": [sorted(found) for found in signals], "variation": variation,
            "assurance": assurance}
