"""EM for a batch of mixtures, written as sufficient statistics accumulated over chunks.

One E pass streams over chunks of points. For every fit and component it sums
``r``, ``r x`` and ``r x xᵀ`` (or ``r x²``) as a single matrix product
``respᵀ @ features``; the sums are accumulated in float64 whatever the compute
dtype, so the M step's ``E[xxᵀ] − μμᵀ`` never cancels in float32. Because the
pass only returns sums, the same code serves one device, data sharded over many
devices (sum the statistics), and data too large for one pass.

Rule for a component that loses its points: when its responsibility mass falls
below :data:`EMPTY_COMPONENT_MASS` points it keeps its previous mean and
covariance, and its weight becomes its (near zero) share of the mass. It stays
in the model, contributes nothing, and the log-likelihood stays finite and
non-decreasing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array, lax

from gmm_core import parallel
from gmm_core.model import (
    MASKED_LOG_WEIGHT,
    MixtureParams,
    log_density_coefficients,
    n_basis,
    point_features,
    unpack_second_moments,
)

#: Below this many points of responsibility mass a component is treated as empty.
EMPTY_COMPONENT_MASS = 1e-6
#: Added to every component's mass before dividing, as scikit-learn does (10 · eps of float64).
MASS_EPSILON = 10 * float(jnp.finfo(jnp.float64).eps)

ResponsibilityFn = Callable[[Array, Array], tuple[Array, Array]]


class SufficientStats(NamedTuple):
    """Sums over points of one E pass.

    Attributes
    ----------
    sums : (fit, component, basis) float64
        Σ r, Σ r x and the quadratic sums, in the order of ``point_features``.
    log_likelihood_sum : (fit,) float64
        Σ over points of log p(x).
    """

    sums: Array
    log_likelihood_sum: Array


def accumulate_statistics(
    point_chunks: Array,
    mask_chunks: Array,
    responsibilities: ResponsibilityFn,
    n_fits: int,
    k_pad: int,
    covariance_type: str,
    sharded: bool = False,
) -> SufficientStats:
    """Stream over chunks of points and sum the statistics of given responsibilities.

    Parameters
    ----------
    point_chunks : (chunk, point, feature)
    mask_chunks : (chunk, point)
        1 for real points, 0 for padding.
    responsibilities : callable
        ``(points (point, feature), global_chunk_index) -> (resp (point, fit*component),
        log_likelihood (point, fit))``.
    sharded : whether the chunks are this device's block of points sharded over the
        ``points`` mesh axis; the sums then cover every device's points.

    Returns
    -------
    SufficientStats
    """
    n_features = point_chunks.shape[-1]
    n_terms = n_basis(n_features, covariance_type)

    def add_chunk(carry: SufficientStats, chunk: tuple[Array, Array, Array]):
        points, mask, index = chunk
        resp, log_likelihood = responsibilities(points, index)
        mask64 = mask.astype(jnp.float64)
        features64 = point_features(points.astype(jnp.float64), covariance_type) * mask64[:, None]
        sums = resp.astype(jnp.float64).T @ features64
        log_likelihood_sum = mask64 @ log_likelihood.astype(jnp.float64)
        return (
            SufficientStats(
                carry.sums + sums.reshape(n_fits, k_pad, n_terms),
                carry.log_likelihood_sum + log_likelihood_sum,
            ),
            None,
        )

    start = SufficientStats(
        jnp.zeros((n_fits, k_pad, n_terms), jnp.float64), jnp.zeros((n_fits,), jnp.float64)
    )
    n_chunks = point_chunks.shape[0]
    indices = jnp.arange(n_chunks)
    if sharded:
        indices = indices + parallel.point_shard_index() * n_chunks
    total, _ = lax.scan(add_chunk, start, (point_chunks, mask_chunks, indices))
    return parallel.sum_over_points(total) if sharded else total


def log_joint_coefficients(params: MixtureParams, covariance_type: str) -> Array:
    """Coefficients of every fit's log w_k + log N(x | θ_k) on the point features.

    Returns
    -------
    (basis, fit * component) float64
    """
    coefficients = log_density_coefficients(params, covariance_type)
    return coefficients.reshape(-1, coefficients.shape[-1]).T


def float32_rounding_risk(coefficients: Array, feature_bounds: Array) -> Array:
    """Largest absolute log-density error a float32 E step could make, roughly.

    The log-density is a sum of terms ``Q_p · φ_p(x)``; in float32 each carries a
    relative error of about 6e-8, so tight components far from the data's centre
    (large precision, large terms that cancel) lose absolute accuracy.

    Parameters
    ----------
    coefficients : (basis, columns); feature_bounds : (basis,) max over points of |φ_p(x)|
    """
    term_sizes = jnp.abs(coefficients).T @ feature_bounds
    active = coefficients[0] > 0.5 * MASKED_LOG_WEIGHT  # padded components do not count
    return float(jnp.finfo(jnp.float32).eps) * jnp.max(jnp.where(active, term_sizes, 0.0))


#: Above this estimated float32 log-density error, an E step runs in float64.
FLOAT32_RISK_LIMIT = 1e-3


def posterior_responsibilities(
    coefficients: Array, n_fits: int, k_pad: int, covariance_type: str, dtype: jnp.dtype
) -> ResponsibilityFn:
    """The E step's responsibilities from :func:`log_joint_coefficients`, computed in ``dtype``."""
    coefficients = coefficients.astype(dtype)

    def responsibilities(points: Array, index: Array) -> tuple[Array, Array]:
        features = point_features(points.astype(dtype), covariance_type)
        log_joint = (features @ coefficients).reshape(points.shape[0], n_fits, k_pad)
        peak = jnp.max(log_joint, axis=-1, keepdims=True)
        log_total = peak + jnp.log(jnp.sum(jnp.exp(log_joint - peak), axis=-1, keepdims=True))
        # A second exp instead of dividing: XLA then never stores the unnormalised array.
        resp = jnp.exp(log_joint - log_total).reshape(points.shape[0], n_fits * k_pad)
        return resp, log_total[..., 0]

    return responsibilities


