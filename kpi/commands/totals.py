"""`totals`: a province's top-level totals (issue 26).

In a store that defers them, a city's weekly import recomputes its own units; the province `*`
of every period (every city's rows) waits until `totals --refresh`, run once after the Monday
imports (or nightly).
"""

from __future__ import annotations

import argparse

from kpi.audit import cli_user
from kpi.commands.common import open_store


def cmd_totals(args: argparse.Namespace) -> int:
    from kpi import precompute  # on use: --help stays fast

    store = open_store(args)  # the CLI's one way to open the store, as every command does
    if args.defer is not None:
        precompute.set_defer_totals(store, args.defer == "on", by=cli_user())
    if args.refresh:
        done = precompute.refresh_pending(store, by=cli_user())
        print(f"Recomputed the top-level totals of {done} period(s).")
    pending = precompute.pending_totals(store)
    state = "deferred" if precompute.defers_totals(store) else "computed at every import"
    print(f"Top-level totals: {state}; "
          f"{len(pending)} period(s) waiting.")
    for grain, start, since in pending:
        print(f"  {grain:8s} {start}  waiting since {since:%Y-%m-%d %H:%M}")
    return 0


def register(add) -> None:
    parser = add("totals", cmd_totals,
                 "a province's top-level totals: defer them at imports, recompute what waits")
    parser.add_argument("--defer", choices=("on", "off"), default=None,
                        help="on: imports leave the `*` of every period to "
                             "--refresh; off: computed at every import (what waits is "
                             "recomputed now)")
    parser.add_argument("--refresh", action="store_true",
                        help="recompute the waiting totals now (after the weekly imports)")
