"""What a sweep says about its own fits: stuck fits, and why an E step ran in float64.

Stuck. EM can stop at a saddle where every component sits on the data's mean with
the data's covariance (for example ``init_params="random"`` with the default
``tol``: the first change is already below ``tol``). Such a K > 1 fit is no better
than K = 1, and model selection would then pick K = 1 for the wrong reason. A fit
is *stuck* when K > 1 and every component with weight above
:data:`STUCK_MIN_WEIGHT` is within :data:`STUCK_DISTANCE` of the mixture's mean
(Mahalanobis distance under the mixture's total covariance) and has a covariance
within :data:`STUCK_DISTANCE` of the weighted mean covariance (Frobenius norm, in
the same whitened units). A smaller ``tol`` or another ``init_params`` usually
gets such a fit moving.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import numpy as np

from gmm_core.em import (
    CENTRED_DIFFERENCES,
    FLOAT64_FOR_RISK,
    FLOAT64_FOR_TOL,
    FLOAT64_REQUESTED,
)
from gmm_core.tolerances import FLOAT32_RISK_LIMIT, POSITIVE_FLOOR, TOL_NOISE_FRACTION

#: Largest whitened distance between components for a fit to count as stuck.
STUCK_DISTANCE = 0.1
#: Components lighter than this do not count (an emptied component is not a duplicate).
STUCK_MIN_WEIGHT = 1e-3


class StuckFitWarning(UserWarning):
    """Model selection had to leave out K values whose fits are stuck at a saddle."""


def stuck_fits(weights: np.ndarray, means: np.ndarray, covariances: np.ndarray) -> np.ndarray:
    """Which fits stopped with near-duplicate components.

    Parameters
    ----------
    weights : (..., component), 0 for padding; means : (..., component, D);
    covariances : (..., component, D, D)

    Returns
    -------
    (...) bool
    """
    weights = np.asarray(weights, np.float64)
    total = np.maximum(weights.sum(axis=-1, keepdims=True), POSITIVE_FLOOR)
    w = weights / total
    mean = np.einsum("...k,...kd->...d", w, means)
    offsets = means - mean[..., None, :]
    mean_covariance = np.einsum("...k,...kij->...ij", w, covariances)
    spread = np.einsum("...k,...ki,...kj->...ij", w, offsets, offsets)
    whitener = np.linalg.pinv(mean_covariance + spread, hermitian=True)
    distance = np.sqrt(
        np.maximum(np.einsum("...ki,...ij,...kj->...k", offsets, whitener, offsets), 0)
    )
    root = _psd_root(whitener)
    difference = covariances - mean_covariance[..., None, :, :]
    whitened = root[..., None, :, :] @ difference @ root[..., None, :, :]
    shape_gap = np.linalg.norm(whitened, axis=(-2, -1))
    counts = w > STUCK_MIN_WEIGHT
    near = (distance < STUCK_DISTANCE) & (shape_gap < STUCK_DISTANCE)
    several = np.sum(weights > 0, axis=-1) > 1
    with np.errstate(invalid="ignore"):
        return several & np.all(near | ~counts, axis=-1) & np.all(np.isfinite(distance), axis=-1)


def _psd_root(matrices: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrices)
    return (vectors * np.sqrt(np.maximum(values, 0))[..., None, :]) @ np.swapaxes(vectors, -1, -2)


def float64_reason(reasons: np.ndarray, float32_noise: np.ndarray, tol: float) -> str:
    """Why some E steps ran in float64, for the fit summary ('' when none did).

    Parameters
    ----------
    reasons : (...) int, OR of the ``gmm_core.em`` reason bits of each fit
    float32_noise : (...) the largest estimated float32 rounding of each fit's E steps
    """
    bits = int(np.bitwise_or.reduce(np.asarray(reasons, np.int64).ravel(), initial=0))
    noise = float(np.max(float32_noise, initial=0.0))
    parts = []
    if bits & FLOAT64_REQUESTED:
        parts.append("E step in float64 because dtype='float64' was requested")
    if bits & FLOAT64_FOR_TOL:
        parts.append(
            f"E step in float64 because tol < {noise / TOL_NOISE_FRACTION:.1g} "
            f"(float32 rounding of the mean log-likelihood ≈ {noise:.1g}, tol={tol:g})"
        )
    if bits & FLOAT64_FOR_RISK:
        parts.append(
            f"E step in float64 because float32 rounding (≈ {noise:.1g}) exceeds "
            f"{FLOAT32_RISK_LIMIT:g}: tight components far from the data centre"
        )
    if bits & CENTRED_DIFFERENCES:
        parts.append("some E steps from centred differences x − μ (tight, far components)")
    return "; ".join(parts)
