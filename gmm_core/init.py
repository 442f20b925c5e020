"""Initialisations for a batch of fits, in internal (centred and scaled) units.

Methods, chosen by ``init_params``, with scikit-learn's meanings (its
``_initialize_parameters``): responsibilities, then one M step, and the initial
weights are the masses divided by the number of points, as scikit-learn's are.

- ``kmeans``: greedy k-means++ seeding, then Lloyd's algorithm to convergence with
  scikit-learn's ``KMeans`` defaults (:data:`~gmm_core.tolerances.KMEANS_TOL` relative to the mean
  variance, at most :data:`KMEANS_MAX_ITER` steps, strict convergence when no label
  changes); every point is then assigned to its nearest centre. Unlike scikit-learn,
  a centre that loses its points stays put instead of moving to a far point.
- ``k-means++``: one-hot responsibilities on the K seeded points only, so the means
  are those points and the covariances ``reg_covar · I`` (scikit-learn's meaning).
- ``random``: responsibilities drawn uniformly at random and normalised per point.
- ``random_from_data``: one-hot responsibilities on K distinct data points.
- ``standard_normal``: the teaching notebook's method: means drawn from N(0, I) in the
  data's original units, every covariance the data covariance + ``reg_covar · I``,
  uniform weights.

Seeding and Lloyd steps run on a pool of points (:mod:`gmm_core.seeding`).

The statistics of ``kmeans`` and ``random`` are centred on the first pass's means
(two passes), so a tight cluster far from the data centre keeps every digit.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from gmm_core.em import maximization
from gmm_core.mixture import MASKED_LOG_WEIGHT, MixtureParams
from gmm_core.seeding import draw_pool, kmeans_plusplus, lloyd, squared_distances
from gmm_core.stats import SufficientStats, accumulate_statistics, centred_statistics
from gmm_core.tolerances import KMEANS_TOL, MASS_EPSILON, REG_FLOOR_EPS

INIT_METHODS: tuple[str, ...] = (
    "kmeans",
    "k-means++",
    "random",
    "random_from_data",
    "standard_normal",
)


def _centred_twice(
    point_chunks: Array,
    mask_chunks: Array,
    responsibilities,
    n_fits: int,
    k_pad: int,
    covariance_type: str,
) -> SufficientStats:
    """Statistics of given responsibilities, centred on the means of a first pass."""
    first = accumulate_statistics(
        point_chunks, mask_chunks, responsibilities, n_fits, k_pad, covariance_type, sharded=True
    )
    n_features = point_chunks.shape[-1]
    means = first.sums[..., 1 : 1 + n_features] / (first.sums[..., :1] + MASS_EPSILON)
    return centred_statistics(
        point_chunks,
        mask_chunks,
        lambda points, d, index: responsibilities(points, index),
        means,
        covariance_type,
        sharded=True,
    )


def _sklearn_weights(params: MixtureParams, stats: SufficientStats, n_valid: Array) -> Array:
    """scikit-learn's initial weights: (mass + 10 eps) / n, not renormalised."""
    weights = (stats.sums[..., 0] + MASS_EPSILON) / n_valid
    active = params.log_weights > 0.5 * MASKED_LOG_WEIGHT
    return jnp.where(active, jnp.log(weights), MASKED_LOG_WEIGHT)


def _one_hot_on_centres(
    centres: Array, component_mask: Array, reg_covar: Array, n_valid: Array
) -> MixtureParams:
    """scikit-learn's start from one-hot responsibilities on the chosen points only.

    Each component holds one point: mean = that point, scatter 0, so the covariance
    is ``reg_covar · I`` for every covariance type, and weight (1 + 10 eps) / n.
    """
    log_weight = jnp.log((1.0 + MASS_EPSILON) / n_valid)
    log_weights = jnp.where(component_mask, log_weight, MASKED_LOG_WEIGHT)
    return _zero_scatter_components(log_weights, centres, reg_covar)


