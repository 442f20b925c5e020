"""EM for a batch of mixtures, written as sufficient statistics accumulated over chunks.

One E pass streams over chunks of points and returns per-component sums (see
:mod:`gmm_core.stats`), so the same code serves one device, data sharded over
many devices (sum the statistics), and data too large for one pass.

Precision. Each E pass picks float32, float64 or centred float64 arithmetic,
whichever is cheapest while its rounding stays below ``tol`` / 10 and the
scatter keeps its digits; see :mod:`gmm_core.estep`.

Monotone traces. A step whose log-likelihood is lower than the previous one by
more than :data:`~gmm_core.tolerances.DECREASE_TOLERANCE` (relative) is rejected: the fit keeps the
previous parameters, holds its trace and stops; it counts as converged only when
the rejected change was below ``tol``.

Positive definite or failed. After every M step every active covariance must
have a Cholesky factor; if one has none (``reg_covar=0`` and a component on
identical points), the fit keeps its last valid parameters, stops, and is marked
``failed``. A positive ``reg_covar`` is raised to at least
:data:`~gmm_core.tolerances.REG_FLOOR_EPS` float64 eps times the component's largest
variance (a relative change below 1e-13 of that variance), so a rank-deficient scatter
never fails by rounding.

Rule for a component that loses its points: when its responsibility mass falls
below :data:`~gmm_core.tolerances.EMPTY_COMPONENT_MASS` points it keeps its previous mean and
covariance, and its weight becomes its (near zero) share of the mass. It stays
in the model, contributes nothing, and the log-likelihood stays finite.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array, lax

from gmm_core import linalg
from gmm_core.basis import unpack_second_moments
from gmm_core.covariance_types import covariance_kind
from gmm_core.estep import (
    CENTRED_DIFFERENCES,
    FLOAT64_FOR_RISK,
    FLOAT64_FOR_TOL,
    FLOAT64_REQUESTED,
    EStepInfo,
    expectation,
    float32_rounding_risk,
    log_joint_coefficients,
    posterior_responsibilities,
)
from gmm_core.mixture import MASKED_LOG_WEIGHT, MixtureParams
from gmm_core.stats import SufficientStats, accumulate_statistics, centred_statistics
from gmm_core.tolerances import (
    DECREASE_TOLERANCE,
    EMPTY_COMPONENT_MASS,
    FLOAT32_RISK_LIMIT,
    FLOAT64_RISK_LIMIT,
    MASS_EPSILON,
    REG_FLOOR_EPS,
    TOL_NOISE_FRACTION,
)

__all__ = [
    "CENTRED_DIFFERENCES",
    "EMPTY_COMPONENT_MASS",
    "FLOAT32_RISK_LIMIT",
    "FLOAT64_FOR_RISK",
    "FLOAT64_FOR_TOL",
    "FLOAT64_REQUESTED",
    "FLOAT64_RISK_LIMIT",
    "MASS_EPSILON",
    "TOL_NOISE_FRACTION",
    "EMTrace",
    "SufficientStats",
    "accumulate_statistics",
    "centred_statistics",
    "expectation",
    "float32_rounding_risk",
    "log_joint_coefficients",
    "maximization",
    "posterior_responsibilities",
    "run_em",
]


def positive_definite(covariances: Array, component_mask: Array) -> Array:
    """(fit,) whether every active covariance of each fit has a Cholesky factor."""
    factor = linalg.cholesky(covariances)
    diagonal = jnp.diagonal(factor, axis1=-2, axis2=-1)
    good = jnp.all(jnp.isfinite(factor), axis=(-1, -2)) & jnp.all(diagonal > 0, axis=-1)
    return jnp.all(good | ~component_mask, axis=-1)


def maximization(
    stats: SufficientStats,
    previous: MixtureParams,
    component_mask: Array,
    reg_covar: Array,
    covariance_type: str,
) -> MixtureParams:
    """M step from sufficient statistics (float64), for a batch of mixtures.

    Parameters
    ----------
    stats : SufficientStats with sums (fit, component, basis) about ``stats.reference``
    previous : MixtureParams (fit, component, ...)
        Kept for components that are padded or have lost their points.
    component_mask : (fit, component) bool
    reg_covar : scalar, added to every covariance diagonal (in internal units).

    Returns
    -------
    MixtureParams, float64.
    """
    n_features = previous.means.shape[-1]
    sums = stats.sums
    mass = sums[..., 0]
    first = sums[..., 1 : 1 + n_features]
    second = unpack_second_moments(sums, n_features, covariance_type)
    mass_reg = mass + MASS_EPSILON
    shift = first / mass_reg[..., None]
    means = stats.reference + shift
    # Σ r (x − μ)(x − μ)ᵀ expanded about the reference, where no digits are lost
    # (the sums are centred when they would be, see gmm_core.stats).
    outer_first_shift = first[..., :, None] * shift[..., None, :]
    scatter = (
        second
        - outer_first_shift
        - jnp.swapaxes(outer_first_shift, -1, -2)
        + mass[..., None, None] * shift[..., :, None] * shift[..., None, :]
    )
    identity = jnp.eye(n_features, dtype=jnp.float64)
    m_step = covariance_kind(covariance_type).m_step
    covariances = m_step(scatter, mass_reg, component_mask, identity)
    # reg_covar > 0 is floored at REG_FLOOR_EPS · eps · the largest variance, so that the
    # matrix stays positive definite in float64 however rank-deficient the scatter.
    largest = jnp.max(jnp.diagonal(covariances, axis1=-2, axis2=-1), axis=-1)
    floor = REG_FLOOR_EPS * float(jnp.finfo(jnp.float64).eps) * jnp.abs(largest)
    regularised = jnp.where(reg_covar > 0, jnp.maximum(reg_covar, floor), 0.0)
    covariances = 0.5 * (covariances + jnp.swapaxes(covariances, -1, -2))
    covariances = covariances + regularised[..., None, None] * identity
    # Mirror the upper triangle: exactly symmetric whatever XLA fuses (FMA) above.
    upper = jnp.arange(n_features)[:, None] <= jnp.arange(n_features)[None, :]
    covariances = jnp.where(upper, covariances, jnp.swapaxes(covariances, -1, -2))

    keeps_points = component_mask & (mass >= EMPTY_COMPONENT_MASS)
    means = jnp.where(keeps_points[..., None], means, previous.means)
    covariances = jnp.where(keeps_points[..., None, None], covariances, previous.covariances)
    weights = jnp.where(component_mask, mass_reg, 0.0)
    weights = weights / jnp.sum(weights, axis=-1, keepdims=True)
    log_weights = jnp.where(component_mask, jnp.log(weights), MASKED_LOG_WEIGHT)
    return MixtureParams(log_weights, means, covariances)


class EMTrace(NamedTuple):
    """What an EM run records for a batch of fits.

    Attributes
    ----------
    params : MixtureParams (fit, ...), the final parameters (float64).
    log_likelihood : (fit, iteration) mean log-likelihood before each M step; held
        constant after a fit has stopped.
    n_iter : (fit,) int
    converged : (fit,) bool, the last change was below ``tol``
    failed : (fit,) bool, a covariance was not positive definite (kept: the last valid
        parameters, or the initial ones when those were already invalid)
    final_log_likelihood : (fit,) mean log-likelihood of the final parameters.
    snapshots : MixtureParams (fit, snapshot, ...) at the requested iterations.
    reasons : (fit,) int32, OR of the ``FLOAT64_*`` / ``CENTRED_*`` bits of its E steps
        after the first (the initial parameters' E step is not counted)
    float32_noise : (fit,) largest float32 error estimate of E steps sent to float64 by tol
    """

    params: MixtureParams
    log_likelihood: Array
    n_iter: Array
    converged: Array
    failed: Array
    final_log_likelihood: Array
    snapshots: MixtureParams
    reasons: Array
    float32_noise: Array


def _select(flags: Array, new: MixtureParams, old: MixtureParams) -> MixtureParams:
    """Per fit, ``new`` where ``flags`` (fit,) is true, else ``old``."""
    return jax.tree.map(
        lambda a, b: jnp.where(flags.reshape((-1,) + (1,) * (a.ndim - 1)), a, b), new, old
    )


class _Carry(NamedTuple):
    iteration: Array
    params: MixtureParams
    previous: MixtureParams
    last_log_likelihood: Array
    converged: Array
    failed: Array
    stopped: Array
    n_iter: Array
    trace: Array
    snapshots: MixtureParams
    reasons: Array
    float32_noise: Array
    final_log_likelihood: Array
    finished: Array


class _LoopContext(NamedTuple):
    """What every EM iteration of a batch reads and never changes (see :func:`run_em`)."""

    point_chunks: Array
    mask_chunks: Array
    n_valid: Array
    component_mask: Array
    tol: Array
    reg_covar: Array
    max_iter: Array
    snapshot_iterations: Array
    feature_bounds: Array
    covariance_type: str
    compute_dtype: jnp.dtype
    sharded: bool


class _Decision(NamedTuple):
    """What one iteration decides for each fit: (fit,) bool each."""

    running: Array
    rejected: Array
    small: Array
    advance: Array
    newly_failed: Array


def run_em(
    initial: MixtureParams,
    point_chunks: Array,
    mask_chunks: Array,
    n_valid: Array,
    component_mask: Array,
    tol: Array,
    reg_covar: Array,
    max_iter: Array,
    snapshot_iterations: Array,
    feature_bounds: Array,
    *,
    trace_length: int,
    covariance_type: str,
    compute_dtype: jnp.dtype,
    sharded: bool = False,
) -> EMTrace:
    """Run EM on a batch of fits until each stops or ``max_iter`` is reached.

    Convergence follows scikit-learn: a fit stops after iteration n when the mean
    log-likelihood computed in that iteration's E step differs from the previous
    one by less than ``tol``. A fit also stops on a rejected (decreasing) step or a
    failed M step (see the module docstring). The loop ends once every fit stopped.

    Parameters
    ----------
    initial : MixtureParams (fit, component, ...)
    point_chunks, mask_chunks : see :func:`gmm_core.stats.accumulate_statistics`
    n_valid : scalar, number of real points.
    component_mask : (fit, component) bool
    max_iter : scalar int, at most ``trace_length``
    snapshot_iterations : (snapshot,) int iterations (0 = initial parameters) to record
    feature_bounds : (basis,) max over points of each |feature|, see :func:`expectation`
    trace_length : static length of the recorded trace
    """
    context = _LoopContext(
        point_chunks,
        mask_chunks,
        n_valid,
        component_mask,
        tol,
        reg_covar,
        max_iter,
        snapshot_iterations,
        feature_bounds,
        covariance_type,
        compute_dtype,
        sharded,
    )
    start = _start_carry(context, initial, trace_length)
    end = lax.while_loop(lambda carry: ~carry.finished, partial(_step, context), start)
    return _finish(context, end, trace_length)


def _e_pass(context: _LoopContext, params: MixtureParams) -> tuple[SufficientStats, EStepInfo]:
    """One E pass of every fit over all points, see :func:`expectation`."""
    return expectation(
        params,
        context.point_chunks,
        context.mask_chunks,
        context.feature_bounds,
        context.covariance_type,
        context.compute_dtype,
        context.tol,
        context.sharded,
        context.reg_covar,
    )


def _record(
    snapshot_iterations: Array, snapshots: MixtureParams, params: MixtureParams, iteration: Array
) -> MixtureParams:
    """``snapshots`` (snapshot, fit, ...) with ``params`` written where ``iteration`` is due."""
    hit = snapshot_iterations == iteration

    def write(buffer: Array, leaf: Array) -> Array:
        return jnp.where(hit.reshape((-1,) + (1,) * leaf.ndim), leaf[None], buffer)

    return jax.tree.map(write, snapshots, params)


def _start_carry(context: _LoopContext, initial: MixtureParams, trace_length: int) -> _Carry:
    """The loop's state before the first iteration: ``initial`` in float64, nothing run."""
    n_fits, _ = context.component_mask.shape
    initial = jax.tree.map(lambda leaf: leaf.astype(jnp.float64), initial)
    empty_snapshots = jax.tree.map(
        lambda leaf: jnp.zeros(context.snapshot_iterations.shape + leaf.shape, leaf.dtype), initial
    )
    return _Carry(
        iteration=jnp.asarray(0, jnp.int32),
        params=initial,
        previous=initial,
        last_log_likelihood=jnp.full((n_fits,), -jnp.inf, jnp.float64),
        converged=jnp.zeros((n_fits,), bool),
        failed=~positive_definite(initial.covariances, context.component_mask),
        stopped=jnp.zeros((n_fits,), bool),
        n_iter=jnp.zeros((n_fits,), jnp.int32),
        trace=jnp.zeros((trace_length, n_fits), jnp.float64),
        snapshots=_record(
            context.snapshot_iterations, empty_snapshots, initial, jnp.asarray(0, jnp.int32)
        ),
        reasons=jnp.zeros((n_fits,), jnp.int32),
        float32_noise=jnp.zeros((n_fits,), jnp.float64),
        final_log_likelihood=jnp.zeros((n_fits,), jnp.float64),
        finished=jnp.asarray(False),
    )


def _keep_going(context: _LoopContext, carry: _Carry) -> Array:
    """Scalar bool: below ``max_iter`` and some fit still running."""
    done = carry.converged | carry.failed | carry.stopped
    return (carry.iteration < context.max_iter) & ~jnp.all(done)


def _decide(
    context: _LoopContext, carry: _Carry, log_likelihood: Array, updated: MixtureParams
) -> _Decision:
    """Accept, reject (a decrease) or fail (no Cholesky factor) each running fit's step."""
    running = ~(carry.converged | carry.failed | carry.stopped)
    last = carry.last_log_likelihood
    change = log_likelihood - last
    slack = DECREASE_TOLERANCE * jnp.maximum(1.0, jnp.abs(last))
    rejected = running & (carry.iteration > 0) & ~(change >= -slack)
    small = (carry.iteration > 0) & (jnp.abs(change) < context.tol)
    valid = positive_definite(updated.covariances, context.component_mask)
    advance = running & ~rejected & valid
    newly_failed = running & ~rejected & ~valid
    return _Decision(running, rejected, small, advance, newly_failed)


def _step(context: _LoopContext, carry: _Carry) -> _Carry:
    """One E pass of every fit, then an EM iteration or, once every fit has stopped, the end.

    The pass after the last iteration gives the final log-likelihood, so the program holds
    one E pass, not two (XLA compiles each call site of a pass on its own).
    """
    stats, info = _e_pass(context, carry.params)
    log_likelihood = stats.log_likelihood_sum / context.n_valid
    ended = carry._replace(final_log_likelihood=log_likelihood, finished=jnp.asarray(True))
    iterated = _iterate(context, carry, stats, info, log_likelihood)
    going = _keep_going(context, carry)
    return jax.tree.map(lambda new, end: jnp.where(going, new, end), iterated, ended)


def _iterate(
    context: _LoopContext,
    carry: _Carry,
    stats: SufficientStats,
    info: EStepInfo,
    log_likelihood: Array,
) -> _Carry:
    """One EM iteration of every fit from its E pass: M step, then accept or stop."""
    updated = maximization(
        stats, carry.params, context.component_mask, context.reg_covar, context.covariance_type
    )
    running, rejected, small, advance, newly_failed = _decide(
        context, carry, log_likelihood, updated
    )
    last = carry.last_log_likelihood
    params = _select(advance, updated, _select(rejected, carry.previous, carry.params))
    recorded = jnp.where((running & ~rejected) | (carry.iteration == 0), log_likelihood, last)
    # The E step of a one-hot start (covariances reg_covar · I) is always centred
    # float64; only the later E steps say how the fit ran.
    counted = running & (carry.iteration > 0)
    return _Carry(
        iteration=carry.iteration + 1,
        params=params,
        previous=_select(advance, carry.params, carry.previous),
        last_log_likelihood=recorded,
        converged=carry.converged | (running & small & ~newly_failed),
        failed=carry.failed | newly_failed,
        stopped=carry.stopped | rejected,
        n_iter=jnp.where(running, carry.iteration + 1, carry.n_iter),
        trace=carry.trace.at[carry.iteration].set(recorded),
        snapshots=_record(
            context.snapshot_iterations, carry.snapshots, params, carry.iteration + 1
        ),
        reasons=jnp.where(counted, carry.reasons | info.reasons, carry.reasons),
        float32_noise=jnp.where(
            counted, jnp.maximum(carry.float32_noise, info.float32_noise), carry.float32_noise
        ),
        final_log_likelihood=carry.final_log_likelihood,
        finished=carry.finished,
    )


def _finish(context: _LoopContext, end: _Carry, trace_length: int) -> EMTrace:
    """The :class:`EMTrace` of the final state: traces and snapshots held."""
    rows = jnp.arange(trace_length)[:, None]
    trace = jnp.where(rows >= end.iteration, end.last_log_likelihood[None, :], end.trace)
    stale = context.snapshot_iterations > end.iteration
    snapshots = jax.tree.map(
        lambda buffer, leaf: jnp.where(stale.reshape((-1,) + (1,) * leaf.ndim), leaf[None], buffer),
        end.snapshots,
        end.params,
    )
    final_log_likelihood = end.final_log_likelihood
    # A fit that failed at its start never ran: hold its trace at the start's value.
    trace = jnp.where(jnp.isfinite(trace), trace, final_log_likelihood[None, :])
    return EMTrace(
        params=end.params,
        log_likelihood=trace.T,
        n_iter=end.n_iter,
        converged=end.converged,
        failed=end.failed,
        final_log_likelihood=final_log_likelihood,
        snapshots=jax.tree.map(lambda leaf: jnp.moveaxis(leaf, 0, 1), snapshots),
        reasons=end.reasons,
        float32_noise=end.float32_noise,
    )
