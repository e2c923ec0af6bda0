"""The Unit page's interventions (issue 23): markers on its charts, limits per segment when
re-baselined, and the form to record, correct and remove a change."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kpi import interventions
from tests.helpers import no_exceptions, open_view, run

LAST_WEEK = "2026-03-23"
LONG_TITLE = "Dokter kedua di poli umum <b>mulai</b> pagi & sore"


def click(at, label: str) -> None:
    next(button for button in at.button if button.label == label).click()
    run(at)


def charts(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def limit_segments(figure: dict) -> set[int]:
    return {trace["meta"]["segment"] for trace in figure["data"]
            if (trace.get("meta") or {}).get("line") == "limits"}


@pytest.fixture
def with_change(example_store):
    interventions.add(example_store, unit_code="PKM-1", date="2026-03-09", title=LONG_TITLE,
                      kpi="service_time_median", rebase=True, by="kepala@medan.go.id")
    return example_store


def open_unit(store, monkeypatch, **kwargs):
    at = open_view(store, monkeypatch, "unit", unit="PKM-1", grain="week", period=LAST_WEEK,
                   kpi="service_time_median", **kwargs)
    no_exceptions(at)
    return at


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_chart_carries_the_title_and_two_sets_of_limits(with_change, monkeypatch, lang):
    at = open_unit(with_change, monkeypatch, lang=lang)
    trend, control = charts(at)[:2]
    for figure in (trend, control):
        [note] = [a for a in figure["layout"]["annotations"] if a.get("name", "").startswith(
            "intervention-")]
        # shortened on the chart, escaped (typed text is text), whole on hover with its author
        assert note["text"] == "Dokter kedua di poli um…"
        assert "&lt;b&gt;mulai&lt;/b&gt; pagi &amp; sore" in note["hovertext"]
        assert "kepala@medan.go.id" in note["hovertext"]
        assert figure["layout"]["shapes"][-1]["x0"] == "2026-03-09"
    assert limit_segments(control) == {0, 1}
    starts = sorted({trace["x"][0] for trace in control["data"]
                     if (trace.get("meta") or {}).get("line") == "centre"})
    assert starts == ["2026-02-16", "2026-03-09"]
    switch = at.toggle(key="unit-rebase")
    assert switch.value is True
    switch.set_value(False)
    run(at)
    assert limit_segments(charts(at)[1]) == {0}


def test_no_switch_without_a_rebasing_change(example_store, monkeypatch):
    interventions.add(example_store, unit_code="PKM-1", date="2026-03-09", title="Loket baru",
                      by="cli:test")
    at = open_unit(example_store, monkeypatch)
    assert not [t for t in at.toggle if t.key == "unit-rebase"]
    assert limit_segments(charts(at)[1]) == {0}
    notes = [a["text"] for a in charts(at)[1]["layout"]["annotations"]]
    assert "Loket baru" in notes


def test_a_viewer_sees_the_list_but_no_form(with_change, monkeypatch):
    at = open_unit(with_change, monkeypatch, role="viewer")
    table = next(frame.value for frame in at.dataframe if "Change" in frame.value.columns)
    assert list(table["Change"]) == [LONG_TITLE]
    assert not [field for field in at.text_input if field.key == "intervention-title"]


def test_an_analyst_records_corrects_and_removes_a_change(example_store, monkeypatch):
    at = open_unit(example_store, monkeypatch, role="analyst")
    at.date_input(key="intervention-date").set_value(dt.date(2026, 3, 2))
    at.text_input(key="intervention-title").input("Antrean daring")
    at.checkbox(key="intervention-rebase").check()
    click(at, "Record the change")
    no_exceptions(at)
    [change] = interventions.list_interventions(example_store, unit="PKM-1")
    assert (change["date"], change["title"], change["kpi"], change["rebase"]) == (
        "2026-03-02", "Antrean daring", None, True)
    assert "Antrean daring" in [a["text"] for a in charts(at)[1]["layout"]["annotations"]]
    assert limit_segments(charts(at)[1]) == {0, 1}

    at.text_input(key=f"intervention-edit-{change['intervention_id']}").input("Antrean daring 2")
    click(at, "Save the title")
    assert interventions.get(example_store, change["intervention_id"])["title"] == \
        "Antrean daring 2"
    click(at, "Remove the change")
    no_exceptions(at)
    assert interventions.list_interventions(example_store, unit="PKM-1") == []


def test_an_empty_title_is_one_sentence_and_nothing_recorded(example_store, monkeypatch):
    at = open_unit(example_store, monkeypatch, role="analyst")
    at.date_input(key="intervention-date").set_value(dt.date(2026, 3, 2))
    at.text_input(key="intervention-title").input("   ")
    click(at, "Record the change")
    assert [e.value for e in at.error] == ["The change needs a title saying what was changed."]
    assert interventions.list_interventions(example_store) == []
