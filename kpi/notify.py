"""Who gets which e-mail, and what was sent (issue 25).

A user's subscription: the Monday digest on or off, alerts on or off, and the language of their
messages. Until someone changes it, a user has the defaults of their role: admins and reviewers
get the digest, analysts and reviewers get alerts; the deployment's language. A person changes
their own; an admin (or the CLI's operator) anyone's; every change is on the audit trail.

Every message tried is logged (`notify_deliveries`): to whom, which message, when, and whether
the server took it. The digest and the alerts (kpi/digest.py, kpi/alerts.py) go through
`deliver`, which sends them (or writes them as .eml files in a dry run) and logs them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pandas as pd

from kpi import audit, config, mail
from kpi.errors import InputRejected
from kpi.i18n import LANGUAGES
from kpi.reads import reads
from kpi.scope import writable_units
from kpi.store import Reader, Store, Writer, one_unit_of_work
from kpi.users import ROLES, USER_COLUMNS, User, get_user, normal_email

DIGEST_ROLES = ("admin", "reviewer")
ALERT_ROLES = ("analyst", "reviewer")
SWITCHES = {"on": True, "off": False}


@dataclass(frozen=True)
class Subscription:
    user: User               # who: e-mail, role, unit scope
    digest: bool
    alerts: bool
    lang: str
    chosen: bool             # False: the role's defaults, nobody changed them yet


def defaults(role: str) -> tuple[bool, bool, str]:
    """(digest, alerts, language) of a user of `role` whose settings nobody changed."""
    return role in DIGEST_ROLES, role in ALERT_ROLES, config.default_language()


def subscriptions(store_or_cur: Reader) -> list[Subscription]:
    """Every user's subscription, by e-mail."""
    rows = store_or_cur.query_rows(
        f"SELECT {', '.join(f'u.{column}' for column in USER_COLUMNS)}, "  # noqa: S608
        "s.digest, s.alerts, s.lang FROM users u "
        "LEFT JOIN notify_subscriptions s ON s.email = u.email ORDER BY u.email")
    found = []
    for row in rows:
        user = User.from_row(row[:len(USER_COLUMNS)])
        digest, alerts, lang = row[len(USER_COLUMNS):]
        default_digest, default_alerts, default_lang = defaults(user.role)
        chosen = digest is not None
        found.append(Subscription(
            user=user,
            digest=bool(digest) if chosen else default_digest,
            alerts=bool(alerts) if chosen else default_alerts,
            lang=lang if chosen and lang in LANGUAGES else default_lang, chosen=chosen))
    return found


@reads("notify_subscriptions", "users")
def subscription(store_or_cur: Reader, email: str) -> Subscription:
    """The subscription of user `email`; refused for an address that is not a user."""
    address = normal_email(email)
    for found in subscriptions(store_or_cur):
        if found.user.email == address:
            return found
    raise InputRejected("notify.error_unknown_user", email=address)


