"""The management review engine (kpi/review.py) on the contract's worked example: the agenda
built from the data, the action log carried from week to week, minutes, and the finalised
record that can no longer change."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kpi import ingest, review
from kpi.errors import InputRejected, KinerjaError, ReviewLocked, StoreError
from kpi.periods import parse_week
from kpi.store import Store

WEEK_1, WEEK_2, WEEK_3 = "2026-W11", "2026-W12", "2026-W13"
EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "shared" / "spec" / "example"


def expected_week(period_start: str) -> dict[tuple[str, str], dict]:
    rows = json.loads((EXAMPLE_DIR / "expected" / "kpis_week.json").read_text())
    return {(row["unit_code"], row["kpi"]): row for row in rows
            if row["period_start"] == period_start}


def raise_action(store, week: str, title: str, *, due: dt.date, unit: str = "PKM-2",
                 kpi: str | None = "abandon_rate") -> int:
    return review.create_action(store, week, title=title, unit_code=unit, responsible="dr. Sari",
                                due_date=due, kpi=kpi, item_key=f"exception:{unit}:{kpi}",
                                by="tests")


# -- weeks -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, monday", [("2026-W12", dt.date(2026, 3, 16)),
                                          ("2026w01", dt.date(2025, 12, 29)),
                                          (" 2026-W13 ", dt.date(2026, 3, 23))])
def test_weeks_are_iso_weeks(text, monday):
    assert parse_week(text) == monday


@pytest.mark.parametrize("text", ["2026-W54", "2025-W53", "2026-13", "W12", "", "2026-W0"])
def test_an_invalid_week_is_one_sentence(text):
    with pytest.raises(KinerjaError) as caught:
        parse_week(text)
    assert "YYYY-Www" in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.key == "review.error_week"


def test_default_week_is_the_last_complete_week_of_the_data(example_store):
    assert review.data_weeks(example_store)[:2] == ["2026-W13", "2026-W12"]
    assert review.default_week(example_store, today=dt.date(2026, 11, 26)) == "2026-W13"
    # While the data's last week is still running, the week before it.
    assert review.default_week(example_store, today=dt.date(2026, 3, 28)) == "2026-W12"


def test_a_week_without_data_yet_opens_with_its_carried_actions_and_minutes(example_store):
    action = raise_action(example_store, WEEK_2, "Call back no-shows", due=dt.date(2026, 8, 1))
    review.save_minutes(example_store, "2026-W30", attendees="Kepala Dinas", by="tests")
    content = review.review_content(example_store, "2026-W30")
    agenda = content["agenda"]
    assert agenda["coverage"] == {"reported": 0, "expected": 0, "complete": True}  # no unit yet
    assert agenda["exceptions"] == [] and agenda["opportunities"] == []
    assert [a["action_id"] for a in agenda["carried_actions"]] == [action]
    assert content["minutes"]["attendees"] == ["Kepala Dinas"]
    with pytest.raises(KinerjaError, match="no data for week 2025-W30"):  # before the data
        review.build_agenda(example_store, "2025-W30")


# -- the agenda --------------------------------------------------------------------------------
def test_agenda_exceptions_are_the_red_statuses_with_the_contract_numbers(example_store):
    agenda = review.build_agenda(example_store, WEEK_2)
    expected = expected_week("2026-03-16")
    red = {key for key, row in expected.items() if row["status"] == "red"}
    assert red == {("PKM-1", "service_time_median"), ("PKM-1", "abandon_rate"),
                   ("PKM-2", "abandon_rate"), ("DINKES", "abandon_rate")}
    found = {(item["unit_code"], item["kpi"]): item for item in agenda["exceptions"]}
    assert red <= set(found)
    for key in red:
        item = found[key]
        assert "off_target" in item["reasons"]
        assert item["value"] == pytest.approx(expected[key]["value"], abs=1e-9)
        assert item["target"] == expected[key]["target"]
        points = item["chart"]["points"]
        assert points[-1]["period_start"] == "2026-03-16"
        assert points[-1]["value"] == pytest.approx(expected[key]["value"], abs=1e-9)
    # Two red weeks in a row rank before one.
    assert (agenda["exceptions"][0]["unit_code"], agenda["exceptions"][0]["kpi"]) == \
        ("PKM-1", "service_time_median")


def test_scorecard_has_every_unit_and_kpi_with_the_change_from_last_week(example_store):
    agenda = review.build_agenda(example_store, WEEK_2)
    units = list(dict.fromkeys(row["unit_code"] for row in agenda["scorecard"]))
    assert units[0] == "*" and set(units) == {"*", "DINKES", "PKM-1", "PKM-2", "DUKCAPIL"}
    assert len(agenda["scorecard"]) == 5 * 8
    this_week, last_week = expected_week("2026-03-16"), expected_week("2026-03-09")
    row = next(r for r in agenda["scorecard"]
               if (r["unit_code"], r["kpi"]) == ("PKM-2", "abandon_rate"))
    key = ("PKM-2", "abandon_rate")
    assert row["status"] == "red"
    assert row["prev_value"] == pytest.approx(last_week[key]["value"])
    assert row["change"] == pytest.approx(this_week[key]["value"] - last_week[key]["value"])


def test_changes_list_imports_and_satisfaction_is_the_quarter_so_far(example_store):
    agenda = review.build_agenda(example_store, WEEK_2)
    kinds = [batch["kind"] for batch in agenda["changes"]["batches"]]
    assert kinds == ["targets", "survey", "events", "services", "units"]
    assert agenda["changes"]["previous_week"] is None
    # The first review lists every import, so the targets the targets import added are new
    # (issue 12, D4: never "no new targets" under a listed targets import).
    assert len(agenda["changes"]["new_targets"]) == 7
    # With a review before it, only what took effect in the week: PKM-1's 22 minutes, from
    # 2026-03-09 (week 11).
    review.save_minutes(example_store, "2026-W10", attendees="Wali Kota", by="tests")
    week_11 = review.build_agenda(example_store, WEEK_1)["changes"]["new_targets"]
    assert [(t["unit_code"], t["kpi"], t["target"]) for t in week_11] == \
        [("PKM-1", "service_time_median", 22.0)]
    skm = agenda["satisfaction"]
    assert skm["closed"] is False and skm["quarter_start"] == "2026-01-01"
    assert skm["quarter_end"] == "2026-03-22"
    assert {row["unit_code"] for row in skm["rows"]} == {"*", "DINKES", "PKM-1", "PKM-2",
                                                          "DUKCAPIL"}


def test_a_quarter_closes_in_the_week_that_holds_its_last_day():
    assert review.closed_quarter("2026-W14") == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert review.closed_quarter("2026-W40") == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert review.closed_quarter("2026-W13") is None


def test_changes_since_the_last_review_start_after_it(example_store):
    review.save_minutes(example_store, WEEK_1, attendees="Wali Kota", by="tests")
    agenda = review.build_agenda(example_store, WEEK_2)
    assert agenda["changes"]["previous_week"] == WEEK_1
    assert agenda["changes"]["batches"] == []  # everything was loaded before that review


# -- actions -----------------------------------------------------------------------------------
def test_an_action_from_week_1_stays_on_every_agenda_until_closed(example_store):
    action = raise_action(example_store, WEEK_1, "Call back no-shows the day before",
                          due=dt.date(2026, 3, 27))
    assert [a["action_id"] for a in review.build_agenda(example_store, WEEK_1)["new_actions"]] \
        == [action]
    week_2 = review.build_agenda(example_store, WEEK_2)
    carried = week_2["carried_actions"]
    assert [a["action_id"] for a in carried] == [action]
    assert carried[0]["status"] == "open" and carried[0]["unit_name"] == "Puskesmas Contoh Dua"
    review.update_action(example_store, action, status="in_progress", comment="Script drafted",
                         week=WEEK_2, by="tests")
    assert review.build_agenda(example_store, WEEK_3)["carried_actions"][0]["status"] == \
        "in_progress"
    review.update_action(example_store, action, status="done", comment="Calls start Monday",
                         week=WEEK_3, by="tests")
    # Closed in week 3's review: shown there as done, gone from later agendas.
    assert [a["status"] for a in review.build_agenda(example_store, WEEK_3)["carried_actions"]] \
        == ["done"]
    later = review.list_actions(example_store, week="2026-W14")
    assert later == []
    history = review.list_actions(example_store)[0]["history"]
    assert [(h["status"], h["comment"]) for h in history] == [
        ("open", None), ("in_progress", "Script drafted"), ("done", "Calls start Monday")]


def test_overdue_actions_come_first(example_store):
    later = raise_action(example_store, WEEK_1, "Later", due=dt.date(2026, 4, 30))
    late = raise_action(example_store, WEEK_1, "Late", due=dt.date(2026, 3, 20))
    carried = review.build_agenda(example_store, WEEK_2)["carried_actions"]
    assert [(a["action_id"], a["overdue"]) for a in carried] == [(late, True), (later, False)]


@pytest.mark.parametrize("field, value", [("title", " "), ("responsible", ""),
                                          ("unit_code", "NOPE"), ("kpi", "queue_length")])
def test_an_incomplete_action_is_refused(example_store, field, value):
    arguments = {"title": "Fix the queue display", "unit_code": "PKM-1", "responsible": "Budi",
                 "due_date": dt.date(2026, 4, 1), "kpi": "wait_time_median"}
    arguments[field] = value
    with pytest.raises(InputRejected):
        review.create_action(example_store, WEEK_2, **arguments)
    assert review.list_actions(example_store) == []


def test_a_status_change_needs_a_known_status_and_a_comment(example_store):
    action = raise_action(example_store, WEEK_1, "Train the triage desk", due=dt.date(2026, 4, 1))
    with pytest.raises(InputRejected):
        review.update_action(example_store, action, status="finished", comment="ok")
    with pytest.raises(InputRejected):
        review.update_action(example_store, action, status="dropped", comment="  ")
    assert review.list_actions(example_store)[0]["status"] == "open"


# -- minutes and the finalised record ----------------------------------------------------------
def test_a_finalised_review_cannot_change(example_store):
    action = raise_action(example_store, WEEK_2, "Extra counter on Mondays",
                          due=dt.date(2026, 3, 30))
    review.save_minutes(example_store, WEEK_2, attendees="Wali Kota\nKadis Kesehatan",
                        decisions="Open a second counter.", by="tests")
    review.save_item_minutes(example_store, WEEK_2, "exception:PKM-2:abandon_rate",
                             note="Reminder calls", decision="Pilot in PKM-2", by="tests")
    digest = review.finalise(example_store, WEEK_2, by="chair")
    assert len(digest) == 64
    attempts = [
        lambda: review.save_minutes(example_store, WEEK_2, decisions="Changed", by="x"),
        lambda: review.save_item_minutes(example_store, WEEK_2, "scorecard", note="late", by="x"),
        lambda: raise_action(example_store, WEEK_2, "Too late", due=dt.date(2026, 4, 1)),
        lambda: review.update_action(example_store, action, status="done", comment="x",
                                     week=WEEK_2),
        lambda: review.finalise(example_store, WEEK_2, by="again"),
    ]
    for attempt in attempts:
        with pytest.raises(ReviewLocked) as caught:
            attempt()
        assert caught.value.key == "error.review_locked"
    record = review.load_record(example_store, WEEK_2)
    assert record["minutes"]["attendees"] == ["Wali Kota", "Kadis Kesehatan"]
    assert record["minutes"]["items"]["exception:PKM-2:abandon_rate"]["decision"] == \
        "Pilot in PKM-2"
    assert record["review"]["finalised_by"] == "chair"
    assert record["review"]["record_sha256"] == digest
    # The action itself lives on: the next review may close it.
    review.update_action(example_store, action, status="done", comment="Done", week=WEEK_3)


def test_a_finalised_review_is_opened_as_it_was_not_recomputed(example_store):
    before = review.review_content(example_store, WEEK_2)
    review.finalise(example_store, WEEK_2, by="chair")
    # The data changes afterwards: a stricter target for every unit's abandonment.
    with example_store.transaction() as cur:
        cur.execute("UPDATE targets SET target = 5 WHERE kpi = 'abandon_rate'")
    live = review.build_agenda(example_store, WEEK_2)
    stored = review.review_content(example_store, WEEK_2)
    assert len(live["exceptions"]) > len(before["agenda"]["exceptions"])
    assert stored["agenda"]["exceptions"] == before["agenda"]["exceptions"]
    assert stored["agenda"]["scorecard"] == before["agenda"]["scorecard"]
    assert stored["review"]["status"] == "final"


def test_an_altered_record_is_refused(example_store):
    review.finalise(example_store, WEEK_2, by="chair")
    with example_store.transaction() as cur:
        cur.execute("UPDATE reviews SET record_json = replace(record_json, '\"red\"', '\"green\"')")
    with pytest.raises(StoreError, match="checksum"):
        review.load_record(example_store, WEEK_2)


def test_a_targets_import_since_the_last_review_lists_its_targets(example_store, tmp_path):
    """Issue 12, D4: the batch that added a target is listed, and so is the target."""
    review.save_minutes(example_store, WEEK_1, attendees="Wali Kota", by="tests")
    new = tmp_path / "targets.csv"
    new.write_text("unit_code,kpi,target,valid_from,valid_to,amber_pct\n"
                   "PKM-2,abandon_rate,8,2026-06-01,,\n", encoding="utf-8")
    assert ingest.ingest_file(example_store, "targets", new).ok
    changes = review.build_agenda(example_store, WEEK_2)["changes"]
    assert [b["kind"] for b in changes["batches"]] == ["targets"]
    assert [(t["unit_code"], t["kpi"], t["target"]) for t in changes["new_targets"]] == [
        ("PKM-2", "abandon_rate", 8.0)]


def test_the_agenda_and_the_review_read_one_snapshot_each(example_store, monkeypatch):
    """The page's agenda and review content, called with the Store (ui.data.load), read one
    snapshot each: an import landing meanwhile never mixes its numbers with the ones before."""
    readings: list[int] = []
    reading = Store.reading

    def counted(store: Store) -> object:
        readings.append(1)
        return reading(store)

    monkeypatch.setattr(Store, "reading", counted)
    data = review.data_agenda(example_store, WEEK_2)
    assert len(readings) == 1
    review.review_content(example_store, WEEK_2, data)
    assert len(readings) == 2
