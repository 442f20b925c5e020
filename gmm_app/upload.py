"""Parse an untrusted CSV upload into a clean table of finite float64 columns.

The dashboard's "Your data" page hands the raw bytes of an uploaded file to
:func:`parse_csv`. Whatever the bytes are, the parser either returns a
:class:`ParsedUpload` or raises :class:`UploadError` whose message is one
user-facing sentence saying what is wrong and what to do about it.

This module deliberately depends only on the standard library, NumPy and pandas
(no Streamlit, no plotting) so it can be tested and fuzzed on its own.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "MAX_ABS_VALUE",
    "MAX_COLUMNS",
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

# A column is numeric when at least this percentage of its non-empty cells are numbers.
_NUMERIC_SHARE_PERCENT = 90
# Columns that exist only because some rows have extra fields must be at least half filled.
_OVERFLOW_COLUMN_MIN_FILL = 0.5
# Share of control characters above which decoded text is treated as binary.
_CONTROL_CHAR_SHARE_LIMIT = 0.05
_SNIFF_SAMPLE_CHARS = 64 * 1024
_SNIFF_SAMPLE_ROWS = 50
_SNIFFER_SAMPLE_CHARS = 4 * 1024
_COMMA_VOTE_SAMPLE = 5000
_PARSE_CHUNK_CELLS = 65536
_CANDIDATE_DELIMITERS = ("\t", ";", "|", ",")  # order = preference when scores tie
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
_MAX_NAMES_IN_MESSAGE = 5

# Cells that mean "no value" (compared after stripping and lower-casing).
_MISSING_TOKENS = frozenset(
    {"", "na", "n/a", "nan", "-nan", "+nan", "null", "none", "nil", "-", ".", "?", "#n/a", "#na"}
)

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "ZIP archive"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"PK\x07\x08", "ZIP archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"%PDF", "PDF document"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Office document such as .xls"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"\x28\xb5\x2f\xfd", "Zstandard archive"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"PAR1", "Parquet file"),
    (b"\x7fELF", "executable program"),
)
_BZIP2_SIGNATURE = re.compile(rb"BZh[1-9]1AY&SY")

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
# C0 control characters other than tab, newline, carriage return, vertical tab and form feed.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


class UploadError(ValueError):
    """An uploaded file cannot be used; the message is one user-facing sentence."""


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
    """

    data: pd.DataFrame
    numeric_columns: tuple[str, ...]
    ignored_columns: tuple[str, ...]
    n_rows_read: int
    n_rows_dropped: int
    notes: tuple[str, ...]

    @property
    def n_rows(self) -> int:
        """Number of usable rows in ``data``."""
        return len(self.data)


@dataclass(frozen=True)
class _ColumnParse:
    """Result of reading one column of cells as numbers."""

    values: np.ndarray  # float64; NaN where a cell is missing or is not a number
    n_non_empty: int
    n_numbers: int
    n_not_numbers: int
    example_not_number: str | None
    used_decimal_comma: bool
    used_thousands_separators: bool


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
    text = _decode(raw, notes)
    if not text.strip():
        raise UploadError(
            "The uploaded file contains only whitespace; choose a CSV file with numeric data."
        )
    delimiter = _detect_delimiter(text)
    header, rows, overflow_start, n_ragged = _read_rows(text, delimiter, max_rows, max_columns)
    if delimiter != "," and len(header) > 1:
        notes.append(f"Used {_DELIMITER_NAMES[delimiter]} as the delimiter")
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


# --------------------------------------------------------------------------- decoding


def _decode(raw: bytes, notes: list[str]) -> str:
    """Reject binary files and decode text (UTF-8/16/32 by BOM, else UTF-8, else cp1252/Latin-1)."""
    for signature, kind in _BINARY_SIGNATURES:
        if raw.startswith(signature):
            raise _binary_error(kind)
    if _BZIP2_SIGNATURE.match(raw):
        raise _binary_error("bzip2 archive")

    if raw.startswith(b"\xef\xbb\xbf"):
        text = _decode_utf8_with_bom(raw, notes)
    elif raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")) and len(raw) % 4 == 0:
        text = _decode_strict(raw, "utf-32", "UTF-32")
        notes.append("Decoded as UTF-32")
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _decode_strict(raw, "utf-16", "UTF-16")
        notes.append("Decoded as UTF-16")
    elif b"\x00" in raw:
        text = _decode_utf16_without_bom(raw, notes)
    else:
        text = _decode_single_byte_text(raw, notes)

    if "\x00" in text:
        raise _binary_error(None)
    sample = text[:_SNIFF_SAMPLE_CHARS]
    if len(_CONTROL_CHARS.findall(sample)) > _CONTROL_CHAR_SHARE_LIMIT * len(sample):
        raise _binary_error(None)
    return text


def _binary_error(kind: str | None) -> UploadError:
    """The error for files that are not text."""
    what = f"a binary file ({kind})" if kind else "a binary file"
    return UploadError(
        f"This looks like {what}, not CSV text; export the data as a .csv file and upload that."
    )


