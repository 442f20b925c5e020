"""Parse an untrusted CSV upload into float64 columns and a few label columns.

The "Your data" page hands the raw bytes of an uploaded file to :func:`parse_csv`.
Whatever the bytes are, the parser either returns a :class:`ParsedUpload` or raises
:class:`UploadError` whose message is one user-facing sentence saying what is wrong and
what to do about it. ``pandas.read_csv`` splits the text into cells; this module decodes
the bytes, picks the delimiter, reads the numbers (decimal commas and thousands groups
included) and words the messages.

Pure: NumPy and pandas only (no Streamlit, Plotly or other ``gmm_app`` module), so the
parser can be tested and fuzzed on its own.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

# Keep in sync with `server.maxUploadSize = 20` (megabytes) in `.streamlit/config.toml`:
# Streamlit rejects larger files before they reach us, and this check is the backstop.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_COLUMNS = 200
# Rows × columns: bounds the parsed table (40 MB of float64) whatever the cells look like.
MAX_CELLS = 5_000_000
MIN_NUMERIC_COLUMNS = 1
# Values beyond this magnitude are unusable: squaring them (as EM does) would overflow float64.
MAX_ABS_VALUE = 1e150
# A text column with 2 to this many distinct values, none longer than MAX_LABEL_LENGTH
# characters, is kept (as codes) as a possible column of true labels.
MAX_LABEL_VALUES = 12
MAX_LABEL_LENGTH = 40
# The longest cell read (the csv module's default field limit): longer means broken quoting.
MAX_CELL_CHARS = 131_072

UNEXPECTED_ERROR_MESSAGE = (
    "This file could not be read as CSV because of an unexpected problem; "
    "please save it again as a plain comma-separated UTF-8 file and retry."
)

_NUMERIC_SHARE = 0.9  # a column is numeric when this share of its non-empty cells are numbers
_OVERFLOW_MIN_FILL = 0.5  # columns made only by over-long rows must be at least half filled
_MAX_NAMES_IN_MESSAGE = 5
_DELIMITERS = ("\t", ";", "|", ",")  # order = preference when several split the rows evenly
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
_SNIFF_CHARS = 64 * 1024
_SNIFF_LINES = 50
# Cells that mean "no value" (compared after stripping and lower-casing).
_MISSING = (
    *("", "na", "n/a", "nan", "-nan", "+nan", "null", "none", "nil"),
    *("-", ".", "?", "#n/a", "#na"),
)
_NA_VALUES = sorted({form for token in _MISSING for form in (token, token.upper(), token.title())})
_GROUPS = " '\u00a0\u202f"  # thousands groups besides the comma or dot: space, ', no-break spaces


def _number_shape(point: str, group: str) -> str:
    """A number with an optional thousands ``group`` separator and decimal ``point``.

    Every digit can match one way only, so hostile cells cannot make the regex backtrack.
    """
    groups = re.escape(group) + _GROUPS
    return (
        rf"[+-]?(?:\d{{1,3}}(?:[{groups}]\d{{3}})+|\d*)(?:{re.escape(point)}\d*)?(?:[eE][+-]?\d+)?"
    )


_POINT_SHAPE = _number_shape(".", ",")  # 1,234.5  1 234.5  1,234
_COMMA_SHAPE = _number_shape(",", ".")  # 1.234,5  1 234,5  1,5  1,234
_AMBIGUOUS = r"[+-]?\d{1,3},\d{3}"  # 1,234: a thousands group or a decimal comma

_BINARY_SIGNATURES = {
    b"PK\x03\x04": "ZIP archive",
    b"PK\x05\x06": "ZIP archive",
    b"PK\x07\x08": "ZIP archive",
    b"\x1f\x8b": "gzip archive",
    b"%PDF": "PDF document",
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF87a": "GIF image",
    b"GIF89a": "GIF image",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "legacy Office document such as .xls",
    b"7z\xbc\xaf\x27\x1c": "7-Zip archive",
    b"\xfd7zXZ\x00": "xz archive",
    b"\x28\xb5\x2f\xfd": "Zstandard archive",
    b"SQLite format 3\x00": "SQLite database",
    b"PAR1": "Parquet file",
    b"\x7fELF": "executable program",
}
# catch_warnings swaps process-wide state: two sessions parsing at once must take turns, or
# one could record the other's warnings and miss its own wide rows.
_WARNINGS_LOCK = threading.Lock()
# C0 control characters other than tab, newline, carriage return, vertical tab and form feed.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


class UploadError(ValueError):
    """An uploaded file cannot be used; the message is one user-facing sentence."""


@dataclass(frozen=True)
class ParsedUpload:
    """The numeric columns and label candidates of an uploaded CSV file, every row read.

    A row is left out only where it is used: :meth:`usable` says which rows have a finite
    value of at most ``MAX_ABS_VALUE`` in the columns asked for.

    Attributes
    ----------
    table
        (n_rows_read, n_numeric) float64, columns in file order; NaN where a cell is
        empty or not a number; infinite and too-large values are kept (and unusable).
    ignored_columns
        Columns left out because they are not (mostly) numeric or are empty.
    n_rows_read
        Data rows found in the file (header and blank lines excluded).
    read_notes
        Remarks on how the file was read.
    text_labels
        (n_rows_read, n_labels) categorical: the ignored text columns with 2 to
        :data:`MAX_LABEL_VALUES` distinct stripped values, candidates for true labels.
    """

    table: pd.DataFrame
    ignored_columns: tuple[str, ...]
    n_rows_read: int
    read_notes: tuple[str, ...]
    text_labels: pd.DataFrame

    @property
    def numeric_columns(self) -> tuple[str, ...]:
        """Names of the numeric columns, in file order."""
        return tuple(self.table.columns)

    def usable(self, columns: Sequence[str] | None = None) -> np.ndarray:
        """(n_rows_read,) bool: rows finite and within ``MAX_ABS_VALUE`` in ``columns``
        (every numeric column by default)."""
        values = self.table[list(self.numeric_columns if columns is None else columns)].to_numpy()
        with np.errstate(invalid="ignore"):
            return (np.abs(values) <= MAX_ABS_VALUE).all(axis=1)

    def matrix(self, columns: Sequence[str]) -> np.ndarray:
        """(N, D) float64: the usable rows of ``columns``."""
        return self.table.loc[self.usable(columns), list(columns)].to_numpy(dtype=np.float64)

    @property
    def data(self) -> pd.DataFrame:
        """Every numeric column, only the rows usable in all of them (index reset)."""
        return self.table[self.usable()].reset_index(drop=True)

    @property
    def n_rows(self) -> int:
        """Rows usable in every numeric column."""
        return int(self.usable().sum())

    @property
    def n_rows_dropped(self) -> int:
        """Rows unusable in some numeric column."""
        return self.n_rows_read - self.n_rows

    @property
    def notes(self) -> tuple[str, ...]:
        """:attr:`read_notes` and what :attr:`data` drops."""
        dropped = self.drop_note(self.numeric_columns)
        return (*self.read_notes, dropped) if dropped else self.read_notes

    def drop_note(self, columns: Sequence[str]) -> str | None:
        """Which rows ``columns`` leave out and why; None if none."""
        values = self.table[list(columns)].to_numpy()
        with np.errstate(invalid="ignore"):
            missing = np.isnan(values).any(axis=1)
            infinite = np.isinf(values).any(axis=1) & ~missing
            too_large = (np.abs(values) > MAX_ABS_VALUE).any(axis=1) & ~missing & ~infinite
        reasons = {"empty or not a number": missing, "infinite": infinite}
        reasons["too large in magnitude"] = too_large
        n_dropped = int(sum(rows.sum() for rows in reasons.values()))
        if not n_dropped:
            return None
        detail = ", ".join(
            f"{int(rows.sum())} {why}" for why, rows in reasons.items() if rows.any()
        )
        return f"Dropped {_count(n_dropped, 'row')} with missing or non-finite values ({detail})"


def parse_csv(
    raw: bytes,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
) -> ParsedUpload:
    """Parse untrusted CSV bytes.

    Parameters
    ----------
    raw
        The file content exactly as uploaded (``bytes``, ``bytearray`` or ``memoryview``).
    max_bytes, max_rows, max_columns
        Limits; exceeding any of them (or ``MAX_CELLS``) is an error, never a truncation.

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
        return _parse(bytes(raw), max_bytes, max_rows, max_columns)
    except UploadError:
        raise
    except Exception as error:  # a bug or resource problem must still reach the user politely
        logger.exception("Unexpected failure while parsing an uploaded CSV file")
        raise UploadError(UNEXPECTED_ERROR_MESSAGE) from error


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV (comma-separated, header row, no index) whose floats round-trip exactly."""
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


# --------------------------------------------------------------------------- steps


def _parse(raw: bytes, max_bytes: int, max_rows: int, max_columns: int) -> ParsedUpload:
    """Bytes → text → cells → columns; raise UploadError for anything unusable."""
    if len(raw) > max_bytes:
        raise UploadError(
            f"The file is {_format_size(len(raw))}, which is over the {_format_size(max_bytes)} "
            "upload limit; upload a smaller file or a sample of the rows."
        )
    if not raw:
        raise UploadError(
            "The uploaded file is empty; choose a CSV file with a header row and numeric data."
        )
    notes: list[str] = []
    text = _decode(raw, notes)
    if not text.strip():
        raise UploadError(
            "The uploaded file contains only whitespace; choose a CSV file with numeric data."
        )
    sep = _delimiter(text, max_columns)
    # pandas skips blank lines but not lines of bare delimiters: no row (nor header) either.
    text = re.sub(rf"\n[{re.escape(sep)} \t]*(?=\r?\n|\Z)", "", "\n" + text)[1:]
    if not text:
        raise UploadError("The uploaded file contains no data rows; choose a file with numbers.")
    names, has_header, width = _header(text, sep, max_columns, notes)
    cells = _read_body(text, sep, width, has_header, max_rows, max_columns)
    if cells.shape[1] > len(names):
        notes.append(
            "Some rows had more fields than the first row; the extra fields form columns "
            "named by position"
        )
    if sep != "," and cells.shape[1] > 1:
        notes.append(f"Used {_DELIMITER_NAMES[sep]} as the delimiter")
    if cells.empty:
        raise UploadError(
            "The file has a header row but no data rows; add at least one row of numbers."
        )
    if len(cells) > max_rows:
        raise UploadError(
            f"The file has more than {max_rows:,} data rows, which is the limit; "
            "upload a sample of the rows instead."
        )
    if cells.size > MAX_CELLS:
        raise UploadError(
            f"The file has {len(cells):,} rows × {cells.shape[1]} columns = {cells.size:,} "
            f"cells, more than the limit of {MAX_CELLS:,}; upload fewer rows or columns."
        )
    first_width = len(names)
    names = _unique_names(names + [""] * (cells.shape[1] - first_width))
    return _columns(cells.set_axis(names, axis=1), sep, first_width, notes)


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


# --------------------------------------------------------------------------- bytes → text


def _decode(raw: bytes, notes: list[str]) -> str:
    """Reject binary files; decode UTF-8/16/32 (by BOM), else UTF-8, else cp1252/Latin-1."""
    for signature, kind in _BINARY_SIGNATURES.items():
        if raw.startswith(signature):
            raise _binary_error(kind)
    if re.match(rb"BZh[1-9]1AY&SY", raw):
        raise _binary_error("bzip2 archive")
    if raw.startswith(b"\xef\xbb\xbf"):
        text = raw.decode("utf-8-sig", errors="replace")
        notes.append(
            "Decoded as UTF-8; some invalid bytes were replaced"
            if "\ufffd" in text
            else "Decoded as UTF-8 (the byte-order mark was removed)"
        )
    elif raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")) and len(raw) % 4 == 0:
        text = _decode_marked(raw, "utf-32", "UTF-32", notes)
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _decode_marked(raw, "utf-16", "UTF-16", notes)
    elif b"\x00" in raw:
        text = _decode_utf16_without_bom(raw, notes)
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text, name = raw.decode("cp1252"), "Latin-1 (Windows-1252)"
            except UnicodeDecodeError:
                text, name = raw.decode("latin-1"), "Latin-1 (ISO-8859-1)"
            notes.append(f"Decoded as {name} because the file is not valid UTF-8")
    sample = text[:_SNIFF_CHARS]
    if "\x00" in text or len(_CONTROL_CHARS.findall(sample)) > 0.05 * len(sample):
        raise _binary_error(None)
    return text


def _binary_error(kind: str | None) -> UploadError:
    """The error for files that are not text."""
    what = f"a binary file ({kind})" if kind else "a binary file"
    return UploadError(
        f"This looks like {what}, not CSV text; export the data as a .csv file and upload that."
    )


def _decode_marked(raw: bytes, codec: str, label: str, notes: list[str]) -> str:
    """Decode with a codec announced by a byte-order mark, or explain why that failed."""
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        raise UploadError(
            f"The file starts with a {label} byte-order mark but is not valid {label} text; "
            "save it again as UTF-8 CSV and retry."
        ) from None
    notes.append(f"Decoded as {label}")
    return text


def _decode_utf16_without_bom(raw: bytes, notes: list[str]) -> str:
    """Accept BOM-less UTF-16 (NUL in every other byte); any other NUL byte means binary."""
    even, odd = raw[:4096:2], raw[1:4096:2]
    for codec, nuls, others in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if len(raw) % 2 or len(nuls) < 2 or nuls.count(0) < 0.9 * len(nuls) or 0 in others:
            continue
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            break
        notes.append("Decoded as UTF-16 (no byte-order mark)")
        return text
    raise _binary_error(None)


# --------------------------------------------------------------------------- text → cells


def _delimiter(text: str, max_columns: int) -> str:
    """The first of tab, ``;``, ``|`` and ``,`` that splits the first lines evenly.

    A candidate splits evenly when, quoted text aside, it occurs the same number of
    times (at least once) on the first line and on 80% of the first 50 lines; so
    ``1,5;2,25`` splits on ``;`` and ``"1,234.5"<TAB>7`` on tab. Otherwise the one that
    splits the first line most wins, and a single column reads with ``,``. A first line
    wider than ``max_columns`` is refused here, before pandas makes a column of each field.
    """
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS:
        sample = sample[: sample.rfind("\n")] if "\n" in sample else text.split("\n", 1)[0]
    unquoted = re.sub(r'"[^"]*"', "", sample)
    blank = " " + "".join(_DELIMITERS)  # blank lines and lines of bare delimiters say nothing
    lines = [line for line in unquoted.splitlines() if line.strip(blank)][:_SNIFF_LINES] or [""]
    sep = max(_DELIMITERS[::-1], key=lines[0].count)  # "," when the first line has none
    for candidate in _DELIMITERS:
        counts = [line.count(candidate) for line in lines]
        typical, n_typical = Counter(counts).most_common(1)[0]
        if typical and counts[0] == typical and n_typical >= 0.8 * len(lines):
            sep = candidate
            break
    widest = max(line.count(sep) for line in lines) + 1
    if widest > max_columns:
        raise _too_many_columns_error(widest, max_columns)
    return sep


def _too_many_columns_error(width: int, max_columns: int) -> UploadError:
    """The error for rows wider than the column limit."""
    return UploadError(
        f"The file has a row with {width} fields, more than the limit of {max_columns} "
        "columns; remove unneeded columns and upload again."
    )


def _read_csv(text: str, sep: str, **options: object) -> pd.DataFrame:
    """``pandas.read_csv`` of the text, its parser errors worded for the user."""
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=sep,
            keep_default_na=False,
            skipinitialspace=True,
            engine="c",
            **options,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        if "EOF inside string" in str(error):
            raise UploadError(
                "The file has an unmatched double quote, so everything after it reads as "
                "one cell; remove or close that quote and upload again."
            ) from None
        raise _fields_error(str(error).strip()) from None


def _fields_error(why: str) -> UploadError:
    return UploadError(
        f"The file could not be split into CSV fields ({why}); "
        "check for an unmatched double quote and try again."
    )


def _read_wide(
    text: str, sep: str, max_columns: int, **options: object
) -> tuple[pd.DataFrame, int]:
    """:func:`_read_csv` skipping (with a warning) rows wider than the first; the widest row."""
    with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        cells = _read_csv(text, sep, on_bad_lines="warn", **options)
    wider = [int(n) for w in caught for n in re.findall(r"saw (\d+)", str(w.message))]
    widest = max([cells.shape[1], *wider])
    if widest > max_columns:
        raise _too_many_columns_error(widest, max_columns)
    return cells, widest


def _header(text: str, sep: str, max_columns: int, notes: list[str]) -> tuple[list[str], bool, int]:
    """The first row's cells as column names (empty where unnamed), whether it is a header,
    and the wider of the first two rows.

    The first row is the header unless a cell of it is a number, but pandas' header of
    unnamed columns (``0,1,…``, after an empty cell when the index was written) is a
    header: read as data it would add a point at (0, 1, …).
    """
    head, width = _read_wide(text, sep, max_columns, header=None, nrows=2, dtype=str)
    cells = [cell.strip() for cell in head.iloc[0].tolist()]
    if max(map(len, cells)) > MAX_CELL_CHARS:
        raise _fields_error(f"a field is longer than {MAX_CELL_CHARS:,} characters")
    positions = [str(i) for i in range(len(cells))]
    if len(cells) >= 2 and cells in (positions, ["", *positions[:-1]]):
        notes.append(
            f"Read the first row ({', '.join(cells)}) as column names: it is the header "
            "pandas writes for unnamed columns"
        )
    elif re.search(r"\d", "".join(cells)) and _to_numbers(pd.Series(cells), sep)[0].notna().any():
        notes.append(
            "The first row has numbers, so it was read as data and the columns are named "
            "x0, x1, … by position"
        )
        return [""] * len(cells), False, width
    return cells, True, width


def _read_body(
    text: str,
    sep: str,
    width: int,
    has_header: bool,
    max_rows: int,
    max_columns: int,
) -> pd.DataFrame:
    """The data rows, padded to the widest row; pandas reads the plain numbers.

    A row wider than ``width`` is first skipped with a warning naming its width, then
    the file is read again that wide.
    """
    options = {
        "header": None,
        "skiprows": int(has_header),
        "index_col": False,
        "nrows": max_rows + 1,  # one more than allowed, to notice too many rows
        "na_values": _NA_VALUES,
        "decimal": "," if sep != "," else ".",
        "low_memory": False,  # one type per column, not one per chunk
    }
    cells, widest = _read_wide(text, sep, max_columns, names=range(width), **options)
    if widest > width:
        cells = _read_csv(text, sep, names=range(widest), **options)
    return cells


def _unique_names(names: list[str]) -> list[str]:
    """Empty names become ``x<position>``; repeats get ``_2``, ``_3``…"""
    taken: set[str] = set()
    unique: list[str] = []
    for index, name in enumerate(names):
        name = name or f"x{index}"
        candidate, suffix = name, 2
        while candidate in taken:
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        taken.add(candidate)
        unique.append(candidate)
    return unique


# --------------------------------------------------------------------------- cells → columns


def _to_numbers(text: pd.Series, sep: str) -> tuple[pd.Series, bool, bool]:
    """Stripped cells as float64 (NaN where not a number).

    Plain and scientific numbers first (``pandas.to_numeric``), then the cells that use
    thousands groups (``1,234.5``, ``1.234,5``, ``1 234``) or a decimal comma (``1,5``).
    ``1,234`` is 1.234 or 1234 as the column's unambiguous cells vote: ``1,234.5`` for
    thousands commas, ``1,5`` or ``1.234,5`` for decimal commas; without a majority,
    commas are decimal unless they delimit the file.

    Returns
    -------
    values, used_decimal_comma, used_thousands_groups
    """
    values = pd.to_numeric(text, errors="coerce").astype(np.float64)
    rest = text[values.isna() & text.str.contains(r"\d")]
    if rest.empty:
        return values, False, False
    commas = rest[rest.str.contains(",", regex=False) & ~rest.str.fullmatch(_AMBIGUOUS)]
    thousands = int(commas.str.fullmatch(_POINT_SHAPE).sum())
    decimal = int(commas.str.fullmatch(_COMMA_SHAPE).sum())
    comma_decimal = decimal > thousands if decimal != thousands else sep != ","
    point, groups = (",", f"[.{_GROUPS}]") if comma_decimal else (".", f"[,{_GROUPS}]")
    shaped = rest[rest.str.fullmatch(_COMMA_SHAPE if comma_decimal else _POINT_SHAPE)]
    ungrouped = shaped.str.replace(groups, "", regex=True).str.replace(point, ".", regex=False)
    regrouped = pd.to_numeric(ungrouped, errors="coerce").astype(np.float64)
    values[regrouped.index] = regrouped
    used = shaped[regrouped.notna()]
    used_decimal_comma = comma_decimal and used.str.contains(",", regex=False).any()
    return values, bool(used_decimal_comma), bool(used.str.contains(groups).any())


def _fractional(values: pd.Series) -> bool:
    """Whether a column pandas read with decimal commas has a fractional value."""
    finite = values[np.isfinite(values)]
    return bool((finite != np.round(finite)).any())


def _columns(cells: pd.DataFrame, sep: str, first_width: int, notes: list[str]) -> ParsedUpload:
    """Sort columns into numeric, label candidates and ignored; assemble the result."""
    numeric: dict[str, np.ndarray] = {}
    labels: dict[str, pd.Series] = {}
    ignored: dict[str, list[str]] = {"non-numeric": [], "empty": [], "overflow": []}
    long_labels: list[str] = []
    used_decimal_comma = used_thousands = False
    for index, (name, column) in enumerate(cells.items()):
        # A column pandas read as numbers is done; any other is read from its stripped text.
        is_number = pd.api.types.is_numeric_dtype(column) and column.dtype != bool
        if is_number:
            column = column.astype(np.float64)
            absent = column.isna().to_numpy()
        else:
            column = column.astype("str").fillna("").str.strip()
            if column.str.len().max() > MAX_CELL_CHARS:
                raise _fields_error(f"a field is longer than {MAX_CELL_CHARS:,} characters")
            absent = column.str.lower().isin(_MISSING).to_numpy()
        n_filled = int((~absent).sum())
        if n_filled == 0:
            ignored["empty"].append(name)
            continue
        if is_number:
            values, decimal_comma, grouped = column, sep != "," and _fractional(column), False
        elif _to_numbers(column[~absent].iloc[: n_filled // 10 + 1], sep)[0].isna().all():
            # Over a tenth of the filled cells are text: a text column, whatever the rest holds.
            values, decimal_comma, grouped = pd.Series(np.nan, index=column.index), False, False
        else:
            values, decimal_comma, grouped = _to_numbers(column, sep)
        not_number = values.isna().to_numpy() & ~absent
        n_not_numbers = int(not_number.sum())
        if n_filled - n_not_numbers < _NUMERIC_SHARE * n_filled:
            ignored["non-numeric"].append(name)
            few = column.iloc[: 100 * MAX_LABEL_VALUES].nunique() <= MAX_LABEL_VALUES  # quick no
            if few and 2 <= column.nunique() <= MAX_LABEL_VALUES:
                if column.str.len().max() > MAX_LABEL_LENGTH:
                    long_labels.append(name)
                else:
                    labels[name] = column.astype("category")
        elif index >= first_width and n_filled < _OVERFLOW_MIN_FILL * len(cells):
            ignored["overflow"].append(name)
        else:
            numeric[name] = values.to_numpy()
            used_decimal_comma |= decimal_comma
            used_thousands |= grouped
            if n_not_numbers:
                example = column[not_number].iloc[0]
                notes.append(
                    f"Column {name!r}: {_count(n_not_numbers, 'cell')} that "
                    f"{'is' if n_not_numbers == 1 else 'are'} not a number "
                    f"(for example {example!r}) treated as missing"
                )
    if used_decimal_comma:
        notes.append("Read commas as decimal separators (for example '1,5' as 1.5)")
    if used_thousands:
        notes.append("Removed thousands separators (for example '1,234.5' as 1234.5)")
    for kind, what in (
        ("non-numeric", "non-numeric columns"),
        ("empty", "empty columns"),
        ("overflow", "mostly empty extra columns from over-long rows"),
    ):
        if ignored[kind]:
            notes.append(f"Ignored {what}: {_quoted_list(ignored[kind])}")
    if long_labels:
        notes.append(
            f"Not offered as labels, having a value longer than {MAX_LABEL_LENGTH} characters: "
            f"{_quoted_list(long_labels)}"
        )
    if not numeric:
        raise UploadError(
            f"No numeric columns found: none of the columns ({_quoted_list(list(cells.columns))})"
            f" is mostly numbers, and the fit needs at least "
            f"{_count(MIN_NUMERIC_COLUMNS, 'numeric column')}."
        )
    rows = pd.RangeIndex(len(cells))
    parsed = ParsedUpload(
        table=pd.DataFrame(numeric, index=rows, dtype=np.float64),
        ignored_columns=tuple(name for name in cells.columns if name not in numeric),
        n_rows_read=len(cells),
        read_notes=tuple(notes),
        text_labels=pd.DataFrame(labels, index=rows),
    )
    with np.errstate(invalid="ignore"):
        no_data = not (np.abs(parsed.table.to_numpy()) <= MAX_ABS_VALUE).any()
    if no_data:
        raise UploadError(
            f"All {_count(len(cells), 'row')} had a missing, non-numeric, infinite or too large "
            f"(beyond ±{MAX_ABS_VALUE:g}) value in a numeric column, so no data is left; "
            "fill in or remove those cells and upload again."
        )
    return parsed
