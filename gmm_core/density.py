"""Float64 NumPy log-densities, responsibilities and hard labels of a fitted Gaussian mixture.

These are the reference implementations used for predictions and scoring; all work happens in
log space so far-away points do not underflow.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from gmm_core.data import normalised_weights

__all__ = ["log_gaussian_densities", "log_responsibilities", "predict_labels"]

_LOG_2PI = float(np.log(2.0 * np.pi))


def log_gaussian_densities(X: ArrayLike, means: ArrayLike, covariances: ArrayLike) -> np.ndarray:
    """Log-density of every point under every Gaussian component.

    Uses the Cholesky factor ``L`` of each covariance and a triangular solve, so
    ``log N(x | mu, S) = -(D log 2 pi + 2 sum log diag L + |L^{-1} (x - mu)|^2) / 2``.

    Parameters
    ----------
    X
        Shape (N, D).
    means
        Shape (K, D).
    covariances
        Shape (K, D, D), symmetric positive definite.

    Returns
    -------
    np.ndarray, shape (N, K)

    Raises
    ------
    ValueError
        On wrong shapes, non-finite input or a covariance that is not positive definite.
    """
    points, centres, covariance_stack = _validated_model(X, means, covariances)
    n_points, n_features = points.shape
    result = np.empty((n_points, centres.shape[0]), dtype=np.float64)
    for component, (centre, covariance) in enumerate(zip(centres, covariance_stack, strict=True)):
        try:
            cholesky = scipy.linalg.cholesky(covariance, lower=True, check_finite=False)
        except np.linalg.LinAlgError as error:
            raise ValueError(
                f"covariance of component {component} is not positive definite"
            ) from error
        whitened = scipy.linalg.solve_triangular(
            cholesky, (points - centre).T, lower=True, check_finite=False
        )
        log_determinant = 2.0 * np.sum(np.log(np.diag(cholesky)))
        squared_distance = np.einsum("dn,dn->n", whitened, whitened)
        result[:, component] = -0.5 * (n_features * _LOG_2PI + log_determinant + squared_distance)
    return result


def log_responsibilities(
    X: ArrayLike, weights: ArrayLike, means: ArrayLike, covariances: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior log-probabilities of the components and the per-point mixture log-likelihood.

    Parameters
    ----------
    X
        Shape (N, D).
    weights
        Shape (K,), non-negative, not all zero; normalised internally. A zero weight gives that
        component log-responsibility ``-inf`` everywhere (never NaN).
    means
        Shape (K, D).
    covariances
        Shape (K, D, D), symmetric positive definite.

    Returns
    -------
    log_resp : np.ndarray, shape (N, K)
        ``log p(k | x_n)``; ``exp`` of each row sums to 1.
    log_likelihood_per_point : np.ndarray, shape (N,)
        ``log sum_k w_k N(x_n | mu_k, S_k)``.
    """
    log_densities = log_gaussian_densities(X, means, covariances)
    with np.errstate(divide="ignore"):
        log_weights = np.log(normalised_weights(weights, log_densities.shape[1]))
    weighted = log_densities + log_weights
    log_likelihood = logsumexp(weighted, axis=1)
    with np.errstate(invalid="ignore"):
        log_resp = weighted - log_likelihood[:, None]
    # A point whose every density underflowed to -inf falls back to the prior weights.
    vanished = ~np.isfinite(log_likelihood)
    if np.any(vanished):
        log_resp[vanished] = log_weights
    return log_resp, log_likelihood


def predict_labels(
    X: ArrayLike, weights: ArrayLike, means: ArrayLike, covariances: ArrayLike
) -> np.ndarray:
    """Most probable component of every point.

    Parameters
    ----------
    X, weights, means, covariances
        As in :func:`log_responsibilities`: shapes (N, D), (K,), (K, D), (K, D, D).

    Returns
    -------
    np.ndarray, shape (N,), int64
    """
    log_resp, _ = log_responsibilities(X, weights, means, covariances)
    return np.argmax(log_resp, axis=1).astype(np.int64)


def _validated_model(
    X: ArrayLike, means: ArrayLike, covariances: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    points = np.asarray(X, dtype=np.float64)
    centres = np.asarray(means, dtype=np.float64)
    covariance_stack = np.asarray(covariances, dtype=np.float64)
    if points.ndim != 2:
        raise ValueError(f"X must have shape (N, D), got {points.shape}")
    n_features = points.shape[1]
    if centres.ndim != 2 or centres.shape[1] != n_features or centres.shape[0] < 1:
        raise ValueError(
            f"means must have shape (K, {n_features}) with K >= 1, got {centres.shape}"
        )
    n_components = centres.shape[0]
    expected = (n_components, n_features, n_features)
    if covariance_stack.shape != expected:
        raise ValueError(f"covariances must have shape {expected}, got {covariance_stack.shape}")
    for name, array in (("X", points), ("means", centres), ("covariances", covariance_stack)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contains non-finite values (NaN or inf)")
    return points, centres, covariance_stack
