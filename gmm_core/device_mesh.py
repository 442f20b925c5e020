"""How a sweep is laid out over devices: a mesh of fits × points.

Fits (restart, K) are split over the ``fits`` axis and need no communication. Points
are split over the ``points`` axis; each device sums the sufficient statistics of
its own points and ``psum`` adds them up. Every quantity that depends on the data
layout is computed from *global* indices (chunk numbers, sampled point indices), so
results do not depend on how many devices share the work.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array, lax

FIT_AXIS = "fits"
POINT_AXIS = "points"


def choose_mesh_shape(n_devices: int, n_restarts: int) -> tuple[int, int]:
    """(fit shards, point shards): as many devices on restarts as there are restarts.

    The fit axis gets the largest divisor of ``n_devices`` not above ``n_restarts``;
    the remaining factor shards the points.
    """
    fit_shards = max(d for d in range(1, n_devices + 1) if n_devices % d == 0 and d <= n_restarts)
    return fit_shards, n_devices // fit_shards


def sum_over_points(value: object) -> object:
    """Sum a pytree over the devices that hold other points."""
    return lax.psum(value, POINT_AXIS)


def point_shard_index() -> Array:
    """Which block of points this device holds."""
    return lax.axis_index(POINT_AXIS)


def gather_rows(local_rows: Array, global_indices: Array) -> Array:
    """Rows of the global point array at ``global_indices``, available on every device.

    Parameters
    ----------
    local_rows : (point, feature) this device's block; real points first
    global_indices : (m,) positions in the concatenation of blocks

    Returns
    -------
    (m, feature)
    """
    block = local_rows.shape[0]
    local_index = global_indices - point_shard_index() * block
    inside = (local_index >= 0) & (local_index < block)
    rows = local_rows[jnp.clip(local_index, 0, block - 1)]
    return sum_over_points(jnp.where(inside[:, None], rows, 0.0))


def positions_of_ranks(ranks: Array, shard_counts: Array, block: int) -> Array:
    """Global positions of real points given their ranks in data order.

    Each block holds its real points first, then padding, so the k-th real point of
    the data lives at a position that depends on the layout but its rank does not.

    Parameters
    ----------
    ranks : (m,) int in [0, total real points)
    shard_counts : (point_shards,) real points at the start of each block
    block : points per block
    """
    ends = jnp.cumsum(shard_counts)
    shard = jnp.searchsorted(ends, ranks, side="right")
    starts = ends - shard_counts
    return shard * block + (ranks - starts[shard])
