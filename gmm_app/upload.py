"""Parse an untrusted CSV upload into a clean table of finite float64 columns.

The dashboard's "Your data" page hands the raw bytes of an uploaded file to
:func:`parse_csv`. Whatever the bytes are, the parser either returns a
:class:`ParsedUpload` or raises :class:`UploadError` whose message is one
user-facing sentence saying what is wrong and what to do about it.

This module and its two steps, :mod:`gmm_app.csv_text` (bytes → rows) and
:mod:`gmm_app.csv_numbers` (cells → numbers), depend only on the standard library,
NumPy and pandas: they must not import Streamlit, Plotly or any other ``gmm_app``
module, so the parser can be tested and fuzzed on its own.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gmm_app.csv_numbers import NUMERIC_SHARE_PERCENT, parse_column
from gmm_app.csv_text import DELIMITER_NAMES, UploadError, decode, detect_delimiter, read_rows

__all__ = [
    "MAX_ABS_VALUE",
    "MAX_COLUMNS",
    "MAX_LABEL_VALUES",
    "MAX_ROWS",
    "MAX_UPLOAD_BYTES",
    "MIN_NUMERIC_COLUMNS",
    "UNEXPECTED_ERROR_MESSAGE",
    "ParsedUpload",
    "UploadError",
    "parse_csv",
    "to_csv_bytes",
]

logger = logging.getLogger(__name__)

# Keep in sync with `server.maxUploadSize = 20` (megabytes) in `.streamlit/config.toml`:
# Streamlit rejects larger files before they reach us, and this check is the backstop.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_COLUMNS = 200
MIN_NUMERIC_COLUMNS = 1
# Values beyond this magnitude are dropped: squaring them (as EM does) would overflow float64.
MAX_ABS_VALUE = 1e150

UNEXPECTED_ERROR_MESSAGE = (
    "This file could not be read as CSV because of an unexpected problem; "
    "please save it again as a plain comma-separated UTF-8 file and retry."
)

# A text column with at most this many distinct values is kept as a possible label column.
MAX_LABEL_VALUES = 12
# Columns that exist only because some rows have extra fields must be at least half filled.
_OVERFLOW_COLUMN_MIN_FILL = 0.5
# Share of control characters above which decoded text is treated as binary.

_MAX_NAMES_IN_MESSAGE = 5


@dataclass(frozen=True)
class ParsedUpload:
    """The numeric content of an uploaded CSV file.

    Attributes
    ----------
    data
        Numeric columns only, all float64 and finite with magnitude at most
        ``MAX_ABS_VALUE``; incomplete rows removed and the index reset.
    numeric_columns
        Names of the columns in ``data``, in file order.
    ignored_columns
        Names of the columns left out because they are not (mostly) numeric or are empty.
    n_rows_read
        Data rows found in the file (header and blank lines excluded).
    n_rows_dropped
        Rows removed for missing, non-numeric, infinite or too-large values.
    notes
        Human-readable remarks on how the file was interpreted.
    text_labels
        The ignored text columns with 2 to :data:`MAX_LABEL_VALUES` distinct values (stripped
        cells, the same rows as ``data``): candidates for a column of true labels.
    """

    data: pd.DataFrame
    numeric_columns: tuple[str, ...]
    ignored_columns: tuple[str, ...]
    n_rows_read: int
    n_rows_dropped: int
    notes: tuple[str, ...]
    text_labels: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)

    @property
    def n_rows(self) -> int:
        """Number of usable rows in ``data``."""
        return len(self.data)


def parse_csv(
    raw: bytes,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
) -> ParsedUpload:
    """Parse untrusted CSV bytes into finite float64 columns.

    Parameters
    ----------
    raw
        The file content exactly as uploaded (``bytes``, ``bytearray`` or ``memoryview``).
    max_bytes, max_rows, max_columns
        Limits; exceeding any of them is an error, never a silent truncation.

    Returns
    -------
    ParsedUpload
        The numeric columns with incomplete rows dropped, plus what was ignored and why.

    Raises
    ------
    UploadError
        For every problem with the content, with a one-sentence message for the user.
    TypeError
        Only if ``raw`` is not bytes-like, which is a programming error, not bad input.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError(f"parse_csv expects bytes, got {type(raw).__name__}")
    try:
        return _parse_csv_bytes(bytes(raw), max_bytes, max_rows, max_columns)
    except UploadError:
        raise
    except Exception as error:  # a bug or resource problem must still reach the user politely
        logger.exception("Unexpected failure while parsing an uploaded CSV file")
        raise UploadError(UNEXPECTED_ERROR_MESSAGE) from error


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Encode a table as UTF-8 CSV (comma-separated, header row, no index).

    Parameters
    ----------
    df
        The table to write, typically ``ParsedUpload.data``.

    Returns
    -------
    bytes
        CSV text whose floats round-trip exactly through :func:`parse_csv`.
    """
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


# --------------------------------------------------------------------------- pipeline


def _parse_csv_bytes(raw: bytes, max_bytes: int, max_rows: int, max_columns: int) -> ParsedUpload:
    """Run every parsing step; raise UploadError for anything unusable."""
    notes: list[str] = []
    if len(raw) > max_bytes:
        raise UploadError(
            f"The file is {_format_size(len(raw))}, which is over the {_format_size(max_bytes)} "
            "upload limit; upload a smaller file or a sample of the rows."
        )
    if not raw:
        raise UploadError(
            "The uploaded file is empty; choose a CSV file with a header row and numeric data."
        )
    text = decode(raw, notes)
    if not text.strip():
        raise UploadError(
            "The uploaded file contains only whitespace; choose a CSV file with numeric data."
        )
    delimiter = detect_delimiter(text)
    header, rows, overflow_start, n_ragged = read_rows(text, delimiter, max_rows, max_columns)
    if delimiter != "," and len(header) > 1:
        notes.append(f"Used {DELIMITER_NAMES[delimiter]} as the delimiter")
    if n_ragged:
        notes.append(
            f"{_count(n_ragged, 'row')} had a different number of fields than the first row; "
            "missing fields were treated as empty"
        )
    return _build_table(header, rows, delimiter, overflow_start, notes)


def _format_size(n_bytes: int) -> str:
    """Human-readable size in bytes, KB or MB (powers of 1024, as Streamlit counts)."""
    if n_bytes < 1024:
        return f"{n_bytes} bytes"
    if n_bytes < 1024 * 1024:
        return f"{n_bytes / 1024:.1f} KB"
    return f"{n_bytes / (1024 * 1024):.1f} MB"


def _count(n: int, noun: str) -> str:
    """``"1 row"`` / ``"3 rows"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _quoted_list(names: Sequence[str]) -> str:
    """``'a', 'b', 'c' and 2 more`` for messages."""
    shown = ", ".join(repr(name) for name in names[:_MAX_NAMES_IN_MESSAGE])
    hidden = len(names) - _MAX_NAMES_IN_MESSAGE
    return f"{shown} and {hidden} more" if hidden > 0 else shown


