"""What every command of `python -m kpi` shares: the exit statuses and the one way to open the
store (schema and precomputed values brought up to date, with a progress line when that takes
a while)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from kpi import config
from kpi.i18n import t

if TYPE_CHECKING:  # imported on use (open_store): `--help` stays fast
    from kpi.store import Store

EXIT_OK, EXIT_ERROR, EXIT_REJECTED = 0, 1, 2


def cli_language() -> str:
    """The language of the CLI's own lines (`KPI_LANG`, as the dashboard's default)."""
    return config.default_language()


def open_store(args: argparse.Namespace, *, create: bool = False) -> Store:
    """The store named by `--db` (or `KPI_DB`). Opening it creates the tables a newer
    kpi/schema.sql added; a store made before the precomputed KPI values, or before a change
    to the KPI definitions, gets them (again) once, and a line on stderr says why the command
    waits."""
    # Here, not at the top: `--help` and usage errors answer without loading DuckDB and pandas.
    from kpi.precompute import ensure_ready
    from kpi.store import Store

    store = Store(config.store_location(args.db), create=create,
                  busy_timeout=config.busy_timeout(), data_path=config.data_path())
    ensure_ready(store, on_recompute=lambda: print(
        t("upkeep.recomputing", cli_language()), file=sys.stderr, flush=True))
    return store
