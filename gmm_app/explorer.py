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
    collapse,
    fit_notes,
    line_view,
    panels_view,
    placing,
    presenter,
    stepper,
    summaries,
    uncertainty_view,
)
from gmm_app.datasets import Truth
from gmm_app.param_types import Means
from gmm_app.params import FIT_DEFAULTS, SIGMAS, TAB, UNCERTAINTY
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
from gmm_core.mixture import Mixture


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
    mixture: Mixture  # the fit in the plane: means (K, 2), covariances (K, 2, 2)
    initial_means: np.ndarray  # (K, 2)
    colors: np.ndarray  # (K,)
    true_labels: np.ndarray | None
    truth: Mixture | None  # the true mixture in the plane
    axis_titles: tuple[str, str]
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
    axis_titles: tuple[str, str] = figures.AXIS_TITLES,
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
    truth, true_labels : the generating mixture and labels (synthetic data, or an upload's
        label column)
    axes : (2, D) projection to the plotted plane, or None when D ≤ 2
    columns : names of the fitted columns (uploaded data)
    placed : the placed means (plotted plane) the sweep started from, () when none
    source : where real data come from (a note on the Panels figure), or None
    axis_titles : titles of the plotted axes (the first names the 1-D histogram's axis)
    """
    k, restart, best, sigmas = _choose_fit(result, one_dimensional=points.shape[1] == 1)
    fit = summaries.fit_view(result, k, restart)
    status = fit_notes.fit_status(result, k, restart)
    message = collapse.status_message(fit, points)
    eigenvalue = result.settings.reg_covar != FIT_DEFAULTS.reg_covar or message is not None
    _readouts(fit, status, points, true_labels, result.best_k("bic", warn=False), eigenvalue)
    show_notes(fit_notes.fit_notes(result, k, restart))
    collapse.collapse_readout(fit, message, always=eigenvalue)
    if presenter.presenting():
        pass  # the chart's title names the fit; the chart stays above the fold
    elif truth is None:
        st.caption(f"Showing K = {k}, restart {restart} (best restart: {best}).")
    else:
        shapes = "densities" if points.shape[1] == 1 else "ellipses"
        st.caption(
            f"Showing K = {k}, restart {restart} (best restart: {best}). "
            f"Fitted {shapes} are solid, true ones dashed; colours follow the Hungarian "
            "matching of fitted components to true clusters."
        )
    projection = _project(axes)
    to_plane = projection[0]
    mixture = _mixture_in_plane(fit.mixture, projection)
    true_mixture = None if truth is None else _mixture_in_plane(truth.mixture, projection)
    true_means = None if true_mixture is None else true_mixture.means
    shown = _Shown(
        name=name,
        k=k,
        restart=restart,
        sigmas=sigmas,
        fit=fit,
        points=to_plane(points),
        points_full=points,
        result=result,
        mixture=mixture,
        initial_means=to_plane(fit.initial_means),
        colors=figures.component_colors_from_matching(true_means, mixture.means, mixture.weights),
        true_labels=true_labels,
        truth=true_mixture,
        axis_titles=axis_titles,
        source=source,
    )
    movie = summaries.animation(result, k, restart)
    # The placing and uncertainty switches (two or more columns); in presenter mode they
    # are hidden and ``uncertainty=true`` in the link decides.
    uncertain = points.shape[1] > 1 and st.query_params.get(UNCERTAINTY.key) == "true"
    if points.shape[1] > 1 and not presenter.presenting():
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
            projection,
            colors=shown.colors,
            name=name,
            title=f"Uncertainty, K = {k}, restart {restart}",
            projected=axes is not None,
        )
    else:
        _figure_tabs(shown, movie, projection)
    # In the fragment, so that both follow the K, restart and radii chosen here.
    left, right = st.columns(2)
    with left:
        fit_download(result, fit, export, name, f"{name}_fit_k{k}_restart{restart}.json", columns)
    with right:
        settings_download(export, name)


def _choose_fit(
    result: gmm_core.SweepResult, *, one_dimensional: bool = False
) -> tuple[int, int, int, tuple[float, ...]]:
    """The K, restart and ellipse radii choosers; returns K, restart, best restart, radii.

    One-dimensional data has no ellipses, so no radii chooser (its radii are the defaults).
    """
    columns = st.columns(2 if one_dimensional else 3)
    with columns[0]:
        k = k_chooser(result.k_values.tolist(), result.best_k("bic", warn=False))
    best = int(result.best_restart()[result.k_index(k)])
    with columns[1]:
        restart = restart_chooser(result.n_restarts, best)
    if one_dimensional:
        return k, restart, best, SIGMAS.default
    with columns[2]:
        return k, restart, best, sigma_chooser()


def _readouts(
    fit: summaries.FitView,
    status: str,
    points: np.ndarray,
    true_labels: np.ndarray | None,
    bic_k: int,
    eigenvalue: bool = False,
) -> None:
    """Five metrics: final log-likelihood, iterations, convergence, ARI, BIC's K.

    ``status`` is :func:`gmm_app.fit_notes.fit_status` (yes, no, stuck or failed). The
    presenter line also names the smallest covariance eigenvalue when ``eigenvalue``.

    In presenter mode they shrink to one line, so the chart stays above the fold.
    """
    final = "failed" if fit.failed else format_metric(fit.final_log_likelihood, ".4f")
    if presenter.presenting():
        smallest = format_metric(collapse.smallest_eigenvalue(fit), ".3g")
        st.markdown(
            f"log-likelihood / point {final} · {fit.n_iter} iterations · converged: {status} "
            f"· BIC picks K = {bic_k}" + (f" · min eigenvalue {smallest}" if eigenvalue else "")
        )
        return
    metrics = st.columns(5)
    metrics[0].metric("Final log-likelihood / point", final)
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
            help="No true labels: real data have none, and an upload has them only when "
            "a label column is marked.",
        )
    metrics[4].metric("K chosen by BIC", bic_k)


def _mixture_in_plane(mixture: Mixture, projection: tuple[Callable, Callable]) -> Mixture:
    """``mixture`` with its means and covariances projected to the plotted plane."""
    to_plane, covariance_to_plane = projection
    return Mixture(
        mixture.weights, to_plane(mixture.means), covariance_to_plane(mixture.covariances)
    )


def _figure_tabs(
    shown: _Shown, movie: summaries.Animation, projection: tuple[Callable, Callable]
) -> None:
    """The Animation, Step, Panels, Ellipses and Log-likelihood tabs; only the open one is
    built (the tabs are bound, so they track state)."""
    tabs = dict(
        zip(
            TAB.options,
            st.tabs(list(TAB.options), default=TAB.default, key=TAB.key, bind="query-params"),
            strict=True,
        )
    )
    name, k, restart = shown.name, shown.k, shown.restart
    if shown.points_full.shape[1] == 1:
        line_view.density_tabs(
            tabs,
            shown.points_full,
            shown.fit,
            movie,
            colors=shown.colors,
            truth=shown.truth,
            axis_title=shown.axis_titles[0],
            name=name,
        )
    else:
        _plane_tabs(tabs, shown, movie, projection)
    if tabs["Log-likelihood"].open:
        with tabs["Log-likelihood"]:
            figure_block(
                f"{name}_log_likelihood",
                figures.log_likelihood_figure,
                movie.traces,
                n_iter=movie.n_iter,
                highlighted_restart=restart,
                title=f"Log-likelihood of every restart, K = {k}",
            )


def _plane_tabs(
    tabs: Mapping[str, Any],
    shown: _Shown,
    movie: summaries.Animation,
    projection: tuple[Callable, Callable],
) -> None:
    """The Panels, Step, Ellipses and Animation tabs in the plotted plane (the open one)."""
    name, k, restart = shown.name, shown.k, shown.restart
    chosen = (shown.points_full, shown.result, k, restart)  # the fit both walk through
    drawn = {"colors": shown.colors, "projection": projection, "name": name}
    if tabs["Panels"].open:
        with tabs["Panels"]:
            panels_view.panels_view(*chosen, **drawn, source=shown.source)
    if tabs["Step"].open:
        with tabs["Step"]:
            stepper.step_view(*chosen, **drawn, sigmas=shown.sigmas)
    to_plane, covariance_to_plane = projection
    truth = shown.truth
    common = {  # what the static and the animated view share
        "labels": shown.true_labels,
        "true_means": None if truth is None else truth.means,
        "true_covariances": None if truth is None else truth.covariances,
        "initial_means": shown.initial_means,
        "component_colors": shown.colors,
        "n_sigmas": shown.sigmas,
        "axis_titles": shown.axis_titles,
    }
    if tabs["Ellipses"].open:
        with tabs["Ellipses"]:
            figure_block(
                f"{name}_ellipses",
                figures.ellipse_figure,
                shown.points,
                **common,
                mixture=shown.mixture,
                title=f"K = {k}, restart {restart}",
            )
    if tabs["Animation"].open:
        with tabs["Animation"]:
            figure_block(
                f"{name}_animation",
                figures.fit_animation_figure,
                shown.points,
                **common,
                snapshot_iterations=movie.iterations,
                snapshot_weights=movie.weights,
                snapshot_means=to_plane(movie.means),
                snapshot_covariances=covariance_to_plane(movie.covariances),
                traces=movie.traces,
                highlighted_restart=restart,
                title=f"EM iterations, K = {k}, restart {restart}",
            )
