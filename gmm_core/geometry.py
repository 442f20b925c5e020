"""Confidence ellipses and 2-D projections for drawing Gaussian components.

Plain NumPy (float64); no plotting library is imported here.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import operator

import numpy as np
from numpy.typing import ArrayLike

from gmm_core.checks import check_non_negative, is_int
from gmm_core.tolerances import ELLIPSE_PSD_RTOL

__all__ = [
    "coverage_of_radius",
    "ellipse_polygon",
    "ellipse_polygons",
    "principal_axes",
    "project_covariance",
    "project_means",
    "radius_of_coverage",
]

_MIN_POINTS = 4


def coverage_of_radius(n_sigma: float) -> float:
    """Probability inside the ``n_sigma`` ellipse of a 2-D Gaussian: ``1 - exp(-n²/2)``.

    1σ holds 39.3 %, 2σ 86.5 %, 3σ 98.9 % (the 1-D 68-95-99.7 rule does not apply in 2-D).
    """
    return float(-np.expm1(-0.5 * float(n_sigma) ** 2))


def radius_of_coverage(probability: float) -> float:
    """The ellipse radius (in σ) that holds ``probability`` of a 2-D Gaussian, 0 < p < 1."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must lie in (0, 1), got {probability!r}")
    return float(np.sqrt(-2.0 * np.log1p(-probability)))


def ellipse_polygon(
    mean: ArrayLike, covariance: ArrayLike, n_sigma: float = 1.0, n_points: int = 73
) -> np.ndarray:
    """Closed polygon tracing the ``n_sigma`` confidence ellipse of a 2-D Gaussian.

    The ellipse is ``{x : (x - mean)^T covariance^{-1} (x - mean) = n_sigma**2}``, built from
    the eigen-decomposition of the (symmetrised) covariance, so rotated and elongated
    covariances are exact. Tiny negative eigenvalues are clamped to 0: a singular covariance
    gives a flat ellipse (a segment), never NaN. Points run counter-clockwise.

    Parameters
    ----------
    mean
        Shape (2,).
    covariance
        Shape (2, 2), symmetric positive semi-definite.
    n_sigma
        Mahalanobis radius, >= 0.
    n_points
        Number of vertices including the repeated closing vertex, >= 4.

    Returns
    -------
    np.ndarray, shape (n_points, 2)
        ``result[0] == result[-1]``.
    """
    mean_array = np.asarray(mean, dtype=np.float64)
    covariance_array = np.asarray(covariance, dtype=np.float64)
    if mean_array.shape != (2,):
        raise ValueError(f"mean must have shape (2,), got {mean_array.shape}")
    if covariance_array.shape != (2, 2):
        raise ValueError(f"covariance must have shape (2, 2), got {covariance_array.shape}")
    return ellipse_polygons(mean_array, covariance_array, n_sigma, n_points)


def ellipse_polygons(
    means: ArrayLike, covariances: ArrayLike, n_sigma: float = 1.0, n_points: int = 73
) -> np.ndarray:
    """Vectorised :func:`ellipse_polygon`.

    Parameters
    ----------
    means
        Shape (..., 2).
    covariances
        Shape (..., 2, 2); the leading dimensions broadcast against those of ``means``.
    n_sigma, n_points
        As in :func:`ellipse_polygon`.

    Returns
    -------
    np.ndarray, shape (..., n_points, 2)
    """
    means_array = np.asarray(means, dtype=np.float64)
    covariances_array = np.asarray(covariances, dtype=np.float64)
    if means_array.ndim < 1 or means_array.shape[-1] != 2:
        raise ValueError(f"means must have shape (..., 2), got {means_array.shape}")
    if covariances_array.ndim < 2 or covariances_array.shape[-2:] != (2, 2):
        raise ValueError(f"covariances must have shape (..., 2, 2), got {covariances_array.shape}")
    try:
        batch_shape = np.broadcast_shapes(means_array.shape[:-1], covariances_array.shape[:-2])
    except ValueError as error:
        raise ValueError(
            f"batch shapes of means {means_array.shape} and covariances "
            f"{covariances_array.shape} do not broadcast"
        ) from error
    if not np.all(np.isfinite(means_array)):
        raise ValueError("means contain non-finite values (NaN or inf)")
    if not np.all(np.isfinite(covariances_array)):
        raise ValueError("covariances contain non-finite values (NaN or inf)")
    radius = check_non_negative(n_sigma, "n_sigma")
    if not is_int(n_points) or n_points < _MIN_POINTS:
        raise ValueError(f"n_points must be an integer >= {_MIN_POINTS}, got {n_points!r}")
    vertex_count = int(n_points)

    symmetric = 0.5 * (covariances_array + np.swapaxes(covariances_array, -1, -2))
    eigenvalues, eigenvectors = np.linalg.eigh(symmetric)
    scale = np.max(np.abs(eigenvalues), axis=-1)
    if np.any(eigenvalues[..., 0] < -ELLIPSE_PSD_RTOL * scale):
        raise ValueError("covariances must be positive semi-definite")
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    # Make each eigenvector basis a proper rotation so the polygon runs counter-clockwise.
    determinant = np.linalg.det(eigenvectors)
    eigenvectors = eigenvectors.copy()
    eigenvectors[..., :, 1] *= np.where(determinant < 0, -1.0, 1.0)[..., None]
    semi_axes = eigenvectors * (radius * np.sqrt(eigenvalues))[..., None, :]

    angles = np.linspace(0.0, 2.0 * np.pi, vertex_count)
    unit_circle = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    offsets = unit_circle @ np.swapaxes(semi_axes, -1, -2)
    polygons = means_array[..., None, :] + offsets
    polygons = np.broadcast_to(polygons, (*batch_shape, vertex_count, 2)).copy()
    polygons[..., -1, :] = polygons[..., 0, :]
    return polygons


