"""Commands of `python -m kpi` declared beside their handlers, one module per feature.

Each module in `MODULES` has `register(add)`, where `add(name, handler, help_text)` creates the
sub-command, sets its handler (a function of the parsed arguments returning the exit status)
and returns its parser for the arguments. A nested sub-command takes
`parser.add_subparsers(..., parser_class=type(parser))`, so that its usage errors are one
sentence too.
"""

from __future__ import annotations

from types import ModuleType

from kpi.commands import audit_key, interventions, notify, survey, totals

MODULES: tuple[ModuleType, ...] = (interventions, notify, survey, audit_key, totals)
