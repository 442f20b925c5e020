"""Placed initial means: what a click does, and the lift from the plotted plane to full D.

Pure: NumPy only. Must not import Streamlit or other ``gmm_app`` modules except param_types.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gmm_app.param_types import MEANS_DECIMALS, Means

NEAR_FRACTION = 0.04
"""A click this close to a placed mean (a share of the larger axis span) removes it."""


def near_radius(x_range: Sequence[float], y_range: Sequence[float]) -> float:
    """How close a click must be to a placed mean to remove it, in data units."""
    return NEAR_FRACTION * max(x_range[1] - x_range[0], y_range[1] - y_range[0])


def toggle_mean(means: Means, click: tuple[float, float], radius: float, max_means: int) -> Means:
    """The means after a click: the nearest one within ``radius`` removed, else one added.

    A click is rounded to :data:`MEANS_DECIMALS` decimals (as the URL keeps it); no mean
    is added beyond ``max_means``.
    """
    point = np.asarray(click, dtype=np.float64)
    if means:
        distances = np.linalg.norm(np.asarray(means) - point, axis=1)
        nearest = int(np.argmin(distances))
        if distances[nearest] <= radius:
            return means[:nearest] + means[nearest + 1 :]
    if len(means) >= max_means:
        return means
    x, y = (round(float(c), MEANS_DECIMALS) + 0.0 for c in point)
    if (x, y) in means:
        return means
    return (*means, (x, y))


def click_grid(x_range: Sequence[float], y_range: Sequence[float], n: int = 50) -> np.ndarray:
    """(n², 2) points evenly covering the plotted area: invisible targets for clicks.

    Streamlit reports a click only on an existing point (its issue 8824), so the
    placing figure covers the plane with these.
    """
    xs = np.linspace(x_range[0], x_range[1], n)
    ys = np.linspace(y_range[0], y_range[1], n)
    grid_x, grid_y = np.meshgrid(xs, ys)
    return np.column_stack([grid_x.ravel(), grid_y.ravel()])


def lift_means(plane_means: np.ndarray, axes: np.ndarray, data_mean: np.ndarray) -> np.ndarray:
    """Means placed in the plotted plane as points of the full D-dimensional space.

    Each lies in the plane through the data mean spanned by ``axes`` (2, D) with
    orthonormal rows (principal axes or two chosen columns): it projects back to
    the placed point, and its other coordinates are those of the data mean.

    Returns
    -------
    (K, D)
    """
    axes = np.asarray(axes, dtype=np.float64)
    centre = np.asarray(data_mean, dtype=np.float64)
    offsets = np.asarray(plane_means, dtype=np.float64) - centre @ axes.T
    return centre + offsets @ axes
