"""The public SKM form's addresses and the published units (issue 24).

Each unit's form lives at `<KPI_BASE_URL>/skm/<token>`: the token is random, one current token
per unit (`survey_links`, revoked_at NULL). Revoking gives the unit a new token, so a poster
that was taken down or copied stops working and a new poster is printed. Publishing a unit puts
its SKM results on the public page `/publik`. Every change is a write with its author on the
audit trail.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from kpi import audit, config
from kpi.errors import InputRejected
from kpi.reads import reads
from kpi.scope import require_in_scope, writable_units
from kpi.store import Reader, Store, Writer, one_unit_of_work

FORM_PATH = "/skm"           # the form of the unit whose token follows: /skm/<token>
PUBLIC_RESULTS_PATH = "/publik"
# Ten characters of an alphabet without look-alikes (0/o, 1/l): about 50 bits, short enough to
# type from a poster.
_TOKEN_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"
_TOKEN_LENGTH = 10


def base_url() -> str:
    """Where citizens reach this server (`KPI_BASE_URL`, e.g. https://kinerja.medan.go.id),
    without a trailing slash."""
    return config.base_url()


def form_url(token: str) -> str:
    """The full address of the form whose token is `token`."""
    return f"{base_url()}{FORM_PATH}/{token}"


@dataclass(frozen=True)
class UnitLink:
    unit_code: str
    name: str
    token: str

    @property
    def url(self) -> str:
        return form_url(self.token)


def _unit_names(cur: Reader, unit_codes: list[str]) -> dict[str, str]:
    """{code: name} of the given units; an unknown code refuses (one sentence)."""
    names = dict(cur.query_rows(
        "SELECT unit_code, name FROM units WHERE list_contains($codes, unit_code)",
        {"codes": unit_codes}))
    unknown = [code for code in unit_codes if code not in names]
    if unknown:
        raise InputRejected("survey.unknown_unit", units=", ".join(unknown))
    return names


def _current_tokens(cur: Reader, unit_codes: list[str]) -> dict[str, str]:
    return dict(cur.query_rows(
        "SELECT unit_code, token FROM survey_links WHERE revoked_at IS NULL "
        "AND list_contains($codes, unit_code)", {"codes": unit_codes}))


def _new_token(cur: Writer, unit_code: str, who: str) -> str:
    token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(_TOKEN_LENGTH))
    cur.execute("INSERT INTO survey_links (unit_code, token, created_at, created_by) "
                "VALUES ($unit, $token, $at, $who)",
                {"unit": unit_code, "token": token, "at": config.local_now(), "who": who})
    return token


def links(store: Store, unit_codes: list[str], *, who: str | None = None) -> list[UnitLink]:
    """The current form address of each unit, in the order given; a unit that has none yet gets
    one (a write, on the audit trail as `survey.link`)."""
    with store.reading() as cur:
        names = _unit_names(cur, unit_codes)
        tokens = _current_tokens(cur, unit_codes)
    missing = [code for code in unit_codes if code not in tokens]
    if missing:
        author = who or audit.cli_user()
        with store.transaction() as cur:
            require_in_scope(cur, author, missing)
            tokens.update(_current_tokens(cur, missing))  # another writer may have made one
            for code in missing:
                if code not in tokens:
                    tokens[code] = _new_token(cur, code, author)
                    audit.record(cur, author, "survey.link", f"unit {code}", {})
    return [UnitLink(code, names[code], tokens[code]) for code in unit_codes]


def revoke(store: Store, unit_code: str, *, who: str | None = None) -> UnitLink:
    """Retire the unit's current address and give it a new one (`survey.revoke` on the trail)."""
    author = who or audit.cli_user()
    with store.transaction() as cur:
        name = _unit_names(cur, [unit_code])[unit_code]
        require_in_scope(cur, author, [unit_code])
        cur.execute("UPDATE survey_links SET revoked_at = $at, revoked_by = $who "
                    "WHERE unit_code = $unit AND revoked_at IS NULL",
                    {"at": config.local_now(), "who": author, "unit": unit_code})
        token = _new_token(cur, unit_code, author)
        audit.record(cur, author, "survey.revoke", f"unit {unit_code}", {})
    return UnitLink(unit_code, name, token)


@reads("units", "users")
@one_unit_of_work
def units_in_scope(cur: Reader, *, who: str) -> list[tuple[str, str]]:
    """(code, name) of the units whose posters `who` may print and revoke: their scope's
    subtrees, or every unit (kpi.scope), by code."""
    allowed = writable_units(cur, who)
    return [(str(code), str(name)) for code, name in cur.query_rows(
        "SELECT unit_code, name FROM units WHERE $all OR list_contains($allowed, unit_code) "
        "ORDER BY unit_code", {"all": allowed is None, "allowed": allowed or []})]


@dataclass(frozen=True)
class FormUnit:
    """The unit whose form a token opens, with the services the form offers (code, name)."""

    unit_code: str
    name: str
    services: tuple[tuple[str, str], ...]


@one_unit_of_work
def form_unit(cur: Reader, token: str) -> FormUnit | None:
    """The unit of a current token and its services (one read of one snapshot), or None for an
    unknown or revoked token."""
    if not token or len(token) > 64:
        return None
    rows = cur.query_rows(
        "SELECT l.unit_code, u.name FROM survey_links l JOIN units u USING (unit_code) "
        "WHERE l.token = $token AND l.revoked_at IS NULL", {"token": token})
    if not rows:
        return None
    code, name = str(rows[0][0]), str(rows[0][1])
    services = cur.query_rows("SELECT service_code, name FROM services WHERE unit_code = $unit "
                              "ORDER BY name", {"unit": code})
    return FormUnit(code, name, tuple((str(c), str(n)) for c, n in services))


# -- publication -------------------------------------------------------------------------------
def published(store: Store) -> list[tuple[str, str]]:
    """(code, name) of the published units, by code."""
    with store.reading() as cur:
        return [(str(code), str(name)) for code, name in cur.query_rows(
            "SELECT p.unit_code, u.name FROM published_units p JOIN units u USING (unit_code) "
            "ORDER BY p.unit_code")]


def set_published(store: Store, unit_codes: list[str], on: bool, *,
                  who: str | None = None) -> list[str]:
    """Publish (or, with `on` False, withdraw) the units' results; returns the codes whose state
    changed. One write, on the audit trail as `publish.on` / `publish.off`."""
    author = who or audit.cli_user()
    with store.transaction() as cur:
        _unit_names(cur, unit_codes)
        require_in_scope(cur, author, unit_codes)
        already = {str(code) for (code,) in cur.query_rows(
            "SELECT unit_code FROM published_units WHERE list_contains($codes, unit_code)",
            {"codes": unit_codes})}
        changed = [code for code in dict.fromkeys(unit_codes) if (code in already) != on]
        if not changed:
            return []
        if on:
            for code in changed:
                cur.execute("INSERT INTO published_units (unit_code, published_at, published_by) "
                            "VALUES ($unit, $at, $who)",
                            {"unit": code, "at": config.local_now(), "who": author})
        else:
            cur.execute("DELETE FROM published_units WHERE list_contains($codes, unit_code)",
                        {"codes": changed})
        audit.record(cur, author, "publish.on" if on else "publish.off", ", ".join(changed), {})
    return changed
