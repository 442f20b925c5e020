"""Initialisations for a batch of fits, in internal (centred and scaled) units.

Methods, chosen by ``init_params``:

- ``kmeans``: greedy k-means++ seeding, then :data:`LLOYD_STEPS` Lloyd steps; every
  point is then assigned to its nearest centre and the M step gives the parameters.
- ``k-means++``: the seeding alone, then the same assignment and M step.
- ``random``: responsibilities drawn uniformly at random and normalised per point,
  then the M step (scikit-learn's meaning).
- ``random_from_data``: K distinct data points as centres, then the nearest-centre
  assignment and the M step (scikit-learn instead gives each centre a single point).
- ``standard_normal``: the teaching notebook's method: means drawn from N(0, I) in the
  data's original units, every covariance equal to the data covariance, uniform weights.

Seeding and Lloyd steps run on a *pool* of points: all points when there are at most
:data:`POOL_SIZE`, otherwise that many drawn at random for each fit.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import Array

from gmm_core import parallel
from gmm_core.em import accumulate_statistics, maximization
from gmm_core.model import MASKED_LOG_WEIGHT, MixtureParams

INIT_METHODS: tuple[str, ...] = (
    "kmeans",
    "k-means++",
    "random",
    "random_from_data",
    "standard_normal",
)
LLOYD_STEPS = 10
POOL_SIZE = 32768


def _squared_distances(points: Array, centres: Array) -> Array:
    """(point, feature), (centre, feature) -> (point, centre), via a matrix product."""
    return jnp.maximum(
        jnp.sum(points * points, axis=-1)[:, None]
        - 2.0 * points @ centres.T
        + jnp.sum(centres * centres, axis=-1)[None, :],
        0.0,
    )


def sample_proportional(key: Array, weights: Array, n: int) -> Array:
    """``n`` indices drawn with probability proportional to non-negative ``weights``.

    Inverse-CDF sampling: n uniform numbers and a binary search, instead of one
    random number per entry as ``jax.random.categorical`` needs.

    Parameters
    ----------
    weights : (entry,) with a positive sum
    """
    cumulative = jnp.cumsum(weights)
    draws = jax.random.uniform(key, (n,), cumulative.dtype) * cumulative[-1]
    return jnp.minimum(jnp.searchsorted(cumulative, draws, side="right"), weights.shape[0] - 1)


def kmeans_plusplus(key: Array, pool: Array, pool_mask: Array, k_pad: int) -> Array:
    """Greedy k-means++ seeding (as scikit-learn: 2 + ⌊ln k⌋ candidates per step).

    Parameters
    ----------
    key : PRNG key of one fit
    pool : (point, feature)
    pool_mask : (point,) float, 1 for real points
    k_pad : number of centres to draw (padded components get centres too)

    Returns
    -------
    (k_pad, feature) centres.
    """
    n_trials = 2 + int(math.log(max(k_pad, 1)))
    first_key, key = jax.random.split(key)
    first = pool[sample_proportional(first_key, pool_mask, 1)[0]]
    closest = jnp.sum((pool - first) ** 2, axis=-1) * pool_mask
    centres = jnp.zeros((k_pad, pool.shape[-1]), pool.dtype).at[0].set(first)

    def add_centre(j: int, state: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
        centres, closest, key = state
        key, draw_key = jax.random.split(key)
        weights = jnp.where(jnp.sum(closest) > 0, closest, pool_mask)
        candidates = sample_proportional(draw_key, weights, n_trials)
        candidate_distances = _squared_distances(pool, pool[candidates]).T
        merged = jnp.minimum(closest[None, :], candidate_distances) * pool_mask[None, :]
        best = jnp.argmin(jnp.sum(merged, axis=-1))
        return centres.at[j].set(pool[candidates[best]]), merged[best], key

    centres, _, _ = jax.lax.fori_loop(1, k_pad, add_centre, (centres, closest, key))
    return centres


def lloyd(
    centres: Array, pool: Array, pool_mask: Array, component_mask: Array, steps: int
) -> Array:
    """Lloyd's k-means steps; a centre that gets no points stays where it is.

    Parameters
    ----------
    centres : (component, feature)
    pool : (point, feature); pool_mask : (point,); component_mask : (component,) bool
    """

    def step(_: int, centres: Array) -> Array:
        distances = _squared_distances(pool, centres)
        distances = jnp.where(component_mask[None, :], distances, jnp.inf)
        labels = jax.nn.one_hot(jnp.argmin(distances, axis=-1), centres.shape[0], dtype=pool.dtype)
        labels = labels * pool_mask[:, None]
        counts = jnp.sum(labels, axis=0)
        sums = labels.T @ pool
        return jnp.where(counts[:, None] > 0, sums / jnp.maximum(counts, 1.0)[:, None], centres)

    return jax.lax.fori_loop(0, steps, step, centres)


def draw_pool(
    key: Array, points: Array, shard_counts: Array, pool_size: int
) -> tuple[Array, Array]:
    """The points a fit seeds from, in data order and the same on every device.

    When ``pool_size`` is below :data:`POOL_SIZE` the pool is every real point (then
    masked padding); otherwise ``pool_size`` real points drawn uniformly with
    replacement. Points are addressed by rank, so the pool does not depend on how
    the points are split over devices or hosts.

    Parameters
    ----------
    points : (point, feature) this device's block
    shard_counts : (point_shards,) real points at the start of each block
    pool_size : static size of the pool

    Returns
    -------
    pool (pool, feature), pool_mask (pool,)
    """
    total = jnp.sum(shard_counts)
    if pool_size < POOL_SIZE:
        ranks = jnp.arange(pool_size)
        valid = ranks < total
        ranks = jnp.minimum(ranks, total - 1)
    else:
        ranks = jax.random.randint(key, (pool_size,), 0, total)
        valid = jnp.ones((pool_size,), bool)
    positions = parallel.positions_of_ranks(ranks, shard_counts, points.shape[0])
    return parallel.gather_rows(points, positions), valid.astype(points.dtype)


def initialise(
    method: str,
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

    Parameters
    ----------
    method : one of :data:`INIT_METHODS`
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
    n_fits, k_pad = component_mask.shape
    n_features = point_chunks.shape[-1]
    dtype = point_chunks.dtype
    points = point_chunks.reshape(-1, n_features)
    n_active = jnp.sum(component_mask, axis=-1)
    uniform_log_weights = jnp.where(
        component_mask, -jnp.log(n_active.astype(jnp.float64))[:, None], MASKED_LOG_WEIGHT
    )
    data_covariances = jnp.broadcast_to(
        data_covariance.astype(jnp.float64), (n_fits, k_pad, n_features, n_features)
    )

    if method == "standard_normal":
        draws = jax.vmap(lambda key: jax.random.normal(key, (k_pad, n_features), jnp.float64))(
            fit_keys
        )
        means = (draws - shift.astype(jnp.float64)) / scale.astype(jnp.float64)
        return MixtureParams(uniform_log_weights, means, data_covariances)

    if method == "random":
        key_data = jax.random.key_data(fit_keys)

        def responsibilities(chunk: Array, index: Array) -> tuple[Array, Array]:
            def draw(raw_key: Array) -> Array:
                key = jax.random.fold_in(jax.random.wrap_key_data(raw_key), index)
                return jax.random.uniform(key, (chunk.shape[0], k_pad), dtype)

            resp = jnp.moveaxis(jax.vmap(draw)(key_data), 0, 1) * component_mask[None]
            resp = resp / jnp.sum(resp, axis=-1, keepdims=True)
            return resp.reshape(chunk.shape[0], -1), jnp.zeros((chunk.shape[0], n_fits), dtype)

        centres = jnp.zeros((n_fits, k_pad, n_features), jnp.float64)
    else:

        def seed_centres(key: Array, active: Array) -> Array:
            pool_key, seed_key = jax.random.split(key)
            pool, pool_mask = draw_pool(pool_key, points, shard_counts, pool_size)
            if method == "random_from_data":
                order = jax.random.choice(
                    seed_key, pool.shape[0], (k_pad,), replace=False, p=pool_mask / pool_mask.sum()
                )
                return pool[order]
            centres = kmeans_plusplus(seed_key, pool, pool_mask, k_pad)
            if method == "kmeans":
                centres = lloyd(centres, pool, pool_mask, active, LLOYD_STEPS)
            return centres

        centres = jax.vmap(seed_centres)(fit_keys, component_mask)
        flat_centres = centres.reshape(n_fits * k_pad, n_features)
        flat_mask = component_mask.reshape(-1)

        def responsibilities(chunk: Array, index: Array) -> tuple[Array, Array]:
            distances = _squared_distances(chunk, flat_centres).reshape(-1, n_fits, k_pad)
            distances = jnp.where(flat_mask.reshape(1, n_fits, k_pad), distances, jnp.inf)
            resp = jax.nn.one_hot(jnp.argmin(distances, axis=-1), k_pad, dtype=dtype)
            return resp.reshape(chunk.shape[0], -1), jnp.zeros((chunk.shape[0], n_fits), dtype)

    stats = accumulate_statistics(
        point_chunks, mask_chunks, responsibilities, n_fits, k_pad, covariance_type, sharded=True
    )
    fallback = MixtureParams(uniform_log_weights, centres.astype(jnp.float64), data_covariances)
    return maximization(stats, fallback, component_mask, reg_covar, covariance_type)
