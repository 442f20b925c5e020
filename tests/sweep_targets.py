"""Stand-ins for ``gmm_core.sweep`` that sweep worker tests run in a worker process."""

from __future__ import annotations

import os
import signal
import time

import numpy as np

import gmm_core
from gmm_core.sweep import SweepProgress

#: Points whose first coordinate is this value make :func:`sweep_or_hang` hang.
HANG_MARKER = 12345.0


def sweep_or_hang(points: np.ndarray, **options: object) -> gmm_core.SweepResult:
    """``gmm_core.sweep``, except that it hangs (HANG_MARKER) or raises (RAISE_MARKER)."""
    if points[0, 0] == HANG_MARKER:
        hang_after_first_slice(options)
    if points[0, 0] == RAISE_MARKER:
        divide_by_zero()
    return gmm_core.sweep(points, **options)


def hang_after_first_slice(options: dict[str, object]) -> None:
    """Report one slice of progress (compiled, running), then never answer again."""
    progress = options.get("progress")
    if callable(progress):
        restarts = getattr(options.get("settings"), "n_restarts", options.get("n_restarts", 8))
        progress(SweepProgress(1, int(restarts), 0.0, 0.0))
    while True:  # a wedged runtime: no progress, no answer
        time.sleep(1.0)


#: An init seed that makes :func:`sweep_or_hang_on_seed` hang.
HANG_SEED = 4242


def sweep_or_hang_on_seed(points: np.ndarray, **options: object) -> gmm_core.SweepResult:
    """``gmm_core.sweep``, except that it hangs, raises or dies for the seeds above (given
    as ``seed=`` or in the ``settings`` record the app sends)."""
    settings = options.get("settings")
    seed = options.get("seed", getattr(settings, "seed", None))
    if seed == HANG_SEED:
        hang_after_first_slice(options)
    if seed == RAISE_SEED:
        divide_by_zero()
    if seed == KILL_SEED:
        restarts = getattr(settings, "n_restarts", options.get("n_restarts", 8))
        options["progress"](SweepProgress(1, int(restarts), 0.0, 0.0))
        os.kill(os.getpid(), signal.SIGKILL)
    return gmm_core.sweep(points, **options)


#: Points whose first coordinate is this value make :func:`sweep_or_hang` raise.
RAISE_MARKER = 54321.0
#: Init seeds that make :func:`sweep_or_hang_on_seed` raise, or kill its own worker with
#: ``SIGKILL`` (as the kernel's OOM killer would) after its first progress report.
RAISE_SEED = 4343
KILL_SEED = 4444


def divide_by_zero() -> float:
    """A bug in the sweep: its traceback names this function."""
    return 1 / 0
