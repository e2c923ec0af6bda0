"""`users add EMAIL --role R [--units A,B]`, `users remove EMAIL`, `users list [--json]`: who may
sign in, with which role and unit scope; `users notify` (what a user receives by e-mail) is
declared in notify.py."""

from __future__ import annotations

import argparse
import json
import sys

from kpi.audit import cli_user
from kpi.commands.common import EXIT_ERROR, EXIT_OK, Add, cli_language, open_store, say
from kpi.commands.notify import add_users_notify, users_notify
from kpi.errors import InputRejected

ROLES = ("viewer", "analyst", "reviewer", "admin")


def cmd_users(args: argparse.Namespace) -> int:
    from kpi import users  # on use: --help stays fast

    store = open_store(args)
    store.init()  # a store made before the users table existed gets it (idempotent)
    if args.users_command == "notify":  # issue 25: what the user receives by e-mail
        return users_notify(args, store)
    if args.users_command in ("add", "remove"):
        try:
            if args.users_command == "remove":
                users.remove_user(store, args.email, by=cli_user())
                print(say("cli.out.user_removed", email=users.normal_email(args.email)))
                return EXIT_OK
            done = users.add_user(store, args.email, args.role, args.units, by=cli_user())
        except InputRejected as error:  # a refused change, not a rejected file: exit 1
            print(error.localized(cli_language()), file=sys.stderr)
            return EXIT_ERROR
        scope = ", ".join(done["units"]) or say("cli.out.user_whole_city")
        print(say("cli.out.user_changed" if done["changed"] else "cli.out.user_added",
                  email=done["email"], role=done["role"], scope=scope))
        return EXIT_OK
    table = users.list_users(store)
    if args.json:
        records = [{"email": row["email"], "role": row["role"],
                    "units": list(users.parse_units(row["units"])),
                    "added_by": row["added_by"], "added_at": str(row["added_at"])}
                   for row in table.to_dict("records")]
        print(json.dumps(records, indent=1, ensure_ascii=False))
    elif table.empty:
        print(say("cli.out.users_none"))
    else:
        print(table.to_string(index=False))
    return EXIT_OK


def register(add: Add) -> None:
    command = add("users", cmd_users, say("cli.help.users"))
    sub = command.add_subparsers(dest="users_command", required=True, parser_class=type(command))
    adding = sub.add_parser("add", help=say("cli.help.users_add"))
    adding.add_argument("email")
    adding.add_argument("--role", required=True, choices=ROLES)
    adding.add_argument("--units", default=None, metavar="CODE[,CODE...]",
                        help=say("cli.help.users_units"))
    removing = sub.add_parser("remove", help=say("cli.help.users_remove"))
    removing.add_argument("email")
    listing = sub.add_parser("list", help=say("cli.help.users_list"))
    listing.add_argument("--json", action="store_true", help=say("cli.help.json"))
    add_users_notify(sub)  # issue 25: `users notify EMAIL …`
