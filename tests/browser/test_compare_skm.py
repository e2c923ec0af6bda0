"""The Compare units and Satisfaction (SKM) pages in a real browser, in both languages, on a
laptop (1366×768) and a tablet in portrait (820×1180): they render without error, every chart
is drawn with its PNG download, nothing spills sideways, and the screenshots are saved in
tests/artifacts/ for a person to look at."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kpi.i18n import t
from tests.browser.test_charts_fit import misfits

VIEWPORTS = {"desktop": (1366, 768), "tablet": (820, 1180)}
SURVEY_CSV = Path(__file__).resolve().parents[3] / "shared" / "spec" / "example" / "survey.csv"
COMPARE = "compare?grain=month&period=2026-03-01&kpi=within_standard_pct&lang={lang}"
SATISFACTION = "satisfaction?grain=quarter&period=2026-01-01&lang={lang}"


def check_rendered(page, *, charts: int) -> None:
    """No error box, `charts` plotly charts drawn, each with the PNG download in its modebar,
    and no horizontal scrolling of the page itself."""
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    drawn = page.locator('[data-testid="stPlotlyChart"] .main-svg')
    page.wait_for_function(
        f"""() => document.querySelectorAll('[data-testid="stPlotlyChart"] .plot-container')
                   .length >= {charts}""")
    assert page.locator('[data-testid="stPlotlyChart"]').count() == charts
    assert drawn.count() >= charts
    png_buttons = page.locator('[data-testid="stPlotlyChart"] .modebar-btn[data-title]')
    titles = {png_buttons.nth(index).get_attribute("data-title")
              for index in range(png_buttons.count())}
    assert any("png" in (title or "").lower() or "PNG" in (title or "") for title in titles), titles
    overflow = page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        return main.scrollWidth - main.clientWidth;
    }""")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"
    assert misfits(page) == []  # titles, legends and labels inside their charts, none cut


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("lang", ["en", "id"])
def test_compare_page(new_page, goto, screenshot, lang, viewport):
    page = new_page(*VIEWPORTS[viewport])
    goto(page, COMPARE.format(lang=lang))
    check_rendered(page, charts=2)  # the ranking and the funnel plot
    header = page.locator('[data-testid="stHeading"] h2').first.inner_text()
    assert "Disdukcapil Contoh" in header
    assert ("98,5 %" if lang == "id" else "98.5%") in header
    # The funnel's finding names the unit worse than chance explains.
    # (the month's "partial period" notice comes first: the example's data end on 29 March)
    warnings = page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts()
    assert any("Puskesmas Contoh Dua" in warning for warning in warnings), warnings
    path = screenshot(page, f"compare-{lang}-{viewport}")
    assert path.stat().st_size > 20_000


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("lang", ["en", "id"])
def test_satisfaction_page(new_page, goto, idle, screenshot, lang, viewport):
    page = new_page(*VIEWPORTS[viewport])
    goto(page, SATISFACTION.format(lang=lang))
    # heatmap, sample size, trend and the chosen breakdown's chart (only it is computed)
    check_rendered(page, charts=4)
    # Choosing another breakdown draws its chart and table in place of the first.
    page.get_by_role("tab", name=t("skmpage.by_respondent_gender", lang)).click()
    idle(page)
    check_rendered(page, charts=4)
    expect(page.get_by_role("tab", name=t("skmpage.by_respondent_gender", lang),
                            selected=True)).to_have_count(1)
    expect(page.get_by_role("tabpanel").locator('[data-testid="stPlotlyChart"]')
           ).to_be_visible()
    # The numbers behind the heatmap are built when their expander opens (the page reruns).
    numbers = page.locator('[data-testid="stExpander"]').filter(
        has_text=t("skmpage.heatmap_data", lang))
    expect(numbers.locator('[data-testid="stDataFrame"]')).to_have_count(0)
    numbers.locator("summary").click()
    idle(page)
    expect(numbers.locator('[data-testid="stDataFrame"]')).to_be_visible()
    title = page.locator('[data-testid="stHeading"] h2').first.inner_text()
    assert ("75,96" if lang == "id" else "75.96") in title
    warnings = page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts()
    assert any(t("grade.sample_too_small", lang) in warning for warning in warnings), warnings
    path = screenshot(page, f"satisfaction-{lang}-{viewport}")
    assert path.stat().st_size > 20_000


def test_comment_search_in_the_browser(page, goto, idle):
    goto(page, SATISFACTION.format(lang="id"))
    with SURVEY_CSV.open(encoding="utf-8") as handle:
        wanted = sum("antrian" in row["comment"].lower() for row in csv.DictReader(handle))
    box = page.get_by_label(t("skmpage.search", "id"))
    box.fill("Antrian")
    box.press("Enter")
    # The rerun may not have started when Enter returns: wait for its result, not for idleness.
    expect(page.get_by_text(t("skmpage.comments_count", "id", count=wanted), exact=True)
           ).to_have_count(1, timeout=30_000)
    idle(page)
