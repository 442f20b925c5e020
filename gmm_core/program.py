"""The compiled sweep program: initialise and run EM for a batch of fits on a device mesh.

Layout. Components are padded to ``k_pad`` and masked, so one program serves a whole
K range. The fits (restart, K) are laid out restart-major and split over a device
mesh with ``shard_map``; within a device all its fits run as one batch (the E step
is one matrix product over every fit and component). The key of restart ``r`` of K
is ``fold_in(fold_in(key(seed), K), r)``, so results do not depend on the device
count.

Inputs. :class:`ProgramConfig` fixes the shapes and structure (what is compiled);
:class:`ProgramInputs` holds the run-time arrays (the seed, tolerance,
regularisation, data, user-given start, ...), so changing any of them within the
same shapes reuses the compiled program. Compiled programs are kept in a bounded
LRU cache (:data:`PROGRAMS`, :data:`PROGRAM_CACHE_SIZE` programs).

The program works in internal units (see :mod:`gmm_core.points`). This module must
not import streamlit or plotly (``gmm_core`` never does), nor :mod:`gmm_core.sweep`,
which builds on it.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from gmm_core import distributed
from gmm_core.device_mesh import FIT_AXIS, POINT_AXIS
from gmm_core.em import run_em
from gmm_core.init import initialise
from gmm_core.mixture import MixtureParams

PROGRAM_CACHE_SIZE = 16
#: ``ProgramConfig.init_params`` of a program that takes the init method as a run-time
#: input (``init_index``), so one program serves every method.
TRACED_INIT = "any"
#: ``ProgramConfig.init_params`` of a program whose start is wholly user-given.
NO_INIT = "none"
#: XLA settings for programs on CPU devices: LLVM's lighter optimisation level, which
#: compiles the sweep faster with the same fits (``tests/core/test_compiler_options.py``).
#: Other platforms keep XLA's defaults. These take precedence over ``XLA_FLAGS``.
CPU_COMPILER_OPTIONS: dict[str, int | bool] = {"xla_backend_optimization_level": 1}

#: The start's parameters in the order of ``ProgramConfig.user_init``.
USER_FIELDS = ("log_weights", "means", "covariances")

#: An input as NumPy on the host, or as an array (a tracer inside the program).
Input = np.ndarray | np.generic | jax.Array


class ProgramConfig(NamedTuple):
    """Everything that fixes the compiled program's shapes and structure: the static part
    of a :class:`~gmm_core.fit_settings.FitSettings` (same field names) and the shapes."""

    n_chunks: int
    chunk_size: int
    n_features: int
    k_pad: int
    n_fits: int
    trace_length: int
    init_params: str
    covariance_type: str
    dtype: str
    n_snapshots: int
    user_init: tuple[bool, bool, bool]
    mesh_shape: tuple[int, int]
    pool_size: int


class ProgramInputs(NamedTuple):
    """The program's run-time inputs, internal units; changing them reuses the program.

    The run-time part of a :class:`~gmm_core.fit_settings.FitSettings` keeps its field
    names (``seed``, ``max_iter``, ``tol``, ``reg_covar``), with the data and start.

    Attributes
    ----------
    point_chunks : (chunk, point, feature) float64, split over the points axis
    mask_chunks : (chunk, point) float64, 1 for real points, split over the points axis
    shard_counts : (point shards,) int32 real points at the start of each block
    n_valid : () float64 number of real points
    fit_k : (fit,) int32 K of each fit, split over the fits axis
    fit_restart : (fit,) int32 restart of each fit, split over the fits axis
    seed : () int64
    init_index : () int32 position of the init method in ``INIT_METHODS``
    max_iter : () int32
    tol : () float64
    reg_covar : () float64
    snapshot_iterations : (n_snapshots,) int32
    data_covariance : (feature, feature) float64
    shift : (feature,) float64, the centre of the original units
    scale : () float64, the scale of the original units
    feature_bounds : (basis,) float64, see :func:`gmm_core.basis.feature_bounds`
    user_log_weights : (component,) or None (drawn), see :mod:`gmm_core.user_init`
    user_means : (component, feature) or None
    user_covariances : (component, feature, feature) or None
    """

    point_chunks: Input
    mask_chunks: Input
    shard_counts: Input
    n_valid: Input
    fit_k: Input
    fit_restart: Input
    seed: Input
    init_index: Input
    max_iter: Input
    tol: Input
    reg_covar: Input
    snapshot_iterations: Input
    data_covariance: Input
    shift: Input
    scale: Input
    feature_bounds: Input
    user_log_weights: Input | None = None
    user_means: Input | None = None
    user_covariances: Input | None = None


class ProgramOutputs(NamedTuple):
    """What the program returns, every array with a leading (fit,) axis, internal units.

    Attributes
    ----------
    initial, final : MixtureParams (fit, component, ...) before and after EM
    log_likelihood : (fit, trace_length); final_log_likelihood : (fit,)
    n_iter, converged, failed, e_step_reasons, float32_noise : (fit,)
    snapshots : MixtureParams (fit, n_snapshots, component, ...)
    """

    initial: MixtureParams
    final: MixtureParams
    log_likelihood: Input
    n_iter: Input
    converged: Input
    failed: Input
    e_step_reasons: Input
    float32_noise: Input
    final_log_likelihood: Input
    snapshots: MixtureParams


def _fit_block(config: ProgramConfig, inputs: ProgramInputs) -> ProgramOutputs:
    """The per-device program: initialise and run EM for this device's fits."""
    fit_k, fit_restart = inputs.fit_k, inputs.fit_restart
    base_key = jax.random.key(inputs.seed)
    keys = jax.vmap(lambda k, r: jax.random.fold_in(jax.random.fold_in(base_key, k), r))(
        fit_k, fit_restart
    )
    component_mask = jnp.arange(config.k_pad)[None, :] < fit_k[:, None]
    initial = _initial_params(config, inputs, keys, component_mask)
    user_values = (inputs.user_log_weights, inputs.user_means, inputs.user_covariances)
    for name, given, value in zip(USER_FIELDS, config.user_init, user_values, strict=True):
        if given:  # the user's value replaces the drawn one in every fit
            shape = getattr(initial, name).shape
            initial = dataclasses.replace(initial, **{name: jnp.broadcast_to(value, shape)})
    trace = run_em(
        initial,
        inputs.point_chunks,
        inputs.mask_chunks,
        inputs.n_valid,
        component_mask,
        inputs.tol,
        inputs.reg_covar,
        inputs.max_iter,
        inputs.snapshot_iterations,
        inputs.feature_bounds,
        trace_length=config.trace_length,
        covariance_type=config.covariance_type,
        compute_dtype=jnp.dtype(config.dtype),
        sharded=True,
    )
    return ProgramOutputs(
        initial=initial,
        final=trace.params,
        log_likelihood=trace.log_likelihood,
        n_iter=trace.n_iter,
        converged=trace.converged,
        failed=trace.failed,
        e_step_reasons=trace.reasons,
        float32_noise=trace.float32_noise,
        final_log_likelihood=trace.final_log_likelihood,
        snapshots=trace.snapshots,
    )


