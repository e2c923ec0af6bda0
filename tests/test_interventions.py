"""Interventions through the engine and `python -m kpi`: the round trip, the audit trail, the
unit scope, and one sentence for each bad input (issue 23)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kpi import audit, interventions, scope, users
from kpi.__main__ import main
from kpi.errors import InputRejected

pytestmark = pytest.mark.usefixtures("cli_in_english")  # lines compared with English text

CLI = "cli:test"
TITLE = "  Dokter kedua <b>di</b> poli *umum*  "  # kept exactly as typed, markup and blanks


def run(store, capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--db", str(store.path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_round_trip_with_audit_rows(example_store, capsys):
    code, out, err = run(example_store, capsys, "interventions", "add", "--unit", "PKM-1",
                         "--date", "2026-03-09", "--title", TITLE, "--kpi",
                         "service_time_median", "--rebase")
    assert (code, out.strip(), err) == (0, "1", "")
    code, out, _ = run(example_store, capsys, "interventions", "add", "--unit", "DUKCAPIL",
                       "--date", "2026-03-04", "--title", "Antrean daring")
    assert (code, out.strip()) == (0, "2")
    code, out, _ = run(example_store, capsys, "interventions", "list", "--json")
    rows = json.loads(out)
    assert [(row["intervention_id"], row["unit_code"], row["date"], row["title"], row["kpi"],
             row["rebase"]) for row in rows] == [
        (2, "DUKCAPIL", "2026-03-04", "Antrean daring", None, False),
        (1, "PKM-1", "2026-03-09", TITLE, "service_time_median", True)]
    assert rows[1]["recorded_by"].startswith("cli:")
    code, out, _ = run(example_store, capsys, "interventions", "list", "--unit", "PKM-1")
    assert code == 0 and TITLE in out and "DUKCAPIL" not in out

    # the stored rebase splits PKM-1's own chart, not the city's
    code, out, _ = run(example_store, capsys, "spc", "--unit", "PKM-1", "--kpi",
                       "service_time_median", "--period", "day", "--format", "json")
    assert [segment["start"] for segment in json.loads(out)["segments"]] == [
        "2026-02-16", "2026-03-09"]
    code, out, _ = run(example_store, capsys, "spc", "--unit", "*", "--kpi",
                       "service_time_median", "--period", "day", "--format", "json")
    assert len(json.loads(out)["segments"]) == 1

    code, out, _ = run(example_store, capsys, "effect", "1", "--period", "day")
    assert code == 0 and "service_time_median" in out and "improved" in out
    code, out, _ = run(example_store, capsys, "effect", "2", "--kpi", "throughput",
                       "--format", "json")
    [row] = json.loads(out)
    assert (row["kpi"], row["period"], row["verdict"]) == ("throughput", "week", "too_early")

    code, out, _ = run(example_store, capsys, "interventions", "remove", "1")
    assert code == 0
    assert [row["intervention_id"] for row in interventions.list_interventions(example_store)] \
        == [2]
    trail = audit.trail(example_store, action=None)
    mine = trail[trail["action"].str.startswith("intervention.")]
    assert list(mine["action"]) == ["intervention.add", "intervention.add",
                                    "intervention.remove"]
    assert list(mine["object"]) == ["intervention 1", "intervention 2", "intervention 1"]
    assert json.loads(mine["details"].iloc[2])["title"] == TITLE
    assert audit.verify(example_store).ok


def test_edit_title_is_audited_and_kept_as_typed(example_store):
    new_id = interventions.add(example_store, unit_code="PKM-1", date="2026-03-02",
                               title="Loket baru", by=CLI)
    interventions.edit_title(example_store, new_id, "Loket baru & antrean \"daring\"", by=CLI)
    assert interventions.get(example_store, new_id)["title"] == "Loket baru & antrean \"daring\""
    last = audit.trail(example_store, action="intervention.edit").iloc[-1]
    assert json.loads(last["details"]) == {"title": "Loket baru & antrean \"daring\"",
                                           "previous_title": "Loket baru"}


@pytest.mark.parametrize(("args", "needle", "status"), [
    (["interventions", "add", "--unit", "PKM-9", "--date", "2026-03-01", "--title", "x"],
     "PKM-9", 2),
    (["interventions", "add", "--unit", "PKM-1", "--date", "2026-03-01", "--title", "x",
      "--kpi", "speed"], "speed", 2),
    (["interventions", "add", "--unit", "PKM-1", "--date", "2026-02-30", "--title", "x"],
     "2026-02-30", 2),
    (["interventions", "add", "--unit", "PKM-1", "--date", "2026-03-01", "--title", "   "],
     "title", 2),
    (["interventions", "add", "--unit", "PKM-1", "--date", "2026-03-01", "--title", "x",
      "--action", "77"], "77", 2),
    (["interventions", "remove", "41"], "41", 2),
    (["effect", "41"], "41", 1),
])
def test_a_bad_input_is_one_sentence_and_nothing_written(example_store, capsys, fingerprint,
                                                         args, needle, status):
    before = fingerprint(example_store)
    code, out, err = run(example_store, capsys, *args)
    assert code == status
    assert out == ""
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert fingerprint(example_store) == before


def test_a_scoped_analyst_records_only_for_their_units(example_store):
    users.add_user(example_store, "ana@medan.go.id", "analyst", "PKM-1", by=CLI)
    users.add_user(example_store, "vera@medan.go.id", "viewer", None, by=CLI)
    mine = interventions.add(example_store, unit_code="PKM-1", date="2026-03-09",
                             title="Dokter kedua", by="ana@medan.go.id")
    theirs = interventions.add(example_store, unit_code="PKM-2", date="2026-03-09",
                               title="Loket baru", by=CLI)
    with pytest.raises(scope.OutOfScope, match="PKM-2"):
        interventions.add(example_store, unit_code="PKM-2", date="2026-03-09", title="x",
                          by="ana@medan.go.id")
    with pytest.raises(scope.OutOfScope):
        interventions.add(example_store, unit_code="*", date="2026-03-09", title="x",
                          by="ana@medan.go.id")
    with pytest.raises(scope.OutOfScope):
        interventions.remove(example_store, theirs, by="ana@medan.go.id")
    with pytest.raises(scope.OutOfScope):
        interventions.edit_title(example_store, theirs, "y", by="ana@medan.go.id")
    with pytest.raises(InputRejected, match="viewer"):
        interventions.add(example_store, unit_code="PKM-1", date="2026-03-09", title="x",
                          by="vera@medan.go.id")
    interventions.remove(example_store, mine, by="ana@medan.go.id")
    assert [row["intervention_id"] for row in interventions.list_interventions(example_store)] \
        == [theirs]
    assert interventions.get(example_store, theirs)["recorded_by"] == CLI


def test_rebase_dates_are_the_units_own_for_the_kpi_or_all(example_store):
    interventions.add(example_store, unit_code="PKM-1", date="2026-03-09", title="a",
                      kpi="ikm", rebase=True, by=CLI)
    interventions.add(example_store, unit_code="PKM-1", date="2026-03-02", title="b",
                      rebase=True, by=CLI)
    interventions.add(example_store, unit_code="PKM-1", date="2026-03-16", title="c", by=CLI)
    interventions.add(example_store, unit_code="DINKES", date="2026-02-23", title="d",
                      rebase=True, by=CLI)
    assert interventions.rebase_dates(example_store, unit="PKM-1", kpi="ikm") == [
        dt.date(2026, 3, 2), dt.date(2026, 3, 9)]
    assert interventions.rebase_dates(example_store, unit="PKM-1", kpi="throughput") == [
        dt.date(2026, 3, 2)]
    assert interventions.rebase_dates(example_store, unit="*", kpi="throughput") == []
