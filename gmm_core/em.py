"""EM for a batch of mixtures, written as sufficient statistics accumulated over chunks.

One E pass streams over chunks of points and returns per-component sums (see
:mod:`gmm_core.stats`), so the same code serves one device, data sharded over
many devices (sum the statistics), and data too large for one pass.

Precision. Each E pass picks the cheapest of three ways that keeps its rounding
below what the fit needs (:func:`expectation`):

0. float32 log-densities as ``point_features(x) @ Q``, float64 sums about the data
   centre; only when the estimated float32 error of the mean log-likelihood is
   below :data:`FLOAT32_RISK_LIMIT` *and* below ``tol`` / 10 (the float64 switch);
1. the same in float64;
2. centred float64: log-densities from ``L⁻¹ (x − μ)`` and sums of ``x − μ`` per
   component, when a tight component sits far from the data centre (float64
   polynomial error above :data:`FLOAT64_RISK_LIMIT` or ``tol`` / 10, or the fast
   scatter loses digits, see :func:`gmm_core.stats.cancels`).

Monotone traces. A step whose log-likelihood is lower than the previous one by
more than :data:`DECREASE_TOLERANCE` (relative) is rejected: the fit keeps the
previous parameters, holds its trace and stops; it counts as converged only when
the rejected change was below ``tol``.

Positive definite or failed. After every M step every active covariance must
have a Cholesky factor; if one has none (``reg_covar=0`` and a component on
identical points), the fit keeps its last valid parameters, stops, and is marked
``failed``.

Rule for a component that loses its points: when its responsibility mass falls
below :data:`EMPTY_COMPONENT_MASS` points it keeps its previous mean and
covariance, and its weight becomes its (near zero) share of the mass. It stays
in the model, contributes nothing, and the log-likelihood stays finite.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array, lax

from gmm_core import linalg
from gmm_core.model import (
    MASKED_LOG_WEIGHT,
    MixtureParams,
    cholesky_with_fallback,
    log_density_coefficients,
    point_features,
    unpack_second_moments,
)
from gmm_core.stats import (
    SCATTER_RELATIVE_ERROR,
    SufficientStats,
    accumulate_statistics,
    cancels,
    centred_statistics,
)

__all__ = ["SufficientStats", "accumulate_statistics", "centred_statistics"]

#: Below this many points of responsibility mass a component is treated as empty.
EMPTY_COMPONENT_MASS = 1e-6
#: Added to every component's mass before dividing, as scikit-learn does (10 · eps of float64).
MASS_EPSILON = 10 * float(jnp.finfo(jnp.float64).eps)
#: Above this estimated float32 log-density error, an E step runs in float64.
FLOAT32_RISK_LIMIT = 1e-3
#: Above this estimated float64 polynomial error, an E step uses centred differences.
FLOAT64_RISK_LIMIT = 1e-9
#: The E step's rounding on the mean log-likelihood must stay below this fraction of tol.
TOL_NOISE_FRACTION = 0.1
#: A step may lower the log-likelihood by at most this, relative to max(1, |value|).
DECREASE_TOLERANCE = 1e-10

#: Bits of :attr:`EStepInfo.reasons`: why an E step did not run in float32.
FLOAT64_REQUESTED, FLOAT64_FOR_TOL, FLOAT64_FOR_RISK, CENTRED_DIFFERENCES = 1, 2, 4, 8


def log_joint_coefficients(params: MixtureParams, covariance_type: str) -> Array:
    """Coefficients of every fit's log w_k + log N(x | θ_k) on the point features.

    Returns
    -------
    (basis, fit * component) float64
    """
    coefficients = log_density_coefficients(params, covariance_type)
    return coefficients.reshape(-1, coefficients.shape[-1]).T


def term_size(coefficients: Array, feature_bounds: Array) -> Array:
    """Largest Σ_p |Q_p| · max|φ_p(x)| over active components: the polynomial's scale.

    A log-density computed as ``φ(x) @ Q`` in a dtype with machine epsilon ``eps``
    carries an absolute error of about ``eps`` times this.

    Parameters
    ----------
    coefficients : (basis, columns); feature_bounds : (basis,) max over points of |φ_p(x)|
    """
    term_sizes = jnp.abs(coefficients).T @ feature_bounds
    active = coefficients[0] > 0.5 * MASKED_LOG_WEIGHT  # padded components do not count
    return jnp.max(jnp.where(active, term_sizes, 0.0))


def float32_rounding_risk(coefficients: Array, feature_bounds: Array) -> Array:
    """Largest absolute log-density error a float32 E step could make, roughly."""
    return float(jnp.finfo(jnp.float32).eps) * term_size(coefficients, feature_bounds)


def noise_limit(tol: Array) -> Array:
    """Rounding allowed on the mean log-likelihood: tol / 10, unlimited for tol = 0."""
    return jnp.where(tol > 0, TOL_NOISE_FRACTION * tol, jnp.inf)


def _normalise(log_joint: Array) -> tuple[Array, Array]:
    """(point, fit, component) log joint -> resp (point, fit * component), log p (point, fit)."""
    peak = jnp.max(log_joint, axis=-1, keepdims=True)
    log_total = peak + jnp.log(jnp.sum(jnp.exp(log_joint - peak), axis=-1, keepdims=True))
    # A second exp instead of dividing: XLA then never stores the unnormalised array.
    resp = jnp.exp(log_joint - log_total).reshape(log_joint.shape[0], -1)
    return resp, log_total[..., 0]


def posterior_responsibilities(
    coefficients: Array, n_fits: int, k_pad: int, covariance_type: str, dtype: jnp.dtype
):
    """The E step's responsibilities from :func:`log_joint_coefficients`, computed in ``dtype``."""
    coefficients = coefficients.astype(dtype)

    def responsibilities(points: Array, index: Array) -> tuple[Array, Array]:
        features = point_features(points.astype(dtype), covariance_type)
        log_joint = (features @ coefficients).reshape(points.shape[0], n_fits, k_pad)
        return _normalise(log_joint)

    return responsibilities