def expectation(
    params: MixtureParams,
    point_chunks: Array,
    mask_chunks: Array,
    feature_bounds: Array,
    covariance_type: str,
    compute_dtype: jnp.dtype,
    sharded: bool = False,
) -> SufficientStats:
    """One E pass over all points for a batch of fits.

    In float32 mode the pass switches to float64 whenever
    :func:`float32_rounding_risk` exceeds :data:`FLOAT32_RISK_LIMIT`, so tight
    components keep an exact, non-decreasing log-likelihood.
    """
    n_fits, k_pad = params.log_weights.shape
    coefficients = log_joint_coefficients(params, covariance_type)

    def run(dtype: jnp.dtype) -> SufficientStats:
        resp_fn = posterior_responsibilities(coefficients, n_fits, k_pad, covariance_type, dtype)
        return accumulate_statistics(
            point_chunks, mask_chunks, resp_fn, n_fits, k_pad, covariance_type, sharded
        )

    if jnp.dtype(compute_dtype) == jnp.float64:
        return run(jnp.float64)
    risky = float32_rounding_risk(coefficients, feature_bounds) > FLOAT32_RISK_LIMIT
    return lax.cond(risky, lambda: run(jnp.float64), lambda: run(jnp.float32))


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
    stats : SufficientStats with sums (fit, component, basis)
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
    means = first / mass_reg[..., None]
    # Σ r (x − μ)(x − μ)ᵀ expanded; exact in float64 (see the module docstring).
    outer_first_mean = first[..., :, None] * means[..., None, :]
    scatter = (
        second
        - outer_first_mean
        - jnp.swapaxes(outer_first_mean, -1, -2)
        + mass[..., None, None] * means[..., :, None] * means[..., None, :]
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
        constant after a fit has converged.
    n_iter : (fit,) int
    converged : (fit,) bool
    final_log_likelihood : (fit,) mean log-likelihood of the final parameters.
    snapshots : MixtureParams (fit, snapshot, ...) at the requested iterations.
    """

    params: MixtureParams
    log_likelihood: Array
    n_iter: Array
    converged: Array
    final_log_likelihood: Array
    snapshots: MixtureParams


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
    """Run EM on a batch of fits until each converges or ``max_iter`` is reached.

    Convergence follows scikit-learn: a fit stops after iteration n when the mean
    log-likelihood computed in that iteration's E step differs from the previous
    one by less than ``tol``. The loop ends early once every fit has converged.

    Parameters
    ----------
    initial : MixtureParams (fit, component, ...)
    point_chunks, mask_chunks : see :func:`accumulate_statistics`
    n_valid : scalar, number of real points.
    component_mask : (fit, component) bool
    max_iter : scalar int, at most ``trace_length``
    snapshot_iterations : (snapshot,) int iterations (0 = initial parameters) to record
    feature_bounds : (basis,) max over points of each |feature|, see :func:`expectation`
    trace_length : static length of the recorded trace
    """
    n_fits, k_pad = component_mask.shape

    def e_step(params: MixtureParams) -> SufficientStats:
        return expectation(
            params,
            point_chunks,
            mask_chunks,
            feature_bounds,
            covariance_type,
            compute_dtype,
            sharded,
        )

    def record(snapshots: MixtureParams, params: MixtureParams, iteration: Array) -> MixtureParams:
        hit = snapshot_iterations == iteration

        def write(buffer: Array, leaf: Array) -> Array:
            return jnp.where(hit.reshape((-1,) + (1,) * leaf.ndim), leaf[None], buffer)

        return jax.tree.map(write, snapshots, params)

    class Carry(NamedTuple):
        iteration: Array
        params: MixtureParams
        last_log_likelihood: Array
        converged: Array
        n_iter: Array
        trace: Array
        snapshots: MixtureParams

    initial = jax.tree.map(lambda leaf: leaf.astype(jnp.float64), initial)
    start = Carry(
        jnp.asarray(0, jnp.int32),
        initial,
        jnp.full((n_fits,), -jnp.inf, jnp.float64),
        jnp.zeros((n_fits,), bool),
        jnp.zeros((n_fits,), jnp.int32),
        jnp.zeros((trace_length, n_fits), jnp.float64),
        record(
            jax.tree.map(
                lambda leaf: jnp.zeros(snapshot_iterations.shape + leaf.shape, leaf.dtype), initial
            ),
            initial,
            jnp.asarray(0, jnp.int32),
        ),
    )

    def keep_going(carry: Carry) -> Array:
        return (carry.iteration < max_iter) & ~jnp.all(carry.converged)

    def step(carry: Carry) -> Carry:
        stats = e_step(carry.params)
        log_likelihood = stats.log_likelihood_sum / n_valid
        updated = maximization(stats, carry.params, component_mask, reg_covar, covariance_type)
        running = ~carry.converged
        change = jnp.abs(log_likelihood - carry.last_log_likelihood)
        newly_converged = running & (carry.iteration > 0) & (change < tol)
        params = jax.tree.map(
            lambda new, old: jnp.where(running.reshape((-1,) + (1,) * (new.ndim - 1)), new, old),
            updated,
            carry.params,
        )
        last = jnp.where(running, log_likelihood, carry.last_log_likelihood)
        return Carry(
            carry.iteration + 1,
            params,
            last,
            carry.converged | newly_converged,
            jnp.where(running, carry.iteration + 1, carry.n_iter),
            carry.trace.at[carry.iteration].set(last),
            record(carry.snapshots, params, carry.iteration + 1),
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
    final = e_step(end.params)
    return EMTrace(
        params=end.params,
        log_likelihood=trace.T,
        n_iter=end.n_iter,
        converged=end.converged,
        final_log_likelihood=final.log_likelihood_sum / n_valid,
        snapshots=jax.tree.map(lambda leaf: jnp.moveaxis(leaf, 0, 1), snapshots),
    )
