"""The published SKM results (issue 24; PermenPAN-RB 14/2017 asks every unit to publish its
IKM): for each unit an admin marked as published (kpi.survey_links.set_published), its IKM,
grade, NRR per element and number of respondents over a quarter, semester or year, in the
regulation's table layout. Comments and the respondents' profiles are never part of it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from fractions import Fraction

import pandas as pd

from kpi import config, ikm, skm, survey_links
from kpi.exports import to_csv_bytes
from kpi.i18n import t
from kpi.store import Store
from kpi.vocabulary import U_COLUMNS

KINDS = ("quarter", "semester", "year")
_MONTHS = {"quarter": 3, "semester": 6, "year": 12}
_KEY = re.compile(r"(?P<year>\d{4})(?:-(?P<kind>[QS])(?P<number>[1-4]))?")
_CHOICES_PER_KIND = {"quarter": 8, "semester": 4, "year": 3}


@dataclass(frozen=True)
class Period:
    kind: str        # quarter | semester | year
    year: int
    number: int      # 1-4 (quarter), 1-2 (semester), 1 (year)

    @property
    def key(self) -> str:
        """`2026-Q3`, `2026-S2` or `2026`: the period in the page's address."""
        if self.kind == "year":
            return str(self.year)
        return f"{self.year}-{self.kind[0].upper()}{self.number}"

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, 1 + (self.number - 1) * _MONTHS[self.kind], 1)

    @property
    def last(self) -> dt.date:
        month = self.first.month + _MONTHS[self.kind]
        following = dt.date(self.year + (month > 12), (month - 1) % 12 + 1, 1)
        return following - dt.timedelta(days=1)

    def label(self, lang: str) -> str:
        return t(f"publik.period_{self.kind}", lang, number=self.number, year=self.year)


def period_of(day: dt.date, kind: str) -> Period:
    """The period of `kind` that holds `day`."""
    return Period(kind, day.year, (day.month - 1) // _MONTHS[kind] + 1)


def parse_period(text: str) -> Period | None:
    """The period a page address names (see Period.key), or None."""
    match = _KEY.fullmatch(text.strip())
    if not match:
        return None
    year = int(match["year"])
    if match["kind"] is None:
        return Period("year", year, 1)
    kind = "quarter" if match["kind"] == "Q" else "semester"
    number = int(match["number"])
    return Period(kind, year, number) if number <= 12 // _MONTHS[kind] else None


@dataclass
class UnitResult:
    unit_code: str
    name: str
    n: int
    nrr: dict[str, float | None]
    weighted: dict[str, float | None]   # NRR × the element's weight (1 / answered elements)
    weighted_total: float
    ikm: float                           # unrounded (the CSV); pages show two decimals
    ikm_rounded: float                   # rounded half up, exactly: what the grade is read on
    grade: str
    label: str


@dataclass
class PublicResults:
    period: Period
    choices: dict[str, list[Period]]     # per kind, the periods with published answers
    units: list[UnitResult] = field(default_factory=list)   # published units with answers
    silent: list[tuple[str, str]] = field(default_factory=list)  # published, no answer


def _answer_days(store: Store, unit_codes: list[str]) -> list[dt.date]:
    """The local days on which any of the units (or their subtrees) received an answer."""
    if not unit_codes:
        return []
    return [row[0] for row in store.query_rows(
        "WITH RECURSIVE sub(unit_code) AS (SELECT unit_code FROM units "
        "WHERE list_contains($units, unit_code) UNION SELECT u.unit_code FROM sub "
        "JOIN units u ON u.parent_code = sub.unit_code) "
        "SELECT DISTINCT day FROM unit_days WHERE responses > 0 "
        "AND unit_code IN (SELECT unit_code FROM sub) ORDER BY day", {"units": unit_codes})]


def _choices(days: list[dt.date], today: dt.date) -> dict[str, list[Period]]:
    choices: dict[str, list[Period]] = {}
    for kind in KINDS:
        found = sorted({period_of(day, kind) for day in days if day <= today},
                       key=lambda p: p.first, reverse=True)
        choices[kind] = found[: _CHOICES_PER_KIND[kind]]
    return choices


def _default(choices: dict[str, list[Period]], today: dt.date) -> Period:
    """The latest quarter that has ended with answers; else the latest with answers; else the
    current quarter."""
    quarters = choices["quarter"]
    ended = [period for period in quarters if period.last < today]
    if ended:
        return ended[0]
    return quarters[0] if quarters else period_of(today, "quarter")


def public_results(store: Store, period_key: str, lang: str, *,
                   today: dt.date | None = None) -> PublicResults:
    """What /publik shows for the period named `period_key` (the default when empty or not a
    period): every published unit's results over its subtree, as `python -m kpi ikm` computes
    them for the period's dates."""
    today = today or config.local_today()
    published = survey_links.published(store)
    choices = _choices(_answer_days(store, [code for code, _ in published]), today)
    period = parse_period(period_key) or _default(choices, today)
    results = PublicResults(period, choices)
    if not published:
        return results
    rows = {row["unit_code"]: row for row in skm.ikm_table(
        store, date_from=period.first, date_to=period.last)}
    for code, name in published:
        row = rows.get(code)
        if row is None:
            results.silent.append((code, name))
            continue
        answered = [element for element in U_COLUMNS if row["nrr"][element] is not None]
        weight = Fraction(1, len(answered)) if answered else Fraction(0)
        weighted = {element: None if row["nrr"][element] is None
                    else float(row["nrr"][element] * weight) for element in U_COLUMNS}
        letter, label_id, label_en = ikm.grade(row["ikm_rounded"])
        results.units.append(UnitResult(
            code, name, row["n"], row["nrr"], weighted,
            sum(value for value in weighted.values() if value is not None),
            row["ikm"], row["ikm_rounded"], letter, label_id if lang == "id" else label_en))
    return results


def results_frame(results: PublicResults, lang: str) -> pd.DataFrame:
    """One row per published unit with answers: the CSV of /publik."""
    return pd.DataFrame([{
        "unit_code": unit.unit_code, "unit_name": unit.name, "period": results.period.key,
        "date_from": results.period.first.isoformat(), "date_to": results.period.last.isoformat(),
        "respondents": unit.n, **{f"nrr_{e}": unit.nrr[e] for e in U_COLUMNS},
        "ikm": round(unit.ikm_rounded, 2), "grade": unit.grade, "label": unit.label,
    } for unit in results.units], columns=[
        "unit_code", "unit_name", "period", "date_from", "date_to", "respondents",
        *(f"nrr_{e}" for e in U_COLUMNS), "ikm", "grade", "label"])


def results_csv(results: PublicResults, lang: str) -> bytes:
    return to_csv_bytes(results_frame(results, lang))
