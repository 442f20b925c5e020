"""The Your data view: what was read from the upload, the columns to fit, the plotted plane.

Must not import the fit flow or the sidebar; the parser is :mod:`gmm_app.upload`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import streamlit as st

from gmm_app.app_settings import Settings
from gmm_app.upload import ParsedUpload, to_csv_bytes
from gmm_app.widgets import escape_markdown, view_chooser
from gmm_core import geometry

MAX_FIT_COLUMNS = 16
DEFAULT_FIT_COLUMNS = 8


def upload_data_download(parsed: ParsedUpload, name: str) -> None:
    """The cleaned table: every numeric column, incomplete rows dropped."""
    st.download_button(
        "Download cleaned data (CSV)",
        data=functools.partial(to_csv_bytes, parsed.data),
        file_name=f"{name}_clean.csv",
        mime="text/csv",
        key=f"download_{name}_csv",
        on_click="ignore",
        icon="⬇️",
    )


# --------------------------------------------------------------------------- uploaded data


def upload_summary(parsed: ParsedUpload) -> None:
    """Rows read and dropped, numeric and ignored columns, and the parser's notes."""
    read, dropped, numeric, ignored = st.columns(4)
    read.metric("Rows read", f"{parsed.n_rows_read:,}")
    dropped.metric(
        "Rows dropped",
        f"{parsed.n_rows_dropped:,}",
        help="Rows with a missing or non-finite value.",
    )
    numeric.metric("Numeric columns", len(parsed.numeric_columns))
    ignored.metric("Ignored columns", len(parsed.ignored_columns))
    with st.expander("How the file was read", expanded=False):
        names = ", ".join(escape_markdown(name) for name in parsed.numeric_columns)
        st.markdown(f"**Numeric columns:** {names}")
        if parsed.ignored_columns:
            ignored_names = ", ".join(escape_markdown(name) for name in parsed.ignored_columns)
            st.markdown(f"**Ignored columns:** {ignored_names}")
        for note in parsed.notes:
            st.markdown(f"- {escape_markdown(note, max_chars=300)}")


def column_picker(parsed: ParsedUpload) -> tuple[str, ...]:
    """The numeric columns to fit (the fit runs in all of them)."""
    chosen = st.multiselect(
        "Columns to fit",
        parsed.numeric_columns,
        default=list(parsed.numeric_columns[:DEFAULT_FIT_COLUMNS]),
        max_selections=MAX_FIT_COLUMNS,
        key="upload_columns",
        help=f"The fit uses every chosen column (at most {MAX_FIT_COLUMNS}).",
    )
    return tuple(name for name in parsed.numeric_columns if name in chosen)


def upload_problems(parsed: ParsedUpload, columns: Sequence[str], settings: Settings) -> list[str]:
    """What to change before an uploaded table can be fitted and drawn."""
    if len(parsed.numeric_columns) < 2:
        return [
            "The file has only one numeric column; the fit and its plots need at least two. "
            "Add a numeric column and upload again."
        ]
    if len(columns) < 2:
        return ["Pick at least two numeric columns to fit."]
    return settings.fit_problems(parsed.n_rows)


def plot_axes(points: np.ndarray, columns: Sequence[str]) -> np.ndarray:
    """Choose the plotted plane: the first two principal components or two columns.

    Returns
    -------
    np.ndarray, shape (2, D)
        The projection from the fitted space to the plotted plane.
    """
    view = view_chooser()
    if view == "PCA":
        if points.shape[0] < 2:
            return np.eye(points.shape[1])[:2]
        axes = geometry.principal_axes(points, 2)
        st.caption("Plotted: the first two principal components of the chosen columns.")
        return axes
    left, right = st.columns(2)
    x_name = left.selectbox("x axis", columns, index=0, key="upload_x")
    y_name = right.selectbox("y axis", columns, index=1, key="upload_y")
    return np.eye(len(columns))[[list(columns).index(x_name), list(columns).index(y_name)]]
