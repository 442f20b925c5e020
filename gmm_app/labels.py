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


def _few_groups(n_distinct: int, n_rows: int) -> bool:
    return 2 <= n_distinct <= MAX_LABEL_VALUES and n_rows >= MIN_ROWS_PER_CLASS * n_distinct


def label_candidates(parsed: ParsedUpload) -> tuple[str, ...]:
    """Columns that can serve as true labels: text columns first, then integer ones.

    A numeric column qualifies only when every row has an integer, so that its labels
    cover whichever rows the chosen columns keep.
    """
    texts = [
        name
        for name, column in parsed.text_labels.items()
        if _few_groups(len(column.cat.categories), parsed.n_rows_read)
    ]
    numbers = []
    for name in parsed.numeric_columns:
        values = parsed.table[name].to_numpy()
        if np.all(values == np.round(values)) and _few_groups(np.unique(values).size, values.size):
            numbers.append(name)
    return (*texts, *numbers)


def label_codes(
    parsed: ParsedUpload, column: str, rows: np.ndarray | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The column's values in ``rows`` as codes ``0..G-1`` (sorted by value) and each code's value.

    Parameters
    ----------
    rows : (n_rows_read,) bool, the rows kept for the fit; by default those of
        :attr:`ParsedUpload.data`
    """
    keep = parsed.usable() if rows is None else rows
    if column in parsed.text_labels.columns:
        labels = parsed.text_labels[column]
        present, codes = np.unique(labels.cat.codes.to_numpy()[keep], return_inverse=True)
        return codes.astype(np.int64), tuple(str(labels.cat.categories[i]) for i in present)
    distinct, codes = np.unique(parsed.table[column].to_numpy()[keep], return_inverse=True)
    return codes.astype(np.int64), tuple(f"{value:g}" for value in distinct)
