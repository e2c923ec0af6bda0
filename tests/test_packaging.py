"""Issue 22 (major 7): the project is installed into its virtualenv, so the CLI runs from any
folder as `python -m kpi` and as the `kinerja` script (cron lines, scripts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kpi.i18n import t

pytestmark = pytest.mark.usefixtures("cli_in_english")  # lines compared with English text

SCRIPT = Path(sys.executable).parent / "kinerja"


def outside_the_checkout(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KPI_DB")}
    env["KPI_DB"] = str(tmp_path / "store")
    return env


@pytest.mark.parametrize("command", [[sys.executable, "-m", "kpi"], [str(SCRIPT)]],
                         ids=["python -m kpi", "kinerja"])
def test_the_cli_runs_from_any_folder(tmp_path, command):
    done = subprocess.run([*command, "init"], cwd=tmp_path, env=outside_the_checkout(tmp_path),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "store").exists()
    listed = subprocess.run([*command, "mappings", "list"], cwd=tmp_path,
                            env=outside_the_checkout(tmp_path), capture_output=True, text=True,
                            timeout=120, check=False)
    assert listed.returncode == 0, listed.stderr
    assert t("importmap.none_saved", "en") in listed.stdout
