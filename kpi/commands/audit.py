"""`audit [--since D] [--json] [--verify]`, the append-only trail of every write, and
`audit-key`, which makes the audit key and keys the trail (issue 20 item 5)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from kpi import audit
from kpi.commands.common import EXIT_ERROR, EXIT_OK, Add, cli_language, open_store, say
from kpi.periods import parse_date

if TYPE_CHECKING:
    from kpi.store import Store


def announce_key(store: Store) -> None:
    """Make the key file when no key is configured (saying loudly where it is and that it must
    be kept), then key the trail: what `init` and `audit-key` both do."""
    made = audit.make_key_file()
    if made is None:
        print(say("audit.key_exists", source=audit.key_source()))
    else:
        print(say("cli.out.warning", message=say("audit.key_made", path=made)))
    keyed = audit.key_trail(store)
    if keyed is not None:
        print(say("audit.keyed_now", seq=keyed[0], unkeyed=keyed[1]))


def cmd_audit_key(args: argparse.Namespace) -> int:
    announce_key(open_store(args))
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    since = parse_date(args.since, say("cli.what.since")) if args.since else None
    store = open_store(args)
    store.init()
    if args.verify:
        verdict = audit.verify(store)
        print(audit.verdict_sentence(verdict, cli_language()),
              file=sys.stdout if verdict.ok else sys.stderr)
        return EXIT_OK if verdict.ok else EXIT_ERROR
    table = audit.trail(store, since=since)
    if args.json:
        records = [{**row, "logged_at": str(row["logged_at"]),
                    "details": json.loads(row["details"])} for row in table.to_dict("records")]
        print(json.dumps(records, indent=1, ensure_ascii=False))
    elif table.empty:
        print(say("cli.out.audit_none"))
    else:
        print(table.drop(columns=["prev_sha256", "sha256"]).to_string(index=False))
    return EXIT_OK


def register(add: Add) -> None:
    trail = add("audit", cmd_audit, say("cli.help.audit"))
    trail.add_argument("--since", metavar="YYYY-MM-DD")
    trail.add_argument("--json", action="store_true", help=say("cli.help.json"))
    trail.add_argument("--verify", action="store_true", help=say("cli.help.audit_verify"))
    add("audit-key", cmd_audit_key, say("cli.help.audit_key"))
