"""The management review per scope (issue 26): a review record belongs to (week, scope). A city
user (a reviewer added with units) keeps the record of their own units: their minutes and their
finalising never touch the whole store's review of the week (`*`, the province's meeting) nor
another city's, and the other way round. On the contract's worked example, whose two top-level
units stand for two cities: DINKES (with PKM-1 and PKM-2 under it) and DUKCAPIL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kpi import audit, review, users
from kpi import store as store_module
from kpi.errors import ReviewLocked, StoreError
from kpi.scope import OutOfScope
from kpi.store import Store

WEEK = "2026-W12"
CHAIR = "tests"  # not in the users table: the whole store's review, as the CLI's
DINKES = "dinkes@kota.go.id"
DUKCAPIL = "dukcapil@kota.go.id"
DINKES_UNITS = {"DINKES", "PKM-1", "PKM-2"}


@pytest.fixture
def cities(example_store: Store) -> Store:
    users.add_user(example_store, DINKES, "reviewer", ["DINKES"], by="tests")
    users.add_user(example_store, DUKCAPIL, "reviewer", ["DUKCAPIL"], by="tests")
    return example_store


def test_the_scope_is_the_unit_codes_sorted_and_comma_joined():
    assert review.scope_key(None) == review.scope_key(()) == review.WHOLE_STORE == "*"
    assert review.scope_key(["K02", "K01", "K02"]) == review.scope_key("K01, K02") == "K01,K02"


def test_a_city_reviewer_finalising_leaves_the_whole_store_review_a_draft(cities):
    review.save_minutes(cities, WEEK, decisions="Province: one more counter", by=CHAIR)
    digest = review.finalise(cities, WEEK, by=DINKES)
    assert review.get_review(cities, WEEK)["status"] == "draft"
    assert review.get_review(cities, WEEK, "DUKCAPIL")["status"] == "none"
    mine = review.get_review(cities, WEEK, "DINKES")
    assert mine["status"] == "final" and mine["finalised_by"] == DINKES
    assert mine["record_sha256"] == digest
    assert review.load_record(cities, WEEK) is None
    # The province's meeting and the other city's still write; the finalised city's no longer.
    review.save_minutes(cities, WEEK, attendees="Gubernur", by=CHAIR)
    review.save_item_minutes(cities, WEEK, "scorecard", note="Dibahas", by=DUKCAPIL)
    with pytest.raises(ReviewLocked):
        review.save_minutes(cities, WEEK, attendees="Kepala Dinas", by=DINKES)
    assert {row["week"]: row["status"] for row in review.reviews(cities)} == {WEEK: "draft"}
    assert {row["week"]: row["status"] for row in review.reviews(cities, "DINKES")} == {
        WEEK: "final"}


def test_finalising_the_whole_store_review_leaves_the_cities_drafts(cities):
    review.save_minutes(cities, WEEK, decisions="Kota: tambah loket", by=DINKES)
    review.finalise(cities, WEEK, by=CHAIR)
    assert review.get_review(cities, WEEK)["status"] == "final"
    assert review.get_review(cities, WEEK, "DINKES")["status"] == "draft"
    review.save_item_minutes(cities, WEEK, "scorecard", note="Masih dibahas", by=DINKES)
    review.finalise(cities, WEEK, by=DINKES)
    assert review.get_review(cities, WEEK, "DINKES")["status"] == "final"


def test_each_scope_keeps_its_own_minutes(cities):
    review.save_minutes(cities, WEEK, attendees="Gubernur", decisions="Provinsi", by=CHAIR)
    review.save_minutes(cities, WEEK, attendees="Kepala Dinas", decisions="Kota", by=DINKES)
    review.save_item_minutes(cities, WEEK, "scorecard", note="provinsi", by=CHAIR)
    review.save_item_minutes(cities, WEEK, "scorecard", note="kota", decision="ya", by=DINKES)
    assert review.minutes(cities, WEEK) == {
        "attendees": ["Gubernur"], "decisions": "Provinsi",
        "items": {"scorecard": {"note": "provinsi", "decision": ""}}}
    assert review.minutes(cities, WEEK, "DINKES") == {
        "attendees": ["Kepala Dinas"], "decisions": "Kota",
        "items": {"scorecard": {"note": "kota", "decision": "ya"}}}
    assert review.minutes(cities, WEEK, "DUKCAPIL")["items"] == {}
    # An item's note removed in one scope stays in the other.
    review.save_item_minutes(cities, WEEK, "scorecard", by=DINKES)
    assert review.minutes(cities, WEEK, "DINKES")["items"] == {}
    assert review.minutes(cities, WEEK)["items"]["scorecard"]["note"] == "provinsi"


def test_a_city_record_holds_its_units_and_actions_and_names_its_scope(cities):
    theirs = review.create_action(cities, WEEK, title="Antrian Dukcapil", unit_code="DUKCAPIL",
                                  responsible="Pak Budi", due_date=dt.date(2026, 4, 1), by=CHAIR)
    mine = review.create_action(cities, WEEK, title="Loket PKM-1", unit_code="PKM-1",
                                responsible="dr. Sari", due_date=dt.date(2026, 4, 1), by=DINKES)
    with pytest.raises(OutOfScope):  # a city reviewer raises actions of their units alone
        review.create_action(cities, WEEK, title="x", unit_code="DUKCAPIL", responsible="y",
                             due_date=dt.date(2026, 4, 1), by=DINKES)
    review.finalise(cities, WEEK, by=DINKES)
    record = review.load_record(cities, WEEK, "DINKES")
    assert record["scope"] == "DINKES"
    assert record["scope_label"] == "DINKES — Dinas Kesehatan Contoh"
    agenda = record["agenda"]
    assert {row["unit_code"] for row in agenda["scorecard"]} == DINKES_UNITS
    assert {row["unit_code"] for row in agenda["exceptions"]} <= DINKES_UNITS
    assert [action["action_id"] for action in agenda["new_actions"]] == [mine]
    # The whole store's live agenda has both cities' actions; its draft is the province's.
    whole = review.review_content(cities, WEEK)
    assert whole["scope"] == "*" and whole["scope_label"] is None
    assert {a["action_id"] for a in whole["agenda"]["new_actions"]} == {mine, theirs}
    assert "DUKCAPIL" in {row["unit_code"] for row in whole["agenda"]["scorecard"]}
    # The week's coverage is counted among the scope's units (all four units reported).
    assert whole["agenda"]["coverage"] == {"reported": 4, "expected": 4, "complete": True}
    assert agenda["coverage"] == {"reported": 3, "expected": 3, "complete": True}
    # Reopened at its pinned snapshot, the city's agenda is the record's.
    assert review.pinned_agenda(cities, WEEK, "DINKES") == agenda
    assert review.pinned_agenda(cities, WEEK) is None


def test_a_city_record_holds_its_units_changes_and_new_targets(cities):
    from kpi import interventions

    mine = interventions.add(cities, unit_code="PKM-1", date="2026-03-10", title="Loket baru",
                             by=DINKES)
    interventions.add(cities, unit_code="DUKCAPIL", date="2026-03-11", title="Antrian online",
                      by=CHAIR)
    whole = review.build_agenda(cities, WEEK)
    city = review.build_agenda(cities, WEEK, scope="DINKES")
    assert len(whole["effects"]["items"]) == 2
    assert [item["intervention_id"] for item in city["effects"]["items"]] == [mine]
    assert {change["unit_code"] for change in city["effects"]["markers"]} == {"PKM-1"}
    # The targets listed as new: their units' and every unit's (`*`), no other city's.
    targets = {row["unit_code"] for row in whole["changes"]["new_targets"]}
    assert targets - DINKES_UNITS - {"*"}, "the example has targets of other units to leave out"
    assert {row["unit_code"] for row in city["changes"]["new_targets"]} == \
        targets & (DINKES_UNITS | {"*"})
    assert city["changes"]["batches"] == whole["changes"]["batches"]


def test_the_record_hash_covers_its_scope(cities):
    review.finalise(cities, WEEK, by=DINKES)
    review.finalise(cities, WEEK, by=CHAIR)
    text = cities.query_value("SELECT record_json FROM reviews WHERE scope = 'DINKES'")
    assert json.loads(text)["scope"] == "DINKES"
    # The city's record moved to another city's row: named scope and row disagree.
    with cities.transaction() as cur:
        cur.execute("UPDATE reviews SET scope = 'DUKCAPIL' WHERE scope = 'DINKES'")
    with pytest.raises(StoreError) as caught:
        review.load_record(cities, WEEK, "DUKCAPIL")
    assert caught.value.key == "reviewscope.error_scope"
    # The record's own scope rewritten: its checksum no longer matches.
    with cities.transaction() as cur:
        cur.execute("UPDATE reviews SET scope = 'DINKES', record_json = replace(record_json, "
                    "'\"scope\":\"DINKES\"', '\"scope\":\"DUKCAPIL\"') WHERE scope = 'DUKCAPIL'")
    with pytest.raises(StoreError) as caught:
        review.load_record(cities, WEEK, "DINKES")
    assert caught.value.key == "review.error_checksum"
    assert review.load_record(cities, WEEK)["scope"] == "*"


def test_every_write_of_a_scope_names_it_on_the_audit_trail(cities):
    review.save_minutes(cities, WEEK, decisions="Kota", by=DINKES)
    review.save_item_minutes(cities, WEEK, "scorecard", note="kota", by=DINKES)
    digest = review.finalise(cities, WEEK, by=DINKES)
    trail = audit.trail(cities, who=DINKES)
    rows = trail[trail["action"].str.startswith("review.")]
    assert list(rows["action"]) == ["review.minutes", "review.item_minutes", "review.finalise"]
    assert {json.loads(details)["scope"] for details in rows["details"]} == {"DINKES"}
    assert json.loads(rows["details"].iloc[-1])["record_sha256"] == digest
    assert rows["logged_at"].notna().all()


# -- a store made before scopes ----------------------------------------------------------------
SCOPE_BLOCK = ("ALTER TABLE reviews ADD COLUMN IF NOT EXISTS scope VARCHAR;",
               "ALTER TABLE review_minutes ADD COLUMN IF NOT EXISTS scope VARCHAR;")


@pytest.fixture
def old_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """schema.sql as it was before scopes (without the two statements that add them); undone
    by calling the fixture's value."""
    text = store_module.SCHEMA_FILE.read_text(encoding="utf-8")
    assert all(statement in text for statement in SCOPE_BLOCK)
    for statement in SCOPE_BLOCK:
        text = text.replace(statement, "")
    old = tmp_path / "schema-before-scopes.sql"
    old.write_text(text, encoding="utf-8")
    monkeypatch.setattr(store_module, "SCHEMA_FILE", old)
    store_module.schema_digest.cache_clear()

    def restore() -> None:
        monkeypatch.undo()
        store_module.schema_digest.cache_clear()

    yield restore
    store_module.schema_digest.cache_clear()