def _switch(value: bool | str | None, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in SWITCHES:
        raise InputRejected("notify.error_switch", option=name, value=str(value))
    return SWITCHES[text]


def _may_change(cur: Reader, by: str, email: str) -> None:
    """A signed-in person changes their own settings; an admin (or a script without a
    signed-in person, `cli:…`/`local:…`) anyone's."""
    author = get_user(cur, by)
    if author is None or author.email == email or author.role == "admin":
        return
    raise InputRejected("notify.error_not_yours", email=email)


def set_subscription(store: Store, email: str, *, digest: bool | str | None = None,
                     alerts: bool | str | None = None, lang: str | None = None,
                     by: str) -> Subscription:
    """Change what `email` receives (None leaves a setting as it is); audited as
    `notify.subscription` with the settings before and after."""
    address = normal_email(email)
    digest, alerts = _switch(digest, "--digest"), _switch(alerts, "--alerts")
    if lang is not None and lang not in LANGUAGES:
        raise InputRejected("notify.error_lang", lang=lang, languages=", ".join(LANGUAGES))
    with store.transaction() as cur:
        before = subscription(cur, address)
        _may_change(cur, by, address)
        after = Subscription(
            user=before.user,
            digest=before.digest if digest is None else digest,
            alerts=before.alerts if alerts is None else alerts,
            lang=before.lang if lang is None else lang, chosen=True)
        cur.execute("DELETE FROM notify_subscriptions WHERE email = ?", [address])
        cur.execute(
            "INSERT INTO notify_subscriptions (email, digest, alerts, lang, changed_by, "
            "changed_at) VALUES (?, ?, ?, ?, ?, ?)",
            [address, after.digest, after.alerts, after.lang, by, config.local_now()])
        audit.record(cur, by, "notify.subscription", address, {
            "digest": after.digest, "alerts": after.alerts, "lang": after.lang,
            "before": {"digest": before.digest, "alerts": before.alerts, "lang": before.lang}})
    return after


@one_unit_of_work
def recipient_units(cur: Reader, who: Subscription) -> list[str] | None:
    """The units whose news `who` receives: the subtrees of their scope, or None for the whole
    city (and `*`) when they are unscoped (the dashboard's and the write checks' scope)."""
    if who.user.role not in ROLES:
        return []
    return writable_units(cur, who.user.email)


# -- delivery and its log ----------------------------------------------------------------------
@dataclass
class Letter:
    """One message to one recipient, with what the log and the caller need to know of it."""

    recipient: Subscription
    kind: str                       # digest | alerts
    message: EmailMessage
    items: int                      # exceptions or alerts it carries
    week: str | None = None
    alert_ids: Sequence[int] = ()
    delivery_id: int | None = None  # set once logged
    outcome: mail.Outcome | None = None

    @property
    def sent(self) -> bool:
        """Whether the server took the message."""
        return self.outcome is not None and self.outcome.ok

    @property
    def stem(self) -> str:
        """The .eml file name of a dry run."""
        return f"{self.kind}-{self.week or 'now'}-{self.recipient.user.email}"


def deliver(store: Store, letters: list[Letter], *, dry_run: str | Path | None = None,
            after_logging: Callable[[Writer, list[Letter]], None] | None = None,
            settings: mail.MailSettings | None = None) -> list[Path]:
    """Send `letters` (or, with `dry_run`, write them as .eml files into that folder and log
    nothing: a dry run changes nothing). Each message sent or refused is logged, and
    `after_logging(cur, letters)` records what depends on it in the same transaction. Raises
    mail.MailUnavailable (nothing logged, nothing marked) when the server cannot be reached."""
    if dry_run is not None:
        return mail.write_dry_run(dry_run, [(letter.stem, letter.message) for letter in letters])
    if not letters:
        return []
    settings = settings or mail.settings()
    outcomes = mail.send(settings, [letter.message for letter in letters])
    now = config.local_now()
    with store.transaction() as cur:
        first_id = store.next_id(cur, "notify_deliveries", "delivery_id")
        for offset, (letter, outcome) in enumerate(zip(letters, outcomes, strict=True)):
            letter.delivery_id, letter.outcome = first_id + offset, outcome
            cur.execute(
                "INSERT INTO notify_deliveries (delivery_id, email, kind, subject, message_id, "
                "week, items, bytes, tried_at, result, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [letter.delivery_id, letter.recipient.user.email, letter.kind,
                 str(letter.message["Subject"]), str(letter.message["Message-ID"]),
                 letter.week, letter.items, len(letter.message.as_bytes()), now,
                 "sent" if outcome.ok else "failed", outcome.error])
        if after_logging is not None:
            after_logging(cur, letters)
        sent = [letter for letter in letters if letter.sent]
        audit.record(cur, None, f"notify.{letters[0].kind}", settings.server, {
            "sent": len(sent), "failed": len(letters) - len(sent),
            "deliveries": [letter.delivery_id for letter in letters]})
    return []


@reads("notify_deliveries")
def delivery_log(store: Reader, *, limit: int | None = None) -> pd.DataFrame:
    """The delivery log, newest first: delivery_id, tried_at, email, kind, week, subject,
    items, bytes, result, error, message_id."""
    return store.query_df(
        "SELECT delivery_id, tried_at, email, kind, week, subject, items, bytes, result, error, "
        "message_id FROM notify_deliveries ORDER BY delivery_id DESC LIMIT $limit",
        {"limit": limit if limit is not None else 2 ** 62})


def log_records(frame: pd.DataFrame) -> list[dict]:
    """The delivery log as JSON-ready records (`notify log --json`)."""
    return [{**row, "tried_at": str(row["tried_at"]),
             "error": None if row["error"] is None or pd.isna(row["error"]) else row["error"],
             "week": None if row["week"] is None or pd.isna(row["week"]) else row["week"]}
            for row in frame.to_dict("records")]


def to_date(value: object) -> dt.date:
    """A date from a date, timestamp or ISO text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
