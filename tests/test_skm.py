"""SKM: grades, Krejcie–Morgan, NRR and IKM with unanswered elements, breakdowns, comments."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi import precompute, skm
from kpi.i18n import t
from kpi.ikm import GRADES, exact_ikm, grade, min_sample
from kpi.store import Store
from tests.reference_impl import load_rows

DAY = dt.date(2026, 3, 2)


@pytest.mark.parametrize(("ikm", "letter", "label"), [
    (100.0, "A", "Sangat Baik"), (88.31, "A", "Sangat Baik"), (88.3099999, "B", "Baik"),
    (76.61, "B", "Baik"), (76.6099999, "C", "Kurang Baik"), (65.00, "C", "Kurang Baik"),
    (64.9999999, "D", "Tidak Baik"), (25.0, "D", "Tidak Baik"),
])
def test_grade_boundaries_on_the_unrounded_index(ikm, letter, label):
    assert grade(ikm)[:2] == (letter, label)


def test_grade_labels_match_the_catalogue():
    for _, letter, label_id, label_en in GRADES:
        assert t(f"grade.{letter}", "id") == label_id
        assert t(f"grade.{letter}", "en") == label_en


@pytest.mark.parametrize(("population", "sample"), [
    # Krejcie & Morgan (1970), table 1, which rounds; the contract takes the ceiling, so
    # 44.34 -> 45 for N = 50 and 217.47 -> 218 for N = 500 where the table says 44 and 217.
    (10, 10), (50, 45), (100, 80), (500, 218), (1000, 278), (10000, 370), (100000, 383),
    (1, 1), (0, 0),
    (2554, 334),  # S = 3841·N / (10·N + 3831) is exactly 334 here: the ceiling must not add one
])
def test_krejcie_morgan(population, sample):
    assert min_sample(population) == sample


def test_element_names_follow_the_regulation():
    assert t("element.u1", "id") == "Persyaratan"
    assert t("element.u9", "id") == "Penanganan Pengaduan, Saran dan Masukan"
    assert all(t(f"element.{element}", "en") for element in skm.ELEMENTS)


def _city() -> Store:
    store = Store(":memory:")
    answers = [  # u9 never answered; u8 answered once
        {"u1": 4, "u2": 3, "u3": 2, "u4": 1, "u5": 4, "u6": 4, "u7": 3, "u8": None, "u9": None},
        {"u1": 2, "u2": 3, "u3": 4, "u4": 1, "u5": 4, "u6": 2, "u7": 3, "u8": 2, "u9": None},
        {"u1": 3, "u2": None, "u3": 3, "u4": 1, "u5": 4, "u6": 3, "u7": 3, "u8": None, "u9": None},
    ]
    survey = [{"unit_code": "PKM" if index < 2 else "DINKES", "response_id": f"R{index}",
               "submitted_at": dt.datetime(2026, 3, 2, 9 + index), "service_code": "S",
               "respondent_gender": "L" if index else "P", "respondent_age": 20 + 30 * index,
               "comment": ["Antrian lama", "  ", "AC rusak, antrian panjang"][index], **row}
              for index, row in enumerate(answers)]
    events = [{"unit_code": "PKM", "service_code": "S", "ticket_id": f"T{index}",
               "arrived_at": dt.datetime(2026, 3, 2, 8), "completed_at": dt.datetime(2026, 3, 2, 9),
               "outcome": "completed"} for index in range(5)]
    load_rows(store,
              units=[{"unit_code": "DINKES", "name": "Dinas", "type": "dinas"},
                     {"unit_code": "PKM", "name": "Puskesmas", "type": "puskesmas",
                      "parent_code": "DINKES"}],
              services=[{"unit_code": u, "service_code": "S", "name": "S"} for u in ("DINKES", "PKM")],
              events=events, survey_responses=survey)
    return store


def test_ikm_averages_only_the_elements_with_answers():
    rows = {row["unit_code"]: row for row in skm.ikm_table(_city(), date_from=DAY, date_to=DAY)}
    pkm = rows["PKM"]
    assert pkm["n"] == 2
    assert pkm["nrr"]["u9"] is None and pkm["nrr"]["u8"] == 2.0 and pkm["nrr"]["u1"] == 3.0
    nrrs = [3.0, 3.0, 3.0, 1.0, 4.0, 3.0, 3.0, 2.0]  # u1 … u8
    assert pkm["ikm"] == pytest.approx(25 * sum(nrrs) / 8)
    assert pkm["grade"] == "C" and pkm["label"] == "Kurang Baik"
    assert pkm["min_sample"] == 5 and pkm["sample_ok"] is False  # N = 5 completed events
    dinkes = rows["DINKES"]  # pooled over its subtree: all three responses
    assert dinkes["n"] == 3 and dinkes["nrr"]["u2"] == 3.0
    assert dinkes["nrr"]["u1"] == 3.0 and dinkes["nrr"]["u8"] == 2.0
    assert rows["*"]["n"] == 3
    assert list(rows) == ["DINKES", "PKM", "*"]


def test_ikm_table_for_one_unit_and_an_empty_range():
    store = _city()
    assert [row["unit_code"] for row in skm.ikm_table(store, date_from=DAY, date_to=DAY,
                                                      unit="PKM")] == ["PKM"]
    assert skm.ikm_table(store, date_from=DAY + dt.timedelta(days=1),
                         date_to=DAY + dt.timedelta(days=9)) == []


def test_ikm_by_period_and_breakdown():
    store = _city()
    trend = skm.ikm_by_period(store, period="quarter", unit="PKM")
    assert trend[["unit_code", "n"]].to_dict("records") == [{"unit_code": "PKM", "n": 2}]
    assert trend["period_start"].tolist() == [dt.date(2026, 1, 1)]
    by_gender = skm.ikm_breakdown(store, unit="DINKES", date_from=DAY, date_to=DAY,
                                  by="respondent_gender")
    assert dict(zip(by_gender["group"], by_gender["n"], strict=True)) == {"L": 2, "P": 1}
    by_age = skm.ikm_breakdown(store, unit="DINKES", date_from=DAY, date_to=DAY, by="age_band")
    assert sorted(by_age["group"]) == ["45–54", "65+", "<25"]


def test_comments_skip_blanks_and_search_case_insensitively():
    store = _city()
    everything = skm.comments(store, unit="DINKES", date_from=DAY, date_to=DAY)
    assert everything["comment"].tolist() == ["AC rusak, antrian panjang", "Antrian lama"]
    found = skm.comments(store, unit="PKM", date_from=DAY, date_to=DAY, search="ANTRIAN")
    assert found["comment"].tolist() == ["Antrian lama"]
    assert skm.comments(store, unit="DINKES", date_from=DAY, date_to=DAY,
                        search="'; DROP TABLE survey_responses; --").empty


def test_unknown_breakdown_is_refused():
    with pytest.raises(Exception, match="Cannot split"):
        skm.ikm_breakdown(_city(), unit="PKM", date_from=DAY, date_to=DAY, by="comment")


def _survey_store(tmp_path, elements: int, count: int, fours: int, low: int = 3) -> Store:
    """One unit whose responses answer u1…u<elements> with `fours` fours and the rest `low`s,
    so that every answered element has NRR (4·fours + low·(count − fours)) / count."""
    store = Store(tmp_path / f"ikm-{elements}-{count}-{fours}-{low}", create=True)
    answers = ", ".join(f"CASE WHEN i < $fours THEN 4 ELSE $low END AS u{e}" if e <= elements
                        else f"NULL AS u{e}" for e in range(1, 10))
    with store.transaction() as cur:
        cur.execute("INSERT INTO units (unit_code, name, type) VALUES ('U', 'Unit', 'dinas')")
        cur.execute(
            "INSERT INTO survey_responses (unit_code, response_id, submitted_at, u1, u2, u3, u4, "
            f"u5, u6, u7, u8, u9) SELECT 'U', 'R' || i, TIMESTAMP '2026-03-02 09:00', {answers} "
            "FROM range($count) t(i)", {"count": count, "fours": fours, "low": low})
        cur.execute("INSERT INTO targets (unit_code, kpi, target, valid_from) VALUES "
                    "('*', 'ikm', 65, DATE '2026-01-01'), ('U', 'ikm', 88.31, DATE '2026-01-01')")
        precompute.refresh(cur)  # as every write of the app does
    return store


@pytest.mark.parametrize(("elements", "count", "fours", "low", "ikm", "letter"), [
    (1, 5, 0, 2, "65", "C"),            # NRR 13/5 would need three 3s: see below
    (9, 5, 0, 2, "65", "C"),
    (1, 2500, 161, 3, "76.61", "B"),
    (1, 2500, 1331, 3, "88.31", "A"),
    (1, 5000, 2661, 3, "88.305", "A"),   # rounds half up to 88.31
    (1, 250000, 133049, 3, "88.3049", "B"),
])
def test_the_grade_is_judged_on_the_exact_ikm_rounded_half_up(tmp_path, elements, count, fours,
                                                              low, ikm, letter):
    if ikm == "65":  # three 3s and two 2s per element: NRR 13/5, IKM exactly 65
        store = _survey_store(tmp_path, elements, count, 0, 2)
        with store.transaction() as cur:
            for e in range(1, elements + 1):
                cur.execute(f"UPDATE survey_responses SET u{e} = 3 "
                            "WHERE response_id IN ('R0', 'R1', 'R2')")
            precompute.refresh(cur)
    else:
        store = _survey_store(tmp_path, elements, count, fours, low)
    rows = skm.ikm_table(store, date_from=DAY, date_to=DAY, unit="U")
    assert abs(rows[0]["ikm"] - float(ikm)) < 1e-9
    assert rows[0]["grade"] == letter
    assert skm.ikm_by_period(store, period="week", unit="U")["grade"].tolist() == [letter]
    # The status of an `ikm` target is judged on the same figure: U's own target is 88.31.
    from kpi import metrics

    table = metrics.kpi_table(store, period="week", date_from=DAY, date_to=DAY, units=["U"],
                              kpis=["ikm"])
    assert table["status"].iloc[0] == ("green" if letter == "A" else
                                       "amber" if float(ikm) >= 88.31 * 0.9 else "red")


def test_exact_ikm_from_sums_and_counts():
    from decimal import Decimal

    assert exact_ikm([13, 5] + [0, 0] * 8) == Decimal("65.00")
    assert exact_ikm([17661, 5000] + [0, 0] * 8) == Decimal("88.31")
    assert exact_ikm([883049, 250000] + [0, 0] * 8) == Decimal("88.30")
    assert exact_ikm([0, 0] * 9) is None


def test_exact_ikm_in_integers_equals_the_mean_of_fractions():
    """exact_ikm works in integers (a common denominator); the definition is 25 × the mean of
    the elements' sum/count, × 100, rounded half up: equal on many mixed counts."""
    import math
    import random
    from decimal import Decimal
    from fractions import Fraction

    def by_fractions(parts):
        shares = [Fraction(parts[i], parts[i + 1]) for i in range(0, 18, 2) if parts[i + 1]]
        return Decimal(math.floor(2500 * sum(shares) / len(shares) + Fraction(1, 2))) / 100

    draw = random.Random(13)
    for _ in range(2000):
        parts = []
        for _ in range(9):
            count = draw.choice([0, 1, 3, 7, 250, 5000, draw.randint(1, 10**6)])
            parts += [draw.randint(count, 4 * count), count]
        if any(parts[1::2]):
            assert exact_ikm(parts) == by_fractions(parts)


def test_an_ikm_of_88_305_reads_88_31_beside_grade_a(tmp_path, monkeypatch, capsys):
    """Issue 12: the IKM shown with two decimals is the exactly rounded one, everywhere."""
    from kpi.__main__ import main
    from kpi.i18n import fmt_number
    from tests.helpers import open_view

    store = _survey_store(tmp_path, 1, 5000, 2661, 3)
    [row] = [r for r in skm.ikm_table(store, date_from=DAY, date_to=DAY) if r["unit_code"] == "U"]
    assert (row["ikm_rounded"], row["grade"]) == (88.31, "A")
    monkeypatch.setenv("KPI_DB", str(store.path))
    assert main(["ikm", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--unit", "U"]) == 0
    assert "IKM  88.31 A" in capsys.readouterr().out
    at = open_view(store, monkeypatch, grain="week", period="2026-03-02")
    values = {metric.label: metric.value for metric in at.metric}
    assert values["IKM"] == fmt_number(88.31, "en", 2)
