"""The E step: responsibilities and sufficient statistics, as precise as the fit needs.

Precision. Each E pass picks the cheapest of three ways that keeps its rounding
below what the fit needs (:func:`expectation`):

0. float32 log-densities as ``point_features(x) @ Q``, float64 sums about the data
   centre; only when the estimated float32 error of the log-density is below
   :data:`~gmm_core.tolerances.FLOAT32_RISK_LIMIT` *and* below ``tol`` / 10 (the float64 switch);
1. above the risk limit but not tol's: the log-densities in float64, each point's
   largest one subtracted in float64, the exponentials and their sum in float32.
   The polynomial's cancellation, which grows with the terms, is float64's; the
   rest adds about 1e-7 to the log-likelihood, far below the risk limit;
2. float64 throughout, log-densities from whitened differences ``L⁻¹x − L⁻¹μ``
   (:func:`exact_responsibilities`): when ``tol`` / 10 is below float32's
   rounding, or a tight component sits far from the data centre (float64
   polynomial error above :data:`~gmm_core.tolerances.FLOAT64_RISK_LIMIT` or ``tol`` / 10).

Each way sums ``Σ r``, ``Σ r x``, ``Σ r x xᵀ`` in float64 about the data centre, and
switches to sums of ``x − μ`` per component (:func:`centred_responsibilities`,
:func:`gmm_core.stats.centred_statistics`) when those would lose digits in the M
step (:func:`gmm_core.stats.cancels`). With ``dtype='float64'`` only ways 2 and the
float64 polynomial (way 1 normalised in float64) are used.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax.numpy as jnp
from jax import Array, lax

from gmm_core import linalg
from gmm_core.basis import cholesky_with_fallback, log_density_coefficients, point_features
from gmm_core.mixture import MASKED_LOG_WEIGHT, MixtureParams
from gmm_core.stats import (
    SufficientStats,
    accumulate_statistics,
    cancels,
    centred_statistics,
)
from gmm_core.tolerances import (
    EMPTY_COMPONENT_MASS,
    FLOAT32_RISK_LIMIT,
    FLOAT64_RISK_LIMIT,
    SCATTER_RELATIVE_ERROR,
    TOL_NOISE_FRACTION,
)

#: Up to this many basis functions per point the E step stores its exponentials
#: (:func:`stores_exponentials`). Measured warm on this 2-core machine, 20,000 points,
#: K 1..8, 4 restarts: faster at D = 2, 4, 6 (28 basis functions), 15 % slower at D = 10 (66).
STORE_EXPONENTIALS_MAX_BASIS = 32

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
    coefficients : (basis, columns)
    feature_bounds : (basis,) max over points of |φ_p(x)|, shared by every column; or
        (columns, basis), a bound for each column (see :func:`local_term_size`)
    """
    magnitudes = jnp.abs(coefficients).T
    if feature_bounds.ndim == 1:
        term_sizes = magnitudes @ feature_bounds
    else:
        term_sizes = jnp.sum(magnitudes * feature_bounds, axis=-1)
    active = coefficients[0] > 0.5 * MASKED_LOG_WEIGHT  # padded components do not count
    return jnp.max(jnp.where(active, term_sizes, 0.0))


def local_term_size(
    params: MixtureParams, coefficients: Array, feature_bounds: Array, covariance_type: str
) -> Array:
    """Like :func:`term_size`, but the mean over each component's own points.

    Component k's points (weighted by responsibility) have second moments
    ``Σ_k + μ_k μ_kᵀ`` (the M step makes them so), hence by Cauchy–Schwarz
    ``E|x_i x_j| ≤ u_i u_j`` with ``u = sqrt(μ² + diag Σ)``: ``φ(u)`` bounds the
    mean |feature| where the component's log-density matters, capped by the data's
    reach. The error at its far points is larger but weighs nothing there, and for the
    tight far components this is for, ``u ≈ |μ|`` anyway. Never above :func:`term_size`.

    Parameters
    ----------
    params : a batch (fit, component) of mixtures, in the same units as the points
    coefficients : (basis, fit * component) from :func:`log_joint_coefficients`
    feature_bounds : (basis,) max over points of |φ_p(x)|
    """
    n_features = params.means.shape[-1]
    reach = feature_bounds[1 : 1 + n_features]
    spread = jnp.sqrt(jnp.diagonal(params.covariances, axis1=-2, axis2=-1))
    local_reach = jnp.minimum(reach, jnp.sqrt(params.means**2 + spread**2))
    bounds = point_features(local_reach, covariance_type).reshape(coefficients.shape[::-1])
    return term_size(coefficients, jnp.minimum(bounds, feature_bounds))


