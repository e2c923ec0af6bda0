"""The catalogues cover the whole app: same keys and placeholders in both languages, every key
the code asks for exists, and no page shows a literal (untranslated) string."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from kpi.i18n import LANGUAGES, catalog, fmt_date, fmt_number, fmt_percent, t

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("pages", "ui", "kpi")
PAGES_DIR = ROOT / "pages"
# Keyword arguments of st.* calls that people read.
VISIBLE_KEYWORDS = {"label", "help", "title", "placeholder", "body", "caption", "text",
                    "delta_description", "alt"}
# Methods that put text on the screen, whatever object they are called on (st, a column, a
# container, the sidebar).
DISPLAY_METHODS = {
    "title", "header", "subheader", "markdown", "write", "caption", "text", "info", "warning",
    "error", "success", "toast", "button", "download_button", "link_button", "page_link",
    "metric", "selectbox", "multiselect", "radio", "checkbox", "toggle", "text_input",
    "text_area", "number_input", "date_input", "time_input", "file_uploader", "slider",
    "select_slider", "segmented_control", "pills", "expander", "popover", "tabs", "badge",
    "form_submit_button", "dialog", "status", "spinner", "chat_input", "feedback",
}


def code_files() -> list[Path]:
    files = [ROOT / "dashboard.py"]
    for folder in CODE_DIRS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# -- the catalogues -------------------------------------------------------------------------
def test_both_languages_define_the_same_keys():
    english, indonesian = set(catalog("en")), set(catalog("id"))
    assert english - indonesian == set(), "missing in Indonesian"
    assert indonesian - english == set(), "missing in English"


def test_both_languages_use_the_same_placeholders():
    english, indonesian = catalog("en"), catalog("id")
    differing = {key: (placeholders(english[key]), placeholders(indonesian[key]))
                 for key in english
                 if placeholders(english[key]) != placeholders(indonesian.get(key, ""))}
    assert differing == {}


def test_a_missing_key_raises_instead_of_showing_the_key():
    with pytest.raises(KeyError):
        t("no_such_area.no_such_key", "en")


def test_numbers_and_dates_follow_the_language():
    assert fmt_number(1234.5, "id") == "1.234,5"
    assert fmt_number(1234.5, "en") == "1,234.5"
    assert fmt_percent(90.654, "id") == "90,7 %"
    assert fmt_date("2026-11-16", "id", "d MMM y") == "16 Nov 2026"
    assert fmt_date("2026-08-17", "id", "MMMM y") == "Agustus 2026"


# -- keys used in code -----------------------------------------------------------------------
ERROR_CLASS = re.compile(r"(Error|Rejected|Argument|Locked|Busy|Missing)$")


def _translation_calls(tree: ast.AST):
    """Calls of t(key, …), <anything>.t(key, …) and the CLI's say(key, …), and the raising of an
    app error (`InputRejected(key, …)`: its message comes from the catalogue), with their first
    argument."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            app_error = (ERROR_CLASS.search(name) and not name.startswith("_")
                         and name not in ("ValueError", "KeyError", "TypeError"))
            if name in ("t", "say") or app_error:
                yield node.args[0]


def _key_pattern(argument: ast.JoinedStr) -> re.Pattern[str]:
    """An f-string key (`f"kpi.{kpi}.name"`) as a regex: each {…} is one or more characters."""
    parts = []
    for value in argument.values:
        if isinstance(value, ast.Constant):
            parts.append(re.escape(str(value.value)))
        else:
            parts.append(r"[^.]+(?:\.[^.]+)*?")
    return re.compile("".join(parts) + "$")


def used_keys() -> tuple[list[tuple[str, str]], list[tuple[str, re.Pattern[str]]]]:
    literal, patterns = [], []
    for path in code_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = str(path.relative_to(ROOT))
        for argument in _translation_calls(tree):
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                literal.append((where, argument.value))
            elif isinstance(argument, ast.JoinedStr):
                patterns.append((where, _key_pattern(argument)))
    return literal, patterns


def test_the_scan_finds_the_keys_the_pages_use():
    literal, patterns = used_keys()
    keys = {key for _, key in literal}
    assert {"overview.title_none", "unitpage.over_time", "filters.period_week",
            "cli.out.kpis_none"} <= keys
    assert any(pattern.match("kpi.ikm.name") for _, pattern in patterns)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_literal_key_in_the_code_exists(lang):
    messages = catalog(lang)
    literal, _ = used_keys()
    assert [(where, key) for where, key in literal if key not in messages] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_composed_key_matches_some_message(lang):
    messages = list(catalog(lang))
    _, patterns = used_keys()
    unmatched = [(where, pattern.pattern) for where, pattern in patterns
                 if not any(pattern.match(key) for key in messages)]
    assert unmatched == []


