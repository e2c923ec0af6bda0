"""The SKM satisfaction index (IKM, PermenPAN-RB 14/2017) and the minimum sample size.

NRR_i = mean of the answered u_i; IKM = 25 × mean of the elements' NRRs that are not null.
The grade (and an `ikm` target's status) is judged on the IKM rounded half up to two decimals,
computed exactly from the integer answer sums and counts (`exact_ikm`), never from a float that
may lie a hair below a boundary (contract §2). Element names live in the i18n catalogue (element.u1 … u9). The
NRR/IKM arithmetic itself is one SQL fragment in kpi.metrics, shared with the `ikm` KPI.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction

import pandas as pd

from kpi import metrics
from kpi.metrics import UnknownArgument
from kpi.store import one_unit_of_work
from kpi.vocabulary import CITY

ELEMENTS = ("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9")

# (lowest IKM rounded to two decimals, letter, Indonesian label of the regulation, English label)
GRADES = (
    (88.31, "A", "Sangat Baik", "Very good"),
    (76.61, "B", "Baik", "Good"),
    (65.00, "C", "Kurang Baik", "Poor"),
    (float("-inf"), "D", "Tidak Baik", "Very poor"),
)

# Krejcie–Morgan: χ² for one degree of freedom at 95 %, population proportion, margin of error.
_CHI_SQUARE = Fraction("3.841")
_PROPORTION = Fraction(1, 2)
_MARGIN = Fraction("0.05")

BREAKDOWNS = ("service_code", "respondent_gender", "respondent_education", "age_band")
# Respondent age bands of the SKM report (lower bound inclusive); SQL CASE built from them.
AGE_BANDS = ((None, 25, "<25"), (25, 35, "25–34"), (35, 45, "35–44"), (45, 55, "45–54"),
             (55, 65, "55–64"), (65, None, "65+"))


def exact_ikm(parts) -> Decimal | None:
    """The IKM rounded half up to two decimals, computed exactly from `parts` = [sum u1,
    count u1, …, sum u9, count u9] (the answers' integer sums and counts); None when no element
    has an answer."""
    values = [int(v) if v is not None and v == v else 0 for v in parts]
    answered = [(values[i], values[i + 1]) for i in range(0, len(values), 2) if values[i + 1]]
    if not answered:
        return None
    # 2500 × mean(sum/count) rounded half up, in integers: with L the counts' least common
    # multiple and S = Σ sum × L/count, that is floor((5000 S + k L) / (2 k L)).
    common = math.lcm(*(count for _, count in answered))
    total = sum(answer_sum * (common // count) for answer_sum, count in answered)
    k = len(answered)
    return Decimal((5000 * total + k * common) // (2 * k * common)) / 100


def grade_of(parts) -> tuple[str, str, str]:
    """The grade of the IKM whose answer sums and counts are `parts` (which have answers)."""
    exact = exact_ikm(parts)
    if exact is None:
        raise ValueError("an IKM without answers has no grade")
    return grade(float(exact))


def grade(ikm: float) -> tuple[str, str, str]:
    """(letter, Indonesian label, English label) of an IKM already rounded to two decimals
    (use `grade_of` with the answer sums and counts)."""
    for lowest, letter, label_id, label_en in GRADES:
        if ikm >= lowest:
            return letter, label_id, label_en
    raise ValueError(f"IKM {ikm!r} is not a number")


def min_sample(population: int) -> int:
    """Krejcie–Morgan minimum sample for a served population N (χ² = 3.841, P = 0.5, d = 0.05),
    in exact arithmetic so that a whole-number result is not pushed up by a rounding error."""
    population = int(population)
    if population <= 0:
        return 0
    spread = _CHI_SQUARE * _PROPORTION * (1 - _PROPORTION)
    size = spread * population / (_MARGIN**2 * (population - 1) + spread)
    return math.ceil(size)


def _nrr(row: dict) -> dict[str, float | None]:
    return {element: _float_or_none(row[f"nrr_{element}"]) for element in ELEMENTS}


def _float_or_none(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _day_range(date_from: dt.date, date_to: dt.date) -> list[tuple[dt.date, dt.date]]:
    return [(date_from, date_to + dt.timedelta(days=1))]


@one_unit_of_work
def ikm_table(store, *, date_from: dt.date, date_to: dt.date, unit: str | None = None) -> list[dict]:
    """The `ikm` command's rows: unit_code, n, nrr {u1..u9}, ikm, grade, label (Indonesian),
    min_sample, sample_ok; one per unit with responses submitted on a local date in
    [date_from, date_to] (pooled over its subtree) and `*`, or just `unit`. The minimum sample's
    N is the unit's (subtree's) completed events that arrived on the same dates. Tree order,
    `*` last."""
    units = metrics.check_units(store, None if unit is None else [unit])
    ranges = _day_range(date_from, date_to)
    survey = metrics.scoped_aggregates(store, source="survey", period=None, ranges=ranges,
                                       units=units)
    events = metrics.scoped_aggregates(store, source="events", period=None, ranges=ranges,
                                       units=units, columns=["n_completed"])
    served = dict(zip(events["unit_code"], events["n_completed"], strict=True))
    order = {code: index for index, code in enumerate(metrics.unit_tree(store)["unit_code"])}
    order[CITY] = len(order)
    rows = []
    for row in survey.to_dict("records"):
        ikm = _float_or_none(row["ikm"])
        if not row["n_responses"] or ikm is None:
            continue
        rounded = exact_ikm(row["ikm_parts"])
        letter, label, _ = grade_of(row["ikm_parts"])
        needed = min_sample(int(served.get(row["unit_code"], 0)))
        rows.append({
            "unit_code": row["unit_code"],
            "n": int(row["n_responses"]),
            "nrr": _nrr(row),
            "ikm": ikm,
            # What a person reads: the IKM rounded half up to two decimals, exactly (contract
            # section 2), the figure the grade is judged on; `ikm` stays unrounded for JSON.
            "ikm_rounded": ikm if rounded is None else float(rounded),
            "grade": letter,
            "label": label,
            "min_sample": needed,
            "sample_ok": int(row["n_responses"]) >= needed,
        })
    return sorted(rows, key=lambda row: order.get(row["unit_code"], len(order)))


@one_unit_of_work
def ikm_by_period(store, *, period: str, date_from: dt.date | None = None,
                  date_to: dt.date | None = None, unit: str | None = None) -> pd.DataFrame:
    """unit_code, period_start, n, ikm, grade, nrr_u1 … nrr_u9 per unit (every unit and `*`, or
    just `unit`) and period whose first date lies in [date_from, date_to] (all data when a
    bound is None); periods without an IKM are left out."""
    metrics.check_period(period)
    date_from, date_to = metrics.bounds_or_all_data(store, period, date_from, date_to)
    columns = ["unit_code", "period_start", "n", "ikm", "grade",
               *(f"nrr_{element}" for element in ELEMENTS)]
    if date_from is None or date_to is None:
        return pd.DataFrame(columns=columns)
    first, end = metrics.periods_between(date_from, date_to, period)
    if first >= end:
        return pd.DataFrame(columns=columns)
    frame = metrics.scoped_aggregates(
        store, source="survey", period=period, ranges=[(first, end)],
        units=metrics.check_units(store, None if unit is None else [unit]))
    frame = frame[frame["ikm"].notna() & (frame["n_responses"] > 0)]
    frame = frame.rename(columns={"n_responses": "n"})
    frame["grade"] = [grade_of(parts)[0] for parts in frame["ikm_parts"]]
    return frame[columns].sort_values(["unit_code", "period_start"]).reset_index(drop=True)


def _age_band_sql() -> str:
    cases = []
    for low, high, label in AGE_BANDS:
        condition = " AND ".join(
            part for part in (low is not None and f"respondent_age >= {low}",
                              high is not None and f"respondent_age < {high}") if part)
        cases.append(f"WHEN {condition} THEN '{label}'")
    return f"CASE {' '.join(cases)} END"


@one_unit_of_work
def ikm_breakdown(store, *, unit: str, date_from: dt.date, date_to: dt.date, by: str) -> pd.DataFrame:
    """IKM of the unit's subtree (responses on local dates [date_from, date_to]) split by `by`
    (service_code, respondent_gender, respondent_education or age_band): group (None = not
    given), n, nrr_u1 … nrr_u9, ikm, grade; largest groups first."""
    if by not in BREAKDOWNS:
        raise UnknownArgument("kpi.error.unknown_breakdown", by=by, breakdowns=", ".join(BREAKDOWNS))
    metrics.check_units(store, [unit])
    group = _age_band_sql() if by == "age_band" else by
    sql = f"""
        SELECT {group} AS "group", {metrics.survey_aggregates_sql()}
        FROM survey_responses
        WHERE submitted_at >= $start AND submitted_at < $end AND {metrics.subtree_filter_sql()}
        GROUP BY ALL ORDER BY n_responses DESC, "group" NULLS LAST
    """  # noqa: S608 - whitelisted column names and engine SQL only
    frame = store.query_df(sql, {"unit": unit, **metrics.day_params(date_from, date_to)})
    frame = frame.rename(columns={"n_responses": "n"})
    frame["grade"] = [None if pd.isna(value) else grade_of(parts)[0]
                      for value, parts in zip(frame["ikm"], frame["ikm_parts"], strict=True)]
    frame = frame.drop(columns="ikm_parts")
    return frame


@one_unit_of_work
def comments(store, *, unit: str, date_from: dt.date, date_to: dt.date,
             search: str | None = None) -> pd.DataFrame:
    """submitted_at, unit_code, service_code, comment of the non-empty comments of the unit's
    subtree on local dates [date_from, date_to], newest first; `search` keeps the comments that
    contain it (case-insensitive)."""
    metrics.check_units(store, [unit])
    sql = f"""
        SELECT submitted_at, unit_code, service_code, comment
        FROM survey_responses
        WHERE submitted_at >= $start AND submitted_at < $end AND {metrics.subtree_filter_sql()}
          AND trim(coalesce(comment, '')) <> ''
          AND ($search IS NULL OR contains(lower(comment), lower($search)))
        ORDER BY submitted_at DESC, unit_code
    """  # noqa: S608 - engine SQL only
    params = {"unit": unit, "search": search or None, **metrics.day_params(date_from, date_to)}
    return store.query_df(sql, params)


# The IKM's possible range: every answer 1 (25 × 1) to every answer 4 (25 × 4).
IKM_LOWEST, IKM_HIGHEST = 25.0, 100.0


def weakest_element(nrr: dict[str, float | None]) -> str | None:
    """The element (u1 … u9) with the lowest NRR of an `ikm_table` row's `nrr` (the first in
    the regulation's order on a tie); None when no element was answered."""
    answered = [(value, index, element) for index, element in enumerate(ELEMENTS)
                if (value := nrr.get(element)) is not None]
    return min(answered)[2] if answered else None


def nrr_of_grade(letter: str) -> float:
    """The NRR (1–4) at the lower edge of grade `letter`: the IKM threshold ÷ 25 (the heatmap
    centres its colours on the "B" line)."""
    for lowest, grade_letter, _, _ in GRADES:
        if grade_letter == letter:
            return lowest / 25
    raise ValueError(f"Unknown grade {letter!r}")


def sample_share(n: int, minimum: int) -> float:
    """Respondents as a percentage of the minimum sample (100 = just enough); 100 when no
    minimum applies (no one was served)."""
    return 100.0 * n / minimum if minimum else 100.0