def float32_rounding_risk(coefficients: Array, feature_bounds: Array) -> Array:
    """Largest absolute log-density error a float32 E step could make, roughly."""
    return float(jnp.finfo(jnp.float32).eps) * term_size(coefficients, feature_bounds)


def noise_limit(tol: Array) -> Array:
    """Rounding allowed on the mean log-likelihood: tol / 10, unlimited for tol = 0."""
    return jnp.where(tol > 0, TOL_NOISE_FRACTION * tol, jnp.inf)


def stores_exponentials(n_basis_functions: int) -> bool:
    """Whether the E step keeps exp(log joint − peak) in memory instead of taking it twice.

    Taking the exponentials twice (once for their sum, once for the responsibilities)
    lets XLA fuse each into its consumer, which pays when the matrix products
    dominate (many basis functions); with few, the exponentials dominate.
    """
    return n_basis_functions <= STORE_EXPONENTIALS_MAX_BASIS


def _normalise(
    log_joint: Array, dtype: jnp.dtype | None = None, store_exponentials: bool = False
) -> tuple[Array, Array]:
    """(point, fit, component) log joint -> resp (point, fit * component), log p (point, fit).

    With ``dtype`` (float32), the exponentials and their sum run in that dtype after
    the largest term of each point is subtracted in the log joint's own dtype; the
    log-likelihood then carries about ``eps(dtype)`` absolute rounding. See
    :func:`stores_exponentials` for ``store_exponentials``.
    """
    peak = jnp.max(log_joint, axis=-1, keepdims=True)
    shifted = log_joint - peak
    if dtype is not None:
        shifted = shifted.astype(dtype)
    if store_exponentials:
        exponentials = jnp.exp(shifted)
        total = jnp.sum(exponentials, axis=-1, keepdims=True)
        resp = (exponentials * (1.0 / total)).reshape(log_joint.shape[0], -1)
        return resp, (peak + jnp.log(total).astype(peak.dtype))[..., 0]
    log_sum = jnp.log(jnp.sum(jnp.exp(shifted), axis=-1, keepdims=True))
    # A second exp instead of dividing: XLA then never stores the unnormalised array.
    resp = jnp.exp(shifted - log_sum).reshape(log_joint.shape[0], -1)
    return resp, (peak + log_sum.astype(peak.dtype))[..., 0]


def posterior_responsibilities(
    coefficients: Array,
    n_fits: int,
    k_pad: int,
    covariance_type: str,
    dtype: jnp.dtype,
    normalise_dtype: jnp.dtype | None = None,
):
    """The E step's responsibilities from :func:`log_joint_coefficients`, computed in ``dtype``.

    ``normalise_dtype`` (float32) runs the normalisation in that dtype, see :func:`_normalise`.
    """
    coefficients = coefficients.astype(dtype)
    store = stores_exponentials(coefficients.shape[0])

    def responsibilities(points: Array, index: Array) -> tuple[Array, Array]:
        features = point_features(points.astype(dtype), covariance_type)
        log_joint = (features @ coefficients).reshape(points.shape[0], n_fits, k_pad)
        return _normalise(log_joint, normalise_dtype, store)

    return responsibilities


class _Whitening(NamedTuple):
    """Per component (fit * component): ``inverse`` L⁻¹ (feature, feature), the log-density
    ``constant`` log w − D/2 log 2π − log|L|, and ``active`` (not padded)."""

    inverse: Array
    constant: Array
    active: Array


