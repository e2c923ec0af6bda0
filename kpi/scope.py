"""Unit scope: which units a person may change (issue 11).

Everyone signed in reads the whole city. An analyst or reviewer added with `--units A,B` may
import, roll back, edit targets and raise or update actions only for A, B and their subtrees
(descendants through `parent_code`, as the store holds them at the time of the write).
The engine enforces it from the name it records as the author (`who`): a user of the users
table with units is scoped; everyone else (admins, unscoped users, `cli:<os user>`, local mode)
has the whole city. So the check cannot be skipped by a page that forgets it.
"""

from __future__ import annotations

from kpi.errors import InputRejected

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


def scope_roots(cur, who: str | None) -> tuple[str, ...] | None:
    """The unit codes `who` is limited to, or None for the whole city."""
    from kpi.users import SCOPED_ROLES, get_user

    user = get_user(cur, who)
    if user is None or user.role not in SCOPED_ROLES or not user.units:
        return None
    return user.units


def writable_units(cur, who: str | None) -> list[str] | None:
    """Every unit `who` may change (the subtrees of their scope), or None for the whole city."""
    roots = scope_roots(cur, who)
    if roots is None:
        return None
    sql = _SUBTREES_SQL.format(units=cur.as_begun("units"))
    return [row[0] for row in cur.query_rows(sql, {"roots": list(roots)})]


def require_in_scope(cur, who: str | None, unit_codes: list[str] | set[str]) -> None:
    """Refuse (OutOfScope) when any of `unit_codes` lies outside `who`'s scope."""
    allowed = writable_units(cur, who)
    if allowed is None:
        return
    outside = sorted({str(code) for code in unit_codes} - set(allowed))
    if outside:
        raise OutOfScope(units=", ".join(outside), scope=", ".join(scope_roots(cur, who) or ()))
