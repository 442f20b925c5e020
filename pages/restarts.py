"""Restarts: every restart's final fit for one K, and the init methods compared."""

from __future__ import annotations

import streamlit as st

import gmm_figures as figures
from gmm_app import compute, controls

settings = controls.current_settings()
st.title("Restarts")
st.caption(
    "EM finds a local optimum that depends on where it starts. Each panel is one restart's "
    "final fit; the histogram shows how often restarts reach the best log-likelihood."
)
points, labels, result = controls.synthetic_fit_or_stop(settings, name="restarts")

k = controls.k_chooser(result.k_values.tolist(), result.best_k("bic"))
row = result.k_index(k)
finals = result.final_log_likelihood[row]
truth = compute.truth(settings.clusters, settings.noise)
left, right = st.columns(2)
left.metric(
    "Restarts within 1e-3 of the best",
    f"{compute.near_best_fraction(finals):.0%}",
    help="Final mean log-likelihood per point at most 0.001 below the best restart's.",
)
right.metric("Mean iterations", controls.format_metric(result.n_iter[row].mean(), ".1f"))
controls.figure_block(
    "restart_grid",
    figures.restart_grid_figure,
    points,
    means=result.means[row, :, :k],
    covariances=result.covariances[row, :, :k],
    weights=result.weights[row, :, :k],
    final_log_likelihood=finals,
    labels=labels,
    component_colors=compute.restart_colors(result, k, truth.means),
    title=f"Final fit of every restart, K = {k}",
)
controls.figure_block(
    "final_log_likelihoods",
    figures.final_log_likelihood_histogram,
    finals,
    tolerance=compute.NEAR_BEST_TOLERANCE,
    title=f"Final log-likelihoods, K = {k}",
)

st.subheader("Init methods side by side")
st.caption(
    "The same data, K, restarts and seed with every initialisation. Near best: within 1e-3 "
    "of the best final log-likelihood any method reached."
)
comparison = controls.init_comparison(settings, k)
if comparison is not None:
    controls.figure_block(
        "init_comparison",
        figures.init_comparison_figure,
        comparison.methods,
        fraction_near_best=comparison.fraction_near_best,
        mean_iterations=comparison.mean_iterations,
        final_log_likelihoods=comparison.final_log_likelihoods,
        title=f"Init methods, K = {k}",
    )
    st.dataframe(compute.comparison_table(comparison), hide_index=True)
controls.sweep_downloads(result, points, labels, settings.as_dict())
