"""Sufficient statistics of responsibilities, summed over chunks of points.

Two ways to sum, with one result layout (:class:`SufficientStats`):

- :func:`accumulate_statistics` (fast): ``Σ r``, ``Σ r x`` and ``Σ r x xᵀ`` (or
  ``Σ r x²``) about the data centre, as one matrix product ``respᵀ @ features``
  per chunk. A tight component far from the data centre loses digits in the M
  step's ``Σ r x xᵀ − …`` expansion, so the caller checks :func:`cancels` and
  switches to the centred sums.
- :func:`centred_statistics` (exact): ``Σ r``, ``Σ r d`` and ``Σ r d dᵀ`` with
  ``d = x − c_k`` formed per component about a reference ``c_k`` (the current
  means), so the precision does not depend on where the component sits.

Both sum in float64 from float64 points, so nothing is quantised.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax.numpy as jnp
from jax import Array, lax

from gmm_core import device_mesh
from gmm_core.basis import _upper_pairs, n_basis, point_features, uses_full_quadratic
from gmm_core.tolerances import POSITIVE_FLOOR

#: Rounding of the fast scatter, in units of float64 eps times the raw second moment.
SCATTER_ROUNDING_UNITS = 64.0

ResponsibilityFn = Callable[[Array, Array], tuple[Array, Array]]
CentredResponsibilityFn = Callable[[Array, Array, Array], tuple[Array, Array]]


class SufficientStats(NamedTuple):
    """Sums over points of one E pass.

    Attributes
    ----------
    sums : (fit, component, basis) float64
        Σ r, Σ r d and the quadratic sums of d = x − reference, in the order of
        ``point_features``.
    log_likelihood_sum : (fit,) float64, Σ over points of log p(x).
    reference : (fit, component, feature) float64, the point each component's sums
        are taken about (zero, the data centre, for the fast sums).
    """

    sums: Array
    log_likelihood_sum: Array
    reference: Array


def _scan_chunks(point_chunks: Array, mask_chunks: Array, add, start, sharded: bool):
    n_chunks = point_chunks.shape[0]
    indices = jnp.arange(n_chunks)
    if sharded:
        indices = indices + device_mesh.point_shard_index() * n_chunks
    total, _ = lax.scan(add, start, (point_chunks, mask_chunks, indices))
    return device_mesh.sum_over_points(total) if sharded else total


def accumulate_statistics(
    point_chunks: Array,
    mask_chunks: Array,
    responsibilities: ResponsibilityFn,
    n_fits: int,
    k_pad: int,
    covariance_type: str,
    sharded: bool = False,
) -> SufficientStats:
    """Sums about the data centre, one matrix product ``respᵀ @ features`` per chunk.

    Parameters
    ----------
    point_chunks : (chunk, point, feature) float64; mask_chunks : (chunk, point)
    responsibilities : ``(points (point, feature), global_chunk_index) ->
        (resp (point, fit*component), log_likelihood (point, fit))``
    sharded : whether the chunks are this device's block of points sharded over the
        ``points`` mesh axis; the sums then cover every device's points.
    """
    n_features = point_chunks.shape[-1]
    n_terms = n_basis(n_features, covariance_type)

    def add_chunk(carry: tuple[Array, Array], chunk: tuple[Array, Array, Array]):
        points, mask, index = chunk
        resp, log_likelihood = responsibilities(points, index)
        mask64 = mask.astype(jnp.float64)
        features64 = point_features(points.astype(jnp.float64), covariance_type) * mask64[:, None]
        sums = resp.astype(jnp.float64).T @ features64
        log_likelihood_sum = mask64 @ log_likelihood.astype(jnp.float64)
        return (
            carry[0] + sums.reshape(n_fits, k_pad, n_terms),
            carry[1] + log_likelihood_sum,
        ), None

    start = (jnp.zeros((n_fits, k_pad, n_terms), jnp.float64), jnp.zeros((n_fits,), jnp.float64))
    sums, log_likelihood_sum = _scan_chunks(point_chunks, mask_chunks, add_chunk, start, sharded)
    reference = jnp.zeros((n_fits, k_pad, n_features), jnp.float64)
    return SufficientStats(sums, log_likelihood_sum, reference)


def centred_statistics(
    point_chunks: Array,
    mask_chunks: Array,
    responsibilities: CentredResponsibilityFn,
    reference: Array,
    covariance_type: str,
    sharded: bool = False,
) -> SufficientStats:
    """Sums of d = x − reference per component, exact wherever the component sits.

    Costs about D (diag) or D² (full) times the fast sums' arithmetic, summed over
    points as batched matrix products; used when :func:`cancels` says so.

    Parameters
    ----------
    responsibilities : ``(points (point, feature), d (fit*component, point, feature),
        global_chunk_index) -> (resp (point, fit*component), log_likelihood (point, fit))``
    reference : (fit, component, feature) float64
    """
    n_fits, k_pad, n_features = reference.shape
    flat_reference = reference.reshape(n_fits * k_pad, n_features)
    full = uses_full_quadratic(covariance_type)
    rows, cols = _upper_pairs(n_features)

    def add_chunk(carry: tuple[Array, Array], chunk: tuple[Array, Array, Array]):
        points, mask, index = chunk
        points64 = points.astype(jnp.float64)
        # (component, point, feature): batched matrix products over the point axis.
        d = points64[None, :, :] - flat_reference[:, None, :]
        resp, log_likelihood = responsibilities(points64, d, index)
        mask64 = mask.astype(jnp.float64)
        weighted = (resp.astype(jnp.float64) * mask64[:, None]).T[:, None, :]
        mass = mask64 @ resp.astype(jnp.float64)
        first = (weighted @ d)[:, 0, :]
        if full:
            quadratic = (jnp.swapaxes(d * jnp.swapaxes(weighted, 1, 2), 1, 2) @ d)[:, rows, cols]
        else:
            quadratic = (weighted @ (d * d))[:, 0, :]
        sums = jnp.concatenate([mass[:, None], first, quadratic], axis=-1)
        log_likelihood_sum = mask64 @ log_likelihood.astype(jnp.float64)
        shaped = sums.reshape(n_fits, k_pad, -1)
        return (carry[0] + shaped, carry[1] + log_likelihood_sum), None

    n_terms = n_basis(n_features, covariance_type)
    start = (jnp.zeros((n_fits, k_pad, n_terms), jnp.float64), jnp.zeros((n_fits,), jnp.float64))
    sums, log_likelihood_sum = _scan_chunks(point_chunks, mask_chunks, add_chunk, start, sharded)
    return SufficientStats(sums, log_likelihood_sum, reference)


def cancels(
    stats: SufficientStats,
    active: Array,
    relative_error: Array,
    covariance_type: str,
    reg_covar: Array | float = 0.0,
) -> Array:
    """Whether the fast sums' covariances lose more than ``relative_error`` to cancellation.

    The M step forms each variance as E[x²] − E[x]² (+ ``reg_covar``); rounding
    costs about :data:`SCATTER_ROUNDING_UNITS` · eps · E[x²] of it.

    Parameters
    ----------
    stats : fast sums (reference zero); active : (fit, component) bool, components
        with points; relative_error : scalar

    Returns
    -------
    scalar bool
    """
    n_features = stats.reference.shape[-1]
    mass = stats.sums[..., :1] + POSITIVE_FLOOR
    mean = stats.sums[..., 1 : 1 + n_features] / mass
    if uses_full_quadratic(covariance_type):
        rows, cols = _upper_pairs(n_features)
        diagonal = [
            1 + n_features + p for p, (i, j) in enumerate(zip(rows, cols, strict=True)) if i == j
        ]
        raw = stats.sums[..., diagonal] / mass
    else:
        raw = stats.sums[..., 1 + n_features :] / mass
    variance = raw - mean * mean
    eps = float(jnp.finfo(jnp.float64).eps)
    lost = (variance + reg_covar) * relative_error < SCATTER_ROUNDING_UNITS * eps * raw
    return jnp.any(lost & active[..., None])
