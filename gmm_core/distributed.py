"""Running a sweep on several hosts with JAX's own distributed runtime.

Every process calls :func:`initialize` once, before anything else touches JAX, then
calls ``gmm_core.sweep`` with *its own share of the points* and the same settings.
The processes agree on the centring and scaling (global moments), split the points
over a ``points`` mesh axis that runs across hosts, sum the sufficient statistics
with ``psum``, and every process receives the whole result::

    import gmm_core.distributed
    gmm_core.distributed.initialize("10.0.0.1:1234", num_processes=2, process_id=rank)
    result = gmm_core.sweep(X_local, 1, 6, 8, seed=0)

On CPUs the collectives use gloo; on GPUs JAX's default (NCCL) is used.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.experimental import multihost_utils


def initialize(
    coordinator_address: str,
    num_processes: int,
    process_id: int,
    *,
    cpu_collectives: str = "gloo",
    initialization_timeout: int = 120,
) -> None:
    """Join the distributed runtime (``jax.distributed.initialize``) with CPU collectives."""
    jax.config.update("jax_cpu_collectives_implementation", cpu_collectives)
    jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
        initialization_timeout=initialization_timeout,
    )


def is_multi_process() -> bool:
    """Whether more than one process takes part in the computation."""
    return jax.process_count() > 1


def all_processes(value: np.ndarray) -> np.ndarray:
    """Stack a per-process array from every process: (process, ...)."""
    if not is_multi_process():
        return np.asarray(value)[None]
    return np.asarray(multihost_utils.process_allgather(np.asarray(value)))


def global_moments(X_local: np.ndarray) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Point counts per process, the total, the mean and the scatter matrix of all points.

    Two passes (mean, then centred scatter) in float64, so large offsets do not cancel.

    Returns
    -------
    counts (process,), total, mean (feature,), scatter (feature, feature) = Σ (x−μ)(x−μ)ᵀ
    """
    counts = all_processes(np.array([X_local.shape[0]], np.int64))[:, 0]
    total = int(counts.sum())
    mean = all_processes(X_local.sum(axis=0)).sum(axis=0) / total
    centred = X_local - mean
    scatter = all_processes(centred.T @ centred).sum(axis=0)
    return counts, total, mean, scatter


def process_mesh_devices() -> np.ndarray:
    """Devices as (local device, process): the points axis runs across processes."""
    by_process = [
        [d for d in jax.devices() if d.process_index == p] for p in range(jax.process_count())
    ]
    return np.array(by_process, dtype=object).T


def to_global(value: np.ndarray, sharding: jax.sharding.Sharding) -> jax.Array:
    """This process's share of an input as part of a global array."""
    return jax.make_array_from_process_local_data(sharding, np.asarray(value))


def gather_outputs(tree: object) -> object:
    """Every process gets the full value of each (fit-sharded) output."""
    return multihost_utils.process_allgather(tree, tiled=True)
