"""The uncertainty view: where the components compete for the points.

Trace names (stable, for tests and for the app):

* ``"uncertainty"``: a heatmap over the plane of the responsibilities' entropy,
  divided by log K so that 0 is certain and 1 is a tie between all K components;
* ``"density"``: contours of the mixture's log-density;
* ``"data"``: the points coloured by their responsibilities (component colours blended
  by weight, faint where the largest responsibility is low);
* ``"means"``: the component means.

With several snapshots the figure animates over the iterations (Play and a slider);
every frame carries all four traces.

Pure: Plotly, NumPy, ``gmm_core.density`` and ``gmm_core.tolerances``; must not import
Streamlit or ``gmm_app``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike
from plotly.colors import get_colorscale

from gmm_core.density import log_responsibilities
from gmm_core.mixture import Mixture
from gmm_core.tolerances import POSITIVE_FLOOR
from gmm_figures.em_step import responsibility_colors
from gmm_figures.playback import iteration_slider, play_pause_menu
from gmm_figures.spatial import _style_spatial_axes
from gmm_figures.style import (
    apply_layout,
    as_float_array,
    color_for,
    figure_dict,
    plane_ranges,
    rounded,
    subsample_indices,
    xy_trace,
)

GRID_SIZE = 60
MAX_POINTS = 2000


def normalised_entropy(resp: np.ndarray) -> np.ndarray:
    """Entropy of each row of responsibilities (..., K) divided by log K, in [0, 1].

    0 where one component takes the point, 1 where all K tie; 0 everywhere when K = 1.
    """
    n_components = resp.shape[-1]
    if n_components < 2:
        return np.zeros(resp.shape[:-1])
    safe = np.clip(resp, POSITIVE_FLOOR, 1.0)
    entropy = -(np.where(resp > 0, resp * np.log(safe), 0.0)).sum(axis=-1)
    return np.clip(entropy / np.log(n_components), 0.0, 1.0)


def plane_maps(mixture: Mixture, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised entropy and log density of a mixture in the plane on the grid ``ys`` × ``xs``.

    Components with zero weight are left out. Returns two (len(ys), len(xs)) arrays.
    """
    live = mixture.weights > 0
    grid = np.column_stack([g.ravel() for g in np.meshgrid(xs, ys)])
    log_resp, log_density = log_responsibilities(
        grid, mixture.weights[live], mixture.means[live], mixture.covariances[live]
    )
    shape = (ys.size, xs.size)
    return normalised_entropy(np.exp(log_resp)).reshape(shape), log_density.reshape(shape)


