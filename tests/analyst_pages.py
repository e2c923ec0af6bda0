"""Helpers for the AppTest tests of the analyst's pages (upload, history, targets, quality)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from kpi.store import Store

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = str(ROOT / "dashboard.py")
EVENTS_HEADER = "unit_code,service_code,ticket_id,arrived_at,started_at,completed_at,outcome,channel"
# One row for each kind of rejection: an impossible date, completion before arrival, an unknown
# unit, an unknown service, and a key twice in the file (lines 6 and 7).
BAD_EVENTS = "\n".join([
    EVENTS_HEADER,
    "PKM-2,UMUM,BAD-1,2026-02-30 08:00:00,,,no_show,counter",
    "PKM-2,UMUM,BAD-2,2026-03-24 08:00:00,,2026-03-24 07:00:00,completed,counter",
    "PKM-9,UMUM,BAD-3,2026-03-24 08:00:00,,,no_show,counter",
    "PKM-2,XYZ,BAD-4,2026-03-24 08:00:00,,,no_show,counter",
    "PKM-2,UMUM,BAD-5,2026-03-24 08:00:00,,,no_show,counter",
    "PKM-2,UMUM,BAD-5,2026-03-24 09:00:00,,,no_show,counter",
]) + "\n"


def open_page(store: Store, page: str, monkeypatch, *, lang: str = "en", role: str = "analyst",
              timeout: float = 60) -> AppTest:
    """AppTest of `page` (a key of ui.registry) over `store`, in `lang`, run once."""
    monkeypatch.setenv("KPI_DB", str(store.path))
    at = AppTest.from_file(DASHBOARD, default_timeout=timeout)
    at.query_params["lang"] = lang
    at.session_state["kinerja_role"] = role
    at.switch_page(f"pages/{page}.py")
    return run(at)


def run(at: AppTest) -> AppTest:
    """Rerun the app and fail on any exception the page raised (shown redacted on screen)."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def keep_clicks(monkeypatch) -> None:
    """Make ui.guard's one-off switch to the router a no-op for a test. (Kept for the tests that
    call it: the guard itself no longer reruns a session the router has served, so a click is
    not lost either way.)"""
    import ui.guard

    if hasattr(ui.guard, "_through_router"):
        monkeypatch.setattr(ui.guard, "_through_router", lambda: None)


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    """Put `files` ((name, content), …) on the Upload page's file uploader and rerun."""
    mime = {"csv": "text/csv", "gz": "application/gzip",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    at.file_uploader(key="upload_files").set_value(
        [(name, content, mime.get(name.rsplit(".", 1)[-1], "application/octet-stream"))
         for name, content in files])
    return run(at)


def click(at: AppTest, label: str) -> AppTest:
    """Click the (first) button labelled `label` and rerun."""
    matches = [button for button in at.button if button.label == label]
    assert matches, f"no button {label!r} among {[b.label for b in at.button]}"
    matches[0].click()
    return run(at)


def buttons(at: AppTest, label: str) -> list:
    return [button for button in at.button if button.label == label]


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first table (interactive or static) on the page with a column named `column`."""
    for frame in [*at.dataframe, *at.table]:
        value = frame.value
        if column in value.columns:
            return value
    raise AssertionError(f"no table with a column {column!r}")


def csv_bytes(text: str) -> bytes:
    return text.encode("utf-8")
