"""The Explore view of a sweep: choosers, readouts, ellipses, animation and log-likelihood.

Used by the Explore and Your data pages. Gets its sweep from the page (which got it from
:mod:`gmm_app.fit_flow`); must not import the fit flow or the sidebar.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

import gmm_core
import gmm_figures as figures
from gmm_app import (
    fit_notes,
    panels_view,
    placing,
    presenter,
    stepper,
    summaries,
    uncertainty_view,
)
from gmm_app.datasets import Truth
from gmm_app.params import TAB, Means
from gmm_app.widgets import (
    NO_TRUTH,
    figure_block,
    fit_download,
    format_metric,
    k_chooser,
    restart_chooser,
    settings_download,
    show_notes,
    sigma_chooser,
)
from gmm_core import geometry


def _project(axes: np.ndarray | None) -> tuple[Callable, Callable]:
    """Functions taking means (..., D) and covariances (..., D, D) to the plotted plane."""
    if axes is None:
        return (lambda means: means), (lambda covariances: covariances)
    return (
        functools.partial(geometry.project_means, axes=axes),
        functools.partial(geometry.project_covariance, axes=axes),
    )


@dataclass(frozen=True)
class _Shown:
    """What the figures of one chosen fit need, in the plotted plane."""

    name: str
    k: int
    restart: int
    sigmas: tuple[float, ...]
    fit: summaries.FitView
    points: np.ndarray  # (N, 2)
    points_full: np.ndarray  # (N, D) as fitted
    result: gmm_core.SweepResult
    means: np.ndarray  # (K, 2)
    covariances: np.ndarray  # (K, 2, 2)
    initial_means: np.ndarray  # (K, 2)
    colors: np.ndarray  # (K,)
    true_labels: np.ndarray | None
    true_means: np.ndarray | None
    true_covariances: np.ndarray | None
    source: str | None


@st.fragment
def fit_explorer(
    points: np.ndarray,
    result: gmm_core.SweepResult,
    *,
    name: str,
    export: Mapping[str, Any],
    truth: Truth | None = None,
    true_labels: np.ndarray | None = None,
    axes: np.ndarray | None = None,
    columns: Sequence[str] | None = None,
    placed: Means = (),
    source: str | None = None,
) -> None:
    """The Explore views of a sweep: choosers, readouts, ellipses, animation, log-likelihood.

    Runs as a fragment, so changing K, the restart or the ellipses redraws only this
    part of the page; the sweep itself comes from the cache and is never refitted.

    Parameters
    ----------
    points : (N, D) the fitted data
    result : the sweep
    name : prefix of widget keys and file names
    export : settings written into the JSON download
    truth, true_labels : the generating mixture and labels (synthetic data only)
    axes : (2, D) projection to the plotted plane, or None when D == 2
    columns : names of the fitted columns (uploaded data)
    placed : the placed means (plotted plane) the sweep started from, () when none
    source : where real data come from (a note on the Panels figure), or None
    """
    k, restart, best, sigmas = _choose_fit(result)
    fit = summaries.fit_view(result, k, restart)
    status = fit_notes.fit_status(result, k, restart)
    _readouts(fit, status, points, true_labels, result.best_k("bic", warn=False))
    show_notes(fit_notes.fit_notes(result, k, restart))
    if presenter.presenting():
        pass  # the chart's title names the fit; the chart stays above the fold
    elif truth is None:
        st.caption(f"Showing K = {k}, restart {restart} (best restart: {best}).")
    else:
        st.caption(
            f"Showing K = {k}, restart {restart} (best restart: {best}). "
            "Fitted ellipses are solid, true ones dashed; colours follow the Hungarian "
            "matching of fitted components to true clusters."
        )
    shown = _in_plane(name, fit, sigmas, points, axes, truth, true_labels, result, source)
    movie = summaries.animation(result, k, restart)
    place_column, uncertainty_column = st.columns(2)
    with place_column:
        placing_on = placing.placing_toggle(name)
    with uncertainty_column:
        uncertain = uncertainty_view.uncertainty_toggle()
    placing.placing_panel(shown.points, placed, name, placing=placing_on)
    if uncertain:
        uncertainty_view.uncertainty_view(
            points,
            movie,
            _project(axes),
            colors=shown.colors,
            name=name,
            title=f"Uncertainty, K = {k}, restart {restart}",
            projected=axes is not None,
        )
    else:
        _figure_tabs(shown, movie, _project(axes))
    # In the fragment, so that both follow the K, restart and radii chosen here.
    left, right = st.columns(2)
    with left:
        fit_download(result, fit, export, name, f"{name}_fit_k{k}_restart{restart}.json", columns)
    with right:
        settings_download(export, name)


def _choose_fit(result: gmm_core.SweepResult) -> tuple[int, int, int, tuple[float, ...]]:
    """The K, restart and ellipse radii choosers; returns K, restart, best restart, radii."""
    choose_k, choose_restart, choose_sigmas = st.columns(3)
    with choose_k:
        k = k_chooser(result.k_values.tolist(), result.best_k("bic", warn=False))
    best = int(result.best_restart()[result.k_index(k)])
    with choose_restart:
        restart = restart_chooser(result.n_restarts, best)
    with choose_sigmas:
        sigmas = sigma_chooser()
    return k, restart, best, sigmas


def _readouts(
    fit: summaries.FitView,
    status: str,
    points: np.ndarray,
    true_labels: np.ndarray | None,
    bic_k: int,
) -> None:
    """Five metrics: final log-likelihood, iterations, convergence, ARI, BIC's K.

    ``status`` is :func:`gmm_app.fit_notes.fit_status` (yes, no, stuck or failed).

    In presenter mode they shrink to one line, so the chart stays above the fold.
    """
    if presenter.presenting():
        st.markdown(
            f"log-likelihood / point {format_metric(fit.final_log_likelihood, '.4f')} · "
            f"{fit.n_iter} iterations · converged: {status} · "
            f"BIC picks K = {bic_k}"
        )
        return
    metrics = st.columns(5)
    metrics[0].metric(
        "Final log-likelihood / point", format_metric(fit.final_log_likelihood, ".4f")
    )
    metrics[1].metric("Iterations", fit.n_iter)
    metrics[2].metric(
        "Converged",
        status,
        help="stuck: stopped at a saddle with near-duplicate components; failed: a "
        "covariance stopped being positive definite.",
    )
    if true_labels is not None:
        score = summaries.ari(true_labels, points, fit)
        metrics[3].metric("ARI vs truth", "—" if math.isnan(score) else f"{score:.3f}")
    else:
        metrics[3].metric(
            f"ARI: {NO_TRUTH}",
            "—",
            help="Real data have no true labels, so there is no ARI to compute.",
        )
    metrics[4].metric("K chosen by BIC", bic_k)


def _in_plane(
    name: str,
    fit: summaries.FitView,
    sigmas: tuple[float, ...],
    points: np.ndarray,
    axes: np.ndarray | None,
    truth: Truth | None,
    true_labels: np.ndarray | None,
    result: gmm_core.SweepResult,
    source: str | None,
) -> _Shown:
    """The chosen fit and the data projected to the plotted plane, colours matched."""
    to_plane, covariance_to_plane = _project(axes)
    means = to_plane(fit.means)
    true_means = None if truth is None else truth.means
    return _Shown(
        name=name,
        k=fit.k,
        restart=fit.restart,
        sigmas=sigmas,
        fit=fit,
        points=to_plane(points),
        points_full=points,
        result=result,
        means=means,
        covariances=covariance_to_plane(fit.covariances),
        initial_means=to_plane(fit.initial_means),
        colors=figures.component_colors_from_matching(true_means, means, fit.weights),
        true_labels=true_labels,
        true_means=true_means,
        true_covariances=None if truth is None else truth.covariances,
        source=source,
    )


def _figure_tabs(
    shown: _Shown, movie: summaries.Animation, projection: tuple[Callable, Callable]
) -> None:
    """The Animation, Step, Panels, Ellipses and Log-likelihood tabs; only the open one is
    built."""
    tabs = dict(
        zip(
            TAB.options,
            st.tabs(list(TAB.options), default=TAB.default, key=TAB.key, bind="query-params"),
            strict=True,
        )
    )
    ellipses_tab, animation_tab = tabs["Ellipses"], tabs["Animation"]
    likelihood_tab = tabs["Log-likelihood"]
    if tabs["Step"].open:
        with tabs["Step"]:
            stepper.step_view(
                shown.points_full,
                shown.result,
                shown.k,
                shown.restart,
                colors=shown.colors,
                sigmas=shown.sigmas,
                projection=projection,
                name=shown.name,
            )
    if tabs["Panels"].open:
        with tabs["Panels"]:
            panels_view.panels_view(
                shown.points_full,
                shown.result,
                shown.k,
                shown.restart,
                colors=shown.colors,
                projection=projection,
                name=shown.name,
                source=shown.source,
            )
    k, restart, name = shown.k, shown.restart, shown.name
    to_plane, covariance_to_plane = projection
    common = {  # what the static and the animated view share
        "labels": shown.true_labels,
        "true_means": shown.true_means,
        "true_covariances": shown.true_covariances,
        "initial_means": shown.initial_means,
        "component_colors": shown.colors,
        "n_sigmas": shown.sigmas,
    }
    views: list[tuple[Any, str, Callable, Callable[[], tuple[Any, dict]]]] = [
        (
            ellipses_tab,
            "ellipses",
            figures.ellipse_figure,
            lambda: (
                shown.points,
                {
                    **common,
                    "means": shown.means,
                    "covariances": shown.covariances,
                    "weights": shown.fit.weights,
                    "title": f"K = {k}, restart {restart}",
                },
            ),
        ),
        (
            animation_tab,
            "animation",
            figures.fit_animation_figure,
            lambda: (
                shown.points,
                {
                    **common,
                    "snapshot_iterations": movie.iterations,
                    "snapshot_weights": movie.weights,
                    "snapshot_means": to_plane(movie.means),
                    "snapshot_covariances": covariance_to_plane(movie.covariances),
                    "traces": movie.traces,
                    "highlighted_restart": restart,
                    "title": f"EM iterations, K = {k}, restart {restart}",
                },
            ),
        ),
        (
            likelihood_tab,
            "log_likelihood",
            figures.log_likelihood_figure,
            lambda: (
                movie.traces,
                {
                    "n_iter": movie.n_iter,
                    "highlighted_restart": restart,
                    "title": f"Log-likelihood of every restart, K = {k}",
                },
            ),
        ),
    ]
    # Only the open tab's figure is built (the tabs are bound, so they track state).
    for tab, suffix, build, inputs in views:
        if tab.open:
            with tab:
                data, options = inputs()
                figure_block(f"{name}_{suffix}", build, data, **options)