def _zero_scatter_components(log_weights: Array, centres: Array, reg_covar: Array) -> MixtureParams:
    """Components at ``centres`` with scikit-learn's covariance for zero scatter, ``reg_covar · I``.

    Parameters
    ----------
    log_weights : (fit, component); centres : (fit, component, feature); reg_covar : scalar

    Returns
    -------
    MixtureParams (fit, component, ...) in float64.
    """
    n_features = centres.shape[-1]
    identity = jnp.eye(n_features, dtype=jnp.float64)
    covariances = jnp.broadcast_to(reg_covar * identity, centres.shape + (n_features,))
    return MixtureParams(log_weights, centres.astype(jnp.float64), covariances)


class _MethodFlags(NamedTuple):
    """Which method runs: each a Python bool (one method compiled) or a traced scalar
    bool (the method chosen at run time; every method in one program)."""

    kmeans: bool | Array
    kmeans_plusplus: bool | Array
    random: bool | Array
    random_from_data: bool | Array
    standard_normal: bool | Array


def _method_flags(method: str | Array) -> _MethodFlags:
    """The flags of ``method``: a name of :data:`INIT_METHODS`, or a traced index into it."""
    if isinstance(method, str):
        return _MethodFlags(*(method == name for name in INIT_METHODS))
    index = jnp.clip(jnp.asarray(method, jnp.int32), 0, len(INIT_METHODS) - 1)
    return _MethodFlags(*(index == position for position in range(len(INIT_METHODS))))


def _choose[T](flag: bool | Array, on_true: Callable[[], T], on_false: Callable[[], T]) -> T:
    """``on_true()`` or ``on_false()``: in Python for a static flag, else ``lax.cond``, so
    only the chosen way runs and each way is compiled once."""
    if isinstance(flag, bool):
        return on_true() if flag else on_false()
    return jax.lax.cond(flag, on_true, on_false)


def _where(flag: bool | Array, chosen: MixtureParams, other: MixtureParams) -> MixtureParams:
    """``chosen`` where ``flag``, else ``other`` (static or traced scalar flag)."""
    if isinstance(flag, bool):
        return chosen if flag else other
    return jax.tree.map(lambda a, b: jnp.where(flag, a, b), chosen, other)


def initialise(
    method: str | Array,
    fit_keys: Array,
    component_mask: Array,
    point_chunks: Array,
    mask_chunks: Array,
    shard_counts: Array,
    data_covariance: Array,
    shift: Array,
    scale: Array,
    reg_covar: Array,
    covariance_type: str,
    pool_size: int,
) -> MixtureParams:
    """Initial parameters for every fit of a batch.

    The methods share their steps: seeding (``kmeans``, ``k-means++``,
    ``random_from_data``), the statistics of responsibilities (``kmeans``, ``random``)
    and one M step. With a traced ``method`` each shared step is compiled once and
    runs only for the methods that need it (``lax.cond``), so one program serves every
    method at little more than the cost of compiling the largest.

    Parameters
    ----------
    method : one of :data:`INIT_METHODS`, or a traced () int32 position in it
    fit_keys : (fit,) PRNG keys
    component_mask : (fit, component) bool
    point_chunks : (chunk, point, feature); mask_chunks : (chunk, point): this device's
        block of points, sharded over the ``points`` mesh axis
    shard_counts : (point_shards,) number of real points at the start of each block
    data_covariance : (feature, feature) covariance of the data, internal units
    shift, scale : (feature,), scalar — internal = (original − shift) / scale
    pool_size : static number of points seeding draws from (see :func:`draw_pool`)

    Returns
    -------
    MixtureParams (fit, component, ...) in float64.
    """
    flags = _method_flags(method)
    n_fits, k_pad = component_mask.shape
    n_features = point_chunks.shape[-1]
    points = point_chunks.reshape(-1, n_features)
    n_valid = jnp.sum(shard_counts).astype(jnp.float64)
    n_active = jnp.sum(component_mask, axis=-1)
    uniform_log_weights = jnp.where(
        component_mask, -jnp.log(n_active.astype(jnp.float64))[:, None], MASKED_LOG_WEIGHT
    )
    standard = _standard_normal_start(
        uniform_log_weights, fit_keys, data_covariance, shift, scale, reg_covar
    )
    if flags.standard_normal is True:
        return standard

    variance = jnp.mean(jnp.diagonal(data_covariance)) * (n_valid - 1) / n_valid
    pool_inputs = (points, shard_counts, pool_size)
    seeded = flags.kmeans | flags.kmeans_plusplus | flags.random_from_data
    centres = _choose(
        seeded,
        lambda: _seeded_centres(
            flags, fit_keys, component_mask, pool_inputs, KMEANS_TOL * variance
        ),
        lambda: jnp.zeros((n_fits, k_pad, n_features), points.dtype),
    )
    one_hot = _one_hot_on_centres(centres, component_mask, reg_covar, n_valid)

    def from_statistics() -> MixtureParams:
        responsibilities = _start_responsibilities(
            flags, fit_keys, centres, component_mask, points.dtype
        )
        stats = _centred_twice(
            point_chunks, mask_chunks, responsibilities, n_fits, k_pad, covariance_type
        )
        return _start_from_statistics(
            stats, centres, uniform_log_weights, component_mask, reg_covar, covariance_type, n_valid
        )

    fitted = _choose(flags.kmeans | flags.random, from_statistics, lambda: one_hot)
    return _where(flags.standard_normal, standard, fitted)


