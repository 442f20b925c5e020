"""Small multiples: the fitted ellipses of every restart, best restart first.

Per panel three traces, in this order: ``f"r{r} data"`` (the points), ``f"r{r} ellipses"``
(every component's ellipse in one trace, polygons separated by ``None``) and
``f"r{r} means"`` (component centres in their palette colours).

Pure: Plotly and NumPy only; must not import Streamlit or ``gmm_app``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from plotly.subplots import make_subplots

from gmm_core.checks import check_positive_int
from gmm_figures.spatial import (
    FAINT_OPACITY,
    FAINT_WEIGHT,
    _check_shape,
    _polygons,
    _prepare_points,
    _valid_components,
)
from gmm_figures.style import (
    DATA_GREY,
    SMALL_FONT_SIZE,
    TEXT_COLOR,
    add_notes,
    apply_layout,
    as_float_array,
    as_int_array,
    color_for,
    decimals_for,
    equal_aspect_panel_axes,
    figure_dict,
    plane_ranges,
    plural,
    rounded,
    xy_trace,
)

__all__ = ["restart_grid_figure"]

ELLIPSE_LINE_COLOR = "#333333"
PANEL_HEIGHT_PX = 175


def restart_grid_figure(
    X: ArrayLike,
    *,
    means: ArrayLike,
    covariances: ArrayLike,
    weights: ArrayLike,
    final_log_likelihood: ArrayLike,
    labels: ArrayLike | None = None,
    component_colors: ArrayLike | None = None,
    n_sigma: float = 2.0,
    max_points: int = 1500,
    max_panels: int = 64,
    columns: int = 8,
    title: str | None = None,
) -> dict:
    """One small panel per restart, sorted by final log-likelihood (best first).

    Each panel shows the data (light grey, or faint cluster colours when ``labels`` are
    given), every component's ``n_sigma`` ellipse as one dark line trace, and the component
    centres coloured by ``component_colors``. Axes are hidden and share one range; panel
    titles read ``"r{r}: {ll:.3f}"``. Components with non-finite parameters are skipped
    and components lighter than 1e-3 get a faint centre and no ellipse (both noted).

    Parameters
    ----------
    X
        Shape (N, 2). Non-finite rows are dropped (noted).
    means, covariances, weights
        Shapes (R, K, 2), (R, K, 2, 2), (R, K).
    final_log_likelihood
        Shape (R,); non-finite values sort last and read ``"n/a"``.
    labels
        Shape (N,) int true labels, or ``None``.
    component_colors
        Shape (R, K) int palette indices; ``None`` means ``0..K-1`` in every restart.
    n_sigma
        Mahalanobis radius of the ellipses.
    max_points
        Points drawn per panel at most (the same deterministic subset in every panel).
    max_panels
        Restarts shown at most (the best ones).
    columns
        Panels per row.
    title
        Figure title.

    Returns
    -------
    dict
        A figure dict (:func:`gmm_figures.style.figure_dict`): the points, drawn again in
        every panel, are many thousands of values.
    """
    sigma = float(n_sigma)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"n_sigma must be finite and positive, got {n_sigma!r}")
    panel_limit = check_positive_int(max_panels, "max_panels")
    n_columns = check_positive_int(columns, "columns")
    points, point_labels, notes = _prepare_points(X, labels, max_points)
    fit_means = as_float_array(means, "means")
    if fit_means.ndim != 3 or fit_means.shape[2] != 2 or 0 in fit_means.shape[:2]:
        raise ValueError(f"means must have shape (R, K, 2) with R, K >= 1, got {fit_means.shape}")
    n_restarts, n_components = shape = fit_means.shape[:2]
    fit_covariances = _check_shape(covariances, "covariances", (n_restarts, n_components, 2, 2))
    fit_weights = _check_shape(weights, "weights", shape)
    scores = _check_shape(final_log_likelihood, "final_log_likelihood", (n_restarts,))
    if component_colors is None:
        colors = np.broadcast_to(np.arange(n_components), shape)
    else:
        colors = as_int_array(component_colors, "component_colors")
        if colors.shape != shape:
            raise ValueError(f"component_colors must have shape {shape}, got {colors.shape}")
    valid = _valid_components(fit_means, fit_covariances, fit_weights)  # (R, K) drawable
    if not np.any(valid):
        raise ValueError("every component of every restart has non-finite or invalid parameters")
    n_invalid = int(np.count_nonzero(~valid))
    if n_invalid:
        notes.append(f"{plural(n_invalid, 'component')} with non-finite parameters skipped")
    alive = valid & (fit_weights >= FAINT_WEIGHT)  # (R, K) with an ellipse
    polygons = _polygons(fit_means, fit_covariances, valid, np.array([sigma]))[0]  # (R, K, P, 2)
    # Best scores first, non-finite last, at most panel_limit of them.
    order = np.argsort(np.where(np.isfinite(scores), -scores, np.inf), kind="stable")
    order = order[:panel_limit]
    if order.size < scores.size:
        notes.append(f"showing the best {order.size} of {scores.size} restarts")
    n_columns = min(n_columns, order.size)
    n_rows = math.ceil(order.size / n_columns)
    ranges = plane_ranges(points, 0.06)
    decimals = decimals_for(*ranges, significant=3)
    fig = make_subplots(
        rows=n_rows,
        cols=n_columns,
        subplot_titles=[
            f"r{r}: {scores[r]:.3f}" if np.isfinite(scores[r]) else f"r{r}: n/a" for r in order
        ],
        horizontal_spacing=min(0.02, 0.5 / n_columns),
        vertical_spacing=min(0.25 / n_rows, 0.08),
    )
    # The data drawn in every panel: grey, or faint cluster colours with labels.
    color = DATA_GREY if point_labels is None else [color_for(v) for v in point_labels.tolist()]
    marker = {"size": 3, "color": color, "opacity": 0.25 if point_labels is not None else 0.3}
    data = xy_trace(points, decimals, "data", marker=marker, hoverinfo="skip")
    traces = []
    for panel, r in enumerate(order.tolist()):
        ellipse_x: list[float | None] = []
        ellipse_y: list[float | None] = []
        for k in np.flatnonzero(alive[r]):
            ellipse_x += rounded(polygons[r, k, :, 0], decimals) + [None]
            ellipse_y += rounded(polygons[r, k, :, 1], decimals) + [None]
        shown = np.flatnonzero(valid[r])
        marker = {
            "size": 9,
            "color": [color_for(colors[r, k]) for k in shown],
            "opacity": [1.0 if alive[r, k] else FAINT_OPACITY for k in shown],
            "line": {"width": 1.5, "color": "white"},
        }
        ellipses = {
            "type": "scatter",
            "x": ellipse_x[:-1],
            "y": ellipse_y[:-1],
            "mode": "lines",
            "name": f"r{r} ellipses",
            "line": {"color": ELLIPSE_LINE_COLOR, "width": 2},
            "hoverinfo": "skip",
        }
        centres = xy_trace(
            fit_means[r, shown],
            decimals,
            f"r{r} means",
            marker=marker,
            text=[f"r{r} fit {k} · weight {fit_weights[r, k]:.3f}" for k in shown],
            hovertemplate="%{text}<extra></extra>",
        )
        axes = {"xaxis": f"x{panel + 1}", "yaxis": f"y{panel + 1}"} if panel else {}
        traces += [trace | axes for trace in (data | {"name": f"r{r} data"}, ellipses, centres)]
        equal_aspect_panel_axes(fig, panel, n_columns, ranges)
    fig.update_xaxes(visible=False, autorange=False)
    fig.update_yaxes(visible=False, autorange=False)
    fig.update_annotations(font={"size": SMALL_FONT_SIZE, "color": TEXT_COLOR})
    fig.update_layout(showlegend=False, hovermode="closest")
    height = 90 + PANEL_HEIGHT_PX * n_rows + (50 if title else 0)
    apply_layout(fig, title=title, height=height, template=None)
    fig.update_layout(margin={"l": 20, "r": 20, "b": 20})
    add_notes(fig, notes, y_shift=26, margin=30)
    return figure_dict(fig, traces)
