"""`survey link|revoke|posters|flush` and `publish` (issue 24; contract §3): the units' public
SKM form addresses, their QR posters, and which units the public results page shows."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kpi.audit import cli_user
from kpi.commands.common import EXIT_OK, Add, codes, open_store, say


def cmd_survey(args: argparse.Namespace) -> int:
    from kpi import posters, survey_links  # on use: --help stays fast

    store = open_store(args)
    if args.survey_command == "link":
        for link in survey_links.links(store, [args.unit], who=cli_user()):
            print(link.url)
    elif args.survey_command == "revoke":
        link = survey_links.revoke(store, args.unit, who=cli_user())
        print(say("survey.revoked", unit=link.unit_code, url=link.url))
    elif args.survey_command == "posters":
        units = codes(args.unit) if args.unit else [
            str(code) for (code,) in store.query_rows("SELECT unit_code FROM units ORDER BY 1")]
        sizes = [posters.check_size(args.size)] if args.size else list(posters.SIZES)
        links = survey_links.links(store, units, who=cli_user()) if units else []
        if not links:
            print(say("survey.no_units"))
            return EXIT_OK
        written = posters.write_posters(links, Path(args.out), sizes)
        print(say("survey.posters_written", count=len(written), path=args.out))
    else:  # flush: what the servers do every few seconds, for an operator or a schedule
        from kpi.survey_queue import Intake  # on use: --help stays fast

        intake = Intake(store)
        flushed = intake.flush()
        print(say("survey.flushed", imported=flushed.imported, waiting=intake.waiting()))
    return EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    from kpi import survey_links  # on use: --help stays fast

    store = open_store(args)
    if args.list or not args.units:
        units = survey_links.published(store)
        if args.json:
            print(json.dumps([{"unit_code": code, "name": name} for code, name in units],
                             indent=1, ensure_ascii=False))
        elif not units:
            print(say("survey.published_none"))
        else:
            for code, name in units:
                print(f"{code:<14} {name}")
        return EXIT_OK
    changed = survey_links.set_published(store, codes(args.units), not args.off,
                                         who=cli_user())
    key = "survey.published_unchanged" if not changed else (
        "survey.published_off" if args.off else "survey.published_on")
    print(say(key, units=", ".join(changed)))
    return EXIT_OK


def register(add: Add) -> None:
    parser = add("survey", cmd_survey, say("cli.help.survey"))
    sub = parser.add_subparsers(dest="survey_command", required=True, parser_class=type(parser))
    link = sub.add_parser("link", help=say("cli.help.survey_link"))
    link.add_argument("unit")
    revoke = sub.add_parser("revoke", help=say("cli.help.survey_revoke"))
    revoke.add_argument("unit")
    printing = sub.add_parser("posters", help=say("cli.help.survey_posters"))
    printing.add_argument("--out", required=True, metavar="DIR")
    printing.add_argument("--unit", default=None, metavar="U[,U…]")
    printing.add_argument("--size", default=None, metavar="A4|A5",
                          help=say("cli.help.survey_size"))
    sub.add_parser("flush", help=say("cli.help.survey_flush"))

    publish = add("publish", cmd_publish, say("cli.help.publish"))
    publish.add_argument("units", nargs="?", default=None, metavar="UNIT[,UNIT…]")
    publish.add_argument("--off", action="store_true", help=say("cli.help.publish_off"))
    publish.add_argument("--list", action="store_true", help=say("cli.help.publish_list"))
    publish.add_argument("--json", action="store_true", help=say("cli.help.json"))
