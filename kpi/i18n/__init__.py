"""Message catalogues (English and Bahasa Indonesia) and locale-aware number and date formats.

Catalogues are TOML files under `kpi/i18n/<lang>/`, one per area of the app; their tables are
flattened to dotted keys (`[kpi] throughput = "…"` is `kpi.throughput`). A key defined twice
across files is an error, and both languages must define the same keys (a test checks).
Numbers and dates are formatted by Babel, so Indonesian shows `1.234,5` and English `1,234.5`.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date as _babel_format_date
from babel.numbers import NumberFormatError
from babel.numbers import format_decimal as _babel_format_decimal
from babel.numbers import parse_decimal as _babel_parse_decimal
from typing_extensions import TypeIs

LANGUAGES = ("en", "id")
LOCALES = {"en": "en_GB", "id": "id_ID"}
_DIR = Path(__file__).resolve().parent


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str], source: Path) -> None:
    for name, value in table.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(value, dict):
            _flatten(key, value, out, source)
        else:
            if key in out:
                raise ValueError(f"i18n key {key!r} is defined twice (again in {source.name})")
            out[key] = str(value)


@cache
def catalog(lang: str) -> dict[str, str]:
    """Every message of `lang`, keyed by dotted name."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    messages: dict[str, str] = {}
    for path in sorted((_DIR / lang).glob("*.toml")):
        with path.open("rb") as handle:
            _flatten("", tomllib.load(handle), messages, path)
    return messages


def has_key(key: str, lang: str) -> bool:
    return key in catalog(lang)


def t(key: str, lang: str, **params: Any) -> str:
    """The message `key` in `lang`, with `{name}` placeholders filled from `params`.

    A missing key raises KeyError: tests catch it, and a page never shows a raw key.
    """
    text = catalog(lang)[key]
    return text.format(**params) if params else text


def is_missing(value: object) -> TypeIs[None]:
    """True for None and NaN: a value that is absent is shown as a dash, never as 0.

    Typed as a check for None so that a `float | None` is a float after `if is_missing(x):
    return` (NaN is a float too, but then it is only shown as absent, never computed with)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, LOCALES["en"])


def fmt_number(value: float | int | None, lang: str, decimals: int = 1) -> str:
    """`value` with `decimals` fixed decimals in the language's convention; an em dash for null."""
    if is_missing(value):
        return "—"
    # The sign is part of the key: -0.0 equals 0.0 (and hashes alike) but is written "-0.0".
    return _formatted_number(value, lang, decimals, math.copysign(1.0, value) < 0)


# Babel parses the pattern and the locale on every call (about 0.1 ms each): a page of tables
# formats thousands of numbers and dates per rerun, mostly the same ones again.
@lru_cache(maxsize=1 << 16)
def _formatted_number(value: float | int, lang: str, decimals: int, negative: bool) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return _babel_format_decimal(value, format=pattern, locale=locale_of(lang))


def fmt_plain_number(value: float | int | None, lang: str, max_decimals: int = 6) -> str:
    """`value` as a person types it in the language: no grouping, no trailing zeros
    (`76,61`, `10`); empty for null. What a number field shows before it is edited."""
    if is_missing(value):
        return ""
    pattern = "0." + "#" * max_decimals if max_decimals > 0 else "0"
    return _babel_format_decimal(value, format=pattern, locale=locale_of(lang))


def parse_number(text: str, lang: str) -> float | None:
    """A number typed in the language's convention (`12,5` in Indonesian, `12.5` in English),
    None for empty text. Raises ValueError when `text` is not one, including a separator used
    the other language's way (`12.5` in Indonesian), which would otherwise be read as 125."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(_babel_parse_decimal(text, locale=locale_of(lang), strict=True))
    except NumberFormatError as error:
        raise ValueError(text) from error


def fmt_int(value: float | int | None, lang: str) -> str:
    return fmt_number(value, lang, 0)


def percent_sign(lang: str) -> str:
    """What follows a number in percent: ` %` in Indonesian (`87,5 %`), `%` in English
    (`87.5%`). Charts put it after their tick numbers, so axes read as the page's figures."""
    return " %" if lang == "id" else "%"


def fmt_percent(value: float | None, lang: str, decimals: int = 1) -> str:
    """A value already in percent (0–100), e.g. `87,5 %` in Indonesian, `87.5%` in English."""
    if is_missing(value):
        return "—"
    return fmt_number(value, lang, decimals) + percent_sign(lang)


def fmt_date(value: dt.date | str | None, lang: str, style: str = "medium") -> str:
    """A date as the language writes it (`26 Nov 2026`); `style` is Babel's short/medium/long."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return _formatted_date(value, lang, style)


@lru_cache(maxsize=1 << 14)
def _formatted_date(value: dt.date, lang: str, style: str) -> str:
    return _babel_format_date(value, format=style, locale=locale_of(lang))
