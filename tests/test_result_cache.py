"""The dashboard's engine results kept in the process (ui/data.py): computed once per store,
arguments and data version; a DataFrame handed out is the page's own to change."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ui import data


def test_a_result_is_computed_once_and_a_page_cannot_change_the_kept_frame(monkeypatch):
    monkeypatch.setattr(data, "_results", type(data._results)())
    computed = []

    def compute():
        computed.append(1)
        return pd.DataFrame({"unit_code": ["A", "B"], "value": [1.0, 2.0]})

    key = ("kpi.metrics.overview", "store", 7,
           data._frozen({"period": "week", "period_start": dt.date(2026, 11, 16),
                         "units": ["A", "B"]}))
    first = data._kept(key, compute)
    first.loc[0, "value"] = 99.0  # what a page may do with its frame
    first["extra"] = 1
    again = data._kept(key, compute)
    assert computed == [1]
    assert again["value"].tolist() == [1.0, 2.0] and "extra" not in again


def test_a_newer_version_lets_the_older_result_go():
    kept = type(data._results)()
    data._results, saved = kept, data._results
    try:
        arguments = data._frozen({"week": "2026-W47", "units": {"B", "A"}, "share": float("nan")})
        assert arguments == data._frozen({"share": float("nan"), "units": {"A", "B"},
                                          "week": "2026-W47"})
        data._kept(("kpi.review.data_agenda", "store", 1, arguments), lambda: {"v": 1})
        data._kept(("kpi.review.data_agenda", "store", 1, ("other",)), lambda: {"v": 0})
        assert data._kept(("kpi.review.data_agenda", "store", 2, arguments),
                          lambda: {"v": 2}) == {"v": 2}
        assert [key[2:] for key in kept] == [(1, ("other",)), (2, arguments)]
    finally:
        data._results = saved
