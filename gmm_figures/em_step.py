"""One half-step of EM: the E step's soft assignments or the M step's new ellipses.

Trace names (stable, for tests and for the app):

* ``"data"``: the points, grey at the start and after an M step, coloured by their
  responsibilities after an E step (component colours blended by weight, opacity
  following the largest responsibility);
* ``f"fit {k} {n:g}σ"``: ellipse of component ``k``; ``f"previous {k} {n:g}σ"``: the
  ellipse before this M step (faint, dotted); ``"means"`` and ``"previous means"``;
* ``"log-likelihood"`` (the curve so far) and ``"current"`` (its marker).

Pure: Plotly and NumPy only; must not import Streamlit or ``gmm_app``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from plotly.colors import hex_to_rgb
from plotly.subplots import make_subplots

from gmm_core.geometry import ellipse_polygons
from gmm_figures.spatial import FAINT_OPACITY, _ellipse_trace, _style_spatial_axes
from gmm_figures.style import (
    DATA_GREY,
    apply_layout,
    color_for,
    figure_dict,
    likelihood_range,
    plane_ranges,
    rounded,
    subsample_indices,
    xy_trace,
)

__all__ = ["em_step_figure", "responsibility_colors"]


def responsibility_colors(resp: np.ndarray, component_colors: Sequence[int]) -> list[str]:
    """One ``rgba`` colour per point: the component colours blended by responsibility.

    Parameters
    ----------
    resp : (N, K) responsibilities (rows sum to 1)
    component_colors : (K,) palette index of every component
    """
    palette = np.array([hex_to_rgb(color_for(c)) for c in component_colors], float)  # (K, 3)
    blended = np.clip(resp, 0.0, 1.0) @ palette
    alpha = 0.25 + 0.75 * np.clip(resp.max(axis=1), 0.0, 1.0)
    return [
        f"rgba({r:.0f},{g:.0f},{b:.0f},{a:.2f})"
        for (r, g, b), a in zip(blended, alpha, strict=True)
    ]


def _ellipses(
    means: np.ndarray,
    covariances: np.ndarray,
    colors: Sequence[int],
    sigmas: np.ndarray,
    *,
    prefix: str,
    faint: bool,
) -> list[dict]:
    """Every component's ellipses (``means``: (K, 2), ``covariances``: (K, 2, 2)), faint and
    dotted for the parameters before an M step."""
    line = {"width": 2, "dash": "dot"} if faint else {"width": 3, "dash": "solid"}
    return [
        _ellipse_trace(
            polygon,
            4,
            f"{prefix} {k} {sigma:g}σ",
            {"color": color_for(colors[k]), **line},
            opacity=FAINT_OPACITY if faint else 1.0,
        )
        for sigma in sigmas
        for k, polygon in enumerate(ellipse_polygons(means, covariances, float(sigma), 49))
    ]


def _means(means: np.ndarray, colors: Sequence[int], name: str, faint: bool) -> dict:
    marker = {
        "color": [color_for(c) for c in colors],
        "size": 14,
        "symbol": "circle-open" if faint else "circle",
        "line": {"width": 2} if faint else {"color": "white", "width": 2},
    }
    opacity = FAINT_OPACITY if faint else 1.0
    return xy_trace(means, 4, name, marker=marker, opacity=opacity, showlegend=False)


def em_step_figure(
    points: np.ndarray,
    *,
    means: np.ndarray,
    covariances: np.ndarray,
    component_colors: Sequence[int],
    log_likelihood: np.ndarray,
    iteration: int,
    stage: str,
    responsibilities: np.ndarray | None = None,
    previous_means: np.ndarray | None = None,
    previous_covariances: np.ndarray | None = None,
    n_sigmas: Sequence[float] = (1.0, 2.0),
    max_points: int = 2000,
    title: str | None = None,
    height: int = 560,
) -> dict:
    """The data and ellipses after one half-step, beside the log-likelihood so far.

    Parameters
    ----------
    points : (N, 2); means : (K, 2); covariances : (K, 2, 2) the current parameters
    component_colors : (K,) palette indices
    log_likelihood : (T + 1,) mean log-likelihood per point after each iteration
    iteration, stage : where the walk is (``stage`` is "start", "E step" or "M step")
    responsibilities : (N, K) after an E step, else None (grey points)
    previous_means, previous_covariances : (K, 2), (K, 2, 2) before an M step, else None
    """
    points = np.asarray(points, dtype=np.float64)
    keep = subsample_indices(points.shape[0], max_points)
    shown = points[keep]
    sigmas = np.asarray(n_sigmas, dtype=np.float64)
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.6, 0.4],
        horizontal_spacing=0.12,
        subplot_titles=(f"Iteration {iteration} · {stage}", "Log-likelihood so far"),
    )
    if responsibilities is None:
        marker = {"color": DATA_GREY, "size": 6, "opacity": 0.5}
    else:
        colors = responsibility_colors(np.asarray(responsibilities)[keep], component_colors)
        marker = {"color": colors, "size": 6}
    traces = [xy_trace(shown, 4, "data", marker=marker, hoverinfo="skip", showlegend=False)]
    if previous_means is not None and previous_covariances is not None:
        traces += _ellipses(
            previous_means,
            previous_covariances,
            component_colors,
            sigmas,
            prefix="previous",
            faint=True,
        )
        traces.append(_means(previous_means, component_colors, "previous means", True))
        for old, new in zip(previous_means, means, strict=True):  # each mean's move
            fig.add_annotation(
                x=new[0],
                y=new[1],
                ax=old[0],
                ay=old[1],
                xref="x",
                yref="y",
                axref="x",
                ayref="y",
                showarrow=True,
                arrowhead=2,
                arrowwidth=2,
                arrowcolor="#333333",
                text="",
            )
    traces += _ellipses(means, covariances, component_colors, sigmas, prefix="fit", faint=False)
    traces.append(_means(means, component_colors, "means", False))
    # The log-likelihood up to the iteration, marked, on the right; the axes fit the walk.
    log_likelihood = np.asarray(log_likelihood, dtype=np.float64)
    so_far = log_likelihood[: iteration + 1]
    on_right = {"xaxis": "x2", "yaxis": "y2", "showlegend": False}
    fig.update_xaxes(title_text="iteration", range=[-0.5, log_likelihood.size - 0.5], row=1, col=2)
    fig.update_yaxes(
        title_text="mean log-lik. / point",
        range=likelihood_range(log_likelihood),
        row=1,
        col=2,
    )
    curve = {"x": list(range(so_far.size)), "y": rounded(so_far, 6), "mode": "lines+markers"}
    current = {"x": [iteration], "y": rounded(so_far[-1:], 6), "mode": "markers"}
    traces += [
        {"type": "scatter", **curve, "name": "log-likelihood", **on_right}
        | {"line": {"color": color_for(0), "width": 3}},
        {"type": "scatter", **current, "name": "current", **on_right}
        | {"marker": {"color": "#d62728", "size": 16, "symbol": "diamond"}},
    ]
    x_range, y_range = plane_ranges(shown[np.all(np.isfinite(shown), axis=1)], 0.05)
    _style_spatial_axes(fig, x_range, y_range, row=1)  # equal scale, over the finite points
    apply_layout(fig, title=title, height=height, template=None)
    fig.update_layout(showlegend=False, uirevision="em_step")
    return figure_dict(fig, traces)
