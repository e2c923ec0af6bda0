"""Who may sign in: e-mail addresses with a role and an optional unit scope (issue 11).

Users live in the store (table `users`), never in the secrets: `python -m kpi users add` makes
the first admin, and the admin page "Users" does the rest. Every change is audited in its own
transaction. E-mail addresses are kept lower case (identity providers differ in case).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kpi import audit, config
from kpi.audit import cli_user  # noqa: F401 - the CLI's name, re-exported
from kpi.errors import InputRejected
from kpi.reads import reads
from kpi.store import Reader, Store

# Least to most privileged: a role may open every page of the roles before it.
ROLES = ("viewer", "analyst", "reviewer", "admin")
# Roles whose writes a unit scope limits (viewers write nothing, admins have the whole city).
SCOPED_ROLES = ("analyst", "reviewer")
_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+")


@dataclass(frozen=True)
class User:
    email: str
    role: str
    units: tuple[str, ...]  # scope roots; empty = the whole city
    added_by: str
    added_at: object

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> User:
        """The user of a row of the users table's USER_COLUMNS."""
        email, role, units, added_by, added_at = row
        return cls(email, role, parse_units(units), added_by, added_at)


USER_COLUMNS = ("email", "role", "units", "added_by", "added_at")  # User.from_row's order


def normal_email(email: str) -> str:
    """`email` trimmed and lower case; one sentence when it is not an e-mail address."""
    text = (email or "").strip().lower()
    if not _EMAIL.fullmatch(text):
        raise InputRejected("users.error_email", email=repr(email))
    return text


def parse_units(text: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """`A,B` (or a list) as unit codes, in order, without blanks or repeats."""
    items = text.split(",") if isinstance(text, str) else list(text or [])
    seen: list[str] = []
    for item in items:
        code = str(item).strip()
        if code and code not in seen:
            seen.append(code)
    return tuple(seen)


def _units_text(units: tuple[str, ...]) -> str | None:
    return ",".join(units) if units else None


def get_user(store_or_cur: Reader, email: str | None) -> User | None:
    """The user with `email` (any case), or None."""
    if not email:
        return None
    # In a write transaction, the table as it began on (a copy, until it writes the users).
    rows = store_or_cur.query_rows(
        f"SELECT {', '.join(USER_COLUMNS)} FROM {store_or_cur.as_begun('users')} "  # noqa: S608
        "WHERE email = ?",
        [email.strip().lower()])
    return User.from_row(rows[0]) if rows else None


@reads("users")
def role_and_units(store: Reader, email: str) -> tuple[str, list[str]] | None:
    """(role, unit scope roots) of `email`, or None when it is not a user (for the dashboard's
    cached look-up on every run)."""
    user = get_user(store, email)
    return None if user is None else (user.role, list(user.units))


@reads("users")
def list_users(store: Reader) -> pd.DataFrame:
    """email, role, units (text, empty = whole city), added_by, added_at; by e-mail."""
    frame = store.query_df(
        "SELECT email, role, coalesce(units, '') AS units, added_by, added_at FROM users "
        "ORDER BY email")
    return frame


def add_user(store: Store, email: str, role: str, units: str | list[str] | tuple[str, ...] | None = None,
             *, by: str) -> dict:
    """Add `email` with `role` and unit scope, or change an existing user; audited. Returns
    {"email", "role", "units", "changed"} (changed: an existing user was updated)."""
    email = normal_email(email)
    if role not in ROLES:
        raise InputRejected("users.error_role", role=role, roles=", ".join(ROLES))
    scope = parse_units(units)
    if scope and role not in SCOPED_ROLES:
        raise InputRejected("users.error_scope_role", role=role)
    with store.transaction() as cur:
        _require_admin(cur, by)
        if scope:
            known = {row[0] for row in cur.query_rows(
                f"SELECT unit_code FROM {cur.as_begun('units')} "  # noqa: S608
                "WHERE list_contains(?, unit_code)", [list(scope)])}
            unknown = [code for code in scope if code not in known]
            if unknown:
                raise InputRejected("users.error_units", units=", ".join(unknown))
        before = get_user(cur, email)
        if before and before.role == "admin" and role != "admin":
            _keep_an_admin(cur, email)
        cur.execute("DELETE FROM users WHERE email = ?", [email])
        cur.execute(
            "INSERT INTO users (email, role, units, added_by, added_at) VALUES (?, ?, ?, ?, ?)",
            [email, role, _units_text(scope),
             before.added_by if before else by, before.added_at if before else config.local_now()])
        details: dict[str, object] = {"role": role, "units": list(scope)}
        if before:
            details["before"] = {"role": before.role, "units": list(before.units)}
        audit.record(cur, by, "user.change" if before else "user.add", email, details)
    return {"email": email, "role": role, "units": list(scope), "changed": before is not None}


def remove_user(store: Store, email: str, *, by: str) -> None:
    """Remove `email`; audited. Refused for an unknown address and for the last admin."""
    email = normal_email(email)
    with store.transaction() as cur:
        _require_admin(cur, by)
        before = get_user(cur, email)
        if before is None:
            raise InputRejected("users.error_unknown", email=email)
        if before.role == "admin":
            _keep_an_admin(cur, email)
        cur.execute("DELETE FROM users WHERE email = ?", [email])
        audit.record(cur, by, "user.remove", email,
                     {"role": before.role, "units": list(before.units)})


def _keep_an_admin(cur: Reader, email: str) -> None:
    """Refuse to take away the last admin: nobody could then manage users in the app."""
    others = cur.query_value(
        "SELECT count(*) FROM users WHERE role = 'admin' AND email <> ?", [email])
    if not others:
        raise InputRejected("users.error_last_admin", email=email)


def _require_admin(cur: Reader, by: str) -> None:
    """Refuse a change of users by a signed-in person who is not an admin, whatever the page: an
    analyst could otherwise widen their own scope. The operator (`cli:…`, `local:…`) is no user."""
    author = get_user(cur, by)
    if author is not None and author.role != "admin":
        raise InputRejected("users.error_not_admin", email=author.email)
