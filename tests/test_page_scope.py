"""Pages filtered by the visitor's unit scope (issue 26 item 3): a city user (an analyst or
reviewer added with units, kpi/scope.py) sees the dashboard as a city's store would show it,
over their city's units alone; an admin sees every city. A store of 2 cities × 6 units from
bench/make_bench_data.py's province layout, loaded through the import."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kpi import metrics, review, users
from kpi.i18n import t
from kpi.store import Store
from tests.generated import copied_store, generated_cities
from tests.helpers import DASHBOARD, no_exceptions, open_view, run, texts

AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback",
                 "cookie_secret": "test-only", "client_id": "kinerja",
                 "client_secret": "test-only",
                 "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}
CITY_USER = "kota01@province.go.id"


@pytest.fixture(scope="module")
def _two_cities(tmp_path_factory) -> Path:
    path = generated_cities(tmp_path_factory.mktemp("two-cities"), events=6_000, responses=600,
                            cities=2, units_per_city=6)
    store = Store(path)
    users.add_user(store, CITY_USER, "reviewer", ["K01"], by="tests")
    store.close()
    return path


@pytest.fixture
def two_cities(_two_cities, tmp_path) -> Store:
    return copied_store(_two_cities, tmp_path)


def _subtree(store: Store, city: str) -> set[str]:
    tree = metrics.unit_tree(store)
    return {code for code, path in zip(tree["unit_code"], tree["path"], strict=True)
            if city in list(path) or code == city}


def _as_city_user(store: Store, monkeypatch, page: str, **query: str) -> AppTest:
    monkeypatch.setenv("KPI_DB", str(store.path))
    at = AppTest.from_file(DASHBOARD, default_timeout=90)
    at.secrets = AUTH
    at.user = {"is_logged_in": True, "email": CITY_USER, "email_verified": True}
    at.query_params["lang"] = "en"
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page(f"pages/{page}.py")
    run(at)
    no_exceptions(at)
    return at


def _heatmap_rows(at: AppTest) -> list[str]:
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    heatmap = next(spec for spec in charts if spec["data"][0]["type"] == "heatmap")
    return list(dict.fromkeys(heatmap["data"][0]["y"]))


def test_a_city_user_sees_the_overview_of_their_city_alone(two_cities, monkeypatch):
    tree = metrics.unit_tree(two_cities)
    names = dict(zip(tree["unit_code"], tree["name"], strict=True))
    mine, theirs = _subtree(two_cities, "K01"), _subtree(two_cities, "K02")
    at = _as_city_user(two_cities, monkeypatch, "overview")
    # The city's tiles are their city's (K01 in the city's place); the heatmap and the
    # exceptions are its units; nothing of the other city.
    assert names["K01"] in texts(at.subheader)
    assert sorted(_heatmap_rows(at)) == sorted(names[code] for code in mine - {"K01"})
    shown = " ".join(texts(at.markdown) + texts(at.subheader) + texts(at.title))
    assert not [names[code] for code in theirs if names[code] in shown]
    # The sidebar's parent filter offers their city's parents only.
    parents = at.selectbox(key="kinerja_filter_parent").options[1:]  # after "All units"
    assert parents and set(parents) <= {f"{names[code]} ({code})" for code in mine}
    # An admin sees both cities, each a unit of the heatmap.
    admin = open_view(two_cities, monkeypatch, "overview", role="admin")
    assert {names["K01"], names["K02"]} <= set(_heatmap_rows(admin))


def test_a_city_user_compares_and_picks_only_their_units(two_cities, monkeypatch):
    tree = metrics.unit_tree(two_cities)
    names = dict(zip(tree["unit_code"], tree["name"], strict=True))
    mine = _subtree(two_cities, "K01")
    at = _as_city_user(two_cities, monkeypatch, "compare")
    league = at.dataframe[0].value
    assert set(league["Code"]) == mine - {"K01"}
    unit_page = _as_city_user(two_cities, monkeypatch, "unit")
    assert {option.rsplit("(", 1)[-1].rstrip(")")
            for option in unit_page.selectbox(key="kinerja_filter_unit").options} == mine
    assert names["K02"] not in " ".join(texts(unit_page.title) + texts(unit_page.subheader))


def test_a_city_user_edits_the_targets_and_meets_over_their_units(two_cities, monkeypatch):
    mine = _subtree(two_cities, "K01")
    at = _as_city_user(two_cities, monkeypatch, "targets")
    targets = at.data_editor(key="targets_editor_0").value
    services = at.data_editor(key="services_editor_0").value
    assert len(targets) and set(targets["unit_code"]) <= mine  # no other city's, no `*` row
    assert len(services) and set(services["unit_code"]) <= mine
    assert list(targets.index) == list(range(1, len(targets) + 1))  # the rows its problems name
    review = _as_city_user(two_cities, monkeypatch, "review")
    tree = metrics.unit_tree(two_cities)
    names = dict(zip(tree["unit_code"], tree["name"], strict=True))
    frames = [element.value for element in review.dataframe]
    scorecard = next(frame for frame in frames if "Completed" in frame.columns)
    skm = next(frame for frame in frames if "Respondents" in frame.columns)
    for shown in (scorecard, skm):  # the agenda's scorecard and SKM: their city, then its units
        units = [name.strip("\u2003") for name in shown["Unit"]]
        assert units[0] == names["K01"]
        assert set(units) == {names[code] for code in mine}


def test_a_city_reviewer_keeps_and_finalises_their_own_review_record(two_cities, monkeypatch):
    """The review record belongs to (week, scope): the city user's page shows and finalises
    their city's record; the province's review of the week stays a draft with its minutes."""
    week = review.default_week(two_cities)
    review.save_minutes(two_cities, week, decisions="Provinsi: satu loket lagi", by="tests")
    names = dict(zip(*(metrics.unit_tree(two_cities)[column] for column in ("unit_code", "name")),
                     strict=True))
    at = _as_city_user(two_cities, monkeypatch, "review", week=week)
    assert f"Review of K01 — {names['K01']}" in " ".join(texts(at.markdown))
    assert t("review.status_none", "en") in texts(at.info)  # their record: no minutes yet
    assert at.text_area(key="decisions").value == ""  # not the province's minutes
    at.text_area(key="decisions").input("Kota: tambah petugas")
    at.checkbox(key="finalise-confirm").check()
    at = run(at)
    if any(box.key == "finalise-incomplete" for box in at.checkbox):
        at.checkbox(key="finalise-incomplete").check()
        at = run(at)
    at.button(key="finalise").click()
    at = run(at)
    no_exceptions(at)
    assert review.get_review(two_cities, week, "K01")["status"] == "final"
    assert review.load_record(two_cities, week, "K01")["minutes"]["decisions"] == \
        "Kota: tambah petugas"
    assert review.get_review(two_cities, week)["status"] == "draft"
    assert any(text.startswith("✓") for text in texts(at.success))
    # The province's meeting (an unscoped reviewer) still has its draft and its own minutes.
    province = open_view(two_cities, monkeypatch, "review", role="reviewer", timeout=120,
                         week=week)
    assert t("review.status_draft", "en") in texts(province.info)
    assert province.text_area(key="decisions").value == "Provinsi: satu loket lagi"
    assert "Review of K01" not in " ".join(texts(province.markdown))


def _funnel_centre(at: AppTest) -> float:
    """The y of the funnel plot's centre line (its one horizontal line)."""
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    funnel = next(spec for spec in charts
                  if any(trace.get("mode") == "lines" for trace in spec["data"]))
    return funnel["layout"]["shapes"][0]["y0"]


