"""`python -m kpi` (and the `kinerja` script): the headless interface of the contract (section 3).

The commands are declared beside their handlers in kpi/commands/. This entry parses, calls the
handler and maps what it raises to the exit status: 0 success, 2 rejected input (with the
report), 1 any other error. An error is one sentence on stderr in the CLI's language
(`KPI_LANG`), never a traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from kpi.commands import build_parser
from kpi.commands.common import EXIT_ERROR, EXIT_REJECTED, argparse_speaking, cli_language, say
from kpi.errors import InputRejected, KinerjaError, StoreUnreachable


def main(argv: Sequence[str] | None = None) -> int:
    lang = cli_language()
    # The store's log line for the administrator would reach stderr through logging's last
    # resort beside the error's own sentence; the CLI's sentence names the reason itself.
    logging.getLogger("kinerja.store").addHandler(logging.NullHandler())
    with argparse_speaking(lang):
        args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except StoreUnreachable as error:
        print(say("cli.store_unreachable", **error.params), file=sys.stderr)
        return EXIT_ERROR
    except InputRejected as error:
        print(error.localized(lang), file=sys.stderr)
        return EXIT_REJECTED
    except KinerjaError as error:
        print(error.localized(lang), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(say("cli.interrupted"), file=sys.stderr)
        return EXIT_ERROR
    except Exception as error:  # the contract: one sentence, never a traceback
        print(say("cli.unexpected", kind=type(error).__name__, error=error), file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
