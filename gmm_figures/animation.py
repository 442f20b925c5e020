"""The EM fit animated over its snapshots, next to every restart's log-likelihood curve.

Trace names as in :mod:`gmm_figures.ellipses`, plus ``f"restart {r}"`` and
``f"restart {r} (highlighted)"`` for the log-likelihood curves. Pure: Plotly and NumPy
only; must not import Streamlit or ``gmm_app``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from plotly.subplots import make_subplots

from gmm_figures.curves import _check_restart_index, restart_curve_style
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
    _valid_components,
)
from gmm_figures.style import (
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
    plural,
    rings_caption,
    rounded,
)

__all__ = ["fit_animation_figure"]

MAX_FRAMES = 150
ANIMATION_HEIGHT_PX = 640


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
    iterations = as_int_array(snapshot_iterations, "snapshot_iterations")
    if iterations.ndim != 1 or iterations.size == 0:
        raise ValueError(
            f"snapshot_iterations must have shape (S,), S >= 1, got {iterations.shape}"
        )
    if np.any(iterations < 0) or np.unique(iterations).size != iterations.size:
        raise ValueError("snapshot_iterations must be distinct non-negative integers")
    n_snapshots = iterations.size
    means = as_float_array(snapshot_means, "snapshot_means")
    if means.ndim != 3 or means.shape[0] != n_snapshots or means.shape[2] != 2:
        raise ValueError(f"snapshot_means must have shape ({n_snapshots}, K, 2), got {means.shape}")
    n_components = means.shape[1]
    weights = _check_shape(snapshot_weights, "snapshot_weights", (n_snapshots, n_components))
    covariances = _check_shape(
        snapshot_covariances, "snapshot_covariances", (n_snapshots, n_components, 2, 2)
    )
    start_means = _check_shape(initial_means, "initial_means", (n_components, 2))
    colors = _check_component_colors(component_colors, n_components)
    array = as_float_array(traces, "traces")
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"traces must have shape (R, T) with R, T >= 1, got {array.shape}")
    finite = np.isfinite(array)
    if not np.any(finite):
        raise ValueError("traces hold no finite log-likelihood value")
    n_dropped = int(np.count_nonzero(~finite))
    if n_dropped:
        notes.append(f"{plural(n_dropped, 'non-finite log-likelihood value')} dropped")
    curves = []  # per restart: (iterations, finite values), cut where the curve turns constant
    for row, row_finite in zip(array, finite, strict=True):
        steps = np.flatnonzero(row_finite)
        values = row[steps]
        if values.size:
            differs = np.flatnonzero(values != values[-1])
            keep = int(differs[-1]) + 2 if differs.size else 1
            steps, values = steps[:keep], values[:keep]
        curves.append((steps, values))
    highlighted = _check_restart_index(highlighted_restart, len(curves))

    # The snapshots sorted by iteration, at most MAX_FRAMES of them kept evenly.
    order = np.argsort(iterations, kind="stable")
    if n_snapshots > MAX_FRAMES:
        order = order[np.unique(np.round(np.linspace(0, n_snapshots - 1, MAX_FRAMES)).astype(int))]
    iterations, means = iterations[order], means[order]
    weights, covariances = weights[order], covariances[order]
    valid = _valid_components(means, covariances, weights)  # (F, K) drawable
    if not np.any(valid):
        raise ValueError("every snapshot component has non-finite or invalid parameters")
    invalid_counts = np.count_nonzero(~valid, axis=0)
    for k in np.flatnonzero(invalid_counts):
        notes.append(
            f"fit {k} not drawn in {invalid_counts[k]} of {order.size} snapshots "
            "(non-finite parameters)"
        )
    polygons = _polygons(means, covariances, valid, sigmas)  # (n_sigma, F, K, P, 2)
    faint = ~(weights >= FAINT_WEIGHT)
    start_valid = _start_valid(start_means, n_components, notes)
    x_range, y_range = _spatial_ranges(points, truth.polygons)
    decimals = decimals_for(x_range, y_range)

    curve_values = [values for _, values in curves if values.size]
    # At least 4 decimals: a very low first value (a start with tiny covariances) must not
    # round the per-point log-likelihoods after it to zero.
    curve_decimals = max(decimals_for(*curve_values), 4)
    max_x = max((int(steps[-1]) for steps, _ in curves if steps.size), default=1)
    iteration_range = padded_range(0.0, float(max(max_x, 2)), 0.03)
    y_curves = likelihood_range(np.concatenate(curve_values), 0.08)
    curve_order = [r for r in range(len(curves)) if r != highlighted] + [highlighted]
    # With redraw=False plotly.js leaves a line trace's old path on screen when its update
    # is empty, so a trace with nothing to show gets one invisible point instead.
    centre = rounded([np.mean(x_range), np.mean(y_range)], decimals)
    placeholder = {"type": "scatter", "x": centre[:1], "y": centre[1:], "opacity": 0.0}
    curve_placeholder = {
        "type": "scatter",
        "x": [0],
        "y": rounded(y_curves[:1], curve_decimals),
        "opacity": 0.0,
    }

    def ellipse(frame: int, k: int, sigma_index: int) -> dict:
        if not valid[frame, k]:
            return placeholder
        polygon = polygons[sigma_index, frame, k]
        x, y = rounded(polygon[:, 0], decimals), rounded(polygon[:, 1], decimals)
        opacity = FAINT_OPACITY if faint[frame, k] else 1.0
        return {"type": "scatter", "x": x, "y": y, "opacity": opacity}

    def fit_means(frame: int) -> dict:
        return _fit_means_trace(means[frame], weights[frame], valid[frame], colors, decimals)

    def curve(frame: int, restart: int) -> dict:
        steps, values = curves[restart]
        shown = steps <= iterations[frame]
        if not np.any(shown):
            return curve_placeholder
        x, y = steps[shown].tolist(), rounded(values[shown], curve_decimals)
        return {"type": "scatter", "x": x, "y": y, "opacity": 1.0}

    def frame_data(frame: int) -> list[dict]:
        """Every animated trace in ``frame``, in the order they were added."""
        data = [ellipse(frame, k, i) for k in range(n_components) for i in range(sigmas.size)]
        return [*data, fit_means(frame), *(curve(frame, r) for r in curve_order)]

    # The moving traces as the last frame shows them: fitted ellipses and means, curves.
    last = iterations.size - 1
    moving = []
    for k in range(n_components):
        for sigma_index, sigma in enumerate(sigmas):
            line = {"color": color_for(colors[k]), "width": 3}
            style = {"mode": "lines", "name": f"fit {k} {sigma:g}σ", "line": line}
            moving.append(
                {**ellipse(last, k, sigma_index), **style, "hoverinfo": "skip", "showlegend": False}
            )
    moving.append(fit_means(last))
    for restart in curve_order:  # on the right, with a marker on every iteration
        marker = {"size": 8 if restart == highlighted else 4}
        on_right = {"xaxis": "x2", "yaxis": "y2", "mode": "lines+markers", "marker": marker}
        moving.append(curve(last, restart) | on_right | restart_curve_style(restart, highlighted))
    still = [
        _data_trace(points, point_labels, decimals),
        *_true_ellipse_traces(truth, sigmas, decimals),
        _initial_means_trace(start_means, start_valid, colors, decimals),
    ]
    animated = list(range(len(still), len(still) + len(moving)))
    frames = [
        {"name": str(iteration), "data": frame_data(frame), "traces": animated}
        for frame, iteration in enumerate(iterations)
    ]

    left_title = ("solid: fit · dashed: truth" if truth.index.size else "fitted components") + (
        " · " + rings_caption(sigmas) if sigmas.size else ""
    )
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.6, 0.4],
        horizontal_spacing=0.14,
        subplot_titles=(left_title, f"{len(curves)} restarts · restart {highlighted} highlighted"),
    )
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
        title_text="mean log-likelihood", range=y_curves, autorange=False, row=1, col=2
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
    _style_spatial_axes(fig, x_range, y_range, row=1, axis_titles=axis_titles)
    apply_layout(fig, title=title, height=ANIMATION_HEIGHT_PX, template=None)
    fig.update_layout(margin={"t": 130 if title else 100, "b": 120})
    fig.update_annotations(selector={"xref": "paper"}, yshift=4)
    add_notes(fig, notes, y_shift=34, margin=28)
    controls = {"updatemenus": [play_pause_menu()], "sliders": [iteration_slider(iterations)]}
    return figure_dict(fig, [*still, *moving], frames, **controls)
