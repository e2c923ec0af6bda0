"""The demo city (data/sample) and the benchmark generator produce contract-valid files.

Column lists and rules below are written out from the contract (section 1) on purpose, not
imported from the generators, so that a generator drifting from the contract fails here.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "data" / "sample"
for folder in (SAMPLE_DIR, ROOT / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from make_bench_data import make_bench_data  # noqa: E402
from make_sample import make_sample  # noqa: E402

from kpi.ikm import min_sample  # noqa: E402
from kpi.vocabulary import KEYS, KPIS, OUTCOMES  # noqa: E402
from tests.conftest import one_worker  # noqa: E402

pytestmark = one_worker("sample_data")  # the demo city read and checked once, the bench files made once

CONTRACT_COLUMNS = {
    "units": ["unit_code", "name", "type", "parent_code", "district"],
    "services": ["unit_code", "service_code", "name", "standard_minutes"],
    "events": ["unit_code", "service_code", "ticket_id", "arrived_at", "started_at",
               "completed_at", "outcome", "channel"],
    "survey": ["unit_code", "response_id", "submitted_at", "u1", "u2", "u3", "u4", "u5", "u6",
               "u7", "u8", "u9", "service_code", "respondent_gender", "respondent_age",
               "respondent_education", "comment"],
    "targets": ["unit_code", "kpi", "target", "valid_from", "valid_to", "amber_pct"],
}
TIMESTAMP = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2})?$"
SAMPLE_FILES = {"units": "units.csv", "services": "services.csv", "targets": "targets.csv",
                "events": "events.csv.gz", "survey": "survey.csv.gz"}
LOAD_ORDER = ["units", "services", "events", "survey", "targets"]


def read_text_frame(path: Path) -> pd.DataFrame:
    """Every cell as the text in the file ('' for empty)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def parse_local(text: pd.Series, zone_minutes: int = 7 * 60) -> pd.Series:
    """Contract timestamps as naive local (UTC+7) wall-clock time; '' becomes NaT."""
    base = pd.to_datetime(text.str.slice(0, 19).where(text != ""), format="%Y-%m-%d %H:%M:%S")
    offset = text.str.extract(r"([+-])(\d{2}):(\d{2})$")
    offset_minutes = offset[0].map({"+": 1.0, "-": -1.0}) * (
        offset[1].astype(float) * 60 + offset[2].astype(float))
    return base + pd.to_timedelta((zone_minutes - offset_minutes).fillna(0.0), unit="min")