def test_a_city_users_funnel_is_centred_on_their_city(two_cities, monkeypatch):
    """The funnel compares the units a city user may see: its centre line is their city's
    rate (K01 pools its subtree), not the store's; an admin's stays the store's (`*`)."""
    at = _as_city_user(two_cities, monkeypatch, "compare", kpi="within_standard_pct",
                       grain="month")
    period = dt.date.fromisoformat(at.query_params["period"])
    rates = metrics.funnel(two_cities, kpi="within_standard_pct", period="month",
                           period_start=period).set_index("unit_code")
    store_rate = rates["city_rate"].iloc[0]
    assert rates.loc["K01", "rate"] != pytest.approx(store_rate)  # the check tells them apart
    assert _funnel_centre(at) == pytest.approx(rates.loc["K01", "rate"])
    admin = open_view(two_cities, monkeypatch, "compare", role="admin", kpi="within_standard_pct",
                      grain="month", period=period.isoformat())
    assert _funnel_centre(admin) == pytest.approx(store_rate)


def test_a_city_users_satisfaction_page_and_an_admins_keep_apart(two_cities, monkeypatch):
    """The SKM page's tables and figures are kept per data version and view (ui.data
    per_version): a city user's (their city in the whole's place, its units) and an admin's
    (the city `*`, every unit) in one process never show each other's."""
    from kpi.i18n import t

    def units(at: AppTest) -> list[str]:
        table = next(frame.value for frame in at.dataframe
                     if t("skmpage.col_ikm", "en") in frame.value.columns)
        return list(table[t("skmpage.col_code", "en")])

    mine = _subtree(two_cities, "K01")
    city_user = _as_city_user(two_cities, monkeypatch, "satisfaction", grain="quarter")
    shown = units(city_user)
    assert shown[-1] == "K01" and set(shown) <= mine and len(shown) > 1
    tree = metrics.unit_tree(two_cities)
    names = dict(zip(tree["unit_code"], tree["name"], strict=True))
    assert not {names[code] for code in _subtree(two_cities, "K02")} & set(
        _heatmap_rows(city_user))
    admin = open_view(two_cities, monkeypatch, "satisfaction", role="admin", grain="quarter",
                      period=city_user.query_params["period"])
    assert units(admin)[-1] == "*" and {"K01", "K02"} <= set(units(admin))
    again = _as_city_user(two_cities, monkeypatch, "satisfaction", grain="quarter")
    assert units(again) == shown