# --------------------------------------------------------------------------- table


def _build_table(
    header: list[str],
    rows: list[list[str]],
    delimiter: str,
    overflow_start: int,
    notes: list[str],
) -> ParsedUpload:
    """Classify columns, drop unusable rows and assemble the result."""
    n_rows = len(rows)
    columns = [[row[index] for row in rows] for index in range(len(header))]
    numeric: dict[str, np.ndarray] = {}
    texts: dict[str, np.ndarray] = {}
    ignored: list[str] = []
    empty: list[str] = []
    sparse_overflow: list[str] = []
    used_decimal_comma = used_thousands = False
    for index, (name, cells) in enumerate(zip(header, columns, strict=True)):
        parsed = parse_column(cells, delimiter)
        if parsed is None:
            ignored.append(name)
            _keep_label_text(name, cells, texts)
            continue
        if parsed.n_non_empty == 0:
            empty.append(name)
            ignored.append(name)
            continue
        if 100 * parsed.n_numbers < NUMERIC_SHARE_PERCENT * parsed.n_non_empty:
            ignored.append(name)
            _keep_label_text(name, cells, texts)
            continue
        if index >= overflow_start and parsed.n_non_empty < _OVERFLOW_COLUMN_MIN_FILL * n_rows:
            sparse_overflow.append(name)
            ignored.append(name)
            continue
        numeric[name] = parsed.values
        used_decimal_comma |= parsed.used_decimal_comma
        used_thousands |= parsed.used_thousands_separators
        if parsed.n_not_numbers:
            notes.append(
                f"Column {name!r}: {_count(parsed.n_not_numbers, 'cell')} that "
                f"{'is' if parsed.n_not_numbers == 1 else 'are'} not a number "
                f"(for example {parsed.example_not_number!r}) treated as missing"
            )

    if used_decimal_comma:
        notes.append("Read commas as decimal separators (for example '1,5' as 1.5)")
    if used_thousands:
        notes.append("Removed thousands separators (for example '1,234.5' as 1234.5)")
    non_numeric = [name for name in ignored if name not in empty and name not in sparse_overflow]
    if non_numeric:
        notes.append(f"Ignored non-numeric columns: {_quoted_list(non_numeric)}")
    if empty:
        notes.append(f"Ignored empty columns: {_quoted_list(empty)}")
    if sparse_overflow:
        names = _quoted_list(sparse_overflow)
        notes.append(f"Ignored mostly empty extra columns from over-long rows: {names}")
    if not numeric:
        raise UploadError(
            f"No numeric columns found: none of the columns ({_quoted_list(header)}) is mostly "
            f"numbers, and the fit needs at least {_count(MIN_NUMERIC_COLUMNS, 'numeric column')}."
        )

    keep = _complete_rows(numeric, n_rows, notes)
    n_kept = int(keep.sum())
    n_dropped = n_rows - n_kept
    data = pd.DataFrame(
        {name: column[keep] for name, column in numeric.items()}, index=pd.RangeIndex(n_kept)
    )
    labels = pd.DataFrame(
        {name: column[keep] for name, column in texts.items()}, index=pd.RangeIndex(n_kept)
    )
    return ParsedUpload(
        data=data,
        numeric_columns=tuple(numeric),
        ignored_columns=tuple(ignored),
        n_rows_read=n_rows,
        n_rows_dropped=n_dropped,
        notes=tuple(notes),
        text_labels=labels,
    )


