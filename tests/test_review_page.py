"""The Management review page through the entry point (AppTest of dashboard.py): what it shows
for week 12 of the worked example, raising an action from an exception, finalising."""

from __future__ import annotations

import datetime as dt

from kpi import config, review
from kpi.i18n import t
from kpi.periods import parse_week
from tests.helpers import click, open_view, table_with

WEEK = "2026-W12"
FIRST = "exception:PKM-1:service_time_median"
SECOND = "exception:PKM-1:abandon_rate"


def review_page(store, monkeypatch, *, lang: str = "en", week: str = WEEK):
    """The review page of `week`, as a reviewer, run once."""
    # The form of a new action is built while its expander is open: open the first one's.
    return open_view(store, monkeypatch, "review", lang=lang, role="reviewer", timeout=120,
                     state={f"action-open-{FIRST}": True}, week=week)


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
    assert [s.value for s in at.subheader][1:] == [
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
    # Control charts are drawn when their expander is opened; the first one is open.
    assert len(at.get("plotly_chart")) == 1
    at.session_state[f"chart-open-{SECOND}"] = True
    at = at.run()
    assert len(at.get("plotly_chart")) == 2


def test_an_action_raised_from_an_exception_is_on_the_agenda(example_store, monkeypatch):
    at = review_page(example_store, monkeypatch)
    at.text_input(key=f"title-{FIRST}").input("Add a second triage nurse")
    at.text_input(key=f"who-{FIRST}").input("dr. Rina")
    at = click(at, t("action.save", "en"))
    assert not at.exception and not at.error
    stored_id = review.list_actions(example_store)[0]["action_id"]
    assert [toast.value for toast in at.toast] == [t(
        "review.toast_action_created", "en", id=stored_id, title="Add a second triage nurse")]
    # Shown under its exception, not among the actions from earlier reviews (issue 12, F8).
    assert any(text.startswith(f":material/task_alt: **{stored_id}** · ")
               and "Add a second triage nurse" in text and "dr. Rina" in text
               for text in markdown_texts(at))
    assert t("review.no_carried_actions", "en") in markdown_texts(at)
    stored = review.list_actions(example_store)
    assert [(a["unit_code"], a["kpi"], a["raised_week"], a["item_key"]) for a in stored] == [
        ("PKM-1", "service_time_median", WEEK, FIRST)]
    # Next week's review carries it.
    at = review_page(example_store, monkeypatch, week="2026-W13")
    carried = table_with(at, t("pack.col_action", "en"))
    assert list(carried[t("pack.col_action", "en")]) == ["Add a second triage nurse"]
    # Due date and status come right after the title (no sideways scrolling).
    assert list(carried.columns)[:4] == [t(f"pack.col_{c}", "en")
                                         for c in ("id", "action", "due", "status")]


def test_an_incomplete_action_is_refused_in_the_readers_language(example_store, monkeypatch):
    at = review_page(example_store, monkeypatch, lang="id")
    at = click(at, t("action.save", "id"))
    assert [e.value for e in at.error] == [t("action.error_title", "id")]
    assert review.list_actions(example_store) == []


def test_finalising_locks_the_review(example_store, monkeypatch):
    at = review_page(example_store, monkeypatch)
    at.text_area(key="attendees").input("Wali Kota\nSekda")
    at = click(at, t("review.save_minutes", "en"))
    assert [toast.value for toast in at.toast] == [t("review.toast_minutes_saved", "en")]
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


def test_a_rolled_back_import_is_marked_so(example_store, monkeypatch):
    """Issue 12, D3: the changes since the last review say which imports were rolled back."""
    from kpi.ingest import list_batches, rollback

    batches = list_batches(example_store)
    targets_batch = int(batches[batches["kind"] == "targets"]["batch_id"].iloc[0])
    rollback(example_store, targets_batch, by="tests")
    at = review_page(example_store, monkeypatch)
    imports = table_with(at, t("pack.col_batch", "en"))
    kinds = dict(zip(imports[t("pack.col_batch", "en")], imports[t("pack.col_kind", "en")],
                     strict=True))
    assert t("pack.rolled_back", "en") in kinds[targets_batch]
    assert all(t("pack.rolled_back", "en") not in kind
               for batch, kind in kinds.items() if batch != targets_batch)


def test_a_week_without_data_yet_opens_instead_of_another_week(example_store, monkeypatch):
    """F7: a review already started for a week the data has not reached opens on that week."""
    action = review.create_action(example_store, "2026-W12", title="Call back no-shows",
                                  unit_code="PKM-2", responsible="dr. Sari",
                                  due_date=parse_week("2026-W30"), by="tests")
    review.save_minutes(example_store, "2026-W30", attendees="Kepala Dinas", by="tests")
    at = review_page(example_store, monkeypatch, week="2026-W30")
    assert at.selectbox(key="review_week").value == "2026-W30"
    assert t("review.no_unit_reported", "en", week="2026-W30") in [i.value for i in at.info]
    assert any("Call back no-shows" in str(frame.value.to_numpy()) for frame in at.dataframe), action


def test_a_new_actions_due_date_is_two_weeks_after_the_meeting_never_past(example_store,
                                                                          monkeypatch):
    # Issue 22: the due date defaulted to the review day + 14 days, which is today two weeks
    # after the review day and in the past for a week reviewed later (here March, in December).
    today = config.local_today()
    assert review.review_day(WEEK) + dt.timedelta(days=14) < today  # the example's weeks are past
    at = review_page(example_store, monkeypatch)
    assert at.date_input(key=f"due-{FIRST}").value == today + dt.timedelta(days=14)


def test_the_default_due_date_counts_from_the_review_day_or_today_whichever_is_later():
    monday = review.review_day("2026-W47")  # 23 Nov 2026
    assert review.default_due_date("2026-W47", monday - dt.timedelta(days=1)) == dt.date(
        2026, 12, 7)
    assert review.default_due_date("2026-W47", monday) == dt.date(2026, 12, 7)
    assert review.default_due_date("2026-W47", dt.date(2026, 12, 7)) == dt.date(2026, 12, 21)
