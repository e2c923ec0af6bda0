"""The overview of a province (issue 26, ui/drill.py): more than 100 units open on the top level
(the cities) and drill down, province → city → unit, the level in the URL (`parent`), a
breadcrumb back up. A store of 3 cities × 40 units (123 units) from bench/make_bench_data.py's
province layout, loaded through the import. A city's store shows the overview as before
(tests/test_page_overview.py: its links and heatmap rows are exactly the city's)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from kpi import metrics, periods, reporting, skm, users
from kpi.i18n import fmt_number, t
from kpi.ingest import ingest_file
from kpi.store import Store
from tests.generated import copied_store, generated_cities
from tests.helpers import DASHBOARD, no_exceptions, open_view, run, texts
from ui.data import forget_version

CITIES = {"K01": "Kota Bench 01", "K02": "Kota Bench 02", "K03": "Kota Bench 03"}


@pytest.fixture(scope="module")
def _province_folder(tmp_path_factory) -> Path:
    return generated_cities(tmp_path_factory.mktemp("province"), events=20_000, responses=2_000,
                            cities=3, units_per_city=40)


@pytest.fixture
def province(_province_folder, tmp_path) -> Store:
    return copied_store(_province_folder, tmp_path)


def _links(at) -> dict[str, tuple[str, dict[str, str]]]:
    """{label: (page, query parameters)} of the page links shown (the overview, the default
    page, has the empty path)."""
    return {link.proto.label: (link.proto.page or "overview",
                               dict(parse_qsl(link.proto.query_string)))
            for link in at.get("page_link")}


def _heatmap_rows(at) -> list[str]:
    charts = at.get("plotly_chart")
    assert charts, "the page shows no chart"
    return list(dict.fromkeys(json.loads(charts[0].proto.spec)["data"][0]["y"]))


def _open(store, monkeypatch, page: str | None = None, *, state: dict | None = None,
          **query: str):
    at = open_view(store, monkeypatch, page, state=state, **query)
    no_exceptions(at)
    return at


def test_a_province_opens_on_its_cities_and_drills_down_to_a_unit(province, monkeypatch):
    # 1. The province: the cities, one link each to the overview of that city; the heatmap
    #    draws the 3 cities, not 123 units; no breadcrumb at the top.
    at = _open(province, monkeypatch)
    assert "Cities and regencies" in texts(at.subheader)
    assert "The province as a whole" in texts(at.subheader)
    down = {label: target for label, target in _links(at).items()
            if target[0] == "overview"}
    assert {params["parent"] for _, params in down.values()} == set(CITIES)
    assert all(any(name in label for label in down) for name in CITIES.values())
    assert _heatmap_rows(at) == list(CITIES.values())
    assert "Province" not in _links(at)
    grain, period = at.query_params["grain"], at.query_params["period"]
    province_tiles = [metric.value for metric in at.metric]

    # 2. Click a city (its link's parameters): the breadcrumb leads back to the province, the
    #    city's 40 units each link to their unit page, the heatmap draws the city's 41 rows.
    city_link = next(params for _, params in down.values() if params["parent"] == "K02")
    assert (city_link["grain"], city_link["period"]) == (grain, period)
    at = _open(province, monkeypatch, **city_link)
    links = _links(at)
    assert links["Province"] == ("overview", {"grain": grain, "period": period, "lang": "en"})
    assert "**Kota Bench 02**" in texts(at.markdown)
    assert "Units of Kota Bench 02" in texts(at.subheader)
    # The tiles are the city's own, under its name (the province's are one click up).
    assert "Kota Bench 02" in texts(at.subheader)
    assert "The province as a whole" not in texts(at.subheader)
    assert [metric.value for metric in at.metric] != province_tiles
    units = {params["unit"]: params for page, params in links.values()
             if page == "unit" and "kpi" not in params}  # the exceptions' links name a KPI
    assert sorted(units) == [f"K02U{number:02d}" for number in range(1, 41)]
    assert len(_heatmap_rows(at)) == 41
    assert at.query_params["parent"] == "K02"

    # 3. Click a unit: its page, in the same period.
    at = _open(province, monkeypatch, "unit", **units["K02U07"])
    assert "Unit Layanan 02-07" in texts(at.title)[0]
    assert (at.query_params["grain"], at.query_params["period"]) == (grain, period)


def test_the_province_reads_only_the_level_shown_and_indonesian_has_its_words(
        province, monkeypatch):
    # The top level's exceptions are the cities' own (their pooled figures), not their 123
    # units' (whose SPC the page would compute for every unit of a province); the city level's
    # are its units'.
    exceptions_open = {"overview-exceptions-open": True}  # the table is built when opened
    at = _open(province, monkeypatch, lang="id", state=exceptions_open)
    assert "Kabupaten dan kota" in texts(at.subheader)
    tables = [frame.value for frame in at.dataframe if "Peringkat" in frame.value.columns]
    if texts(at.success):  # no exception in the period
        assert tables == []
    else:
        assert len(tables) == 1
        assert {name.split(" (")[0] for name in tables[0]["Unit"]} <= set(CITIES.values())
        title = texts(at.title)[0]
        assert "kabupaten" in title or "kota" in title
    at = _open(province, monkeypatch, lang="id", parent="K01", state=exceptions_open)
    assert _links(at)["Provinsi"][0] == "overview"
    tables = [frame.value for frame in at.dataframe if "Peringkat" in frame.value.columns]
    for table in tables:
        assert all(name.split(" (")[-1].rstrip(")").startswith("K01") for name in table["Unit"])


def test_compare_ranks_the_cities_then_a_citys_units(province, monkeypatch):
    at = _open(province, monkeypatch, "compare", kpi="throughput")
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert sorted(bars["y"]) == sorted(CITIES.values())
    assert any("ranked: choose one as the parent unit" in text for text in texts(at.caption))
    at = _open(province, monkeypatch, "compare", kpi="throughput", parent="K03")
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    # The city and those of its 40 units with completed visits in the week (a sparse store).
    city = {"Kota Bench 03", *(f"Unit Layanan 03-{number:02d}" for number in range(1, 41))}
    assert set(bars["y"]) <= city and len(bars["y"]) > 20


def test_satisfaction_ranks_the_cities_then_a_citys_units(province, monkeypatch):
    # The quarter's IKM per unit: at the top level the cities (1,353 rows and bars took the
    # browser 20 s to draw), under a city its units.
    from kpi.i18n import t

    def codes(at) -> set[str]:
        table = next(frame.value for frame in at.dataframe
                     if t("skmpage.col_ikm", "en") in frame.value.columns)
        return set(table[t("skmpage.col_code", "en")]) - {"*"}  # the province's own row aside

    at = _open(province, monkeypatch, "satisfaction", grain="quarter")
    assert codes(at) == set(CITIES)
    at = _open(province, monkeypatch, "satisfaction", grain="quarter", parent="K03")
    assert codes(at) and all(code.startswith("K03") for code in codes(at)) and len(codes(at)) > 5


def _navigation_titles(monkeypatch) -> dict[str, str]:
    """{url path: title} of the pages the router gives st.navigation, filled on every run."""
    titles: dict[str, str] = {}
    navigation = st.navigation

    def recorded(pages, **kwargs):
        for page in [page for section in pages.values() for page in section] \
                if isinstance(pages, dict) else pages:
            titles[page.url_path] = page.title
        return navigation(pages, **kwargs)

    monkeypatch.setattr(st, "navigation", recorded)
    return titles


def test_the_sidebar_names_a_provinces_overview(province, monkeypatch):
    # The overview of a province opens on its cities: the sidebar said "City overview".
    titles = _navigation_titles(monkeypatch)
    for lang in ("en", "id"):
        _open(province, monkeypatch, lang=lang)
        # The default page (the root, url path "") and its twin at /overview.
        assert titles[""] == titles["overview"] == t("nav.overview_province", lang)
        assert titles["overview"] == {"en": "Province overview", "id": "Ringkasan provinsi"}[lang]
    # A city user of the province sees their city's overview, under the city's name.
    city_user = "kota01@province.go.id"
    users.add_user(province, city_user, "reviewer", ["K01"], by="tests")
    monkeypatch.setenv("KPI_DB", str(province.path))
    at = AppTest.from_file(DASHBOARD, default_timeout=90)
    at.secrets = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback",
                           "cookie_secret": "test-only", "client_id": "kinerja",
                           "client_secret": "test-only",
                           "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}
    at.user = {"is_logged_in": True, "email": city_user, "email_verified": True}
    at.query_params["lang"] = "en"
    no_exceptions(run(at))
    assert "Cities and regencies" not in texts(at.subheader)  # their city's overview
    assert titles[""] == titles["overview"] == "City overview"


def test_the_skm_sample_sentence_of_a_province_names_its_cities(province, monkeypatch):
    # At the top level the SKM page's units are the cities and regencies, and its sample
    # sentence (too small for some, or enough for all) says so; a city's level says units.
    def sample_sentence(at) -> str:
        return next(text for text in texts(at.warning) + texts(at.success)
                    if "Krejcie" in text or "IKM" in text)

    for lang, words in (("en", "cities and regencies"), ("id", "kabupaten dan kota")):
        at = _open(province, monkeypatch, "satisfaction", lang=lang, grain="quarter")
        sentence = sample_sentence(at)
        assert words in sentence and " unit" not in sentence, sentence
        # The IKM table's title names them too.
        assert t("skmpage.province_table_title", lang) in texts(at.subheader), texts(at.subheader)
    at = _open(province, monkeypatch, "satisfaction", grain="quarter", parent="K03")
    assert " unit" in sample_sentence(at)
    assert t("skmpage.table_title", "en") in texts(at.subheader)


def test_a_province_total_waiting_for_its_recount_says_so(province, monkeypatch, tmp_path):
    from kpi import precompute

    precompute.set_defer_totals(province, True, by="tests")
    week = tmp_path / "week.csv"
    week.write_text("unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome\n"
                    "K01U01,S1,LATE-1,2026-11-18 09:00:00,2026-11-18 09:05:00,"
                    "2026-11-18 09:30:00,completed\n", encoding="utf-8")
    assert ingest_file(province, "events", week, loaded_by="tests").ok
    waiting = "The province totals of this period wait for this week's recount"
    at = _open(province, monkeypatch, grain="month", period="2026-11-01")
    assert any(waiting in text for text in texts(at.caption))
    at = _open(province, monkeypatch, grain="week", period="2026-11-16")  # its week waits too
    assert any(waiting in text for text in texts(at.caption))
    at = _open(province, monkeypatch, grain="week", period="2026-11-09")  # a week untouched
    assert not any(waiting in text for text in texts(at.caption))
    precompute.refresh_pending(province, by="tests")
    # The dashboard re-reads the data version at most every half second (ui/data.py): the
    # next page run after the recount, not one within that half second, shows it.
    forget_version()
    at = _open(province, monkeypatch, grain="month", period="2026-11-01")
    assert not any(waiting in text for text in texts(at.caption))


def _reported(store, grain: str, start: dt.date, counted_as: dict[str, str]) -> tuple[int, int]:
    """(reported, expected) of issue 12's rule, counted here from the reporting units: who
    reported in the period, and those plus who reported in the four periods before, each unit
    counted as `counted_as` says (itself, or its city)."""
    reported = reporting.reported_units(store, period=grain)
    by_start: dict[dt.date, set[str]] = {}
    for when, code in zip(reported["period_start"], reported["unit_code"], strict=True):
        if code in counted_as:
            by_start.setdefault(when, set()).add(counted_as[code])
    now, before, previous = by_start.get(start, set()), set(), start
    for _ in range(reporting.LOOKBACK):
        previous = periods.previous_period(previous, grain)
        before |= by_start.get(previous, set())
    return len(now), len(now | before)


def test_the_coverage_sentence_counts_the_level_shown(province, monkeypatch):
    """"n of m units reported" counts the units the page's figures pool: at the top level
    every unit and the cities they lie in, at a city its own 41 units (it counted the whole
    province there, 123 units under a city of 41)."""
    tree = metrics.unit_tree(province)
    city_of = {code: (list(path) or [code])[0]
               for code, path in zip(tree["unit_code"], tree["path"], strict=True)}
    at = _open(province, monkeypatch, grain="month")
    start = dt.date.fromisoformat(at.query_params["period"])
    units = _reported(province, "month", start, {code: code for code in city_of})
    cities = _reported(province, "month", start, city_of)
    units_text = t("filters.units_reported", "en", reported=units[0], expected=units[1])
    said = texts(at.caption) + texts(at.warning)
    assert any(t("coverage.in_cities", "en", units=units_text, reported=cities[0],
                 expected=cities[1]) in text for text in said), said
    at = _open(province, monkeypatch, lang="id", grain="month", parent="K02")
    k02 = _reported(province, "month", start, {code: code for code, city in city_of.items()
                                               if city == "K02"})
    assert k02 != units and k02[1] <= 41  # the check tells the two levels apart
    said = texts(at.caption) + texts(at.warning)
    k02_text = t("filters.units_reported", "id", reported=k02[0], expected=k02[1])
    assert any(k02_text in text for text in said), said
    assert not any(f"{k02_text}, di" in text for text in said)  # no cities under a city


def test_the_review_of_a_province_shows_its_tables_a_part_of_the_tree_at_a_time(province,
                                                                               monkeypatch):
    """The review's scorecard and SKM results of more than 100 units draw the top levels (the
    province and its cities), or one city with its units as the reader picks (a province's
    1,354 rows were sent to the browser on every rerun); the downloads keep every row."""
    at = open_view(province, monkeypatch, "review", role="reviewer", timeout=120)
    no_exceptions(at)
    part = at.selectbox(key="review-scorecard-part")
    assert part.value == "" and list(part.options) == [
        t("reviewscope.table_top", "en", rows="4"),
        *(t("reviewscope.table_subtree", "en", unit=name, rows="41") for name in CITIES.values())]

    def scorecard_units(at) -> list[str]:
        frame = next(frame.value for frame in at.dataframe if "Completed" in frame.value.columns)
        return [name.strip("\u2003") for name in frame["Unit"]]

    assert scorecard_units(at)[1:] == list(CITIES.values())  # after the province's own row
    at = part.set_value("K02").run()
    no_exceptions(at)
    shown = scorecard_units(at)
    assert shown[0] == CITIES["K02"] and len(shown) == 41
    assert not set(shown) & {CITIES["K01"], CITIES["K03"]}
    # The SKM results likewise: the top levels first, then a part for each city.
    skm = at.selectbox(key="review-skm-part")
    assert skm.value == "" and len(skm.options) == 1 + len(CITIES)
    assert [option.split(" and the units")[0] for option in skm.options[1:]] == list(
        CITIES.values())


def _up_to(text: str, value: str) -> str:
    """`text` up to and with `value` (a title's start: "Province IKM 75.96")."""
    return text[:text.index(value) + len(value)]


def test_satisfaction_names_the_province_and_a_city_in_its_place(province, monkeypatch):
    """At the top level the whole is the province, named so (it said "City IKM" and "City (all
    units)" of the 3 cities' pooled figures); drilled down to a city, the city's own IKM stands
    in the whole's place, under its name, as the overview's tiles do, not the province's."""
    rows = {row["unit_code"]: row for row in skm.ikm_table(
        province, date_from=dt.date(2026, 7, 1), date_to=dt.date(2026, 9, 30))}
    assert rows["K03"]["ikm_rounded"] != rows["*"]["ikm_rounded"]  # the check tells them apart
    for lang in ("en", "id"):
        at = _open(province, monkeypatch, "satisfaction", lang=lang, grain="quarter",
                   period="2026-07-01")
        province_ikm = fmt_number(rows["*"]["ikm_rounded"], lang, 2)
        assert texts(at.header)[0].startswith(_up_to(t(
            "skmpage.province_finding_short", lang, ikm=province_ikm, grade="-"), province_ikm))
        assert at.metric[0].label == t("skmpage.province_ikm", lang)
        table = next(frame.value for frame in at.dataframe
                     if t("skmpage.col_ikm", lang) in frame.value.columns)
        assert t("skmpage.province", lang) in set(table[t("skmpage.col_unit", lang)])
        at = _open(province, monkeypatch, "satisfaction", lang=lang, grain="quarter",
                   period="2026-07-01", parent="K03")
        city_ikm = fmt_number(rows["K03"]["ikm_rounded"], lang, 2)
        assert texts(at.header)[0].startswith(_up_to(t(
            "skmpage.finding_short", lang, ikm=city_ikm, grade="-"), city_ikm))
        assert at.metric[0].value == city_ikm
        table = next(frame.value for frame in at.dataframe
                     if t("skmpage.col_ikm", lang) in frame.value.columns)
        codes = list(table[t("skmpage.col_code", lang)])
        assert "*" not in codes and codes[-1] == "K03" and codes.count("K03") == 1
        assert table[t("skmpage.col_unit", lang)].iloc[-1] == CITIES["K03"]


def test_compare_calls_the_province_the_province(province, monkeypatch):
    """The reference line and the funnel's centre of a province's Compare page are the
    province's (`*`): said so, not "City" (their numbers are unchanged)."""
    for lang, parent in (("en", None), ("id", "K02")):
        at = _open(province, monkeypatch, "compare", lang=lang, kpi="within_standard_pct",
                   grain="month", **({"parent": parent} if parent else {}))
        specs = " ".join(chart.proto.spec for chart in at.get("plotly_chart"))
        assert t("compare.funnel_city_province", lang, value="") in specs
        assert t("compare.city_province", lang, value="") in specs
        assert t("compare.funnel_city", lang, value="") not in specs
        assert t("compare.funnel_caption_province", lang) in texts(at.caption)
