"""`interventions add|list|remove` and `effect ID` (issue 23; contract §3)."""

from __future__ import annotations

import argparse
import json

from kpi.audit import cli_user
from kpi.commands.common import EXIT_OK, Add, open_store, say
from kpi.vocabulary import KPIS, PERIODS


def cmd_interventions(args: argparse.Namespace) -> int:
    from kpi import interventions  # on use: --help stays fast

    store = open_store(args)
    if args.interventions_command == "add":
        new_id = interventions.add(store, unit_code=args.unit, date=args.date, title=args.title,
                                   kpi=args.kpi, rebase=args.rebase, action_id=args.action,
                                   by=cli_user())
        print(new_id)
    elif args.interventions_command == "remove":
        interventions.remove(store, args.id, by=cli_user())
        print(say("cli.out.intervention_removed", id=args.id))
    else:
        rows = interventions.list_interventions(store, unit=args.unit)
        if args.json:
            print(json.dumps(rows, indent=1, ensure_ascii=False))
        elif not rows:
            print(say("cli.out.interventions_none"))
        for row in [] if args.json else rows:
            flags = " ".join(part for part in (
                row["kpi"] or say("cli.out.intervention_all_kpis"),
                say("cli.out.intervention_rebase") if row["rebase"] else "",
                say("cli.out.intervention_action", id=row["action_id"])
                if row["action_id"] is not None else "") if part)
            print(f"{row['intervention_id']:>4}  {row['date']}  {row['unit_code']:<12} "
                  f"{row['title']}  ({flags}; {row['recorded_by']})")
    return EXIT_OK


EFFECT_KEYS = ("intervention_id", "unit_code", "kpi", "period", "date", "before_n", "after_n",
               "verdict", "centre", "ucl", "lcl", "after_signals")


def cmd_effect(args: argparse.Namespace) -> int:
    from kpi import effect  # on use: --help stays fast

    rows = effect.effect(open_store(args), args.id, period=args.period, kpi=args.kpi)
    if args.format == "json":
        print(json.dumps([{key: row[key] for key in EFFECT_KEYS} for row in rows], indent=1,
                         ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print(say("cli.out.effect_none"))

    def show(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    for row in rows:
        print(say("cli.out.effect_line", kpi=row["kpi"], verdict=row["verdict"],
                  before=row["before_n"], after=row["after_n"], lcl=show(row["lcl"]),
                  ucl=show(row["ucl"]), centre=show(row["centre"]),
                  signals=", ".join(row["after_signals"])))
    return EXIT_OK


def register(add: Add) -> None:
    parser = add("interventions", cmd_interventions, say("cli.help.interventions"))
    sub = parser.add_subparsers(dest="interventions_command", required=True,
                                parser_class=type(parser))
    adding = sub.add_parser("add", help=say("cli.help.interventions_add"))
    adding.add_argument("--unit", required=True)
    adding.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    adding.add_argument("--title", required=True)
    adding.add_argument("--kpi", default=None, help=say("cli.help.interventions_kpi"))
    adding.add_argument("--rebase", action="store_true",
                        help=say("cli.help.interventions_rebase"))
    adding.add_argument("--action", type=int, default=None, metavar="ID",
                        help=say("cli.help.interventions_action"))
    listing = sub.add_parser("list", help=say("cli.help.interventions_list"))
    listing.add_argument("--unit", default=None)
    listing.add_argument("--json", action="store_true", help=say("cli.help.json"))
    removing = sub.add_parser("remove", help=say("cli.help.interventions_remove"))
    removing.add_argument("id", type=int)

    judged = add("effect", cmd_effect, say("cli.help.effect"))
    judged.add_argument("id", type=int)
    judged.add_argument("--period", choices=PERIODS, default="week")
    judged.add_argument("--kpi", default=None, choices=list(KPIS))
    judged.add_argument("--format", choices=["json"], default=None)
