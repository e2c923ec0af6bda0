"""`python -m kpi notify digest|alerts|log` (issue 25), and what `users notify` and
`ingest --notify` call.

Exit status as everywhere: 0 done; 1 with one sentence when no mail server is set, when it
cannot be reached (nothing is marked sent: the next run sends it), or when it refused a message.
The handlers import the engine's modules when they run, as every command module does: the
other commands of the CLI start without them.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from kpi.audit import cli_user
from kpi.commands.common import EXIT_ERROR, EXIT_OK, Add, cli_language, open_store, say
from kpi.errors import KinerjaError
from kpi.i18n import LANGUAGES

if TYPE_CHECKING:
    from kpi.notify import Letter
    from kpi.store import Store

def _store(args: argparse.Namespace) -> Store:
    return open_store(args)  # the CLI's one way to open the store, as every command does


def _report(letters: list[Letter], dry_run: str | None) -> int:
    """One line of what was done; exit 1 with a sentence when the server refused some."""
    if dry_run is not None:
        print(say("notify.dry_run_line", count=len(letters), folder=dry_run))
        return EXIT_OK
    sent = [letter for letter in letters if letter.sent]
    if not letters:
        print(say("notify.nobody"))
        return EXIT_OK
    failed = len(letters) - len(sent)
    print(say("notify.sent_line", count=len(sent), failed=failed))
    if failed:
        print(say("notify.failed_some", failed=failed, count=len(letters)), file=sys.stderr)
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
            print(say("notify.log_none"))
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
        print(say("notify.import_alerts_failed", reason=error.localized(cli_language()).rstrip(".")),
              file=sys.stderr)
        return
    except Exception as error:
        print(say("notify.import_alerts_failed", reason=f"{type(error).__name__}: {error}"),
              file=sys.stderr)
        return
    if letters and not quiet:
        sent = sum(letter.sent for letter in letters)
        print(say("notify.sent_line", count=sent, failed=len(letters) - sent))


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
    return say("notify.settings_line", email=found.user.email,
               digest=say(f"notify.digest_{'on' if found.digest else 'off'}"),
               alerts=say(f"notify.alerts_{'on' if found.alerts else 'off'}"),
               language=found.lang, defaults="" if found.chosen else say("notify.defaults_note"))


def add_users_notify(users_sub: Any) -> None:
    """The `users notify` sub-command's arguments (on the `users` command's sub-parsers)."""
    command = users_sub.add_parser("notify", help=say("cli.help.users_notify"))
    command.add_argument("email")
    command.add_argument("--digest", choices=["on", "off"], default=None)
    command.add_argument("--alerts", choices=["on", "off"], default=None)
    command.add_argument("--lang", choices=list(LANGUAGES), default=None)


def register(add: Add) -> None:
    command = add("notify", cmd_notify, say("cli.help.notify"))
    sub = command.add_subparsers(dest="notify_command", required=True,
                                 parser_class=type(command))
    digest = sub.add_parser("digest", help=say("cli.help.notify_digest"))
    digest.add_argument("--week", metavar="YYYY-Www", default=None,
                        help=say("cli.help.notify_week"))
    digest.add_argument("--dry-run", metavar="DIR", default=None,
                        help=say("cli.help.notify_dry_run"))
    alerts = sub.add_parser("alerts", help=say("cli.help.notify_alerts"))
    alerts.add_argument("--dry-run", metavar="DIR", default=None,
                        help=say("cli.help.notify_dry_run"))
    log = sub.add_parser("log", help=say("cli.help.notify_log"))
    log.add_argument("--json", action="store_true", help=say("cli.help.json"))
    log.add_argument("--limit", type=int, default=None, help=say("cli.help.notify_limit"))