def _initial_params(
    config: ProgramConfig, inputs: ProgramInputs, keys: jax.Array, component_mask: jax.Array
) -> MixtureParams:
    """The drawn start: the method of ``inputs.init_index`` (traced) or a static one.

    A wholly user-given start (:data:`NO_INIT`) draws with the cheapest method; the
    caller replaces every parameter, so XLA removes the draw.
    """
    args = (
        keys,
        component_mask,
        inputs.point_chunks,
        inputs.mask_chunks,
        inputs.shard_counts,
        inputs.data_covariance,
        inputs.shift,
        inputs.scale,
        inputs.reg_covar,
        config.covariance_type,
        config.pool_size,
    )
    if config.init_params == TRACED_INIT:
        return initialise(inputs.init_index, *args)
    if config.init_params == NO_INIT:
        return initialise("standard_normal", *args)
    return initialise(config.init_params, *args)


_PER_FIT_INPUTS = ("fit_k", "fit_restart")
_PER_POINT_INPUTS = ("point_chunks", "mask_chunks")


def _spec(name: str) -> P:
    """How the input ``name`` is laid out: per fit, per point, or replicated."""
    if name in _PER_FIT_INPUTS:
        return P(FIT_AXIS)
    return P(POINT_AXIS) if name in _PER_POINT_INPUTS else P()


def _specs(inputs: ProgramInputs) -> ProgramInputs:
    """The layout of each given input (None where the input is None)."""
    return ProgramInputs(
        *(None if value is None else _spec(name) for name, value in inputs._asdict().items())
    )


def _mesh(mesh_shape: tuple[int, int]) -> Mesh:
    """The (fits, points) device mesh: this process's devices, or every process's."""
    if distributed.is_multi_process():
        return Mesh(distributed.process_mesh_devices(), (FIT_AXIS, POINT_AXIS))
    devices = jax.devices()[: mesh_shape[0] * mesh_shape[1]]
    return Mesh(np.asarray(devices).reshape(mesh_shape), (FIT_AXIS, POINT_AXIS))