def _whitening(params: MixtureParams) -> _Whitening:
    """What both whitened-difference E steps need from the parameters."""
    n_features = params.means.shape[-1]
    factor = cholesky_with_fallback(params.covariances)
    inverse = linalg.lower_triangular_inverse(factor).reshape(-1, n_features, n_features)
    log_det = jnp.sum(jnp.log(jnp.diagonal(factor, axis1=-2, axis2=-1)), axis=-1)
    constant = params.log_weights - 0.5 * n_features * math.log(2 * math.pi) - log_det
    active = params.log_weights > 0.5 * MASKED_LOG_WEIGHT
    return _Whitening(inverse, constant.reshape(-1), active.reshape(-1))


def centred_responsibilities(params: MixtureParams):
    """Responsibilities from whitened differences ``L⁻¹ (x − μ)``, in float64."""
    n_fits, k_pad, _ = params.means.shape
    inverse, constant, active = _whitening(params)

    def responsibilities(points: Array, d: Array, index: Array) -> tuple[Array, Array]:
        whitened = d @ jnp.swapaxes(inverse, -1, -2)  # (component, point, feature)
        log_density = constant[:, None] - 0.5 * jnp.sum(whitened * whitened, axis=-1)
        log_joint = jnp.where(active[:, None], log_density, MASKED_LOG_WEIGHT).T
        return _normalise(log_joint.reshape(points.shape[0], n_fits, k_pad))

    return responsibilities


def exact_responsibilities(params: MixtureParams):
    """Responsibilities from whitened differences ``L⁻¹x − L⁻¹μ``, in float64.

    One matrix product whitens every point for every component; the difference is
    taken after whitening, so the log-density's rounding is about eps · |L⁻¹x| ·
    |L⁻¹(x − μ)| instead of the polynomial's eps · |L⁻¹x|².
    """
    n_fits, k_pad, n_features = params.means.shape
    inverse, constant, active = _whitening(params)
    # (feature, component * feature): column block c is L_c⁻ᵀ.
    whiten = jnp.swapaxes(inverse, -1, -2).transpose(1, 0, 2).reshape(n_features, -1)
    whitened_means = jnp.einsum("cij,cj->ci", inverse, params.means.reshape(-1, n_features))

    def responsibilities(points: Array, index: Array) -> tuple[Array, Array]:
        whitened = (points.astype(jnp.float64) @ whiten).reshape(points.shape[0], -1, n_features)
        whitened = whitened - whitened_means[None]
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
    reg_covar: Array | float = 0.0,
) -> tuple[SufficientStats, EStepInfo]:
    """One E pass over all points for a batch of fits, as precise as the fit needs.

    See the module docstring for the three ways and when each is chosen.
    """
    n_fits, k_pad = params.log_weights.shape
    coefficients = log_joint_coefficients(params, covariance_type)
    needs = _precision_needs(params, coefficients, feature_bounds, covariance_type, tol)
    active = params.log_weights > 0.5 * MASKED_LOG_WEIGHT
    inputs = _PassInputs(
        params, point_chunks, mask_chunks, covariance_type, sharded, active, needs, reg_covar
    )

    def polynomial(
        dtype: jnp.dtype, normalise_dtype: jnp.dtype | None = None
    ) -> Callable[[], tuple[SufficientStats, Array]]:
        return _fast_sums(
            inputs,
            lambda: posterior_responsibilities(
                coefficients, n_fits, k_pad, covariance_type, dtype, normalise_dtype
            ),
            differences=False,
        )

    # Whitened differences also serve a pass sent to float64 by tol alone; only a pass
    # that needed them for a tight component far from the data centre reports them.
    exact = _fast_sums(inputs, lambda: exact_responsibilities(params), needs.centre_now)
    if jnp.dtype(compute_dtype) == jnp.float64:
        fast, differences = lax.cond(needs.centre_now, exact, polynomial(jnp.float64))
        reasons = jnp.asarray(FLOAT64_REQUESTED, jnp.int32)
    else:
        index = jnp.where(needs.centre_now | needs.for_tol, 2, jnp.where(needs.for_risk, 1, 0))
        branches = [polynomial(jnp.float32), polynomial(jnp.float64, jnp.float32), exact]
        fast, differences = lax.switch(index, branches)
        reasons = jnp.where(
            needs.for_risk, FLOAT64_FOR_RISK, jnp.where(needs.for_tol, FLOAT64_FOR_TOL, 0)
        )
    # The centred pass, when the fast sums would lose digits, follows whichever way ran:
    # one copy of it in the program instead of one per way.
    lost = _loses_digits(inputs, fast)
    stats, was_centred = lax.cond(
        lost, partial(_centred_pass, inputs), lambda: (fast, jnp.asarray(differences))
    )
    reasons = reasons | jnp.where(was_centred, CENTRED_DIFFERENCES, 0)
    tol_noise = jnp.where(reasons & FLOAT64_FOR_TOL, needs.noise32, 0.0)
    return stats, EStepInfo(reasons.astype(jnp.int32), tol_noise)


