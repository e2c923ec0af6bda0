"""Issue 26 item 3: a province user finds any of its 1,353 units (33 cities × 40 units) in three
clicks, in chromium: the province overview lists the cities, a city's link opens its overview
(the level in the URL, `parent`, with a breadcrumb back up), a unit's link opens its page.
Screenshots of each step in both languages on a desktop and an 820 px tablet
(tests/artifacts/province-*.png)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bench.make_bench_data import make_bench_data
from kpi.i18n import t
from kpi.ingest import ingest_file
from kpi.store import Store
from tests.browser.conftest import DESKTOP, TABLET, open_app, serve_dashboard, wait_idle

pytestmark = pytest.mark.slow

CITIES, UNITS_PER_CITY = 33, 40


@pytest.fixture(scope="module")
def province_url(tmp_path_factory) -> str:
    """The dashboard over a province store of 1,353 units (a small week of events each)."""
    folder = tmp_path_factory.mktemp("province-browser")
    files = make_bench_data(folder / "csv", events=30_000, responses=3_000, cities=CITIES,
                            units_per_city=UNITS_PER_CITY)
    store = Store(folder / "kpi", create=True)
    for kind in ("units", "services", "targets", "survey", "events"):
        assert ingest_file(store, kind, files[kind], loaded_by="tests").ok
    store.close()
    with serve_dashboard(folder / "kpi", folder) as url:
        yield url


def click_link(page, name: str) -> None:
    """Click the page link whose text begins with `name` and wait for the page it opens."""
    page.locator('[data-testid="stPageLink-NavLink"]', has_text=name).first.click()
    wait_idle(page)


def query(page) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}


def no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


# Each viewport and language walks to another unit (the first city's first, the last city's
# last, one in between): any unit is reached the same way.
WALKS = [("en", DESKTOP, "01", "01-01"), ("id", DESKTOP, "33", "33-40"),
         ("en", TABLET, "17", "17-20"), ("id", TABLET, "02", "02-39")]


@pytest.mark.parametrize(("lang", "viewport", "city", "unit"), WALKS,
                         ids=["desktop-en", "desktop-id", "tablet-en", "tablet-id"])
def test_any_unit_of_a_province_is_three_clicks_away(province_url, new_page, screenshot,
                                                     lang, viewport, city, unit):
    device = "desktop" if viewport == DESKTOP else "tablet"
    page = new_page(*viewport)
    # Click 1: the dashboard's first page, the province overview, lists the 33 cities.
    open_app(page, f"{province_url}/?lang={lang}")
    no_error(page)
    assert page.get_by_role("heading", name=t("drill.cities_heading", lang), exact=True).count() == 1
    links = page.locator('[data-testid="stPageLink-NavLink"]')
    shown = " ".join(links.all_inner_texts())
    assert all(f"Kota Bench {number:02d}" in shown for number in range(1, CITIES + 1))
    screenshot(page, f"province-1-cities-{device}-{lang}")
    # Click 2: the city's overview, its level in the URL, the breadcrumb back up, its units.
    click_link(page, f"Kota Bench {city}")
    no_error(page)
    assert query(page)["parent"] == f"K{city}"
    heading = t("drill.units_heading", lang, unit=f"Kota Bench {city}")
    assert page.get_by_role("heading", name=heading, exact=True).count() == 1
    assert links.filter(has_text=t("drill.top", lang)).count() == 1
    shown = " ".join(links.all_inner_texts())
    assert all(f"Unit Layanan {city}-{number:02d}" in shown
               for number in range(1, UNITS_PER_CITY + 1))
    screenshot(page, f"province-2-city-{device}-{lang}")
    # Click 3: the unit's page, in the same period.
    city_url, period = page.url, query(page)["period"]
    click_link(page, f"Unit Layanan {unit}")
    no_error(page)
    assert query(page)["unit"] == f"K{unit.replace('-', 'U')}"
    assert query(page)["period"] == period
    assert f"Unit Layanan {unit}" in page.locator('[data-testid="stMain"] h1').first.inner_text()
    screenshot(page, f"province-3-unit-{device}-{lang}")
    # A copied link reopens the city's level; its breadcrumb leads back to the province.
    open_app(page, city_url)
    assert query(page)["parent"] == f"K{city}"
    click_link(page, t("drill.top", lang))
    no_error(page)
    assert "parent" not in query(page)
    assert page.get_by_role("heading", name=t("drill.cities_heading", lang), exact=True).count() == 1


@pytest.mark.parametrize(("lang", "viewport"), [("en", DESKTOP), ("id", TABLET)],
                         ids=["desktop-en", "tablet-id"])
def test_the_satisfaction_page_names_the_province_then_a_city(province_url, new_page, screenshot,
                                                              lang, viewport):
    """The SKM page of a province: the province's IKM over its cities, then a city's IKM over
    its units (the city in the whole's place), each with its heatmap and sample chart drawn."""
    device = "desktop" if viewport == DESKTOP else "tablet"
    page = new_page(*viewport)
    open_app(page, f"{province_url}/satisfaction?grain=quarter&lang={lang}")
    no_error(page)
    heading = page.locator('[data-testid="stMain"] h2').first.inner_text()
    assert heading.startswith(t("skmpage.province_ikm", lang)), heading
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 3
    screenshot(page, f"province-skm-1-province-{device}-{lang}")
    open_app(page, f"{province_url}/satisfaction?grain=quarter&parent=K05&lang={lang}")
    no_error(page)
    heading = page.locator('[data-testid="stMain"] h2').first.inner_text()
    assert heading.startswith(t("skmpage.city_ikm", lang)), heading
    assert "Kota Bench 05" in page.locator('[data-testid="stMain"]').inner_text()
    screenshot(page, f"province-skm-2-city-{device}-{lang}")
