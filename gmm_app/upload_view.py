"""The Your data view: what was read from the upload, the columns to fit, the plotted plane.

Must not import the fit flow or the sidebar; the parser is :mod:`gmm_app.upload`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from gmm_app.app_settings import Settings
from gmm_app.labels import label_candidates
from gmm_app.upload import ParsedUpload, to_csv_bytes
from gmm_app.widgets import escape_markdown, view_chooser
from gmm_core import geometry

MAX_FIT_COLUMNS = 16
DEFAULT_FIT_COLUMNS = 8


def upload_data_download(parsed: ParsedUpload, name: str) -> None:
    """The cleaned table: every numeric column, incomplete rows dropped (made on click)."""
    st.download_button(
        "Download cleaned data (CSV)",
        data=lambda: to_csv_bytes(parsed.data),
        file_name=f"{name}_clean.csv",
        mime="text/csv",
        key=f"download_{name}_csv",
        on_click="ignore",
        icon="⬇️",
    )


# --------------------------------------------------------------------------- uploaded data


def upload_summary(parsed: ParsedUpload, columns: Sequence[str]) -> None:
    """Rows read and dropped for ``columns``, numeric and ignored columns, the parser's notes."""
    read, dropped, numeric, ignored = st.columns(4)
    read.metric("Rows read", f"{parsed.n_rows_read:,}")
    dropped.metric(
        "Rows dropped",
        f"{parsed.n_rows_read - int(parsed.usable(columns).sum()):,}",
        help="Rows with a missing or non-finite value in a column chosen to fit; blanks "
        "in the other columns remove nothing.",
    )
    numeric.metric("Numeric columns", len(parsed.numeric_columns))
    ignored.metric("Ignored columns", len(parsed.ignored_columns))
    with st.expander("How the file was read", expanded=False):
        names = ", ".join(escape_markdown(name) for name in parsed.numeric_columns)
        st.markdown(f"**Numeric columns:** {names}")
        if parsed.ignored_columns:
            ignored_names = ", ".join(escape_markdown(name) for name in parsed.ignored_columns)
            st.markdown(f"**Ignored columns:** {ignored_names}")
        dropped_note = parsed.drop_note(columns)
        for note in (*parsed.read_notes, *([dropped_note] if dropped_note else [])):
            st.markdown(f"- {escape_markdown(note, max_chars=300)}")


NO_LABELS = "none"


def label_picker(parsed: ParsedUpload) -> str | None:
    """The column of true labels (not fitted), or None; a candidate is chosen by default."""
    candidates = label_candidates(parsed)
    options = (NO_LABELS, *candidates)
    chosen = st.selectbox(
        "True labels (not fitted)",
        options,
        index=1 if candidates else 0,
        key="upload_labels",
        help="A column of a few distinct integers or strings, such as iris's species. "
        "Marked as the truth, it is left out of the fit; the ARI is computed against it, "
        "the points are coloured by it and the dashed ellipses are its groups' means and "
        "covariances.",
    )
    return None if chosen == NO_LABELS else chosen


def column_picker(parsed: ParsedUpload, label: str | None = None) -> tuple[str, ...]:
    """The numeric columns to fit (the fit runs in all of them); never the label column.

    By default every column that could be a label (iris's integer ``target`` next to its
    ``species``) is left out too, as long as another column remains.
    """
    fittable = [name for name in parsed.numeric_columns if name != label]
    candidates = set(label_candidates(parsed))
    features = [name for name in fittable if name not in candidates] or fittable
    chosen = st.multiselect(
        "Columns to fit",
        parsed.numeric_columns,
        default=features[:DEFAULT_FIT_COLUMNS],
        max_selections=MAX_FIT_COLUMNS,
        key="upload_columns",
        help=f"The fit uses every chosen column (at most {MAX_FIT_COLUMNS}). One column is "
        "fitted as a one-dimensional mixture.",
    )
    if label is not None and label in chosen:
        st.caption(f"{escape_markdown(label)} holds the true labels, so it is not fitted.")
    return tuple(name for name in fittable if name in chosen)


def upload_problems(parsed: ParsedUpload, columns: Sequence[str], settings: Settings) -> list[str]:
    """What to change before an uploaded table can be fitted and drawn."""
    if not columns:
        return ["Pick at least one numeric column to fit (the label column is not fitted)."]
    n_rows = int(parsed.usable(columns).sum())
    if n_rows == 0:
        return [
            "No row has a usable value in every chosen column; choose other columns or "
            "fill in the empty cells."
        ]
    return settings.fit_problems(n_rows)


def variance_shares(points: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """The share of the data's total variance along each row of ``axes``."""
    centred = points - points.mean(axis=0)
    total = float(np.sum(centred**2))
    along = np.sum((centred @ axes.T) ** 2, axis=0)
    return along / total if total > 0 else np.zeros(axes.shape[0])


def pc_titles(points: np.ndarray, axes: np.ndarray) -> tuple[str, str]:
    """Axis titles of the principal components: ``"PC 1 (73% of variance)"``."""
    first, second = variance_shares(points, axes)[:2]
    return f"PC 1 ({first:.0%} of variance)", f"PC 2 ({second:.0%} of variance)"


def plot_axes(
    points: np.ndarray, columns: Sequence[str]
) -> tuple[np.ndarray | None, tuple[str, str]]:
    """Choose the plotted plane: the first two principal components or two columns.

    Returns
    -------
    axes : (2, D) the projection from the fitted space to the plotted plane, or None for
        one column (drawn as a histogram)
    titles : the plotted axes' titles
    """
    if len(columns) == 1:
        return None, (columns[0], "")
    view = view_chooser()
    if view == "PCA":
        if points.shape[0] < 2:
            return np.eye(points.shape[1])[:2], (columns[0], columns[1])
        axes = geometry.principal_axes(points, 2)
        st.caption(
            "Plotted: the first two principal components of the chosen columns; each axis "
            "says how much of the data's variance it shows."
        )
        return axes, pc_titles(points, axes)
    left, right = st.columns(2)
    x_name = left.selectbox("x axis", columns, index=0, key="upload_x")
    y_name = right.selectbox("y axis", columns, index=1, key="upload_y")
    picked = [list(columns).index(x_name), list(columns).index(y_name)]
    return np.eye(len(columns))[picked], (x_name, y_name)
