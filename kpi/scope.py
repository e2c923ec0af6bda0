"""Unit scope: which units a person may change (issue 11).

Everyone signed in reads the whole city. An analyst or reviewer added with `--units A,B` may
import, roll back, edit targets and raise or update actions only for A, B and their subtrees
(descendants through `parent_code`, as the store holds them at the time of the write).
The engine enforces it from the name it records as the author (`who`): a user of the users
table with units is scoped; everyone else (admins, unscoped users, `cli:<os user>`, local mode)
has the whole city. So the check cannot be skipped by a page that forgets it.

A scope may grow under its units and change inside, never take in a unit from outside nor let
one of its units go: a unit of another district stays out even when a units file names a unit
of the scope as its parent, a unit of the scope stays under it, and the scope's tops (its units
whose parent lies outside it) keep their parent. An import checks that row by row
(kpi.ingest's rules, so the report names the lines); a rollback checks the tree it leaves
(`require_kept`).
"""

from __future__ import annotations

from dataclasses import dataclass

from kpi.errors import InputRejected
from kpi.store import Reader
from kpi.users import SCOPED_ROLES, get_user

# The units of the subtrees of the roots in $roots (cycles end: UNION drops repeats).
_SUBTREES_SQL = """
WITH RECURSIVE sub(unit_code) AS (
    SELECT unit_code FROM {units} WHERE list_contains($roots, unit_code)
    UNION
    SELECT units.unit_code FROM sub JOIN {units} AS units ON units.parent_code = sub.unit_code
)
SELECT DISTINCT unit_code FROM sub ORDER BY unit_code
"""


class OutOfScope(InputRejected):
    """A write that touches units outside the person's scope."""

    key = "scope.error_units"


def scope_roots(cur: Reader, who: str | None) -> tuple[str, ...] | None:
    """The unit codes `who` is limited to, or None for the whole city."""
    user = get_user(cur, who)
    if user is None or user.role not in SCOPED_ROLES or not user.units:
        return None
    return user.units


def subtrees(cur: Reader, roots: tuple[str, ...] | list[str]) -> list[str]:
    """The units of the subtrees of `roots` (the roots included), by code."""
    sql = _SUBTREES_SQL.format(units=cur.as_begun("units"))
    return [row[0] for row in cur.query_rows(sql, {"roots": list(roots)})]


def writable_units(cur: Reader, who: str | None) -> list[str] | None:
    """Every unit `who` may change (the subtrees of their scope), or None for the whole city."""
    roots = scope_roots(cur, who)
    return None if roots is None else subtrees(cur, roots)


def require_in_scope(cur: Reader, who: str | None, unit_codes: list[str] | set[str]) -> None:
    """Refuse (OutOfScope) when any of `unit_codes` lies outside `who`'s scope."""
    allowed = writable_units(cur, who)
    if allowed is None:
        return
    outside = sorted({str(code) for code in unit_codes} - set(allowed))
    if outside:
        raise OutOfScope(units=", ".join(outside), scope=", ".join(scope_roots(cur, who) or ()))


@dataclass(frozen=True)
class ScopeBefore:
    """A scoped person's units when a write began, and the parent of each of its tops."""

    units: frozenset[str]
    top_parents: dict[str, str | None]


def scope_before(cur: Reader, who: str | None) -> ScopeBefore | None:
    """What `require_kept` compares the tree after a write with; None for the whole city."""
    allowed = writable_units(cur, who)
    if allowed is None:
        return None
    parents = dict(cur.query_rows(
        f"SELECT unit_code, parent_code FROM {cur.as_begun('units')} "  # noqa: S608
        "WHERE list_contains($units, unit_code)", {"units": allowed}))
    tops = {code: parent for code, parent in parents.items()
            if parent is None or parent not in parents}
    return ScopeBefore(frozenset(allowed), tops)


def require_kept(cur: Reader, who: str | None, before: ScopeBefore | None,
                 touched: list[str] | set[str]) -> None:
    """After a write, inside its transaction: refuse (OutOfScope, which rolls it back) when a
    unit it touched that still exists lies outside `who`'s scope now, or one of the scope's
    tops lost or changed its parent."""
    if before is None:
        return
    allowed = set(writable_units(cur, who) or ())
    parents = dict(cur.query_rows(
        f"SELECT unit_code, parent_code FROM {cur.as_begun('units')} "  # noqa: S608
        "WHERE list_contains($units, unit_code)",
        {"units": sorted({str(code) for code in touched} | set(before.top_parents))}))
    outside = {code for code in parents if code in {str(c) for c in touched}} - allowed
    outside |= {top for top, parent in before.top_parents.items()
                if top not in parents or parents[top] != parent}
    if outside:
        raise OutOfScope(units=", ".join(sorted(outside)),
                         scope=", ".join(scope_roots(cur, who) or ()))
