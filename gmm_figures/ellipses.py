"""Data with true and fitted confidence ellipses (static), and colours matched to the truth.

Trace names (stable, for tests and for the app):

* ``"data"``: the points (one trace);
* ``f"true {i} {n:g}σ"``: dashed ellipse of true cluster ``i`` at ``n`` sigmas;
* ``f"fit {k} {n:g}σ"``: solid ellipse of fitted component ``k`` at ``n`` sigmas;
* ``"initial means"`` (``x`` markers) and ``"fit means"`` (dots);
* ``f"restart {r}"`` and ``f"restart {r} (highlighted)"``: log-likelihood curves
  (in :mod:`gmm_figures.animation`).

Pure: Plotly and NumPy only; must not import Streamlit or ``gmm_app``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike

from gmm_core.mixture import Mixture
from gmm_core.truth_matching import match_components
from gmm_figures.spatial import (
    AXIS_TITLES,
    FAINT_OPACITY,
    FAINT_WEIGHT,
    _check_component_colors,
    _check_shape,
    _check_sigmas,
    _data_trace,
    _ellipse_trace,
    _fit_means_trace,
    _initial_means_trace,
    _polygons,
    _prepare_points,
    _prepare_truth,
    _spatial_ranges,
    _start_valid,
    _style_spatial_axes,
    _true_ellipse_traces,
    _valid_components,
)
from gmm_figures.style import (
    add_notes,
    apply_layout,
    as_float_array,
    color_for,
    decimals_for,
    rings_caption,
)

__all__ = ["component_colors_from_matching", "ellipse_figure"]


def component_colors_from_matching(
    true_means: ArrayLike | None, est_means: ArrayLike, est_weights: ArrayLike
) -> np.ndarray:
    """Palette index of every fitted component, so that it takes its true cluster's colour.

    Components are paired with true clusters by :func:`gmm_core.truth_matching.match_components`
    on the means. Components with non-finite means or a weight below ``1e-3`` take no part.
    Unmatched components get ``Kt, Kt + 1, ...`` in index order, so no two components and
    no unmatched component and true cluster share a colour (up to the palette's length).

    Parameters
    ----------
    true_means
        Shape (Kt, D), or ``None`` (then the result is ``0..K-1``).
    est_means
        Shape (K, D).
    est_weights
        Shape (K,).

    Returns
    -------
    np.ndarray, shape (K,), int64
    """
    est = as_float_array(est_means, "est_means")
    if est.ndim != 2:
        raise ValueError(f"est_means must have shape (K, D), got {est.shape}")
    n_components = est.shape[0]
    weights = as_float_array(est_weights, "est_weights")
    if weights.shape != (n_components,):
        raise ValueError(f"est_weights must have shape ({n_components},), got {weights.shape}")
    if true_means is None:
        return np.arange(n_components, dtype=np.int64)
    truth = as_float_array(true_means, "true_means")
    if truth.ndim != 2 or truth.shape[1] != est.shape[1]:
        raise ValueError(f"true_means must have shape (Kt, {est.shape[1]}), got {truth.shape}")
    colors = np.full(n_components, -1, dtype=np.int64)
    alive = np.all(np.isfinite(est), axis=1) & np.isfinite(weights) & (weights >= FAINT_WEIGHT)
    if truth.shape[0] > 0 and np.any(alive):
        alive_index = np.flatnonzero(alive)
        matching = match_components(truth, est[alive])
        colors[alive_index[matching.est_index]] = matching.true_index
    unmatched = np.flatnonzero(colors < 0)
    colors[unmatched] = truth.shape[0] + np.arange(unmatched.size)
    return colors


def ellipse_figure(
    X: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    true_means: ArrayLike | None = None,
    true_covariances: ArrayLike | None = None,
    mixture: Mixture,
    initial_means: ArrayLike | None = None,
    component_colors: ArrayLike | None = None,
    n_sigmas: Sequence[float] = (1.0, 2.0, 3.0),
    max_points: int = 5000,
    title: str | None = None,
    axis_titles: tuple[str, str] = AXIS_TITLES,
) -> go.Figure:
    """Static view of data, true ellipses (dashed) and fitted ellipses (solid).

    Parameters
    ----------
    X
        Shape (N, 2). Non-finite rows are dropped (noted in an annotation).
    labels
        Shape (N,) int true labels (colour the points), or ``None`` (grey points).
    true_means, true_covariances
        Shapes (Kt, 2) and (Kt, 2, 2), or both ``None``.
    mixture
        The fit, in the plotted plane (D = 2). A component with non-finite or invalid
        parameters is skipped (noted); one with weight < 1e-3 is drawn faint.
    initial_means
        Shape (K, 2): where EM started, drawn as ``x`` markers (non-finite rows skipped,
        noted), or ``None`` to leave them out.
    component_colors
        Shape (K,) int palette index per component; ``None`` means ``0..K-1``.
    n_sigmas
        Mahalanobis radii of the drawn ellipses; empty draws no ellipses (means only).
    max_points
        Points drawn at most (a deterministic random subset).
    title
        Figure title.
    axis_titles
        Titles of the x and y axes (e.g. ``"PC 1 (73% of variance)"``).

    Returns
    -------
    go.Figure
        Traces: ``"data"``, ``f"true {i} {n:g}σ"``, ``f"fit {k} {n:g}σ"``,
        ``"initial means"`` (when given), ``"fit means"``.
    """
    sigmas = _check_sigmas(n_sigmas)
    points, point_labels, notes = _prepare_points(X, labels, max_points)
    truth = _prepare_truth(true_means, true_covariances, sigmas, notes)
    if mixture.n_features != 2:
        raise ValueError(f"means must have shape (K, 2), got {mixture.means.shape}")
    n_components = mixture.n_components
    colors = _check_component_colors(component_colors, n_components)
    start_means = None
    if initial_means is not None:
        start_means = _check_shape(initial_means, "initial_means", (n_components, 2))
    valid = _valid_components(mixture.means, mixture.covariances, mixture.weights)  # (K,)
    if n_components == 0 or not np.any(valid):
        raise ValueError("every fitted component has non-finite or invalid parameters")
    if (skipped := np.flatnonzero(~valid)).size:
        names = ", ".join(f"fit {k}" for k in skipped)
        notes.append(f"skipped (non-finite parameters): {names}")
    start_valid = _start_valid(start_means, n_components, notes)
    polygons = _polygons(mixture.means, mixture.covariances, valid, sigmas)  # (n_sigma, K, P, 2)
    faint = mixture.weights < FAINT_WEIGHT
    x_range, y_range = _spatial_ranges(points, truth.polygons, polygons[:, valid & ~faint])
    decimals = decimals_for(x_range, y_range)
    traces = [_data_trace(points, point_labels, decimals)]
    traces += _true_ellipse_traces(truth, sigmas, decimals)
    traces += [
        _ellipse_trace(
            polygons[index, k],
            decimals,
            f"fit {k} {sigma:g}σ",
            {"color": color_for(colors[k]), "width": 3},
            opacity=FAINT_OPACITY if faint[k] else 1.0,
        )
        for k in np.flatnonzero(valid)
        for index, sigma in enumerate(sigmas)
    ]
    if start_means is not None:
        traces.append(_initial_means_trace(start_means, start_valid, colors, decimals))
    traces.append(_fit_means_trace(mixture.means, mixture.weights, valid, colors, decimals))
    fig = go.Figure(traces)
    _style_spatial_axes(fig, x_range, y_range, row=None, axis_titles=axis_titles)
    fig.update_layout(showlegend=False, hovermode="closest")
    apply_layout(fig, title=title)
    if sigmas.size:
        fig.update_layout(
            title_subtitle_text="solid: fit · dashed: truth · " + rings_caption(sigmas)
        )
    add_notes(fig, notes, margin=30)
    return fig
