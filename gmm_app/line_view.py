"""The one-dimensional Explore view: histograms with component and mixture densities.

Used by :mod:`gmm_app.explorer` when the fitted data has one column (the 1-D presets, an
upload with one numeric column). The stored snapshots animate the densities; nothing is
refitted. Must not import the fit flow or the sidebar.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import streamlit as st

import gmm_figures as figures
from gmm_app import summaries
from gmm_app.widgets import figure_block
from gmm_core.mixture import Mixture

NOTES = {
    "Step": "Step-by-step E and M steps are drawn in two dimensions. In one dimension, drag "
    "the Animation tab's iteration slider to step through EM's stored iterations.",
    "Panels": "The Panels tab draws the plane; for one column, the Animation tab plays the "
    "densities over the iterations.",
}
"""What the tabs that draw the plane say in one dimension."""


def density_tabs(
    tabs: Mapping[str, Any],
    points: np.ndarray,
    fit: summaries.FitView,
    movie: summaries.Animation,
    *,
    colors: np.ndarray,
    truth: Mixture | None,
    axis_title: str,
    name: str,
) -> None:
    """The Animation, Ellipses, Step and Panels tabs for 1-D data; only the open one is built.

    Parameters
    ----------
    tabs : the page's tabs by label
    points : (N, 1) the fitted data
    fit, movie : the chosen fit and its snapshots
    colors : (K,) palette index per component
    truth : the generating mixture, or None
    axis_title : the x axis's title (the column's name for uploads)
    name : prefix of the figures' names
    """
    for label, note in NOTES.items():
        if tabs[label].open:
            with tabs[label]:
                st.info(note, icon="ℹ️")
    common = {"truth": truth, "component_colors": colors, "axis_title": axis_title}
    title = f"K = {fit.k}, restart {fit.restart}"
    if tabs["Animation"].open:
        with tabs["Animation"]:
            figure_block(
                f"{name}_densities_animation",
                figures.mixture_animation_figure,
                points,
                **common,
                snapshot_iterations=movie.iterations,
                snapshot_weights=movie.weights,
                snapshot_means=movie.means,
                snapshot_variances=movie.covariances,
                title=f"EM iterations, {title}",
            )
    if tabs["Ellipses"].open:
        with tabs["Ellipses"]:
            figure_block(
                f"{name}_densities",
                figures.mixture_histogram_figure,
                points,
                **common,
                mixture=fit.mixture,
                title=f"Final densities, {title}",
            )
