"""The City overview page on the contract's worked example: what it shows must be the
expected numbers (example/expected/kpis_week.json, kpis_month.json)."""

from __future__ import annotations

import json

import pytest

from kpi.i18n import fmt_number
from tests.helpers import expected, expected_kpi, no_exceptions, open_view, texts

LAST_WEEK = "2026-03-23"  # the data ends on Sunday 29 March: the last complete week
UNITS = ("DINKES", "PKM-1", "PKM-2", "DUKCAPIL")
NAMES = {"DINKES": "Dinas Kesehatan Contoh", "PKM-1": "Puskesmas Contoh Satu",
         "PKM-2": "Puskesmas Contoh Dua", "DUKCAPIL": "Disdukcapil Contoh"}
KPI_ORDER = ("throughput", "service_time_median", "service_time_p90", "wait_time_median",
             "within_standard_pct", "abandon_rate", "response_count", "ikm")
SHORT_EN = ("Completed", "Service time", "Service time P90", "Waiting time", "Within standard",
            "Abandoned", "Responses", "IKM")
DECIMALS = {"throughput": 0, "service_time_median": 1, "service_time_p90": 1,
            "wait_time_median": 1, "within_standard_pct": 1, "abandon_rate": 1,
            "response_count": 0, "ikm": 2}
SYMBOLS = {"green": "✓", "amber": "!", "red": "✕", "none": "–"}


def shown(kpi: str, value: float, lang: str) -> str:
    """How the page must write a KPI value: its decimals, its unit, the language's marks."""
    number = fmt_number(value, lang, DECIMALS[kpi])
    if kpi in ("service_time_median", "service_time_p90", "wait_time_median"):
        return f"{number} {'menit' if lang == 'id' else 'min'}"
    if kpi in ("within_standard_pct", "abandon_rate"):
        return f"{number} %" if lang == "id" else f"{number}%"
    return number


def red_run(unit: str, kpi: str, last: str) -> tuple[str, int]:
    """From the expected rows: the first week and length of the red run ending at `last`."""
    weeks = sorted((row["period_start"], row["status"]) for row in expected("kpis_week")
                   if row["unit_code"] == unit and row["kpi"] == kpi and row["period_start"] <= last)
    run = 0
    for _, status in reversed(weeks):
        if status != "red":
            break
        run += 1
    return weeks[-run][0], run


def heatmap(at) -> dict:
    charts = at.get("plotly_chart")
    assert charts, "the page shows no chart"
    return json.loads(charts[0].proto.spec)["data"][0]


@pytest.fixture
def overview(example_store, monkeypatch):
    def open_overview(state=None, **query):
        at = open_view(example_store, monkeypatch, state=state, **query)
        no_exceptions(at)
        return at
    return open_overview


def test_the_title_states_how_many_units_are_off_target_in_the_last_complete_week(overview):
    at = overview()
    off = {row["unit_code"] for row in expected("kpis_week")
           if row["period_start"] == LAST_WEEK and row["status"] == "red" and row["unit_code"] != "*"}
    assert off == {"PKM-1"}
    assert texts(at.title) == ["1 unit off target"]
    assert "**Week 13 · 23–29 Mar 2026**" in texts(at.markdown)
    assert at.query_params["grain"] == "week" and at.query_params["period"] == LAST_WEEK


def test_city_tiles_show_the_expected_values_changes_and_statuses(overview):
    at = overview()
    previous = "2026-03-16"
    metrics = {metric.label: metric for metric in at.metric}
    assert list(metrics) == list(SHORT_EN)
    for kpi, label in zip(KPI_ORDER, SHORT_EN, strict=True):
        now = expected_kpi("kpis_week", "*", kpi, LAST_WEEK)
        before = expected_kpi("kpis_week", "*", kpi, previous)
        assert metrics[label].value == shown(kpi, now["value"], "en"), kpi
        change = round(now["value"] - before["value"], DECIMALS[kpi])
        if change:
            sign = "+" if change > 0 else "-"
            assert metrics[label].delta == sign + fmt_number(abs(change), "en", DECIMALS[kpi])
    statuses = [text for text in texts(at.markdown) if "target" in text and text.startswith(":")]
    assert statuses[:2] == [":gray[:material/remove: No target]",  # no city throughput target
                            ":green[:material/check_circle: On target]"]
    assert "Target 30.0 min" in texts(at.caption)


