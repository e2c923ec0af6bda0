"""Every page's pickers in the reader's language (issue 22), checked on the source so that a new
one cannot forget: a multiselect passes its own placeholder (Streamlit's is "Choose options"
in English), and a date picker or date column the app's DD/MM/YYYY (ui.inputs.DATE_FORMAT)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py")])


def calls(name: str) -> list[tuple[str, ast.Call]]:
    """(file:line, call) of every call of a function or method named `name`."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and (
                    (isinstance(node.func, ast.Attribute) and node.func.attr == name)
                    or (isinstance(node.func, ast.Name) and node.func.id == name)):
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return found


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((item.value for item in call.keywords if item.arg == name), None)


def test_every_multiselect_has_a_placeholder_of_its_own():
    found = calls("multiselect")
    assert len(found) >= 4
    assert [where for where, call in found if keyword(call, "placeholder") is None] == []


@pytest.mark.parametrize("name", ["date_input", "DateColumn"])
def test_every_date_picker_uses_the_apps_date_format(name):
    found = calls(name)
    assert found
    wrong = [where for where, call in found
             if not (isinstance(keyword(call, "format"), ast.Name)
                     and keyword(call, "format").id == "DATE_FORMAT")]
    assert wrong == []
