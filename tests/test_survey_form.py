"""The public SKM form (issue 24) over HTTP, without a browser: web/'s routes on Starlette's test
client over a copy of the worked example; the intake queue and its flush into the lake; the
refusals, each with its page and nothing kept. (tests/browser/test_survey_browser.py drives the
served app in chromium.)"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from kpi import survey_form, survey_links, survey_queue
from kpi.ingest import ingest_file, rollback
from kpi.store import Store
from web import server

ANSWERS = {"u1": "4", "u2": "3", "u3": "2", "u4": "4", "u5": "3", "u6": "3", "u7": "4",
           "u8": "1", "u9": "2"}


@pytest.fixture
def public(example_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """(client, store, token of DINKES's form) with web/'s routes over the example store."""
    monkeypatch.setenv("KPI_DB", example_store.path)
    monkeypatch.setenv("KPI_SURVEY_RATE", "3/3600")
    monkeypatch.delenv("KPI_SECRET_KEY", raising=False)
    server._store.cache_clear()
    server._intake.cache_clear()
    token = survey_links.links(example_store, ["DINKES"], who="tests")[0].token
    with TestClient(Starlette(routes=server.routes())) as client:
        yield client, example_store, token
    server._store.cache_clear()
    server._intake.cache_clear()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the form carries no CSRF token"
    return match.group(1)


def post(client: TestClient, token: str, fields: dict[str, str], lang: str = "id"):
    return client.post(f"/skm/{token}?lang={lang}", content=urllib.parse.urlencode(fields),
                       headers={"content-type": "application/x-www-form-urlencoded"},
                       follow_redirects=False)


def stored_web_rows(store: Store) -> list[tuple]:
    return store.query_rows(
        "SELECT unit_code, u1, u2, u3, u4, u5, u6, u7, u8, u9, service_code, comment, ticket_id "
        "FROM survey_responses WHERE response_id LIKE 'WEB-%' ORDER BY response_id")


def test_the_form_in_both_languages_is_small_and_plain(public) -> None:
    client, _, token = public
    indonesian = client.get(f"/skm/{token}")
    english = client.get(f"/skm/{token}?lang=en")
    assert indonesian.status_code == english.status_code == 200
    assert len(indonesian.content) < 30_000 and len(english.content) < 30_000
    assert "<script" not in indonesian.text.lower()
    assert "Dinas Kesehatan Contoh" in indonesian.text
    # The regulation's wording (glossary) and the four options of u9, worst to best.
    assert "kesesuaian persyaratan pelayanan" in indonesian.text
    options = re.findall(r'name="u9" value="(\d)"', indonesian.text)
    assert options == ["1", "2", "3", "4"]
    assert "Tidak ada" in indonesian.text and "Dikelola dengan baik" in indonesian.text
    assert "How quickly was the service delivered?" in english.text
    # The field names are survey.csv's columns.
    for name in ("service_code", "respondent_gender", "respondent_age", "respondent_education",
                 "comment", "ticket_id", *ANSWERS):
        assert f'name="{name}"' in indonesian.text
    assert '<option value="REK">' in indonesian.text  # the unit's own services
    assert indonesian.headers["content-security-policy"].startswith("default-src 'none'")


def test_a_submission_becomes_a_survey_row_like_an_imported_one(public) -> None:
    client, store, token = public
    csrf = csrf_of(client.get(f"/skm/{token}").text)
    sent = post(client, token, {"csrf": csrf, **ANSWERS, "service_code": "REK",
                                "respondent_gender": "P", "respondent_age": "41",
                                "respondent_education": "SMA", "respondent_occupation": "PNS",
                                "comment": '<script>alert("x")</script> antre lama',
                                "ticket_id": "TDINKES-000-001", "website": ""})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/skm/{token}/terima-kasih?lang=id"
    assert stored_web_rows(store) == []  # accepted into the queue, not in the lake yet
    flushed = survey_queue.Intake(store).flush()
    assert flushed.imported == 1 and len(flushed.batches) == 1
    assert stored_web_rows(store) == [(
        "DINKES", 4, 3, 2, 4, 3, 3, 4, 1, 2, "REK", '<script>alert("x")</script> antre lama',
        "TDINKES-000-001")]
    batch = flushed.batches[0]
    assert store.query_rows("SELECT kind, file_name, loaded_by FROM batches WHERE batch_id = ?",
                            [batch]) == [("survey", "public form", "public form DINKES")]
    assert store.query_rows("SELECT who, action FROM audit_log ORDER BY seq DESC LIMIT 1") == [
        ("public form DINKES", "survey.form")]
    assert store.query_rows("SELECT channel, occupation FROM survey_form_details") == [
        ("public_form", "PNS")]
    assert survey_queue.Intake(store).waiting() == 0
    thanks = client.get(sent.headers["location"])
    assert thanks.status_code == 200 and "Terima kasih" in thanks.text


def test_a_typed_queue_number_is_recorded_as_the_visit_it_names(public) -> None:
    client, store, token = public
    arrived = store.query_rows("SELECT ticket_id, arrived_at FROM events "
                               "WHERE unit_code = 'DINKES' ORDER BY ticket_id LIMIT 1")[0]
    csrf = csrf_of(client.get(f"/skm/{token}").text)
    assert post(client, token, {"csrf": csrf, **ANSWERS, "ticket_id": "000-000"}
                ).status_code == 303
    intake = survey_queue.Intake(store)
    # The visit of the same day whose ticket ends in the typed number.
    claimed = intake._claim(time.time())
    claimed[0][2]["submitted_at"] = arrived[1].isoformat(sep=" ")
    payloads = [claimed[0][2]]
    survey_queue._resolve_tickets(store, payloads)
    assert payloads[0]["ticket_id"] == arrived[0] == "TDINKES-000-000"


@pytest.mark.parametrize(("fields", "status", "words"), [
    ({**ANSWERS, "u4": ""}, 400, "Pertanyaan ini belum dijawab"),
    ({**ANSWERS, "u2": "5"}, 400, "Pilih salah satu dari empat jawaban"),
    ({**ANSWERS, "u2": "0"}, 400, "Pilih salah satu dari empat jawaban"),
    ({**ANSWERS, "comment": "x" * 100_000}, 413, "Jawaban terlalu panjang"),
    ({**ANSWERS, "comment": "x" * 1_001}, 400, "Isian ini terlalu panjang"),
    ({**ANSWERS, "website": "http://spam.example"}, 400, "Jawaban tidak dapat diterima"),
    ({**ANSWERS, "service_code": "NOPE"}, 400, "Pilih salah satu pilihan dari daftar"),
], ids=["missing answer", "five", "zero", "100 KB comment", "long comment", "honeypot",
        "unknown service"])
def test_a_bad_submission_is_refused_with_its_page_and_nothing_kept(public, fields, status,
                                                                    words) -> None:
    client, store, token = public
    csrf = csrf_of(client.get(f"/skm/{token}").text)
    answer = post(client, token, {"csrf": csrf, **fields})
    assert answer.status_code == status
    assert words in answer.text
    assert "Traceback" not in answer.text
    assert survey_queue.Intake(store).waiting() == 0
    survey_queue.Intake(store).flush()
    assert stored_web_rows(store) == []


def test_the_form_again_keeps_the_answers_given(public) -> None:
    client, _, token = public
    csrf = csrf_of(client.get(f"/skm/{token}").text)
    again = post(client, token, {"csrf": csrf, **{**ANSWERS, "u4": ""}, "comment": "<b>a</b>"},
                 lang="en")
    assert again.status_code == 400 and "This question has not been answered." in again.text
    assert 'name="u1" value="4" required checked' in again.text
    assert "&lt;b&gt;a&lt;/b&gt;</textarea>" in again.text  # escaped, never markup


def test_without_a_valid_csrf_token_nothing_is_kept(public) -> None:
    client, store, token = public
    assert post(client, token, dict(ANSWERS)).status_code == 403  # replayed without its token
    forged = post(client, token, {**ANSWERS, "csrf": "WyJESU5LRVMiLCJ4Il0.abc.def"})
    assert forged.status_code == 403 and "Formulir perlu dibuka lagi" in forged.text
    other = survey_links.links(store, ["PKM-1"], who="tests")[0].token
    csrf_other = csrf_of(client.get(f"/skm/{other}").text)
    assert post(client, token, {**ANSWERS, "csrf": csrf_other}).status_code == 403
    csrf = csrf_of(client.get(f"/skm/{token}").text)
    assert post(client, token, {**ANSWERS, "csrf": csrf}).status_code == 303
    replay = post(client, token, {**ANSWERS, "csrf": csrf})  # the same form sent twice
    assert replay.status_code == 409 and "Jawaban sudah terkirim" in replay.text
    assert survey_queue.Intake(store).waiting() == 1


def test_a_revoked_address_stops_working(public) -> None:
    client, store, token = public
    csrf = csrf_of(client.get(f"/skm/{token}").text)
    new = survey_links.revoke(store, "DINKES", who="tests")
    assert new.token != token
    assert client.get(f"/skm/{token}").status_code == 404
    refused = post(client, token, {**ANSWERS, "csrf": csrf})
    assert refused.status_code == 404 and "tidak berlaku" in refused.text
    thanks = client.get(f"/skm/{token}/terima-kasih")
    assert thanks.status_code == 404 and "tidak berlaku" in thanks.text
    assert client.get(f"/skm/{new.token}").status_code == 200
    assert client.get(f"/skm/{new.token}/terima-kasih").status_code == 200
    assert survey_queue.Intake(store).waiting() == 0
    assert store.query_rows("SELECT who, action FROM audit_log ORDER BY seq DESC LIMIT 1") == [
        ("tests", "survey.revoke")]


def test_the_rate_limit_counts_per_client_and_unit(public) -> None:
    client, store, token = public
    statuses = []
    for _ in range(5):
        csrf = csrf_of(client.get(f"/skm/{token}").text)
        statuses.append(post(client, token, {**ANSWERS, "csrf": csrf}).status_code)
    assert statuses == [303, 303, 303, 429, 429]  # KPI_SURVEY_RATE=3/3600
    intake = survey_queue.Intake(store)
    assert intake.waiting() == 3
    # Another client is counted on its own; no address is stored, only a keyed hash.
    assert intake.accept("DINKES", "10.1.2.3", "nonce-x", {**ANSWERS}) == "accepted"
    with intake._side.transaction() as con:
        clients = {row[0] for row in con.execute("SELECT client FROM survey_hits")}
    assert len(clients) == 2 and not any("." in client for client in clients)


def test_check_refuses_what_the_form_does_not_offer() -> None:
    def judged(**fields: str) -> dict[str, str]:
        return survey_form.check({k: [v] for k, v in {**ANSWERS, **fields}.items()},
                                 ["REK"]).problems

    assert judged() == {}
    assert judged(respondent_age="7") == {"respondent_age": "skmform.problem.bad_age"}
    assert judged(respondent_gender="X") == {"respondent_gender": "skmform.problem.bad_choice"}
    assert judged(ticket_id="<a>") == {"ticket_id": "skmform.problem.bad_ticket"}
    assert judged(extra="1") == {"extra": "skmform.problem.unknown_field"}
    assert survey_form.check({**{k: [v] for k, v in ANSWERS.items()}, "u1": ["1", "4"]},
                             []).problems == {"u1": "skmform.problem.repeated"}


def test_survey_csv_takes_a_ticket_id_and_a_rollback_restores_it(example_store: Store,
                                                                tmp_path: Path) -> None:
    header = "unit_code,response_id,submitted_at,u1,u2,u3,u4,u5,u6,u7,u8,u9,ticket_id\n"
    first = tmp_path / "first.csv"
    first.write_text(header + "DINKES,R-DINKES-00000,2026-03-28 10:00,1,1,1,1,1,1,1,1,1,T-1\n")
    second = tmp_path / "second.csv"
    second.write_text(header + "DINKES,R-DINKES-00000,2026-03-28 10:00,2,2,2,2,2,2,2,2,2,T-2\n")
    assert ingest_file(example_store, "survey", first).ok
    replacing = ingest_file(example_store, "survey", second)
    assert replacing.replaced == 1

    def row() -> list[tuple]:
        return example_store.query_rows("SELECT u1, ticket_id FROM survey_responses "
                                        "WHERE response_id = 'R-DINKES-00000'")

    assert row() == [(2, "T-2")]
    assert replacing.batch_id is not None
    rollback(example_store, replacing.batch_id, by="tests")
    assert row() == [(1, "T-1")]


def test_accepted_answers_survive_a_restart_and_are_never_doubled(example_store: Store) -> None:
    row = survey_form.check({k: [v] for k, v in ANSWERS.items()}, []).row
    first = survey_queue.Intake(example_store)
    for number in range(3):
        assert first.accept("PKM-1", "10.0.0.9", f"form-{number}", row) == "accepted"
    del first  # the server stops before its flush: the answers wait on disk
    second = survey_queue.Intake(example_store)
    # A server that imported two answers and stopped before taking them off the queue.
    claimed = second._claim(time.time())
    survey_queue._import(example_store, "PKM-1", [payload for _, _, payload in claimed[:2]])
    assert len(stored_web_rows(example_store)) == 2
    third = survey_queue.Intake(example_store)  # the next server
    assert third.flush().imported == 0  # still claimed by the stopped one
    lapsed = time.time() + survey_queue._CLAIM_SECONDS + 1
    result = third.flush(now=lapsed)
    assert result.imported == 3 and third.waiting() == 0
    response_ids = [r[0] for r in example_store.query_rows(
        "SELECT response_id FROM survey_responses WHERE response_id LIKE 'WEB-%'")]
    assert len(response_ids) == len(set(response_ids)) == 3  # the two again replaced, not doubled
