"""XmR rules, worked by hand. Most cases rest on the baseline [12, 10, 12, 10]:
centre 11, mean(mR) 2, limits 11 ± 5.32 = 5.68 / 16.32, two-sigma lines 11 ± 3.5467."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi import spc
from kpi.spc import xmr

BASE = [12.0, 10.0, 12.0, 10.0]


def signals_of(values, **kwargs) -> dict[int, list[str]]:
    """Points that carry a signal: {index: signals}."""
    result = xmr(values, better=kwargs.pop("better", "higher"), **kwargs)
    return {index: names for index, names in enumerate(result.signals) if names}


def test_limits_from_the_baseline():
    result = xmr([*BASE, 30.0, 40.0], better="higher", baseline=4)
    assert result.centre == pytest.approx(11.0)
    assert result.ucl == pytest.approx(16.32)
    assert result.lcl == pytest.approx(5.68)
    assert result.upper_two_sigma == pytest.approx(11 + 2 / 3 * 5.32)
    assert result.lower_two_sigma == pytest.approx(11 - 2 / 3 * 5.32)
    assert result.baseline == 4


def test_limits_from_all_points_without_a_baseline():
    result = xmr([1.0, 3.0, 2.0], better="lower")
    assert result.centre == pytest.approx(2.0)  # mR = 2, 1: mean 1.5
    assert result.ucl == pytest.approx(2 + 2.66 * 1.5)
    assert result.lcl == pytest.approx(2 - 2.66 * 1.5)


def test_a_baseline_longer_than_the_series_uses_every_point():
    assert xmr([1.0, 3.0, 2.0], better="lower", baseline=50).centre == pytest.approx(2.0)


@pytest.mark.parametrize(("count", "baseline", "trial"), [
    (11, None, True), (12, None, False), (30, 11, True), (30, 12, False), (5, 20, True)])
def test_limits_on_fewer_than_12_points_are_trial(count, baseline, trial):
    values = [float(index % 3) for index in range(count)]
    assert xmr(values, better="higher", baseline=baseline).trial is trial


def test_no_limits_under_two_points():
    one = xmr([5.0], better="higher", target=3.0)
    assert (one.centre, one.ucl, one.lcl, one.assurance) == (5.0, None, None, None)
    assert one.variation == "common" and one.signals == [[]]
    none = xmr([], better="higher")
    assert (none.centre, none.ucl, none.variation, none.signals) == (None, None, None, [])
    baseline_of_one = xmr([5.0, 9.0, 1.0], better="higher", baseline=1)
    assert baseline_of_one.centre == 5.0 and baseline_of_one.ucl is None


def test_outside_is_strictly_beyond_a_limit():
    ucl = xmr(BASE, better="higher").ucl
    assert signals_of([*BASE, ucl, 11.0, 11.0, ucl + 1e-9], baseline=4) == {7: ["outside"]}
    lcl = xmr(BASE, better="higher").lcl
    assert signals_of([*BASE, lcl, 11.0, 11.0, lcl - 0.01], baseline=4) == {7: ["outside"]}


def test_shift_of_seven_points_on_one_side():
    assert signals_of([*BASE, *[11.5] * 7], baseline=4) == {i: ["shift"] for i in range(4, 11)}
    # below the centre the run starts with the baseline's last point (10.0)
    assert signals_of([*BASE, *[10.5] * 7], baseline=4) == {i: ["shift"] for i in range(3, 11)}


def test_six_points_are_no_shift():
    assert signals_of([*BASE, *[11.5] * 6], baseline=4) == {}


def test_a_point_exactly_on_the_centre_breaks_a_shift():
    values = [*BASE, 11.5, 11.5, 11.5, 11.0, 11.5, 11.5, 11.5, 11.5]
    assert signals_of(values, baseline=4) == {}


def test_trend_of_seven_strictly_rising_points_includes_its_first():
    values = [*BASE, 10.5, 10.6, 10.7, 10.8, 10.9, 11.0]  # 10.0 at index 3 starts the run
    assert signals_of(values, baseline=4) == {i: ["trend"] for i in range(3, 10)}


def test_trend_falling():
    values = [10.0, 12.0, 11.9, 11.8, 11.7, 11.6, 11.5, 11.4, 12.0]
    assert signals_of(values, baseline=4) == {i: ["trend"] for i in range(1, 8)}


def test_an_equal_neighbour_breaks_a_trend():
    rising = [*BASE, 10.5, 10.7, 10.8, 11.2, 11.4, 11.6, 11.8]
    assert signals_of(rising, baseline=4) == {i: ["trend"] for i in range(3, 11)}
    with_a_tie = [*BASE, 10.5, 10.8, 10.8, 11.2, 11.4, 11.6, 11.8]
    assert signals_of(with_a_tie, baseline=4) == {}


def test_two_of_three_beyond_the_two_sigma_line_on_one_side():
    # 15 > 14.547 twice in the window (15, 11, 15); 11 sits on the centre and breaks nothing else
    assert signals_of([*BASE, 15.0, 11.0, 15.0], baseline=4) == {4: ["two_of_three"],
                                                                  6: ["two_of_three"]}
    assert signals_of([*BASE, 7.0, 7.2], baseline=4) == {4: ["two_of_three"],
                                                         5: ["two_of_three"]}


def test_two_of_three_on_opposite_sides_is_no_signal():
    assert signals_of([*BASE, 15.0, 11.0, 7.0], baseline=4) == {}


def test_two_of_three_needs_them_within_three_points():
    assert signals_of([*BASE, 15.0, 11.0, 11.0, 15.0], baseline=4) == {}


def test_signals_are_listed_alphabetically():
    assert signals_of([*BASE, 20.0, 20.0], baseline=4) == {4: ["outside", "two_of_three"],
                                                           5: ["outside", "two_of_three"]}


@pytest.mark.parametrize(("values", "better", "variation"), [
    ([*BASE, 20.0], "higher", "improvement"),
    ([*BASE, 20.0], "lower", "concern"),
    ([*BASE, 2.0], "higher", "concern"),
    ([*BASE, 2.0], "lower", "improvement"),
    ([*BASE, 12.0], "higher", "common"),
    ([*BASE, *[10.5] * 7], "higher", "concern"),       # shift below the centre
    ([*BASE, *[10.5] * 7], "lower", "improvement"),
    # a falling trend that stays above the centre: the trend's direction decides
    ([20.0, 19.0, 18.0, 17.0, 16.0, 15.0, 14.0], "higher", "concern"),
    ([20.0, 19.0, 18.0, 17.0, 16.0, 15.0, 14.0], "lower", "improvement"),
])
def test_variation_of_the_latest_point(values, better, variation):
    assert xmr(values, better=better, baseline=4).variation == variation


@pytest.mark.parametrize(("better", "target", "assurance"), [
    ("higher", 5.0, "pass"),           # lcl 5.68 ≥ 5
    ("higher", 17.0, "fail"),          # ucl 16.32 < 17
    ("higher", 11.0, "hit_and_miss"),
    ("lower", 17.0, "pass"),           # ucl 16.32 ≤ 17
    ("lower", 5.0, "fail"),            # lcl 5.68 > 5
    ("lower", 11.0, "hit_and_miss"),
    ("lower", None, None),
])
def test_assurance_against_the_target(better, target, assurance):
    assert xmr(BASE, better=better, target=target).assurance == assurance


def test_a_target_exactly_on_the_limit_passes():
    limits = xmr(BASE, better="higher")
    assert xmr(BASE, better="higher", target=limits.lcl).assurance == "pass"
    assert xmr(BASE, better="lower", target=limits.ucl).assurance == "pass"


def test_bad_arguments():
    with pytest.raises(ValueError):
        xmr([1.0, 2.0], better="sideways")
    with pytest.raises(ValueError):
        xmr([1.0, 2.0], better="higher", baseline=0)


def test_spc_series_on_the_example(example_store):
    chart = spc.spc_series(example_store, unit="PKM-1", kpi="service_time_median",
                           period="week")
    assert [point["period_start"] for point in chart["points"]] == [
        "2026-02-16", "2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]
    assert chart["target"] == 22.0  # PKM-1's own row valid from 2026-03-09, on the latest week
    assert chart["trial"] is True
    assert chart["centre"] == pytest.approx(
        sum(point["value"] for point in chart["points"]) / 6)
    later = spc.spc_series(example_store, unit="PKM-1", kpi="service_time_median",
                           period="week", date_from=dt.date(2026, 3, 2))
    assert len(later["points"]) == 4


def test_spc_series_without_values(example_store):
    chart = spc.spc_series(example_store, unit="DUKCAPIL", kpi="ikm", period="year",
                           date_from=dt.date(2030, 1, 1))
    assert chart["points"] == [] and chart["centre"] is None and chart["variation"] is None
