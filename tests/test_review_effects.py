"""The weekly review's "Effectiveness of actions taken" (issue 23): closing an action with a
change date records an intervention; the next weeks' agendas judge it; the record pins it; the
pack has the section."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from streamlit.testing.v1 import AppTest

from kpi import audit, effect, interventions, pack, review
from kpi.errors import InputRejected
from tests.helpers import click, no_exceptions, open_view

REVIEWER = "rev@medan.go.id"
KPI = "service_time_median"


def action_closed_with_a_change(store) -> int:
    """An action raised in week 11 on PKM-1's service time, closed as done in week 12's review
    with a change from Monday 9 March."""
    action_id = review.create_action(store, "2026-W11", title="Second doctor <b>& triage</b>",
                                     unit_code="PKM-1", responsible="dr. Rina",
                                     due_date=dt.date(2026, 3, 20), kpi=KPI,
                                     item_key=f"exception:PKM-1:{KPI}", by=REVIEWER)
    review.update_action(store, action_id, status="done", comment="Started on Monday",
                         week="2026-W12", by=REVIEWER, change_from=dt.date(2026, 3, 9))
    return action_id


def test_closing_an_action_with_a_change_records_its_intervention(example_store):
    action_id = action_closed_with_a_change(example_store)
    [change] = interventions.list_interventions(example_store)
    assert (change["unit_code"], change["date"], change["title"], change["kpi"],
            change["action_id"], change["rebase"], change["recorded_by"]) == (
        "PKM-1", "2026-03-09", "Second doctor <b>& triage</b>", KPI, action_id, False, REVIEWER)
    trail = audit.trail(example_store)
    assert list(trail["action"])[-2:] == ["action.update", "intervention.add"]
    assert audit.verify(example_store).ok


def test_an_impossible_change_date_refuses_the_update_too(example_store, fingerprint):
    action_id = review.create_action(example_store, "2026-W11", title="x", unit_code="PKM-1",
                                     responsible="y", due_date=dt.date(2026, 3, 20), kpi=KPI,
                                     by=REVIEWER)
    before = fingerprint(example_store)
    with pytest.raises(InputRejected, match="2026-02-30"):
        review.update_action(example_store, action_id, status="done", comment="c",
                             week="2026-W12", by=REVIEWER, change_from="2026-02-30")
    assert fingerprint(example_store) == before  # the update and the change, or neither


def test_each_weeks_agenda_judges_with_what_was_known_then(example_store):
    action_closed_with_a_change(example_store)
    by_week = {}
    for week in ("2026-W12", "2026-W13"):
        [item] = review.build_agenda(example_store, week)["effects"]["items"]
        [row] = item["rows"]
        by_week[week] = (row["verdict"], row["before_n"], row["after_n"],
                         effect.describe(row, "en"))
    assert by_week == {
        "2026-W12": ("too_early", 3, 2, "Service time (median): too early: 2 of 7 weeks"),
        "2026-W13": ("too_early", 3, 3, "Service time (median): too early: 3 of 7 weeks"),
    }
    assert effect.describe(row, "id") == "Waktu pelayanan (median): terlalu dini: 3 dari 7 minggu"


def test_old_changes_leave_the_section_unless_still_too_early(example_store):
    interventions.add(example_store, unit_code="PKM-1", date="2026-03-09", title="late",
                      kpi=KPI, by="cli:test")
    interventions.add(example_store, unit_code="PKM-1", date="2026-02-16", title="first day",
                      kpi=KPI, by="cli:test")  # no week before it: no_baseline
    autumn = dt.date(2026, 10, 5)
    section = effect.review_section(example_store, week_start=autumn,
                                    week_end=autumn + dt.timedelta(days=6))
    assert [(item["title"], [row["verdict"] for row in item["rows"]])
            for item in section["items"]] == [("late", ["too_early"])]
    spring = effect.review_section(example_store, week_start=dt.date(2026, 3, 23),
                                   week_end=dt.date(2026, 3, 29))
    assert [item["title"] for item in spring["items"]] == ["late", "first day"]
    assert spring["items"][1]["rows"][0]["verdict"] == "no_baseline"


def test_the_finalised_record_pins_the_verdicts(example_store):
    action_closed_with_a_change(example_store)
    review.finalise(example_store, "2026-W13", by=REVIEWER)
    interventions.add(example_store, unit_code="DUKCAPIL", date="2026-03-04", title="later",
                      by="cli:test")
    record = review.load_record(example_store, "2026-W13")
    assert [item["title"] for item in record["agenda"]["effects"]["items"]] == [
        "Second doctor <b>& triage</b>"]
    live = review.build_agenda(example_store, "2026-W13")
    assert [item["title"] for item in live["effects"]["items"]] == [
        "Second doctor <b>& triage</b>", "later"]  # newest first
    pinned = review.pinned_agenda(example_store, "2026-W13")
    assert pinned["effects"] == record["agenda"]["effects"]


def test_the_pack_has_the_section(example_store):
    from tests.test_pack import pdf_text

    action_closed_with_a_change(example_store)
    content = review.review_content(example_store, "2026-W13")
    files = pack.build_pack(content, "en").files()
    text = pdf_text(files[f"{pack.pack_name('2026-W13')}.pdf"])
    assert "Effectiveness of actions taken" in text
    assert "Service time (median): too early: 3 of 7 weeks" in text
    html = files[f"{pack.pack_name('2026-W13')}.html"].decode("utf-8")
    assert "Second doctor &lt;b&gt;&amp; triage&lt;/b&gt;" in html  # typed text shown as text
    assert html.count('alt="Weekly Service time (median) of') == 1  # its before/after chart


def closed_on_the_page(store, monkeypatch, change_from: dt.date | None) -> tuple[AppTest, int]:
    """An action raised in week 11 on PKM-1's service time, closed as done on week 12's review
    page, saying a change was made from `change_from` (None: the date left out); the page
    after "Save the update", and the action's id."""
    action_id = review.create_action(store, "2026-W11", title="Second doctor",
                                     unit_code="PKM-1", responsible="dr. Rina",
                                     due_date=dt.date(2026, 3, 20), kpi=KPI, by=REVIEWER)
    at = open_view(store, monkeypatch, "review", role="reviewer", timeout=120, week="2026-W12")
    at.selectbox(key="update-which").set_value(action_id)
    at.segmented_control(key="update-status").set_value("done")
    at.text_area(key="update-comment").input("Started on Monday")
    at.radio(key="update-change").set_value(True)
    if change_from is not None:
        at.date_input(key="update-change-from").set_value(change_from)
    return click(at, "Save the update"), action_id


