"""Shared fixtures: an empty store in a temporary folder, and the contract's worked example."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kpi.store import Store
from kpi.vocabulary import KINDS

if TYPE_CHECKING:
    from tests.services import Cluster

# The dashboards the tests start (AppTest, served) skip the start-up warm-up: each test's store
# would otherwise render its charts in a browser of its own (the benchmarks measure it).
os.environ.setdefault("KPI_WARM_UP", "0")
# Every store the tests make keeps a keyed audit trail (kpi/audit.py), and no test writes a key
# file into the checkout; the tests of a missing key take it away themselves.
os.environ.setdefault("KPI_AUDIT_KEY", "kinerja-tests-audit-key-0123456789abcdef")

ROOT = Path(__file__).resolve().parent.parent


def _scan_installed_components_once() -> None:
    """Every new AppTest scans the metadata of every installed package for custom components
    (~0.1 s of CPU; a server does it once, at start). The installed packages do not change
    while the tests run: scan once per process."""
    from streamlit.components.v2 import manifest_scanner

    manifest_scanner.scan_component_manifests = functools.cache(
        manifest_scanner.scan_component_manifests)


_scan_installed_components_once()


def serial(group: str) -> list[pytest.MarkDecorator]:
    """The marks of a test that starts servers or processes and waits on them: `serial`, and
    the pytest-xdist group `group`, whose tests one worker runs one after the other while the
    other workers take the rest (`make test` runs `pytest -n auto --dist loadgroup`). Four
    groups: "browser" (the dashboard served to chromium, tests/browser/), "signin" (sign-in
    with an OpenID provider, tests/browser/test_sign_in.py), "services" (CLI processes on
    one store, PostgreSQL, S3) and "mail" (an SMTP server in the test process, charts rendered
    for the digest: tests/test_notify.py, tests/test_page_email.py); no group alone takes half
    of the run."""
    return [pytest.mark.serial, pytest.mark.xdist_group(group)]


# The inner loop, `make test-fast` (pytest -m fast): the engine's modules, the contract's worked
# example and the AppTest tests of the main pages, run in under a minute on 2 CPUs without
# servers, browsers or Debian packages. A test of these modules marked serial, browser, system
# (needs chromium, pango or postgresql) or slow stays in `make test` only, which runs
# everything. Measured in bench/README.md ("Tests"); keep the tier under a minute.
FAST_MODULES = frozenset({
    # the engine
    "test_spc.py", "test_skm.py", "test_metrics.py", "test_targets.py", "test_offtarget.py",
    "test_segments_effect.py", "test_i18n.py", "test_quality.py", "test_engine_types.py",
    # the contract's worked example through the CLI
    "test_example_contract.py",
    # the main pages in AppTest
    "test_page_overview.py", "test_page_compare.py", "test_page_unit.py",
    "test_page_satisfaction.py", "test_page_quality.py",
})
_NOT_FAST = ("serial", "browser", "system", "slow")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under `-m fast`, the other test files are not even imported (collecting every module
    costs each pytest-xdist worker seconds)."""
    if (config.getoption("markexpr", "") == "fast" and collection_path.suffix == ".py"
            and collection_path.name.startswith("test_")
            and collection_path.name not in FAST_MODULES):
        return True
    return None


@pytest.hookimpl(tryfirst=True)  # before `-m fast` selects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of the inner loop `fast` (FAST_MODULES)."""
    for item in items:
        if (Path(str(item.fspath)).name in FAST_MODULES
                and not any(item.get_closest_marker(name) for name in _NOT_FAST)):
            item.add_marker(pytest.mark.fast)


def one_worker(group: str) -> pytest.MarkDecorator:
    """The mark of a module whose module-scoped fixture is costly to build (a store loaded
    through the CLI, the demo city read and checked): the pytest-xdist group `group`, so that
    one worker runs all its tests and builds the fixture once. Under `--dist loadgroup` the
    tests of a module without a group go to any worker, and each worker that gets one builds
    the module's fixtures again."""
    return pytest.mark.xdist_group(group)


