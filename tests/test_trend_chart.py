"""The unit page's trend chart (kpi.charts.trend_chart), issue 12: the amber legend lists only
the bands drawn (D7), and a target that starts after the last data point is drawn (F6)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kpi import charts

LABELS = {"value": "Service time", "target": "Target", "band": "Near target (up to {pct})"}
WEEKS = [dt.date(2026, 3, 2) + dt.timedelta(days=7 * i) for i in range(4)]  # to 23 March


def points() -> pd.DataFrame:
    return pd.DataFrame({"period_start": WEEKS, "value": [20.0, 21.0, 22.0, 23.0],
                         "status": ["green"] * 4, "hover": [""] * 4})


def steps(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["valid_from", "valid_to", "target", "amber_pct",
                                       "source_unit"])


def trend(step_rows: pd.DataFrame):
    return charts.trend_chart(points(), step_rows, "en", better="lower", x_last=WEEKS[-1],
                              labels=LABELS, grain="week")


def test_the_amber_legend_lists_only_the_bands_drawn():
    figure = trend(steps(
        (dt.date(2025, 1, 1), dt.date(2025, 12, 31), 30.0, 25.0, "*"),  # before the window
        (dt.date(2026, 1, 1), None, 25.0, 10.0, "PKM-1")))
    legend = [trace.name for trace in figure.data if trace.legendgroup == "band"
              and trace.showlegend is not False]
    assert legend == ["Near target (up to 10%)"]


def test_a_target_that_starts_next_week_is_drawn_before_data_reach_it():
    next_week = WEEKS[-1] + dt.timedelta(days=7)
    figure = trend(steps(
        (dt.date(2026, 1, 1), next_week - dt.timedelta(days=1), 25.0, 10.0, "PKM-1"),
        (next_week, None, 20.0, 10.0, "PKM-1")))
    target = next(trace for trace in figure.data if trace.name == "Target")
    drawn = [(charts.as_date(x), y) for x, y in zip(target.x, target.y, strict=True)
             if x is not None]
    assert (next_week, 20.0) in drawn
    assert max(x for x, _ in drawn) == next_week + dt.timedelta(days=6)


def test_a_value_and_its_target_never_read_alike_when_they_differ():
    """Issue 22 (minor): 84.99 against a target of 85 read "85,0 % (target 85,0 %)" beside
    "near target"."""
    from kpi.labels import value_and_target

    assert value_and_target("within_standard_pct", 84.99, 85.0, "id") == ("84,99 %", "85,00 %")
    assert value_and_target("within_standard_pct", 84.0, 85.0, "en") == ("84.0%", "85.0%")
    assert value_and_target("within_standard_pct", 85.0, 85.0, "en") == ("85.0%", "85.0%")
    assert value_and_target("throughput", 29.6, 30.0, "en") == ("29.6", "30.0")
    assert value_and_target("ikm", 76.6, None, "en") == ("76.60", "—")


def test_a_name_that_carries_its_code_is_not_given_it_twice():
    """Issue 22 (minor): "Surat Keterangan Tidak Mampu (SKTM) (SKTM)" on the SKM page."""
    from kpi.labels import name_and_code

    assert name_and_code("Surat Keterangan Tidak Mampu (SKTM)", "SKTM") == \
        "Surat Keterangan Tidak Mampu (SKTM)"
    assert name_and_code("Poli umum", "UMUM") == "Poli umum (UMUM)"
