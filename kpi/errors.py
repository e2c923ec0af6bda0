"""The app's own exceptions: each carries a catalogue key so the UI can say it in the user's language.

`str(error)` is the English sentence, which is what the CLI prints.
"""

from __future__ import annotations

from typing import Any


class KinerjaError(Exception):
    """Base of every error Kinerja reports to a person. `key` is an i18n catalogue key."""

    key = "error.generic"

    def __init__(self, message: str, *, key: str | None = None, **params: Any) -> None:
        super().__init__(message)
        if key:
            self.key = key
        self.params = params

    def localized(self, lang: str) -> str:
        """The message in `lang`, falling back to the English sentence when no key matches."""
        from kpi.i18n import has_key, t

        if has_key(self.key, lang):
            return t(self.key, lang, **self.params)
        return str(self)


class StoreError(KinerjaError):
    """The store could not do what was asked (corrupt file, disk full, unexpected SQL error)."""

    key = "error.store"


class StoreBusy(StoreError):
    """Another process holds the store file for writing."""

    key = "error.store_busy"


class StoreMissing(StoreError):
    """The store file does not exist (and was not asked to be created)."""

    key = "error.store_missing"


class InputRejected(KinerjaError):
    """Input (a file, a form, a CLI argument) that breaks the data contract."""

    key = "error.input_rejected"


class ReviewLocked(KinerjaError):
    """A finalised management review cannot be changed."""

    key = "error.review_locked"
