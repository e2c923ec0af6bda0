"""THE acceptance test: the contract's worked example, loaded and queried through
`python -m kpi` exactly as its README says, must print the expected files (up to 1e-9, row
order and signal order aside)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_DIR, EXAMPLE_KINDS, ROOT, one_worker

# the store the CLI loads, once; its lines compared with English text
pytestmark = [one_worker("example_db"), pytest.mark.usefixtures("cli_in_english")]

EXPECTED = EXAMPLE_DIR / "expected"
COMMANDS = {
    "kpis_week.json": ["kpis", "--period", "week", "--from", "2026-02-16", "--to", "2026-03-29",
                       "--format", "json"],
    "kpis_month.json": ["kpis", "--period", "month", "--from", "2026-02-01", "--to",
                        "2026-03-29", "--format", "json"],
    "ikm.json": ["ikm", "--from", "2026-02-16", "--to", "2026-03-29", "--format", "json"],
    "spc_pkm1_service_time_day.json": ["spc", "--unit", "PKM-1", "--kpi", "service_time_median",
                                       "--period", "day", "--format", "json"],
    "spc_city_abandon_day_baseline20.json": ["spc", "--unit", "*", "--kpi", "abandon_rate",
                                             "--period", "day", "--baseline", "20",
                                             "--format", "json"],
    "spc_pkm1_service_time_day_rebase.json": ["spc", "--unit", "PKM-1", "--kpi",
                                              "service_time_median", "--period", "day",
                                              "--rebase", "2026-03-09", "--format", "json"],
    "effect_1_day.json": ["effect", "1", "--period", "day", "--format", "json"],
    "effect_2_day.json": ["effect", "2", "--period", "day", "--format", "json"],
    "spc_dukcapil_abandon_day_stored_rebase.json": ["spc", "--unit", "DUKCAPIL", "--kpi",
                                                    "abandon_rate", "--period", "day",
                                                    "--format", "json"],
}
# The two interventions the last three files need, added in this order (ids 1 and 2); they
# change no other file (PKM-1's does not rebase; a unit's rebase touches only its own series).
INTERVENTIONS = (
    ["interventions", "add", "--unit", "PKM-1", "--date", "2026-03-09", "--title",
     "Dokter kedua di poli umum", "--kpi", "service_time_median"],
    ["interventions", "add", "--unit", "DUKCAPIL", "--date", "2026-03-04", "--title",
     "Antrean daring", "--rebase"],
)


def run_cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("KPI_DB", None)
    return subprocess.run([sys.executable, "-m", "kpi", "--db", str(db), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def run_main(db: Path, capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """The same CLI in this process (quicker than a subprocess): exit status, stdout, stderr."""
    from kpi.__main__ import main

    capsys.readouterr()
    code = main(["--db", str(db), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def example_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example loaded as its README says: init, then ingest each kind in order, then the
    two interventions."""
    db = tmp_path_factory.mktemp("contract") / "kpi"
    for args in (["init"], *(["ingest", kind, str(EXAMPLE_DIR / f"{kind}.csv")]
                             for kind in EXAMPLE_KINDS), *INTERVENTIONS):
        result = run_cli(db, *args)
        assert result.returncode == 0, (args, result.stderr)
    return db


def assert_same(got, want, where: str = "") -> None:
    """Equal JSON, floats up to 1e-9 (an int in one and a float in the other is a difference
    only when the numbers differ)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), where
        missing = set(want) - set(got)
        assert not missing, f"{where}: keys missing {missing}"
        for key in want:
            assert_same(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{where}: lengths differ"
        for index, (a, b) in enumerate(zip(got, want, strict=True)):
            assert_same(a, b, f"{where}[{index}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, int | float) and not isinstance(got, bool), where
        assert math.isclose(got, want, rel_tol=0, abs_tol=1e-9), f"{where}: {got} != {want}"
    else:
        assert got == want and type(got) is type(want), f"{where}: {got!r} != {want!r}"


def normalise(data):
    """Rows sorted by (unit_code, kpi, period_start), signals alphabetical."""
    if isinstance(data, list):
        return sorted(data, key=lambda row: (row["unit_code"], row.get("kpi", ""),
                                             row.get("period_start", "")))
    for point in data.get("points", []):
        point["signals"] = sorted(point["signals"])
    return data


@pytest.mark.parametrize("expected_file", list(COMMANDS))
def test_command_prints_the_expected_file(example_db: Path, expected_file: str):
    result = run_cli(example_db, *COMMANDS[expected_file])
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    got = normalise(json.loads(result.stdout))
    want = normalise(json.loads((EXPECTED / expected_file).read_text(encoding="utf-8")))
    assert_same(got, want, expected_file)


def test_kpis_json_has_exactly_the_contract_keys(example_db: Path, capsys):
    rows = json.loads(run_main(example_db, capsys, *COMMANDS["kpis_week.json"])[1])
    assert {tuple(row) for row in rows} == {
        ("unit_code", "period_start", "kpi", "value", "target", "status", "n")}


def test_kpis_csv_has_the_same_rows_as_json(example_db: Path, capsys):
    args = ["kpis", "--period", "month", "--from", "2026-02-01", "--to", "2026-03-29",
            "--unit", "PKM-1", "--kpi", "service_time_median"]
    csv_lines = run_main(example_db, capsys, *args, "--format", "csv")[1].splitlines()
    assert csv_lines == [
        "unit_code,period_start,kpi,value,target,status,n",
        "PKM-1,2026-02-01,service_time_median,26.483333333333334,25.0,amber,81",
        "PKM-1,2026-03-01,service_time_median,26.066666666666666,25.0,amber,175",
    ]


@pytest.mark.parametrize(("args", "needle"), [
    (["kpis", "--period", "week", "--from", "2026-02-16", "--to", "2026-02-30"], "2026-02-30"),
    (["kpis", "--period", "week", "--from", "2026-03-16", "--to", "2026-02-16"], "after"),
    (["kpis", "--period", "week", "--from", "2026-02-16", "--to", "2026-03-29",
      "--unit", "PKM-9"], "PKM-9"),
    (["kpis", "--period", "week", "--from", "2026-02-16", "--to", "2026-03-29",
      "--kpi", "speed"], "speed"),
    (["ikm", "--from", "2026-02-16", "--to", "2026-03-29", "--unit", "NOPE"], "NOPE"),
    (["spc", "--unit", "PKM-1", "--kpi", "ikm", "--period", "week", "--baseline", "0"],
     "baseline"),
])
def test_a_bad_argument_is_one_sentence_and_exit_1(example_db: Path, capsys, args, needle):
    code, out, err = run_main(example_db, capsys, *args)
    assert code == 1
    assert out == ""
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_readable_tables_without_format(example_db: Path, capsys):
    code, out, _ = run_main(example_db, capsys, "kpis", "--period", "month", "--from",
                            "2026-02-01", "--to", "2026-03-29", "--unit", "DUKCAPIL",
                            "--kpi", "throughput")
    assert code == 0
    assert "DUKCAPIL" in out and "2026-03-01" in out and "green" in out
    code, out, _ = run_main(example_db, capsys, "ikm", "--from", "2026-02-16", "--to",
                            "2026-03-29")
    assert code == 0 and "Kurang Baik" in out and "sample too small" in out
    code, out, _ = run_main(example_db, capsys, "spc", "--unit", "PKM-1", "--kpi",
                            "service_time_median", "--period", "day")
    assert code == 0 and "outside" in out and "hit_and_miss" in out
