"""The Restarts view: every restart's final fit for one K, and the init methods compared.

Gets its sweep and comparison from the page (which got them from :mod:`gmm_app.fit_flow`);
must not import the fit flow or the sidebar.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

import gmm_core
import gmm_figures as figures
from gmm_app import summaries
from gmm_app.datasets import Truth
from gmm_app.summaries import InitComparison
from gmm_app.widgets import figure_block, format_metric, k_chooser
from gmm_core.tolerances import NEAR_BEST_TOLERANCE


@st.fragment
def restarts_for_k(
    points: np.ndarray,
    labels: np.ndarray | None,
    result: gmm_core.SweepResult,
    truth: Truth | None,
    compare: Callable[[int], InitComparison | None],
) -> None:
    """The K chooser and everything drawn for that K: the restart panels, the init methods.

    A fragment, so choosing K reruns only this part of the page, not the data or the sweep.
    ``compare(k)`` is the page's init comparison for K (None when it did not run).
    """
    k = k_chooser(result.k_values.tolist(), result.best_k("bic", warn=False))
    restart_panels(points, labels, result, truth, k)
    st.subheader("Init methods side by side")
    st.caption(
        "The same data, K, restarts and seed with every initialisation. Near best: within "
        "1e-3 of the best final log-likelihood any method reached."
    )
    comparison = compare(k)
    if comparison is not None:
        per_method = ("fraction_near_best", "mean_iterations", "final_log_likelihoods")
        figure_block(
            "init_comparison",
            figures.init_comparison_figure,
            comparison.methods,
            **{field: getattr(comparison, field) for field in per_method},
            title=f"Init methods, K = {k}",
        )
        st.dataframe(summaries.comparison_table(comparison), hide_index=True)


def restart_panels(
    points: np.ndarray,
    labels: np.ndarray | None,
    result: gmm_core.SweepResult,
    truth: Truth | None,
    k: int,
) -> None:
    """Share of restarts near the best, mean iterations, every restart's fit, the histogram."""
    row = result.k_index(k)
    true_means = None if truth is None else truth.means
    finals = result.final_log_likelihood[row]
    left, right = st.columns(2)
    left.metric(
        "Restarts within 1e-3 of the best",
        f"{summaries.near_best_fraction(finals):.0%}",
        help="Final mean log-likelihood per point at most 0.001 below the best restart's.",
    )
    right.metric("Mean iterations", format_metric(result.n_iter[row].mean(), ".1f"))
    colors = summaries.restart_colors(result, k, true_means)
    final = result.final
    fits = {
        "weights": final.weights[row, :, :k],
        "means": final.means[row, :, :k],
        "final_log_likelihood": finals,
        "component_colors": colors,
    }
    if points.shape[1] == 1:
        build, title = figures.restart_density_grid_figure, "Final densities"
        fits["variances"] = final.covariances[row, :, :k]
    else:
        build, title = figures.restart_grid_figure, "Final fit"
        fits.update(covariances=final.covariances[row, :, :k], labels=labels)
    figure_block("restart_grid", build, points, **fits, title=f"{title} of every restart, K = {k}")
    figure_block(
        "final_log_likelihoods",
        figures.final_log_likelihood_histogram,
        finals,
        tolerance=NEAR_BEST_TOLERANCE,
        title=f"Final log-likelihoods, K = {k}",
    )