def placed(inputs: ProgramInputs, mesh_shape: tuple[int, int]) -> ProgramInputs:
    """Inputs as global arrays when several processes take part, else unchanged."""
    if not distributed.is_multi_process():
        return inputs
    mesh = _mesh(mesh_shape)
    return ProgramInputs(
        *(
            None
            if value is None
            else distributed.to_global(value, NamedSharding(mesh, _spec(name)))
            for name, value in inputs._asdict().items()
        )
    )


def _build_program(config: ProgramConfig, example: ProgramInputs) -> Any:
    """The jitted, ``shard_map``-ped program for ``config`` and inputs shaped as ``example``."""
    sharded = jax.shard_map(
        partial(_fit_block, config),
        mesh=_mesh(config.mesh_shape),
        in_specs=(_specs(example),),
        out_specs=P(FIT_AXIS),
        check_vma=False,
    )
    return jax.jit(lambda inputs: sharded(inputs))


def _compile_lowered(lowered: Any) -> Any:
    """Compile for this process's devices (those of :func:`_mesh`), with
    :data:`CPU_COMPILER_OPTIONS` on CPU."""
    cpu = jax.default_backend() == "cpu" and CPU_COMPILER_OPTIONS
    return lowered.compile(compiler_options=CPU_COMPILER_OPTIONS if cpu else None)


def _signature(inputs: ProgramInputs) -> tuple:
    """(name, shape, dtype) of every given input: with the config, the cache key."""
    return tuple(
        (name, value.shape, str(value.dtype))
        for name, value in inputs._asdict().items()
        if value is not None
    )


class _ProgramCache:
    """A bounded LRU cache of compiled programs, with a compilation counter."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.compilations = 0
        self._programs: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, config: ProgramConfig, inputs: ProgramInputs) -> tuple[Any, float]:
        """The compiled program and the seconds spent compiling it (0 when held).

        A program compiled by an earlier process comes from JAX's persistent
        compilation cache (:mod:`gmm_core.compilation_cache`), when it is on.
        """
        key = (config, _signature(inputs))
        with self._lock:
            if key in self._programs:
                self._programs.move_to_end(key)
                return self._programs[key], 0.0
            started = time.perf_counter()
            compiled = _compile_lowered(_build_program(config, inputs).lower(inputs))
            self.compilations += 1
            self._programs[key] = compiled
            while len(self._programs) > self.capacity:
                self._programs.popitem(last=False)
            return compiled, time.perf_counter() - started

    def held(self) -> list[tuple[tuple, Any]]:
        """``((config, signature), compiled program)`` of every program held, oldest first."""
        with self._lock:
            return list(self._programs.items())

    def __len__(self) -> int:
        return len(self._programs)

    def clear(self) -> None:
        with self._lock:
            self._programs.clear()


PROGRAMS = _ProgramCache(PROGRAM_CACHE_SIZE)


def compilation_count() -> int:
    """How many sweep programs this process has compiled so far."""
    return PROGRAMS.compilations


def run_program(
    config: ProgramConfig,
    inputs: ProgramInputs,
    deadline: float | None = None,
    timeout: float | None = None,
) -> tuple[ProgramOutputs, float]:
    """Run the (cached or newly compiled) program on ``inputs``, outputs back on the host.

    Returns
    -------
    The outputs as NumPy arrays (every process's fits), and the seconds spent compiling.

    Raises
    ------
    TimeoutError
        When ``deadline`` (a ``time.perf_counter`` value) passes first.
    """
    inputs = placed(inputs, config.mesh_shape)
    program, compile_seconds = PROGRAMS.get(config, inputs)
    outputs = wait_until_ready(program(inputs), deadline, timeout)
    if distributed.is_multi_process():
        outputs = distributed.gather_outputs(outputs)
    return jax.device_get(outputs), compile_seconds


def wait_until_ready(outputs: Any, deadline: float | None, timeout: float | None) -> Any:
    """Wait for a dispatched program's outputs, raising ``TimeoutError`` past ``deadline``.

    Polls every few milliseconds (fewer as the wait grows), so a finished program is
    noticed within about 1% of its run time.
    """
    if deadline is None:
        return jax.block_until_ready(outputs)
    leaves = [leaf for leaf in jax.tree.leaves(outputs) if hasattr(leaf, "is_ready")]
    pause = 0.001
    while not all(leaf.is_ready() for leaf in leaves):
        if time.perf_counter() > deadline:
            raise TimeoutError(
                f"The sweep did not finish within its timeout of {timeout:g} s; the "
                "computation may still be running in the background. Lower the K range, "
                "the restarts, max_iter or the number of points, or raise the timeout."
            )
        time.sleep(pause)
        pause = min(pause * 1.5, 0.02)
    return jax.block_until_ready(outputs)  # at once; raises a failed computation's error