def _decode_strict(raw: bytes, codec: str, label: str) -> str:
    """Decode with a codec announced by a byte-order mark, or explain why that failed."""
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        raise UploadError(
            f"The file starts with a {label} byte-order mark but is not valid {label} text; "
            "save it again as UTF-8 CSV and retry."
        ) from None


def _decode_utf8_with_bom(raw: bytes, notes: list[str]) -> str:
    """Decode UTF-8 after a BOM, replacing (and noting) any invalid bytes."""
    try:
        text = raw.decode("utf-8-sig")
        notes.append("Decoded as UTF-8 (the byte-order mark was removed)")
    except UnicodeDecodeError:
        text = raw.decode("utf-8-sig", errors="replace")
        notes.append("Decoded as UTF-8; some invalid bytes were replaced")
    return text


def _decode_utf16_without_bom(raw: bytes, notes: list[str]) -> str:
    """Accept BOM-less UTF-16 (NUL in every other byte); any other NUL byte means binary."""
    sample = raw[:4096]
    if len(raw) % 2 == 0 and len(sample) >= 4:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) // 2
        for codec, nuls, other_nuls in (
            ("utf-16-le", odd_nuls, even_nuls),
            ("utf-16-be", even_nuls, odd_nuls),
        ):
            if nuls >= 0.9 * half and other_nuls == 0:
                try:
                    text = raw.decode(codec)
                except UnicodeDecodeError:
                    break
                notes.append("Decoded as UTF-16 (no byte-order mark)")
                return text
    raise _binary_error(None)


