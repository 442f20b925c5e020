"""A fit against the truth: one-to-one matching of components, centre errors and ARI.

Plain NumPy/SciPy; the adjusted Rand index follows scikit-learn's
``adjusted_rand_score`` so the numbers agree with it.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment
from scipy.stats.contingency import crosstab

__all__ = [
    "CenterErrors",
    "ComponentMatching",
    "adjusted_rand_index",
    "center_errors",
    "match_components",
]


class ComponentMatching(NamedTuple):
    """One-to-one pairing of true and estimated components.

    Attributes
    ----------
    true_index, est_index : np.ndarray, shape (M,), int64
        Matched pairs ``(true_index[m], est_index[m])``, sorted by ``true_index``.
    cost : np.ndarray, shape (M,)
        Cost of each matched pair (see :func:`match_components`).
    est_to_true : np.ndarray, shape (Ke,), int64
        True component matched to each estimated one, -1 if unmatched.
    true_to_est : np.ndarray, shape (Kt,), int64
        Estimated component matched to each true one, -1 if unmatched.
    """

    true_index: np.ndarray
    est_index: np.ndarray
    cost: np.ndarray
    est_to_true: np.ndarray
    true_to_est: np.ndarray


class CenterErrors(NamedTuple):
    """How far the estimated centres are from the true ones.

    Attributes
    ----------
    distances : np.ndarray, shape (Kt,)
        Euclidean distance from each true centre to its matched estimate; ``inf`` if unmatched.
    mean_distance, max_distance : float
        Mean and maximum over the matched true centres only (NaN if none is matched).
    n_unmatched : int
        Number of true centres without an estimate.
    """

    distances: np.ndarray
    mean_distance: float
    max_distance: float
    n_unmatched: int


def match_components(
    true_means: ArrayLike,
    est_means: ArrayLike,
    true_covariances: ArrayLike | None = None,
    est_covariances: ArrayLike | None = None,
) -> ComponentMatching:
    """Pair true and estimated components by minimum total cost (Hungarian algorithm).

    Without covariances the cost is the Euclidean distance ``|mu_t - mu_e|``. With both
    covariance stacks it is the 2-Wasserstein distance between the two Gaussians,
    ``sqrt(|mu_t - mu_e|^2 + B(S_t, S_e)^2)`` where
    ``B^2 = tr S_t + tr S_e - 2 tr (S_t^{1/2} S_e S_t^{1/2})^{1/2}`` (the Bures term); it is
    symmetric and reduces to the Euclidean distance when the covariances are equal.

    ``Kt`` and ``Ke`` may differ: ``min(Kt, Ke)`` pairs are formed and the rest stay unmatched.
    Non-finite costs (e.g. a NaN mean from a collapsed fit) are treated as a very large cost,
    and a pair that could only be formed at such a cost is left unmatched.

    Parameters
    ----------
    true_means
        Shape (Kt, D).
    est_means
        Shape (Ke, D).
    true_covariances, est_covariances
        Shapes (Kt, D, D) and (Ke, D, D), or both ``None``.

    Returns
    -------
    ComponentMatching
    """
    true_array = np.asarray(true_means, dtype=np.float64)
    est_array = np.asarray(est_means, dtype=np.float64)
    if true_array.ndim != 2 or est_array.ndim != 2 or true_array.shape[1] != est_array.shape[1]:
        raise ValueError(
            "true_means and est_means must have shapes (Kt, D) and (Ke, D) with the same D, "
            f"got {true_array.shape} and {est_array.shape}"
        )
    with np.errstate(invalid="ignore", over="ignore"):
        squared = np.sum((true_array[:, None, :] - est_array[None, :, :]) ** 2, axis=-1)
    if (true_covariances is None) != (est_covariances is None):
        raise ValueError("give both true_covariances and est_covariances, or neither")
    if true_covariances is not None and est_covariances is not None:
        squared = squared + _bures_squared(
            _covariance_stack(true_covariances, true_array.shape, "true_covariances"),
            _covariance_stack(est_covariances, est_array.shape, "est_covariances"),
        )
    with np.errstate(invalid="ignore"):
        cost_matrix = np.sqrt(np.clip(squared, 0.0, None))
    return _assign(cost_matrix)


def center_errors(true_means: ArrayLike, est_means: ArrayLike) -> CenterErrors:
    """Distance from each true centre to the estimated centre matched to it.

    Matching is :func:`match_components` on the means alone.

    Parameters
    ----------
    true_means
        Shape (Kt, D).
    est_means
        Shape (Ke, D).

    Returns
    -------
    CenterErrors
    """
    matching = match_components(true_means, est_means)
    distances = np.full(np.asarray(true_means).shape[0], np.inf)
    distances[matching.true_index] = matching.cost
    matched = matching.cost
    mean_distance = float(np.mean(matched)) if matched.size else float("nan")
    max_distance = float(np.max(matched)) if matched.size else float("nan")
    return CenterErrors(
        distances=distances,
        mean_distance=mean_distance,
        max_distance=max_distance,
        n_unmatched=int(distances.size - matched.size),
    )


def adjusted_rand_index(labels_true: ArrayLike, labels_pred: ArrayLike) -> float:
    """Adjusted Rand index of two partitions, identical to scikit-learn's ``adjusted_rand_score``.

    Computed from the contingency table via the pair-confusion counts. Labels may be any
    hashable values; only the partition matters. Special case as in scikit-learn: when the
    partitions agree on every pair (e.g. both put all points in one cluster, or N <= 1) the
    result is 1.0.

    Parameters
    ----------
    labels_true, labels_pred
        Shape (N,).

    Returns
    -------
    float
        1.0 for identical partitions, about 0 for independent ones, may be negative.
    """
    true_array = np.asarray(labels_true)
    pred_array = np.asarray(labels_pred)
    if true_array.ndim != 1 or pred_array.ndim != 1:
        raise ValueError(
            f"labels must be 1-D, got shapes {true_array.shape} and {pred_array.shape}"
        )
    if true_array.shape != pred_array.shape:
        raise ValueError(
            f"labels must have the same length, got {true_array.size} and {pred_array.size}"
        )
    n = int(true_array.size)
    if n == 0:
        return 1.0
    # Python ints: the products below overflow int64 for large N.
    table = crosstab(true_array, pred_array).count.astype(object)
    sum_squares = int(np.sum(table**2))
    together_true_only = int(np.sum(table.sum(axis=1) ** 2)) - sum_squares
    together_pred_only = int(np.sum(table.sum(axis=0) ** 2)) - sum_squares
    together_both = sum_squares - n
    apart_both = n * n - together_true_only - together_pred_only - sum_squares
    if together_true_only == 0 and together_pred_only == 0:
        return 1.0
    numerator = 2 * (together_both * apart_both - together_true_only * together_pred_only)
    denominator = (together_both + together_true_only) * (together_true_only + apart_both) + (
        together_both + together_pred_only
    ) * (together_pred_only + apart_both)
    return float(numerator / denominator)


def _assign(cost_matrix: np.ndarray) -> ComponentMatching:
    n_true, n_est = cost_matrix.shape
    valid = np.isfinite(cost_matrix)
    finite_costs = cost_matrix[valid]
    largest = float(finite_costs.max()) if finite_costs.size else 0.0
    penalty = 1e6 * (largest + 1.0)
    solver_costs = np.where(valid, cost_matrix, penalty)
    rows, columns = linear_sum_assignment(solver_costs)
    keep = valid[rows, columns]
    true_index = rows[keep].astype(np.int64)
    est_index = columns[keep].astype(np.int64)
    est_to_true = np.full(n_est, -1, dtype=np.int64)
    true_to_est = np.full(n_true, -1, dtype=np.int64)
    est_to_true[est_index] = true_index
    true_to_est[true_index] = est_index
    return ComponentMatching(
        true_index=true_index,
        est_index=est_index,
        cost=cost_matrix[true_index, est_index],
        est_to_true=est_to_true,
        true_to_est=true_to_est,
    )


def _covariance_stack(
    covariances: ArrayLike, means_shape: tuple[int, ...], name: str
) -> np.ndarray:
    array = np.asarray(covariances, dtype=np.float64)
    expected = (means_shape[0], means_shape[1], means_shape[1])
    if array.shape != expected:
        raise ValueError(f"{name} must have shape {expected}, got {array.shape}")
    return 0.5 * (array + np.swapaxes(array, -1, -2))


def _psd_sqrt(matrices: np.ndarray) -> np.ndarray:
    """Symmetric square roots of a stack of symmetric matrices, shape (..., D, D).

    Negative eigenvalues are clamped to 0; a stack entry containing NaN or inf gives NaN.
    """
    result = np.full(matrices.shape, np.nan)
    finite = np.all(np.isfinite(matrices), axis=(-2, -1))
    if np.any(finite):
        eigenvalues, eigenvectors = np.linalg.eigh(matrices[finite])
        roots = np.sqrt(np.clip(eigenvalues, 0.0, None))
        result[finite] = (eigenvectors * roots[..., None, :]) @ np.swapaxes(eigenvectors, -1, -2)
    return result


def _bures_squared(true_covariances: np.ndarray, est_covariances: np.ndarray) -> np.ndarray:
    """Squared Bures distance between every pair, shape (Kt, Ke)."""
    true_roots = _psd_sqrt(true_covariances)
    with np.errstate(invalid="ignore", over="ignore"):
        middle = true_roots[:, None] @ est_covariances[None, :] @ true_roots[:, None]
        cross = np.trace(
            _psd_sqrt(0.5 * (middle + np.swapaxes(middle, -1, -2))), axis1=-2, axis2=-1
        )
        traces = (
            np.trace(true_covariances, axis1=-2, axis2=-1)[:, None]
            + np.trace(est_covariances, axis1=-2, axis2=-1)[None, :]
        )
        return traces - 2.0 * cross
