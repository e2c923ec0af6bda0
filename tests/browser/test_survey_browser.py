"""The public SKM form and the published results served by the real server (`streamlit run
app.py`), on a phone-sized chromium (360×740) with JavaScript switched off (issue 24): a citizen
fills in and sends the form, the answer reaches `python -m kpi ikm`, the thank-you page in both
languages, a dead address, /publik anonymously; screenshots of each, and of the posters. And the
rate limit across two server processes on one store: a burst of 200 submissions from one
client, exactly the configured number accepted and stored."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pypdfium2
import pytest

from kpi import config, posters, survey_links
from kpi.store import Store
from tests.browser.conftest import ARTIFACTS, ROOT, serve_dashboard
from tests.conftest import EXAMPLE_DIR

PHONE = {"width": 360, "height": 740}
ANSWERS = {"u1": "4", "u2": "4", "u3": "3", "u4": "4", "u5": "3", "u6": "4", "u7": "4",
           "u8": "2", "u9": "3"}
WAIT_SECONDS = 60
LIMIT = 20    # KPI_SURVEY_RATE of the served site: answers per client and unit per hour
BURST = 200
SITE_ENV = {"KPI_SURVEY_FLUSH_SECONDS": "0.5", "KPI_SURVEY_RATE": f"{LIMIT}/3600"}


@pytest.fixture(scope="module")
def survey_site(_example_store_file: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The example city served with the public pages: the form addresses of PKM-2 (the phone's)
    and PKM-1 (the burst's), PKM-2 and DUKCAPIL published, answers moved into the lake every
    half second. A store of its own: the answers sent here must not change the numbers the
    other browser tests read."""
    folder = tmp_path_factory.mktemp("survey-site")
    path = folder / "kpi"
    shutil.copytree(_example_store_file, path)
    store = Store(path)
    store.init()  # the form's tables, for a store copied from before them
    token, burst_token = (link.token for link in survey_links.links(store, ["PKM-2", "PKM-1"],
                                                                     who="tests"))
    survey_links.set_published(store, ["PKM-2", "DUKCAPIL"], True, who="tests")
    within = store.query_value(
        "SELECT e.ticket_id FROM events e JOIN services s USING (unit_code, service_code) "
        "WHERE e.unit_code = 'PKM-2' AND e.outcome = 'completed' AND s.standard_minutes IS NOT "
        "NULL ORDER BY e.ticket_id LIMIT 1")
    store.close()
    with serve_dashboard(path, folder, env=SITE_ENV) as url:
        yield {"url": url, "store": path, "token": token, "ticket": within, "folder": folder,
               "burst_token": burst_token}


@pytest.fixture
def phone(browser) -> Iterator:
    """A 360×740 page with JavaScript off: what a cheap phone's browser needs at the least."""
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="id-ID",
                                  timezone_id="Asia/Jakarta", device_scale_factor=1)
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def ikm_today(store: Path, unit: str) -> list[dict]:
    today = config.local_today().isoformat()
    done = subprocess.run(
        [sys.executable, "-m", "kpi", "--db", str(store), "ikm", "--from", today, "--to", today,
         "--unit", unit, "--format", "json"], capture_output=True, text=True, cwd=ROOT,
        check=True)
    return json.loads(done.stdout)


def test_a_citizen_answers_on_a_phone_and_the_answer_counts(survey_site, phone) -> None:
    page = phone
    response = page.goto(f"{survey_site['url']}/skm/{survey_site['token']}")
    assert response.status == 200 and len(response.body()) < 30_000
    assert page.locator("h1").inner_text() == "Survei Kepuasan Masyarakat (SKM)"
    assert page.locator("fieldset").count() == 9
    # Readable at 360 px: nothing wider than the screen.
    assert page.locator("main").bounding_box()["width"] <= PHONE["width"]
    shot(page, "survey-form-phone-id")
    for element, answer in ANSWERS.items():
        page.locator(f'input[name="{element}"][value="{answer}"]').check()
    page.select_option("#service_code", "UMUM")
    page.fill("#ticket_id", survey_site["ticket"])
    page.select_option("#respondent_gender", "P")
    page.fill("#respondent_age", "34")
    page.select_option("#respondent_education", "SMA")
    page.select_option("#respondent_occupation", "WIRAUSAHA")
    page.fill("#comment", "Pelayanan cepat, tapi kursi ruang tunggu kurang.")
    started = time.monotonic()
    page.click("button[type=submit]")
    page.wait_for_url("**/terima-kasih?lang=id")
    assert page.locator("h1").inner_text() == "Terima kasih!"
    assert "Puskesmas Contoh Dua" in page.locator(".ok").inner_text()
    shot(page, "survey-thanks-phone-id")
    page.click("text=English")
    page.wait_for_url("**/terima-kasih?lang=en")
    assert page.locator("h1").inner_text() == "Thank you!"
    assert "never published" in page.locator("main").inner_text()
    shot(page, "survey-thanks-phone-en")
    # The answer reaches the IKM within seconds (the server moves it into the lake).
    rows: list[dict] = []
    while time.monotonic() - started < WAIT_SECONDS:
        rows = ikm_today(survey_site["store"], "PKM-2")
        if rows:
            break
        time.sleep(0.5)
    assert rows and rows[0]["n"] == 1
    assert rows[0]["nrr"] == {element: float(answer) for element, answer in ANSWERS.items()}
    store = Store(survey_site["store"])
    assert store.query_rows(
        "SELECT service_code, respondent_gender, respondent_age, respondent_education, "
        "ticket_id, comment FROM survey_responses WHERE response_id LIKE 'WEB-%'") == [
        ("UMUM", "P", 34, "SMA", survey_site["ticket"],
         "Pelayanan cepat, tapi kursi ruang tunggu kurang.")]
    store.close()


