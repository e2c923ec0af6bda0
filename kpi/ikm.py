"""The IKM's arithmetic (PermenPAN-RB 14/2017): the exact IKM from the answers' sums and
counts, its grade, and the Krejcie–Morgan minimum sample.

A leaf module (only kpi.vocabulary below it): kpi.metrics grades the precomputed IKM with it,
kpi.skm reads the survey with it, the pages draw the grade bands with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from kpi.vocabulary import U_COLUMNS

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


def exact_ikm(parts: Sequence[float | None]) -> Decimal | None:
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


def grade_of(parts: Sequence[float | None]) -> tuple[str, str, str]:
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


# The IKM's possible range: every answer 1 (25 × 1) to every answer 4 (25 × 4).
IKM_LOWEST, IKM_HIGHEST = 25.0, 100.0


def weakest_element(nrr: dict[str, float | None]) -> str | None:
    """The element (u1 … u9) with the lowest NRR of an `ikm_table` row's `nrr` (the first in
    the regulation's order on a tie); None when no element was answered."""
    answered = [(value, index, element) for index, element in enumerate(U_COLUMNS)
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