def _start_responsibilities(
    flags: _MethodFlags, fit_keys: Array, centres: Array, component_mask: Array, dtype: jnp.dtype
) -> Callable[[Array, Array], tuple[Array, Array]]:
    """``f(chunk, index)`` in ``dtype``: drawn responsibilities (``random``), else one-hot
    on the nearest centre (``kmeans``)."""
    drawn = _random_responsibilities(fit_keys, component_mask, dtype)
    nearest = _nearest_centre_responsibilities(centres, component_mask, dtype)

    def responsibilities(chunk: Array, index: Array) -> tuple[Array, Array]:
        return _choose(flags.random, lambda: drawn(chunk, index), lambda: nearest(chunk, index))

    return responsibilities


def _standard_normal_start(
    uniform_log_weights: Array,
    fit_keys: Array,
    data_covariance: Array,
    shift: Array,
    scale: Array,
    reg_covar: Array,
) -> MixtureParams:
    """The ``standard_normal`` start: N(0, I) means in original units, uniform weights,
    every covariance the data covariance + ``reg_covar · I`` (float64)."""
    n_fits, k_pad = uniform_log_weights.shape
    n_features = data_covariance.shape[-1]
    data_covariances = jnp.broadcast_to(
        data_covariance.astype(jnp.float64), (n_fits, k_pad, n_features, n_features)
    )
    return MixtureParams(
        uniform_log_weights,
        _standard_normal_means(fit_keys, k_pad, shift, scale),
        data_covariances + _floored_reg_covar(reg_covar, data_covariance),
    )


def _standard_normal_means(fit_keys: Array, k_pad: int, shift: Array, scale: Array) -> Array:
    """(fit, component, feature) means drawn from N(0, I) in original units, internal units."""
    n_features = shift.shape[-1]
    draws = jax.vmap(lambda key: jax.random.normal(key, (k_pad, n_features), jnp.float64))(fit_keys)
    return (draws - shift.astype(jnp.float64)) / scale.astype(jnp.float64)


def _floored_reg_covar(reg_covar: Array, data_covariance: Array) -> Array:
    """(feature, feature) ``reg_covar · I``, ``reg_covar`` floored as the M step floors it."""
    identity = jnp.eye(data_covariance.shape[-1], dtype=jnp.float64)
    largest = jnp.max(jnp.diagonal(data_covariance))
    floor = REG_FLOOR_EPS * float(jnp.finfo(jnp.float64).eps) * jnp.abs(largest)
    regularised = jnp.where(reg_covar > 0, jnp.maximum(reg_covar, floor), 0.0)
    return regularised * identity


