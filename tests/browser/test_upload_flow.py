"""The Upload page in a real browser: files dropped through the file input, columns mapped,
checked; screenshots of the validation report in both languages (tests/artifacts/).

Only checks (dry runs): the served store is shared by the browser tests and stays unchanged.
"""

from __future__ import annotations

import pytest

from kpi.i18n import t
from tests.helpers import BAD_EVENTS

INDONESIAN_EVENTS = "\n".join([
    "Kode Unit;Kode Layanan;No Antrian;Waktu Datang;Jam Mulai;Jam Selesai;Status;Catatan",
    "PKM-2;UMUM;ID-1;2026-03-24 08:00:00;2026-03-24 08:05:00;2026-03-24 08:30:00;completed;-",
    "PKM-2;UMUM;ID-2;2026-03-24 09:00:00;2026-03-24 09:10:00;2026-03-24 09:30:00;completed;-",
]) + "\n"


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label` (its list opens on a click; a click that
    lands while the page re-renders is tried again)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_role("combobox", name=label, exact=True)
    item = page.locator('[role="option"]').filter(has_text=option).first
    for _ in range(3):
        box.click()
        try:
            item.wait_for(state="visible", timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    item.click()


@pytest.mark.parametrize("lang", ["en", "id"])
def test_upload_check_and_report(page, goto, idle, screenshot, tmp_path, lang):
    bad = tmp_path / "events-week13.csv"
    bad.write_text(BAD_EVENTS, encoding="utf-8")
    mapped = tmp_path / "antrian-simpus.csv"
    mapped.write_text(INDONESIAN_EVENTS, encoding="utf-8")
    goto(page, f"upload?lang={lang}")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        [str(bad), str(mapped)])
    idle(page)
    for name in (bad.name, mapped.name):  # both uploaded and shown before anything is clicked
        page.get_by_role("heading", name=name).wait_for()
    check = t("upload.validate", lang)
    # Events first (the columns match), then the Indonesian export with an unknown column.
    for index, count in ((0, "5"), (1, "1")):
        page.get_by_role("button", name=check).nth(index).click()
        idle(page)
        page.get_by_text(t("upload.problems_found", lang, count=count)).wait_for()
    assert page.get_by_text(t("upload.valid", lang, rows="2")).count() == 0  # Catatan not matched
    assert page.get_by_role("button", name=t("upload.commit", lang), exact=True).count() == 0
    screenshot(page, f"upload-report-{lang}")
    # Leave the unknown column out: the same file is now valid and may be imported.
    choose(page, t("mapeditor.left_out", lang), "Catatan")
    page.keyboard.press("Escape")  # a multiselect's list stays open after a choice
    idle(page)
    page.get_by_role("button", name=check).nth(1).click()
    idle(page)
    screenshot(page, f"upload-mapped-{lang}")
    page.get_by_text(t("upload.valid", lang, rows="2")).wait_for()
    assert page.get_by_role("button", name=t("upload.commit", lang), exact=True).count() == 1


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("path", ["history", "targets", "quality"])
def test_the_other_data_pages_render(page, goto, screenshot, path, lang):
    goto(page, f"{path}?lang={lang}")
    title = {"history": "history.title", "targets": "targetspage.title",
             "quality": "quality.title"}[path]
    page.get_by_role("heading", name=t(title, lang)).wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, f"{path}-{lang}")


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_queue_machine_export_is_mapped_and_checked(page, goto, idle, screenshot, tmp_path,
                                                      lang):
    """Issue 12: the export goes in as the machine wrote it (semicolons, CRLF, Indonesian
    headers, split dd/mm/yyyy date and time, status words, daily queue numbers)."""
    from tests.queue_export import write_export

    export = write_export(tmp_path / "antrian-pkm.csv")
    goto(page, f"upload?lang={lang}")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(export))
    idle(page)
    page.get_by_role("heading", name=export.name).wait_for()
    page.get_by_text(t("mapping.preview", lang)).wait_for()
    assert page.get_by_role("combobox", name=t("mapeditor.time", lang, column="arrived_at"),
                            exact=True).input_value() == "Jam Datang"
    screenshot(page, f"upload-queue-mapping-{lang}")
    page.get_by_role("button", name=t("upload.validate", lang)).click()
    idle(page)
    page.get_by_text(t("upload.valid", lang, rows="835")).wait_for()
    screenshot(page, f"upload-queue-checked-{lang}")


@pytest.mark.parametrize("lang", ["en", "id"])
def test_one_date_column_for_every_timestamp(page, goto, idle, screenshot, tmp_path, lang):
    """Issue 22: `Tanggal` with `Jam Ambil`, `Jam Panggil`, `Jam Selesai` and services by name
    is mapped on the page as suggested and checks valid."""
    from tests.queue_export import split_frame

    export = tmp_path / "antrian-tanggal.csv"
    export.write_bytes(split_frame().to_csv(index=False, sep=";", lineterminator="\r\n")
                       .encode("utf-8"))
    goto(page, f"upload?lang={lang}")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(export))
    idle(page)
    page.get_by_text(t("mapping.preview", lang)).wait_for()
    for stamp, clock in (("arrived_at", "Jam Ambil"), ("started_at", "Jam Panggil"),
                         ("completed_at", "Jam Selesai")):
        assert page.get_by_role("combobox", name=t("mapeditor.time", lang, column=stamp),
                                exact=True).input_value() == clock
    screenshot(page, f"upload-split-mapping-{lang}")
    page.get_by_role("button", name=t("upload.validate", lang)).click()
    idle(page)
    page.get_by_text(t("upload.valid", lang, rows="835")).wait_for()
    screenshot(page, f"upload-split-checked-{lang}")