def centred_responsibilities(params: MixtureParams):
    """Responsibilities from whitened differences ``L⁻¹ (x − μ)``, in float64."""
    n_fits, k_pad, n_features = params.means.shape
    factor = cholesky_with_fallback(params.covariances)
    inverse = linalg.lower_triangular_inverse(factor).reshape(-1, n_features, n_features)
    log_det = jnp.sum(jnp.log(jnp.diagonal(factor, axis1=-2, axis2=-1)), axis=-1)
    constant = params.log_weights - 0.5 * n_features * math.log(2 * math.pi) - log_det
    active = (params.log_weights > 0.5 * MASKED_LOG_WEIGHT).reshape(-1)
    constant = constant.reshape(-1)

    def responsibilities(points: Array, d: Array, index: Array) -> tuple[Array, Array]:
        whitened = jnp.einsum("ncd,ced->nce", d, inverse)
        log_density = constant[None] - 0.5 * jnp.sum(whitened * whitened, axis=-1)
        log_joint = jnp.where(active[None], log_density, MASKED_LOG_WEIGHT)
        return _normalise(log_joint.reshape(points.shape[0], n_fits, k_pad))

    return responsibilities


class EStepInfo(NamedTuple):
    """How one E pass ran: ``reasons`` (scalar int32, bits ``FLOAT64_*``/``CENTRED_*``)
    and ``float32_noise`` (scalar): the estimated float32 error of the log-density
    when ``tol`` alone sent the pass to float64, else 0."""

    reasons: Array
    float32_noise: Array


