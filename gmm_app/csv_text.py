"""Untrusted CSV bytes to rows of text cells: decoding, delimiter detection, row reading.

Part of the upload parser (:mod:`gmm_app.upload` is its entry point). Pure: it must not
import Streamlit, Plotly, JAX or any other ``gmm_app`` module but :mod:`gmm_app.csv_numbers`.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable

from gmm_app.csv_numbers import looks_numeric

_CONTROL_CHAR_SHARE_LIMIT = 0.05
_SNIFF_SAMPLE_CHARS = 64 * 1024
_SNIFF_SAMPLE_ROWS = 50
_SNIFFER_SAMPLE_CHARS = 4 * 1024
_CANDIDATE_DELIMITERS = ("\t", ";", "|", ",")  # order = preference when scores tie
DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}

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


# C0 control characters other than tab, newline, carriage return, vertical tab and form feed.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


class UploadError(ValueError):
    """An uploaded file cannot be used; the message is one user-facing sentence."""


# --------------------------------------------------------------------------- decoding


def decode(raw: bytes, notes: list[str]) -> str:
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


def detect_delimiter(text: str) -> str:
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
        numeric_share = sum(looks_numeric(cell, delimiter) for cell in cells) / len(cells)
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


def read_rows(
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

    has_header = not any(looks_numeric(cell, delimiter) for cell in first_row)
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
