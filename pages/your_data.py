"""Your data: fit an uploaded CSV file with the sidebar's fit settings, in full dimension."""

from __future__ import annotations

import streamlit as st

from gmm_app import compute, controls
from gmm_app.upload import MAX_UPLOAD_BYTES, UploadError

settings = controls.current_settings()
st.title("Your data")
st.caption(
    "Upload a CSV file with a header row. Numeric columns are detected and rows with missing "
    "values dropped. The sidebar's Fit settings apply; its Data settings are for the "
    "synthetic data only."
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
    parsed = compute.parse_upload(raw)
except UploadError as error:
    controls.show_problems([controls.escape_markdown(str(error), max_chars=600)])
    st.stop()

controls.upload_summary(parsed)
columns = controls.column_picker(parsed)
export = {**settings.as_dict(), "data": "uploaded file", "columns": list(columns)}
for key in ("preset", "clusters", "noise", "n_points", "data_seed"):
    export.pop(key)
controls.upload_data_download(parsed, "your_data")
if not controls.show_problems(controls.upload_problems(parsed, columns, settings)):
    controls.settings_download(export, "your_data")
    st.stop()
points = compute.upload_matrix(raw, columns)
axes = controls.plot_axes(points, columns)
result = controls.uploaded_sweep(raw, columns, parsed.n_rows, settings, name="your_data")
if result is None:
    controls.settings_download(export, "your_data")
    st.stop()

controls.fit_explorer(points, result, name="your_data", export=export, axes=axes, columns=columns)
