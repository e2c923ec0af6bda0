"""Saved import mappings: an analyst's §1.1 mapping kept under a name in the store, for next
week's file from the same system (the Upload page and `kpi mappings` read and write them).

What is stored is the mapping's TOML, the format of contract section 1.1.
"""

from __future__ import annotations

import json

import pandas as pd

from kpi import audit, config, import_mapping
from kpi.errors import InputRejected
from kpi.import_mapping import ImportMapping
from kpi.reads import reads
from kpi.store import Reader, Store


def _as_mapping(kind: str, text: str) -> ImportMapping:
    """A stored mapping: TOML, or the rename-only JSON of stores saved before section 1.1."""
    if text.lstrip().startswith("{"):
        return import_mapping.rename_only(kind, json.loads(text))
    return import_mapping.parse(text)


def save_mapping(store: Store, name: str, mapping: ImportMapping, *, by: str | None = None) -> None:
    """Save `mapping` under `name` as its TOML, replacing a mapping of that name."""
    name = name.strip()
    if not name:
        raise InputRejected("mapping.name_missing")
    text = mapping.to_toml()
    import_mapping.parse(text)  # what is stored must read back
    with store.transaction() as cur:
        cur.execute("DELETE FROM column_mappings WHERE name = ?", [name])
        cur.execute(
            "INSERT INTO column_mappings (name, kind, mapping, saved_by, saved_at) VALUES (?, ?, ?, ?, ?)",
            [name, mapping.kind, text, by, config.local_now()])
        audit.record(cur, by, "mapping.save", name, {"kind": mapping.kind, "mapping": text})


@reads("column_mappings")
def list_mappings(store: Reader, kind: str | None = None) -> pd.DataFrame:
    """name, kind, mapping (ImportMapping), toml, saved_by, saved_at of the saved mappings (of
    `kind`), by name."""
    frame = store.query_df(
        "SELECT name, kind, mapping AS toml, saved_by, saved_at FROM column_mappings "
        "WHERE $kind IS NULL OR kind = $kind ORDER BY name", {"kind": kind})
    frame["mapping"] = [_as_mapping(k, text) for k, text in zip(frame["kind"], frame["toml"],
                                                                strict=True)]
    frame["toml"] = [mapping.to_toml() for mapping in frame["mapping"]]
    return frame[["name", "kind", "mapping", "toml", "saved_by", "saved_at"]]


def load_mapping(store: Reader, name: str) -> ImportMapping:
    """The saved mapping `name`."""
    rows = store.query_rows("SELECT kind, mapping FROM column_mappings WHERE name = ?",
                            [name.strip()])
    if not rows:
        raise InputRejected("mapping.not_found", name=name)
    return _as_mapping(rows[0][0], rows[0][1])


def fitting_mapping(saved: pd.DataFrame, header: list[str], kind: str | None = None) -> str | None:
    """The name of the saved mapping (of `kind`) whose every source column the header has; the
    one naming the most columns wins. None when none fits."""
    best: tuple[int, str] | None = None
    for row in saved.to_dict("records"):
        mapping = row["mapping"]
        if (kind is None or mapping.kind == kind) and mapping.fits(header):
            score = len(mapping.source_columns())
            if best is None or score > best[0]:
                best = (score, row["name"])
    return best[1] if best else None