def _write_old_review(location: str) -> str:
    """A week's reviews as the code before scopes wrote them: a draft with minutes (W12) and a
    finalised record that names no scope (W11); the record's sha256."""
    store = Store(location)
    record = review._canonical({"format": 1, "city": "Kota Lama", "week": "2026-W11",
                                "agenda": {}, "minutes": {},
                                "review": {"status": "final", "finalised_by": "chair"}})
    digest = review.checksum(record)
    with store.transaction() as cur:
        columns = {name for (name,) in cur.query_rows(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'reviews' "
            "AND database_name = current_database()")}
        assert "scope" not in columns  # truly a store of the schema before
        cur.execute("INSERT INTO reviews (week, week_start, status, attendees, decisions, "
                    "created_at, created_by) VALUES ('2026-W12', DATE '2026-03-16', 'draft', "
                    "'Wali Kota', 'Lama', TIMESTAMP '2026-03-23 09:00', 'chair')")
        cur.execute("INSERT INTO review_minutes (week, item_key, note, decision, updated_at, "
                    "updated_by) VALUES ('2026-W12', 'scorecard', 'catatan lama', '', "
                    "TIMESTAMP '2026-03-23 09:05', 'chair')")
        cur.execute("INSERT INTO reviews (week, week_start, status, created_at, created_by, "
                    "finalised_at, finalised_by, record_json, record_sha256) VALUES "
                    "('2026-W11', DATE '2026-03-09', 'final', TIMESTAMP '2026-03-16 09:00', "
                    "'chair', TIMESTAMP '2026-03-16 10:00', 'chair', ?, ?)", [record, digest])
    store.close()
    return digest


