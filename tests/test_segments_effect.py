"""SPC segments (re-baselining) and the effect verdict of contract §2, on hand-built series.

Most series rest on the base [10, 12, 10, 12, …]: centre 11, mean(mR) 2, limits 11 ± 5.32 =
5.68 / 16.32, two-sigma lines 11 ± 3.5467."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi import effect, spc
from kpi.effect import judge
from kpi.spc import segment_starts, segmented_xmr, xmr

MONDAYS = [dt.date(2026, 1, 5) + dt.timedelta(weeks=index) for index in range(10)]
BASE = [10.0, 12.0] * 6  # 12 points: firm limits


# -- where a segment starts ---------------------------------------------------------------------
@pytest.mark.parametrize(("dates", "starts"), [
    ([MONDAYS[3]], [0, 3]),                              # on a period's first day
    ([MONDAYS[3] + dt.timedelta(days=2)], [0, 4]),       # mid-period: the next period's point
    ([MONDAYS[0] - dt.timedelta(days=30)], [0]),         # before the first point
    ([MONDAYS[0]], [0]),                                 # on the first point
    ([MONDAYS[9] + dt.timedelta(days=1)], [0]),          # after the last point
    ([MONDAYS[2] + dt.timedelta(days=1), MONDAYS[3]], [0, 3]),  # two dates, one point
    ([MONDAYS[7], MONDAYS[2]], [0, 2, 7]),               # any order
    ([], [0]),
])
def test_segment_starts(dates, starts):
    assert segment_starts(MONDAYS, dates) == starts


def test_a_gap_in_the_series_starts_the_segment_at_the_next_point_there_is():
    days = [MONDAYS[0], MONDAYS[1], MONDAYS[5]]  # weeks 2-4 have no value
    assert segment_starts(days, [MONDAYS[3]]) == [0, 2]


# -- each segment is a series of its own -----------------------------------------------------
def test_each_segment_has_its_own_centre_and_limits_and_no_range_across_the_boundary():
    values = [*BASE, 30.0, 31.0, 30.0, 31.0]
    result = segmented_xmr(values, [0, 12], better="lower")
    first, second = result.charts
    assert (first.centre, first.ucl, first.lcl) == pytest.approx((11.0, 16.32, 5.68))
    # the second segment: mR = 1, 1, 1 (the jump 12 -> 30 is no moving range of either)
    assert second.centre == pytest.approx(30.5)
    assert second.ucl == pytest.approx(30.5 + 2.66)
    assert second.trial and not first.trial
    assert result.segment_of == [0] * 12 + [1] * 4
    assert result.signals == [[]] * 16  # the jump is no signal once re-baselined
    assert result.last is second
    unsplit = xmr(values, better="lower")
    assert "outside" in unsplit.signals[12]


def test_the_baseline_is_taken_in_each_segment():
    values = [10.0, 12.0, 50.0, 60.0, 20.0, 22.0, 90.0]
    result = segmented_xmr(values, [0, 4], better="higher", baseline=2)
    assert [chart.centre for chart in result.charts] == pytest.approx([11.0, 21.0])
    assert [chart.baseline for chart in result.charts] == [2, 2]
    assert "outside" in result.signals[2] and "outside" in result.signals[6]
    assert result.signals[4:6] == [[], []]


def test_no_run_of_seven_crosses_a_boundary():
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    assert "trend" in xmr(values, better="higher").signals[0]
    split = segmented_xmr(values, [0, 4], better="higher")
    assert split.signals == [[]] * 8
    # a shift: 4 + 4 points above the old centre; the second segment has its own centre
    shifted = [*BASE, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0]
    assert "shift" in xmr(shifted, better="higher", baseline=12).signals[-1]
    assert segmented_xmr(shifted, [0, 16], better="higher", baseline=12).signals[12:] == [[]] * 7


def test_no_two_of_three_window_crosses_a_boundary():
    values = [*BASE, 15.0, 15.0]
    assert xmr(values, better="higher", baseline=12).signals[-2:] == [["two_of_three"]] * 2
    split = segmented_xmr(values, [0, 13], better="higher", baseline=12)
    assert split.signals[-2:] == [[], []]


def test_a_segment_of_one_point_has_no_limits():
    result = segmented_xmr([*BASE, 40.0], [0, 12], better="higher", target=5.0)
    last = result.last
    assert (last.centre, last.ucl, last.lcl, last.trial) == (40.0, None, None, True)
    assert (last.variation, last.assurance) == ("common", None)
    assert result.charts[0].assurance == "pass"


def test_variation_and_assurance_are_the_last_segments():
    values = [*BASE, 2.0, 2.2, 2.0, 2.2, 2.0, 2.2, 2.0, 2.2, 2.0, 2.2, 2.0, 2.2]
    result = segmented_xmr(values, [0, 12], better="lower", target=3.0)
    assert result.last.assurance == "pass"
    assert result.charts[0].assurance == "fail"


def test_spc_series_reports_segments_and_point_numbers(example_store):
    chart = spc.spc_series(example_store, unit="PKM-1", kpi="service_time_median",
                           period="week", rebase=[dt.date(2026, 3, 4)])
    days = [point["period_start"] for point in chart["points"]]
    assert days[:2] == ["2026-02-16", "2026-02-23"]
    # 4 March is mid-week: the segment starts with the week of 9 March
    assert [segment["start"] for segment in chart["segments"]] == ["2026-02-16", "2026-03-09"]
    assert [point["segment"] for point in chart["points"]] == [0, 0, 0, 1, 1, 1]
    first = [point["value"] for point in chart["points"][:3]]
    assert chart["segments"][0]["centre"] == pytest.approx(sum(first) / 3)
    assert chart["centre"] == chart["segments"][1]["centre"]
    plain = spc.spc_series(example_store, unit="PKM-1", kpi="service_time_median",
                           period="week")
    assert len(plain["segments"]) == 1 and {p["segment"] for p in plain["points"]} == {0}


# -- the verdict -----------------------------------------------------------------------------
@pytest.mark.parametrize(("after", "better", "verdict", "signals"), [
    ([8.0] * 7, "lower", "improved", ["shift"]),           # 7 below the old centre
    ([8.0] * 7, "higher", "worse", ["shift"]),
    ([30.0, *[8.0] * 7], "lower", "mixed", ["outside", "shift"]),  # a spike up, then lower
    ([10.0, 12.0] * 4, "lower", "no_change", []),          # 8 points, nothing
    ([10.0, 12.0, 11.5], "lower", "too_early", []),         # 3 of 7
    ([8.0, 9.0, 10.0, 11.5, 12.0, 13.0, 14.0], "higher", "improved", ["trend"]),
    ([14.0, 13.0, 12.0, 11.5, 10.0, 9.0, 8.0], "higher", "worse", ["trend"]),
    ([20.0], "lower", "worse", ["outside"]),                # judged even before 7 points
])
def test_every_verdict(after, better, verdict, signals):
    judged = judge(BASE, after, better=better)
    assert judged["verdict"] == verdict
    assert judged["after_signals"] == signals
    assert (judged["before_n"], judged["after_n"]) == (12, len(after))
    assert (judged["centre"], judged["ucl"], judged["lcl"]) == pytest.approx((11.0, 16.32, 5.68))


def test_signals_on_before_points_are_not_read():
    before = [*BASE, 30.0]  # an outside point before the change
    judged = judge(before, [11.0, 11.0], better="lower")
    assert judged["verdict"] == "too_early" and judged["after_signals"] == []


def test_no_baseline_judges_nothing():
    judged = judge([10.0], [40.0] * 9, better="lower")
    assert judged == {"verdict": "no_baseline", "before_n": 1, "after_n": 9, "centre": None,
                      "ucl": None, "lcl": None, "after_signals": [], "signals": [[]] * 9}
    assert judge([], [1.0], better="higher")["verdict"] == "no_baseline"


def test_before_is_cut_by_an_earlier_rebase_and_ignores_one_at_the_change():
    # points on MONDAYS[0..9]; the change on MONDAYS[6]; an earlier rebase on MONDAYS[2]
    assert effect.split(MONDAYS, MONDAYS[6], [MONDAYS[2]]) == (2, 6)
    assert effect.split(MONDAYS, MONDAYS[6], []) == (0, 6)
    assert effect.split(MONDAYS, MONDAYS[6] + dt.timedelta(days=3), []) == (0, 7)
    assert effect.split(MONDAYS, MONDAYS[0], [MONDAYS[2]]) == (0, 0)
    # a rebase after the change is no cut of before
    assert effect.split(MONDAYS, MONDAYS[4], [MONDAYS[8]]) == (0, 4)


# -- against brute force (hypothesis) ---------------------------------------------------------
def _reference_segments(values, starts, better, baseline):
    """Segments by the reference XmR (tests/reference_impl.py), one segment at a time."""
    from tests import reference_impl as ref

    bounds = [*starts, len(values)]
    return [ref.xmr(values[first:end], better, baseline, None)
            for first, end in itertools.pairwise(bounds)]


def _reference_verdict(before, after, better):
    """The contract's verdict by brute force: the signals of every after point, and for a trend
    every 7-point window through the point that rises or falls throughout."""
    from tests import reference_impl as ref

    if len(before) < 2:
        return "no_baseline", []
    values = [*before, *after]
    chart = ref.xmr(values, better, len(before), None)
    good = 1 if better == "higher" else -1
    ways, seen = set(), set()
    for index in range(len(before), len(values)):
        names = chart["signals"][index]
        seen.update(names)
        if set(names) - {"trend"}:
            ways.add(1 if values[index] > chart["centre"] else -1)
        if "trend" in names:
            for start in range(max(0, index - 6), min(index, len(values) - 7) + 1):
                steps = [values[i + 1] - values[i] for i in range(start, start + 6)]
                if all(step > 0 for step in steps):
                    ways.add(1)
                if all(step < 0 for step in steps):
                    ways.add(-1)
    if good in ways and -good in ways:
        return "mixed", sorted(seen)
    if good in ways:
        return "improved", sorted(seen)
    if -good in ways:
        return "worse", sorted(seen)
    return ("no_change" if len(after) >= 7 else "too_early"), sorted(seen)


_walks = st.lists(st.sampled_from([-1.0, 0.0, 0.5, 1.0, 1.0, 4.0, -3.0]), max_size=30).map(
    lambda steps: [10.0 + sum(steps[:i + 1]) for i in range(len(steps))])


@settings(max_examples=200, deadline=None)
@given(values=_walks, cuts=st.lists(st.integers(0, 31), max_size=3),
       better=st.sampled_from(["higher", "lower"]),
       baseline=st.one_of(st.none(), st.integers(1, 12)))
def test_segments_agree_with_the_reference(values, cuts, better, baseline):
    days = [dt.date(2026, 1, 5) + dt.timedelta(weeks=i) for i in range(len(values))]
    starts = segment_starts(days, [dt.date(2026, 1, 5) + dt.timedelta(weeks=c) for c in cuts])
    assert starts == [0, *sorted({c for c in cuts if 0 < c < len(values)})]
    got = segmented_xmr(values, starts, better=better, baseline=baseline)
    want = _reference_segments(values, starts, better, baseline)
    assert [(c.centre, c.ucl, c.lcl, c.trial) for c in got.charts] == [
        (w["centre"], w["ucl"], w["lcl"], w["trial"]) for w in want]
    assert got.signals == [names for w in want for names in w["signals"]]
    assert got.last.variation == want[-1]["variation"]


@settings(max_examples=300, deadline=None)
@given(values=_walks, cut=st.integers(0, 30), better=st.sampled_from(["higher", "lower"]))
def test_the_verdict_agrees_with_brute_force(values, cut, better):
    before, after = values[:cut], values[cut:]
    judged = judge(before, after, better=better)
    assert (judged["verdict"], judged["after_signals"]) == _reference_verdict(before, after,
                                                                              better)
