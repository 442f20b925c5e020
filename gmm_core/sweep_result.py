"""What a sweep returns: every fit in original units, and choosing among them.

:class:`SweepResult` holds the (K, restart) grid of fits with their traces,
snapshots, criteria and diagnostics; :meth:`SweepResult.mixture` gives one of its fits as a
:class:`gmm_core.mixture.Mixture` (public name ``FittedMixture``).
:func:`assemble_result` turns the program's raw outputs (internal units, padded,
restart-major) into a :class:`SweepResult`.

This module must not import streamlit or plotly (``gmm_core`` never does), nor
:mod:`gmm_core.sweep`, which builds on it.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from gmm_core.buckets import bucket_components
from gmm_core.criteria import aic, bic
from gmm_core.diagnostics import StuckFitWarning, float64_reason, stuck_fits
from gmm_core.fit_settings import FitSettings
from gmm_core.mixture import MASKED_LOG_WEIGHT, Mixture, MixtureParams
from gmm_core.points import PreparedData
from gmm_core.program import ProgramOutputs
from gmm_core.tolerances import POSITIVE_FLOOR

FittedMixture = Mixture
"""The public name (``gmm_core.FittedMixture``) of :class:`gmm_core.mixture.Mixture`."""


@dataclasses.dataclass(frozen=True, eq=False)
class SweepResult:
    """Every fit of a sweep, in original units, with the settings it ran with.

    Shapes use ``n_k`` K values, ``n_restarts`` restarts, ``k_pad`` padded components
    (entries beyond K have weight 0), ``n_snap`` snapshots and D features.

    Attributes
    ----------
    settings : the :class:`~gmm_core.fit_settings.FitSettings` of the sweep
    n_samples, n_features : the data's shape
    log_likelihood : (n_k, n_restarts, max_iter) mean log-likelihood per point,
        held constant after a fit converged
    final_log_likelihood : (n_k, n_restarts) of the final parameters
    n_iter, converged : (n_k, n_restarts)
    final, initial : Mixture grids (n_k, n_restarts, k_pad, ...) after and before EM
    snapshots : Mixture grid (n_k, n_restarts, n_snap, k_pad, ...) at the iterations
        :attr:`snapshot_iterations`
    bic, aic : (n_k, n_restarts)
    failed : (n_k, n_restarts) bool, a covariance stopped being positive definite
        (``reg_covar=0`` and a component on identical points); the fit keeps its last
        valid parameters and is never chosen while another restart is usable
    stuck : (n_k, n_restarts) bool, K > 1 and every component a near-duplicate of the
        others (see :mod:`gmm_core.diagnostics`); chosen only when nothing else is
    e_step_float64 : (n_k, n_restarts) bool, some E step of the fit ran in float64;
        :attr:`e_step_float64_reason` says why
    e_step_reasons : (n_k, n_restarts) int, the reason bits (``gmm_core.em``)
    float32_noise : (n_k, n_restarts) estimated float32 rounding of the E steps
    compile_seconds : time spent compiling for this call (0 when the program was cached)
    run_seconds : time spent running the program
    """

    settings: FitSettings
    n_samples: int
    n_features: int
    log_likelihood: np.ndarray
    final_log_likelihood: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    final: Mixture
    initial: Mixture
    snapshots: Mixture
    bic: np.ndarray
    aic: np.ndarray
    failed: np.ndarray
    stuck: np.ndarray
    e_step_float64: np.ndarray
    e_step_reasons: np.ndarray
    float32_noise: np.ndarray
    compile_seconds: float
    run_seconds: float

    @property
    def k_values(self) -> np.ndarray:
        """(n_k,) int, the K values of the sweep."""
        return self.settings.k_values

    @property
    def snapshot_iterations(self) -> np.ndarray:
        """(n_snap,) int, the iterations of :attr:`snapshots` (0: the start)."""
        return np.asarray(self.settings.snapshot_at, int)

    @property
    def e_step_float64_reason(self) -> str:
        """Why E steps ran in float64, e.g. "E step in float64 because tol < 3e-05 …"."""
        return float64_reason(self.e_step_reasons, self.float32_noise, self.settings.tol)

    @property
    def n_restarts(self) -> int:
        return int(self.log_likelihood.shape[1])

    def k_index(self, k: int) -> int:
        """Row of K in the result's arrays."""
        matches = np.flatnonzero(self.k_values == k)
        if matches.size == 0:
            raise ValueError(f"K={k} is not in this sweep's range {self.k_values.tolist()}.")
        return int(matches[0])

    def best_restart(self) -> np.ndarray:
        """(n_k,) index of the restart with the highest final log-likelihood for each K.

        Usable restarts come first, then stuck ones, then failed ones.
        """
        tier = np.where(self.failed, 0, np.where(self.stuck, 1, 2))
        best_tier = tier.max(axis=1, keepdims=True)
        finite = np.isfinite(self.final_log_likelihood)
        scores = np.where(finite & (tier == best_tier), self.final_log_likelihood, -np.inf)
        return np.argmax(scores, axis=1)

    def best_is_usable(self) -> np.ndarray:
        """(n_k,) whether each K's best restart is neither stuck nor failed."""
        rows = np.arange(len(self.k_values))
        best = self.best_restart()
        return ~self.failed[rows, best] & ~self.stuck[rows, best]

    def best_bic(self) -> np.ndarray:
        """(n_k,) BIC of the best restart of each K."""
        return self.bic[np.arange(len(self.k_values)), self.best_restart()]

    def best_aic(self) -> np.ndarray:
        """(n_k,) AIC of the best restart of each K."""
        return self.aic[np.arange(len(self.k_values)), self.best_restart()]

    def left_out_k(self) -> list[int]:
        """K values whose every restart is stuck or failed, while another K is usable.

        Model selection compares only the other K values (see :meth:`best_k`).
        """
        usable = self.best_is_usable()
        if not np.any(usable):
            return []
        return [int(k) for k in self.k_values[~usable]]

    def best_k(self, criterion: str = "bic", *, warn: bool = True) -> int:
        """The K whose best restart has the lowest BIC (or AIC).

        The K values of :meth:`left_out_k` are left out, with a
        :class:`gmm_core.diagnostics.StuckFitWarning` naming them unless ``warn`` is
        False (a caller that shows :meth:`left_out_k` itself).
        """
        scores = self.best_bic() if criterion == "bic" else self.best_aic()
        scores = np.where(np.isfinite(scores), scores, np.inf)
        left_out = self.left_out_k()
        if left_out:
            if warn:
                warnings.warn(
                    f"K = {left_out}: every restart is stuck (near-duplicate components) "
                    f"or failed, so {criterion.upper()} compared only the other K values; "
                    "try a smaller tol, another init_params or a larger reg_covar.",
                    StuckFitWarning,
                    stacklevel=2,
                )
            scores = np.where(np.isin(self.k_values, left_out), np.inf, scores)
        return int(self.k_values[int(np.argmin(scores))])

    def mixture(self, k: int, restart: int | None = None) -> Mixture:
        """The fitted mixture of K (best restart by default), padding removed."""
        row = self.k_index(k)
        column = int(self.best_restart()[row]) if restart is None else restart
        return self.final[row, column, :k]


