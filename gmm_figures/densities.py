"""One-dimensional mixtures: a histogram of the data with component and mixture densities.

Pure: arrays and :class:`gmm_core.mixture.Mixture` records in, ``go.Figure`` out; must not
import Streamlit or ``gmm_app``. Each fitted component is drawn as its *weighted* density
``w_k N(x | μ_k, σ_k²)``, so the components add up to the mixture density drawn above them;
the true ones are dashed.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike
from plotly.subplots import make_subplots

from gmm_core.mixture import Mixture
from gmm_figures.playback import iteration_slider, play_pause_menu
from gmm_figures.spatial import _check_component_colors
from gmm_figures.style import (
    TEMPLATE,
    add_notes,
    apply_layout,
    as_float_array,
    color_for,
    decimals_for,
    figure_dict,
    padded_range,
    plural,
    rounded,
)

GRID_POINTS = 240
MAX_BINS = 60
Y_TOP = 1.8
"""The y axis stops at this many times the tallest bar, so a collapsed component's spike
runs off the top instead of flattening everything else."""
MIXTURE_COLOR = "#222222"


class _Components(NamedTuple):
    """Checked 1-D parameters of a mixture or a stack of them (snapshots, restarts), variances
    flattened; ``valid`` marks the drawable components."""

    weights: np.ndarray  # (..., K)
    means: np.ndarray  # (..., K)
    variances: np.ndarray  # (..., K)
    valid: np.ndarray  # (..., K)

    def at(self, index: int) -> _Components:
        """One mixture of a stack: every field's row ``index``."""
        return _Components(*(field[index] for field in self))


def _components(weights: ArrayLike, means: ArrayLike, variances: ArrayLike) -> _Components:
    """Flatten means (..., K[, 1]) and variances (..., K[, 1, 1]) to (..., K); check shapes."""
    w = as_float_array(weights, "weights")
    m = as_float_array(means, "means").reshape(w.shape)
    v = as_float_array(variances, "variances").reshape(w.shape)
    valid = np.isfinite(w) & np.isfinite(m) & np.isfinite(v) & (v > 0) & (w > 0)
    return _Components(w, m, v, valid)


def _mixture_parts(mixture: Mixture) -> _Components:
    """The checked parameters of a 1-D mixture: means (K, 1), covariances (K, 1, 1)."""
    if mixture.n_features != 1:
        raise ValueError(f"a 1-D mixture needs means of shape (K, 1), got {mixture.means.shape}")
    return _components(mixture.weights, mixture.means, mixture.covariances)


def weighted_densities(grid: np.ndarray, parts: _Components) -> np.ndarray:
    """(..., K, G) ``w_k N(x | μ_k, σ_k²)`` on the grid, 0 for invalid components."""
    w = np.where(parts.valid, parts.weights, 0.0)[..., None]
    m = np.where(parts.valid, parts.means, 0.0)[..., None]
    v = np.where(parts.valid, parts.variances, 1.0)[..., None]
    return w * np.exp(-0.5 * (grid - m) ** 2 / v) / np.sqrt(2.0 * math.pi * v)


def _points(X: ArrayLike, notes: list[str]) -> np.ndarray:
    """Finite values of X (N,) or (N, 1); non-finite ones dropped and noted."""
    values = as_float_array(X, "X")
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"X must have shape (N,) or (N, 1), got {values.shape}")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError("X has no finite value")
    if finite.size < values.size:
        notes.append(f"{plural(values.size - finite.size, 'non-finite point')} dropped")
    return finite


