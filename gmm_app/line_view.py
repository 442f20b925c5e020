"""The one-dimensional Explore view: histograms with component and mixture densities.

Used by :mod:`gmm_app.explorer` when the fitted data has one column (the 1-D presets, an
upload with one numeric column). The stored snapshots animate the densities; nothing is
refitted. Must not import the fit flow or the sidebar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import gmm_figures as figures
from gmm_app import summaries
from gmm_core.mixture import Mixture

View = tuple[str, str, Callable[..., Any], Callable[[], tuple[Any, dict]]]
"""(tab label, figure name suffix, builder, () -> (data, options))."""

STEP_NOTE = (
    "Step-by-step E and M steps are drawn in two dimensions. In one dimension, drag the "
    "Animation tab's iteration slider to step through EM's stored iterations."
)


def density_views(
    points: np.ndarray,
    fit: summaries.FitView,
    movie: summaries.Animation,
    *,
    colors: np.ndarray,
    truth: Mixture | None,
    axis_title: str,
) -> list[View]:
    """The Animation and Ellipses tabs' figures for 1-D data.

    Parameters
    ----------
    points : (N, 1) the fitted data
    fit, movie : the chosen fit and its snapshots
    colors : (K,) palette index per component
    truth : the generating mixture, or None
    axis_title : the x axis's title (the column's name for uploads)
    """
    common = {"truth": truth, "component_colors": colors, "axis_title": axis_title}
    title = f"K = {fit.k}, restart {fit.restart}"
    return [
        (
            "Animation",
            "densities_animation",
            figures.mixture_animation_figure,
            lambda: (
                points,
                {
                    **common,
                    "snapshot_iterations": movie.iterations,
                    "snapshot_weights": movie.weights,
                    "snapshot_means": movie.means,
                    "snapshot_variances": movie.covariances,
                    "title": f"EM iterations, {title}",
                },
            ),
        ),
        (
            "Ellipses",
            "densities",
            figures.mixture_histogram_figure,
            lambda: (
                points,
                {
                    **common,
                    "mixture": fit.mixture,
                    "title": f"Final densities, {title}",
                },
            ),
        ),
    ]