def _fit_grid(array: np.ndarray, n_k: int, n_restarts: int) -> np.ndarray:
    """Restart-major fits (fit, ...) as a (n_k, n_restarts, ...) grid, padding dropped."""
    n_slots = bucket_components(n_k)
    array = np.asarray(array)
    shaped = array.reshape((array.shape[0] // n_slots, n_slots) + array.shape[1:])
    return np.swapaxes(shaped[:n_restarts, :n_k], 0, 1)


def _in_original_units(
    params: MixtureParams, n_k: int, n_restarts: int, prepared: PreparedData
) -> Mixture:
    """The grid (n_k, n_restarts, ..., component) of mixtures ``params``, original units."""
    log_weights = _fit_grid(params.log_weights, n_k, n_restarts)
    weights = np.where(log_weights > 0.5 * MASKED_LOG_WEIGHT, np.exp(log_weights), 0.0)
    # Initial weights are scikit-learn's mass / n (see gmm_core.init); shown normalised.
    weights = weights / np.maximum(weights.sum(axis=-1, keepdims=True), POSITIVE_FLOOR)
    means = _fit_grid(params.means, n_k, n_restarts) * prepared.scale + prepared.shift
    covariances = _fit_grid(params.covariances, n_k, n_restarts) * prepared.scale**2
    return Mixture(weights, means, covariances)


def assemble_result(
    outputs: ProgramOutputs,
    prepared: PreparedData,
    settings: FitSettings,
    compile_seconds: float,
    run_seconds: float,
) -> SweepResult:
    """The :class:`SweepResult` of the program's ``outputs`` (all restarts' slices joined)."""
    k_values, n_restarts = settings.k_values, settings.n_restarts
    n_k, n_features = len(k_values), prepared.point_chunks.shape[-1]

    def grid(array: np.ndarray) -> np.ndarray:
        return _fit_grid(array, n_k, n_restarts)

    log_scale = n_features * math.log(prepared.scale)
    final = _in_original_units(outputs.final, n_k, n_restarts, prepared)
    snapshots = _in_original_units(outputs.snapshots, n_k, n_restarts, prepared)
    final_log_likelihood = grid(outputs.final_log_likelihood) - log_scale
    total = final_log_likelihood * prepared.n_samples
    criterion_args = (k_values[:, None], n_features, prepared.n_samples, settings.covariance_type)
    failed = grid(outputs.failed).astype(bool)
    return SweepResult(
        settings=settings,
        n_samples=prepared.n_samples,
        n_features=n_features,
        log_likelihood=grid(outputs.log_likelihood)[..., : settings.max_iter] - log_scale,
        final_log_likelihood=final_log_likelihood,
        n_iter=grid(outputs.n_iter).astype(int),
        converged=grid(outputs.converged).astype(bool),
        final=final,
        initial=_in_original_units(outputs.initial, n_k, n_restarts, prepared),
        snapshots=snapshots[:, :, : len(settings.snapshot_at)],
        bic=np.asarray(bic(total, *criterion_args)),
        aic=np.asarray(aic(total, *criterion_args)),
        failed=failed,
        stuck=stuck_fits(final.weights, final.means, final.covariances) & ~failed,
        e_step_float64=grid(outputs.e_step_reasons) > 0,
        e_step_reasons=grid(outputs.e_step_reasons).astype(int),
        float32_noise=grid(outputs.float32_noise).astype(np.float64),
        compile_seconds=compile_seconds,
        run_seconds=run_seconds,
    )