def _histogram(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bar centres and heights of a density histogram (at most :data:`MAX_BINS` bins)."""
    edges = np.histogram_bin_edges(points, bins="auto")
    if edges.size - 1 > MAX_BINS:
        edges = np.linspace(edges[0], edges[-1], MAX_BINS + 1)
    heights, edges = np.histogram(points, bins=edges, density=True)
    return 0.5 * (edges[:-1] + edges[1:]), heights


def _grid(points: np.ndarray) -> np.ndarray:
    """Where the densities are evaluated: the data's range, padded."""
    low, high = float(points.min()), float(points.max())
    if high <= low:
        low, high = low - 1.0, high + 1.0
    return np.linspace(*padded_range(low, high, 0.08), GRID_POINTS)


def _line(x: list, y: list, name: str, color: str, **style: object) -> dict:
    return {
        "type": "scatter",
        "x": x,
        "y": y,
        "mode": "lines",
        "name": name,
        "line": {"color": color, **style},
        "hovertemplate": f"{name}<br>x=%{{x}}<br>density=%{{y}}<extra></extra>",
    }


def _fit_updates(
    grid: np.ndarray, fit: _Components, colors: np.ndarray, decimals: int
) -> list[dict]:
    """Data of the moving traces: the mixture, then every fitted component's density.

    The grid gains every fitted mean inside it, so a component that has collapsed to a
    narrow spike still shows its peak.
    """
    inside = fit.valid & (fit.means > grid[0]) & (fit.means < grid[-1])
    grid = np.sort(np.concatenate([grid, fit.means[inside]]))
    curves = weighted_densities(grid, fit)
    x = rounded(grid, decimals)
    updates = [{"x": x, "y": rounded(curves.sum(axis=0), 5)}]
    updates.extend({"x": x, "y": rounded(curves[k], 5)} for k in range(curves.shape[0]))
    return updates


def _fit_traces(updates: list[dict], colors: np.ndarray) -> list[dict]:
    """The mixture (under the components, so their colours stay visible), then each one."""
    first, *components = updates
    traces = [_line(first["x"], first["y"], "fit mixture", MIXTURE_COLOR, width=3)]
    traces.extend(
        _line(u["x"], u["y"], f"fit {k} density", color_for(colors[k]), width=2.5)
        for k, u in enumerate(components)
    )
    return traces


def _bars(centres: np.ndarray, heights: np.ndarray, decimals: int, **style: object) -> dict:
    """The data's density histogram (grey bars)."""
    return {
        "type": "bar",
        "x": rounded(centres, decimals),
        "y": rounded(heights, 5),
        "name": "data",
        "marker": {"color": "rgba(120,120,120,0.35)"},
        **style,
    }


def _histogram_figure(
    points: np.ndarray,
    truth: _Components | None,
    axis_title: str,
    title: str | None,
    notes: list[str],
    template: str | None,
) -> tuple[go.Figure, list[dict], np.ndarray, int]:
    """The laid-out figure without traces, the still traces (histogram, then the dashed true
    mixture and weighted true densities, one legend entry for all), the grid (G,) and the
    decimals of its values."""
    grid = _grid(points)
    decimals = decimals_for(grid)
    centres, heights = _histogram(points)
    hover = "x≈%{x}<br>density %{y}<extra>data</extra>"
    still = [_bars(centres, heights, decimals, showlegend=False, hovertemplate=hover)]
    if truth is not None:
        curves = weighted_densities(grid, truth)
        x = rounded(grid, decimals)
        mixture = rounded(curves.sum(axis=0), 5)
        still.append(_line(x, mixture, "true mixture", "#777777", dash="dash", width=2))
        for k in np.flatnonzero(truth.valid):  # in the legend as "true mixture" only
            line = _line(x, rounded(curves[k], 5), f"true {k} density", color_for(k), dash="dash")
            still.append({**line, "showlegend": False, "line": {**line["line"], "width": 1.5}})
    fig = go.Figure()
    fig.update_xaxes(title_text=axis_title, range=[float(grid[0]), float(grid[-1])])
    fig.update_yaxes(title_text="density", range=[0.0, max(float(heights.max()), 1e-12) * Y_TOP])
    fig.update_layout(
        bargap=0.02,
        hovermode="closest",
        legend={  # one row inside the top: the y axis leaves room above the tallest bar
            "orientation": "h",
            "x": 0.0,
            "xanchor": "left",
            "y": 1.0,
            "yanchor": "top",
            "bgcolor": "rgba(255,255,255,0.7)",
        },
    )
    apply_layout(fig, title=title, template=template)
    fig.update_layout(title_subtitle_text="solid: fit · dashed: truth · weighted densities")
    add_notes(fig, notes)
    return fig, still, grid, decimals


def mixture_histogram_figure(
    X: ArrayLike,
    *,
    mixture: Mixture,
    truth: Mixture | None = None,
    component_colors: ArrayLike | None = None,
    axis_title: str = "x",
    title: str | None = None,
) -> go.Figure:
    """Histogram of 1-D data with each fitted component's weighted density and the mixture.

    Parameters
    ----------
    X
        Shape (N,) or (N, 1); non-finite values are dropped (noted).
    mixture
        The fit (D = 1). Components with a non-finite or non-positive variance or weight
        are left out (noted).
    truth
        The generating mixture (D = 1), drawn dashed, or ``None``.
    component_colors
        Shape (K,) palette index per component; ``None`` means ``0..K-1``.
    axis_title, title
        The x axis's and the figure's titles.

    Returns
    -------
    go.Figure
        Traces ``"data"`` (bars), ``f"true {i} density"``, ``"true mixture"``,
        ``f"fit {k} density"``, ``"fit mixture"``.
    """
    notes: list[str] = []
    points = _points(X, notes)
    fit = _mixture_parts(mixture)
    true_parts = None if truth is None else _mixture_parts(truth)
    colors = _check_component_colors(component_colors, fit.weights.size)
    if not fit.valid.any():
        raise ValueError("every fitted component has non-finite or invalid parameters")
    if skipped := [f"fit {k}" for k in np.flatnonzero(~fit.valid)]:
        notes.append("left out (weight 0 or invalid): " + ", ".join(skipped))
    fig, still, grid, decimals = _histogram_figure(
        points, true_parts, axis_title, title, notes, TEMPLATE
    )
    fig.add_traces([*still, *_fit_traces(_fit_updates(grid, fit, colors, decimals), colors)])
    return fig


def mixture_animation_figure(
    X: ArrayLike,
    *,
    snapshot_iterations: ArrayLike,
    snapshot_weights: ArrayLike,
    snapshot_means: ArrayLike,
    snapshot_variances: ArrayLike,
    truth: Mixture | None = None,
    component_colors: ArrayLike | None = None,
    axis_title: str = "x",
    title: str | None = None,
) -> dict:
    """:func:`mixture_histogram_figure` animated over EM's stored snapshots.

    Parameters
    ----------
    snapshot_iterations
        Shape (S,): the EM iteration of each snapshot.
    snapshot_weights, snapshot_means, snapshot_variances
        Shapes (S, K), (S, K[, 1]), (S, K[, 1, 1]).
    truth, component_colors, axis_title, title
        As in :func:`mixture_histogram_figure`.

    Returns
    -------
    dict
        A figure dict with one frame per snapshot named ``str(iteration)``, carrying only
        the fitted density traces; the figure as built shows the last snapshot.
    """
    notes: list[str] = []
    points = _points(X, notes)
    iterations = np.asarray(snapshot_iterations, dtype=np.int64).reshape(-1)
    snaps = _components(snapshot_weights, snapshot_means, snapshot_variances)
    if snaps.weights.ndim != 2 or snaps.weights.shape[0] != iterations.size:
        raise ValueError("snapshots must have shape (S, K) with S snapshot iterations")
    true_parts = None if truth is None else _mixture_parts(truth)
    colors = _check_component_colors(component_colors, snaps.weights.shape[1])
    fig, still, grid, decimals = _histogram_figure(
        points, true_parts, axis_title, title, notes, None
    )
    fig.update_layout(margin={"b": 130})
    frames = [_fit_updates(grid, snaps.at(s), colors, decimals) for s in range(iterations.size)]
    moving = list(range(len(still), len(still) + len(frames[-1])))
    frame_dicts = [
        {"name": str(int(it)), "data": [{"type": "scatter", **u} for u in data], "traces": moving}
        for it, data in zip(iterations, frames, strict=True)
    ]
    controls = {"updatemenus": [play_pause_menu()], "sliders": [iteration_slider(iterations)]}
    traces = [*still, *_fit_traces(frames[-1], colors)]
    return figure_dict(fig, traces, frame_dicts, **controls)


def restart_density_grid_figure(
    X: ArrayLike,
    *,
    weights: ArrayLike,
    means: ArrayLike,
    variances: ArrayLike,
    final_log_likelihood: ArrayLike,
    component_colors: ArrayLike | None = None,
    columns: int = 4,
    axis_title: str = "x",
    title: str | None = None,
) -> go.Figure:
    """One small histogram per restart with that restart's final mixture density.

    Parameters
    ----------
    weights, means, variances
        Shapes (R, K), (R, K[, 1]), (R, K[, 1, 1]): every restart's final fit.
    final_log_likelihood
        Shape (R,): named in each panel's title.
    component_colors
        Shape (R, K) palette index per restart and component, or ``None``.

    Returns
    -------
    go.Figure
        Per panel: ``"data"`` bars, ``f"restart {r} fit {k}"`` and ``f"restart {r} mixture"``.
    """
    notes: list[str] = []
    points = _points(X, notes)
    fits = _components(weights, means, variances)
    if fits.weights.ndim != 2:
        raise ValueError("weights must have shape (R, K)")
    n_restarts, n_components = fits.weights.shape
    finals = as_float_array(final_log_likelihood, "final_log_likelihood").reshape(n_restarts)
    colors = (
        np.tile(np.arange(n_components), (n_restarts, 1))
        if component_colors is None
        else np.asarray(component_colors, dtype=np.int64).reshape(n_restarts, n_components)
    )
    grid = _grid(points)
    decimals = decimals_for(grid)
    centres, heights = _histogram(points)
    n_rows = math.ceil(n_restarts / columns)
    titles = [
        f"restart {r}: {finals[r]:.4f}" if math.isfinite(finals[r]) else f"restart {r}: —"
        for r in range(n_restarts)
    ]
    fig = make_subplots(n_rows, columns, subplot_titles=titles, shared_xaxes=True)
    for r in range(n_restarts):
        where = {"row": r // columns + 1, "col": r % columns + 1}
        fig.add_trace(_bars(centres, heights, decimals, hoverinfo="skip"), **where)
        fit = fits.at(r)
        mixture, *components = _fit_updates(grid, fit, colors[r], decimals)
        x = mixture["x"]
        fig.add_trace(_line(x, mixture["y"], f"restart {r} mixture", MIXTURE_COLOR), **where)
        for k, update in enumerate(components):
            if fit.valid[k]:
                line = _line(x, update["y"], f"restart {r} fit {k}", color_for(colors[r, k]))
                fig.add_trace(line, **where)
    fig.update_yaxes(range=[0.0, max(float(heights.max()), 1e-12) * Y_TOP], showticklabels=False)
    fig.update_xaxes(range=[float(grid[0]), float(grid[-1])])
    fig.update_xaxes(title_text=axis_title, row=n_rows)
    fig.update_layout(showlegend=False, bargap=0.02)
    apply_layout(fig, title=title, height=max(260 * n_rows, 320))
    add_notes(fig, notes)
    return fig
