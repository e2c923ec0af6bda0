"""Issue 22 (minor): the charts' axes read as the rest of the page. The funnel plot's percent
axis writes "99,8 %" as every figure of the page does (it wrote "99,8%"), its log axis reads
"10, 100, 1.000" (it read "5, 100, 2, 5, 1000, 2"); date axes name the year, in the reader's
language, where a chart's range crosses New Year (it read "06 Jul" with no year)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kpi import charts, metrics
from kpi.i18n import fmt_percent

NAMES = {"limits_95": "95%", "limits_998": "99.8%", "city": "City", "within": "Within",
         "better": "Better", "worse": "Worse"}


def funnel(lang: str, denominators: list[float]):
    points = pd.DataFrame({"denominator": denominators, "rate": [96.0] * len(denominators),
                           "position": ["within"] * len(denominators),
                           "text": [""] * len(denominators), "hover": [""] * len(denominators)})
    return charts.funnel_plot(points, metrics.funnel_curve(96.0, denominators), lang,
                              city_rate=96.0, names=NAMES, x_title="Completed",
                              y_title="Within standard")


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_funnel_percent_axis_writes_percent_as_the_page_does(lang):
    figure = funnel(lang, [40, 300, 2500])
    number = charts.separators(lang)[0].join(["99", "8"])
    assert number + figure.layout.yaxis.ticksuffix == fmt_percent(99.8, lang)


@pytest.mark.parametrize(("lang", "thousand"), [("en", "1,000"), ("id", "1.000")])
def test_the_funnel_log_axis_reads_round_numbers_with_the_language_separators(lang, thousand):
    figure = funnel(lang, [40, 300, 2500])  # spans two powers of ten: 2 and 5 between them
    axis = figure.layout.xaxis
    assert axis.type == "log"
    assert list(axis.tickvals) == [50, 100, 200, 500, 1000, 2000]
    assert list(axis.ticktext) == ["50", "100", "200", "500", thousand, "2" + thousand[1:]]


def test_a_wide_funnel_log_axis_has_only_powers_of_ten():
    figure = funnel("id", [8, 300, 25_000])
    assert list(figure.layout.xaxis.ticktext) == ["10", "100", "1.000", "10.000"]


def test_log_ticks_of_a_narrow_span_are_its_rounded_ends():
    assert charts.log_ticks(120, 180, "en") == ([120.0, 180.0], ["120", "180"])


WEEKS_ACROSS_NEW_YEAR = [dt.date(2025, 8, 4) + dt.timedelta(days=7 * i) for i in range(26)]


@pytest.mark.parametrize(("lang", "august"), [("en", "Aug"), ("id", "Agu")])
def test_week_ticks_name_the_year_at_the_start_and_where_it_changes(lang, august):
    ticks, texts = charts.period_ticks(WEEKS_ACROSS_NEW_YEAR, "week", lang)
    assert len(ticks) <= charts.MAX_TICKS
    assert ticks[0] == WEEKS_ACROSS_NEW_YEAR[0] and ticks[-1] <= WEEKS_ACROSS_NEW_YEAR[-1]
    assert all(day.weekday() == 0 for day in ticks)  # a week's Monday
    assert texts[0] == f"4 {august}<br>2025"
    in_2026 = next(number for number, day in enumerate(ticks) if day.year == 2026)
    assert texts[in_2026].endswith("<br>2026")
    with_year = [text for text in texts if "<br>" in text]
    assert len(with_year) == 2, texts


def test_month_ticks_in_indonesian_and_one_year_named_once():
    months = [dt.date(2026, month, 1) for month in range(1, 13)]
    _, texts = charts.period_ticks(months, "month", "id")
    assert texts == ["Jan<br>2026", "Apr", "Jul", "Okt"]


def test_the_trend_chart_carries_the_ticks_and_the_band_in_the_language():
    points = pd.DataFrame({"period_start": WEEKS_ACROSS_NEW_YEAR, "value": [20.0] * 26,
                           "status": ["green"] * 26, "hover": [""] * 26})
    steps = pd.DataFrame([(dt.date(2025, 1, 1), None, 25.0, 12.5, "*")],
                         columns=["valid_from", "valid_to", "target", "amber_pct", "source_unit"])
    figure = charts.trend_chart(points, steps, "id", better="lower",
                                x_last=WEEKS_ACROSS_NEW_YEAR[-1],
                                labels={"value": "Nilai", "target": "Target",
                                        "band": "Mendekati ({pct})"}, grain="week")
    assert figure.layout.xaxis.ticktext[0] == "4 Agu<br>2025"
    assert "Mendekati (12,5 %)" in {trace.name for trace in figure.data}


def test_the_indonesian_catalogue_writes_a_percentage_as_fmt_percent_does():
    """The funnel's legend and findings read "Batas 99,8%" beside figures written "96,7 %"."""
    import re

    from kpi.i18n import catalog

    written = fmt_percent(99.8, "id")
    assert written == "99,8 %"
    glued = {key: text for key, text in catalog("id").items() if re.search(r"\d%", text)}
    assert glued == {}


def test_the_review_chart_names_the_year_too():
    """The review's (and the pack's) weekly control chart wrote "29 Des" and "5 Jan" with no
    year at all; it takes the same ticks as the unit page."""
    from kpi import pack

    points = [{"period_start": day.isoformat(), "value": 20.0 + number % 3, "signals": [],
               "segment": 0} for number, day in enumerate(WEEKS_ACROSS_NEW_YEAR)]
    item = {"unit_code": "PKM-1", "kpi": "service_time_median", "target": 25.0,
            "chart": {"centre": 21.0, "ucl": 24.0, "lcl": 18.0, "trial": False,
                      "points": points}}
    figure = pack.item_figure(item, "id")
    assert figure is not None
    assert figure.layout.xaxis.ticktext[0] == "4 Agu<br>2025"
    assert list(figure.layout.xaxis.ticktext) == charts.period_ticks(WEEKS_ACROSS_NEW_YEAR,
                                                                     "week", "id")[1]
