"""Every engine function says what it reads or writes the store through (issue 21 item 2).

mypy checks an engine function's calls only when its store parameter has a type: an untyped
`store` or `cur` is `Any`, and a Store passed where a write transaction's cursor is needed (or a
reading where a Store must open its own transaction) goes unseen. This test walks kpi/ with
`ast` and fails on any function whose store-like parameter (the first, or any other named so)
lacks one of kpi.store's types.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KPI = Path(__file__).resolve().parents[1] / "kpi"
# The names an engine function gives the store, a cursor or a reader.
STORE_LIKE = frozenset({"store", "cur", "cursor", "reader", "writer", "store_or_cur"})
# kpi.store's types: Reader (reads), Writer (a write transaction's cursor), Store (opens its
# own units of work), Cursor (the one concrete cursor, kept where a function needs its methods).
STORE_TYPES = frozenset({"Reader", "Writer", "Store", "Cursor"})


def store_parameters(source: str) -> list[tuple[int, str, str, str | None]]:
    """(line, function, parameter, annotation or None) of each store-like parameter of the
    functions of `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for parameter in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            if parameter.arg in STORE_LIKE:
                annotation = ast.unparse(parameter.annotation) if parameter.annotation else None
                found.append((node.lineno, node.name, parameter.arg, annotation))
    return found


def untyped(source: str) -> list[str]:
    """`function(parameter: annotation)` of each store-like parameter of `source` that has no
    type of kpi.store."""
    return [f"{line}: {name}({parameter}: {annotation})"
            for line, name, parameter, annotation in sorted(store_parameters(source))
            if annotation not in STORE_TYPES]


def test_the_check_finds_an_untyped_store_and_a_loose_type() -> None:
    source = ("def read(store, week: str) -> None: ...\n"
              "def write(cur: Any) -> None: ...\n"
              "def fine(store: Reader) -> None: ...\n"
              "class A:\n    def method(self, cur: Writer) -> None: ...\n"
              "    def loose(self, cur) -> None: ...\n"
              "def second(args: Namespace, store) -> None: ...\n")
    assert untyped(source) == ["1: read(store: None)", "2: write(cur: Any)",
                               "6: loose(cur: None)", "7: second(store: None)"]


@pytest.mark.parametrize("path", sorted(KPI.rglob("*.py")), ids=lambda path: str(path.relative_to(KPI)))
def test_engine_functions_type_their_store(path: Path) -> None:
    assert untyped(path.read_text(encoding="utf-8")) == [], (
        f"{path.relative_to(KPI.parent)}: type the store parameter with kpi.store's Reader (it "
        "reads), Writer (it writes in its caller's transaction) or Store (it opens its own)")