def test_the_english_form_and_a_dead_address(survey_site, phone) -> None:
    page = phone
    page.goto(f"{survey_site['url']}/skm/{survey_site['token']}?lang=en")
    assert page.locator("h1").inner_text() == "Community Satisfaction Survey (SKM)"
    assert "How quickly was the service delivered?" in page.locator("main").inner_text()
    shot(page, "survey-form-phone-en")
    # The browser itself asks for a missing answer (required radios), without any script.
    page.click("button[type=submit]")
    assert "/terima-kasih" not in page.url
    gone = page.goto(f"{survey_site['url']}/skm/notatoken99")
    assert gone.status == 404
    assert page.locator("h1").inner_text() == "Alamat formulir tidak berlaku"
    shot(page, "survey-dead-address-phone-id")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_published_results_anonymously(survey_site, phone, lang) -> None:
    page = phone
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(f"{survey_site['url']}/publik?period=2026-Q1&lang={lang}")
    text = page.locator("main").inner_text()
    assert "Puskesmas Contoh Dua" in text and "Disdukcapil Contoh" in text
    assert "Puskesmas Contoh Satu" not in text and "Dinas Kesehatan Contoh" not in text
    with (EXAMPLE_DIR / "survey.csv").open(encoding="utf-8") as handle:
        comments = [line.rsplit(",", 1)[-1].strip() for line in handle.readlines()[1:]]
    assert not any(comment and comment in text for comment in comments)
    assert page.locator("section table").count() == 2
    shot(page, f"survey-publik-{lang}")
    page.set_viewport_size(PHONE)
    shot(page, f"survey-publik-phone-{lang}")


def test_poster_images(survey_site, tmp_path: Path) -> None:
    """The posters as printed (A4 and A5), as PNGs to look at."""
    store = Store(survey_site["store"])
    links = survey_links.links(store, ["PKM-2"], who="tests")
    store.close()
    for size in posters.SIZES:
        pdf = tmp_path / f"poster-{size}.pdf"
        pdf.write_bytes(posters.posters_pdf(links, size))
        image = pypdfium2.PdfDocument(pdf)[0].render(scale=1.5).to_pil()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        image.save(ARTIFACTS / f"survey-poster-{size}.png")
        assert image.width > 500


def test_a_burst_from_one_client_is_limited_across_two_servers(survey_site) -> None:
    token = survey_site["burst_token"]
    second = survey_site["folder"] / "second"
    second.mkdir()
    with serve_dashboard(survey_site["store"], second, env=SITE_ENV) as other, \
            httpx.Client(timeout=60) as client:
        urls = [survey_site["url"], other]

        def form(index: int) -> str:
            page = client.get(f"{urls[index % 2]}/skm/{token}")
            assert page.status_code == 200
            found = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert found
            return found.group(1)

        def send(index: int) -> tuple[int, str]:
            # Each form was opened on the other server: its signed token holds on both.
            answer = client.post(f"{urls[(index + 1) % 2]}/skm/{token}",
                                 data={"csrf": forms[index], **ANSWERS})
            return answer.status_code, answer.text

        with ThreadPoolExecutor(8) as pool:
            forms = list(pool.map(form, range(BURST)))
            answers = list(pool.map(send, range(BURST)))
    statuses = [status for status, _ in answers]
    assert statuses.count(303) == LIMIT and statuses.count(429) == BURST - LIMIT
    assert all("Terlalu banyak jawaban" in text for status, text in answers if status == 429)
    store = Store(survey_site["store"])
    deadline = time.monotonic() + WAIT_SECONDS
    stored = 0
    while time.monotonic() < deadline:
        stored = store.query_value("SELECT count(DISTINCT response_id) FROM survey_responses "
                                   "WHERE unit_code = 'PKM-1' AND response_id LIKE 'WEB-%'")
        if stored >= LIMIT:
            break
        time.sleep(0.5)
    store.close()
    assert stored == LIMIT
