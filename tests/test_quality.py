"""kpi.quality: the data-quality checks, on the contract's example plus planted faults."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from kpi import quality
from kpi.ingest import ingest_file

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "shared" / "spec" / "example"
START, END = dt.date(2026, 2, 16), dt.date(2026, 3, 29)
HEADER = "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel"


def load(store, tmp_path, kind: str, text: str) -> None:
    path = tmp_path / f"{kind}-{abs(hash(text))}.csv"
    path.write_text(text, encoding="utf-8")
    result = ingest_file(store, kind, path, loaded_by="tests")
    assert result.ok, [p.reason for p in result.problems]


def test_last_dates_are_local_dates_per_unit(example_store):
    events = pd.read_csv(EXAMPLE_DIR / "events.csv")
    def local(text: str) -> dt.date:
        stamp = dt.datetime.fromisoformat(text)
        if stamp.tzinfo:  # an offset: the wall clock of the deployment zone decides the date
            stamp = stamp.astimezone(ZoneInfo("Asia/Jakarta"))
        return stamp.date()

    expected = events["arrived_at"].map(local).groupby(events["unit_code"]).max()
    frame = quality.last_dates(example_store).set_index("unit_code")
    for unit, day in expected.items():
        assert pd.Timestamp(frame.loc[unit, "last_event_date"]).date() == day


def test_small_samples_agree_with_the_contracts_ikm_example(example_store):
    expected = {row["unit_code"]: row for row in
                json.loads((EXAMPLE_DIR / "expected" / "ikm.json").read_text())}
    # The example lies inside the first quarter of 2026, so the quarter is the example's range.
    frame = quality.small_samples(example_store, quarter_start=dt.date(2026, 1, 1))
    assert set(frame["unit_code"]) == {"DINKES", "PKM-1", "PKM-2", "DUKCAPIL"}
    for row in frame.to_dict("records"):
        want = expected[row["unit_code"]]
        assert (row["responses"], row["min_sample"], row["sample_ok"]) == (
            want["n"], want["min_sample"], want["sample_ok"])


def test_weeks_without_events_are_found_after_a_units_first_week(example_store, tmp_path):
    load(example_store, tmp_path, "units", "unit_code,name,type\nPKM-3,Puskesmas Tiga,puskesmas\n")
    load(example_store, tmp_path, "services", "unit_code,service_code,name\nPKM-3,UMUM,Umum\n")
    load(example_store, tmp_path, "events",
         f"{HEADER}\nPKM-3,UMUM,G-1,2026-03-02 08:00:00,,,no_show,counter\n"
         "PKM-3,UMUM,G-2,2026-03-23 08:00:00,,,no_show,counter\n")
    gaps = quality.empty_weeks(example_store, date_from=START, date_to=END)
    pkm3 = gaps[gaps["unit_code"] == "PKM-3"]
    assert list(pkm3["source"]) == ["events", "events"]  # never surveyed: no survey gaps
    assert [d.date() if hasattr(d, "date") else d for d in pkm3["week_start"]] == [
        dt.date(2026, 3, 9), dt.date(2026, 3, 16)]  # not the two weeks before its first
    assert gaps[gaps["source"] == "events"]["unit_code"].unique().tolist() == ["PKM-3"]


def test_service_times_over_a_day_are_listed(example_store, tmp_path):
    load(example_store, tmp_path, "events", f"{HEADER}\n"
         "PKM-2,UMUM,L-1,2026-03-24 08:00:00,,2026-03-25 08:00:01,completed,counter\n"
         "PKM-2,UMUM,L-2,2026-03-24 08:00:00,,2026-03-25 08:00:00,completed,counter\n")
    found = quality.long_service_times(example_store, date_from=START, date_to=END)
    assert list(found["ticket_id"]) == ["L-1"]  # exactly 24 hours is not over
    assert found["service_minutes"].iloc[0] > 24 * 60
    assert quality.long_service_times(example_store, date_from=dt.date(2026, 3, 25),
                                      date_to=END).empty  # by arrival date


def test_a_day_with_ten_times_the_usual_volume_is_flagged(example_store, tmp_path):
    before = quality.volume_spikes(example_store, date_from=START, date_to=END)
    assert before.empty
    daily = example_store.query_df(
        "SELECT arrived_at::DATE AS day, count(*) AS n FROM events WHERE unit_code = 'DUKCAPIL' "
        "GROUP BY ALL")
    usual = float(daily["n"].median())
    extra = int(10 * usual) + 1 - int(daily.set_index("day")["n"].get(pd.Timestamp("2026-03-26"), 0))
    rows = [f"DUKCAPIL,KTP,S-{i},2026-03-26 09:00:00,,,no_show,counter" for i in range(extra)]
    load(example_store, tmp_path, "events", "\n".join([HEADER, *rows]) + "\n")
    spikes = quality.volume_spikes(example_store, date_from=START, date_to=END)
    assert list(spikes["unit_code"]) == ["DUKCAPIL"]
    assert pd.Timestamp(spikes["day"].iloc[0]).date() == dt.date(2026, 3, 26)
    assert spikes["events"].iloc[0] >= 10 * spikes["usual"].iloc[0]


def test_summary_counts_the_findings_per_unit(example_store, tmp_path):
    load(example_store, tmp_path, "events", f"{HEADER}\n"
         "PKM-2,UMUM,L-1,2026-03-24 08:00:00,,2026-03-26 08:00:00,completed,counter\n")
    frame = quality.summary(example_store, date_from=START, date_to=END,
                            quarter_start=dt.date(2026, 1, 1)).set_index("unit_code")
    assert frame.loc["PKM-2", "long_service_times"] == 1
    assert frame.loc["PKM-1", "long_service_times"] == 0
    # every unit is below its minimum sample; PKM-2 also has the long service time
    assert frame.loc["PKM-2", "issues"] == 2 and frame.loc["PKM-1", "issues"] == 1
    assert not frame["sample_ok"].any()
