"""Which store tables an engine function reads, declared beside it with `@reads(...)`.

The dashboard caches a function's results under a key that changes when those tables can
have changed (ui/data.py): a function that reads only the KPI data (`KPI_DATA_TABLES`) keeps
its results through a review meeting's writes; any other is read again after every write.
tests/test_reads.py runs every declared function and fails when it reads a table it did not
declare. A leaf module: it imports nothing of Kinerja.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

# The tables the KPIs, their statuses and the precomputed values derive from, and `meta`,
# which holds the KPI data version itself: written only by imports, rollbacks and target or
# unit edits (kpi.precompute bumps the KPI data version with each of them).
KPI_DATA_TABLES = frozenset({"units", "services", "events", "survey_responses", "targets",
                             "kpi_values", "unit_days", "kpi_pending", "meta"})

DECLARED: dict[str, frozenset[str]] = {}
"""Every declared function, by qualified name (module.function), with its tables."""


def reads(*tables: str) -> Callable[[F], F]:
    """Declare the store tables the decorated engine function reads."""

    def declare(function: F) -> F:
        declared = frozenset(tables)
        function.__kinerja_reads__ = declared  # type: ignore[attr-defined]
        DECLARED[f"{function.__module__}.{function.__qualname__}"] = declared
        return function

    return declare


def tables_read(function: Callable) -> frozenset[str] | None:
    """The tables `function` declared (None when it declared none)."""
    return getattr(function, "__kinerja_reads__", None)


def reads_kpi_data_only(function: Callable) -> bool:
    """Whether `function` declared that it reads only the KPI data (KPI_DATA_TABLES)."""
    tables = tables_read(function)
    return tables is not None and tables <= KPI_DATA_TABLES
