"""`survey link|revoke|posters|flush` and `publish` (issue 24; contract §3): the units' public
SKM form addresses, their QR posters, and which units the public results page shows."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kpi.audit import cli_user
from kpi.commands.common import open_store
from kpi.i18n import t


def _store(args: argparse.Namespace):
    return open_store(args)  # the CLI's one way to open the store, as every command does


def _codes(text: str) -> list[str]:
    return [code.strip() for code in text.split(",") if code.strip()]


def cmd_survey(args: argparse.Namespace) -> int:
    from kpi import posters, survey_links  # on use: --help stays fast

    store = _store(args)
    if args.survey_command == "link":
        for link in survey_links.links(store, [args.unit], who=cli_user()):
            print(link.url)
    elif args.survey_command == "revoke":
        link = survey_links.revoke(store, args.unit, who=cli_user())
        print(t("survey.revoked", "en", unit=link.unit_code, url=link.url))
    elif args.survey_command == "posters":
        codes = _codes(args.unit) if args.unit else [
            str(code) for (code,) in store.query_rows("SELECT unit_code FROM units ORDER BY 1")]
        sizes = [posters.check_size(args.size)] if args.size else list(posters.SIZES)
        links = survey_links.links(store, codes, who=cli_user()) if codes else []
        if not links:
            print(t("survey.no_units", "en"))
            return 0
        written = posters.write_posters(links, Path(args.out), sizes)
        print(t("survey.posters_written", "en", count=len(written), path=args.out))
    else:  # flush: what the servers do every few seconds, for an operator or a schedule
        from kpi.survey_queue import Intake  # on use: --help stays fast

        intake = Intake(store)
        flushed = intake.flush()
        print(t("survey.flushed", "en", imported=flushed.imported, waiting=intake.waiting()))
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from kpi import survey_links  # on use: --help stays fast

    store = _store(args)
    if args.list or not args.units:
        units = survey_links.published(store)
        if args.json:
            print(json.dumps([{"unit_code": code, "name": name} for code, name in units],
                             indent=1, ensure_ascii=False))
        elif not units:
            print(t("survey.published_none", "en"))
        else:
            for code, name in units:
                print(f"{code:<14} {name}")
        return 0
    changed = survey_links.set_published(store, _codes(args.units), not args.off,
                                         who=cli_user())
    key = "survey.published_unchanged" if not changed else (
        "survey.published_off" if args.off else "survey.published_on")
    print(t(key, "en", units=", ".join(changed)))
    return 0


def register(add) -> None:
    parser = add("survey", cmd_survey,
                 "the units' public SKM forms: link | revoke | posters | flush")
    sub = parser.add_subparsers(dest="survey_command", required=True, parser_class=type(parser))
    link = sub.add_parser("link", help="the unit's form address (made on first use)")
    link.add_argument("unit")
    revoke = sub.add_parser("revoke", help="give the unit a new form address; the old one stops")
    revoke.add_argument("unit")
    printing = sub.add_parser("posters", help="printable QR posters (PDF), one per unit and "
                              "one with every unit")
    printing.add_argument("--out", required=True, metavar="DIR")
    printing.add_argument("--unit", default=None, metavar="U[,U…]")
    printing.add_argument("--size", default=None, metavar="A4|A5",
                          help="paper size (default: both)")
    sub.add_parser("flush", help="import the accepted answers waiting in the intake now")

    publish = add("publish", cmd_publish,
                  "which units the public results page /publik shows")
    publish.add_argument("units", nargs="?", default=None, metavar="UNIT[,UNIT…]")
    publish.add_argument("--off", action="store_true", help="stop publishing these units")
    publish.add_argument("--list", action="store_true", help="list the published units")
    publish.add_argument("--json", action="store_true")
