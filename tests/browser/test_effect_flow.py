"""Did it work? In a real browser (issue 23): a review closes an action with the date its change
took effect; the next week's review shows the verdict under "Effectiveness of actions taken";
the pack's PDF has the section; the Unit page marks the change. Screenshots in both languages,
desktop and tablet (tests/artifacts/effect-*.png).

It writes (an action's update, an intervention), so it runs against a dashboard of its own over
a private copy of the worked example.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from kpi import interventions, review
from kpi.i18n import t
from kpi.store import Store
from tests.browser.conftest import DESKTOP, TABLET, serve_dashboard

ACTION = "Second doctor at the general clinic"
KPI = "service_time_median"
REBASE_TITLE = "Sistem antrean daring dan loket tambahan untuk lansia"


@pytest.fixture(scope="module")
def effect_app(_example_store_file: Path, tmp_path_factory) -> Iterator[tuple[str, Path, int]]:
    """(url, store path, action id): a dashboard over a private copy of the worked example in
    which week 11's review raised an action on PKM-1's service time."""
    folder = tmp_path_factory.mktemp("effect-browser")
    store = folder / "kpi"
    shutil.copytree(_example_store_file, store)
    action_id = review.create_action(Store(store), "2026-W11", title=ACTION, unit_code="PKM-1",
                                     responsible="dr. Rina", due_date=dt.date(2026, 3, 20),
                                     kpi=KPI, item_key=f"exception:PKM-1:{KPI}", by="cli:test")
    # A rebasing change at PKM-2, for the Unit page (the review's judged change is PKM-1's).
    interventions.add(Store(store), unit_code="PKM-2", date="2026-03-09", title=REBASE_TITLE,
                      rebase=True, by="kepala@medan.go.id")
    with serve_dashboard(store, folder) as url:
        yield url, store, action_id


def test_an_action_closed_with_a_change_is_judged_the_next_week(new_page, effect_app, idle,
                                                               screenshot, tmp_path):
    url, store_path, action_id = effect_app
    page = new_page(*DESKTOP)
    page.goto(f"{url}/review?week=2026-W12&lang=en")
    idle(page)
    update = page.locator('[data-testid="stExpander"]').filter(
        has_text=t("review.update_action", "en")).first
    update.locator("summary").click()
    update.get_by_text(t("action.status_done", "en"), exact=True).click()
    update.get_by_role("textbox", name=t("review.update_comment", "en")).fill("Started on Monday 9 March")
    update.get_by_text(t("intervention.yes", "en"), exact=True).click()
    # A date field of day, month and year segments: typed key by key, each moves to the next.
    day = update.get_by_role("spinbutton", name=f"day, {t('effect.ask_change_from', 'en')}")
    day.click()
    day.press_sequentially("09032026")
    screenshot(page, "effect-close-form")
    update.get_by_role("button", name=t("review.update_save", "en")).click()
    idle(page)
    screenshot(page, "effect-closed")
    [change] = interventions.list_interventions(Store(store_path), unit="PKM-1")
    assert (change["action_id"], change["date"], change["kpi"], change["unit_code"]) == (
        action_id, "2026-03-09", KPI, "PKM-1")
    assert review.list_actions(Store(store_path), unit="PKM-1")[0]["status"] == "done"

    # The next week's review shows the verdict, in plain words, with its chart.
    for lang, (width, height), name in (("en", DESKTOP, "desktop"), ("id", TABLET, "tablet"),
                                        ("en", TABLET, "tablet"), ("id", DESKTOP, "desktop")):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{url}/review?week=2026-W13&lang={lang}")
        idle(page)
        heading = page.get_by_role("heading", name=f"7. {t('effect.section', lang)}")
        heading.wait_for()
        words = ("Service time (median): too early: 3 of 7 weeks" if lang == "en"
                 else "Waktu pelayanan (median): terlalu dini: 3 dari 7 minggu")
        page.get_by_role("heading", name=f"Puskesmas Contoh Satu: {ACTION}").wait_for()
        # newest first: the action's change (recorded after PKM-2's) is the first item
        opener = page.locator('[data-testid="stExpander"] summary').filter(
            has_text=t("effect.chart_open", lang)).first
        opener.click()
        idle(page)
        chart = page.locator('[data-testid="stExpander"]').filter(
            has_text=t("effect.chart_open", lang)).first.locator(".js-plotly-plot")
        chart.wait_for()
        # the change's marker, its title shortened on the chart
        assert chart.locator(".annotation-text").first.text_content() == "Second doctor at the ge…"
        # the verdict's words: PKM-1's change and PKM-2's (every KPI) each have the line
        assert page.get_by_text(words).count() == 2
        chart.scroll_into_view_if_needed()
        screenshot(page, f"effect-review-{lang}-{name}")

    # The pack's PDF has the section.
    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    page.goto(f"{url}/review?week=2026-W13&lang=en")
    idle(page)
    page.get_by_role("button", name=t("review.pack_prepare", "en")).click()
    idle(page, 180_000)
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name=t("review.pack_pdf", "en")).click()
    pdf = tmp_path / "pack.pdf"
    download.value.save_as(pdf)
    text = "\n".join(sheet.extract_text() for sheet in PdfReader(pdf).pages)
    assert "Effectiveness of actions taken" in text
    assert "Service time (median): too early: 3 of 7 weeks" in text
    assert ACTION in text


@pytest.mark.parametrize(("lang", "size"), [("en", TABLET), ("id", TABLET), ("id", DESKTOP)])
def test_the_unit_page_marks_the_change_and_rebases(new_page, effect_app, idle, screenshot,
                                                    lang, size):
    url, _, _ = effect_app
    page = new_page(*size)
    page.goto(f"{url}/unit?unit=PKM-2&grain=week&period=2026-03-23&kpi={KPI}&lang={lang}")
    idle(page)
    charts = page.locator(".js-plotly-plot")
    charts.nth(1).wait_for()
    # shortened on the chart (whole on hover), drawn once plotly has laid the chart out
    charts.nth(1).locator(".annotation-text", has_text="Sistem antrean daring d…").wait_for()
    switch = page.get_by_text(t("intervention.rebase_switch", lang))
    switch.wait_for()
    charts.nth(1).scroll_into_view_if_needed()
    screenshot(page, f"effect-unit-{lang}-{'tablet' if size == TABLET else 'desktop'}")
