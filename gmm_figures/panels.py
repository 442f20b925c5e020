"""Small multiples of one EM fit: the data and ellipses at chosen iterations, side by side.

The textbook figure (Bishop, PRML Fig. 9.8): in every panel the points are coloured by
the responsibilities that panel's parameters give (the component colours blended, so a
two-colour blend for K = 2) and the ellipses of those parameters are drawn. A requested
iteration after the fit's last shows the final state, and its title says so.

Trace names, for panel ``p`` (0-based, in the order given): ``f"data {p}"``,
``f"fit {p} {k} {n:g}σ"`` (ellipse of component ``k``) and ``f"means {p}"``.

Pure: Plotly and NumPy only; must not import Streamlit or ``gmm_app``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from plotly.subplots import make_subplots

from gmm_figures.em_step import _ellipses, _means, responsibility_colors
from gmm_figures.style import (
    SMALL_FONT_SIZE,
    add_caption,
    apply_layout,
    as_float_array,
    equal_aspect_panel_axes,
    figure_dict,
    plane_ranges,
    subsample_indices,
    xy_trace,
)

__all__ = ["panel_title", "panels_figure"]

MAX_COLUMNS = 5


def panel_title(iteration: int, last_iteration: int) -> str:
    """``"Iteration 5"``, or ``"Iteration 20 (ended at 14)"`` after the fit's last one."""
    if iteration > last_iteration:
        return f"Iteration {iteration} (ended at {last_iteration})"
    return f"Iteration {iteration}"


def panels_figure(
    points: np.ndarray,
    *,
    iterations: Sequence[int],
    last_iteration: int,
    means: np.ndarray,
    covariances: np.ndarray,
    responsibilities: np.ndarray,
    component_colors: Sequence[int],
    n_sigmas: Sequence[float] = (1.0,),
    max_points: int = 2000,
    source: str | None = None,
    title: str | None = None,
    height: int = 420,
) -> dict:
    """One fit at the chosen iterations: coloured points, ellipses and means per panel.

    Parameters
    ----------
    points : (N, 2) the data in the plotted plane
    iterations : (P,) the iterations asked for (the panels' titles)
    last_iteration : the fit's last iteration (later ones show its final state)
    means : (P, K, 2); covariances : (P, K, 2, 2) each panel's parameters
    responsibilities : (P, N, K) what each panel's parameters give every point
    component_colors : (K,) palette indices
    n_sigmas : ellipse radii; source : a note above the panels naming the data
    """
    points = as_float_array(points, "points")
    means, covariances = as_float_array(means, "means"), as_float_array(covariances, "covariances")
    resp = as_float_array(responsibilities, "responsibilities")
    n_panels = len(iterations)
    if n_panels == 0:
        raise ValueError("no iterations to show")
    n_points, n_components = points.shape[0], means.shape[1] if means.ndim == 3 else 0
    expected = {
        "points": (points, (n_points, 2)),
        "means": (means, (n_panels, n_components, 2)),
        "covariances": (covariances, (n_panels, n_components, 2, 2)),
        "responsibilities": (resp, (n_panels, n_points, n_components)),
    }
    for name, (array, shape) in expected.items():
        if array.shape != shape or 0 in shape:
            raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} hold non-finite values")
    keep = subsample_indices(points.shape[0], max_points)
    n_columns = min(n_panels, MAX_COLUMNS)
    n_rows = math.ceil(n_panels / n_columns)
    fig = make_subplots(
        rows=n_rows,
        cols=n_columns,
        subplot_titles=[panel_title(int(i), int(last_iteration)) for i in iterations],
        horizontal_spacing=0.03,
        vertical_spacing=min(0.3 / n_rows, 0.1),
    )
    ranges = plane_ranges(np.concatenate([points, means.reshape(-1, 2)]), 0.08)
    for panel in range(n_panels):  # the same ranges everywhere, tick labels outside only
        equal_aspect_panel_axes(fig, panel, n_columns, ranges, grid=False, inner_tick_labels=False)
    apply_layout(fig, title=title, height=height, template=None)
    top = 50 + (40 if title else 0) + (30 if source else 0)
    fig.update_layout(showlegend=False, margin_t=top, margin_b=40)
    fig.update_annotations(font_size=SMALL_FONT_SIZE)
    if source:
        add_caption(fig, "source", source, side="left", y_shift=28, color="#555555")
    sigmas = np.asarray(n_sigmas, dtype=np.float64)
    axes = [{"xaxis": f"x{p + 1}", "yaxis": f"y{p + 1}"} if p else {} for p in range(n_panels)]
    data = [  # every panel's points first, under all the ellipses
        xy_trace(
            points[keep],
            4,
            f"data {panel}",
            marker={"color": responsibility_colors(resp[panel][keep], component_colors), "size": 5},
            hoverinfo="skip",
            showlegend=False,
            **axes[panel],
        )
        for panel in range(n_panels)
    ]
    for panel in range(n_panels):
        ellipses = _ellipses(
            means[panel],
            covariances[panel],
            component_colors,
            sigmas,
            prefix=f"fit {panel}",
            faint=False,
        )
        fitted = [*ellipses, _means(means[panel], component_colors, f"means {panel}", False)]
        data += [trace | axes[panel] for trace in fitted]
    return figure_dict(fig, data)
