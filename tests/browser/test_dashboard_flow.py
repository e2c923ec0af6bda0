"""The mayor's-office flow in a real browser, on a desktop and on a tablet: open the overview,
switch to Bahasa Indonesia, follow an exception to its unit, change the period, and open the
copied link in a fresh browser: the same view. Screenshots land in tests/artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, POLL_MS, TABLET, wait_idle, wait_settled

VIEWPORTS = {"desktop": DESKTOP, "tablet": TABLET}


def heading(page) -> str:
    return page.locator("h1").first.inner_text().strip()


SIDEBAR_OPEN = """() => {
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    const box = sidebar && sidebar.getBoundingClientRect();
    return Boolean(box) && box.width > 0 && box.x + box.width > 10;
}"""


def sidebar_open(page) -> bool:
    return page.evaluate(SIDEBAR_OPEN)


def show_sidebar(page) -> None:
    """Open the sidebar when the viewport has collapsed it."""
    if not sidebar_open(page):
        page.locator('[data-testid="stExpandSidebarButton"]').first.click()
        page.wait_for_function(SIDEBAR_OPEN, polling=POLL_MS)
        wait_settled(page, '[data-testid="stSidebar"]')
    assert sidebar_open(page)


def hide_sidebar_on_narrow_screens(page) -> None:
    """On a tablet the open sidebar covers the page: close it before a screenshot."""
    if page.viewport_size["width"] < 1000 and sidebar_open(page):
        page.locator('[data-testid="stSidebar"]').hover()  # the button shows on hover
        page.locator('[data-testid="stSidebarCollapseButton"] button').first.click()
        page.wait_for_function(f"() => !({SIDEBAR_OPEN})()", polling=POLL_MS)
        wait_settled(page, '[data-testid="stSidebar"]')


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the sidebar selectbox labelled `label` and wait for the rerun."""
    show_sidebar(page)
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
        has=page.get_by_text(label, exact=True))
    field = box.get_by_role("combobox")
    field.click()
    field.fill(option)  # the list filters as one types, as a user searching for a week
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def selected(page, label: str) -> str:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
        has=page.get_by_text(label, exact=True))
    field = box.get_by_role("combobox")
    return (field.input_value() if field.evaluate("e => e.tagName") == "INPUT"
            else field.inner_text()).strip()


def no_horizontal_scroll(page) -> None:
    overflow = page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        return [document.documentElement.scrollWidth - window.innerWidth,
                main ? main.scrollWidth - main.clientWidth : 0];
    }""")
    assert max(overflow) <= 1, f"the page scrolls sideways by {overflow} px"


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_overview_to_unit_and_back_by_link(device, goto, new_page, screenshot):
    page = new_page(*VIEWPORTS[device])
    goto(page)
    assert heading(page) == "1 unit off target"
    assert page.get_by_text("Week 13 · 23–29 Mar 2026").first.is_visible()
    no_horizontal_scroll(page)
    hide_sidebar_on_narrow_screens(page)
    screenshot(page, f"{device}-1-overview-en")

    show_sidebar(page)
    page.locator('[data-testid="stSidebar"]').get_by_role("radio", name="Bahasa Indonesia").click()
    expect(page.locator("h1").first).to_have_text("1 unit tidak memenuhi target")
    wait_idle(page)
    assert "lang=id" in page.url
    hide_sidebar_on_narrow_screens(page)
    screenshot(page, f"{device}-2-overview-id")

    page.get_by_role("link", name=re.compile(r"1\. Puskesmas Contoh Satu")).click()
    expect(page.locator("h1").first).to_have_text(
        "Puskesmas Contoh Satu: 1 dari 4 indikator tidak memenuhi target")
    wait_idle(page)
    assert "/unit" in page.url and "unit=PKM-1" in page.url
    assert page.get_by_text("Minggu 13 · 23–29 Mar 2026").first.is_visible()
    no_horizontal_scroll(page)
    hide_sidebar_on_narrow_screens(page)
    screenshot(page, f"{device}-3-unit-id")

    choose(page, "Periode", "Minggu 12 · 16–22 Mar 2026")
    expect(page).to_have_url(re.compile(r"period=2026-03-16"))
    expect(page.get_by_text("Minggu 12 · 16–22 Mar 2026", exact=True).first).to_be_visible()
    wait_idle(page)
    assert selected(page, "Periode") == "Minggu 12 · 16–22 Mar 2026"
    changed_heading = heading(page)
    assert changed_heading.startswith("Puskesmas Contoh Satu")
    hide_sidebar_on_narrow_screens(page)
    screenshot(page, f"{device}-4-unit-id-previous-week")

    copied = page.url
    fresh = new_page(*VIEWPORTS[device])
    fresh.goto(copied)
    wait_idle(fresh)
    assert heading(fresh) == changed_heading
    assert fresh.get_by_text("Minggu 12 · 16–22 Mar 2026").first.is_visible()
    assert "lang=id" in fresh.url and "unit=PKM-1" in fresh.url
    show_sidebar(fresh)
    assert selected(fresh, "Periode") == "Minggu 12 · 16–22 Mar 2026"
    assert selected(fresh, "Unit layanan") == "Puskesmas Contoh Satu (PKM-1)"



def test_the_overview_opens_at_its_own_name(goto, page):
    """/overview (the page's own name, as a user might type it) opens the overview with its
    view parameters, not "Page not found" and the main page."""
    goto(page, "overview?lang=en&grain=month")
    assert heading(page).endswith("off target"), heading(page)  # the overview's title
    assert page.get_by_text("Page not found").count() == 0
    assert "/overview" in page.url and "grain=month" in page.url
