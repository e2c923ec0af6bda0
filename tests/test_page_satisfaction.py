"""The Satisfaction (SKM) page on the contract's worked example: IKM, grade, elements, sample
size against the Krejcie–Morgan minimum, breakdowns and comments, checked against
expected/ikm.json and the example's survey.csv (its whole range lies in the first quarter)."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from kpi import ikm, skm
from kpi.i18n import t
from tests.helpers import EXPECTED_DIR, expected, no_exceptions, open_view, texts
from ui import downloads

EXAMPLE_DIR = EXPECTED_DIR.parent

QUARTER = "2026-01-01"
UNIT_NAMES = {"DINKES": "Dinas Kesehatan Contoh", "PKM-1": "Puskesmas Contoh Satu",
              "PKM-2": "Puskesmas Contoh Dua", "DUKCAPIL": "Disdukcapil Contoh"}
GRADE_WORDS = {"en": {"A": "Very good", "B": "Good", "C": "Poor", "D": "Very poor"}}


def open_skm(store, monkeypatch, *, lang="en", state=None, **query) -> AppTest:
    at = open_view(store, monkeypatch, "satisfaction", lang=lang, state=state, **query)
    no_exceptions(at)
    return at


def ikm_rows() -> dict[str, dict]:
    return {row["unit_code"]: row for row in expected("ikm")}


def two_decimals(value: float, lang: str) -> str:
    """Written here without the app's formatter: 75.84 in English, 75,84 in Indonesian."""
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "id" else text


def grade_label(row: dict, lang: str) -> str:
    """`C · Kurang Baik` in Indonesian (the contract's label), `C · Poor` in English."""
    label = row["label"] if lang == "id" else GRADE_WORDS["en"][row["grade"]]
    return f"{row['grade']} · {label}"


def weakest(row: dict) -> str:
    return min(row["nrr"], key=lambda element: (row["nrr"][element], element))


