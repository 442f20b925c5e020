"""Your data: fit an uploaded CSV file with the sidebar's fit settings, in full dimension.

A thin page: widgets and layout from gmm_app; must not import JAX or Plotly.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from gmm_app import (
    datasets,
    explorer,
    fit_flow,
    labels,
    placed_means,
    presenter,
    sidebar,
    upload_view,
    widgets,
)
from gmm_app.upload import MAX_UPLOAD_BYTES, UploadError

settings = sidebar.current_settings()
presenter.page_heading(
    "Your data",
    "Upload a CSV file with a header row. Numeric columns are detected; a row is left out "
    "only when a column you fit has no usable value in it. A column of a few distinct "
    "labels (such as iris's species) is offered as the truth instead of being fitted. The "
    "sidebar's Fit settings apply; its Data settings are for the synthetic data only.",
)
upload = st.file_uploader(
    f"CSV file (at most {MAX_UPLOAD_BYTES // 2**20} MB)",
    type=["csv", "txt", "tsv"],
    key="upload",
)
if upload is None:
    st.info("Choose a CSV file to fit. The Explore page's data can be downloaded as an example.")
    st.stop()

raw = upload.getvalue()
try:
    parsed = datasets.parse_upload(raw)
except UploadError as error:
    widgets.show_problems([widgets.escape_markdown(str(error), max_chars=600)])
    st.stop()

summary = st.container()  # drawn above the pickers, counting the rows the chosen columns drop
label = upload_view.label_picker(parsed)
columns = upload_view.column_picker(parsed, label)
with summary:
    upload_view.upload_summary(parsed, columns)
export = {
    **settings.as_dict(),
    "data": "uploaded file",
    "columns": list(columns),
    "label_column": label,
}
for key in ("preset", "clusters", "noise", "n_points", "data_seed"):
    export.pop(key, None)
upload_view.upload_data_download(parsed, "your_data")
if not widgets.show_problems(upload_view.upload_problems(parsed, columns, settings)):
    widgets.settings_download(export, "your_data")
    st.stop()
points = datasets.upload_matrix(raw, columns)
true_labels = truth = None
if label is not None:
    true_labels, _ = labels.label_codes(parsed, label, parsed.usable(columns))
    truth = datasets.truth_from_labels(points, true_labels)
axes, axis_titles = upload_view.plot_axes(points, columns)
lifted = ()
if settings.init_means:  # placed in the plotted plane, fitted in every column
    lifted = placed_means.lift_means(np.asarray(settings.init_means), axes, points.mean(axis=0))
    lifted = tuple(tuple(mean) for mean in lifted.tolist())
result = fit_flow.uploaded_sweep(
    raw, columns, len(points), settings, name="your_data", init_means=lifted
)
if result is None:
    widgets.settings_download(export, "your_data")
    st.stop()

explorer.fit_explorer(
    points,
    result,
    name="your_data",
    export=export,
    truth=truth,
    true_labels=true_labels,
    axes=axes,
    columns=columns,
    axis_titles=axis_titles,
    placed=settings.init_means,
)