def _keep_label_text(name: str, cells: list[str], texts: dict[str, np.ndarray]) -> None:
    """Keep a text column's stripped cells when it has 2 to MAX_LABEL_VALUES distinct values."""
    values = np.asarray([cell.strip() for cell in cells], dtype=object)
    distinct = set(values[: MAX_LABEL_VALUES * 1000].tolist())
    if len(distinct) > MAX_LABEL_VALUES:
        return
    distinct = set(values.tolist())
    if 2 <= len(distinct) <= MAX_LABEL_VALUES and name not in texts:
        texts[name] = values.astype(str)


def _complete_rows(numeric: dict[str, np.ndarray], n_rows: int, notes: list[str]) -> np.ndarray:
    """(n_rows,) bool: rows finite and within ``MAX_ABS_VALUE`` in every numeric column."""
    matrix = np.column_stack(list(numeric.values()))
    with np.errstate(invalid="ignore"):
        row_missing = np.isnan(matrix).any(axis=1)
        row_infinite = np.isinf(matrix).any(axis=1)
        row_too_large = (np.abs(matrix) > MAX_ABS_VALUE).any(axis=1) & ~row_infinite
    keep = ~(row_missing | row_infinite | row_too_large)
    n_kept = int(keep.sum())
    n_dropped = n_rows - n_kept
    if n_kept == 0:
        raise UploadError(
            f"All {_count(n_rows, 'row')} had a missing, non-numeric, infinite or too large "
            f"(beyond ±{MAX_ABS_VALUE:g}) value in a numeric column, so no data is left; "
            "fill in or remove those cells and upload again."
        )
    if n_dropped:
        reasons = [
            (int(row_missing.sum()), "empty or not a number"),
            (int((row_infinite & ~row_missing).sum()), "infinite"),
            (int((row_too_large & ~row_missing & ~row_infinite).sum()), "too large in magnitude"),
        ]
        detail = ", ".join(f"{n} {reason}" for n, reason in reasons if n)
        notes.append(
            f"Dropped {_count(n_dropped, 'row')} with missing or non-finite values ({detail})"
        )
    return keep
