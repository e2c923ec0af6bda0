"""`demo`, `ingest KIND FILE`, `batches`, `rollback BATCH`: loading files all or nothing, and
undoing a load (contract §3)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kpi.audit import cli_user
from kpi.commands.common import EXIT_OK, EXIT_REJECTED, Add, cli_language, open_store, say
from kpi.commands.notify import alerts_after_import
from kpi.errors import FileRejected
from kpi.vocabulary import KINDS

if TYPE_CHECKING:  # imported on use: `--help` stays fast
    from kpi.import_mapping import ImportMapping
    from kpi.ingest import IngestResult
    from kpi.store import Store


def cmd_demo(args: argparse.Namespace) -> int:
    from kpi import ingest  # on use: --help stays fast

    lang = cli_language()
    store = open_store(args, create=True)
    results = ingest.load_demo(store)
    print(say("batches.demo_loaded", path=store.path))
    for result in results:
        if not result.ok:
            return _report_rejected(ingest.rejection_report(result, None, lang=lang), result)
        print("  " + ingest.summary(result, lang))
    return EXIT_OK


def _report_rejected(report: list[str], result: IngestResult) -> int:
    """The rejected rows on stdout, the one sentence on stderr: exit status 2."""
    from kpi import ingest  # on use: --help stays fast

    print("\n".join(report))
    print(ingest.rejected_sentence(result, cli_language()), file=sys.stderr)
    return EXIT_REJECTED


def cmd_ingest(args: argparse.Namespace) -> int:
    from kpi import ingest  # on use: --help stays fast

    lang = cli_language()
    store = open_store(args)
    mapping = _mapping_argument(store, args.mapping) if args.mapping else None
    try:
        result = ingest.ingest_file(store, args.kind, args.file, loaded_by=cli_user(),
                                    mapping=mapping, accept_valid=args.accept_valid)
    except FileRejected as error:  # a whole-file problem: its sentence(s) on stderr
        if not args.json:
            raise
        result = ingest.IngestResult(args.kind, Path(args.file).name, "",
                                     problems=error.problems)
    if args.json:
        print(json.dumps(result.to_dict(), indent=1, ensure_ascii=False))
        if result.ok and args.notify:  # issue 25: as below, without a line on stdout
            alerts_after_import(store, quiet=True)
        if not result.ok:
            print(ingest.rejected_sentence(result, lang), file=sys.stderr)
            if args.problems_csv:
                ingest.write_problems(result, args.problems_csv, lang)
        return EXIT_OK if result.ok else EXIT_REJECTED
    if not result.ok:
        return _report_rejected(
            ingest.rejection_report(result, args.problems_csv, lang=lang), result)
    print(ingest.summary(result, lang))
    if args.notify:  # issue 25: the alerts this import made due (never fails the import)
        alerts_after_import(store)
    return EXIT_OK


def _mapping_argument(store: Store, value: str) -> ImportMapping:
    """`--mapping`: a §1.1 TOML file, or the name of a mapping saved in the store."""
    from kpi import import_mapping, saved_mappings  # on use: --help stays fast

    if Path(value).is_file() or value.endswith(".toml"):
        return import_mapping.load(value)
    return saved_mappings.load_mapping(store, value)


def cmd_batches(args: argparse.Namespace) -> int:
    from kpi import ingest  # on use: --help stays fast

    batches = ingest.list_batches(open_store(args))
    if args.json:
        records = batches.astype(object).where(batches.notna(), None).to_dict("records")
        print(json.dumps(records, indent=1, ensure_ascii=False, default=str))
    elif batches.empty:
        print(say("batches.none"))
    else:
        shown = batches.drop(columns=["sha256"])
        print(shown.astype(object).where(shown.notna(), "").to_string(index=False))
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    from kpi import ingest  # on use: --help stays fast

    undone = ingest.rollback(open_store(args), args.batch, by=cli_user())
    print(say("batches.rolled_back", batch=undone["batch_id"], kind=undone["kind"],
              removed=undone["removed"], restored=undone["restored"]))
    return EXIT_OK


def register(add: Add) -> None:
    add("demo", cmd_demo, say("cli.help.demo"))
    ingest = add("ingest", cmd_ingest, say("cli.help.ingest"))
    ingest.add_argument("kind", choices=KINDS)
    ingest.add_argument("file")
    ingest.add_argument("--json", action="store_true", help=say("cli.help.json"))
    ingest.add_argument("--problems-csv", default=None, help=say("cli.help.ingest_problems_csv"))
    ingest.add_argument("--mapping", default=None, metavar="MAPPING.toml",
                        help=say("cli.help.ingest_mapping"))
    ingest.add_argument("--accept-valid", action="store_true",
                        help=say("cli.help.ingest_accept_valid"))
    ingest.add_argument("--notify", action="store_true", help=say("cli.help.ingest_notify"))

    batches = add("batches", cmd_batches, say("cli.help.batches"))
    batches.add_argument("--json", action="store_true", help=say("cli.help.json"))
    rollback = add("rollback", cmd_rollback, say("cli.help.rollback"))
    rollback.add_argument("batch", type=int)
