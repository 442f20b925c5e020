"""Text cells to numbers: plain, scientific, thousands-grouped and decimal-comma forms.

Part of the upload parser (:mod:`gmm_app.upload` is its entry point). Pure: it must not
import Streamlit, Plotly, JAX or any other ``gmm_app`` module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

# A column is numeric when at least this percentage of its non-empty cells are numbers.
NUMERIC_SHARE_PERCENT = 90
_COMMA_VOTE_SAMPLE = 5000
_PARSE_CHUNK_CELLS = 65536

# Cells that mean "no value" (compared after stripping and lower-casing).
_MISSING_TOKENS = frozenset(
    {"", "na", "n/a", "nan", "-nan", "+nan", "null", "none", "nil", "-", ".", "?", "#n/a", "#na"}
)

_EXPONENT = r"(?:[eE][+-]?\d+)?"
# "1,234" or "-12,345": the only shape that is both a US thousands group and a European decimal.
_AMBIGUOUS_COMMA = re.compile(r"[+-]?\d{1,3},\d{3}")
# "1,234,567", "1,234.5", "1,234e3": commas group thousands, "." (if any) is the decimal point.
_US_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?" + _EXPONENT)
# "1.234,5" or "1.234.567,0": dots group thousands, the comma is the decimal point.
_EU_GROUPED = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+,\d*" + _EXPONENT)
# "1,5", "-0,25", ",5", "3,": the comma is the decimal point.
_EU_DECIMAL = re.compile(r"[+-]?(?:\d+,\d*|,\d+)" + _EXPONENT)
# "1 234,5", "1'234.5", "1\u00a0234": space, apostrophe or no-break space group thousands.
_SPACE_GROUPED = re.compile(r"[+-]?\d{1,3}(?:[ '\u00a0\u202f]\d{3})+(?:[.,]\d*)?" + _EXPONENT)
_SPACE_GROUP_SEPARATORS = str.maketrans("", "", " '\u00a0\u202f")
# What Python's float() should be allowed to see (rejects "1_000" and non-ASCII digits).
# Every pattern here is written so a digit can match only one way: no slow backtracking
# on hostile cells such as 100,000 digits followed by a letter.
_PLAIN_NUMBER = re.compile(
    r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)" + _EXPONENT + r"|inf|infinity|nan)", re.IGNORECASE
)


@dataclass(frozen=True)
class ColumnParse:
    """Result of reading one column of cells as numbers."""

    values: np.ndarray  # float64; NaN where a cell is missing or is not a number
    n_non_empty: int
    n_numbers: int
    n_not_numbers: int
    example_not_number: str | None
    used_decimal_comma: bool
    used_thousands_separators: bool


def looks_numeric(cell: str, delimiter: str) -> bool:
    """Whether a cell reads as a number (including inf), using the delimiter's comma rule."""
    parsed = _parse_number_text(cell, comma_is_decimal=delimiter != ",")
    return parsed is not None and not np.isnan(parsed[0])


def _parse_number_text(cell: str, comma_is_decimal: bool) -> tuple[float, bool, bool] | None:
    """Read one cell as a number.

    Accepts plain and scientific notation, ``inf``/``nan`` words, surrounding quotes and
    spaces, thousands separators (``1,234.5``, ``1.234,5``, ``1 234,5``) and decimal
    commas. ``comma_is_decimal`` settles ``1,234`` (1.234 if true, else 1234).

    Returns
    -------
    tuple or None
        ``(value, used_decimal_comma, used_thousands_separators)``, or None if the
        cell is not a number.
    """
    text = cell.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text), False, False
    if _AMBIGUOUS_COMMA.fullmatch(text):
        if comma_is_decimal:
            return float(text.replace(",", ".")), True, False
        return float(text.replace(",", "")), False, True
    if _US_GROUPED.fullmatch(text):
        return float(text.replace(",", "")), False, True
    if _EU_GROUPED.fullmatch(text):
        return float(text.replace(".", "").replace(",", ".")), True, True
    if _EU_DECIMAL.fullmatch(text):
        return float(text.replace(",", ".")), True, False
    if _SPACE_GROUPED.fullmatch(text):
        ungrouped = text.translate(_SPACE_GROUP_SEPARATORS)
        return float(ungrouped.replace(",", ".")), "," in ungrouped, True
    return None


def _comma_is_decimal_for(cells: Iterable[str], delimiter: str) -> bool:
    """Decide how ``1,234`` reads in a column from its unambiguous cells.

    A ``1,234.5``-style cell is evidence for thousands commas, a ``1,5`` or
    ``1.234,5`` cell for decimal commas; without evidence, decimal commas are assumed
    unless the delimiter is the comma itself.
    """
    us_votes = eu_votes = 0
    for cell in cells:
        if "," not in cell:
            continue
        text = cell.strip().strip("\"'")
        if _AMBIGUOUS_COMMA.fullmatch(text):
            continue
        if _US_GROUPED.fullmatch(text):
            us_votes += 1
        elif _EU_GROUPED.fullmatch(text) or _EU_DECIMAL.fullmatch(text):
            eu_votes += 1
    if us_votes != eu_votes:
        return eu_votes > us_votes
    return delimiter != ","


def parse_column(cells: list[str], delimiter: str) -> ColumnParse | None:
    """Read a column of cells as float64, counting empties and non-numbers.

    The common cases (plain numbers, and decimal commas when the column uses them) run
    at C speed through ``pandas.to_numeric``; only the cells it rejects are inspected
    one by one (missing-value tokens, grouped numbers, quoted numbers, and text).

    Returns
    -------
    ColumnParse or None
        None as soon as more than 10% of the cells are text, which already proves the
        column is not numeric (this bounds the work on large text columns).
    """
    n_cells = len(cells)
    comma_is_decimal = _comma_is_decimal_for(cells[:_COMMA_VOTE_SAMPLE], delimiter)
    values = np.empty(n_cells, dtype=np.float64)
    used_decimal_comma = used_thousands = False
    n_missing = n_not_numbers = 0
    example_not_number: str | None = None
    for start in range(0, n_cells, _PARSE_CHUNK_CELLS):
        chunk = cells[start : start + _PARSE_CHUNK_CELLS]
        texts = chunk
        if comma_is_decimal:
            # The decoded text has no NUL characters, so NUL safely joins and re-splits cells.
            joined = "\0".join(chunk)
            if "," in joined:
                texts = joined.replace(",", ".").split("\0")
                used_decimal_comma = True
        chunk_values = pd.to_numeric(np.asarray(texts, dtype=object), errors="coerce")
        values[start : start + len(chunk)] = chunk_values
        for offset in np.flatnonzero(np.isnan(chunk_values)).tolist():
            cell = chunk[offset]
            if cell.strip().lower() in _MISSING_TOKENS:
                n_missing += 1
                continue
            parsed = _parse_number_text(cell, comma_is_decimal)
            if parsed is None or np.isnan(parsed[0]):
                n_not_numbers += 1
                if 100 * n_not_numbers > (100 - NUMERIC_SHARE_PERCENT) * n_cells:
                    return None
                if example_not_number is None:
                    example_not_number = cell.strip()
                continue
            values[start + offset], decimal_comma, grouped = parsed
            used_decimal_comma |= decimal_comma
            used_thousands |= grouped
    n_non_empty = n_cells - n_missing
    return ColumnParse(
        values=values,
        n_non_empty=n_non_empty,
        n_numbers=n_non_empty - n_not_numbers,
        n_not_numbers=n_not_numbers,
        example_not_number=example_not_number,
        used_decimal_comma=used_decimal_comma,
        used_thousands_separators=used_thousands,
    )
