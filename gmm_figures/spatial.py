"""The plane shared by the ellipse figures: input checks, ellipse polygons, traces, axes.

Used by :mod:`gmm_figures.ellipses`, :mod:`gmm_figures.animation` and
:mod:`gmm_figures.restarts`. Pure: Plotly and NumPy only; must not import Streamlit or
``gmm_app``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike

from gmm_core.checks import check_positive_int
from gmm_core.geometry import ellipse_polygons
from gmm_core.tolerances import ELLIPSE_PSD_RTOL
from gmm_figures.style import (
    DATA_GREY,
    as_float_array,
    as_int_array,
    color_for,
    plane_ranges,
    plural,
    subsample_indices,
    xy_trace,
)

FAINT_WEIGHT = 1e-3
"""Components lighter than this are drawn faint (and are not matched to the truth)."""
FAINT_OPACITY = 0.3
ELLIPSE_VERTICES = 49


# ----------------------------------------------------------------------------------------
# Input checks


class _Truth(NamedTuple):
    """Validated true clusters with their ellipse polygons (invalid clusters removed)."""

    index: np.ndarray  # (Kv,) original cluster indices
    polygons: np.ndarray  # (n_sigma, Kv, P, 2)


def _check_sigmas(n_sigmas: Sequence[float]) -> np.ndarray:
    """The ellipse radii as a 1-D float array; empty means no ellipses are drawn."""
    sigmas = as_float_array(n_sigmas, "n_sigmas")
    if sigmas.size == 0:
        return np.zeros(0)
    if sigmas.ndim != 1:
        raise ValueError(f"n_sigmas must be a sequence of numbers, got {n_sigmas!r}")
    if not np.all(np.isfinite(sigmas)) or np.any(sigmas <= 0):
        raise ValueError(f"n_sigmas must be finite and positive, got {n_sigmas!r}")
    return sigmas


def _check_shape(values: ArrayLike, name: str, shape: tuple[int, ...]) -> np.ndarray:
    array = as_float_array(values, name)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    return array


def _check_component_colors(component_colors: ArrayLike | None, n_components: int) -> np.ndarray:
    if component_colors is None:
        return np.arange(n_components, dtype=np.int64)
    colors = as_int_array(component_colors, "component_colors")
    if colors.shape != (n_components,):
        raise ValueError(f"component_colors must have shape ({n_components},), got {colors.shape}")
    return colors


def _prepare_points(
    X: ArrayLike, labels: ArrayLike | None, max_points: int
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Finite rows of X (and their labels), subsampled; notes on what was removed."""
    limit = check_positive_int(max_points, "max_points")
    points = as_float_array(X, "X")
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {points.shape}")
    n_rows = points.shape[0]
    if n_rows == 0:
        raise ValueError("X has no rows")
    label_array = None
    if labels is not None:
        label_array = as_int_array(labels, "labels")
        if label_array.shape != (n_rows,):
            raise ValueError(f"labels must have shape ({n_rows},), got {label_array.shape}")
    finite = np.all(np.isfinite(points), axis=1)
    n_kept = int(np.count_nonzero(finite))
    if n_kept == 0:
        raise ValueError("X has no finite rows: every point holds NaN or inf")
    notes = []
    if n_kept < n_rows:
        notes.append(f"{plural(n_rows - n_kept, 'point')} with missing or infinite values dropped")
    points = points[finite]
    if label_array is not None:
        label_array = label_array[finite]
    index = subsample_indices(n_kept, limit)
    if index.size < n_kept:
        notes.append(f"showing {index.size} of {n_kept} points")
    return points[index], None if label_array is None else label_array[index], notes


def _prepare_truth(
    true_means: ArrayLike | None,
    true_covariances: ArrayLike | None,
    sigmas: np.ndarray,
    notes: list[str],
) -> _Truth:
    if true_means is None and true_covariances is None:
        return _Truth(np.zeros(0, np.int64), np.zeros((sigmas.size, 0, ELLIPSE_VERTICES, 2)))
    if true_means is None or true_covariances is None:
        raise ValueError("give both true_means and true_covariances, or neither")
    means = as_float_array(true_means, "true_means")
    if means.ndim != 2 or means.shape[1] != 2:
        raise ValueError(f"true_means must have shape (Kt, 2), got {means.shape}")
    covariances = _check_shape(true_covariances, "true_covariances", (means.shape[0], 2, 2))
    valid = _valid_components(means, covariances)
    if means.shape[0] > 0 and not np.any(valid):
        raise ValueError("every true cluster has non-finite or invalid parameters")
    skipped = np.flatnonzero(~valid)
    if skipped.size:
        names = ", ".join(f"true {i}" for i in skipped)
        notes.append(f"skipped (non-finite parameters): {names}")
    index = np.flatnonzero(valid)
    polygons = _polygons(means[index], covariances[index], np.ones(index.size, bool), sigmas)
    return _Truth(index, polygons)


