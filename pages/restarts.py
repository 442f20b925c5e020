"""Restarts: every restart's final fit for one K, and the init methods compared."""

from __future__ import annotations

import streamlit as st

from gmm_app import datasets, fit_flow, presenter, restarts_view, sidebar, widgets

settings = sidebar.current_settings()
presenter.page_heading(
    "Restarts",
    "EM finds a local optimum that depends on where it starts. Each panel is one restart's "
    "final fit; the histogram shows how often restarts reach the best log-likelihood.",
)
points, labels, result = fit_flow.synthetic_fit_or_stop(settings, name="restarts")

k = widgets.k_chooser(result.k_values.tolist(), result.best_k("bic"))
truth = datasets.settings_truth(settings.data_key)
restarts_view.restart_panels(points, labels, result, truth, k)

st.subheader("Init methods side by side")
st.caption(
    "The same data, K, restarts and seed with every initialisation. Near best: within 1e-3 "
    "of the best final log-likelihood any method reached."
)
comparison = fit_flow.init_comparison(settings, k)
if comparison is not None:
    restarts_view.init_methods_panel(comparison, k)
widgets.sweep_downloads(result, points, labels, settings.as_dict())
