"""The data as a sweep program takes it: centred, scaled, padded and cut into chunks.

Points are centred and divided by one scale (the largest column standard deviation)
before fitting, so that every sweep works in internal units of order one; the
:class:`PreparedData` keeps the shift and scale that take results back to the
original units. Under several processes each process prepares its own share of the
points with global moments.

Host-side NumPy (JAX only through :mod:`gmm_core.distributed`, to agree on the
moments across processes). It must not import streamlit or plotly: ``gmm_core``
never does.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from gmm_core import distributed
from gmm_core.buckets import bucket_points, default_chunk_size


class PreparedData(NamedTuple):
    """Points in internal units, padded and chunked for the program."""

    point_chunks: np.ndarray  # (chunk, point, feature)
    mask_chunks: np.ndarray  # (chunk, point)
    shard_counts: np.ndarray  # (point shards,) real points at the start of each block
    shift: np.ndarray  # (feature,)
    scale: float
    data_covariance: np.ndarray  # (feature, feature), internal units
    n_samples: int
    reach: np.ndarray  # (feature,) max |internal coordinate| over all points


def prepare_points(
    X: np.ndarray,
    chunk_size: int | None = None,
    point_shards: int = 1,
    n_columns: int = 1,
) -> PreparedData:
    """Centre, scale, pad and chunk validated points (n_samples, n_features).

    The points are kept in float64 whatever the E step's dtype: the statistics come
    from unquantised data, and a float32 E step rounds its own copy of each chunk.

    The padded size is a multiple of ``chunk_size × point_shards`` so that every
    device gets whole chunks; the chunk size itself does not depend on the devices.
    Under several processes, ``X`` is this process's share of the points: the
    moments are global and the result is this process's block (one per process).
    ``n_columns`` (fits × components of the whole sweep) sizes the default chunk.
    """
    n_features = X.shape[1]
    counts, n_samples, shift, scatter = distributed.global_moments(X)
    scale = float(np.sqrt(np.max(np.diag(scatter)) / n_samples))
    if not np.isfinite(scale) or scale <= 0:
        scale = 1.0
    internal = (X - shift) / scale
    data_covariance = scatter / max(n_samples - 1, 1) / scale**2
    data_covariance = 0.5 * (data_covariance + data_covariance.T)  # exactly symmetric
    size = chunk_size or default_chunk_size(bucket_points(n_samples), n_columns)
    if distributed.is_multi_process():
        block = int(math.ceil(max(bucket_points(int(counts.max())), size) / size) * size)
        shard_counts = counts
        n_local = X.shape[0]
    else:
        n_padded = bucket_points(n_samples)
        n_padded = int(math.ceil(n_padded / (size * point_shards)) * size * point_shards)
        block = n_padded // point_shards
        shard_counts = np.clip(n_samples - block * np.arange(point_shards), 0, block)
        block, n_local = n_padded, n_samples
    reach = all_processes_max(np.abs(internal).max(axis=0))
    padded = np.zeros((block, n_features), np.float64)
    padded[:n_local] = internal
    mask = np.zeros((block,), np.float64)
    mask[:n_local] = 1
    return PreparedData(
        padded.reshape(-1, size, n_features),
        mask.reshape(-1, size),
        np.asarray(shard_counts, np.int32),
        shift,
        scale,
        data_covariance,
        n_samples,
        reach,
    )


def all_processes_max(value: np.ndarray) -> np.ndarray:
    """Element-wise maximum of a per-process array over all processes."""
    return distributed.all_processes(value).max(axis=0)