# -- no literal user-visible text on the pages ------------------------------------------------
STATE_NAMESPACES = {"session_state", "query_params", "secrets", "context", "user", "cache_data",
                    "cache_resource"}
ICON = re.compile(r"^:material/[a-z0-9_]+:$")
# Icons and colour directives inside markdown (`:material/cancel:`, `:red[`, `:orange-badge[`).
MARKDOWN_DIRECTIVE = re.compile(r":material/[a-z0-9_]+:|:[a-z]+(?:-badge|-background)?\[")
# st.* methods whose positional arguments are keys or data, not text (st.form("minutes")).
KEYED_METHODS = {"form", "columns", "container", "empty", "get", "setdefault", "pop"}


def allowed_literal(text: str, keys: set[str]) -> bool:
    """Text that is not a sentence for people: an i18n key, an icon or emoji, a page path, a
    format spec, markdown punctuation, a number."""
    stripped = MARKDOWN_DIRECTIVE.sub("", text).strip()
    if not any(character.isalpha() for character in stripped):
        return True  # empty, punctuation, markdown syntax, digits, symbols
    if stripped in keys or ICON.match(stripped) or stripped.endswith(".py"):
        return True
    if stripped.startswith("%") or "{:" in stripped:
        return True  # a format specification
    return len(stripped) == 1 and not stripped.isascii()  # a single emoji or symbol


def _literal_strings(node: ast.AST):
    """String constants (and literal parts of f-strings) inside an argument expression, not
    descending into calls (their arguments are someone else's business, e.g. ctx.t's key)."""
    if isinstance(node, ast.Call | ast.FormattedValue):
        return  # a call's arguments are its own business; {…} in an f-string is a value
    if isinstance(node, ast.Subscript):
        yield from _literal_strings(node.value)  # row["name"]: the key is not shown
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
        return
    for child in ast.iter_child_nodes(node):
        yield from _literal_strings(child)


def _is_display_call(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    root, chain = func, []
    while isinstance(root, ast.Attribute):
        chain.append(root.attr)
        root = root.value
    if STATE_NAMESPACES & set(chain):
        return False  # st.session_state.get("key"), st.query_params.get("unit"): not shown
    if isinstance(root, ast.Call):  # st.columns(2)[0].metric(...) and the like
        root = root.func
        while isinstance(root, ast.Attribute):
            root = root.value
    if func.attr in KEYED_METHODS:
        return False
    from_streamlit = isinstance(root, ast.Name) and root.id == "st"
    return from_streamlit or func.attr in DISPLAY_METHODS


def visible_literals(source: str) -> list[tuple[int, str]]:
    keys = set(catalog("en"))
    found = []
    for call in ast.walk(ast.parse(source)):
        if not isinstance(call, ast.Call) or not _is_display_call(call):
            continue
        arguments = list(call.args) + [keyword.value for keyword in call.keywords
                                       if keyword.arg in VISIBLE_KEYWORDS]
        for argument in arguments:
            for text in _literal_strings(argument):
                if not allowed_literal(text, keys):
                    found.append((call.lineno, text))
    return found


def test_the_literal_scan_catches_untranslated_text():
    source = '''
import streamlit as st
st.title("Welcome")
left, right = st.columns(2)
left.button("Load the demo", key="demo")
st.selectbox(label=f"Period {x}", options=[1])
st.metric(ctx.t("overview.title_none"), "—", help="Completed services")
st.page_link("pages/unit.py", label=ctx.t("nav.unit"), icon=":material/apartment:")
st.markdown(f"**{name}**")
st.markdown(f":material/task_alt: **{row['id']}** · {row['title']}")
with st.form("minutes"):
    st.caption(summary["intro"])
st.warning(":red[:material/cancel: Off target]")
'''
    assert [text for _, text in visible_literals(source)] == [
        "Welcome", "Load the demo", "Period ", "Completed services", ":red[:material/cancel: Off target]"]


@pytest.mark.parametrize("path", sorted(PAGES_DIR.glob("*.py")), ids=lambda path: path.name)
def test_pages_show_no_literal_text(path):
    assert visible_literals(path.read_text(encoding="utf-8")) == []
