"""The sweep: every K in a range times every random restart, as one compiled program.

:func:`sweep` checks its arguments, prepares the points (:mod:`gmm_core.points`:
centred and divided by one scale, padded and chunked), builds the program's inputs
and user-given start (:mod:`gmm_core.user_init`), runs the compiled program
(:mod:`gmm_core.program`) in slices of restarts with progress and a timeout, and
assembles a :class:`SweepResult` (:mod:`gmm_core.sweep_result`) in the original units.

Buckets. The number of points, ``k_max`` and the number of K values are rounded up
(:mod:`gmm_core.buckets`), and the seed, tolerance, regularisation and data are
run-time inputs, so changing any of them within a bucket reuses the compiled program.
The key of restart ``r`` of K is ``fold_in(fold_in(key(seed), K), r)``, so results do
not depend on the device count or the slicing.

The names of those modules that callers used from here (``bucket_points``,
``SweepResult``, ``PROGRAMS``, ...) are re-exported. Like all of ``gmm_core``, this
module must not import streamlit or plotly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import NamedTuple

import jax
import numpy as np

from gmm_core import checks as check
from gmm_core.basis import feature_bounds
from gmm_core.buckets import (
    CHUNK_BYTES_PER_ENTRY,
    MAX_SNAPSHOTS,
    available_memory_bytes,
    bucket_components,
    bucket_iterations,
    bucket_points,
    default_chunk_size,
    snapshot_iterations,
)
from gmm_core.fit_settings import FitSettings
from gmm_core.init import INIT_METHODS
from gmm_core.points import PreparedData, all_processes_max, prepare_points
from gmm_core.program import (
    NO_INIT,
    PROGRAM_CACHE_SIZE,
    PROGRAMS,
    TRACED_INIT,
    ProgramConfig,
    ProgramInputs,
    ProgramOutputs,
    compilation_count,
    run_program,
    wait_until_ready,
)
from gmm_core.seeding import POOL_SIZE
from gmm_core.sweep_result import FittedMixture, SweepResult, assemble_result
from gmm_core.user_init import (
    UserStart,
    precisions_to_covariances,
    shared_start_covariance,
    user_start,
)

__all__ = [
    "CHUNK_BYTES_PER_ENTRY",
    "MAX_SNAPSHOTS",
    "NO_INIT",
    "PROGRAMS",
    "PROGRAM_CACHE_SIZE",
    "TRACED_INIT",
    "TRACE_INIT_METHOD",
    "FitSettings",
    "FittedMixture",
    "PreparedData",
    "ProgramConfig",
    "ProgramInputs",
    "SweepProgress",
    "SweepResult",
    "all_processes_max",
    "available_memory_bytes",
    "bucket_components",
    "bucket_iterations",
    "bucket_points",
    "compilation_count",
    "default_chunk_size",
    "precisions_to_covariances",
    "prepare_points",
    "shared_start_covariance",
    "snapshot_iterations",
    "sweep",
    "wait_until_ready",
]

#: True: the init method is a run-time input (one program for every method). False
#: compiles one program per method, as before; kept as the reference the tests compare.
TRACE_INIT_METHOD = True


class SweepProgress(NamedTuple):
    """How far a sliced sweep has got."""

    restarts_done: int
    n_restarts: int
    elapsed_seconds: float
    remaining_seconds: float

    @property
    def fraction(self) -> float:
        return self.restarts_done / self.n_restarts


def sweep(
    X: object,
    settings: FitSettings | int | None = None,
    k_max: int | None = None,
    n_restarts: int | None = None,
    *,
    chunk_size: int | None = None,
    mesh_shape: tuple[int, int] | None = None,
    progress: Callable[[SweepProgress], None] | None = None,
    restarts_per_call: int | None = None,
    weights_init: object = None,
    means_init: object = None,
    precisions_init: object = None,
    means_init_only: bool = False,
    timeout: float | None = None,
    **fields: object,
) -> SweepResult:
    """Fit a Gaussian mixture for every K in ``k_min..k_max`` times ``n_restarts`` restarts.

    ``sweep(X, settings)`` with a :class:`FitSettings`, or ``sweep(X, k_min, k_max,
    n_restarts, seed=..., ...)`` with its fields, which builds one (fields given beside a
    ``settings`` replace its own).

    Parameters
    ----------
    X : (n_samples, n_features) array-like of numbers
    settings : a :class:`FitSettings`, or its fields (``k_min, k_max, n_restarts`` by
        position, the rest by name: ``seed``, ``init_params``, ``covariance_type``,
        ``max_iter``, ``tol``, ``reg_covar``, ``snapshots``, ``dtype``)
    chunk_size : points per E-step chunk (default: chosen from the number of points)
    mesh_shape : (fit shards, point shards) over ``jax.devices()``; by default restarts
        are spread over the devices first and the remaining factor shards the points
    progress : called with a :class:`SweepProgress` after each slice of restarts; when
        given, the sweep runs in about 8 slices (the same compiled program each time)
    restarts_per_call : restarts per slice, rounded up to a multiple of the fit shards;
        the last slice is padded with restarts that are computed and dropped, so one
        value serves every ``n_restarts`` with one compiled program
    weights_init, means_init, precisions_init : user-given starting values in
        scikit-learn's shapes; only when ``k_min == k_max``. As in scikit-learn,
        ``means_init`` alone replaces only the means: ``init_params`` still draws the
        weights and covariances.
    means_init_only : start from ``means_init`` alone, see ``FitSettings.start_means``
        (the same start; the means are run-time inputs: moving them reuses the compiled
        program).
    timeout : seconds after which the sweep stops waiting and raises ``TimeoutError``
        (None: wait as long as it takes). Compilation is not interrupted, and a running
        XLA computation cannot be cancelled: it goes on in the background, so a caller
        that must survive a hung runtime runs sweeps in a process it can kill, as the
        app does (``gmm_app``'s sweep workers).

    Returns
    -------
    SweepResult

    Raises
    ------
    ValueError
        Naming the first argument that is unusable.
    TimeoutError
        When ``timeout`` seconds pass before the results are ready.
    """
    data = check.as_data_matrix(X)
    fit = _fit_settings(settings, k_max, n_restarts, fields)
    user_given = (weights_init, means_init, precisions_init)
    check.check_user_start(fit.k_min, fit.k_max, user_given, means_init_only)
    if means_init_only:
        fit, user_given = fit.replace(start_means=means_init), (None, None, None)
    if chunk_size is not None:
        chunk_size = check.check_positive_int(chunk_size, "chunk_size")
    if timeout is not None:
        timeout = check.check_non_negative(timeout, "timeout")
    if restarts_per_call is not None:
        restarts_per_call = check.check_positive_int(restarts_per_call, "restarts_per_call")
    # A slice larger than the restarts is padded: the mesh spreads the slice's fits, so
    # every restart count up to the slice gets the same mesh, and the same program.
    mesh = check.checked_mesh_shape(mesh_shape, max(fit.n_restarts, restarts_per_call or 0))
    per_call = _restarts_per_call(fit.n_restarts, mesh[0], restarts_per_call, progress)
    plan = _plan(data, fit, user_given, chunk_size, mesh, per_call)
    outputs, compile_seconds, run_seconds = _run_in_slices(plan, fit, timeout, progress)
    return assemble_result(outputs, plan.prepared, fit, compile_seconds, run_seconds)


def _fit_settings(
    settings: FitSettings | int | None,
    k_max: int | None,
    n_restarts: int | None,
    fields: dict[str, object],
) -> FitSettings:
    """The :class:`FitSettings` of ``sweep``'s settings or their fields."""
    if isinstance(settings, FitSettings):
        if k_max is not None or n_restarts is not None:
            raise ValueError("Give the K range and restarts in the FitSettings, not beside it.")
        return settings.replace(**fields) if fields else settings
    given = {"k_min": settings, "k_max": k_max, "n_restarts": n_restarts}
    fields = {name: value for name, value in given.items() if value is not None} | fields
    try:
        return FitSettings(**fields)
    except TypeError as error:  # a missing or unknown setting: say so as bad input
        raise ValueError(f"sweep's settings: {error}") from None


class _Plan(NamedTuple):
    """How a checked sweep runs: its prepared points, program inputs and config, slices."""

    prepared: PreparedData
    inputs: ProgramInputs
    config: ProgramConfig
    per_call: int


def _plan(
    data: np.ndarray,
    fit: FitSettings,
    user_given: tuple[object, object, object],
    chunk_size: int | None,
    mesh_shape: tuple[int, int],
    per_call: int,
) -> _Plan:
    """Prepare the points, the user-given start and the program's inputs and config."""
    k_pad, n_k_slots = bucket_components(fit.k_max), bucket_components(len(fit.k_values))
    n_columns = n_k_slots * per_call * k_pad  # one program call's fits × components
    prepared = prepare_points(data, chunk_size, mesh_shape[1], n_columns)
    check.check_enough_points(fit.k_max, prepared.n_samples)
    if fit.start_means:
        user_given = (None, np.asarray(fit.start_means), None)
    only = bool(fit.start_means)
    start = user_start(
        fit.k_max, k_pad, prepared, fit.covariance_type, fit.reg_covar, *user_given, only
    )
    inputs = _program_inputs(prepared, fit, n_k_slots, per_call, start)
    if start.given == (True, True, True):
        program_init = NO_INIT
    else:
        program_init = TRACED_INIT if TRACE_INIT_METHOD else fit.init_params
    shape = prepared.point_chunks.shape
    config = ProgramConfig(  # the static part: the shapes and structure of the program
        n_chunks=shape[0],
        chunk_size=shape[1],
        n_features=shape[2],
        k_pad=k_pad,
        n_fits=len(inputs.fit_k),
        trace_length=bucket_iterations(fit.max_iter),
        init_params=program_init,
        covariance_type=fit.covariance_type,
        dtype=fit.dtype,
        n_snapshots=len(inputs.snapshot_iterations),
        user_init=start.given,
        mesh_shape=mesh_shape,
        pool_size=min(POOL_SIZE, bucket_points(prepared.n_samples)),
    )
    return _Plan(prepared, inputs, config, per_call)


def _restarts_per_call(
    n_restarts: int, fit_shards: int, requested: int | None, progress: object
) -> int:
    """Restarts per program call: as requested, else all of them, or about 8 slices when
    progress is reported."""
    if requested is None:
        requested = n_restarts if progress is None else math.ceil(n_restarts / 8)
    return int(math.ceil(requested / fit_shards) * fit_shards)


def _program_inputs(
    prepared: PreparedData, fit: FitSettings, n_k_slots: int, per_call: int, start: UserStart
) -> ProgramInputs:
    """The run-time part of ``fit``: the inputs of the first slice of ``per_call``
    restarts, internal units.

    The K values fill ``n_k_slots`` slots (the rest repeat the largest K); the fits
    are restart-major: (restart, slot).
    """
    k_values = fit.k_values
    slot_k = np.full((n_k_slots,), k_values[-1], np.int32)
    slot_k[: len(k_values)] = k_values
    snapshot_at = fit.snapshot_at
    padded_snapshots = np.full((min(fit.snapshots, MAX_SNAPSHOTS),), fit.max_iter, np.int32)
    padded_snapshots[: len(snapshot_at)] = snapshot_at
    return ProgramInputs(
        point_chunks=prepared.point_chunks,
        mask_chunks=prepared.mask_chunks,
        shard_counts=prepared.shard_counts,
        n_valid=np.float64(prepared.n_samples),
        fit_k=np.tile(slot_k, per_call),
        fit_restart=np.repeat(np.arange(per_call, dtype=np.int32), n_k_slots),
        seed=np.int64(fit.seed),
        init_index=np.int32(INIT_METHODS.index(fit.init_params)),
        max_iter=np.int32(fit.max_iter),
        tol=np.float64(fit.tol),
        reg_covar=np.float64(fit.reg_covar / prepared.scale**2),
        snapshot_iterations=padded_snapshots,
        data_covariance=prepared.data_covariance,
        shift=prepared.shift,
        scale=np.float64(prepared.scale),
        feature_bounds=feature_bounds(prepared.reach, fit.covariance_type),
        user_log_weights=start.log_weights,
        user_means=start.means,
        user_covariances=start.covariances,
    )


def _run_in_slices(
    plan: _Plan,
    fit: FitSettings,
    timeout: float | None,
    progress: Callable[[SweepProgress], None] | None,
) -> tuple[ProgramOutputs, float, float]:
    """Run the program once per slice of ``plan.per_call`` restarts and join the outputs.

    Returns
    -------
    The outputs of every fit, restart-major; seconds compiling; seconds running.
    """
    config, inputs, per_call = plan.config, plan.inputs, plan.per_call
    n_restarts = fit.n_restarts
    n_k_slots = len(inputs.fit_k) // per_call
    pieces = []
    compile_seconds = 0.0
    started = time.perf_counter()
    deadline = None if timeout is None else started + timeout
    with jax.enable_x64(True):
        for first_restart in range(0, n_restarts, per_call):
            restarts = np.arange(first_restart, first_restart + per_call, dtype=np.int32)
            call_inputs = inputs._replace(fit_restart=np.repeat(restarts, n_k_slots))
            outputs, seconds = run_program(config, call_inputs, deadline, timeout)
            compile_seconds += seconds
            pieces.append(outputs)
            if progress is not None:
                elapsed = time.perf_counter() - started - compile_seconds
                done = min(first_restart + per_call, n_restarts)
                progress(
                    SweepProgress(
                        restarts_done=done,
                        n_restarts=n_restarts,
                        elapsed_seconds=elapsed,
                        remaining_seconds=elapsed / done * (n_restarts - done),
                    )
                )
    run_seconds = time.perf_counter() - started - compile_seconds
    outputs = jax.tree.map(lambda *parts: np.concatenate(parts, axis=0), *pieces)
    return outputs, compile_seconds, run_seconds