def table_with(at: AppTest, column: str):
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def survey_rows() -> list[dict]:
    with (EXAMPLE_DIR / "survey.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_unit_shows_the_contract_ikm_grade_and_sample(example_store, monkeypatch, lang):
    at = open_skm(example_store, monkeypatch, lang=lang, grain="quarter", period=QUARTER)
    table = table_with(at, t("skmpage.col_ikm", lang)).set_index(t("skmpage.col_code", lang))
    too_small = t("grade.sample_too_small", lang)
    for code, row in ikm_rows().items():
        shown = table.loc[code]
        assert shown[t("skmpage.col_ikm", lang)] == two_decimals(row["ikm"], lang)
        assert shown[t("skmpage.col_grade", lang)] == grade_label(row, lang)
        assert shown[t("skmpage.col_n", lang)] == str(row["n"])
        assert shown[t("skmpage.col_min_sample", lang)] == str(row["min_sample"])
        assert row["sample_ok"] is False
        assert shown[t("skmpage.col_sample", lang)].endswith(too_small)
        assert shown[t("skmpage.col_weakest", lang)] == t(f"element.{weakest(row)}", lang)


def test_the_indonesian_page_says_sample_too_small_in_the_glossary_words(example_store,
                                                                         monkeypatch):
    at = open_skm(example_store, monkeypatch, lang="id", grain="quarter", period=QUARTER)
    # Q1 2026 is partial (the data end on Sunday 29 March), which a warning says first.
    [warning] = [w for w in texts(at.warning) if w.startswith("Jumlah sampel")]
    assert warning.startswith("Jumlah sampel belum memenuhi minimum untuk 4 dari 4 unit")
    for code, row in ikm_rows().items():
        if code != "*":
            assert f"{UNIT_NAMES[code]} ({row['n']} dari {row['min_sample']})" in warning


def test_the_title_and_headline_give_the_city(example_store, monkeypatch):
    city = ikm_rows()["*"]
    at = open_skm(example_store, monkeypatch, lang="id", grain="quarter", period=QUARTER)
    [title] = texts(at.header)
    assert title.startswith(f"IKM kota {two_decimals(city['ikm'], 'id')}, mutu C · Kurang Baik")
    assert t(f"element.{weakest(city)}", "id") in title  # Biaya/Tarif, by a hair over u1
    metrics = {metric.label: (metric.value, metric.proto.delta) for metric in at.metric}
    assert metrics[t("skmpage.city_ikm", "id")] == ("75,96", "C · Kurang Baik")
    assert metrics[t("grade.respondents", "id")] == (str(city["n"]),
                                                      f"minimum {city['min_sample']}")
    assert any(t("grade.sample_too_small", "id") in text for text in texts(at.markdown))


def test_english_numbers_and_grade_words(example_store, monkeypatch):
    at = open_skm(example_store, monkeypatch, lang="en", grain="quarter", period=QUARTER)
    [title] = texts(at.header)
    assert title.startswith("City IKM 75.96, grade C · Poor")
    assert any("Sample too small for 4 of 4 units" in w for w in texts(at.warning))


def test_the_page_opens_on_the_quarter(example_store, monkeypatch):
    # No period in the link: SKM is reported per quarter, the newest one here (Q1 2026).
    at = open_skm(example_store, monkeypatch, lang="en")
    assert at.query_params["grain"] == "quarter"
    assert at.query_params["period"] == QUARTER
    table = table_with(at, t("skmpage.col_ikm", "en")).set_index(t("skmpage.col_code", "en"))
    assert table.loc["DINKES", t("skmpage.col_ikm", "en")] == "75.84"


def test_a_week_offers_the_quarter_around_it(example_store, monkeypatch):
    at = open_skm(example_store, monkeypatch, lang="en", grain="week", period="2026-03-16")
    hint = t("skmpage.short_period", "en", grain=t("filters.grain_week", "en").lower())
    assert hint in texts(at.info)
    [switch] = [button for button in at.button if button.label.startswith("Show ")]
    at = switch.click().run()
    no_exceptions(at)
    assert (at.query_params["grain"], at.query_params["period"]) == ("quarter", QUARTER)
    assert texts(at.header)[0].startswith("City IKM 75.96")


def test_the_element_table_has_every_nrr(example_store, monkeypatch):
    unit_column = t("skmpage.col_unit", "id")
    closed = open_skm(example_store, monkeypatch, lang="id", grain="quarter", period=QUARTER)
    # The numbers behind the heatmap are built only when their expander is opened.
    assert not [frame for frame in closed.dataframe if "U1" in " ".join(frame.value.columns)
                and unit_column in frame.value.columns]
    at = open_skm(example_store, monkeypatch, lang="id", grain="quarter", period=QUARTER,
                  state={"skm-nrr-open": True})
    first_element = t("skmpage.element_axis", "id", code="U1", name=t("element.u1", "id"))
    table = table_with(at, first_element).set_index(unit_column)
    for code, row in ikm_rows().items():
        name = UNIT_NAMES.get(code, t("skmpage.city", "id"))
        for index, element in enumerate(row["nrr"], start=1):
            column = t("skmpage.element_axis", "id", code=f"U{index}",
                       name=t(f"element.{element}", "id"))
            assert table.loc[name, column] == two_decimals(row["nrr"][element], "id")


def test_charts_and_downloads(example_store, monkeypatch):
    at = open_skm(example_store, monkeypatch, lang="en", grain="quarter", period=QUARTER)
    # heatmap, sample size, trend, and the chosen breakdown's chart (the first tab: service);
    # the other tabs are computed when chosen
    assert len(at.get("plotly_chart")) == 4
    csv_buttons = [button for button in at.get("download_button")
                   if button.proto.label == t("download.csv", "en")]
    # per unit, the chosen breakdown, comments; the element scores' once their expander opens
    assert len(csv_buttons) == 3
    at.session_state["skm-nrr-open"] = True
    at.run()
    no_exceptions(at)
    assert len([button for button in at.get("download_button")
                if button.proto.label == t("download.csv", "en")]) == 4
    assert [tab.label for tab in at.tabs] == [t(f"skmpage.by_{by}", "en")
                                              for by in skm.BREAKDOWNS]


def choose_breakdown(at: AppTest, by: str, lang: str = "en") -> AppTest:
    """Choose the breakdown tab of `by`, as a click on it does (the page reruns for it)."""
    at.session_state["skm-breakdown"] = t(f"skmpage.by_{by}", lang)
    at.run()
    no_exceptions(at)
    return at


def test_breakdown_by_gender_counts_the_respondents(example_store, monkeypatch):
    at = open_skm(example_store, monkeypatch, lang="en", grain="quarter", period=QUARTER)
    group = t("skmpage.col_group", "en")
    assert not any("L" in set(frame.value[group]) for frame in at.dataframe
                   if group in frame.value.columns)  # not computed before it is chosen
    choose_breakdown(at, "respondent_gender")
    tables = [frame.value for frame in at.dataframe if group in frame.value.columns]
    genders = next(frame for frame in tables if "L" in set(frame[group]))
    counts = {}
    for row in survey_rows():
        key = row["respondent_gender"] or t("skmpage.not_stated", "en")
        counts[key] = counts.get(key, 0) + 1
    shown = dict(zip(genders[group], genders[t("skmpage.col_n", "en")], strict=True))
    assert shown == {key: str(value) for key, value in counts.items()}


@pytest.mark.parametrize("search", ["antrian", "AC"])
def test_comments_search_is_case_insensitive(example_store, monkeypatch, search):
    at = open_skm(example_store, monkeypatch, lang="en", grain="quarter", period=QUARTER)
    at.text_input(key="skm-comment-search").input(search).run()
    no_exceptions(at)
    wanted = [row for row in survey_rows() if search.lower() in row["comment"].lower()]
    assert wanted, "the example has comments to find"
    assert t("skmpage.comments_count", "en", count=len(wanted)) in texts(at.caption)
    comments = table_with(at, t("skmpage.col_comment", "en"))[t("skmpage.col_comment", "en")]
    assert len(comments) == len(wanted)
    assert all(search.lower() in comment.lower() for comment in comments)


def test_one_unit_in_detail(example_store, monkeypatch):
    at = open_skm(example_store, monkeypatch, lang="en", grain="quarter", period=QUARTER,
                  unit="PKM-1")
    assert t("skmpage.comments_title", "en", unit=UNIT_NAMES["PKM-1"]) in texts(at.subheader)
    comments = table_with(at, t("skmpage.col_comment", "en"))
    assert set(comments[t("skmpage.col_unit", "en")]) == {UNIT_NAMES["PKM-1"]}
    wanted = [row for row in survey_rows() if row["unit_code"] == "PKM-1" and row["comment"]]
    assert len(comments) == len(wanted)


def test_weakest_element_and_sample_share():

    assert ikm.weakest_element({"u1": 3.0, "u2": 2.5, "u3": 2.5, "u4": None}) == "u2"
    assert ikm.weakest_element({"u1": None}) is None
    assert ikm.sample_share(122, 229) == pytest.approx(53.275, abs=1e-3)
    assert ikm.sample_share(0, 0) == 100.0
    assert ikm.nrr_of_grade("B") == pytest.approx(76.61 / 25)


def test_a_table_shown_in_part_offers_the_whole_table_built_only_when_asked(monkeypatch):
    """The comments table shows the newest COMMENTS_SHOWN rows; its files hold every comment,
    built only when a file is asked for (ui.downloads.table_with_downloads' `whole`)."""
    shown, offered, built = [], [], []
    monkeypatch.setattr(downloads.st, "dataframe", lambda frame, **_: shown.append(frame))
    monkeypatch.setattr(downloads, "table_downloads",
                        lambda frame, name, lang, key=None: offered.append(frame))

    def whole() -> pd.DataFrame:
        built.append(True)
        return pd.DataFrame({"n": range(10)})

    downloads.table_with_downloads(pd.DataFrame({"n": range(3)}), {"n": str}, "comments", "en",
                                   whole=whole)
    assert list(shown[0]["n"]) == ["0", "1", "2"] and not built
    assert len(offered[0]()) == 10 and built
    downloads.table_with_downloads(pd.DataFrame({"n": range(3)}), {}, "units", "en")
    assert len(offered[1]) == 3  # without `whole`, the table shown is the file's
