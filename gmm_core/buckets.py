"""Padded sizes that a compiled sweep program is built for, so similar requests share one.

The number of points, the number of components and K values, the trace length and
the E-step chunk are rounded up to a few fixed sizes ("buckets"); a sweep whose
sizes fall in the same buckets reuses the compiled program. Also the iterations at
which parameter snapshots are kept.

Plain Python and NumPy: this module must not import JAX, so :mod:`gmm_core.budget`
can size a request from it alone, nor (as all of ``gmm_core``) streamlit or plotly.
"""

from __future__ import annotations

import math
import os

import numpy as np

#: The most parameter snapshots one sweep keeps: every iteration of a fit of up to 1000
#: iterations, so one fit can be replayed iterate by iterate.
MAX_SNAPSHOTS = 1024
_COMPONENT_BUCKETS = (1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
#: Bytes per (point, fit, component) that one chunk of the E step keeps live.
CHUNK_BYTES_PER_ENTRY = 24


def bucket_components(k: int) -> int:
    """Padded size for ``k`` components or K values: 1, 2, 4, 6, 8, 12, 16, 24, 32, ..."""
    for size in _COMPONENT_BUCKETS:
        if k <= size:
            return size
    return int(2 ** math.ceil(math.log2(k)))


def bucket_points(n: int) -> int:
    """Padded number of points: 256..4096 in steps of half an octave, then 8 per octave."""
    for size in (256, 512, 1024, 1536, 2048, 3072, 4096):
        if n <= size:
            return size
    exponent = max(9, math.floor(math.log2(n)) - 3)
    return int(math.ceil(n / 2**exponent) * 2**exponent)


def available_memory_bytes() -> int:
    """Memory the operating system reports as available: Linux's ``MemAvailable`` (free
    memory plus what the page cache would give back), else the free pages, else 4 GiB."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30


def default_chunk_size(n_padded: int, n_fits: int = 1, k_pad: int = 1) -> int:
    """Points per E-step chunk.

    Chunks of a few thousand points keep the E step's (point, fit × component)
    arrays in cache: everything up to 4096 points, else the largest power of 2
    ≤ 2048 dividing the padded size. The chunk then shrinks, halving, until its
    working set (:data:`CHUNK_BYTES_PER_ENTRY` per entry) fits in 1/16 of the
    available memory.
    """
    if n_padded <= 4096:
        size = n_padded
    else:
        size = 2048
        while n_padded % size:
            size //= 2
    budget = available_memory_bytes() // 16
    while size > 256 and size % 2 == 0 and size * n_fits * k_pad * CHUNK_BYTES_PER_ENTRY > budget:
        size //= 2
    return size


def bucket_iterations(max_iter: int) -> int:
    """Length of the recorded trace for ``max_iter``: 10, 20, 50, 100, 200, 500, 1000, ..."""
    size = 10
    while size < max_iter:
        size = size * 5 // 2 if str(size)[0] == "2" else size * 2
    return size


def snapshot_iterations(max_iter: int, n_snapshots: int) -> tuple[int, ...]:
    """Iterations at which to keep parameters: 0 (the initialisation) and log-spaced ones."""
    if n_snapshots <= 0:
        return ()
    n_snapshots = min(n_snapshots, MAX_SNAPSHOTS, max_iter + 1)
    if n_snapshots == 1:
        return (max_iter,)
    spaced = np.geomspace(1, max_iter, num=n_snapshots - 1)
    chosen = sorted({0, *np.unique(np.round(spaced).astype(int)).tolist()})
    extra = [i for i in range(max_iter + 1) if i not in chosen]
    while len(chosen) < n_snapshots and extra:
        chosen.append(extra.pop(0))
    return tuple(sorted(chosen))
