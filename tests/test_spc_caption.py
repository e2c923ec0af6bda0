"""Issue 22 (minor): the caption under the unit page's XmR chart called its limits trial on 26
points ("Dotted limits are trial limits" under every chart). Contract §2: limits resting on
fewer than 12 points are trial; with segments, each has its own limits and `trial`, and the
chart's are the last segment's."""

from __future__ import annotations

import pytest

from kpi import labels
from tests.helpers import no_exceptions, open_view


def chart(*segments: tuple[str, int, bool]) -> dict:
    """An spc_series-shaped dict: segments as (start, points, trial)."""
    points = [{"segment": number} for number, (_, count, _) in enumerate(segments)
              for _ in range(count)]
    parts = [{"start": start, "centre": 20.0, "ucl": 26.0, "lcl": 14.0, "trial": trial}
             for start, _, trial in segments]
    return {"centre": 20.0, "ucl": 26.0, "lcl": 14.0, "trial": segments[-1][2],
            "baseline": segments[-1][1], "segments": parts, "points": points}


def caption(spc: dict, lang: str = "en") -> str:
    return labels.spc_caption("service_time_median", spc, lang, window="25 May – 16 Nov 2026")


def test_firm_limits_on_26_points_are_not_called_trial():
    text = caption(chart(("2026-05-25", 26, False)))
    assert "trial" not in text.lower()
    assert "computed from 26 points (25 May – 16 Nov 2026)" in text
    assert "sementara" not in caption(chart(("2026-05-25", 26, False)), "id")


def test_limits_on_fewer_than_12_points_are_trial():
    text = caption(chart(("2026-02-16", 6, True)))
    assert "computed from 6 points" in text
    assert "These are trial limits: they rest on fewer than 12 points" in text
    assert "batas kendali sementara" in caption(chart(("2026-02-16", 6, True)), "id")


def test_after_a_recalculation_the_limits_are_those_of_the_last_segment():
    text = caption(chart(("2026-05-25", 18, False), ("2026-09-28", 8, True)))
    assert "computed from 8 points (since the limits were recalculated on 28 Sept 2026)" in text
    assert "These are trial limits" in text
    firm_now = caption(chart(("2026-05-25", 6, True), ("2026-07-06", 20, False)))
    assert "computed from 20 points" in firm_now
    assert "These are trial limits" not in firm_now
    assert "Dotted limits are trial limits of an earlier stretch" in firm_now


@pytest.mark.parametrize(("grain", "trial"), [("week", True), ("day", False)])
def test_the_unit_page_says_trial_only_when_the_limits_are(example_store, monkeypatch, grain,
                                                           trial):
    """The worked example has 6 weeks (trial limits) and more than 12 days (firm ones)."""
    at = open_view(example_store, monkeypatch, "unit", unit="PKM-1", grain=grain,
                   period="2026-03-23", kpi="service_time_median")
    no_exceptions(at)
    under_chart = [text.value for text in at.caption if "control limits" in text.value]
    assert len(under_chart) == 1, [text.value for text in at.caption]
    assert ("trial" in under_chart[0]) is trial, under_chart[0]
