"""Data with true and fitted confidence ellipses: an EM animation and a static view.

Trace names (stable, for tests and for the app):

* ``"data"``: the points (one trace);
* ``f"true {i} {n:g}σ"``: dashed ellipse of true cluster ``i`` at ``n`` sigmas;
* ``f"fit {k} {n:g}σ"``: solid ellipse of fitted component ``k`` at ``n`` sigmas;
* ``"initial means"`` (``x`` markers) and ``"fit means"`` (dots);
* ``f"restart {r}"`` and ``f"restart {r} (highlighted)"``: log-likelihood curves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike
from plotly.subplots import make_subplots

from gmm_core.geometry import ellipse_polygons
from gmm_core.select import match_components
from gmm_figures.style import (
    DATA_GREY,
    LIGHT_GREY,
    PALETTE,
    SMALL_FONT_SIZE,
    add_notes,
    apply_layout,
    as_float_array,
    as_int_array,
    check_positive_int,
    color_for,
    decimals_for,
    integer_tick_step,
    padded_range,
    plural,
    rounded,
    subsample_indices,
)

__all__ = ["component_colors_from_matching", "ellipse_figure", "fit_animation_figure"]

FAINT_WEIGHT = 1e-3
"""Components lighter than this are drawn faint (and are not matched to the truth)."""
FAINT_OPACITY = 0.3
ELLIPSE_VERTICES = 49
MAX_FRAMES = 150
FRAME_DURATION_MS = 150
ANIMATION_HEIGHT_PX = 640
HIGHLIGHT_COLOR = PALETTE[0]
_PSD_RTOL = 1e-9


def component_colors_from_matching(
    true_means: ArrayLike | None, est_means: ArrayLike, est_weights: ArrayLike
) -> np.ndarray:
    """Palette index of every fitted component, so that it takes its true cluster's colour.

    Components are paired with true clusters by :func:`gmm_core.select.match_components`
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
    means: ArrayLike,
    covariances: ArrayLike,
    weights: ArrayLike,
    initial_means: ArrayLike | None = None,
    component_colors: ArrayLike | None = None,
    n_sigmas: Sequence[float] = (1.0, 2.0, 3.0),
    max_points: int = 5000,
    title: str | None = None,
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
    means, covariances, weights
        Shapes (K, 2), (K, 2, 2), (K,). A component with non-finite or invalid parameters
        is skipped (noted); one with weight < 1e-3 is drawn faint.
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

    Returns
    -------
    go.Figure
        Traces: ``"data"``, ``f"true {i} {n:g}σ"``, ``f"fit {k} {n:g}σ"``,
        ``"initial means"`` (when given), ``"fit means"``.
    """
    sigmas = _check_sigmas(n_sigmas)
    points, point_labels, notes = _prepare_points(X, labels, max_points)
    truth = _prepare_truth(true_means, true_covariances, sigmas, notes)
    fit_means = as_float_array(means, "means")
    if fit_means.ndim != 2 or fit_means.shape[1] != 2:
        raise ValueError(f"means must have shape (K, 2), got {fit_means.shape}")
    n_components = fit_means.shape[0]
    fit_covariances = _check_shape(covariances, "covariances", (n_components, 2, 2))
    fit_weights = _check_shape(weights, "weights", (n_components,))
    colors = _check_component_colors(component_colors, n_components)
    start_means = None
    if initial_means is not None:
        start_means = _check_shape(initial_means, "initial_means", (n_components, 2))
    valid = _valid_components(fit_means, fit_covariances, fit_weights)
    if n_components == 0 or not np.any(valid):
        raise ValueError("every fitted component has non-finite or invalid parameters")
    skipped = np.flatnonzero(~valid)
    if skipped.size:
        names = ", ".join(f"fit {k}" for k in skipped)
        notes.append(f"skipped (non-finite parameters): {names}")
    fit_polygons = _polygons(fit_means, fit_covariances, valid, sigmas)
    start_valid = np.zeros(n_components, bool)
    if start_means is not None:
        start_valid = np.all(np.isfinite(start_means), axis=1)
        if not np.all(start_valid):
            notes.append(f"{plural(int(np.count_nonzero(~start_valid)), 'initial mean')} skipped")

    visible = valid & ~(fit_weights < FAINT_WEIGHT)
    x_range, y_range = _spatial_ranges(points, truth.polygons, fit_polygons[:, visible])
    decimals = decimals_for(x_range, y_range)
    fig = go.Figure()
    fig.add_trace(_data_trace(points, point_labels, decimals))
    for trace in _true_ellipse_traces(truth, sigmas, decimals):
        fig.add_trace(trace)
    faint = fit_weights < FAINT_WEIGHT
    for k in np.flatnonzero(valid):
        for index, sigma in enumerate(sigmas):
            fig.add_trace(
                _fit_ellipse_trace(
                    k, sigma, fit_polygons[index, k], colors[k], bool(faint[k]), decimals
                )
            )
    if start_means is not None:
        fig.add_trace(_initial_means_trace(start_means, start_valid, colors, decimals))
    fig.add_trace(_fit_means_trace(fit_means, fit_weights, valid, colors, decimals))
    _style_spatial_axes(fig, x_range, y_range, row=None)
    fig.update_layout(showlegend=False, hovermode="closest")
    apply_layout(fig, title=title)
    add_notes(fig, notes)
    if notes:
        fig.update_layout(margin_t=fig.layout.margin.t + 30)
    return fig


def fit_animation_figure(
    X: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    true_means: ArrayLike | None = None,
    true_covariances: ArrayLike | None = None,
    snapshot_iterations: ArrayLike,
    snapshot_weights: ArrayLike,
    snapshot_means: ArrayLike,
    snapshot_covariances: ArrayLike,
    initial_means: ArrayLike,
    traces: ArrayLike,
    highlighted_restart: int,
    component_colors: ArrayLike | None = None,
    n_sigmas: Sequence[float] = (1.0, 2.0, 3.0),
    max_points: int = 5000,
    title: str | None = None,
) -> go.Figure:
    """EM fit animated over its snapshots, next to every restart's log-likelihood curve.

    Left: data, true ellipses (dashed), fitted ellipses (solid), initial means (``x``) and
    current fitted means. Right: the mean log-likelihood per EM iteration of every restart
    (grey) with the highlighted restart drawn thick in colour. One frame per snapshot (at
    most 150, evenly subsampled) updates only the fitted ellipses, the fitted means and the
    curves; the figure as built shows the last snapshot. Curves stop where they become
    constant (a converged fit's trace is held at its last value).

    Parameters
    ----------
    X
        Shape (N, 2). Non-finite rows are dropped (noted in an annotation).
    labels
        Shape (N,) int true labels, or ``None``.
    true_means, true_covariances
        Shapes (Kt, 2) and (Kt, 2, 2), or both ``None``.
    snapshot_iterations
        Shape (S,), distinct non-negative ints: the EM iteration of each snapshot.
    snapshot_weights, snapshot_means, snapshot_covariances
        Shapes (S, K), (S, K, 2), (S, K, 2, 2) for the highlighted restart.
    initial_means
        Shape (K, 2).
    traces
        Shape (R, T): mean log-likelihood at iterations ``0..T-1`` of every restart.
    highlighted_restart
        Row of ``traces`` drawn highlighted (the restart whose snapshots are given).
    component_colors
        Shape (K,) int palette index per component; ``None`` means ``0..K-1``.
    n_sigmas, max_points, title
        As in :func:`ellipse_figure` (an empty ``n_sigmas`` animates the means only).

    Returns
    -------
    go.Figure
        With ``frames`` named ``str(iteration)``, a Play/Pause menu and an iteration slider.
    """
    sigmas = _check_sigmas(n_sigmas)
    points, point_labels, notes = _prepare_points(X, labels, max_points)
    truth = _prepare_truth(true_means, true_covariances, sigmas, notes)

    iterations = as_int_array(snapshot_iterations, "snapshot_iterations")
    if iterations.ndim != 1 or iterations.size == 0:
        raise ValueError(
            f"snapshot_iterations must have shape (S,), S >= 1, got {iterations.shape}"
        )
    if np.any(iterations < 0) or np.unique(iterations).size != iterations.size:
        raise ValueError("snapshot_iterations must be distinct non-negative integers")
    n_snapshots = iterations.size
    snap_means = as_float_array(snapshot_means, "snapshot_means")
    if snap_means.ndim != 3 or snap_means.shape[0] != n_snapshots or snap_means.shape[2] != 2:
        raise ValueError(
            f"snapshot_means must have shape ({n_snapshots}, K, 2), got {snap_means.shape}"
        )
    n_components = snap_means.shape[1]
    snap_weights = _check_shape(snapshot_weights, "snapshot_weights", (n_snapshots, n_components))
    snap_covariances = _check_shape(
        snapshot_covariances, "snapshot_covariances", (n_snapshots, n_components, 2, 2)
    )
    start_means = _check_shape(initial_means, "initial_means", (n_components, 2))
    colors = _check_component_colors(component_colors, n_components)
    curves = _prepare_curves(traces, notes)
    n_restarts = len(curves)
    if isinstance(highlighted_restart, bool) or not isinstance(
        highlighted_restart, int | np.integer
    ):
        raise ValueError(f"highlighted_restart must be an int, got {highlighted_restart!r}")
    if not 0 <= highlighted_restart < n_restarts:
        raise ValueError(
            f"highlighted_restart must be in [0, {n_restarts}), got {highlighted_restart}"
        )
    highlighted = int(highlighted_restart)

    order = np.argsort(iterations, kind="stable")
    if n_snapshots > MAX_FRAMES:
        order = order[np.unique(np.round(np.linspace(0, n_snapshots - 1, MAX_FRAMES)).astype(int))]
    frame_iterations = iterations[order]
    snap_means, snap_weights, snap_covariances = (
        snap_means[order],
        snap_weights[order],
        snap_covariances[order],
    )
    valid = _valid_components(snap_means, snap_covariances, snap_weights)
    if not np.any(valid):
        raise ValueError("every snapshot component has non-finite or invalid parameters")
    invalid_counts = np.count_nonzero(~valid, axis=0)
    for k in np.flatnonzero(invalid_counts):
        notes.append(
            f"fit {k} not drawn in {invalid_counts[k]} of {order.size} snapshots "
            "(non-finite parameters)"
        )
    polygons = _polygons(snap_means, snap_covariances, valid, sigmas)  # (n_sigma, S, K, P, 2)

    start_valid = np.all(np.isfinite(start_means), axis=1)
    if not np.all(start_valid):
        notes.append(f"{plural(int(np.count_nonzero(~start_valid)), 'initial mean')} skipped")

    x_range, y_range = _spatial_ranges(points, truth.polygons)
    decimals = decimals_for(x_range, y_range)
    curve_values = [values for _, values in curves if values.size]
    curve_decimals = decimals_for(*curve_values)
    max_x = max((int(steps[-1]) for steps, _ in curves if steps.size), default=1)
    iteration_range = padded_range(0.0, float(max(max_x, 2)), 0.03)
    all_values = np.concatenate(curve_values)
    likelihood_range = padded_range(float(all_values.min()), float(all_values.max()), 0.08)

    left_title = ("solid: fit · dashed: truth" if truth.n_clusters else "fitted components") + (
        " · rings at " + ", ".join(f"{sigma:g}σ" for sigma in sigmas) if sigmas.size else ""
    )
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.6, 0.4],
        horizontal_spacing=0.09,
        subplot_titles=(left_title, f"{n_restarts} restarts · restart {highlighted} highlighted"),
    )
    fig.add_trace(_data_trace(points, point_labels, decimals), row=1, col=1)
    for trace in _true_ellipse_traces(truth, sigmas, decimals):
        fig.add_trace(trace, row=1, col=1)
    fig.add_trace(_initial_means_trace(start_means, start_valid, colors, decimals), row=1, col=1)

    # Animated traces: every fitted ellipse, the fitted means, every curve. With
    # redraw=False plotly.js leaves a line trace's old path on screen when its update is
    # empty, so a trace with nothing to show gets one invisible point instead.
    faint = ~(snap_weights >= FAINT_WEIGHT)
    last = order.size - 1
    centre = rounded([np.mean(x_range), np.mean(y_range)], decimals)
    placeholder = {"type": "scatter", "x": centre[:1], "y": centre[1:], "opacity": 0.0}
    curve_placeholder = {
        "type": "scatter",
        "x": [0],
        "y": rounded(likelihood_range[:1], curve_decimals),
        "opacity": 0.0,
    }

    def ellipse_update(frame: int, k: int, sigma_index: int) -> dict:
        if not valid[frame, k]:
            return placeholder
        polygon = polygons[sigma_index, frame, k]
        return {
            "type": "scatter",
            "x": rounded(polygon[:, 0], decimals),
            "y": rounded(polygon[:, 1], decimals),
            "opacity": FAINT_OPACITY if faint[frame, k] else 1.0,
        }

    def means_update(frame: int) -> dict:
        shown = valid[frame]
        weights = snap_weights[frame]
        return {
            "type": "scatter",
            "x": rounded(snap_means[frame, shown, 0], decimals),
            "y": rounded(snap_means[frame, shown, 1], decimals),
            "text": [f"fit {k} · weight {weights[k]:.3f}" for k in np.flatnonzero(shown)],
            "marker": {
                "color": [color_for(c) for c in colors[shown]],
                "opacity": [FAINT_OPACITY if f else 1.0 for f in faint[frame, shown]],
            },
        }

    curve_order = [r for r in range(n_restarts) if r != highlighted] + [highlighted]

    def curve_update(frame: int, restart: int) -> dict:
        steps, values = curves[restart]
        shown = steps <= frame_iterations[frame]
        if not np.any(shown):
            return curve_placeholder
        return {
            "type": "scatter",
            "x": steps[shown].tolist(),
            "y": rounded(values[shown], curve_decimals),
            "opacity": 1.0,
        }

    first_animated = len(fig.data)
    for k in range(n_components):
        for sigma_index, sigma in enumerate(sigmas):
            update = ellipse_update(last, k, sigma_index)
            fig.add_trace(
                go.Scatter(
                    x=update["x"],
                    y=update["y"],
                    opacity=update["opacity"],
                    mode="lines",
                    name=f"fit {k} {sigma:g}σ",
                    line={"color": color_for(colors[k]), "width": 3},
                    hoverinfo="skip",
                    showlegend=False,
                ),
                row=1,
                col=1,
            )
    means = means_update(last)
    fig.add_trace(
        go.Scatter(
            x=means["x"],
            y=means["y"],
            text=means["text"],
            mode="markers",
            name="fit means",
            marker={
                "symbol": "circle",
                "size": 15,
                "color": means["marker"]["color"],
                "opacity": means["marker"]["opacity"],
                "line": {"width": 2, "color": "white"},
            },
            hovertemplate="%{text}<br>(%{x}, %{y})<extra></extra>",
        ),
        row=1,
        col=1,
    )
    for restart in curve_order:
        update = curve_update(last, restart)
        is_highlighted = restart == highlighted
        fig.add_trace(
            go.Scatter(
                x=update["x"],
                y=update["y"],
                opacity=update["opacity"],
                mode="lines+markers",
                name=f"restart {restart} (highlighted)" if is_highlighted else f"restart {restart}",
                line={
                    "color": HIGHLIGHT_COLOR if is_highlighted else LIGHT_GREY,
                    "width": 4.5 if is_highlighted else 1.5,
                },
                marker={"size": 8 if is_highlighted else 4},
                showlegend=is_highlighted,
                hovertemplate=f"restart {restart}<br>iteration %{{x}}: %{{y}}<extra></extra>",
            ),
            row=1,
            col=2,
        )
    animated = list(range(first_animated, len(fig.data)))

    frames = []
    for frame in range(order.size):
        data = [
            ellipse_update(frame, k, sigma_index)
            for k in range(n_components)
            for sigma_index in range(len(sigmas))
        ]
        data.append(means_update(frame))
        data.extend(curve_update(frame, restart) for restart in curve_order)
        frames.append({"name": str(frame_iterations[frame]), "data": data, "traces": animated})
    fig.frames = frames

    _style_spatial_axes(fig, x_range, y_range, row=1)
    fig.update_xaxes(
        title_text="EM iteration",
        range=iteration_range,
        autorange=False,
        tick0=0,
        dtick=integer_tick_step(iteration_range[1]),
        row=1,
        col=2,
    )
    fig.update_yaxes(
        title_text="mean log-likelihood", range=likelihood_range, autorange=False, row=1, col=2
    )
    fig.update_layout(
        hovermode="closest",
        legend={
            "orientation": "h",
            # Below the modebar (which appears at the top right on hover).
            "yref": "container",
            "y": 1.0 - 56 / ANIMATION_HEIGHT_PX,
            "yanchor": "middle",
            "x": 1.0,
            "xanchor": "right",
            "bgcolor": "rgba(255,255,255,0)",
        },
        updatemenus=[_play_pause_menu()],
        sliders=[_iteration_slider(frame_iterations)],
    )
    apply_layout(fig, title=title, height=ANIMATION_HEIGHT_PX)
    fig.update_layout(margin={"t": 130 if title else 100, "b": 120})
    fig.update_annotations(selector={"xref": "paper"}, yshift=4)
    add_notes(fig, notes, y_shift=34)
    if notes:
        fig.update_layout(margin_t=fig.layout.margin.t + 28)
    return fig


# ----------------------------------------------------------------------------------------
# Input checks


class _Truth:
    """Validated true clusters with their ellipse polygons (invalid clusters removed)."""

    def __init__(self, index: np.ndarray, polygons: np.ndarray) -> None:
        self.index = index  # (Kv,) original cluster indices
        self.polygons = polygons  # (n_sigma, Kv, P, 2)

    @property
    def n_clusters(self) -> int:
        return int(self.index.size)


def _check_sigmas(n_sigmas: Sequence[float]) -> np.ndarray:
    """The ellipse radii as a 1-D float array; empty means no ellipses are drawn."""
    sigmas = as_float_array(n_sigmas, "n_sigmas")
    if sigmas.size == 0:
        return np.zeros(0)
    if sigmas.ndim != 1:
        raise ValueError(f"n_sigmas must be a sequence of numbers, got {n_sigmas!r}")
    if not np.all(np.isfinite(sigmas)) or np.any(sigmas <= 0):
        raise ValueError(f"n_sigmas must be finite and positive, got {n_sigmas!r}")
    return sigmas


def _check_shape(values: ArrayLike, name: str, shape: tuple[int, ...]) -> np.ndarray:
    array = as_float_array(values, name)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    return array


def _check_component_colors(component_colors: ArrayLike | None, n_components: int) -> np.ndarray:
    if component_colors is None:
        return np.arange(n_components, dtype=np.int64)
    colors = as_int_array(component_colors, "component_colors")
    if colors.shape != (n_components,):
        raise ValueError(f"component_colors must have shape ({n_components},), got {colors.shape}")
    return colors


def _prepare_points(
    X: ArrayLike, labels: ArrayLike | None, max_points: int
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Finite rows of X (and their labels), subsampled; notes on what was removed."""
    limit = check_positive_int(max_points, "max_points")
    points = as_float_array(X, "X")
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {points.shape}")
    n_rows = points.shape[0]
    if n_rows == 0:
        raise ValueError("X has no rows")
    label_array = None
    if labels is not None:
        label_array = as_int_array(labels, "labels")
        if label_array.shape != (n_rows,):
            raise ValueError(f"labels must have shape ({n_rows},), got {label_array.shape}")
    finite = np.all(np.isfinite(points), axis=1)
    n_kept = int(np.count_nonzero(finite))
    if n_kept == 0:
        raise ValueError("X has no finite rows: every point holds NaN or inf")
    notes = []
    if n_kept < n_rows:
        notes.append(f"{plural(n_rows - n_kept, 'point')} with missing or infinite values dropped")
    points = points[finite]
    if label_array is not None:
        label_array = label_array[finite]
    index = subsample_indices(n_kept, limit)
    if index.size < n_kept:
        notes.append(f"showing {index.size} of {n_kept} points")
    return points[index], None if label_array is None else label_array[index], notes


def _prepare_truth(
    true_means: ArrayLike | None,
    true_covariances: ArrayLike | None,
    sigmas: np.ndarray,
    notes: list[str],
) -> _Truth:
    if true_means is None and true_covariances is None:
        return _Truth(np.zeros(0, np.int64), np.zeros((sigmas.size, 0, ELLIPSE_VERTICES, 2)))
    if true_means is None or true_covariances is None:
        raise ValueError("give both true_means and true_covariances, or neither")
    means = as_float_array(true_means, "true_means")
    if means.ndim != 2 or means.shape[1] != 2:
        raise ValueError(f"true_means must have shape (Kt, 2), got {means.shape}")
    covariances = _check_shape(true_covariances, "true_covariances", (means.shape[0], 2, 2))
    valid = _valid_components(means, covariances)
    if means.shape[0] > 0 and not np.any(valid):
        raise ValueError("every true cluster has non-finite or invalid parameters")
    skipped = np.flatnonzero(~valid)
    if skipped.size:
        names = ", ".join(f"true {i}" for i in skipped)
        notes.append(f"skipped (non-finite parameters): {names}")
    index = np.flatnonzero(valid)
    polygons = _polygons(means[index], covariances[index], np.ones(index.size, bool), sigmas)
    return _Truth(index, polygons)


def _valid_components(
    means: np.ndarray, covariances: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """(..., K) bool: finite mean, finite PSD covariance and finite non-negative weight."""
    valid = np.all(np.isfinite(means), axis=-1) & np.all(np.isfinite(covariances), axis=(-2, -1))
    if weights is not None:
        valid &= np.isfinite(weights) & (weights >= 0)
    safe = np.where(valid[..., None, None], covariances, np.eye(2))
    eigenvalues = np.linalg.eigvalsh(0.5 * (safe + np.swapaxes(safe, -1, -2)))
    scale = np.max(np.abs(eigenvalues), axis=-1)
    return valid & (eigenvalues[..., 0] >= -_PSD_RTOL * scale)


def _polygons(
    means: np.ndarray, covariances: np.ndarray, valid: np.ndarray, sigmas: np.ndarray
) -> np.ndarray:
    """(n_sigma, ..., P, 2) ellipse polygons; entries of invalid components are zeros."""
    if sigmas.size == 0:
        return np.zeros((0, *valid.shape, ELLIPSE_VERTICES, 2))
    safe_means = np.where(valid[..., None], means, 0.0)
    safe_covariances = np.where(valid[..., None, None], covariances, np.eye(2))
    polygons = np.stack(
        [
            ellipse_polygons(safe_means, safe_covariances, float(sigma), ELLIPSE_VERTICES)
            for sigma in sigmas
        ]
    )
    return np.where(valid[None, ..., None, None], polygons, 0.0)


# ----------------------------------------------------------------------------------------
# Traces and layout pieces


def _prepare_curves(traces: ArrayLike, notes: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per restart: (iterations, finite values), cut where the curve turns constant."""
    array = as_float_array(traces, "traces")
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"traces must have shape (R, T) with R, T >= 1, got {array.shape}")
    finite = np.isfinite(array)
    if not np.any(finite):
        raise ValueError("traces hold no finite log-likelihood value")
    n_dropped = int(np.count_nonzero(~finite))
    if n_dropped:
        notes.append(f"{plural(n_dropped, 'non-finite log-likelihood value')} dropped")
    curves = []
    for row, row_finite in zip(array, finite, strict=True):
        steps = np.flatnonzero(row_finite)
        values = row[steps]
        if values.size:
            differs = np.flatnonzero(values != values[-1])
            keep = int(differs[-1]) + 2 if differs.size else 1
            steps, values = steps[:keep], values[:keep]
        curves.append((steps, values))
    return curves


def _spatial_ranges(
    points: np.ndarray, true_polygons: np.ndarray, fit_polygons: np.ndarray | None = None
) -> tuple[list[float], list[float]]:
    """Axis ranges covering the points, the true and the fitted ellipses, with a margin."""
    shapes = [points, true_polygons.reshape(-1, 2)]
    if fit_polygons is not None:
        fitted = fit_polygons.reshape(-1, 2)
        shapes.append(fitted[np.all(np.isfinite(fitted), axis=1)])
    coordinates = np.concatenate(shapes)
    low, high = coordinates.min(axis=0), coordinates.max(axis=0)
    return (
        padded_range(float(low[0]), float(high[0]), 0.04),
        padded_range(float(low[1]), float(high[1]), 0.04),
    )


def _data_trace(points: np.ndarray, labels: np.ndarray | None, decimals: int) -> go.Scatter:
    size = 7 if points.shape[0] <= 1000 else 5 if points.shape[0] <= 3000 else 4
    color: list[str] | str = (
        DATA_GREY if labels is None else [color_for(label) for label in labels.tolist()]
    )
    return go.Scatter(
        x=rounded(points[:, 0], decimals),
        y=rounded(points[:, 1], decimals),
        mode="markers",
        name="data",
        marker={"size": size, "color": color, "opacity": 0.4, "line": {"width": 0}},
        hoverinfo="skip",
        showlegend=False,
    )


def _true_ellipse_traces(truth: _Truth, sigmas: np.ndarray, decimals: int) -> list[go.Scatter]:
    result = []
    for position, cluster in enumerate(truth.index.tolist()):
        for sigma_index, sigma in enumerate(sigmas):
            polygon = truth.polygons[sigma_index, position]
            result.append(
                go.Scatter(
                    x=rounded(polygon[:, 0], decimals),
                    y=rounded(polygon[:, 1], decimals),
                    mode="lines",
                    name=f"true {cluster} {sigma:g}σ",
                    line={"color": color_for(cluster), "width": 2, "dash": "dash"},
                    hoverinfo="name",
                    showlegend=False,
                )
            )
    return result


def _fit_ellipse_trace(
    k: int, sigma: float, polygon: np.ndarray, color_index: int, faint: bool, decimals: int
) -> go.Scatter:
    return go.Scatter(
        x=rounded(polygon[:, 0], decimals),
        y=rounded(polygon[:, 1], decimals),
        mode="lines",
        name=f"fit {k} {sigma:g}σ",
        opacity=FAINT_OPACITY if faint else 1.0,
        line={"color": color_for(color_index), "width": 3},
        hoverinfo="name",
        showlegend=False,
    )


def _initial_means_trace(
    means: np.ndarray, valid: np.ndarray, colors: np.ndarray, decimals: int
) -> go.Scatter:
    return go.Scatter(
        x=rounded(means[valid, 0], decimals),
        y=rounded(means[valid, 1], decimals),
        mode="markers",
        name="initial means",
        marker={
            "symbol": "x",
            "size": 14,
            "color": [color_for(c) for c in colors[valid]],
            "line": {"width": 1.5, "color": "#222222"},
        },
        hovertemplate="initial mean<br>(%{x}, %{y})<extra></extra>",
    )


def _fit_means_trace(
    means: np.ndarray, weights: np.ndarray, valid: np.ndarray, colors: np.ndarray, decimals: int
) -> go.Scatter:
    shown = np.flatnonzero(valid)
    return go.Scatter(
        x=rounded(means[shown, 0], decimals),
        y=rounded(means[shown, 1], decimals),
        text=[f"fit {k} · weight {weights[k]:.3f}" for k in shown],
        mode="markers",
        name="fit means",
        marker={
            "symbol": "circle",
            "size": 15,
            "color": [color_for(colors[k]) for k in shown],
            "opacity": [FAINT_OPACITY if weights[k] < FAINT_WEIGHT else 1.0 for k in shown],
            "line": {"width": 2, "color": "white"},
        },
        hovertemplate="%{text}<br>(%{x}, %{y})<extra></extra>",
    )


def _style_spatial_axes(
    fig: go.Figure, x_range: list[float], y_range: list[float], *, row: int | None
) -> None:
    """Fixed ranges and equal aspect ratio for the data axes (column 1 when ``row``)."""
    where = {} if row is None else {"row": row, "col": 1}
    fig.update_xaxes(title_text="x₁", range=x_range, autorange=False, constrain="domain", **where)
    fig.update_yaxes(
        title_text="x₂",
        range=y_range,
        autorange=False,
        constrain="domain",
        scaleanchor="x",
        scaleratio=1,
        **where,
    )


def _animation_args(duration_ms: int) -> dict:
    # redraw=False is enough: every animated trace is a plain SVG scatter whose points,
    # opacity and marker colours plotly.js updates in its transition path.
    return {
        "mode": "immediate",
        "frame": {"duration": duration_ms, "redraw": False},
        "transition": {"duration": 0},
    }


def _play_pause_menu() -> dict:
    return {
        "type": "buttons",
        "direction": "left",
        "showactive": False,
        "x": 0.0,
        "xanchor": "left",
        "y": 0.0,
        "yanchor": "top",
        "pad": {"t": 78, "r": 10},
        "font": {"size": SMALL_FONT_SIZE},
        "buttons": [
            {
                "label": "Play",
                "method": "animate",
                "args": [None, {**_animation_args(FRAME_DURATION_MS), "fromcurrent": True}],
            },
            {
                "label": "Pause",
                "method": "animate",
                "args": [[None], _animation_args(0)],
            },
        ],
    }


def _iteration_slider(iterations: np.ndarray) -> dict:
    crowded = iterations.size > 24
    return {
        "active": int(iterations.size - 1),
        "x": 0.2,
        "len": 0.8,
        "xanchor": "left",
        "y": 0.0,
        "yanchor": "top",
        "pad": {"t": 60, "b": 0},
        "currentvalue": {
            "prefix": "iteration ",
            "visible": True,
            "xanchor": "left",
            "font": {"size": SMALL_FONT_SIZE + 2, "color": "#222222"},
        },
        # Many steps: hide the crowded step labels; the current value names the iteration.
        "font": {"size": 12, "color": "rgba(0,0,0,0)" if crowded else "#444444"},
        "ticklen": 4 if crowded else 7,
        "steps": [
            {
                "label": str(iteration),
                "method": "animate",
                "args": [[str(iteration)], _animation_args(0)],
            }
            for iteration in iterations.tolist()
        ],
    }