def test_the_review_page_closes_with_a_change_and_shows_the_verdict(example_store, monkeypatch):
    at, action_id = closed_on_the_page(example_store, monkeypatch, dt.date(2026, 3, 9))
    no_exceptions(at)
    [change] = interventions.list_interventions(example_store)
    assert (change["action_id"], change["date"], change["kpi"]) == (action_id, "2026-03-09", KPI)

    at = open_view(example_store, monkeypatch, "review", role="reviewer", timeout=120,
                   week="2026-W13")
    no_exceptions(at)
    assert "7. Effectiveness of actions taken" in [h.value for h in at.header]
    assert "Puskesmas Contoh Satu\\: Second doctor" in [s.value for s in at.subheader]
    line = "- **Too early** — Service time (median)\\: too early\\: 3 of 7 weeks · 3 weeks before, 3 after"
    assert line in [element.value for element in at.markdown]
    at.session_state[f"effect-open-effect:{change['intervention_id']}"] = True
    at = at.run()
    figure = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert [a["text"] for a in figure["layout"]["annotations"]
            if a.get("name", "").startswith("intervention-")] == ["Second doctor"]


def test_a_missing_change_date_is_one_sentence_and_nothing_saved(example_store, monkeypatch):
    at, _ = closed_on_the_page(example_store, monkeypatch, None)
    assert [e.value for e in at.error] == [
        "Give the date from which the change took effect, or answer that no change was made."]
    assert review.list_actions(example_store, unit="PKM-1")[0]["status"] == "open"
    assert interventions.list_interventions(example_store) == []
