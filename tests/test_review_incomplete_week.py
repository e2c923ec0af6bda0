"""Issue 22 (major 4): the review of a week that few units have reported warns at the top of
its agenda and of its pack, as the overview does, and finalising it asks for a confirmation."""

from __future__ import annotations

import pytest

from kpi import pack, review
from kpi.i18n import t
from kpi.ingest import ingest_file
from tests.helpers import EVENTS_HEADER, open_view, texts

WEEK = "2026-W14"  # the week after the example's data: one unit reports a visit


@pytest.fixture
def one_unit_reported(example_store, tmp_path):
    path = tmp_path / "events-w14.csv"
    path.write_text(EVENTS_HEADER + "\nPKM-1,UMUM,W14-1,2026-03-31 08:00:00,"
                    "2026-03-31 08:05:00,2026-03-31 08:30:00,completed,counter\n",
                    encoding="utf-8")
    assert ingest_file(example_store, "events", path).ok
    return example_store


def warning_of(store, lang: str) -> str:
    covered = review.review_content(store, WEEK)["agenda"]["coverage"]
    assert not covered["complete"] and covered["reported"] == 1
    return pack.incomplete_week_warning(covered, lang)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_agenda_and_the_pack_warn_and_finalising_asks(one_unit_reported, monkeypatch, lang):
    warning = warning_of(one_unit_reported, lang)
    assert warning.startswith(t("partial.week_warning", lang, coverage="", missing="")[:12])
    at = open_view(one_unit_reported, monkeypatch, "review", role="reviewer", lang=lang,
                   timeout=120, week=WEEK)
    assert texts(at.warning)[0] == warning  # at the top of the agenda
    at.checkbox(key="finalise-confirm").check()
    at = at.run()
    assert at.button(key="finalise").disabled  # not before the incomplete week is confirmed
    at.checkbox(key="finalise-incomplete").check()
    at = at.run()
    assert not at.button(key="finalise").disabled
    html = pack.render_html(pack.pack_view(review.review_content(one_unit_reported, WEEK), lang),
                            lang)
    assert warning.split(":")[0] in html and 'class="incomplete"' in html


def test_a_complete_week_has_no_warning_and_no_second_question(example_store, monkeypatch):
    covered = review.review_content(example_store, "2026-W12")["agenda"]["coverage"]
    assert covered["complete"] and pack.incomplete_week_warning(covered, "en") == ""
    at = open_view(example_store, monkeypatch, "review", role="reviewer", timeout=120,
                   week="2026-W12")
    assert not [c for c in at.checkbox if c.key == "finalise-incomplete"]
