"""Helpers shared by the tests: the one way to open the app in AppTest, the one set of bad rows,
reading what a page shows, and the worked example's expected numbers."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from streamlit.testing.v1 import AppTest

from kpi import targets
from kpi.i18n import catalog
from kpi.store import Store
from kpi.vocabulary import KINDS, contract_columns

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = str(ROOT / "dashboard.py")
EXPECTED_DIR = ROOT.parent / "shared" / "spec" / "example" / "expected"

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


# -- the app in AppTest -----------------------------------------------------------------------
def open_view(store: Store, monkeypatch, page: str | None = None, *, lang: str = "en",
              role: str | None = "viewer", timeout: float = 90,
              state: dict[str, Any] | None = None, **query: str) -> AppTest:
    """The app through dashboard.py over `store`, as a link opens it: on `page` (a key of
    ui.registry; None = the default page) with `query` as URL parameters, as `role` (None = the
    deployment's default role), with `state` put in the session first; run once, and failed on
    any exception the page raised."""
    monkeypatch.setenv("KPI_DB", str(store.path))
    at = AppTest.from_file(DASHBOARD, default_timeout=timeout)
    at.query_params["lang"] = lang
    for name, value in query.items():
        at.query_params[name] = value
    if role:
        at.session_state["kinerja_role"] = role
    for name, value in (state or {}).items():
        at.session_state[name] = value
    if page:
        at.switch_page(f"pages/{page}.py")
    return run(at)


def run(at: AppTest) -> AppTest:
    """Rerun the app and fail on any exception the page raised (shown redacted on screen)."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def no_exceptions(at: AppTest) -> None:
    assert [element.value for element in at.exception] == []
    assert [element.value for element in at.error] == []


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


# -- the engine -------------------------------------------------------------------------------
def target_on(store: Store, *, unit: str, kpi: str, day: dt.date) -> dict | None:
    """The target in force for `unit`'s `kpi` on `day` (targets.targets_in_force), or None."""
    frame = targets.targets_in_force(store, day=day)
    rows = frame[(frame["unit_code"] == unit) & (frame["kpi"] == kpi)].to_dict("records")
    return rows[0] if rows else None


# -- the worked example -----------------------------------------------------------------------
@cache
def expected(name: str):
    """A file of the worked example's expected output (`kpis_week`, `spc_pkm1_…`)."""
    return json.loads((EXPECTED_DIR / f"{name}.json").read_text(encoding="utf-8"))


def expected_kpi(name: str, unit: str, kpi: str, period_start: str) -> dict | None:
    for row in expected(name):
        if (row["unit_code"], row["kpi"], row["period_start"]) == (unit, kpi, period_start):
            return row
    return None


# -- the Upload page's mapping editor (ui/mapping_editor.py) ----------------------------------
def mapping_box(at: AppTest, column: str, part: str = "source"):
    """The selectbox of contract `column`'s line: `source` (where it comes from) or `time`."""
    boxes = [box for box in at.selectbox if (box.key or "").startswith("upload_map_")
             and box.key.endswith(f"_{column}_{part}")]
    assert len(boxes) == 1, [box.key for box in at.selectbox]
    return boxes[0]


def mapping_sources(at: AppTest) -> dict[str, str]:
    """Contract column -> where its line takes it from (a file column, "" = not in the file,
    `__constant__` or `__compose__`), for every line the editor shows."""
    columns = {column for kind in KINDS for column in contract_columns(kind)}
    return {column: box.value for box in at.selectbox for column in columns
            if (box.key or "").startswith("upload_map_") and box.key.endswith(f"_{column}_source")}


# -- what a reader sees, in which language (issue 22) -----------------------------------------
TEXT_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                 "success", "error")
LABELLED_ELEMENTS = ("button", "selectbox", "multiselect", "text_input", "text_area",
                     "date_input", "number_input", "checkbox", "toggle", "radio", "tabs",
                     "expander")


def shown_strings(at: AppTest) -> list[str]:
    """Every string the page puts before the reader: texts, widget labels, help, placeholders
    and options, the grids' column headings, help and option labels, and the tables' headings
    and text cells."""
    shown: list[str] = []
    for kind in TEXT_ELEMENTS:
        shown += [str(element.value) for element in getattr(at, kind)]
    for kind in LABELLED_ELEMENTS:
        for element in getattr(at, kind):
            shown += [str(getattr(element, name)) for name in ("label", "help", "placeholder")
                      if getattr(element, name, None)]
            shown += [str(option) for option in getattr(element, "options", None) or []]
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns or "{}")
        for column in config.values():
            shown += [column[name] for name in ("label", "help") if column.get(name)]
            shown += [option["label"] for option in
                      column.get("type_config", {}).get("options", []) or []
                      if isinstance(option, dict) and option.get("label")]
        value = frame.value
        shown += [str(name) for name in value.columns]
        shown += [cell for column in value.columns for cell in value[column]
                  if isinstance(cell, str)]
    return [text for text in shown if text.strip()]


def other_language_strings(lang: str) -> set[str]:
    """The other language's catalogue sentences that this language writes differently (and
    that hold no placeholder): any of them on a `lang` page is a string left untranslated."""
    other = "en" if lang == "id" else "id"
    own, theirs = catalog(lang), catalog(other)
    return {text for key, text in theirs.items()
            if "{" not in text and own.get(key) != text and text not in own.values()}


def foreign_strings(at: AppTest, lang: str) -> list[str]:
    """The strings on the page that are the other language's (see other_language_strings)."""
    foreign = other_language_strings(lang)
    return [text for text in shown_strings(at) if text in foreign]