def check_contract_files(paths: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Assert everything section 1 of the contract requires of a file set; return the frames."""
    frames = {kind: read_text_frame(path) for kind, path in paths.items()}
    for kind, frame in frames.items():
        assert list(frame.columns) == CONTRACT_COLUMNS[kind], kind
        assert not frame.duplicated(list(KEYS[kind])).any(), f"duplicate key in {kind}"
        for column in CONTRACT_COLUMNS[kind]:
            assert (frame[column] == frame[column].str.strip()).all(), (kind, column)

    units, services = frames["units"], frames["services"]
    events, survey, targets = frames["events"], frames["survey"], frames["targets"]
    for column in ("unit_code", "name", "type"):
        assert (units[column] != "").all()
    codes = set(units["unit_code"])
    parents = set(units["parent_code"]) - {""}
    assert parents <= codes, f"unknown parents: {parents - codes}"
    parent_of = dict(zip(units["unit_code"], units["parent_code"], strict=True))
    for code in codes:  # every chain of parents ends at a root
        seen = set()
        while code:
            assert code not in seen, f"cycle through {code}"
            seen.add(code)
            code = parent_of[code]

    assert set(services["unit_code"]) <= codes
    standard = pd.to_numeric(services["standard_minutes"].replace("", None))
    assert (standard.dropna() > 0).all()
    service_keys = set(zip(services["unit_code"], services["service_code"], strict=True))

    event_keys = set(zip(events["unit_code"], events["service_code"], strict=True))
    assert event_keys <= service_keys, f"unknown services: {sorted(event_keys - service_keys)[:5]}"
    assert set(events["outcome"]) <= set(OUTCOMES)
    for column in ("ticket_id", "arrived_at", "outcome"):
        assert (events[column] != "").all(), column
    for column in ("arrived_at", "started_at", "completed_at"):
        filled = events[column][events[column] != ""]
        assert filled.str.match(TIMESTAMP).all(), column
    arrived = parse_local(events["arrived_at"])
    started = parse_local(events["started_at"])
    completed = parse_local(events["completed_at"])
    assert arrived.notna().all()
    assert completed[events["outcome"] == "completed"].notna().all()
    assert not (started < arrived).any()
    assert not (completed < started).any()
    assert not (completed[started.isna()] < arrived[started.isna()]).any()

    assert set(survey["unit_code"]) <= codes
    with_service = survey[survey["service_code"] != ""]
    survey_keys = set(zip(with_service["unit_code"], with_service["service_code"], strict=True))
    assert survey_keys <= service_keys
    assert survey["submitted_at"].str.match(TIMESTAMP).all()
    for element in (f"u{i}" for i in range(1, 10)):
        assert set(survey[element]) <= {"", "1", "2", "3", "4"}, element
    ages = survey["respondent_age"][survey["respondent_age"] != ""]
    assert ages.str.fullmatch(r"\d+").all()

    assert set(targets["unit_code"]) <= codes | {"*"}
    assert set(targets["kpi"]) <= set(KPIS)
    pd.to_numeric(targets["target"])
    assert targets["valid_from"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    closed = targets[targets["valid_to"] != ""]
    assert (closed["valid_to"] >= closed["valid_from"]).all()
    frames["events"] = events.assign(arrived=arrived, started=started, completed=completed)
    return frames


def ingest_all(store, paths: dict[str, Path]) -> None:
    """Load a file set through the real importer, in dependency order; nothing may be rejected."""
    from kpi.ingest import ingest_file

    for kind in LOAD_ORDER:
        result = ingest_file(store, kind, paths[kind])
        assert result.ok, f"{kind} rejected: {result}"


# -- the demo city ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_paths() -> dict[str, Path]:
    return {kind: SAMPLE_DIR / name for kind, name in SAMPLE_FILES.items()}


@pytest.fixture(scope="module")
def sample(sample_paths) -> dict[str, pd.DataFrame]:
    return check_contract_files(sample_paths)


@pytest.mark.slow
def test_regenerating_the_demo_gives_the_committed_files(tmp_path, sample_paths):
    fresh = make_sample(tmp_path)
    for kind, committed in sample_paths.items():
        new_bytes, old_bytes = fresh[kind].read_bytes(), committed.read_bytes()
        if committed.suffix == ".gz":
            assert gzip.decompress(new_bytes) == gzip.decompress(old_bytes), f"{kind} content"
            assert old_bytes[4:8] == b"\0\0\0\0", f"{kind}: gzip mtime must be 0"
        assert new_bytes == old_bytes, f"{kind} bytes"


def test_demo_files_follow_the_contract(sample):
    # check_contract_files asserts; here the sizes the README promises.
    assert 15 <= len(sample["units"]) <= 25
    per_unit = sample["services"].groupby("unit_code").size()
    assert per_unit.between(3, 8).all()
    assert 300_000 <= len(sample["events"]) <= 450_000
    assert 20_000 <= len(sample["survey"]) <= 80_000


def test_demo_covers_18_months_closed_on_sundays(sample):
    arrived = sample["events"]["arrived"]
    assert arrived.min().date().isoformat() == "2025-05-26"
    assert arrived.max().date().isoformat() == "2026-11-21"  # Saturday; Sundays are closed
    assert not (arrived.dt.day_of_week == 6).any()
    minutes = arrived.dt.hour * 60 + arrived.dt.minute
    assert minutes.between(7 * 60 + 30, 15 * 60).all()


def test_demo_exercises_the_import_paths(sample):
    events, survey = sample["events"], sample["survey"]
    offsets = events["arrived_at"].str.contains(r"\+0[07]:00$")
    assert 0.005 < offsets.mean() < 0.02
    assert events["arrived_at"].str.endswith("+00:00").any()
    assert events["arrived_at"].str.endswith("+07:00").any()
    completed = events[events["outcome"] == "completed"]
    assert (completed["started_at"] == "").any()
    assert set(events["channel"]) == {"counter", "online", "phone"}
    assert set(events["outcome"]) == set(OUTCOMES)
    assert (survey[[f"u{i}" for i in range(1, 10)]] == "").any().all()
    formula_like = survey["comment"].str.match(r"^[=@+\-]")
    assert formula_like.sum() >= 20
    assert survey["comment"].str.startswith("=").any()
    assert survey["comment"].str.startswith("@").any()


def _weekly(events: pd.DataFrame, unit: str) -> pd.DataFrame:
    mine = events[events["unit_code"] == unit]
    done = mine["outcome"] == "completed"
    week = mine["arrived"].dt.to_period("W-SUN")
    return pd.DataFrame({
        "service": ((mine["completed"] - mine["arrived"]).dt.total_seconds() / 60).where(done),
        "wait": ((mine["started"] - mine["arrived"]).dt.total_seconds() / 60).where(done),
        "lost": ~done,
        "week": week,
    }).groupby("week").agg(service=("service", "median"), wait=("wait", "median"),
                           lost=("lost", "mean"))


def test_demo_tells_the_stories_of_the_readme(sample):
    events = sample["events"]
    helvetia = _weekly(events, "PKM-HLV")
    assert helvetia["lost"].iloc[-1] > 3 * helvetia["lost"].iloc[:-3].median()
    assert helvetia["lost"].iloc[-1] == helvetia["lost"].max()

    dukcapil = _weekly(events, "DUKCAPIL")
    outage = dukcapil.index.start_time >= "2026-09-07"
    assert dukcapil["service"][outage].min() > 1.3 * dukcapil["service"][~outage].max()

    belawan = _weekly(events, "PKM-BLW")["wait"]
    assert belawan.iloc[-8:].mean() > 2.5 * belawan.iloc[:8].mean()

    padang_bulan = _weekly(events, "PKM-PDB")["wait"]
    before = padang_bulan.index.start_time < "2026-01-05"  # the queue system, then a ramp
    after = padang_bulan.index.start_time >= "2026-01-26"
    assert padang_bulan[after].max() < 0.75 * padang_bulan[before].min()

    city_per_week = events.groupby(events["arrived"].dt.to_period("W-SUN")).size()
    lebaran = city_per_week[pd.Period("2026-03-23", "W-SUN")]
    assert lebaran < 0.5 * city_per_week.median()


def test_demo_survey_spreads_grades_and_sample_sizes(sample):
    survey = sample["survey"]
    answers = survey[[f"u{i}" for i in range(1, 10)]].replace("", np.nan).astype(float)
    nrr = answers.groupby(survey["unit_code"]).mean()
    ikm = 25 * nrr.mean(axis=1)
    grades = pd.cut(ikm, [0, 65, 76.61, 88.31, 101], right=False, labels=list("DCBA"))
    assert set(grades) == set("ABCD")
    assert nrr.loc["DUKCAPIL"].idxmin() == "u3"
    assert nrr.loc["DUKCAPIL", "u3"] < nrr.loc["DUKCAPIL"].drop("u3").min() - 0.5

    # Per unit and quarter: responses against the Krejcie-Morgan minimum for its own visits.
    events = sample["events"]
    completed = events[events["outcome"] == "completed"]
    served = completed.groupby(
        [completed["unit_code"], completed["arrived"].dt.to_period("Q")]).size()
    submitted = parse_local(survey["submitted_at"]).dt.to_period("Q")
    responses = survey.groupby([survey["unit_code"], submitted]).size()
    minimum = served.map(min_sample)
    enough = (responses.reindex(minimum.index, fill_value=0) >= minimum).groupby(level=0).all()
    assert 3 <= (~enough).sum() <= 7, "a few units are below the minimum sample"
    assert enough.sum() >= 12, "most units meet it"


def test_demo_loads_through_ingest_without_rejections(empty_store, sample_paths, sample):
    pytest.importorskip("kpi.ingest")
    ingest_all(empty_store, sample_paths)
    assert empty_store.query_value("SELECT count(*) FROM events") == len(sample["events"])
    assert empty_store.query_value("SELECT count(*) FROM survey_responses") == len(
        sample["survey"])


# -- the benchmark generator ------------------------------------------------------------------
@pytest.fixture(scope="module")
def bench_paths(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("bench")
    return make_bench_data(out, events=10_000, responses=2_000, units=12, seed=3)


def test_bench_data_is_contract_valid(bench_paths):
    frames = check_contract_files(bench_paths)
    assert len(frames["units"]) == 12
    assert (frames["units"]["parent_code"] != "").sum() == 8
    assert len(frames["events"]) == 10_000
    assert len(frames["survey"]) == 2_000
    arrived = frames["events"]["arrived"]
    assert arrived.dt.normalize().is_monotonic_increasing  # sorted by day
    assert (arrived.max() - arrived.min()).days >= 540


def test_bench_data_is_deterministic(tmp_path, bench_paths):
    again = make_bench_data(tmp_path, events=10_000, responses=2_000, units=12, seed=3)
    for kind, path in again.items():
        assert path.read_bytes() == bench_paths[kind].read_bytes(), kind


def test_bench_data_loads_through_ingest(empty_store, bench_paths):
    pytest.importorskip("kpi.ingest")
    ingest_all(empty_store, bench_paths)
    assert empty_store.query_value("SELECT count(*) FROM events") == 10_000
