"""`mappings list | show NAME | export NAME FILE | import FILE [--name NAME]`: the import
mappings (contract §1.1) saved in the store."""

from __future__ import annotations

import argparse
from pathlib import Path

from kpi.audit import cli_user
from kpi.commands.common import EXIT_OK, Add, open_store, say
from kpi.errors import InputRejected


def cmd_mappings(args: argparse.Namespace) -> int:
    from kpi import import_mapping, saved_mappings  # on use: --help stays fast

    store = open_store(args)
    if args.action == "list":
        saved = saved_mappings.list_mappings(store)
        if saved.empty:
            print(say("importmap.none_saved"))
        for row in saved.to_dict("records"):
            print(f"{row['name']}\t{row['kind']}\t{row['saved_by'] or ''}\t{row['saved_at']}")
        return EXIT_OK
    if args.action in ("show", "export"):
        if not args.name:
            raise InputRejected("importmap.name_needed")
        text = saved_mappings.load_mapping(store, args.name).to_toml()
        if args.action == "show":
            print(text, end="")
            return EXIT_OK
        if not args.file:
            raise InputRejected("importmap.file_needed")
        Path(args.file).write_text(text, encoding="utf-8")
        print(say("importmap.exported", name=args.name, file=args.file))
        return EXIT_OK
    # import FILE [--name NAME]: the file is the first positional argument
    path = args.name
    if not path:
        raise InputRejected("importmap.file_needed")
    mapping = import_mapping.load(path)
    name = args.as_name or Path(path).stem
    saved_mappings.save_mapping(store, name, mapping, by=cli_user())
    print(say("importmap.imported", name=name, kind=mapping.kind))
    return EXIT_OK


def register(add: Add) -> None:
    command = add("mappings", cmd_mappings, say("cli.help.mappings"))
    command.add_argument("action", choices=["list", "show", "export", "import"])
    command.add_argument("name", nargs="?", help=say("cli.help.mappings_name"))
    command.add_argument("file", nargs="?", help=say("cli.help.mappings_file"))
    command.add_argument("--name", dest="as_name", default=None,
                         help=say("cli.help.mappings_as_name"))