def _decode_single_byte_text(raw: bytes, notes: list[str]) -> str:
    """UTF-8 if valid, else Windows-1252, else Latin-1 (which accepts every byte)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        notes.append("Decoded as Latin-1 (ISO-8859-1) because the file is not valid UTF-8")
    else:
        notes.append("Decoded as Latin-1 (Windows-1252) because the file is not valid UTF-8")
    return text


# --------------------------------------------------------------------------- delimiters


def _detect_delimiter(text: str) -> str:
    """Pick the delimiter among comma, semicolon, tab and pipe.

    Each candidate splits a sample of rows (quote-aware). Candidates giving the same
    field count (>= 2) on at least 80% of rows are consistent; among those, the one
    whose cells are most often numbers wins, so ``1,5;2,25`` splits on ``;`` and
    ``"1,234.5"<TAB>7`` on tab. Ties go to tab, ``;``, ``|``, then ``,``. If no
    candidate is consistent, ``csv.Sniffer`` decides, then the largest typical field count.
    """
    sample = text[:_SNIFF_SAMPLE_CHARS]
    if len(text) > _SNIFF_SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    best: tuple[float, int, str] | None = None
    typical_widths: dict[str, int] = {}
    for rank, delimiter in enumerate(_CANDIDATE_DELIMITERS):
        rows = _sample_rows(sample, delimiter)
        if not rows:
            continue
        width, width_count = Counter(len(row) for row in rows).most_common(1)[0]
        typical_widths[delimiter] = width
        if width < 2 or width_count < 0.8 * len(rows):
            continue
        cells = [cell for row in rows for cell in row]
        numeric_share = sum(_looks_numeric(cell, delimiter) for cell in cells) / len(cells)
        score = (numeric_share, -rank, delimiter)
        if best is None or score > best:
            best = score
    if best is not None:
        return best[2]
    try:
        sniffed = (
            csv.Sniffer()
            .sniff(sample[:_SNIFFER_SAMPLE_CHARS], delimiters="".join(_CANDIDATE_DELIMITERS))
            .delimiter
        )
    except csv.Error:
        sniffed = ""
    if sniffed in _CANDIDATE_DELIMITERS and typical_widths.get(sniffed, 1) >= 2:
        return sniffed
    widest = max(_CANDIDATE_DELIMITERS[::-1], key=lambda d: typical_widths.get(d, 1))
    return widest if typical_widths.get(widest, 1) >= 2 else ","


def _sample_rows(sample: str, delimiter: str) -> list[list[str]]:
    """The first non-blank rows of the sample, split by ``delimiter``."""
    rows: list[list[str]] = []
    try:
        for row in _csv_reader(sample, delimiter):
            if any(row):
                rows.append(row)
                if len(rows) >= _SNIFF_SAMPLE_ROWS:
                    break
    except csv.Error:
        pass  # e.g. an over-long field; the full read reports it properly
    return rows


def _csv_reader(text: str, delimiter: str) -> Iterable[list[str]]:
    """A lenient reader: double-quote quoting, spaces after delimiters skipped."""
    return csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quotechar='"',
        doublequote=True,
        skipinitialspace=True,
        strict=False,
    )


# --------------------------------------------------------------------------- rows


def _read_rows(
    text: str, delimiter: str, max_rows: int, max_columns: int
) -> tuple[list[str], list[list[str]], int, int]:
    """Split the text into a header and padded data rows.

    Returns
    -------
    header, rows, overflow_start, n_ragged
        Unique column names; rows all padded to the widest row; the index of the
        first column that exists only because some rows were longer than the first
        row; and how many rows had a different field count than the first row.
    """
    first_row: list[str] | None = None
    rows: list[list[str]] = []
    n_ragged = 0
    try:
        reader = iter(_csv_reader(text, delimiter))
        for row in reader:
            if row and (row[0] or any(row)):  # skip blank lines and lines of bare delimiters
                first_row = row
                break
        first_width = max_width = len(first_row) if first_row else 0
        if first_width > max_columns:
            raise _too_many_columns_error(first_width, max_columns)
        for row in reader:
            if not (row and (row[0] or any(row))):
                continue
            if len(row) != first_width:
                n_ragged += 1
                max_width = max(max_width, len(row))
                if max_width > max_columns:
                    raise _too_many_columns_error(max_width, max_columns)
            rows.append(row)
            if len(rows) > max_rows:
                break  # too many rows whether or not the first row is a header
    except csv.Error as error:
        raise UploadError(
            f"The file could not be split into CSV fields ({error}); "
            "check for an unmatched double quote and try again."
        ) from None
    if first_row is None:
        raise UploadError("The uploaded file contains no data rows; choose a file with numbers.")
    last_row = rows[-1] if rows else first_row
    if text.count('"') % 2 and any("\n" in cell or "\r" in cell for cell in last_row):
        raise UploadError(
            "The file has an unmatched double quote, so everything after it reads as one cell; "
            "remove or close that quote and upload again."
        )

    has_header = not any(_looks_numeric(cell, delimiter) for cell in first_row)
    if has_header:
        header_names = [cell.strip() for cell in first_row]
    else:
        rows.insert(0, first_row)
        header_names = []
    if not rows:
        raise UploadError(
            "The file has a header row but no data rows; add at least one row of numbers."
        )
    if len(rows) > max_rows:
        raise UploadError(
            f"The file has more than {max_rows:,} data rows, which is the limit; "
            "upload a sample of the rows instead."
        )
    if n_ragged:
        for row in rows:
            if len(row) < max_width:
                row.extend([""] * (max_width - len(row)))
    header_names.extend(f"x{index}" for index in range(len(header_names), max_width))
    header = _unique_names([name or f"x{index}" for index, name in enumerate(header_names)])
    return header, rows, first_width, n_ragged


def _too_many_columns_error(width: int, max_columns: int) -> UploadError:
    """The error for rows wider than the column limit."""
    return UploadError(
        f"The file has a row with {width} fields, more than the limit of {max_columns} "
        "columns; remove unneeded columns and upload again."
    )


def _unique_names(names: list[str]) -> list[str]:
    """Make names unique by appending ``_2``, ``_3``... to repeats."""
    taken: set[str] = set()
    unique: list[str] = []
    for name in names:
        candidate, suffix = name, 2
        while candidate in taken:
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        taken.add(candidate)
        unique.append(candidate)
    return unique


# --------------------------------------------------------------------------- numbers


def _looks_numeric(cell: str, delimiter: str) -> bool:
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


def _parse_column(cells: list[str], delimiter: str) -> _ColumnParse | None:
    """Read a column of cells as float64, counting empties and non-numbers.

    The common cases (plain numbers, and decimal commas when the column uses them) run
    at C speed through ``pandas.to_numeric``; only the cells it rejects are inspected
    one by one (missing-value tokens, grouped numbers, quoted numbers, and text).

    Returns
    -------
    _ColumnParse or None
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
                if 100 * n_not_numbers > (100 - _NUMERIC_SHARE_PERCENT) * n_cells:
                    return None
                if example_not_number is None:
                    example_not_number = cell.strip()
                continue
            values[start + offset], decimal_comma, grouped = parsed
            used_decimal_comma |= decimal_comma
            used_thousands |= grouped
    n_non_empty = n_cells - n_missing
    return _ColumnParse(
        values=values,
        n_non_empty=n_non_empty,
        n_numbers=n_non_empty - n_not_numbers,
        n_not_numbers=n_not_numbers,
        example_not_number=example_not_number,
        used_decimal_comma=used_decimal_comma,
        used_thousands_separators=used_thousands,
    )


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
    ignored: list[str] = []
    empty: list[str] = []
    sparse_overflow: list[str] = []
    used_decimal_comma = used_thousands = False
    for index, (name, cells) in enumerate(zip(header, columns, strict=True)):
        parsed = _parse_column(cells, delimiter)
        if parsed is None:
            ignored.append(name)
            continue
        if parsed.n_non_empty == 0:
            empty.append(name)
            ignored.append(name)
            continue
        if 100 * parsed.n_numbers < _NUMERIC_SHARE_PERCENT * parsed.n_non_empty:
            ignored.append(name)
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
    data = pd.DataFrame(
        {name: column[keep] for name, column in numeric.items()}, index=pd.RangeIndex(n_kept)
    )
    return ParsedUpload(
        data=data,
        numeric_columns=tuple(numeric),
        ignored_columns=tuple(ignored),
        n_rows_read=n_rows,
        n_rows_dropped=n_dropped,
        notes=tuple(notes),
    )
