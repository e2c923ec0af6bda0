"""The README's operations commands, run as written ("Backup, restore and housekeeping"): the
two nightly cron lines as cron runs them (/bin/sh, an almost empty environment, `\\%` read as
`%`), the environment file of a shared store, and the restore commands, each against a real
store of its kind. Only the machine's paths, the catalog's URL and the date are put in."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kpi import config
from kpi.i18n import catalog
from kpi.store import Store
from tests.conftest import ROOT, serial
from tests.test_shared_store import load_example_here, table_rows

pytestmark = [pytest.mark.slow, *serial("services")]

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("### Backup, restore and housekeeping (both stores)"):]
SECTION = SECTION[:SECTION.index("\n## ")]
CRON_LINES = [line for line in SECTION.splitlines() if line.startswith("30 1 * * *")]
RESTORE_LINES = [line.strip() for line in SECTION.splitlines()
                 if line.strip().startswith("KPI_DB=") and " restore " in line]


def env_file_lines() -> list[str]:
    """The environment file's lines, as the README shows it."""
    block = SECTION[SECTION.index("# /srv/kinerja/kinerja.env"):]
    return [line for line in block.splitlines()[1:] if line.startswith("export ")][:2]


def said(key: str) -> str:
    """The opening of a CLI line as cron gets it: no KPI_LANG, so the default language."""
    return catalog(config.DEFAULT_LANG)[key].split("{")[0]


def as_cron_runs(line: str, replacements: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a crontab line's command as cron does: /bin/sh, `\\%` as `%`, no environment but
    the few variables cron sets."""
    command = line.split(None, 5)[5].replace("\\%", "%")
    for old, new in replacements.items():
        command = command.replace(old, new)
    assert "/srv/" not in command, command
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "SHELL": "/bin/sh",
                   "LOGNAME": "kinerja",
                   # A deployment's key is .streamlit/audit.key of the checkout, found without a
                   # variable; the tests keep theirs in the environment, never in the checkout.
                   "KPI_AUDIT_KEY": os.environ["KPI_AUDIT_KEY"]}
    return subprocess.run(["/bin/sh", "-c", command], env=environment, capture_output=True,
                          text=True, timeout=600)


def backed_up(folder: Path) -> Path:
    """The folder the cron line's `backup /srv/backup/kinerja-$(date +%F)` wrote."""
    return folder / f"kinerja-{dt.date.today().isoformat()}"


def test_the_readme_shows_the_commands_this_test_runs():
    assert len(CRON_LINES) == 2 and len(RESTORE_LINES) == 2 and len(env_file_lines()) == 2
    assert all("KPI_DB" in line for line in CRON_LINES[:1]) and "kinerja.env" in CRON_LINES[1]


def test_the_embedded_stores_cron_line_and_restore(example_store, tmp_path):
    store_folder = example_store.location.folder
    before = table_rows(example_store)
    done = as_cron_runs(CRON_LINES[0], {"/srv/kinerja/data/kpi": str(store_folder),
                                        "cd /srv/kinerja ": f"cd {ROOT} ",
                                        "/srv/backup": str(tmp_path / "backup")})
    assert done.returncode == 0, done.stderr
    assert said("cli.out.maintained") in done.stdout and said("cli.out.backup_written") in done.stdout
    assert (backed_up(tmp_path / "backup") / "catalog.sqlite").exists()
    restore = RESTORE_LINES[0].replace("/srv/kinerja/data/kpi", str(tmp_path / "restored")) \
        .replace("/srv/backup/kinerja-2026-12-01", str(backed_up(tmp_path / "backup")))
    done = subprocess.run(["/bin/sh", "-c", restore], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    restored = table_rows(Store(tmp_path / "restored"))
    assert {name: rows for name, rows in restored.items() if name != "audit_log"} == {
        name: rows for name, rows in before.items() if name != "audit_log"}


def test_the_shared_stores_cron_line_env_file_and_restore(cluster, catalog_url, tmp_path):
    load_example_here(catalog_url, tmp_path / "lake")
    before = table_rows(Store(catalog_url))
    readme_url = re.search(r"'(postgresql://[^']+)'", env_file_lines()[0]).group(1)
    env_file = tmp_path / "kinerja.env"
    env_file.write_text("\n".join(env_file_lines()).replace(readme_url, catalog_url)
                        .replace("/srv/kinerja/lake", str(tmp_path / "lake")) + "\n",
                        encoding="utf-8")
    env_file.chmod(0o600)
    done = as_cron_runs(CRON_LINES[1], {"/srv/kinerja/kinerja.env": str(env_file),
                                        "cd /srv/kinerja ": f"cd {ROOT} ",
                                        "/srv/backup": str(tmp_path / "backup")})
    assert done.returncode == 0, done.stderr
    assert said("cli.out.maintained") in done.stdout and said("cli.out.backup_written") in done.stdout
    assert (backed_up(tmp_path / "backup") / "catalog.pgdump").exists()
    # The README's `createdb … -O kinerja kinerja_restored`, as the cluster's superuser.
    restored_url = cluster.create_database("kinerja_restored")
    readme_restored = re.search(r"KPI_DB='([^']+)'", RESTORE_LINES[1]).group(1)
    restore = RESTORE_LINES[1].replace(readme_restored, restored_url) \
        .replace("/srv/kinerja/lake-restored", str(tmp_path / "lake-restored")) \
        .replace("/srv/backup/kinerja-2026-12-01", str(backed_up(tmp_path / "backup")))
    done = subprocess.run(["/bin/sh", "-c", restore], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    shutil.rmtree(tmp_path / "lake")
    restored = table_rows(Store(restored_url))
    assert {name: rows for name, rows in restored.items() if name != "audit_log"} == {
        name: rows for name, rows in before.items() if name != "audit_log"}
