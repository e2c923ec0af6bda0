"""`review --week YYYY-Www --out DIR [--lang id|en]`: the weekly management review pack (PDF,
XLSX, HTML; contract §3)."""

from __future__ import annotations

import argparse

from kpi.commands.common import EXIT_OK, Add, open_store, say
from kpi.i18n import LANGUAGES
from kpi.periods import parse_week, week_label


def cmd_review(args: argparse.Namespace) -> int:
    from kpi.pack import write_pack  # on use: --help stays fast

    week = parse_week(args.week)  # an invalid week fails before the store is opened
    store = open_store(args)
    store.init()  # a store made before the review tables existed gets them (idempotent)
    for path in write_pack(store, week_label(week), args.out, args.lang):
        print(path)
    return EXIT_OK


def register(add: Add) -> None:
    review = add("review", cmd_review, say("cli.help.review"))
    review.add_argument("--week", required=True, metavar="YYYY-Www")
    review.add_argument("--out", required=True, metavar="DIR")
    review.add_argument("--lang", choices=list(LANGUAGES), default=None,
                        help=say("cli.help.review_lang"))
