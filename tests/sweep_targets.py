"""Stand-ins for ``gmm_core.sweep`` that sweep worker tests run in a worker process."""

from __future__ import annotations

import time

import numpy as np

import gmm_core
from gmm_core.sweep import SweepProgress

#: Points whose first coordinate is this value make :func:`sweep_or_hang` hang.
HANG_MARKER = 12345.0


def sweep_or_hang(points: np.ndarray, **options: object) -> gmm_core.SweepResult:
    """``gmm_core.sweep``, except that it never returns for data marked with HANG_MARKER."""
    if points[0, 0] == HANG_MARKER:
        hang_after_first_slice(options)
    return gmm_core.sweep(points, **options)


def hang_after_first_slice(options: dict[str, object]) -> None:
    """Report one slice of progress (compiled, running), then never answer again."""
    progress = options.get("progress")
    if callable(progress):
        progress(SweepProgress(1, int(options.get("n_restarts", 8)), 0.0, 0.0))
    while True:  # a wedged runtime: no progress, no answer
        time.sleep(1.0)


#: An init seed that makes :func:`sweep_or_hang_on_seed` hang.
HANG_SEED = 4242


def sweep_or_hang_on_seed(points: np.ndarray, **options: object) -> gmm_core.SweepResult:
    """``gmm_core.sweep``, except that it never returns when the seed is HANG_SEED."""
    if options.get("seed") == HANG_SEED:
        hang_after_first_slice(options)
    return gmm_core.sweep(points, **options)
