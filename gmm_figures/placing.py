"""The figure on which initial means are placed by clicking.

Trace names (stable, for tests and for the app): ``"data"`` (grey points, not
clickable), ``"click grid"`` (invisible points covering the plotted area, so that a
click anywhere reports a position) and ``"placed means"`` (large stars).

Pure: Plotly and NumPy only; must not import Streamlit or ``gmm_app``.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from numpy.typing import ArrayLike

from gmm_figures.spatial import _data_trace, _prepare_points, _style_spatial_axes
from gmm_figures.style import apply_layout, as_float_array, color_for, xy_trace

MAX_POINTS = 3000


def placing_figure(
    X: ArrayLike,
    placed_means: ArrayLike,
    grid: ArrayLike,
    x_range: Sequence[float],
    y_range: Sequence[float],
    *,
    title: str = "Click to place initial means",
    height: int = 560,
) -> go.Figure:
    """The data, the placed means and an invisible grid of click targets.

    Parameters
    ----------
    X : (N, 2) points in the plotted plane
    placed_means : (K, 2), K ≥ 0
    grid : (G, 2) click targets covering ``x_range`` × ``y_range``
    x_range, y_range : the fixed axis ranges
    """
    points, _, _ = _prepare_points(X, None, MAX_POINTS)
    means = as_float_array(placed_means, "placed_means").reshape(-1, 2)
    targets = as_float_array(grid, "grid").reshape(-1, 2)
    click_grid = xy_trace(
        targets,
        3,
        "click grid",
        marker={"size": 10, "opacity": 0},
        hovertemplate="click: place a mean here<br>(%{x:.2f}, %{y:.2f})<extra></extra>",
        showlegend=False,
    )
    placed = xy_trace(
        means,
        3,
        "placed means",
        "markers+text",
        text=[str(k) for k in range(means.shape[0])],
        textposition="top right",
        marker={
            "symbol": "star",
            "size": 22,
            "color": [color_for(k) for k in range(means.shape[0])],
            "line": {"width": 2, "color": "#111111"},
        },
        hovertemplate="placed mean %{text}: click to remove<br>(%{x}, %{y})<extra></extra>",
        showlegend=False,
    )
    fig = go.Figure([_data_trace(points, None, 4), click_grid, placed])
    apply_layout(fig, title=title, height=height)
    _style_spatial_axes(fig, list(x_range), list(y_range), row=None)
    fig.update_layout(hovermode="closest", hoverdistance=30, showlegend=False, dragmode=False)
    return fig
