"""`python -m kpi`: the headless interface of the contract (section 3).

Exit status: 0 success, 2 rejected input (with the report), 1 any other error. An error is
one sentence on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from kpi import config
from kpi.errors import InputRejected, KinerjaError

EXIT_OK, EXIT_ERROR, EXIT_REJECTED = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one sentence and exit status 1."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_ERROR, f"{self.prog}: {message} (see --help)\n")


def _store(args: argparse.Namespace, *, create: bool = False):
    from kpi.store import Store

    return Store(config.db_path(args.db), create=create, hold=True)


# -- command handlers: each returns an exit status --------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    store = _store(args, create=True)
    print(f"Store ready at {store.path}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    raise NotImplementedError("demo")


def cmd_ingest(args: argparse.Namespace) -> int:
    raise NotImplementedError("ingest")


def cmd_batches(args: argparse.Namespace) -> int:
    raise NotImplementedError("batches")


def cmd_rollback(args: argparse.Namespace) -> int:
    raise NotImplementedError("rollback")


def cmd_kpis(args: argparse.Namespace) -> int:
    raise NotImplementedError("kpis")


def cmd_ikm(args: argparse.Namespace) -> int:
    raise NotImplementedError("ikm")


def cmd_spc(args: argparse.Namespace) -> int:
    raise NotImplementedError("spc")


def cmd_review(args: argparse.Namespace) -> int:
    raise NotImplementedError("review")


# -- parser -----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m kpi", description="Kinerja: service-quality KPIs, headless.")
    parser.add_argument("--db", help="the store file (default: $KPI_DB or data/kpi.duckdb)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str):
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    add("init", cmd_init, "create an empty store (idempotent)")
    add("demo", cmd_demo, "load the bundled demo city (data/sample)")

    ingest = add("ingest", cmd_ingest, "import one CSV or XLSX file, all or nothing")
    ingest.add_argument("kind", choices=["units", "services", "events", "survey", "targets"])
    ingest.add_argument("file")
    ingest.add_argument("--json", action="store_true", help="print the result as JSON")
    ingest.add_argument("--by", default=None, help="who loads it (default: the OS user)")
    ingest.add_argument("--problems-csv", default=None,
                        help="write every rejected row to this CSV file")

    batches = add("batches", cmd_batches, "list what was loaded, by whom, when, from which file")
    batches.add_argument("--json", action="store_true")

    rollback = add("rollback", cmd_rollback, "undo one load, restoring the rows it replaced")
    rollback.add_argument("batch", type=int)
    rollback.add_argument("--by", default=None)

    kpis = add("kpis", cmd_kpis, "KPI values per unit and period, with targets and status")
    kpis.add_argument("--period", required=True,
                      choices=["day", "week", "month", "quarter", "year"])
    kpis.add_argument("--from", dest="date_from", required=True, metavar="D")
    kpis.add_argument("--to", dest="date_to", required=True, metavar="D")
    kpis.add_argument("--unit")
    kpis.add_argument("--kpi")
    kpis.add_argument("--format", choices=["json", "csv"], default=None)

    ikm = add("ikm", cmd_ikm, "the SKM satisfaction index (IKM) per unit")
    ikm.add_argument("--from", dest="date_from", required=True, metavar="D")
    ikm.add_argument("--to", dest="date_to", required=True, metavar="D")
    ikm.add_argument("--unit")
    ikm.add_argument("--format", choices=["json"], default=None)

    spc = add("spc", cmd_spc, "the XmR chart of one unit's KPI")
    spc.add_argument("--unit", required=True)
    spc.add_argument("--kpi", required=True)
    spc.add_argument("--period", required=True,
                     choices=["day", "week", "month", "quarter", "year"])
    spc.add_argument("--from", dest="date_from", metavar="D")
    spc.add_argument("--to", dest="date_to", metavar="D")
    spc.add_argument("--baseline", type=int)
    spc.add_argument("--format", choices=["json"], default=None)

    review = add("review", cmd_review, "write the weekly management review pack")
    review.add_argument("--week", required=True, metavar="YYYY-Www")
    review.add_argument("--out", required=True, metavar="DIR")
    review.add_argument("--lang", choices=["en", "id"], default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except InputRejected as error:
        print(str(error), file=sys.stderr)
        return EXIT_REJECTED
    except KinerjaError as error:
        print(str(error), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("Interrupted; nothing was written.", file=sys.stderr)
        return EXIT_ERROR
    except Exception as error:  # the contract: one sentence, never a traceback
        print(f"Unexpected error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
