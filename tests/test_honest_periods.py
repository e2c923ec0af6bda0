"""Honest periods (issue 12): a week only one unit has reported never becomes the default week
of the overview or the review, and says "1 of N units reported" when it is chosen by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi import labels, metrics, precompute, reporting, review
from kpi.i18n import fmt_number, t
from tests.helpers import open_view
from ui.filters import period_label

LAST_COMPLETE = dt.date(2026, 3, 23)   # 2026-W13, the example's last week
EARLY = dt.date(2026, 3, 30)           # 2026-W14: only PKM-1 has sent data, up to its Sunday


@pytest.fixture
def early_store(example_store):
    with example_store.transaction() as cur:
        cur.execute("INSERT INTO events (unit_code, service_code, ticket_id, arrived_at, "
                    "completed_at, outcome) VALUES ('PKM-1', 'UMUM', 'EARLY-1', "
                    "TIMESTAMP '2026-04-05 09:00', TIMESTAMP '2026-04-05 09:30', 'completed')")
        precompute.refresh(cur)  # as every write of the app does
    return example_store


def test_coverage_counts_the_units_that_reported(early_store):
    reported = reporting.reported_units(early_store, period="week")
    early = reporting.coverage(reported, EARLY, "week")
    assert (early.reported, early.expected, early.complete) == (1, 4, False)
    assert reporting.coverage(reported, LAST_COMPLETE, "week").complete
    assert reporting.latest_complete(reported, [EARLY, LAST_COMPLETE], "week") == LAST_COMPLETE


def test_the_first_period_of_the_data_expects_no_other_unit_and_says_so(example_store,
                                                                          monkeypatch):
    """Nothing reported before the data's first week: it counts as complete, its "expected"
    is who reported, and the page says "n units reported" without an "of" it cannot know."""
    reported = reporting.reported_units(example_store, period="week")
    first = min(reported["period_start"])
    opening = reporting.coverage(reported, first, "week")
    assert opening.complete and not opening.has_history
    assert opening.expected == opening.reported > 0
    assert reporting.coverage(reported, LAST_COMPLETE, "week").has_history
    for lang in ("en", "id"):
        at = open_view(example_store, monkeypatch, "overview", lang=lang, grain="week",
                       period=first.isoformat())
        said = t("coverage.no_history", lang, coverage=t("coverage.units", lang,
                                                          reported=opening.reported))
        assert said in [caption.value for caption in at.caption]


def test_the_review_stays_on_the_last_complete_week(early_store):
    assert review.default_week(early_store, today=dt.date(2026, 4, 7)) == "2026-W13"


def test_the_overview_stays_on_the_last_complete_week(early_store, monkeypatch):
    at = open_view(early_store, monkeypatch, "overview", grain="week")
    assert at.query_params["period"] in (LAST_COMPLETE.isoformat(), [LAST_COMPLETE.isoformat()])
    assert t("filters.units_reported", "en", reported="4", expected="4") in [
        c.value for c in at.caption]
    period_box = next(box for box in at.sidebar.selectbox if box.label == t("filters.period", "en"))
    period_box.set_value(EARLY.isoformat())
    at.run()
    coverage = t("filters.units_reported", "en", reported="1", expected="4")
    assert any(coverage in w.value for w in at.warning)


def test_changes_on_an_incomplete_week_compare_only_the_units_in_both_weeks(early_store):
    frame = metrics.overview(early_store, period="week", period_start=EARLY)
    pkm1_before = metrics.kpi_values(early_store, period="week", date_from=LAST_COMPLETE,
                                     date_to=LAST_COMPLETE, units=["PKM-1"], kpis=["throughput"])
    like_for_like = 1 - pkm1_before["value"].iloc[0]   # PKM-1's one visit against its week 13
    rows = frame[frame["kpi"] == "throughput"].set_index("unit_code")
    assert rows.loc["*", "value"] == 1
    assert rows.loc["*", "change"] == like_for_like            # not 1 − the whole city's week 13
    assert rows.loc["DINKES", "change"] == like_for_like       # a parent pools the same units
    absent = frame[frame["unit_code"].isin(["PKM-2", "DUKCAPIL"])]
    assert set(absent["status"]) == {"none"} and absent["change"].isna().all()


def test_the_city_tiles_say_the_week_is_partial(early_store, monkeypatch):
    at = open_view(early_store, monkeypatch, "overview", grain="week", period=EARLY.isoformat())
    pkm1_before = metrics.kpi_values(early_store, period="week", date_from=LAST_COMPLETE,
                                     date_to=LAST_COMPLETE, units=["PKM-1"], kpis=["throughput"])
    change = 1 - int(pkm1_before["value"].iloc[0])
    tile = {m.label: m for m in at.metric}[labels.kpi_short("throughput", "en")]
    assert tile.delta == ("-" if change < 0 else "+") + fmt_number(abs(change), "en", 0)
    assert t("overview.city_partial", "en", reported="1", expected="4",
             period=period_label(EARLY, "week", "en"), both="1",
             previous=period_label(LAST_COMPLETE, "week", "en")) in [c.value for c in at.caption]
