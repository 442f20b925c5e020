"""One fit's EM iterates, read from a sweep: what the Step and Panels tabs show.

There is no EM here. The parameters after every iteration are the sweep's own snapshots
(:func:`stored_walk`). The app's sweep keeps 64 of them, every iteration up to about 30
(max_iter 1000) to 55 (max_iter 100), then log-spaced; a fit that ran past the
contiguous ones is run again alone by :func:`gmm_core.sweep` from its stored start,
keeping every iteration (:func:`replay_options`): the same compiled EM, so the same
iterates, and a job the app sends to a sweep worker under a deadline.

Must not import Streamlit or other ``gmm_app`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import gmm_core
from gmm_core.buckets import bucket_iterations
from gmm_core.covariance_types import covariance_kind


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


def stored_walk(result: gmm_core.SweepResult, k: int, restart: int) -> Walk | None:
    """Fit (K, restart) from the sweep's snapshots, or None when they skip an iteration
    of its run (0..n_iter)."""
    row = result.k_index(k)
    n_iter = int(result.n_iter[row, restart])
    kept = np.asarray(result.snapshot_iterations)[: n_iter + 1]
    if not np.array_equal(kept, np.arange(n_iter + 1)):
        return None
    run = (row, restart, slice(0, n_iter + 1), slice(0, k))
    return Walk(
        result.snapshots.weights[run],
        result.snapshots.means[run],
        result.snapshots.covariances[run],
        np.append(
            result.log_likelihood[row, restart, :n_iter], result.final_log_likelihood[row, restart]
        ),
    )


def replay_options(result: gmm_core.SweepResult, k: int, restart: int) -> dict[str, object]:
    """:func:`gmm_core.sweep`'s keywords (besides the points) that run fit (K, restart)
    again alone from its stored start, for as many iterations, keeping every one.

    The snapshot count is rounded up as the trace length is, so fits of similar length
    share one compiled program.
    """
    row = result.k_index(k)
    n_iter = max(int(result.n_iter[row, restart]), 1)
    kind = covariance_kind(result.settings.covariance_type)
    start = (row, restart, slice(0, k))
    return dict(
        k_min=k,
        k_max=k,
        n_restarts=1,
        covariance_type=result.settings.covariance_type,
        max_iter=n_iter,
        tol=result.settings.tol,
        reg_covar=result.settings.reg_covar,
        snapshots=bucket_iterations(n_iter) + 1,
        weights_init=result.initial.weights[start],
        means_init=result.initial.means[start],
        precisions_init=kind.precisions_from_cholesky(
            kind.precisions_cholesky(result.initial.covariances[start])
        ),
    )


def describe(position: int) -> tuple[int, str]:
    """Iteration and stage of a half-step position: 0 → (0, "start"), 2t-1 → (t, "E step")."""
    if position <= 0:
        return 0, "start"
    iteration = (position + 1) // 2
    return iteration, "E step" if position % 2 else "M step"