def _old_reviews_are_the_whole_store_s(location: str, digest: str) -> None:
    store = Store(location)  # opening applies the new schema.sql: the scope columns
    assert review.minutes(store, "2026-W12") == {
        "attendees": ["Wali Kota"], "decisions": "Lama",
        "items": {"scorecard": {"note": "catatan lama", "decision": ""}}}
    assert review.get_review(store, "2026-W12", "K01")["status"] == "none"
    assert review.load_record(store, "2026-W11")["review"]["record_sha256"] == digest
    assert review.load_record(store, "2026-W11", "K01") is None
    assert [row["week"] for row in review.reviews(store)] == ["2026-W12", "2026-W11"]
    assert review.reviews(store, "K01") == []
    with pytest.raises(ReviewLocked):
        review.save_minutes(store, "2026-W11", decisions="x", by=CHAIR)
    review.save_minutes(store, "2026-W12", decisions="Baru", by=CHAIR)  # the same row, kept
    assert review.minutes(store, "2026-W12")["decisions"] == "Baru"
    assert store.query_value("SELECT count(*) FROM reviews WHERE week = '2026-W12'") == 1
    store.close()


def test_a_store_made_before_scopes_opens_with_its_reviews_as_the_whole_store_s(
        tmp_path, old_schema):
    location = str(tmp_path / "old")
    Store(location, create=True).close()
    digest = _write_old_review(location)
    old_schema()  # this code's schema.sql from here on
    _old_reviews_are_the_whole_store_s(location, digest)


@pytest.mark.slow
@pytest.mark.serial  # serial("services"): a PostgreSQL cluster, as the shared-store tests
@pytest.mark.xdist_group("services")
def test_a_postgresql_store_made_before_scopes_gets_them_too(catalog_url, tmp_path, old_schema):
    Store(catalog_url, create=True, data_path=str(tmp_path / "files")).close()
    digest = _write_old_review(catalog_url)
    old_schema()
    _old_reviews_are_the_whole_store_s(catalog_url, digest)


def test_the_pack_of_a_city_review_names_whose_it_is(cities):
    from kpi import config, pack

    city = pack.pack_view(review.review_content(cities, WEEK, scope="DINKES"), "en")
    assert city["city"] == f"{config.city_name()} · DINKES — Dinas Kesehatan Contoh"
    assert pack.pack_view(review.review_content(cities, WEEK), "en")["city"] == config.city_name()
