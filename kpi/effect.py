"""Did it work? The effect of an intervention on a KPI (contract §2 "Interventions and their
effect"; ISO 9001 10.2.1 d).

The unit's series of the KPI at a grain is cut at the intervention's date D: *before* are the
points whose period starts before D, within the segment (of the unit's stored rebases) that
holds the last of them; *after* those whose period starts on or after D. The limits are those of
*before* alone (XmR of before + after with the baseline = the before points, one segment) and
only the signals on *after* points are read. A signal after a change is evidence that the
process changed, not proof that the change caused it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from kpi import interventions, metrics, spc
from kpi.i18n import fmt_date, t
from kpi.store import Reader, one_unit_of_work
from kpi.vocabulary import KPIS

VERDICTS = ("improved", "worse", "mixed", "no_change", "too_early", "no_baseline")
MIN_AFTER_POINTS = spc.RUN_LENGTH  # a shift needs 7 points: fewer can't yet say "no change"
DEFAULT_PERIOD = "week"


def _sign(number: float) -> int:
    return (number > 0) - (number < 0)


def judge(before: Sequence[float], after: Sequence[float], *, better: str) -> dict[str, Any]:
    """The verdict on `after` against the limits of `before` (both oldest first): verdict,
    before_n, after_n, centre, ucl, lcl (of before; None with `no_baseline`), after_signals
    (distinct, sorted), and signals (those of each after point)."""
    judged: dict[str, Any] = {"before_n": len(before), "after_n": len(after), "centre": None,
                              "ucl": None, "lcl": None, "after_signals": [],
                              "signals": [[] for _ in after]}
    if len(before) < spc.MIN_POINTS_FOR_LIMITS:
        return {**judged, "verdict": "no_baseline"}
    values = [float(value) for value in (*before, *after)]
    chart = spc.xmr(values, better=better, baseline=len(before))
    _, trend_direction = spc.trend_runs(values)
    good = 1 if better == "higher" else -1
    directions: set[int] = set()
    seen: set[str] = set()
    for index in range(len(before), len(values)):
        names = chart.signals[index]
        seen.update(names)
        if any(name != "trend" for name in names):
            directions.add(_sign(values[index] - (chart.centre or 0.0)))
        if "trend" in names:
            direction = trend_direction.get(index, 0)
            directions.update((1, -1) if direction == 0 else (direction,))
    better_way, worse_way = good in directions, -good in directions
    if better_way and worse_way:
        verdict = "mixed"
    elif better_way:
        verdict = "improved"
    elif worse_way:
        verdict = "worse"
    else:
        verdict = "no_change" if len(after) >= MIN_AFTER_POINTS else "too_early"
    return {**judged, "verdict": verdict, "centre": chart.centre, "ucl": chart.ucl,
            "lcl": chart.lcl, "after_signals": sorted(seen),
            "signals": chart.signals[len(before):]}


def split(days: Sequence[dt.date], day: dt.date, rebases: Sequence[dt.date]) -> tuple[int, int]:
    """(first, end) of *before* among points starting on `days` (oldest first): the points
    before `day`, from the start of the segment (of `rebases`) that holds the last of them."""
    end = sum(1 for start in days if start < day)
    starts = spc.segment_starts(days[:end], rebases)
    return starts[-1] if end else 0, end


@one_unit_of_work
def effect(cur: Reader, intervention_id: int, *, period: str = DEFAULT_PERIOD,
           kpi: str | None = None, until: dt.date | None = None) -> list[dict[str, Any]]:
    """The `effect` command's rows, one per KPI (the intervention's own KPI, or every KPI that
    has a value for the unit in some period of `period`; `kpi` picks one), in the contract's
    KPI order: intervention_id, unit_code, kpi, period, date, verdict, before_n, after_n,
    centre, ucl, lcl (of before), after_signals; and for the review: title, rebase, action_id,
    before and after ([{period_start, value, signals}], signals of after points only).
    `until`: the series ends with the period starting on or before it (a review of a past
    week judges with what was known then); None: up to the latest period."""
    metrics.check_period(period)
    if kpi is not None:
        metrics.check_kpis([kpi])
    change = interventions.get(cur, intervention_id)
    if kpi and change["kpi"] and kpi != change["kpi"]:
        return []
    return _judged(cur, change, period, [kpi] if kpi else None, until)


def _judged(cur: Reader, change: dict[str, Any], period: str, kpis: list[str] | None,
            until: dt.date | None) -> list[dict[str, Any]]:
    day = dt.date.fromisoformat(change["date"])
    unit = change["unit_code"]
    first, last = metrics.data_range(cur)
    if first is None or last is None:
        return []
    last = min(last, until) if until is not None else last
    if last < first:
        return []
    chosen = kpis or ([change["kpi"]] if change["kpi"] else None)
    values = metrics.kpi_values(cur, period=period, date_from=metrics.period_start(first, period),
                                date_to=last, units=[unit], kpis=chosen)
    unit_rebases = [other for other in interventions.list_interventions(cur, unit=unit)
                    if other["rebase"] and other["date"] != change["date"]]
    rows = []
    for name in KPIS:
        series = values[values["kpi"] == name].sort_values("period_start")
        if series.empty:
            continue
        days = [_date(start) for start in series["period_start"]]
        begin, end = split(days, day, interventions.rebase_dates_of(unit_rebases, name))
        numbers = series["value"].astype(float).tolist()
        judged = judge(numbers[begin:end], numbers[end:], better=KPIS[name].better)
        rows.append({"intervention_id": change["intervention_id"], "unit_code": unit,
                     "kpi": name, "period": period, "date": change["date"],
                     **{key: value for key, value in judged.items() if key != "signals"},
                     "title": change["title"], "rebase": change["rebase"],
                     "action_id": change["action_id"], "recorded_by": change["recorded_by"],
                     "before": [{"period_start": start.isoformat(), "value": value}
                                for start, value in zip(days[begin:end], numbers[begin:end],
                                                        strict=True)],
                     "after": [{"period_start": start.isoformat(), "value": value,
                                "signals": signals}
                               for start, value, signals in zip(days[end:], numbers[end:],
                                                                judged["signals"], strict=True)]})
    return rows


def _date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value  # a pandas Timestamp too


REVIEW_WEEKS = 26  # the review lists the interventions of the last 26 weeks (its SPC window)


@one_unit_of_work
def review_section(cur: Reader, *, week_start: dt.date, week_end: dt.date) -> dict[str, Any]:
    """The review's section "Effectiveness of actions taken" for the week [week_start,
    week_end]: every intervention dated in the last REVIEW_WEEKS weeks up to the week's end,
    and older ones still `too_early` for some KPI (they come back every week until judged),
    newest first, each with its weekly verdict per KPI as known in that week; and `markers`:
    the interventions of the window for the exception charts."""
    since = week_start - dt.timedelta(weeks=REVIEW_WEEKS - 1)
    changes = interventions.list_interventions(cur, until=week_end)
    names = dict(cur.query_rows("SELECT unit_code, name FROM units"))
    items = []
    for change in reversed(changes):
        rows = _judged(cur, change, "week", None, week_start)
        recent = dt.date.fromisoformat(change["date"]) >= since
        if recent or any(row["verdict"] == "too_early" for row in rows):
            items.append({**change, "unit_name": names.get(change["unit_code"]),
                          "key": f"effect:{change['intervention_id']}", "rows": rows})
    return {"since": since.isoformat(), "items": items,
            "markers": [change for change in changes if change["date"] >= since.isoformat()]}


def _longest_run(flags: Sequence[bool]) -> int:
    longest = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        longest = max(longest, current)
    return longest


def describe(row: dict[str, Any], lang: str) -> str:
    """The verdict of one effect row in plain words, e.g. "Waiting time (median) down since
    week 12: below the old limits 5 weeks in a row", "no change after 9 weeks", "too early: 3
    of 7 weeks"."""
    kpi = t(f"kpi.{row['kpi']}.name", lang)
    verdict, after = row["verdict"], row.get("after") or []
    count = len(after)
    if verdict == "no_baseline":
        return t("effect.says.no_baseline", lang, kpi=kpi, count=row["before_n"])
    if verdict == "too_early":
        return t("effect.says.too_early", lang, kpi=kpi, count=count, needed=MIN_AFTER_POINTS)
    if verdict == "no_change":
        return t("effect.says.no_change", lang, kpi=kpi, count=count)
    start = dt.date.fromisoformat(after[0]["period_start"])
    since = t("effect.since_week", lang, week=start.isocalendar()[1]) \
        if row["period"] == "week" else fmt_date(start, lang)
    if verdict == "mixed":
        return t("effect.says.mixed", lang, kpi=kpi, since=since)
    good = 1 if KPIS[row["kpi"]].better == "higher" else -1
    side = good if verdict == "improved" else -good
    word = "up" if side > 0 else "down"
    values = [point["value"] for point in after]
    signals = set(row["after_signals"])
    limit = row["ucl"] if side > 0 else row["lcl"]
    beyond = [(value - limit) * side > 0 for value in values]
    if "outside" in signals and any(beyond):
        run = _longest_run(beyond)
        evidence = (t(f"effect.evidence.limits_run_{word}", lang, count=run)
                    if run == sum(beyond) and run > 1
                    else t(f"effect.evidence.limits_some_{word}", lang, count=sum(beyond),
                           total=count))
    elif "shift" in signals:
        run = _longest_run([(value - row["centre"]) * side > 0 for value in values])
        evidence = t(f"effect.evidence.average_{word}", lang, count=run)
    elif "trend" in signals:
        run = sum(1 for point in after if "trend" in point["signals"])
        evidence = t(f"effect.evidence.trend_{word}", lang, count=run)
    else:
        evidence = t(f"effect.evidence.near_limit_{word}", lang)
    return t(f"effect.says.{verdict}", lang, kpi=kpi, direction=t(f"effect.{word}", lang),
             since=since, evidence=evidence)
