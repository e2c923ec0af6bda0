"""Issue 12: "today" is the day in KPI_TZ everywhere (D5), and the targets in force download as
numbers and dates (D8)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from kpi import ingest, pack, review, targets
from kpi.exports import to_csv_bytes
from kpi.i18n import fmt_date
from tests.helpers import open_view

# 26 hours apart: at every moment these two zones are on different days, so at least one of
# them is not the server's (UTC) day.
FAR_EAST, FAR_WEST = "Pacific/Kiritimati", "Etc/GMT+12"


def day_in(zone: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(zone)).date()


@pytest.mark.parametrize("zone", [FAR_EAST, FAR_WEST])
def test_the_pack_is_prepared_on_the_local_day(example_store, monkeypatch, zone):
    monkeypatch.setenv("KPI_TZ", zone)
    content = review.review_content(example_store, "2026-W12")
    assert pack.pack_view(content, "en")["prepared"] == fmt_date(day_in(zone), "en", "long")


@pytest.mark.parametrize("zone", [FAR_EAST, FAR_WEST])
def test_the_in_force_day_defaults_to_the_local_day(example_store, monkeypatch, zone):
    monkeypatch.setenv("KPI_TZ", zone)
    at = open_view(example_store, monkeypatch, "targets", role="analyst")
    assert at.date_input(key="in_force_day").value == day_in(zone)


def test_the_targets_in_force_download_holds_numbers_and_dates(example_store, tmp_path):
    in_force = targets.targets_in_force(example_store, day=dt.date(2026, 3, 20))
    frame = targets.in_force_file(in_force)
    assert list(frame.columns) == targets.TARGET_FILE_COLUMNS
    assert pd.api.types.is_float_dtype(frame["target"])
    assert pd.api.types.is_float_dtype(frame["amber_pct"])
    pkm1 = frame[(frame["unit_code"] == "PKM-1") & (frame["kpi"] == "service_time_median")]
    assert pkm1[["target", "valid_from"]].values.tolist() == [[22.0, dt.date(2026, 3, 9)]]
    assert all(isinstance(day, dt.date) for day in frame["valid_from"])
    # The file is a targets file: it imports back, unchanged.
    path = tmp_path / "targets.csv"
    path.write_bytes(to_csv_bytes(frame))
    result = ingest.ingest_file(example_store, "targets", path, dry_run=True)
    assert result.ok, result.problems
