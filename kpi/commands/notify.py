"""`python -m kpi notify digest|alerts|log` (issue 25), and what `users notify` and
`ingest --notify` call.

Exit status as everywhere: 0 done; 1 with one sentence when no mail server is set, when it
cannot be reached (nothing is marked sent: the next run sends it), or when it refused a message.
The handlers import the engine's modules when they run, as kpi/__main__.py does: every other
command of the CLI starts without them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kpi.audit import cli_user
from kpi.commands.common import open_store
from kpi.errors import KinerjaError
from kpi.i18n import LANGUAGES, t

if TYPE_CHECKING:
    from kpi.notify import Letter
    from kpi.store import Store

EXIT_OK, EXIT_ERROR = 0, 1


def _store(args: argparse.Namespace) -> Store:
    return open_store(args)  # the CLI's one way to open the store, as every command does


def _report(letters: list[Letter], dry_run: str | None) -> int:
    """One line of what was done; exit 1 with a sentence when the server refused some."""
    if dry_run is not None:
        print(t("notify.dry_run_line", "en", count=len(letters), folder=dry_run))
        return EXIT_OK
    sent = [letter for letter in letters if letter.sent]
    if not letters:
        print(t("notify.nobody", "en"))
        return EXIT_OK
    failed = len(letters) - len(sent)
    print(t("notify.sent_line", "en", count=len(sent), failed=failed))
    if failed:
        print(t("notify.failed_some", "en", failed=failed, count=len(letters)), file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def cmd_notify(args: argparse.Namespace) -> int:
    from kpi import alerts, digest, mail, notify  # on use: --help stays fast

    store = _store(args)
    if args.notify_command == "log":
        frame = notify.delivery_log(store, limit=args.limit)
        if args.json:
            print(json.dumps(notify.log_records(frame), indent=1, ensure_ascii=False))
        elif frame.empty:
            print(t("notify.log_none", "en"))
        else:
            print(frame.drop(columns=["message_id"]).fillna("").to_string(index=False))
        return EXIT_OK
    settings = None if args.dry_run else mail.settings()  # no server: one sentence, exit 1
    if args.notify_command == "digest":
        letters = digest.digest_letters(store, args.week)
        if args.dry_run:
            notify.deliver(store, letters, dry_run=args.dry_run)
            return _report(letters, args.dry_run)
        notify.deliver(store, letters, settings=settings)
        return _report(letters, None)
    return _report(alerts.send_alerts(store, dry_run=args.dry_run, settings=settings),
                   args.dry_run)


def alerts_after_import(store: Store, *, quiet: bool = False) -> None:
    """`ingest … --notify`: send the alerts the import made due. The import is committed
    already: a missing or unreachable mail server is one line on stderr, never a failure of
    the import, and the alerts stay due for the next run. `quiet`: no line on stdout (the
    import printed JSON there)."""
    from kpi import alerts  # on use: --help stays fast

    try:
        letters = alerts.send_alerts(store)
    except KinerjaError as error:
        print(t("notify.import_alerts_failed", "en", reason=str(error).rstrip(".")),
              file=sys.stderr)
        return
    except Exception as error:
        print(t("notify.import_alerts_failed", "en", reason=f"{type(error).__name__}: {error}"),
              file=sys.stderr)
        return
    if letters and not quiet:
        sent = sum(letter.sent for letter in letters)
        print(t("notify.sent_line", "en", count=sent, failed=len(letters) - sent))


def users_notify(args: argparse.Namespace, store: Store) -> int:
    """`users notify EMAIL [--digest on|off] [--alerts on|off] [--lang id|en]`: show or change
    what a user receives; prints the settings after."""
    from kpi import notify  # on use: --help stays fast

    if args.digest is None and args.alerts is None and args.lang is None:
        found = notify.subscription(store, args.email)
    else:
        found = notify.set_subscription(store, args.email, digest=args.digest,
                                        alerts=args.alerts, lang=args.lang, by=cli_user())
    print(settings_line(found))
    return EXIT_OK


def settings_line(found: Any) -> str:
    return t("notify.settings_line", "en", email=found.email,
             digest=t(f"notify.digest_{'on' if found.digest else 'off'}", "en"),
             alerts=t(f"notify.alerts_{'on' if found.alerts else 'off'}", "en"), language=found.lang,
             defaults="" if found.chosen else t("notify.defaults_note", "en"))


def add_users_notify(users_sub: Any) -> None:
    """The `users notify` sub-command's arguments (on the `users` command's sub-parsers)."""
    command = users_sub.add_parser(
        "notify", help="what a user receives by e-mail, in which language")
    command.add_argument("email")
    command.add_argument("--digest", choices=["on", "off"], default=None)
    command.add_argument("--alerts", choices=["on", "off"], default=None)
    command.add_argument("--lang", choices=list(LANGUAGES), default=None)


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    command = add("notify", cmd_notify, "e-mail: the Monday digest, alerts, the delivery log")
    sub = command.add_subparsers(dest="notify_command", required=True,
                                 parser_class=type(command))
    digest = sub.add_parser("digest", help="the weekly digest, one e-mail per subscribed user")
    digest.add_argument("--week", metavar="YYYY-Www", default=None,
                        help="the week (default: the latest complete week)")
    digest.add_argument("--dry-run", metavar="DIR", default=None,
                        help="write the messages as .eml files into DIR instead of sending")
    alerts = sub.add_parser("alerts", help="the alerts not sent yet, one e-mail per user")
    alerts.add_argument("--dry-run", metavar="DIR", default=None,
                        help="write the messages as .eml files into DIR instead of sending")
    log = sub.add_parser("log", help="the delivery log: who, which message, when, result")
    log.add_argument("--json", action="store_true")
    log.add_argument("--limit", type=int, default=None)
