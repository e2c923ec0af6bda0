"""What every command of `python -m kpi` shares: the exit statuses, the language of its lines,
the parser whose own words come from the catalogues, and the one way to open the store (schema
and precomputed values brought up to date, with a progress line when that takes a while)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from kpi import config
from kpi.i18n import t

if TYPE_CHECKING:  # imported on use (open_store): `--help` stays fast
    from kpi.store import Store

EXIT_OK, EXIT_ERROR, EXIT_REJECTED = 0, 1, 2

Handler = Callable[[argparse.Namespace], int]
Add = Callable[[str, Handler, str], argparse.ArgumentParser]
"""`add(name, handler, help_text)`: what `register(add)` of every command module receives."""


def cli_language() -> str:
    """The language of the CLI's own lines (`KPI_LANG`, as the dashboard's default)."""
    return config.default_language()


def say(key: str, **params: Any) -> str:
    """The catalogue message `key` in the CLI's language."""
    return t(key, cli_language(), **params)


def open_store(args: argparse.Namespace, *, create: bool = False) -> Store:
    """The store named by `--db` (or `KPI_DB`). Opening it creates the tables a newer
    kpi/schema.sql added; a store made before the precomputed KPI values, or before a change
    to the KPI definitions, gets them (again) once, and a line on stderr says why the command
    waits."""
    # Here, not at the top: `--help` and usage errors answer without loading DuckDB and pandas.
    from kpi.precompute import ensure_ready
    from kpi.store import Store

    store = Store(config.store_location(args.db), create=create,
                  busy_timeout=config.busy_timeout(), data_path=config.data_path())
    ensure_ready(store, on_recompute=lambda: print(
        say("upkeep.recomputing"), file=sys.stderr, flush=True))
    return store


# -- the parser ---------------------------------------------------------------------------------
class CliParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one sentence (in the CLI's language) and exit
    status 1. Sub-commands' parsers are of this class too (`parser_class=type(parser)`)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_ERROR, say("cli.usage_error", prog=self.prog, message=message) + "\n")


# argparse's own words (the "usage:" prefix, its headings, the -h help, its usage errors) come
# from gettext, whose catalogues are .mo files chosen by the process's locale; the CLI's language
# is KPI_LANG and its catalogues are kpi/i18n. These are argparse's message ids (Python 3.11)
# that a person can see, with the catalogue key of each.
ARGPARSE_KEYS = {
    "usage: ": "cli.argparse.usage",
    "positional arguments": "cli.argparse.positionals",
    "options": "cli.argparse.options",
    "show this help message and exit": "cli.argparse.help",
    "argument %(argument_name)s: %(message)s": "cli.argparse.argument",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "cli.argparse.unknown_parser",
    "unrecognized arguments: %s": "cli.argparse.unrecognized",
    "not allowed with argument %s": "cli.argparse.not_allowed_with",
    "ignored explicit argument %r": "cli.argparse.ignored_explicit",
    "the following arguments are required: %s": "cli.argparse.required",
    "one of the arguments %s is required": "cli.argparse.one_required",
    "expected one argument": "cli.argparse.expected_one",
    "expected at most one argument": "cli.argparse.expected_at_most_one",
    "expected at least one argument": "cli.argparse.expected_at_least_one",
    "expected %s argument": "cli.argparse.expected_n_one",
    "expected %s arguments": "cli.argparse.expected_n",
    "ambiguous option: %(option)s could match %(matches)s": "cli.argparse.ambiguous",
    "unexpected option string: %s": "cli.argparse.unexpected_option",
    "invalid %(type)s value: %(value)r": "cli.argparse.invalid_value",
    "invalid choice: %(value)r (choose from %(choices)s)": "cli.argparse.invalid_choice",
}


@contextmanager
def argparse_speaking(lang: str) -> Iterator[None]:
    """argparse's own words in `lang` while the parser is built and parses (and prints its
    help): its two gettext functions, module globals it looks up at each call, are swapped for
    catalogue look-ups and put back after. A message id not in ARGPARSE_KEYS stays as it is."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]

    def translated(message: str) -> str:
        key = ARGPARSE_KEYS.get(message)
        return t(key, lang) if key else message

    def translated_plural(singular: str, plural: str, count: int) -> str:
        return translated(singular if count == 1 else plural)

    argparse._, argparse.ngettext = translated, translated_plural  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def codes(text: str | None) -> list[str]:
    """A comma-separated list argument (`A,B`) as its non-empty items."""
    return [code.strip() for code in (text or "").split(",") if code.strip()]
