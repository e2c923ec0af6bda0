"""Commands of `python -m kpi` declared beside their handlers, one module per feature.

Each module in `MODULES` has `register(add)`, where `add(name, handler, help_text)` creates the
sub-command, sets its handler (a function of the parsed arguments returning the exit status)
and returns its parser for the arguments. A nested sub-command takes
`parser.add_subparsers(..., parser_class=type(parser))`, so that its usage errors are one
sentence too. Every text a person reads (help, lines, errors) comes from the catalogues
(`say(key)` in common.py, the CLI's language); tests/test_cli_commands.py checks it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType

from kpi.commands import (
    audit,
    figures,
    housekeeping,
    ingest,
    interventions,
    mappings,
    notify,
    review,
    survey,
    totals,
    users,
)
from kpi.commands.common import CliParser, Handler, say

# In the order `--help` lists their commands.
MODULES: tuple[ModuleType, ...] = (
    housekeeping, ingest, mappings, figures, users, audit, review, interventions, notify, survey,
    totals)


def _program() -> str:
    """How the person called the CLI, for its usage lines: the `kinerja` script, or (the
    contract's name, and pytest's) `python -m kpi`."""
    return "kinerja" if Path(sys.argv[0]).name == "kinerja" else "python -m kpi"


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command, its texts in the CLI's language (build and use it inside
    `common.argparse_speaking`, so that argparse's own words are in that language too)."""
    parser = CliParser(prog=_program(), description=say("cli.description"))
    parser.add_argument("--db", help=say("cli.help.db"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=CliParser)

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    for module in MODULES:
        module.register(add)
    return parser
