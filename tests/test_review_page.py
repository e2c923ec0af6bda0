"""The Management review page through the entry point (AppTest of dashboard.py): what it shows
for week 12 of the worked example, raising an action from an exception, finalising."""

from __future__ import annotations

from kpi import review
from kpi.i18n import t
from tests.helpers import click, open_view, table_with

WEEK = "2026-W12"
FIRST = "exception:PKM-1:service_time_median"


def review_page(store, monkeypatch, *, lang: str = "en", week: str = WEEK):
    """The review page of `week`, as a reviewer, run once."""
    return open_view(store, monkeypatch, "review", lang=lang, role="reviewer", timeout=120,
                     week=week)


def markdown_texts(at) -> list[str]:
    return [element.value for element in at.markdown]


def test_the_page_shows_the_weeks_exceptions_and_scorecard(example_store, monkeypatch):
    at = review_page(example_store, monkeypatch)
    assert not at.exception and not at.error
    assert at.selectbox(key="review_week").value == WEEK
    assert [h.value for h in at.header][:6] == [
        f"{number}. {t(f'review.section_{key}', 'en')}" for number, key in enumerate(
            ("actions", "changes", "scorecard", "exceptions", "satisfaction", "opportunities"),
            start=1)]
    assert [s.value for s in at.subheader] == [
        "1. Puskesmas Contoh Satu — Service time (median)",
        "2. Puskesmas Contoh Satu — Abandonment / no-show rate",
        "3. Puskesmas Contoh Dua — Abandonment / no-show rate",
        "4. Dinas Kesehatan Contoh — Abandonment / no-show rate",
    ]
    facts = markdown_texts(at)
    assert any(text.startswith("**27.0 min** against a target of **22.0 min** · last week "
                               "27.9 min") and "Off target" in text for text in facts)
    assert any(text.startswith("**13.2%** against a target of **10.0%**") for text in facts)
    assert [m.value for m in at.metric][:2] == ["4", "0"]  # off target; concerns only
    scorecard = table_with(at, "Service time")
    row = scorecard[scorecard["Unit"].str.strip() == "Puskesmas Contoh Satu"].iloc[0]
    assert row["Service time"] == "✕ 27.0 min"
    assert row["Abandoned"] == "✕ 11.5%"
    assert scorecard["Unit"].iloc[0] == "City (all units)"
    assert len(at.get("plotly_chart")) == 4  # one control chart per exception


def test_an_action_raised_from_an_exception_is_on_the_agenda(example_store, monkeypatch):
    at = review_page(example_store, monkeypatch)
    at.text_input(key=f"title-{FIRST}").input("Add a second triage nurse")
    at.text_input(key=f"who-{FIRST}").input("dr. Rina")
    at = click(at, t("action.save", "en"))
    assert not at.exception and not at.error
    actions = table_with(at, t("pack.col_action", "en"))
    assert list(actions[t("pack.col_action", "en")]) == ["Add a second triage nurse"]
    assert list(actions[t("pack.col_responsible", "en")]) == ["dr. Rina"]
    assert list(actions[t("pack.col_unit", "en")]) == ["Puskesmas Contoh Satu"]
    stored = review.list_actions(example_store)
    assert [(a["unit_code"], a["kpi"], a["raised_week"], a["item_key"]) for a in stored] == [
        ("PKM-1", "service_time_median", WEEK, FIRST)]
    # Next week's review carries it.
    at = review_page(example_store, monkeypatch, week="2026-W13")
    assert "Add a second triage nurse" in list(table_with(at, t("pack.col_action", "en"))[
        t("pack.col_action", "en")])


def test_an_incomplete_action_is_refused_in_the_readers_language(example_store, monkeypatch):
    at = review_page(example_store, monkeypatch, lang="id")
    at = click(at, t("action.save", "id"))
    assert [e.value for e in at.error] == [t("action.error_title", "id")]
    assert review.list_actions(example_store) == []


def test_finalising_locks_the_review(example_store, monkeypatch):
    at = review_page(example_store, monkeypatch)
    at.text_area(key="attendees").input("Wali Kota\nSekda")
    at = click(at, t("review.save_minutes", "en"))
    at.checkbox(key="finalise-confirm").check()
    at = at.run()
    at.button(key="finalise").click()
    at = at.run()
    assert not at.exception and not at.error
    assert any(s.value.startswith("✓ Finalised on") for s in at.success)
    assert not [b for b in at.button if b.label == t("action.save", "en")]  # forms are closed
    assert review.get_review(example_store, WEEK)["status"] == "final"
    assert "Wali Kota, Sekda" in " ".join(markdown_texts(at))
    week_option = at.selectbox(key="review_week")
    assert "finalised" in week_option.format_func(WEEK)


def test_the_page_speaks_indonesian(example_store, monkeypatch):
    at = review_page(example_store, monkeypatch, lang="id")
    assert at.title[0].value == t("review.title", "id")
    assert at.header[3].value == "4. Pengecualian"
    assert any("**13,2 %** terhadap target **10,0 %**" in text for text in markdown_texts(at))


def test_the_unit_page_lists_the_units_open_actions(example_store, monkeypatch):
    import datetime as dt

    review.create_action(example_store, WEEK, title="Reminder calls", unit_code="PKM-2",
                         responsible="dr. Sari", due_date=dt.date(2026, 3, 20),
                         kpi="abandon_rate", by="tests")
    closed = review.create_action(example_store, WEEK, title="Closed already",
                                  unit_code="PKM-2", responsible="Budi",
                                  due_date=dt.date(2026, 3, 20), by="tests")
    review.update_action(example_store, closed, status="dropped", comment="Not needed")
    at = open_view(example_store, monkeypatch, "unit", role=None, timeout=120, unit="PKM-2")
    assert t("action.open_actions", "en") in [s.value for s in at.subheader]
    actions = table_with(at, t("pack.col_action", "en"))
    assert list(actions[t("pack.col_action", "en")]) == ["Reminder calls"]
    assert list(actions[t("action.status", "en")]) == ["Open · ⚠ Overdue"]


def test_the_pack_is_prepared_and_offered_for_download(example_store, monkeypatch):
    at = review_page(example_store, monkeypatch, week="2026-W13")
    at = click(at, t("review.pack_prepare", "en"))
    assert not at.exception and not at.error
    assert any(s.value.startswith("The pack of week 2026-W13 is ready") for s in at.success)
    downloads = at.get("download_button")
    labels = [d.proto.label for d in downloads]
    for key in ("review.pack_pdf", "review.pack_xlsx", "review.pack_html"):
        assert t(key, "en") in labels