class _PrecisionNeeds(NamedTuple):
    """What an E pass's rounding allows, each a scalar: ``noise32`` the estimated float32
    log-density error; ``for_risk``, ``for_tol`` whether float32 is too coarse for a
    component's own points or for tol; ``centre_now`` whether whitened differences are
    needed; ``scatter_error`` the relative scatter error the M step may take."""

    noise32: Array
    for_risk: Array
    for_tol: Array
    centre_now: Array
    scatter_error: Array


def _precision_needs(
    params: MixtureParams,
    coefficients: Array,
    feature_bounds: Array,
    covariance_type: str,
    tol: Array | float,
) -> _PrecisionNeeds:
    """Which of the E step's ways keep its rounding below what the fit needs."""
    terms = term_size(coefficients, feature_bounds)
    local_terms = local_term_size(params, coefficients, feature_bounds, covariance_type)
    limit = noise_limit(jnp.asarray(tol, jnp.float64))
    eps32, eps64 = float(jnp.finfo(jnp.float32).eps), float(jnp.finfo(jnp.float64).eps)
    noise32 = eps32 * terms
    # The risk limits are about each component's own points; the tol guarantee bounds
    # the error at every point.
    for_risk = eps32 * local_terms > FLOAT32_RISK_LIMIT
    for_tol = noise32 > limit
    centre_now = (eps64 * local_terms > FLOAT64_RISK_LIMIT) | (eps64 * terms > limit)
    scatter_error = jnp.minimum(SCATTER_RELATIVE_ERROR, limit)
    return _PrecisionNeeds(noise32, for_risk, for_tol, centre_now, scatter_error)


class _PassInputs(NamedTuple):
    """What every way of one E pass reads: the batch's parameters (fit, component, ...),
    this device's points, ``active`` (fit, component) components, and the needs."""

    params: MixtureParams
    point_chunks: Array
    mask_chunks: Array
    covariance_type: str
    sharded: bool
    active: Array
    needs: _PrecisionNeeds
    reg_covar: Array | float


def _centred_pass(inputs: _PassInputs) -> tuple[SufficientStats, Array]:
    """Sums of ``x − μ`` per component from whitened differences; (stats, True)."""
    stats = centred_statistics(
        inputs.point_chunks,
        inputs.mask_chunks,
        centred_responsibilities(inputs.params),
        inputs.params.means,
        inputs.covariance_type,
        inputs.sharded,
    )
    return stats, jnp.asarray(True)


def _fast_sums(
    inputs: _PassInputs,
    make_responsibilities: Callable[[], Callable],
    differences: Array | bool,
) -> Callable[[], tuple[SufficientStats, Array]]:
    """A pass with the fast sums: a branch for ``lax.cond``/``lax.switch`` giving (stats,
    whether whitened differences were used, ``differences``)."""

    def run() -> tuple[SufficientStats, Array]:
        n_fits, k_pad = inputs.params.log_weights.shape
        stats = accumulate_statistics(
            inputs.point_chunks,
            inputs.mask_chunks,
            make_responsibilities(),
            n_fits,
            k_pad,
            inputs.covariance_type,
            inputs.sharded,
        )
        return stats, jnp.asarray(differences)

    return run


def _loses_digits(inputs: _PassInputs, stats: SufficientStats) -> Array:
    """Scalar bool: the fast sums ``stats`` would lose digits of some filled component's
    scatter (see :func:`gmm_core.stats.cancels`)."""
    filled = inputs.active & (stats.sums[..., 0] >= EMPTY_COMPONENT_MASS)
    return cancels(
        stats, filled, inputs.needs.scatter_error, inputs.covariance_type, inputs.reg_covar
    )