def project_covariance(covariance: ArrayLike, axes: ArrayLike) -> np.ndarray:
    """Covariance of a linear 2-D view of a D-dimensional Gaussian: ``A @ covariance @ A.T``.

    Parameters
    ----------
    covariance
        Shape (..., D, D).
    axes
        Either two integer column indices (shape (2,)) or a projection matrix of shape (2, D),
        e.g. from :func:`principal_axes`.

    Returns
    -------
    np.ndarray, shape (..., 2, 2)
    """
    covariance_array = np.asarray(covariance, dtype=np.float64)
    if covariance_array.ndim < 2 or covariance_array.shape[-1] != covariance_array.shape[-2]:
        raise ValueError(f"covariance must have shape (..., D, D), got {covariance_array.shape}")
    projection = _projection_matrix(axes, covariance_array.shape[-1])
    return projection @ covariance_array @ projection.T


def project_means(means: ArrayLike, axes: ArrayLike) -> np.ndarray:
    """Coordinates of points or means in a linear 2-D view: ``means @ A.T``.

    Parameters
    ----------
    means
        Shape (..., D).
    axes
        As in :func:`project_covariance`.

    Returns
    -------
    np.ndarray, shape (..., 2)
    """
    means_array = np.asarray(means, dtype=np.float64)
    if means_array.ndim < 1:
        raise ValueError("means must have shape (..., D)")
    projection = _projection_matrix(axes, means_array.shape[-1])
    return means_array @ projection.T


def principal_axes(X: ArrayLike, n_axes: int = 2) -> np.ndarray:
    """Leading principal directions of a data set, as rows of a projection matrix.

    Parameters
    ----------
    X
        Shape (N, D) with N >= 2 and D >= ``n_axes``.
    n_axes
        Number of directions to return.

    Returns
    -------
    np.ndarray, shape (n_axes, D)
        Orthonormal rows, by decreasing variance; each row's largest-magnitude entry is
        positive, so the result does not depend on the eigen-solver's sign choice.
    """
    data = np.asarray(X, dtype=np.float64)
    count = operator.index(n_axes)
    if data.ndim != 2 or data.shape[0] < 2:
        raise ValueError(f"X must have shape (N, D) with N >= 2, got {data.shape}")
    if not 1 <= count <= data.shape[1]:
        raise ValueError(f"n_axes must be between 1 and D={data.shape[1]}, got {count}")
    if not np.all(np.isfinite(data)):
        raise ValueError("X contains non-finite values (NaN or inf)")
    centred = data - data.mean(axis=0)
    _, eigenvectors = np.linalg.eigh(centred.T @ centred / (data.shape[0] - 1))
    rows = eigenvectors[:, ::-1][:, :count].T.copy()
    largest = np.argmax(np.abs(rows), axis=1)
    rows *= np.sign(rows[np.arange(count), largest])[:, None]
    return rows


def _projection_matrix(axes: ArrayLike, n_features: int) -> np.ndarray:
    array = np.asarray(axes)
    if array.ndim == 1:
        if array.shape != (2,) or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"column indices must be two integers, got {axes!r}")
        if np.any(array < -n_features) or np.any(array >= n_features):
            raise ValueError(f"column indices {axes!r} out of range for D={n_features}")
        return np.eye(n_features)[array]
    if array.shape != (2, n_features):
        raise ValueError(
            f"axes must be two column indices or a (2, {n_features}) matrix, got shape "
            f"{array.shape}"
        )
    matrix = array.astype(np.float64)
    if not np.all(np.isfinite(matrix)):
        raise ValueError("axes contain non-finite values (NaN or inf)")
    return matrix
