"""The EM fit animated over its snapshots, next to every restart's log-likelihood curve.

Trace names as in :mod:`gmm_figures.ellipses`, plus ``f"restart {r}"`` and
``f"restart {r} (highlighted)"`` for the log-likelihood curves. Pure: Plotly and NumPy
only; must not import Streamlit or ``gmm_app``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike
from plotly.subplots import make_subplots

from gmm_figures.curves import _check_restart_index, _prepare_curves, restart_curve_style
from gmm_figures.playback import iteration_slider, play_pause_menu
from gmm_figures.spatial import (
    AXIS_TITLES,
    FAINT_OPACITY,
    FAINT_WEIGHT,
    _check_component_colors,
    _check_shape,
    _check_sigmas,
    _data_trace,
    _fit_means_trace,
    _initial_means_trace,
    _polygons,
    _prepare_points,
    _prepare_truth,
    _spatial_ranges,
    _start_valid,
    _style_spatial_axes,
    _true_ellipse_traces,
    _Truth,
    _valid_components,
)
from gmm_figures.style import (
    PALETTE,
    add_notes,
    apply_layout,
    as_float_array,
    as_int_array,
    color_for,
    decimals_for,
    figure_dict,
    integer_tick_step,
    likelihood_range,
    padded_range,
    rings_caption,
    rounded,
)

__all__ = ["fit_animation_figure"]

MAX_FRAMES = 150
ANIMATION_HEIGHT_PX = 640
HIGHLIGHT_COLOR = PALETTE[0]


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
    axis_titles: tuple[str, str] = AXIS_TITLES,
) -> dict:
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
    n_sigmas, max_points, title, axis_titles
        As in :func:`ellipse_figure` (an empty ``n_sigmas`` animates the means only).

    Returns
    -------
    dict
        A figure dict (see :func:`gmm_figures.style.figure_dict`) with ``frames`` named
        ``str(iteration)``, a Play/Pause menu and an iteration slider.
    """
    sigmas = _check_sigmas(n_sigmas)
    points, point_labels, notes = _prepare_points(X, labels, max_points)
    truth = _prepare_truth(true_means, true_covariances, sigmas, notes)
    iterations, snap_means, snap_weights, snap_covariances = _check_snapshots(
        snapshot_iterations, snapshot_weights, snapshot_means, snapshot_covariances
    )
    start_means = _check_shape(initial_means, "initial_means", (snap_means.shape[1], 2))
    colors = _check_component_colors(component_colors, snap_means.shape[1])
    curves = _prepare_curves(traces, notes)
    highlighted = _check_restart_index(highlighted_restart, len(curves))
    snaps = _subsample(iterations, snap_means, snap_weights, snap_covariances, sigmas, notes)
    start_valid = _start_valid(start_means, start_means.shape[0], notes)
    x_range, y_range = _spatial_ranges(points, truth.polygons)
    decimals = decimals_for(x_range, y_range)
    movie = _Frames(snaps, curves, colors, highlighted, decimals, (x_range, y_range))
    fig = _subplots(truth, sigmas, movie)
    _animation_layout(fig, movie, (x_range, y_range), axis_titles, title, notes)
    still = [
        _data_trace(points, point_labels, decimals),
        *_true_ellipse_traces(truth, sigmas, decimals),
        _initial_means_trace(start_means, start_valid, colors, decimals),
    ]
    moving = _animated_traces(movie, sigmas)
    animated = list(range(len(still), len(still) + len(moving)))
    iterations = movie.snaps.iterations
    frames = [
        {"name": str(iteration), "data": movie.frame_data(frame), "traces": animated}
        for frame, iteration in enumerate(iterations)
    ]
    controls = {"updatemenus": [play_pause_menu()], "sliders": [iteration_slider(iterations)]}
    return figure_dict(fig, [*still, *moving], frames, **controls)


# ----------------------------------------------------------------------------------------
# Checked snapshots