def test_the_heatmap_shows_every_unit_and_kpi_with_its_value_and_status(overview):
    cells = heatmap(overview())
    assert cells["y"] == [NAMES[code] for code in UNITS]
    for row, code in enumerate(UNITS):
        for column, kpi in enumerate(KPI_ORDER):
            found = expected_kpi("kpis_week", code, kpi, LAST_WEEK)
            text = cells["text"][row][column]
            if found is None:
                assert text.endswith("–"), (code, kpi, text)
                continue
            number = fmt_number(found["value"], "en", DECIMALS[kpi])
            assert text == f"{number} {SYMBOLS[found['status']]}", (code, kpi)
    # The one red cell: PKM-1's median service time, 27.8 minutes against 22.
    assert cells["text"][1][1] == "27.8 ✕"


def test_the_exception_says_since_when_and_links_to_its_unit_page(overview):
    at = overview()
    since, periods = red_run("PKM-1", "service_time_median", LAST_WEEK)
    assert (since, periods) == ("2026-03-09", 3)
    links = at.get("page_link")
    assert [link.proto.label for link in links] == ["**1. Puskesmas Contoh Satu**"]
    assert links[0].proto.page == "unit"
    assert links[0].proto.query_string == ("unit=PKM-1&grain=week&period=2026-03-23&lang=en"
                                           "&kpi=service_time_median")
    lines = [text for text in texts(at.markdown) if text.startswith("- **Service time (median)**")]
    assert len(lines) == 1
    assert "27.8 min (target 22.0 min)" in lines[0]
    assert "since 9 Mar 2026 (3 periods)" in lines[0]
    assert "worse than the previous period" in lines[0]  # 26.97 → 27.77 minutes


def test_indonesian_uses_its_words_and_number_format(overview):
    at = overview(lang="id")
    assert texts(at.title) == ["1 unit tidak memenuhi target"]
    assert "**Minggu 13 · 23–29 Mar 2026**" in texts(at.markdown)
    values = {metric.label: metric.value for metric in at.metric}
    assert values["Waktu pelayanan"] == "26,8 menit"
    assert values["Sesuai standar"] == "90,7 %"
    assert values["IKM"] == "76,79"
    assert heatmap(at)["text"][1][1] == "27,8 ✕"


def test_the_url_chooses_grain_and_period(overview):
    at = overview(grain="month", period="2026-02-01")
    assert [box.value for box in at.selectbox][:2] == ["month", "2026-02-01"]
    assert "**February 2026**" in texts(at.markdown)
    throughput = expected_kpi("kpis_month", "*", "throughput", "2026-02-01")["value"]
    assert {m.label: m.value for m in at.metric}["Completed"] == fmt_number(throughput, "en", 0)


def test_unit_type_and_parent_narrow_the_units(overview):
    assert heatmap(overview(type="puskesmas"))["y"] == [NAMES["PKM-1"], NAMES["PKM-2"]]
    assert heatmap(overview(parent="DINKES"))["y"] == [NAMES[c] for c in ("DINKES", "PKM-1", "PKM-2")]


def test_an_empty_selection_says_so_instead_of_failing(overview):
    at = overview(type="civil_registry", parent="DINKES")
    assert "No unit matches the chosen unit type and parent unit" in " ".join(texts(at.info))
    assert len(at.metric) == 8  # the city tiles are still there


def test_filters_survive_a_page_switch_that_drops_the_query(example_store, monkeypatch):
    at = open_view(example_store, monkeypatch, grain="month", period="2026-02-01")
    for name in ("grain", "period"):
        del at.query_params[name]
    at.switch_page("pages/unit.py")
    at.run()
    no_exceptions(at)
    assert at.query_params["grain"] == "month"
    assert at.query_params["period"] == "2026-02-01"


def test_changing_the_grain_picks_that_grains_last_complete_period(overview):
    at = overview()
    at.selectbox(key="kinerja_filter_grain").select("month").run()
    no_exceptions(at)
    # The data stop on Sunday 29 March: March lacks two working days, so the default month is
    # February (issue 22: every grain opens on its latest complete period).
    assert at.selectbox(key="kinerja_filter_period").value == "2026-02-01"
    assert at.query_params["grain"] == "month" and at.query_params["period"] == "2026-02-01"
    assert "**February 2026**" in texts(at.markdown)


def test_charts_download_as_png_and_tables_as_csv_and_excel(overview):
    at = overview()
    config = json.loads(at.get("plotly_chart")[0].proto.config)
    assert config["toImageButtonOptions"]["format"] == "png"
    assert config["toImageButtonOptions"]["filename"] == "status-heatmap-week-2026-03-23"
    assert config["locale"] == "en" and "en" in config["locales"]
    # The exceptions' and the heatmap's tables (and their files) are built when their
    # expanders open: a closed one costs a rerun nothing.
    assert not at.get("download_button") and not at.dataframe
    at = overview(state={"overview-exceptions-open": True, "overview-grid-open": True})
    files = sorted(button.proto.label for button in at.get("download_button"))
    assert files == ["CSV", "CSV", "Excel", "Excel"]  # the exceptions and the heatmap's table
    assert len(at.dataframe) == 2


