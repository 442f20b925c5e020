"""Label columns of an upload: which columns could be the truth, and their groups as codes.

A column of a few distinct integers or strings (iris's ``species`` or ``target``) is
offered as the true labels: it is then not fitted, the ARI is computed against it and
its groups give the "true" ellipses. Pure: no Streamlit; imports only the upload parser.
"""

from __future__ import annotations

import numpy as np

from gmm_app.upload import MAX_LABEL_VALUES, ParsedUpload

MIN_ROWS_PER_CLASS = 2
"""A column is a label candidate only when its rows are at least this many per value."""


def _is_label_column(values: np.ndarray, integers: bool) -> bool:
    if integers and not np.all(values == np.round(values)):
        return False
    n_distinct = np.unique(values).size
    return 2 <= n_distinct <= MAX_LABEL_VALUES and values.size >= MIN_ROWS_PER_CLASS * n_distinct


def label_candidates(parsed: ParsedUpload) -> tuple[str, ...]:
    """Columns that can serve as true labels: text columns first, then integer ones."""
    texts = [
        name
        for name in parsed.text_labels.columns
        if _is_label_column(parsed.text_labels[name].to_numpy(dtype=str), integers=False)
    ]
    numbers = [
        name
        for name in parsed.numeric_columns
        if _is_label_column(parsed.data[name].to_numpy(dtype=np.float64), integers=True)
    ]
    return (*texts, *numbers)


def label_codes(parsed: ParsedUpload, column: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """The column's values as codes ``0..G-1`` (sorted by value) and the value of each code."""
    if column in parsed.text_labels.columns:
        values = parsed.text_labels[column].to_numpy(dtype=str)
        names, codes = np.unique(values, return_inverse=True)
        return codes.astype(np.int64), tuple(str(name) for name in names)
    numbers = parsed.data[column].to_numpy(dtype=np.float64)
    distinct, codes = np.unique(numbers, return_inverse=True)
    return codes.astype(np.int64), tuple(f"{value:g}" for value in distinct)
