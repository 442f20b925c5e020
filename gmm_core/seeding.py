"""Seeding centres from the data: the pool of points, k-means++ and Lloyd's algorithm.

Seeding and Lloyd steps run on a *pool* of points: every point when there are at
most :data:`POOL_SIZE`, otherwise that many distinct points (see :func:`draw_pool`).
scikit-learn seeds from every point; matching that above :data:`POOL_SIZE` points
would cost one k-means++ pass over all N points per fit (at N = 10⁶, 48 fits and
K = 6, about 30 times the pool's work), so the pool stays. Used by
:mod:`gmm_core.init`; pure JAX.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import Array

from gmm_core import device_mesh

#: scikit-learn's KMeans default iteration cap (its tolerance is
#: :data:`gmm_core.tolerances.KMEANS_TOL`).
KMEANS_MAX_ITER = 300
POOL_SIZE = 32768
#: Primes above any point count: a stride ``p mod N`` is then coprime with N.
_STRIDE_PRIMES = (2147483647, 2147483629, 2147483587, 2147483579, 2147483563, 2147483549)


def squared_distances(points: Array, centres: Array) -> Array:
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
        candidate_distances = squared_distances(pool, pool[candidates]).T
        merged = jnp.minimum(closest[None, :], candidate_distances) * pool_mask[None, :]
        best = jnp.argmin(jnp.sum(merged, axis=-1))
        return centres.at[j].set(pool[candidates[best]]), merged[best], key

    centres, _, _ = jax.lax.fori_loop(1, k_pad, add_centre, (centres, closest, key))
    return centres


def lloyd(
    centres: Array, pool: Array, pool_mask: Array, component_mask: Array, tolerance: Array
) -> Array:
    """Lloyd's k-means to convergence, as scikit-learn's ``KMeans`` (``algorithm="lloyd"``).

    Stops when no label changes, when the summed squared centre shift is at most
    ``tolerance``, or after :data:`KMEANS_MAX_ITER` steps. A centre that gets no
    points stays where it is.

    Parameters
    ----------
    centres : (component, feature)
    pool : (point, feature); pool_mask : (point,); component_mask : (component,) bool
    tolerance : scalar, absolute (scikit-learn's ``tol`` times the mean variance)
    """

    def labels_of(centres: Array) -> Array:
        distances = squared_distances(pool, centres)
        return jnp.argmin(jnp.where(component_mask[None, :], distances, jnp.inf), axis=-1)

    def step(state: tuple[Array, Array, Array, Array]) -> tuple[Array, Array, Array, Array]:
        iteration, centres, old_labels, _ = state
        labels = labels_of(centres)
        one_hot = jax.nn.one_hot(labels, centres.shape[0], dtype=pool.dtype) * pool_mask[:, None]
        counts = pool_mask @ one_hot
        sums = one_hot.T @ pool
        new = jnp.where(counts[:, None] > 0, sums / jnp.maximum(counts, 1.0)[:, None], centres)
        shift = jnp.sum((new - centres) ** 2)
        unchanged = jnp.all((labels == old_labels) | (pool_mask == 0))
        return iteration + 1, new, labels, unchanged | (shift <= tolerance)

    def going(state: tuple[Array, Array, Array, Array]) -> Array:
        return (state[0] < KMEANS_MAX_ITER) & ~state[3]

    start = (jnp.asarray(0), centres, jnp.full(pool.shape[:1], -1), jnp.asarray(False))
    return jax.lax.while_loop(going, step, start)[1]


def draw_pool(
    key: Array, points: Array, shard_counts: Array, pool_size: int
) -> tuple[Array, Array]:
    """The points a fit seeds from, distinct, and the same on every device.

    When there are at most ``pool_size`` real points the pool is every one of them
    (then masked padding). Otherwise it is ``pool_size`` distinct points: the ranks
    ``(b + j · a) mod N`` for j < ``pool_size``, a random offset b and a random
    stride a coprime with N (a large prime mod N), a permutation of the points drawn
    in O(pool) work. Every point is equally likely to be in it; the pools are not
    uniform over all subsets (a uniform one costs a sort of N keys per fit). Points
    are addressed by rank, so the pool does not depend on how the points are split
    over devices or hosts.

    Parameters
    ----------
    points : (point, feature) this device's block
    shard_counts : (point_shards,) real points at the start of each block
    pool_size : static size of the pool

    Returns
    -------
    pool (pool, feature), pool_mask (pool,)
    """
    ranks, valid = pool_ranks(key, jnp.sum(shard_counts), pool_size)
    positions = device_mesh.positions_of_ranks(ranks, shard_counts, points.shape[0])
    return device_mesh.gather_rows(points, positions), valid.astype(points.dtype)


def pool_ranks(key: Array, total: Array, pool_size: int) -> tuple[Array, Array]:
    """Ranks (pool,) of the pool's points among ``total`` real points, and their mask."""
    index = jnp.arange(pool_size)
    if pool_size < POOL_SIZE:
        ranks, valid = index, index < total
    else:
        stride_key, offset_key = jax.random.split(key)
        primes = jnp.asarray(_STRIDE_PRIMES, jnp.int64)
        total64 = total.astype(jnp.int64)
        stride = primes[jax.random.randint(stride_key, (), 0, len(_STRIDE_PRIMES))] % total64
        offset = jax.random.randint(offset_key, (), 0, total).astype(jnp.int64)
        spread = (offset + index.astype(jnp.int64) * stride) % total64
        every = total <= pool_size
        ranks = jnp.where(every, index, spread.astype(index.dtype))
        valid = jnp.where(every, index < total, True)
    return jnp.minimum(ranks, total - 1), valid
