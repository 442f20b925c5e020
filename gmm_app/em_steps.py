"""One fit walked through EM one half-step at a time, in NumPy float64.

The step-through view reads these stored iterates; it never refits the sweep. Starting
from a fit's initial parameters (as the sweep stored them), :func:`walk` repeats the
E step (responsibilities) and the M step (weights, means, covariances + ``reg_covar``·I)
for the iterations that fit ran.

Pure: NumPy, and :mod:`gmm_core.covariance_types` for what each covariance type keeps
of the scatter. Must not import Streamlit or other ``gmm_app`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gmm_core.covariance_types import covariance_kind

REG_COVAR = 1e-6  # gmm_core.sweep's default


@dataclass(frozen=True)
class Walk:
    """The parameters after every M step of one fit.

    Attributes
    ----------
    weights : (T + 1, K); means : (T + 1, K, D); covariances : (T + 1, K, D, D)
        Index 0 is the initialisation, index t the parameters after iteration t.
    log_likelihood : (T + 1,) mean log-likelihood per point under the parameters at t
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    log_likelihood: np.ndarray

    @property
    def n_iter(self) -> int:
        return self.weights.shape[0] - 1

    @property
    def n_positions(self) -> int:
        """Half-steps: the start, then an E and an M step per iteration."""
        return 2 * self.n_iter + 1


def log_responsibilities(
    X: np.ndarray, weights: np.ndarray, means: np.ndarray, covariances: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Log responsibilities (N, K) and the log-density of every point (N,).

    Components with a zero or non-finite weight get responsibility 0.
    """
    n_features = X.shape[1]
    log_prob = np.full((X.shape[0], weights.shape[0]), -np.inf)
    for k, (weight, mean, cov) in enumerate(zip(weights, means, covariances, strict=True)):
        if not (np.isfinite(weight) and weight > 0 and np.all(np.isfinite(cov))):
            continue
        chol = np.linalg.cholesky(cov)
        solved = np.linalg.solve(chol, (X - mean).T)
        log_det = 2.0 * np.log(np.diag(chol)).sum()
        maha = (solved**2).sum(axis=0)
        log_prob[:, k] = np.log(weight) - 0.5 * (n_features * np.log(2 * np.pi) + log_det + maha)
    top = log_prob.max(axis=1, keepdims=True)
    log_density = top[:, 0] + np.log(np.exp(log_prob - top).sum(axis=1))
    return log_prob - log_density[:, None], log_density


def m_step(
    X: np.ndarray, resp: np.ndarray, covariance_type: str, reg_covar: float = REG_COVAR
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights (K,), means (K, D) and full covariances (K, D, D) from responsibilities (N, K)."""
    n_samples, n_features = X.shape
    counts = resp.sum(axis=0) + 10 * np.finfo(np.float64).eps
    means = resp.T @ X / counts[:, None]
    centred = X[None, :, :] - means[:, None, :]  # (K, N, D)
    scatter = np.einsum("nk,kni,knj->kij", resp, centred, centred) / counts[:, None, None]
    kind = covariance_kind(covariance_type)
    if kind.shared:
        tied = np.einsum("k,kij->ij", counts, scatter) / n_samples
        scatter = np.broadcast_to(tied, scatter.shape).copy()
    scatter = kind.project(scatter)
    return counts / n_samples, means, scatter + reg_covar * np.eye(n_features)


def walk(
    X: np.ndarray,
    weights: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    covariance_type: str,
    n_iter: int,
    reg_covar: float = REG_COVAR,
) -> Walk:
    """Run ``n_iter`` EM iterations from the initial parameters, keeping each iterate.

    Parameters
    ----------
    X : (N, D); weights : (K,); means : (K, D); covariances : (K, D, D) the initial fit
    covariance_type : "full", "tied", "diag" or "spherical"
    n_iter : iterations to run (the number the sweep ran for this fit)
    reg_covar : added to every covariance's diagonal, as in the sweep
    """
    X = np.asarray(X, dtype=np.float64)
    params = [tuple(np.asarray(a, dtype=np.float64) for a in (weights, means, covariances))]
    log_likelihood = []
    for _ in range(max(int(n_iter), 0)):
        log_resp, log_density = log_responsibilities(X, *params[-1])
        log_likelihood.append(float(log_density.mean()))
        params.append(m_step(X, np.exp(log_resp), covariance_type, reg_covar))
    log_likelihood.append(float(log_responsibilities(X, *params[-1])[1].mean()))
    w, m, c = (np.stack(parts) for parts in zip(*params, strict=True))
    return Walk(w, m, c, np.asarray(log_likelihood))


def describe(position: int) -> tuple[int, str]:
    """Iteration and stage of a half-step position: 0 → (0, "start"), 2t-1 → (t, "E step")."""
    if position <= 0:
        return 0, "start"
    iteration = (position + 1) // 2
    return iteration, "E step" if position % 2 else "M step"
