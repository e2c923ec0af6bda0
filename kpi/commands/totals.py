"""`totals`: a province's top-level totals (issue 26).

In a store that defers them, a city's weekly import recomputes its own units; the province `*`
of every period (every city's rows) waits until `totals --refresh`, run once after the Monday
imports (or nightly).
"""

from __future__ import annotations

import argparse

from kpi.audit import cli_user
from kpi.commands.common import EXIT_OK, Add, open_store, say


def cmd_totals(args: argparse.Namespace) -> int:
    from kpi import precompute  # on use: --help stays fast

    store = open_store(args)  # the CLI's one way to open the store, as every command does
    if args.defer is not None:
        precompute.set_defer_totals(store, args.defer == "on", by=cli_user())
    if args.refresh:
        done = precompute.refresh_pending(store, by=cli_user())
        print(say("cli.out.totals_refreshed", count=done))
    pending = precompute.pending_totals(store)
    state = say("cli.out.totals_deferred" if precompute.defers_totals(store)
                else "cli.out.totals_at_import")
    print(say("cli.out.totals_state", state=state, count=len(pending)))
    for grain, start, since in pending:
        print("  " + say("cli.out.totals_waiting", grain=grain, start=start,
                         since=f"{since:%Y-%m-%d %H:%M}"))
    return EXIT_OK


def register(add: Add) -> None:
    parser = add("totals", cmd_totals, say("cli.help.totals"))
    parser.add_argument("--defer", choices=("on", "off"), default=None,
                        help=say("cli.help.totals_defer"))
    parser.add_argument("--refresh", action="store_true", help=say("cli.help.totals_refresh"))
