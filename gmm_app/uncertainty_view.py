"""The uncertainty view of one fit: soft assignments, their entropy and the density.

Reads the fit's stored snapshots (never refits); the responsibilities of the points
come from the full-dimensional parameters, the heatmap and the contours from the
parameters projected onto the plotted plane. Must not import the fit flow or the sidebar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import streamlit as st

from gmm_app import summaries
from gmm_app.params import UNCERTAINTY
from gmm_app.widgets import figure_block
from gmm_core.density import log_responsibilities
from gmm_figures.uncertainty import uncertainty_figure

HELP = (
    "Colour the points by their soft assignments, shade the plane by how uncertain they "
    "would be there, and draw the mixture density as contours; Play runs the iterations."
)
MAX_FRAMES = 12
MAX_ANIMATED_CELLS = 400_000
"""Points × frames up to which the view animates; beyond, it shows the final fit only."""


def frame_indices(n_snapshots: int, n_points: int) -> np.ndarray:
    """Which snapshots become frames: ≤ MAX_FRAMES spread out, first and last always."""
    if n_snapshots <= 1 or n_points * min(n_snapshots, MAX_FRAMES) > MAX_ANIMATED_CELLS:
        return np.array([n_snapshots - 1])
    return np.unique(np.round(np.linspace(0, n_snapshots - 1, MAX_FRAMES)).astype(int))


def snapshot_responsibilities(
    points: np.ndarray, movie: summaries.Animation, frames: np.ndarray
) -> np.ndarray:
    """(T, N, K) responsibilities of the points under each chosen snapshot (full D)."""
    return np.stack(
        [
            np.exp(
                log_responsibilities(
                    points, movie.weights[t], movie.means[t], movie.covariances[t]
                )[0]
            )
            for t in frames
        ]
    )


def uncertainty_toggle() -> bool:
    """The view's switch, bound to the URL as ``uncertainty=true``."""
    return st.toggle("Uncertainty view", key=UNCERTAINTY.key, bind="query-params", help=HELP)


def uncertainty_view(
    points: np.ndarray,
    movie: summaries.Animation,
    projection: tuple[Callable, Callable],
    *,
    colors: Sequence[int],
    name: str,
    title: str,
    projected: bool,
) -> None:
    """The uncertainty figure, animated over the stored iterations where affordable."""
    to_plane, covariance_to_plane = projection
    frames = frame_indices(movie.iterations.size, points.shape[0])
    st.caption(
        "Points are coloured by their responsibilities (blended component colours, faint "
        "where no component is sure). Grey shading: the responsibilities' entropy divided "
        "by log K, dark where the components compete. Blue lines: contours of the "
        "mixture's log-density."
        + (
            " The data have more than two columns: the shading and the contours belong to "
            "the mixture projected onto the plotted plane, while each point's colour comes "
            "from the full-dimensional fit, so a point may look certain in a shaded area."
            if projected
            else ""
        )
        + ("" if frames.size > 1 else " Too many points to animate: the final fit is shown.")
    )
    figure_block(
        f"{name}_uncertainty",
        uncertainty_figure,
        to_plane(points),
        movie.iterations[frames],
        snapshot_responsibilities(points, movie, frames),
        movie.weights[frames],
        to_plane(movie.means[frames]),
        covariance_to_plane(movie.covariances[frames]),
        component_colors=colors,
        title=title,
    )