def expectation(
    params: MixtureParams,
    point_chunks: Array,
    mask_chunks: Array,
    feature_bounds: Array,
    covariance_type: str,
    compute_dtype: jnp.dtype,
    tol: Array | float = 0.0,
    sharded: bool = False,
) -> tuple[SufficientStats, EStepInfo]:
    """One E pass over all points for a batch of fits, as precise as the fit needs.

    See the module docstring for the three ways and when each is chosen.
    """
    n_fits, k_pad = params.log_weights.shape
    coefficients = log_joint_coefficients(params, covariance_type)
    terms = term_size(coefficients, feature_bounds)
    limit = noise_limit(jnp.asarray(tol, jnp.float64))
    noise32 = float(jnp.finfo(jnp.float32).eps) * terms
    for_risk = noise32 > FLOAT32_RISK_LIMIT
    for_tol = noise32 > limit
    centre_now = float(jnp.finfo(jnp.float64).eps) * terms > jnp.minimum(FLOAT64_RISK_LIMIT, limit)
    scatter_error = jnp.minimum(SCATTER_RELATIVE_ERROR, limit)
    active = params.log_weights > 0.5 * MASKED_LOG_WEIGHT

    def centred() -> tuple[SufficientStats, Array]:
        stats = centred_statistics(
            point_chunks,
            mask_chunks,
            centred_responsibilities(params),
            params.means,
            covariance_type,
            sharded,
        )
        return stats, jnp.asarray(True)

    def fast(dtype: jnp.dtype):
        def run() -> tuple[SufficientStats, Array]:
            resp_fn = posterior_responsibilities(
                coefficients, n_fits, k_pad, covariance_type, dtype
            )
            stats = accumulate_statistics(
                point_chunks, mask_chunks, resp_fn, n_fits, k_pad, covariance_type, sharded
            )
            filled = active & (stats.sums[..., 0] >= EMPTY_COMPONENT_MASS)
            lost = cancels(stats, filled, scatter_error, covariance_type)
            return lax.cond(lost, centred, lambda: (stats, jnp.asarray(False)))

        return run

    wants64 = jnp.dtype(compute_dtype) == jnp.float64
    if wants64:
        stats, was_centred = lax.cond(centre_now, centred, fast(jnp.float64))
        reasons = jnp.asarray(FLOAT64_REQUESTED, jnp.int32)
    else:
        index = jnp.where(centre_now, 2, jnp.where(for_risk | for_tol, 1, 0))
        stats, was_centred = lax.switch(index, [fast(jnp.float32), fast(jnp.float64), centred])
        reasons = jnp.where(for_risk, FLOAT64_FOR_RISK, jnp.where(for_tol, FLOAT64_FOR_TOL, 0))
    reasons = reasons | jnp.where(was_centred, CENTRED_DIFFERENCES, 0)
    tol_noise = jnp.where(reasons & FLOAT64_FOR_TOL, noise32, 0.0)
    return stats, EStepInfo(reasons.astype(jnp.int32), tol_noise)


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
    if covariance_type == "full":
        covariances = scatter / mass_reg[..., None, None]
    elif covariance_type == "diag":
        covariances = scatter * identity / mass_reg[..., None, None]
    elif covariance_type == "spherical":
        variance = jnp.trace(scatter, axis1=-2, axis2=-1) / (n_features * mass_reg)
        covariances = variance[..., None, None] * identity
    elif covariance_type == "tied":
        active_scatter = jnp.where(component_mask[..., None, None], scatter, 0.0)
        active_mass = jnp.where(component_mask, mass_reg, 0.0)
        tied = jnp.sum(active_scatter, axis=-3) / jnp.sum(active_mass, axis=-1)[..., None, None]
        covariances = jnp.broadcast_to(tied[..., None, :, :], scatter.shape)
    else:  # pragma: no cover - validated by callers
        raise ValueError(f"unknown covariance_type {covariance_type!r}")
    covariances = 0.5 * (covariances + jnp.swapaxes(covariances, -1, -2)) + reg_covar * identity

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
    n_fits, _ = component_mask.shape

    def e_step(params: MixtureParams) -> tuple[SufficientStats, EStepInfo]:
        return expectation(
            params,
            point_chunks,
            mask_chunks,
            feature_bounds,
            covariance_type,
            compute_dtype,
            tol,
            sharded,
        )

    def record(snapshots: MixtureParams, params: MixtureParams, iteration: Array) -> MixtureParams:
        hit = snapshot_iterations == iteration

        def write(buffer: Array, leaf: Array) -> Array:
            return jnp.where(hit.reshape((-1,) + (1,) * leaf.ndim), leaf[None], buffer)

        return jax.tree.map(write, snapshots, params)

    initial = jax.tree.map(lambda leaf: leaf.astype(jnp.float64), initial)
    empty_snapshots = jax.tree.map(
        lambda leaf: jnp.zeros(snapshot_iterations.shape + leaf.shape, leaf.dtype), initial
    )
    start = _Carry(
        iteration=jnp.asarray(0, jnp.int32),
        params=initial,
        previous=initial,
        last_log_likelihood=jnp.full((n_fits,), -jnp.inf, jnp.float64),
        converged=jnp.zeros((n_fits,), bool),
        failed=~positive_definite(initial.covariances, component_mask),
        stopped=jnp.zeros((n_fits,), bool),
        n_iter=jnp.zeros((n_fits,), jnp.int32),
        trace=jnp.zeros((trace_length, n_fits), jnp.float64),
        snapshots=record(empty_snapshots, initial, jnp.asarray(0, jnp.int32)),
        reasons=jnp.zeros((n_fits,), jnp.int32),
        float32_noise=jnp.zeros((n_fits,), jnp.float64),
    )

    def keep_going(carry: _Carry) -> Array:
        done = carry.converged | carry.failed | carry.stopped
        return (carry.iteration < max_iter) & ~jnp.all(done)

    def step(carry: _Carry) -> _Carry:
        stats, info = e_step(carry.params)
        log_likelihood = stats.log_likelihood_sum / n_valid
        updated = maximization(stats, carry.params, component_mask, reg_covar, covariance_type)
        running = ~(carry.converged | carry.failed | carry.stopped)
        last = carry.last_log_likelihood
        change = log_likelihood - last
        slack = DECREASE_TOLERANCE * jnp.maximum(1.0, jnp.abs(last))
        rejected = running & (carry.iteration > 0) & ~(change >= -slack)
        small = (carry.iteration > 0) & (jnp.abs(change) < tol)
        valid = positive_definite(updated.covariances, component_mask)
        advance = running & ~rejected & valid
        newly_failed = running & ~rejected & ~valid
        params = _select(advance, updated, _select(rejected, carry.previous, carry.params))
        recorded = jnp.where(running & ~rejected, log_likelihood, last)
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
            snapshots=record(carry.snapshots, params, carry.iteration + 1),
            reasons=jnp.where(running, carry.reasons | info.reasons, carry.reasons),
            float32_noise=jnp.where(
                running, jnp.maximum(carry.float32_noise, info.float32_noise), carry.float32_noise
            ),
        )

    end = lax.while_loop(keep_going, step, start)
    rows = jnp.arange(trace_length)[:, None]
    trace = jnp.where(rows >= end.iteration, end.last_log_likelihood[None, :], end.trace)
    stale = snapshot_iterations > end.iteration
    snapshots = jax.tree.map(
        lambda buffer, leaf: jnp.where(stale.reshape((-1,) + (1,) * leaf.ndim), leaf[None], buffer),
        end.snapshots,
        end.params,
    )
    final, _ = e_step(end.params)
    return EMTrace(
        params=end.params,
        log_likelihood=trace.T,
        n_iter=end.n_iter,
        converged=end.converged,
        failed=end.failed,
        final_log_likelihood=final.log_likelihood_sum / n_valid,
        snapshots=jax.tree.map(lambda leaf: jnp.moveaxis(leaf, 0, 1), snapshots),
        reasons=end.reasons,
        float32_noise=end.float32_noise,
    )
