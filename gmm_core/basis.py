"""A mixture's log-density as one matrix product over a polynomial basis of the points.

Each point becomes its ``basis`` features (1, x and the needed quadratic terms, see
:func:`point_features`); each component becomes coefficients over the same basis
(:func:`log_density_coefficients`), so the E step's log-densities are one matmul. Shapes
use the axis names of :mod:`gmm_core.mixture`. All of it runs on centred and scaled data;
see ``gmm_core.points``.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from gmm_core import linalg
from gmm_core.covariance_types import covariance_kind
from gmm_core.mixture import MASKED_LOG_WEIGHT, MixtureParams


def uses_full_quadratic(covariance_type: str) -> bool:
    """Whether the log-density needs every product x_i x_j (full, tied) or only x_i² ."""
    return covariance_kind(covariance_type).full_quadratic


def n_basis(n_features: int, covariance_type: str) -> int:
    """Number P of polynomial features per point: 1, x, and the needed quadratic terms."""
    return 1 + n_features + covariance_kind(covariance_type).n_quadratic(n_features)


def _upper_pairs(n_features: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    rows, cols = [], []
    for i in range(n_features):
        for j in range(i, n_features):
            rows.append(i)
            cols.append(j)
    return tuple(rows), tuple(cols)


def point_features(x: Array, covariance_type: str) -> Array:
    """Polynomial features of points.

    Parameters
    ----------
    x : (point, feature)

    Returns
    -------
    (point, basis)
        ``[1, x_1..x_D, x_i x_j for i <= j]`` (full, tied) or ``[1, x, x²]`` (diag, spherical).
    """
    ones = jnp.ones(x.shape[:-1] + (1,), x.dtype)
    if uses_full_quadratic(covariance_type):
        rows, cols = _upper_pairs(x.shape[-1])
        quadratic = x[..., rows] * x[..., cols]
    else:
        quadratic = x * x
    return jnp.concatenate([ones, x, quadratic], axis=-1)


def feature_bounds(reach: np.ndarray, covariance_type: str) -> np.ndarray:
    """Upper bounds of |point_features(x)| given the bounds ``reach`` (feature,) of |x|.

    Returns
    -------
    (basis,) float64, computed in NumPy on the host.
    """
    reach = np.asarray(reach, np.float64)
    if uses_full_quadratic(covariance_type):
        rows, cols = _upper_pairs(reach.shape[-1])
        quadratic = reach[list(rows)] * reach[list(cols)]
    else:
        quadratic = reach * reach
    return np.concatenate([[1.0], reach, quadratic])


def cholesky_with_fallback(covariances: Array) -> Array:
    """Cholesky factors that never contain NaN.

    A covariance that is not numerically positive definite gets a jitter of
    ``1e-6 * mean(diag) + 1e-12`` on its diagonal before a second factorisation,
    which only runs when some matrix of the batch needs it. Written with
    :mod:`gmm_core.linalg`, never LAPACK custom calls (see there why).

    Parameters
    ----------
    covariances : (..., feature, feature)

    Returns
    -------
    (..., feature, feature) lower-triangular factors.
    """
    symmetric = 0.5 * (covariances + jnp.swapaxes(covariances, -1, -2))
    factor = linalg.cholesky(symmetric)
    finite = jnp.all(jnp.isfinite(factor), axis=(-1, -2), keepdims=True)
    n_features = covariances.shape[-1]

    def repair() -> Array:
        diagonal_mean = jnp.trace(symmetric, axis1=-2, axis2=-1)[..., None, None] / n_features
        identity = jnp.eye(n_features, dtype=covariances.dtype)
        jitter = (1e-6 * jnp.abs(diagonal_mean) + 1e-12) * identity
        repaired = linalg.cholesky(symmetric + jitter)
        repaired = jnp.where(jnp.isfinite(repaired), repaired, jnp.sqrt(jitter))
        return jnp.where(finite, factor, repaired)

    return jax.lax.cond(jnp.all(finite), lambda: factor, repair)


def log_density_coefficients(params: MixtureParams, covariance_type: str) -> Array:
    """Coefficients Q such that ``point_features(x) @ Q`` = log w_k + log N(x | μ_k, Σ_k).

    Parameters
    ----------
    params : MixtureParams with shapes (..., component), (..., component, feature),
        (..., component, feature, feature)

    Returns
    -------
    (..., component, basis)
    """
    n_features = params.means.shape[-1]
    factor = cholesky_with_fallback(params.covariances)
    inverse_factor = linalg.lower_triangular_inverse(factor)
    precision = jnp.swapaxes(inverse_factor, -1, -2) @ inverse_factor
    log_det_precision = -2.0 * jnp.sum(jnp.log(jnp.diagonal(factor, axis1=-2, axis2=-1)), axis=-1)
    linear = jnp.einsum("...ij,...j->...i", precision, params.means)
    constant = (
        params.log_weights
        - 0.5 * n_features * math.log(2.0 * math.pi)
        + 0.5 * log_det_precision
        - 0.5 * jnp.sum(linear * params.means, axis=-1)
    )
    if uses_full_quadratic(covariance_type):
        rows, cols = _upper_pairs(n_features)
        off_diagonal = jnp.asarray(
            [1.0 if i != j else 0.5 for i, j in zip(rows, cols, strict=True)]
        )
        quadratic = -precision[..., rows, cols] * off_diagonal.astype(precision.dtype)
    else:
        quadratic = -0.5 * jnp.diagonal(precision, axis1=-2, axis2=-1)
    active = params.log_weights > 0.5 * MASKED_LOG_WEIGHT
    constant = jnp.where(active, constant, MASKED_LOG_WEIGHT)
    linear = jnp.where(active[..., None], linear, 0.0)
    quadratic = jnp.where(active[..., None], quadratic, 0.0)
    return jnp.concatenate([constant[..., None], linear, quadratic], axis=-1)


def unpack_second_moments(sums: Array, n_features: int, covariance_type: str) -> Array:
    """Turn the quadratic columns of the statistics into (..., feature, feature) matrices.

    For diagonal feature sets only the diagonal is filled.
    """
    quadratic = sums[..., 1 + n_features :]
    batch = sums.shape[:-1]
    if uses_full_quadratic(covariance_type):
        rows, cols = _upper_pairs(n_features)
        matrix = jnp.zeros(batch + (n_features, n_features), sums.dtype)
        matrix = matrix.at[..., rows, cols].set(quadratic)
        matrix = matrix.at[..., cols, rows].set(quadratic)
        return matrix
    return quadratic[..., :, None] * jnp.eye(n_features, dtype=sums.dtype)
