"""The dashboard's start-up warm-up (ui/data.py): it computes the default week's review agenda
into the page's cache and renders that week's control charts into the pack's image cache."""

from __future__ import annotations

from kpi import review


def test_the_warm_up_fills_the_agenda_and_chart_caches(example_store, tmp_path, monkeypatch):
    from ui import data

    monkeypatch.setenv("KPI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KPI_DB", str(example_store.path))
    data._warm_up()
    week = review.default_week(example_store)
    charted = [item for item in review.data_agenda(example_store, week)["exceptions"]
               if item.get("chart") and item["chart"].get("points")]
    assert charted
    assert len(list((tmp_path / "cache" / "charts").glob("*.jpg"))) == len(charted)
    # The agenda is in the page's cache: the page's call is answered without computing it.
    def not_again(*args, **kwargs):
        raise AssertionError("the agenda was computed again")

    monkeypatch.setattr(review, "data_agenda", not_again)
    version = data.precompute.data_version(example_store)
    cached = data._engine_call("kpi.review.data_agenda", example_store.key, version,
                               {"week": week})
    assert cached["week"] == week and len(cached["exceptions"]) >= len(charted)