SPEC_DIR = ROOT.parent / "shared" / "spec"
EXAMPLE_DIR = SPEC_DIR / "example"


def copy_store(template: Path, path: Path) -> Store:
    """A store of its own at `path`: a copy of the store folder `template` (its catalog and
    files). Tests start from copies of stores built once per session: creating even an empty
    store (one DuckLake transaction creating every table) takes ten times longer."""
    shutil.copytree(template, path)
    return Store(path)


@pytest.fixture(scope="session")
def _empty_store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly initialised store, created once (`kpi init` and Store(create=True) are
    tested on their own)."""
    path = tmp_path_factory.mktemp("empty") / "empty"
    Store(path, create=True)
    return path


@pytest.fixture
def empty_store(_empty_store_file: Path, tmp_path: Path) -> Store:
    """A freshly initialised store folder of its own."""
    return copy_store(_empty_store_file, tmp_path / "kpi")


EXAMPLE_KINDS = KINDS


@pytest.fixture(scope="session")
def _units_only_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example city's units, services and targets loaded once through ingest_file."""
    from kpi.ingest import ingest_file

    path = tmp_path_factory.mktemp("units_only") / "units_only"
    store = Store(path, create=True)
    for kind in ("units", "services", "targets"):
        assert ingest_file(store, kind, EXAMPLE_DIR / f"{kind}.csv").ok
    return path


@pytest.fixture
def units_only(_units_only_file: Path, tmp_path: Path) -> Store:
    """A store of its own holding the example city's units, services and targets, no events
    yet (for mapped imports of a queue machine's export)."""
    return copy_store(_units_only_file, tmp_path / "units_only")


@pytest.fixture(scope="session")
def _example_store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The contract's worked example loaded once through kpi.ingest.ingest_file."""
    from kpi.ingest import ingest_file

    path = tmp_path_factory.mktemp("example") / "example"
    store = Store(path, create=True)
    for kind in EXAMPLE_KINDS:
        result = ingest_file(store, kind, EXAMPLE_DIR / f"{kind}.csv", loaded_by="tests")
        assert result.ok, [problem.reason for problem in result.problems]
    return path


@pytest.fixture
def example_store(_example_store_file: Path, tmp_path: Path) -> Store:
    """A store of its own holding the contract's worked example (batches 1-5, in kind order)."""
    return copy_store(_example_store_file, tmp_path / "example")


def store_fingerprint(store: Store) -> dict[str, str]:
    """A digest of every row of every table: equal digests mean the store is unchanged."""
    import hashlib

    digests = {}
    with store.cursor() as cur:
        tables = [name for (name,) in cur.query_rows(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
            "AND database_name = current_database() ORDER BY table_name")]
        # Reading an empty lake table costs several times what counting it does: count every
        # table in one query, and read the rows of those that have any.
        counts = cur.query_rows(
            "SELECT " + ", ".join(f'(SELECT count(*) FROM "{table}")' for table in tables))[0]
        for table, count in zip(tables, counts, strict=True):
            rows = cur.query_rows(f'SELECT * FROM "{table}" ORDER BY ALL') if count else []
            digests[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


@pytest.fixture
def cli_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI speaks KPI_LANG (default `id`, as the dashboard): tests that compare its lines
    with English text run it with KPI_LANG=en (subprocesses inherit it through os.environ)."""
    monkeypatch.setenv("KPI_LANG", "en")


@pytest.fixture
def fingerprint():
    """`fingerprint(store)`: a digest of every table, to prove that a store is unchanged."""
    return store_fingerprint


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster (tests/services.py) for the shared-store tests."""
    from tests.services import postgres_cluster

    with postgres_cluster() as running:
        yield running


@pytest.fixture
def catalog_url(cluster: Cluster, request: pytest.FixtureRequest) -> str:
    """A database of its own in the cluster for each test (the catalog of one store), owned by
    the app role: its URL, with the role's password, is all Kinerja gets."""
    name = "t_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[:50].lower()
    return cluster.create_database(name)