def test_period_names_and_the_default_period():
    import datetime as dt

    from ui.filters import last_complete_period, period_label, period_starts

    monday = dt.date(2026, 11, 16)
    assert period_label(monday, "week", "en") == "Week 47 · 16–22 Nov 2026"
    assert period_label(monday, "week", "id") == "Minggu 47 · 16–22 Nov 2026"
    assert period_label(dt.date(2025, 12, 29), "week", "id") == "Minggu 1 · 29 Des 2025 – 4 Jan 2026"
    assert period_label(dt.date(2026, 7, 1), "quarter", "id") == "Triwulan 3 2026 · Jul–Sep"
    assert period_label(dt.date(2026, 8, 1), "month", "id") == "Agustus 2026"
    starts = period_starts(dt.date(2026, 10, 1), dt.date(2026, 11, 21), "week")
    assert starts[0] == monday and starts[-1] == dt.date(2026, 9, 28)  # newest first
    # Data up to Saturday 21 Nov (offices shut on Sunday): the week is over once Sunday is past.
    assert last_complete_period(starts, dt.date(2026, 11, 21), "week",
                                today=dt.date(2026, 11, 26)) == monday
    assert last_complete_period(starts, dt.date(2026, 11, 21), "week",
                                today=dt.date(2026, 11, 22)) == dt.date(2026, 11, 9)
    # A month whose data stop on Sunday the 22nd is partial, however long ago it ended.
    months = period_starts(dt.date(2026, 9, 1), dt.date(2026, 11, 22), "month")
    assert last_complete_period(months, dt.date(2026, 11, 22), "month",
                                today=dt.date(2026, 12, 7)) == dt.date(2026, 10, 1)
    # Data ending on Friday 30 Oct still cover October (only the weekend is left).
    assert last_complete_period(months, dt.date(2026, 10, 30), "month",
                                today=dt.date(2026, 12, 7)) == dt.date(2026, 10, 1)


def test_an_exception_link_opens_the_unit_page_on_its_kpi(example_store, monkeypatch, tmp_path):
    """Issue 12, F9: a unit off target only on "within standard" links to that KPI."""
    from kpi.ingest import ingest_file

    strict = tmp_path / "targets.csv"
    strict.write_text("unit_code,kpi,target,valid_from,valid_to,amber_pct\n"
                      "PKM-2,within_standard_pct,99.9,2026-01-01,,0\n", encoding="utf-8")
    assert ingest_file(example_store, "targets", strict).ok
    at = open_view(example_store, monkeypatch)
    no_exceptions(at)
    links = {link.proto.label: link.proto.query_string for link in at.get("page_link")}
    pkm2 = next(query for label, query in links.items() if NAMES["PKM-2"] in label)
    assert "unit=PKM-2" in pkm2 and pkm2.endswith("&kpi=within_standard_pct")
    at = open_view(example_store, monkeypatch, "unit", **dict(
        part.split("=", 1) for part in pkm2.split("&")))
    no_exceptions(at)
    assert at.query_params["kpi"] in ("within_standard_pct", ["within_standard_pct"])


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_partial_month_chosen_by_hand_says_so_on_every_tile(example_store, monkeypatch, lang):
    """Issue 22 (major 3): March 2026 (data to Sunday the 29th) chosen by hand: a warning under
    the title, "(incomplete)" in the period's name and a note on every tile."""
    from kpi.i18n import t
    from kpi.vocabulary import KPIS

    at = open_view(example_store, monkeypatch, lang=lang, grain="month", period="2026-03-01")
    no_exceptions_but_warnings(at)
    assert at.selectbox(key="kinerja_filter_period").value == "2026-03-01"
    assert any(w.value.startswith(t("partial.note", lang, period="X", last="Y", end="Z")[:16])
               for w in at.warning)
    assert t("filters.incomplete_period", lang, period="")[:-1].strip() in \
        at.selectbox(key="kinerja_filter_period").format_func("2026-03-01")
    tiles = [c.value for c in at.caption if t("partial.tile", lang) in c.value]
    assert len(tiles) == len(KPIS)
    # February (whole) says nothing of the kind.
    at = open_view(example_store, monkeypatch, lang=lang, grain="month", period="2026-02-01")
    assert not [c for c in at.caption if t("partial.tile", lang) in c.value]


def no_exceptions_but_warnings(at) -> None:
    assert [element.value for element in at.exception] == []