def _random_responsibilities(
    fit_keys: Array, component_mask: Array, dtype: jnp.dtype
) -> Callable[[Array, Array], tuple[Array, Array]]:
    """``f(chunk, index)``: uniform draws normalised per point (as in ``accumulate_statistics``)."""
    n_fits, k_pad = component_mask.shape
    key_data = jax.random.key_data(fit_keys)

    def responsibilities(chunk: Array, index: Array) -> tuple[Array, Array]:
        def draw(raw_key: Array) -> Array:
            key = jax.random.fold_in(jax.random.wrap_key_data(raw_key), index)
            return jax.random.uniform(key, (chunk.shape[0], k_pad), dtype)

        resp = jnp.moveaxis(jax.vmap(draw)(key_data), 0, 1) * component_mask[None]
        resp = resp / jnp.sum(resp, axis=-1, keepdims=True)
        return resp.reshape(chunk.shape[0], -1), jnp.zeros((chunk.shape[0], n_fits), dtype)

    return responsibilities


def _seeded_centres(
    flags: _MethodFlags,
    fit_keys: Array,
    component_mask: Array,
    pool_inputs: tuple[Array, Array, int],
    tolerance: Array,
) -> Array:
    """(fit, component, feature) centres from each fit's pool (see :func:`draw_pool`).

    ``pool_inputs``: (points, shard_counts, pool_size). K distinct pool points
    (``random_from_data``), else k-means++ seeding, then Lloyd's algorithm to
    ``tolerance`` (``kmeans``).
    """
    k_pad = component_mask.shape[-1]

    def seed_centres(key: Array, active: Array) -> Array:
        pool_key, seed_key = jax.random.split(key)
        pool, pool_mask = draw_pool(pool_key, *pool_inputs)

        def distinct_points() -> Array:
            p = pool_mask / pool_mask.sum()
            order = jax.random.choice(seed_key, pool.shape[0], (k_pad,), replace=False, p=p)
            return pool[order]

        centres = _choose(
            flags.random_from_data,
            distinct_points,
            lambda: kmeans_plusplus(seed_key, pool, pool_mask, k_pad),
        )

        def refined() -> Array:
            return lloyd(centres, pool, pool_mask, active, tolerance)

        return _choose(flags.kmeans, refined, lambda: centres)

    return jax.vmap(seed_centres)(fit_keys, component_mask)


def _nearest_centre_responsibilities(
    centres: Array, component_mask: Array, dtype: jnp.dtype
) -> Callable[[Array, Array], tuple[Array, Array]]:
    """``f(chunk, index)``: one-hot on each point's nearest active centre of every fit."""
    n_fits, k_pad, n_features = centres.shape
    flat_centres = centres.reshape(n_fits * k_pad, n_features)
    flat_mask = component_mask.reshape(-1)

    def responsibilities(chunk: Array, index: Array) -> tuple[Array, Array]:
        distances = squared_distances(chunk, flat_centres).reshape(-1, n_fits, k_pad)
        distances = jnp.where(flat_mask.reshape(1, n_fits, k_pad), distances, jnp.inf)
        resp = jax.nn.one_hot(jnp.argmin(distances, axis=-1), k_pad, dtype=dtype)
        return resp.reshape(chunk.shape[0], -1), jnp.zeros((chunk.shape[0], n_fits), dtype)

    return responsibilities


def _start_from_statistics(
    stats: SufficientStats,
    centres: Array,
    uniform_log_weights: Array,
    component_mask: Array,
    reg_covar: Array,
    covariance_type: str,
    n_valid: Array,
) -> MixtureParams:
    """One M step from the statistics, with scikit-learn's initial weights."""
    # A component left without points keeps its centre; its covariance is scikit-learn's
    # (zero scatter + reg_covar), positive definite exactly when reg_covar > 0.
    fallback = _zero_scatter_components(uniform_log_weights, centres, reg_covar)
    params = maximization(stats, fallback, component_mask, reg_covar, covariance_type)
    return MixtureParams(_sklearn_weights(params, stats, n_valid), params.means, params.covariances)
