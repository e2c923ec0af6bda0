"""The app's own exceptions. Each is raised with a catalogue key and its parameters, never with
English written at the raise: the sentence comes from `kpi/i18n/<lang>/*.toml`.

`str(error)` is the English sentence, which is what the CLI prints; `localized(lang)` is the
same sentence in the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kpi.i18n import t


class KinerjaError(Exception):
    """Base of every error Kinerja reports to a person. `key` is an i18n catalogue key (each
    class has its own default) and `params` fill its placeholders."""

    key = "error.generic"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.params = params
        if key is not None:
            self.key = key
        super().__init__(self.localized("en"))

    def localized(self, lang: str) -> str:
        """The message in `lang` (a missing key raises KeyError: tests catch it)."""
        return t(self.key, lang, **self.params)


class UnknownArgument(KinerjaError):
    """A unit, KPI, period or date the engine does not know (a bad argument, not a bad file)."""


class StoreError(KinerjaError):
    """The store could not do what was asked (corrupt file, disk full, unexpected SQL error)."""

    key = "error.store"


class StoreBusy(StoreError):
    """Another process holds the store file for writing."""

    key = "error.store_busy"


class StoreUnreachable(StoreError):
    """The store's catalog cannot be reached (down, wrong address, refused sign-in); the
    reason is in the administrator's log, never in the message."""

    key = "error.store_unreachable"


class StoreMissing(StoreError):
    """The store file does not exist (and was not asked to be created)."""

    key = "error.store_missing"


class InputRejected(KinerjaError):
    """Input (a file, a form, a CLI argument) that breaks the data contract."""

    key = "error.input_rejected"


class ReviewLocked(KinerjaError):
    """A finalised management review cannot be changed."""

    key = "error.review_locked"


@dataclass
class Problem:
    """One reason a file was rejected; `line` is the line in the file (header = line 1)."""

    line: int | None
    column: str | None
    reason: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    value: str | None = None

    @classmethod
    def make(cls, key: str, *, line: int | None = None, column: str | None = None,
             value: str | None = None, **params: Any) -> Problem:
        params = {"line": line if line is not None else "", "column": column or "",
                  "value": value if value is not None else "", **params}
        return cls(line, column, t(f"ingest.{key}", "en", **params), f"ingest.{key}", params,
                   value)

    def message(self, lang: str) -> str:
        return t(self.key, lang, **self.params)



class FileRejected(InputRejected):
    """A whole-file problem (or several); `problems` lists them, `localized` joins them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(problems[0].key, **problems[0].params)

    def localized(self, lang: str) -> str:
        return " ".join(p.message(lang) for p in self.problems)

    @classmethod
    def one(cls, key: str, **params: Any) -> FileRejected:
        """The file rejected for one reason: the `ingest.<key>` message with `params`."""
        return cls([Problem.make(key, **params)])