def uncertainty_figure(
    X: ArrayLike,
    iterations: ArrayLike,
    responsibilities: ArrayLike,
    weights: ArrayLike,
    means: ArrayLike,
    covariances: ArrayLike,
    *,
    component_colors: Sequence[int] | None = None,
    grid_size: int = GRID_SIZE,
    title: str | None = None,
    height: int = 560,
) -> dict:
    """The uncertainty heatmap, the density contours and the coloured points, per snapshot.

    Parameters
    ----------
    X : (N, 2) points in the plotted plane
    iterations : (T,) the EM iteration of every snapshot (T = 1: a still figure)
    responsibilities : (T, N, K) of the points (from the full-dimensional fit)
    weights : (T, K); means : (T, K, 2); covariances : (T, K, 2, 2) in the plotted plane
    component_colors : (K,) palette index of every component
    grid_size : grid points per axis of the heatmap and the contours

    Returns a figure dict (:func:`gmm_figures.style.figure_dict`).
    """
    points = as_float_array(X, "X")
    resp = as_float_array(responsibilities, "responsibilities")
    w, m, c = (as_float_array(a, n) for a, n in ((weights, "w"), (means, "m"), (covariances, "c")))
    steps = np.asarray(iterations, dtype=int).reshape(-1)
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] == 0:
        raise ValueError(f"X must have shape (N, 2) with N ≥ 1, got {points.shape}")
    t, n = steps.size, points.shape[0]
    k = w.shape[-1] if w.ndim == 2 else -1
    expected = {"responsibilities": (t, n, k), "weights": (t, k), "means": (t, k, 2)}
    expected["covariances"] = (t, k, 2, 2)
    for name, array in zip(expected, (resp, w, m, c), strict=True):
        if array.shape != expected[name]:
            raise ValueError(f"{name} must have shape {expected[name]}, got {array.shape}")
    if t == 0 or k < 1:
        raise ValueError("the uncertainty view needs at least one snapshot and one component")
    for name, array in (("X", points), ("means", m), ("covariances", c), ("weights", w)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} holds NaN or infinite values")
    colors = list(range(w.shape[1])) if component_colors is None else list(component_colors)
    keep = subsample_indices(points.shape[0], MAX_POINTS)
    x_range, y_range = plane_ranges(np.concatenate([points, m.reshape(-1, 2)]), 0.04)
    xs, ys = np.linspace(*x_range, grid_size), np.linspace(*y_range, grid_size)
    frames = [
        _frame_traces(points[keep], resp[t][keep], Mixture(w[t], m[t], c[t]), xs, ys, colors)
        for t in range(steps.size)
    ]
    fig = go.Figure()
    apply_layout(fig, title=title, height=height, template=None)
    _style_spatial_axes(fig, x_range, y_range, row=None)
    fig.update_layout(showlegend=False, hovermode="closest")
    if steps.size == 1:
        return figure_dict(fig, frames[-1])
    fig.update_layout(margin={"b": 120})
    return figure_dict(
        fig,
        frames[-1],
        [{"data": data, "name": str(step)} for data, step in zip(frames, steps, strict=True)],
        updatemenus=[play_pause_menu(redraw=True)],
        sliders=[iteration_slider(steps, redraw=True)],
    )


def _frame_traces(
    points: np.ndarray,
    resp: np.ndarray,
    mixture: Mixture,
    xs: np.ndarray,
    ys: np.ndarray,
    colors: Sequence[int],
) -> list[dict]:
    """One frame's heatmap, contours, coloured points and means (``mixture``: in the plane)."""
    entropy, log_density = plane_maps(mixture, xs, ys)
    floor = float(np.quantile(log_density, 0.2))  # contours where the data are, not far out
    grid = {"x": rounded(xs, 4), "y": rounded(ys, 4)}
    live = np.flatnonzero(mixture.weights > 0)
    return [
        {
            "type": "heatmap",
            **grid,
            "z": np.round(entropy, 3).tolist(),
            "zmin": 0,
            "zmax": 1,
            "colorscale": [list(step) for step in get_colorscale("Greys")],
            "opacity": 0.55,
            "name": "uncertainty",
            "colorbar": {"title": {"text": "entropy / log K", "side": "right"}, "thickness": 14},
            "hovertemplate": "(%{x:.2f}, %{y:.2f})<br>entropy / log K %{z:.2f}<extra></extra>",
        },
        {
            "type": "contour",
            **grid,
            "z": np.round(np.maximum(log_density, floor), 3).tolist(),
            "contours": {"coloring": "lines", "start": floor, "end": float(log_density.max())},
            "ncontours": 10,
            "line": {"width": 1.2, "color": "#1f3a93"},
            "colorscale": [[0, "#1f3a93"], [1, "#1f3a93"]],
            "showscale": False,
            "name": "density",
            "hoverinfo": "skip",
        },
        xy_trace(
            points,
            4,
            "data",
            marker={"size": 5, "color": responsibility_colors(resp, colors), "line": {"width": 0}},
            hoverinfo="skip",
        ),
        xy_trace(
            mixture.means[live],
            4,
            "means",
            marker={
                "symbol": "circle",
                "size": 14,
                "color": [color_for(colors[k]) for k in live],
                "line": {"width": 2, "color": "white"},
            },
            hovertemplate="mean (%{x}, %{y})<extra></extra>",
        ),
    ]
