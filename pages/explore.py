"""Explore: the synthetic data, the fitted ellipses, EM's animation and the log-likelihood."""

from __future__ import annotations

import streamlit as st

from gmm_app import compute, controls

settings = controls.current_settings()
st.title("Explore")
st.caption(
    "Every K of the range times every restart is fitted at once; pick the K and restart to "
    "look at below. Changing them does not refit."
)
if not controls.show_problems(settings.synthetic_problems()):
    st.stop()

points, labels = compute.synthetic_data(settings.data_key)
truth = compute.truth(settings.clusters, settings.noise)
result = controls.synthetic_sweep(settings, name="explore")
if result is None:
    controls.data_and_settings_downloads(points, labels, settings.as_dict(), "gmm_explorer")
    st.stop()

controls.fit_explorer(
    points,
    result,
    name="explore",
    export=settings.as_dict(),
    truth=truth,
    true_labels=labels,
)
controls.data_download(points, labels, "gmm_explorer_data")
