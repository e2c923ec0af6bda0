"""Helpers for the AppTest tests of the monitoring pages (overview, unit): open a view the way a
link does (page + query parameters), and read the worked example's expected numbers."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from streamlit.testing.v1 import AppTest

from kpi.store import Store

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = str(ROOT / "dashboard.py")
EXPECTED_DIR = ROOT.parent / "shared" / "spec" / "example" / "expected"


def open_view(store: Store, monkeypatch, page: str | None = None, *, lang: str = "en",
              role: str | None = "viewer", timeout: float = 90, **query: str) -> AppTest:
    """The app through dashboard.py over `store`, on `page` (a key of ui.registry; None = the
    default page) with `query` as URL parameters, run once."""
    monkeypatch.setenv("KPI_DB", str(store.path))
    at = AppTest.from_file(DASHBOARD, default_timeout=timeout)
    at.query_params["lang"] = lang
    for name, value in query.items():
        at.query_params[name] = value
    if role:
        at.session_state["kinerja_role"] = role
    if page:
        at.switch_page(f"pages/{page}.py")
    return at.run()


@cache
def expected(name: str):
    """A file of the worked example's expected output (`kpis_week`, `spc_pkm1_…`)."""
    return json.loads((EXPECTED_DIR / f"{name}.json").read_text(encoding="utf-8"))


def expected_kpi(name: str, unit: str, kpi: str, period_start: str) -> dict | None:
    for row in expected(name):
        if (row["unit_code"], row["kpi"], row["period_start"]) == (unit, kpi, period_start):
            return row
    return None


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def no_exceptions(at: AppTest) -> None:
    assert [element.value for element in at.exception] == []
    assert [element.value for element in at.error] == []
