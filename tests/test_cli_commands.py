"""Issue 21 item 6: every command is declared beside its handler in kpi/commands/ (a module per
feature that registers itself), and everything the CLI prints (help, lines, errors, argparse's
own words) comes from the catalogues in the CLI's language (KPI_LANG)."""

from __future__ import annotations

import argparse
import ast
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from kpi import audit, commands
from kpi.__main__ import main
from kpi.commands.common import ARGPARSE_KEYS, argparse_speaking
from kpi.i18n import LANGUAGES, catalog

ROOT = Path(__file__).resolve().parent.parent
COMMANDS_DIR = ROOT / "kpi" / "commands"
CLI_FILES = [ROOT / "kpi" / "__main__.py", *sorted(COMMANDS_DIR.glob("*.py"))]


def parser_in(lang: str, monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    monkeypatch.setenv("KPI_LANG", lang)
    with argparse_speaking(lang):
        return commands.build_parser()


def sub_parsers(parser: argparse.ArgumentParser,
                path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (command path, parser), the top one first. argparse has no public list of a
    parser's arguments: `_actions` it is."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from sub_parsers(sub, (*path, name))


def help_texts(parser: argparse.ArgumentParser) -> list[str]:
    """The description and every argument's and sub-command's help of one parser."""
    texts = [parser.description] if parser.description else []
    for action in parser._actions:
        actions = [action]
        if isinstance(action, argparse._SubParsersAction):
            actions = list(action._get_subactions())
        texts += [a.help for a in actions if a.help and a.help != argparse.SUPPRESS]
    return texts


def english_fragments() -> set[str]:
    """The fixed parts (placeholders cut out) of every English message whose Indonesian says
    it otherwise, of two words and 8 characters or more (single words are often codes the
    commands take, such as the role `reviewer`): none may appear in Indonesian output."""
    english, indonesian = catalog("en"), catalog("id")
    fragments = set()
    for key, text in english.items():
        for part in re.split(r"\{[^}]*\}|%\([^)]*\)[a-z]|%[a-z]", text):
            part = part.strip(" :;,.()")
            if len(part) >= 8 and " " in part and part not in indonesian[key]:
                fragments.add(part)
    return fragments


def leaked_english(output: str) -> list[str]:
    return sorted(fragment for fragment in english_fragments() if fragment in output)


# -- commands declared beside their handlers ------------------------------------------------------
def test_every_command_module_registers_itself(monkeypatch):
    modules = {path.stem for path in COMMANDS_DIR.glob("*.py")} - {"__init__", "common"}
    assert {module.__name__.rsplit(".", 1)[1] for module in commands.MODULES} == modules
    monkeypatch.setenv("KPI_LANG", "en")
    parser = commands.build_parser()
    declared: dict[str, list[str]] = {}
    for module in commands.MODULES:
        recorder = argparse.ArgumentParser().add_subparsers()
        module.register(lambda name, handler, help_text, recorder=recorder:
                        recorder.add_parser(name, help=help_text))
        declared[module.__name__] = list(recorder.choices)
        assert declared[module.__name__], f"{module.__name__} registers no command"
    every = [name for names in declared.values() for name in names]
    assert len(every) == len(set(every)), "a command declared twice"
    top = dict(sub_parsers(parser))
    assert sorted(path[0] for path in top if len(path) == 1) == sorted(every)
    for path, command in top.items():
        if len(path) == 1:
            assert callable(command.get_default("handler")), path


def test_the_entry_declares_no_command():
    tree = ast.parse((ROOT / "kpi" / "__main__.py").read_text(encoding="utf-8"))
    calls = {node.func.attr for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not calls & {"add_argument", "add_parser", "add_subparsers", "set_defaults"}
    assert len((ROOT / "kpi" / "__main__.py").read_text(encoding="utf-8").splitlines()) < 60


# -- every word from the catalogues ---------------------------------------------------------------
def printed_literals(node: ast.AST) -> Iterator[str]:
    """The literal text of an expression that is printed as it stands: string constants, the
    fixed parts of f-strings, both sides of `+`, both branches of `a if c else b`, and the
    separator of `sep.join(…)`. What a call returns (`say(key)`, `json.dumps`) is not literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        for value in node.values:
            yield from printed_literals(value)
    elif isinstance(node, ast.BinOp):
        yield from printed_literals(node.left)
        yield from printed_literals(node.right)
    elif isinstance(node, ast.IfExp):
        yield from printed_literals(node.body)
        yield from printed_literals(node.orelse)
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
          and node.func.attr == "join"):
        yield from printed_literals(node.func.value)


WORDS = re.compile(r"[A-Za-z]{2,}")
DECLARING = {"add", "add_parser", "add_argument", "add_subparsers", "CliParser"}


def literal_text_in(files: list[Path]) -> list[tuple[str, int, str]]:
    """(file, line, text) of every literal sentence printed or declared as help in `files`."""
    found = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else (
                node.func.attr if isinstance(node.func, ast.Attribute) else "")
            shown: list[ast.AST] = []
            if name in ("print", "write", "error", "SystemExit"):  # print, sys.stderr.write, …
                shown = list(node.args)
            elif name == "exit":  # parser.exit(status, message), sys.exit(message)
                shown = list(node.args[-1:])
            elif name in DECLARING:
                shown = [kw.value for kw in node.keywords if kw.arg in ("help", "description")]
                if name == "add" and len(node.args) >= 3:
                    shown.append(node.args[2])
            for expression in shown:
                for text in printed_literals(expression):
                    if WORDS.search(text):
                        found.append((path.name, node.lineno, text))
    return found


def test_the_scan_finds_a_literal_sentence(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('print(f"Removed {x}")\nprint("a" if y else "  " + say("cli.out.k"))\n'
                      'add("xy", h, "help me")\np.add_argument("--all", help="an option")\n'
                      'print(say("cli.out.kpis_none"), file=sys.stderr)\nprint(", ".join(z))\n'
                      'print(f"  {row[\'date\']}  {value:12.3f}")\nprint("Total: " + str(n))\n'
                      'sys.stderr.write("oops")\nself.exit(1, "bad usage")\nsys.exit(2)\n',
                      encoding="utf-8")
    assert [text for _, _, text in literal_text_in([sample])] == [
        "Removed ", "help me", "an option", "Total: ", "oops", "bad usage"]


def test_no_literal_sentence_in_the_cli_code():
    assert literal_text_in(CLI_FILES) == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_help_text_comes_from_the_catalogue(lang, monkeypatch):
    messages = set(catalog(lang).values())
    parser = parser_in(lang, monkeypatch)
    not_from_catalogue = [(path, text) for path, command in sub_parsers(parser)
                          for text in help_texts(command) if text not in messages]
    assert not_from_catalogue == []


def test_the_indonesian_help_says_everything_otherwise(monkeypatch):
    english = dict(sub_parsers(parser_in("en", monkeypatch)))
    indonesian = dict(sub_parsers(parser_in("id", monkeypatch)))
    assert english.keys() == indonesian.keys()
    assert len(english) > 30  # every command and sub-command
    for path, command in indonesian.items():
        pairs = zip(help_texts(english[path]), help_texts(command), strict=True)
        assert [pair for pair in pairs if pair[0] == pair[1]] == [], path


@pytest.mark.parametrize("path", [(), ("kpis",), ("users", "add"), ("notify", "digest"),
                                  ("interventions", "add"), ("totals",), ("ingest",)])
def test_help_in_indonesian_has_no_english_word(path, monkeypatch, capsys):
    monkeypatch.setenv("KPI_LANG", "id")
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith("pemakaian: python -m kpi")
    assert "opsi:" in shown and "tampilkan bantuan ini lalu keluar" in shown
    assert leaked_english(shown) == []
    assert not re.search(r"\b(usage|options|positional arguments|show this help)\b", shown)


def test_every_argparse_word_has_its_key_and_keeps_its_placeholders():
    english, indonesian = catalog("en"), catalog("id")
    for message, key in ARGPARSE_KEYS.items():
        assert english[key] == message
        assert sorted(re.findall(r"%(?:\(\w+\))?[a-z]", indonesian[key])) == sorted(
            re.findall(r"%(?:\(\w+\))?[a-z]", message)), key


def test_argparse_still_asks_for_these_words():
    """A newer Python whose argparse words a message otherwise would print it in English:
    each message id must still be in argparse's source, as `_('…')` or `ngettext('…'`."""
    source = inspect.getsource(argparse)
    assert [message for message in ARGPARSE_KEYS if repr(message) not in source] == []


USAGE_ERRORS = [
    ["kpis", "--period", "weak", "--from", "2026-01-01", "--to", "2026-01-31"],
    ["kpis", "--period", "week"],
    ["nosuch"],
    [],
    ["rollback", "seven"],
    ["users"],
    ["spc", "--unit", "U", "--kpi", "k", "--period", "day", "--extra"],
]


@pytest.mark.parametrize("argv", USAGE_ERRORS, ids=lambda argv: " ".join(argv) or "nothing")
def test_a_usage_error_is_one_sentence_in_the_language(argv, monkeypatch, capsys):
    said = {}
    for lang in LANGUAGES:
        monkeypatch.setenv("KPI_LANG", lang)
        with pytest.raises(SystemExit) as done:
            main(argv)
        captured = capsys.readouterr()
        assert (done.value.code, captured.out) == (1, "")
        assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
        said[lang] = captured.err
    assert said["en"].endswith("(see --help)\n") and said["id"].endswith("(lihat --help)\n")
    assert said["en"] != said["id"]
    assert leaked_english(said["id"]) == []


# -- what the commands print ----------------------------------------------------------------------
RUNS = [
    ["users", "list"],
    ["users", "add", "Admin@Medan.go.id", "--role", "admin"],
    ["users", "add", "ana@medan.go.id", "--role", "analyst", "--units", "PKM-1"],
    ["users", "remove", "ana@medan.go.id"],
    ["users", "add", "not-an-email", "--role", "admin"],
    ["kpis", "--period", "week", "--from", "2020-01-06", "--to", "2020-01-12"],
    ["kpis", "--period", "week", "--from", "2020-01-13", "--to", "2020-01-12"],
    ["ikm", "--from", "2020-01-06", "--to", "2020-01-12"],
    ["spc", "--unit", "*", "--kpi", "throughput", "--period", "week", "--from", "2026-02-16",
     "--to", "2026-03-29"],
    ["spc", "--unit", "*", "--kpi", "throughput", "--period", "week", "--rebase", "March"],
    ["interventions", "list"],
    ["effect", "99"],
    ["totals"],
    ["audit", "--since", "2999-01-01"],
    ["rollback", "99"],
    ["review", "--week", "2026-53x", "--out", "nowhere"],
]


def test_every_line_and_error_follows_the_language(example_store, monkeypatch, capsys, tmp_path):
    """The same commands on the worked example's store in English and in Indonesian: each says
    something else in Indonesian, and nothing an English message says."""
    monkeypatch.delenv(audit.KEY_ENV, raising=False)
    monkeypatch.setenv(audit.KEY_FILE_ENV, str(tmp_path / "audit.key"))
    said: dict[str, list[tuple[int, str, str]]] = {lang: [] for lang in LANGUAGES}
    for lang in LANGUAGES:
        monkeypatch.setenv("KPI_LANG", lang)
        for argv in RUNS:
            code = main(["--db", str(example_store.path), *argv])
            captured = capsys.readouterr()
            said[lang].append((code, captured.out, captured.err))
    for argv, english, indonesian in zip(RUNS, said["en"], said["id"], strict=True):
        assert english[0] == indonesian[0], argv  # the same exit status
        assert english[1:] != indonesian[1:], argv
        assert "Traceback" not in english[2] + indonesian[2]
        assert leaked_english(indonesian[1] + indonesian[2]) == [], argv


@pytest.mark.parametrize("lang", ["en", "id"])
def test_an_unreachable_store_is_one_sentence_with_its_reason_and_no_password(
        lang, monkeypatch, capsys):
    """The CLI is run by the administrator: a catalog that refuses the connection is said in
    one line on stderr, in the CLI's language, with the reason and without the password (the
    store's log line for the dashboard's administrator does not come out beside it)."""
    from tests.services import free_port

    monkeypatch.setenv("KPI_LANG", lang)
    url = f"postgresql://kinerja_app:N0t%2FShown@127.0.0.1:{free_port()}/kinerja"
    assert main(["--db", url, "batches"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    expected_start = {"en": "The store postgresql://kinerja_app@127.0.0.1:",
                      "id": "Penyimpanan data postgresql://kinerja_app@127.0.0.1:"}[lang]
    assert lines[0].startswith(expected_start), lines[0]
    assert "refused" in lines[0].lower()
    assert "N0t" not in err and "Shown" not in err
