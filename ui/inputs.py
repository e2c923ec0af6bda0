"""Form inputs in the reader's language (issue 22).

Streamlit's number inputs and number columns write a decimal point whatever the language, so an
Indonesian analyst saw `10.00` where everything else writes `10,0`. Numbers are edited as text
in the language's convention instead and read back with kpi.i18n.parse_number; a cell that is
not a number in that language is named with its row, never read as another number (`12.5` in
Indonesian is not 125). Dates are picked in the review form's DD/MM/YYYY everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from kpi.i18n import fmt_plain_number, parse_number, t

DATE_FORMAT = "DD/MM/YYYY"  # st.date_input and DateColumn: the management review's format
EXAMPLE_NUMBER = 12.5  # shown in the message about a number that is not one


@dataclass(frozen=True)
class BadNumber:
    """A cell of an edited table that is not a number in the reader's language."""

    row: object  # the table's index label: the editor's row number
    column: str
    text: str


def number_field(container: DeltaGenerator, label: str, *, key: str, lang: str,
                 value: float | None = None, **options: Any) -> str:
    """A text input holding `value` as the language writes it; read it with `read_number`."""
    return container.text_input(label, value=fmt_plain_number(value, lang), key=key, **options)


def bad_number_text(text: str, lang: str) -> str:
    """The one sentence telling that `text` is not a number, with the language's own example."""
    return t("forms.bad_number", lang, value=text, example=fmt_plain_number(EXAMPLE_NUMBER, lang))


def read_number(text: str | None, lang: str) -> tuple[float | None, str | None]:
    """(the number typed, None) or (None, the message when it is not one); empty is None."""
    try:
        return parse_number(text or "", lang), None
    except ValueError:
        return None, bad_number_text(str(text).strip(), lang)


def numbers_as_text(frame: pd.DataFrame, columns: list[str], lang: str) -> pd.DataFrame:
    """`frame` with `columns` as text in the language's convention, for an editable grid."""
    shown = frame.copy()
    texts: dict[tuple[type, float | int | None], str] = {}  # a province's 10,000 targets share few values

    def text(value: float | int | None) -> str:
        key = (type(value), value)
        if key not in texts:
            texts[key] = fmt_plain_number(value, lang)
        return texts[key]

    for column in columns:
        shown[column] = pd.Series([text(value) for value in frame[column]],
                                  index=frame.index, dtype=object)
    return shown


def numbers_from_text(frame: pd.DataFrame, columns: list[str],
                      lang: str) -> tuple[pd.DataFrame, list[BadNumber]]:
    """The edited grid with `columns` read back as numbers (None when empty), and the cells that
    are not numbers in the language (left as typed; the caller refuses to save them)."""
    read = frame.copy()
    bad: list[BadNumber] = []
    for column in columns:
        values: list[float | str | None] = []
        for row, cell in zip(frame.index, frame[column], strict=True):
            text = "" if cell is None or (isinstance(cell, float) and pd.isna(cell)) else str(cell)
            try:
                values.append(parse_number(text, lang))
            except ValueError:
                bad.append(BadNumber(row, column, text.strip()))
                values.append(text)
        read[column] = pd.Series(values, index=frame.index, dtype=object)
    return read, bad


def show_bad_numbers(bad: list[BadNumber], lang: str, column_names: dict[str, str]) -> None:
    """One warning naming every cell that is not a number, by row and column heading."""
    st.warning("\n".join(
        "- " + t("forms.bad_cell", lang, row=item.row, column=column_names.get(item.column,
                                                                                item.column),
                 reason=bad_number_text(item.text, lang)) for item in bad),
        icon=":material/pin:")
