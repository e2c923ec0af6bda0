"""The Targets page and the review pack flow in Indonesian, on a tablet (820 px) and a desktop
(issue 22): dates picked as DD/MM/YYYY, unit types by name, numbers with a decimal comma, and
the pack prepared and offered for download. Screenshots: tests/artifacts/forms-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kpi.i18n import t
from tests.browser.conftest import DESKTOP, TABLET

SIZES = {"tablet": TABLET, "desktop": DESKTOP}


@pytest.mark.parametrize("size", list(SIZES))
def test_the_targets_page_in_indonesian(goto, new_page, screenshot, idle, size):
    page = new_page(*SIZES[size])
    goto(page, "targets?lang=id")
    page.get_by_role("heading", name=t("targetspage.title", "id")).wait_for()
    day = page.get_by_role("group", name=t("targetspage.change_from", "id")).inner_text()
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", re.sub(r"\s+", "", day)), day
    # The unit type picker shows the catalogue's name of the first type, not its code.
    picker = page.locator('[data-testid="stSelectbox"]').filter(
        has_text=t("targetspage.bulk_type", "id"))
    assert t("filters.unit_types.civil_registry", "id") in picker.inner_html()
    assert "civil_registry" not in picker.inner_html()
    # A target typed with a decimal point is refused in Indonesian, in Indonesian.
    page.get_by_role("textbox", name=t("targetspage.col_target", "id"), exact=True).first.fill(
        "24.5")
    page.get_by_role("button", name=t("targetspage.change_apply", "id")).click()
    idle(page)
    expect(page.get_by_text(t("forms.bad_number", "id", value="24.5", example="12,5"))
           ).to_be_visible()
    screenshot(page, f"forms-targets-id-{size}")


@pytest.mark.parametrize("size", list(SIZES))
def test_the_review_pack_is_prepared_in_indonesian(goto, new_page, screenshot, idle, size):
    page = new_page(*SIZES[size])
    goto(page, "review?week=2026-W13&lang=id")
    page.get_by_role("button", name=t("review.pack_prepare", "id")).click()
    idle(page, timeout_ms=180_000)
    expect(page.get_by_text(re.compile(re.escape(t("review.pack_ready", "id", week="2026-W13",
                                                     seconds="")[:-9])))).to_be_visible()
    for key in ("review.pack_pdf", "review.pack_html"):
        expect(page.get_by_role("button", name=t(key, "id"), exact=True)).to_be_visible()
    screenshot(page, f"forms-review-pack-id-{size}")