@dataclass(frozen=True)
class _Snapshots:
    """The snapshots to animate: sorted by iteration, at most :data:`MAX_FRAMES` of them."""

    iterations: np.ndarray  # (F,)
    means: np.ndarray  # (F, K, 2)
    weights: np.ndarray  # (F, K)
    valid: np.ndarray  # (F, K) components that can be drawn
    polygons: np.ndarray  # (n_sigma, F, K, P, 2)


def _check_snapshots(
    snapshot_iterations: ArrayLike,
    snapshot_weights: ArrayLike,
    snapshot_means: ArrayLike,
    snapshot_covariances: ArrayLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Iterations (S,), means (S, K, 2), weights (S, K), covariances (S, K, 2, 2)."""
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
    return iterations, snap_means, snap_weights, snap_covariances


def _subsample(
    iterations: np.ndarray,
    means: np.ndarray,
    weights: np.ndarray,
    covariances: np.ndarray,
    sigmas: np.ndarray,
    notes: list[str],
) -> _Snapshots:
    """Sort the snapshots, keep at most :data:`MAX_FRAMES` evenly, find the drawable ones."""
    n_snapshots = iterations.size
    order = np.argsort(iterations, kind="stable")
    if n_snapshots > MAX_FRAMES:
        order = order[np.unique(np.round(np.linspace(0, n_snapshots - 1, MAX_FRAMES)).astype(int))]
    means, weights, covariances = means[order], weights[order], covariances[order]
    valid = _valid_components(means, covariances, weights)
    if not np.any(valid):
        raise ValueError("every snapshot component has non-finite or invalid parameters")
    invalid_counts = np.count_nonzero(~valid, axis=0)
    for k in np.flatnonzero(invalid_counts):
        notes.append(
            f"fit {k} not drawn in {invalid_counts[k]} of {order.size} snapshots "
            "(non-finite parameters)"
        )
    polygons = _polygons(means, covariances, valid, sigmas)
    return _Snapshots(iterations[order], means, weights, valid, polygons)


# ----------------------------------------------------------------------------------------
# Frames


class _Frames:
    """The state of every animated trace in each frame (the data of a Plotly frame).

    With redraw=False plotly.js leaves a line trace's old path on screen when its update
    is empty, so a trace with nothing to show gets one invisible point instead.
    """

    def __init__(
        self,
        snaps: _Snapshots,
        curves: list[tuple[np.ndarray, np.ndarray]],
        colors: np.ndarray,
        highlighted: int,
        decimals: int,
        ranges: tuple[list[float], list[float]],
    ) -> None:
        self.snaps, self.curves, self.colors = snaps, curves, colors
        self.highlighted, self.decimals = highlighted, decimals
        self.n_components = snaps.means.shape[1]
        self.n_sigmas = snaps.polygons.shape[0]
        self.last = snaps.iterations.size - 1
        self.faint = ~(snaps.weights >= FAINT_WEIGHT)
        curve_values = [values for _, values in curves if values.size]
        # At least 4 decimals: a very low first value (a start with tiny covariances) must
        # not round the per-point log-likelihoods after it to zero.
        self.curve_decimals = max(decimals_for(*curve_values), 4)
        max_x = max((int(steps[-1]) for steps, _ in curves if steps.size), default=1)
        self.iteration_range = padded_range(0.0, float(max(max_x, 2)), 0.03)
        all_values = np.concatenate(curve_values)
        self.likelihood_range = likelihood_range(all_values, 0.08)
        centre = rounded([np.mean(ranges[0]), np.mean(ranges[1])], decimals)
        self.placeholder = {"type": "scatter", "x": centre[:1], "y": centre[1:], "opacity": 0.0}
        self.curve_placeholder = {
            "type": "scatter",
            "x": [0],
            "y": rounded(self.likelihood_range[:1], self.curve_decimals),
            "opacity": 0.0,
        }
        self.curve_order = [r for r in range(len(curves)) if r != highlighted] + [highlighted]

    def ellipse(self, frame: int, k: int, sigma_index: int) -> dict:
        if not self.snaps.valid[frame, k]:
            return self.placeholder
        polygon = self.snaps.polygons[sigma_index, frame, k]
        return {
            "type": "scatter",
            "x": rounded(polygon[:, 0], self.decimals),
            "y": rounded(polygon[:, 1], self.decimals),
            "opacity": FAINT_OPACITY if self.faint[frame, k] else 1.0,
        }

    def means(self, frame: int) -> dict:
        snaps = self.snaps
        return _fit_means_trace(
            snaps.means[frame], snaps.weights[frame], snaps.valid[frame], self.colors, self.decimals
        )

    def curve(self, frame: int, restart: int) -> dict:
        steps, values = self.curves[restart]
        shown = steps <= self.snaps.iterations[frame]
        if not np.any(shown):
            return self.curve_placeholder
        return {
            "type": "scatter",
            "x": steps[shown].tolist(),
            "y": rounded(values[shown], self.curve_decimals),
            "opacity": 1.0,
        }

    def frame_data(self, frame: int) -> list[dict]:
        """Every animated trace in ``frame``, in the order they were added."""
        data = [
            self.ellipse(frame, k, sigma_index)
            for k in range(self.n_components)
            for sigma_index in range(self.n_sigmas)
        ]
        data.append(self.means(frame))
        data.extend(self.curve(frame, restart) for restart in self.curve_order)
        return data


# ----------------------------------------------------------------------------------------
# Figure pieces


def _subplots(truth: _Truth, sigmas: np.ndarray, movie: _Frames) -> go.Figure:
    """The two panels, without traces: the plane and the log-likelihood curves."""
    left_title = ("solid: fit · dashed: truth" if truth.index.size else "fitted components") + (
        " · " + rings_caption(sigmas) if sigmas.size else ""
    )
    return make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.6, 0.4],
        horizontal_spacing=0.14,
        subplot_titles=(
            left_title,
            f"{len(movie.curves)} restarts · restart {movie.highlighted} highlighted",
        ),
    )


def _animated_traces(movie: _Frames, sigmas: np.ndarray) -> list[dict]:
    """The moving traces as the last frame shows them: fitted ellipses and means, curves."""
    last = movie.last
    traces = []
    for k in range(movie.n_components):
        for sigma_index, sigma in enumerate(sigmas):
            line = {"color": color_for(movie.colors[k]), "width": 3}
            style = {"mode": "lines", "name": f"fit {k} {sigma:g}σ", "line": line}
            ellipse = movie.ellipse(last, k, sigma_index)
            traces.append({**ellipse, **style, "hoverinfo": "skip", "showlegend": False})
    traces.append(movie.means(last))
    for restart in movie.curve_order:  # on the right, with a marker on every iteration
        marker = {"size": 8 if restart == movie.highlighted else 4}
        on_right = {"xaxis": "x2", "yaxis": "y2", "mode": "lines+markers", "marker": marker}
        style = restart_curve_style(restart, movie.highlighted)
        traces.append(movie.curve(last, restart) | on_right | style)
    return traces


def _animation_layout(
    fig: go.Figure,
    movie: _Frames,
    ranges: tuple[list[float], list[float]],
    axis_titles: tuple[str, str],
    title: str | None,
    notes: list[str],
) -> None:
    """Both panels' axes (``ranges``: x, y), legend, title and notes."""
    fig.update_xaxes(
        title_text="EM iteration",
        range=movie.iteration_range,
        autorange=False,
        tick0=0,
        dtick=integer_tick_step(movie.iteration_range[1]),
        row=1,
        col=2,
    )
    fig.update_yaxes(
        title_text="mean log-likelihood",
        range=movie.likelihood_range,
        autorange=False,
        row=1,
        col=2,
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
    )
    _style_spatial_axes(fig, ranges[0], ranges[1], row=1, axis_titles=axis_titles)
    apply_layout(fig, title=title, height=ANIMATION_HEIGHT_PX, template=None)
    fig.update_layout(margin={"t": 130 if title else 100, "b": 120})
    fig.update_annotations(selector={"xref": "paper"}, yshift=4)
    add_notes(fig, notes, y_shift=34, margin=28)