def _valid_components(
    means: np.ndarray, covariances: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """(..., K) bool: finite mean, finite PSD covariance and finite non-negative weight."""
    valid = np.all(np.isfinite(means), axis=-1) & np.all(np.isfinite(covariances), axis=(-2, -1))
    if weights is not None:
        valid &= np.isfinite(weights) & (weights >= 0)
    safe = np.where(valid[..., None, None], covariances, np.eye(2))
    eigenvalues = np.linalg.eigvalsh(0.5 * (safe + np.swapaxes(safe, -1, -2)))
    scale = np.max(np.abs(eigenvalues), axis=-1)
    return valid & (eigenvalues[..., 0] >= -ELLIPSE_PSD_RTOL * scale)


def _start_valid(start_means: np.ndarray | None, n_components: int, notes: list[str]) -> np.ndarray:
    """(K,) bool: finite initial means (all ``False`` without them); the others are noted."""
    start_valid = np.zeros(n_components, bool)
    if start_means is not None:
        start_valid = np.all(np.isfinite(start_means), axis=1)
        if not np.all(start_valid):
            notes.append(f"{plural(int(np.count_nonzero(~start_valid)), 'initial mean')} skipped")
    return start_valid


def _polygons(
    means: np.ndarray, covariances: np.ndarray, valid: np.ndarray, sigmas: np.ndarray
) -> np.ndarray:
    """(n_sigma, ..., P, 2) ellipse polygons; entries of invalid components are zeros."""
    if sigmas.size == 0:
        return np.zeros((0, *valid.shape, ELLIPSE_VERTICES, 2))
    safe_means = np.where(valid[..., None], means, 0.0)
    safe_covariances = np.where(valid[..., None, None], covariances, np.eye(2))
    polygons = np.stack(
        [
            ellipse_polygons(safe_means, safe_covariances, float(sigma), ELLIPSE_VERTICES)
            for sigma in sigmas
        ]
    )
    return np.where(valid[None, ..., None, None], polygons, 0.0)


# ----------------------------------------------------------------------------------------
# Traces and layout pieces


def _spatial_ranges(
    points: np.ndarray, true_polygons: np.ndarray, fit_polygons: np.ndarray | None = None
) -> tuple[list[float], list[float]]:
    """Axis ranges covering the points, the true and the fitted ellipses, with a margin."""
    shapes = [points, true_polygons.reshape(-1, 2)]
    if fit_polygons is not None:
        fitted = fit_polygons.reshape(-1, 2)
        shapes.append(fitted[np.all(np.isfinite(fitted), axis=1)])
    return plane_ranges(np.concatenate(shapes), 0.04)


def _data_trace(points: np.ndarray, labels: np.ndarray | None, decimals: int) -> dict:
    size = 7 if points.shape[0] <= 1000 else 5 if points.shape[0] <= 3000 else 4
    color = DATA_GREY if labels is None else [color_for(label) for label in labels.tolist()]
    marker = {"size": size, "color": color, "opacity": 0.4, "line": {"width": 0}}
    return xy_trace(points, decimals, "data", marker=marker, hoverinfo="skip", showlegend=False)


def _true_ellipse_traces(truth: _Truth, sigmas: np.ndarray, decimals: int) -> list[dict]:
    return [
        _ellipse_trace(
            truth.polygons[sigma_index, position],
            decimals,
            f"true {cluster} {sigma:g}σ",
            {"color": color_for(cluster), "width": 2, "dash": "dash"},
        )
        for position, cluster in enumerate(truth.index.tolist())
        for sigma_index, sigma in enumerate(sigmas)
    ]


def _ellipse_trace(
    polygon: np.ndarray, decimals: int, name: str, line: dict, **style: object
) -> dict:
    """One ellipse (polygon: (P, 2)) as a line named in its hover label."""
    return xy_trace(
        polygon, decimals, name, "lines", line=line, hoverinfo="name", showlegend=False, **style
    )


def _initial_means_trace(
    means: np.ndarray, valid: np.ndarray, colors: np.ndarray, decimals: int
) -> dict:
    marker = {"symbol": "x", "size": 14, "color": [color_for(c) for c in colors[valid]]}
    return xy_trace(
        means[valid],
        decimals,
        "initial means",
        marker={**marker, "line": {"width": 1.5, "color": "#222222"}},
        hovertemplate="initial mean<br>(%{x}, %{y})<extra></extra>",
    )


def _fit_means_trace(
    means: np.ndarray, weights: np.ndarray, valid: np.ndarray, colors: np.ndarray, decimals: int
) -> dict:
    shown = np.flatnonzero(valid)
    return xy_trace(
        means[shown],
        decimals,
        "fit means",
        text=[f"fit {k} · weight {weights[k]:.3f}" for k in shown],
        marker={
            "symbol": "circle",
            "size": 15,
            "color": [color_for(colors[k]) for k in shown],
            "opacity": [FAINT_OPACITY if weights[k] < FAINT_WEIGHT else 1.0 for k in shown],
            "line": {"width": 2, "color": "white"},
        },
        hovertemplate="%{text}<br>(%{x}, %{y})<extra></extra>",
    )


AXIS_TITLES = ("x₁", "x₂")


def _style_spatial_axes(
    fig: go.Figure,
    x_range: list[float],
    y_range: list[float],
    *,
    row: int | None,
    axis_titles: tuple[str, str] = AXIS_TITLES,
) -> None:
    """Fixed ranges and equal aspect ratio for the data axes (column 1 when ``row``)."""
    where = {} if row is None else {"row": row, "col": 1}
    x_title, y_title = axis_titles
    fig.update_xaxes(
        title_text=x_title, range=x_range, autorange=False, constrain="domain", **where
    )
    fig.update_yaxes(
        title_text=y_title,
        range=y_range,
        autorange=False,
        constrain="domain",
        scaleanchor="x",
        scaleratio=1,
        **where,
    )
