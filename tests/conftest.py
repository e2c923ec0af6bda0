"""Shared fixtures: an empty store in a temporary folder, and the contract's worked example."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi.store import Store

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT.parent / "shared" / "spec"
EXAMPLE_DIR = SPEC_DIR / "example"


@pytest.fixture
def empty_store(tmp_path: Path) -> Store:
    """A freshly initialised store file of its own."""
    return Store(tmp_path / "kpi.duckdb", create=True)
