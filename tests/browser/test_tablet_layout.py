"""Issue 22 (major 6): on an 820 px tablet the sidebar starts collapsed, and the units off
target are on the overview's first screen; on a desktop the sidebar stays open."""

from __future__ import annotations

import pytest

from kpi.i18n import t
from tests.browser.conftest import DESKTOP, TABLET, wait_idle
from tests.browser.test_dashboard_flow import SIDEBAR_OPEN


def sidebar_open(page) -> bool:
    return page.evaluate(SIDEBAR_OPEN)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_tablet_opens_with_the_sidebar_collapsed_and_the_units_off_target_in_view(
        goto, new_page, screenshot, lang):
    page = new_page(*TABLET)
    goto(page, f"?lang={lang}")
    page.wait_for_function(f"() => !({SIDEBAR_OPEN})()", timeout=10_000)
    wait_idle(page)
    assert not sidebar_open(page)
    heading = page.get_by_role("heading", name=t("overview.exceptions_heading", lang))
    box = heading.bounding_box()
    assert box is not None and box["y"] + box["height"] < TABLET[1], box
    screenshot(page, f"tablet-overview-first-screen-{lang}")


def test_the_desktop_keeps_the_sidebar_open(goto, new_page):
    page = new_page(*DESKTOP)
    goto(page)
    wait_idle(page)
    assert sidebar_open(page)
