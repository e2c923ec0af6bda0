"""`interventions add|list|remove` and `effect ID` (issue 23; contract §3)."""

from __future__ import annotations

import argparse
import json

from kpi.audit import cli_user
from kpi.commands.common import open_store
from kpi.vocabulary import KPIS, PERIODS


def _store(args: argparse.Namespace):
    return open_store(args)  # the CLI's one way to open the store, as every command does


def cmd_interventions(args: argparse.Namespace) -> int:
    from kpi import interventions  # on use: --help stays fast

    store = _store(args)
    if args.interventions_command == "add":
        new_id = interventions.add(store, unit_code=args.unit, date=args.date, title=args.title,
                                   kpi=args.kpi, rebase=args.rebase, action_id=args.action,
                                   by=cli_user())
        print(new_id)
    elif args.interventions_command == "remove":
        interventions.remove(store, args.id, by=cli_user())
        print(f"Removed intervention {args.id}")
    else:
        rows = interventions.list_interventions(store, unit=args.unit)
        if args.json:
            print(json.dumps(rows, indent=1, ensure_ascii=False))
        elif not rows:
            print("No interventions recorded.")
        for row in [] if args.json else rows:
            flags = " ".join(part for part in (
                row["kpi"] or "all KPIs", "rebase" if row["rebase"] else "",
                f"action {row['action_id']}" if row["action_id"] is not None else "") if part)
            print(f"{row['intervention_id']:>4}  {row['date']}  {row['unit_code']:<12} "
                  f"{row['title']}  ({flags}; {row['recorded_by']})")
    return 0


EFFECT_KEYS = ("intervention_id", "unit_code", "kpi", "period", "date", "before_n", "after_n",
               "verdict", "centre", "ucl", "lcl", "after_signals")


def cmd_effect(args: argparse.Namespace) -> int:
    from kpi import effect  # on use: --help stays fast

    rows = effect.effect(_store(args), args.id, period=args.period, kpi=args.kpi)
    if args.format == "json":
        print(json.dumps([{key: row[key] for key in EFFECT_KEYS} for row in rows], indent=1,
                         ensure_ascii=False))
        return 0
    if not rows:
        print("No KPI values to judge.")

    def show(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    for row in rows:
        print(f"{row['kpi']:<22} {row['verdict']:<12} before {row['before_n']:>3} after "
              f"{row['after_n']:>3}  limits {show(row['lcl'])} to {show(row['ucl'])} (centre "
              f"{show(row['centre'])})  {', '.join(row['after_signals'])}")
    return 0


def register(add) -> None:
    parser = add("interventions", cmd_interventions,
                 "the dated changes at a unit shown on its charts: add | list | remove")
    sub = parser.add_subparsers(dest="interventions_command", required=True,
                                parser_class=type(parser))
    adding = sub.add_parser("add", help="record a change; prints the new id")
    adding.add_argument("--unit", required=True)
    adding.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    adding.add_argument("--title", required=True)
    adding.add_argument("--kpi", default=None, help="the KPI it is meant to move (default: all)")
    adding.add_argument("--rebase", action="store_true",
                        help="start new SPC limits at this date (after a sustained shift)")
    adding.add_argument("--action", type=int, default=None, metavar="ID",
                        help="the review action it carries out")
    listing = sub.add_parser("list", help="list the interventions")
    listing.add_argument("--unit", default=None)
    listing.add_argument("--json", action="store_true")
    removing = sub.add_parser("remove", help="delete an intervention")
    removing.add_argument("id", type=int)

    judged = add("effect", cmd_effect, "did it work? the verdict on an intervention's effect, "
                 "one row per KPI")
    judged.add_argument("id", type=int)
    judged.add_argument("--period", choices=PERIODS, default="week")
    judged.add_argument("--kpi", default=None, choices=list(KPIS))
    judged.add_argument("--format", choices=["json"], default=None)
