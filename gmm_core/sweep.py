"""The sweep: every K in a range times every random restart, as one compiled program.

Layout. Components are padded to ``k_pad`` and masked, so one program serves a whole
K range. The fits (restart, K) are laid out restart-major and split over a device
mesh with ``shard_map``; within a device all its fits run as one batch (the E step
is one matrix product over every fit and component). The key of restart ``r`` of K
is ``fold_in(fold_in(key(seed), K), r)``, so results do not depend on the device
count.

Buckets. The number of points, ``k_max`` and the number of K values are rounded up
(see :func:`bucket_points`, :func:`bucket_components`), and the seed, tolerance,
regularisation and data are run-time inputs, so changing any of them within a
bucket reuses the compiled program. Compiled programs are kept in a bounded LRU
cache (:data:`PROGRAM_CACHE_SIZE`).

Units. Points are centred and divided by one scale (the largest column standard
deviation) before fitting; every result is reported in the original units.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P

from gmm_core import _validation as check
from gmm_core import distributed
from gmm_core.diagnostics import StuckFitWarning, float64_reason, stuck_fits
from gmm_core.em import run_em
from gmm_core.init import INIT_METHODS, POOL_SIZE, initialise, initialise_any
from gmm_core.model import MASKED_LOG_WEIGHT, MixtureParams, feature_bounds
from gmm_core.parallel import FIT_AXIS, POINT_AXIS, choose_mesh_shape
from gmm_core.select import aic, bic

PROGRAM_CACHE_SIZE = 16
MAX_SNAPSHOTS = 64
_COMPONENT_BUCKETS = (1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
#: ``ProgramConfig.init_params`` of a program that takes the init method as a run-time
#: input (``init_index``), so one program serves every method.
TRACED_INIT = "any"
#: ``ProgramConfig.init_params`` of a program whose start is wholly user-given.
NO_INIT = "none"
#: True: the init method is a run-time input (one program for every method). False
#: compiles one program per method, as before; kept as the reference the tests compare.
TRACE_INIT_METHOD = True


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


#: Bytes per (point, fit, component) that one chunk of the E step keeps live.
CHUNK_BYTES_PER_ENTRY = 24


def available_memory_bytes() -> int:
    """Memory the operating system reports as available (a fallback of 4 GiB elsewhere)."""
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


class ProgramConfig(NamedTuple):
    """Everything that fixes the compiled program's shapes and structure."""

    n_chunks: int
    chunk_size: int
    n_features: int
    k_pad: int
    n_fits: int
    trace_length: int
    init_params: str
    covariance_type: str
    compute_dtype: str
    n_snapshots: int
    user_init: tuple[bool, bool, bool]
    mesh_shape: tuple[int, int]
    pool_size: int


class SweepProgress(NamedTuple):
    """How far a sliced sweep has got."""

    restarts_done: int
    n_restarts: int
    elapsed_seconds: float
    remaining_seconds: float

    @property
    def fraction(self) -> float:
        return self.restarts_done / self.n_restarts


def _restarts_per_call(
    n_restarts: int, fit_shards: int, requested: int | None, progress: object
) -> int:
    """Restarts per program call: all of them, or slices when progress is reported."""
    if requested is None:
        requested = n_restarts if progress is None else math.ceil(n_restarts / 8)
    requested = check.check_positive_int(requested, "restarts_per_call")
    return int(math.ceil(min(requested, n_restarts) / fit_shards) * fit_shards)


def _placed(inputs: dict[str, Any], mesh_shape: tuple[int, int]) -> dict[str, Any]:
    """Inputs as global arrays when several processes take part, else unchanged."""
    if not distributed.is_multi_process():
        return inputs
    mesh = _mesh(mesh_shape)
    return {
        name: distributed.to_global(value, jax.sharding.NamedSharding(mesh, _spec(name)))
        for name, value in inputs.items()
    }


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
    dtype: str = "float32",
    chunk_size: int | None = None,
    point_shards: int = 1,
    n_columns: int = 1,
) -> PreparedData:
    """Centre, scale, pad and chunk validated points (n_samples, n_features).

    The points are kept in float64 whatever ``dtype``: the statistics come from
    unquantised data, and a float32 E step rounds its own copy of each chunk.

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
    del dtype  # kept for callers; the E step's dtype is chosen in the program
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


def _fit_block(config: ProgramConfig, inputs: dict[str, Any]) -> dict[str, Any]:
    """The per-device program: initialise and run EM for this device's fits."""
    fit_k, fit_restart = inputs["fit_k"], inputs["fit_restart"]
    base_key = jax.random.key(inputs["seed"])
    keys = jax.vmap(lambda k, r: jax.random.fold_in(jax.random.fold_in(base_key, k), r))(
        fit_k, fit_restart
    )
    component_mask = jnp.arange(config.k_pad)[None, :] < fit_k[:, None]
    compute_dtype = jnp.dtype(config.compute_dtype)
    initial = _initial_params(config, inputs, keys, component_mask)
    has_weights, has_means, has_covariances = config.user_init
    if has_weights:
        log_weights = jnp.broadcast_to(inputs["user_log_weights"], initial.log_weights.shape)
        initial = dataclasses.replace(initial, log_weights=log_weights)
    if has_means:
        means = jnp.broadcast_to(inputs["user_means"], initial.means.shape)
        initial = dataclasses.replace(initial, means=means)
    if has_covariances:
        covariances = jnp.broadcast_to(inputs["user_covariances"], initial.covariances.shape)
        initial = dataclasses.replace(initial, covariances=covariances)
    trace = run_em(
        initial,
        inputs["point_chunks"],
        inputs["mask_chunks"],
        inputs["n_valid"],
        component_mask,
        inputs["tol"],
        inputs["reg_covar"],
        inputs["max_iter"],
        inputs["snapshot_iterations"],
        inputs["feature_bounds"],
        trace_length=config.trace_length,
        covariance_type=config.covariance_type,
        compute_dtype=compute_dtype,
        sharded=True,
    )
    return {
        "initial": initial,
        "final": trace.params,
        "log_likelihood": trace.log_likelihood,
        "n_iter": trace.n_iter,
        "converged": trace.converged,
        "failed": trace.failed,
        "e_step_reasons": trace.reasons,
        "float32_noise": trace.float32_noise,
        "final_log_likelihood": trace.final_log_likelihood,
        "snapshots": trace.snapshots,
    }


def _program_init(init_params: str) -> str:
    """``ProgramConfig.init_params`` for a drawn start: traced, or the method itself."""
    return TRACED_INIT if TRACE_INIT_METHOD else init_params


def _initial_params(
    config: ProgramConfig, inputs: dict[str, Any], keys: jax.Array, component_mask: jax.Array
) -> MixtureParams:
    """The drawn start: the method of ``inputs["init_index"]`` (traced) or a static one.

    A wholly user-given start (:data:`NO_INIT`) draws with the cheapest method; the
    caller replaces every parameter, so XLA removes the draw.
    """
    args = (
        keys,
        component_mask,
        inputs["point_chunks"],
        inputs["mask_chunks"],
        inputs["shard_counts"],
        inputs["data_covariance"],
        inputs["shift"],
        inputs["scale"],
        inputs["reg_covar"],
        config.covariance_type,
        config.pool_size,
    )
    if config.init_params == TRACED_INIT:
        return initialise_any(inputs["init_index"], *args)
    if config.init_params == NO_INIT:
        return initialise("standard_normal", *args)
    return initialise(config.init_params, *args)


_PER_FIT_INPUTS = ("fit_k", "fit_restart")
_PER_POINT_INPUTS = ("point_chunks", "mask_chunks")


def _spec(name: str) -> P:
    if name in _PER_FIT_INPUTS:
        return P(FIT_AXIS)
    return P(POINT_AXIS) if name in _PER_POINT_INPUTS else P()


def _mesh(mesh_shape: tuple[int, int]) -> Mesh:
    if distributed.is_multi_process():
        return Mesh(distributed.process_mesh_devices(), (FIT_AXIS, POINT_AXIS))
    devices = jax.devices()[: mesh_shape[0] * mesh_shape[1]]
    return Mesh(np.asarray(devices).reshape(mesh_shape), (FIT_AXIS, POINT_AXIS))


def _build_program(config: ProgramConfig, example: dict[str, Any]) -> Callable[..., Any]:
    mesh = _mesh(config.mesh_shape)
    in_specs = ({key: _spec(key) for key in example},)
    out_specs = P(FIT_AXIS)
    sharded = jax.shard_map(
        partial(_fit_block, config),
        mesh=mesh,
        in_specs=in_specs,
        out_specs=out_specs,
        check_vma=False,
    )
    return jax.jit(lambda inputs: sharded(inputs))


class _ProgramCache:
    """A bounded LRU cache of compiled programs, with a compilation counter."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.compilations = 0
        self._programs: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, config: ProgramConfig, inputs: dict[str, Any]) -> tuple[Any, float]:
        signature = tuple(sorted((k, v.shape, str(v.dtype)) for k, v in inputs.items()))
        key = (config, signature)
        with self._lock:
            if key in self._programs:
                self._programs.move_to_end(key)
                return self._programs[key], 0.0
            started = time.perf_counter()
            compiled = _build_program(config, inputs).lower(inputs).compile()
            elapsed = time.perf_counter() - started
            self.compilations += 1
            self._programs[key] = compiled
            while len(self._programs) > self.capacity:
                self._programs.popitem(last=False)
            return compiled, elapsed

    def __len__(self) -> int:
        return len(self._programs)

    def clear(self) -> None:
        with self._lock:
            self._programs.clear()


PROGRAMS = _ProgramCache(PROGRAM_CACHE_SIZE)


def compilation_count() -> int:
    """How many sweep programs this process has compiled so far."""
    return PROGRAMS.compilations


@dataclasses.dataclass(frozen=True, eq=False)
class FittedMixture:
    """One fitted mixture in original units, padding removed.

    Attributes
    ----------
    weights : (component,); means : (component, feature);
    covariances : (component, feature, feature)
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class SweepResult:
    """Every fit of a sweep, in original units.

    Shapes use ``n_k`` K values, ``n_restarts`` restarts, ``k_pad`` padded components
    (entries beyond K have weight 0), ``n_snap`` snapshots and D features.

    Attributes
    ----------
    k_values : (n_k,) int
    log_likelihood : (n_k, n_restarts, max_iter) mean log-likelihood per point,
        held constant after a fit converged
    final_log_likelihood : (n_k, n_restarts) of the final parameters
    n_iter, converged : (n_k, n_restarts)
    weights : (n_k, n_restarts, k_pad); means : (..., k_pad, D); covariances : (..., k_pad, D, D)
    initial_weights, initial_means, initial_covariances : the same, before EM
    snapshot_iterations : (n_snap,); snapshot_weights/means/covariances :
        (n_k, n_restarts, n_snap, k_pad, ...)
    bic, aic : (n_k, n_restarts)
    failed : (n_k, n_restarts) bool, a covariance stopped being positive definite
        (``reg_covar=0`` and a component on identical points); the fit keeps its last
        valid parameters and is never chosen while another restart is usable
    stuck : (n_k, n_restarts) bool, K > 1 and every component a near-duplicate of the
        others (see :mod:`gmm_core.diagnostics`); chosen only when nothing else is
    e_step_float64 : (n_k, n_restarts) bool, some E step of the fit ran in float64;
        :attr:`e_step_float64_reason` says why
    e_step_reasons : (n_k, n_restarts) int, the reason bits (``gmm_core.em``)
    float32_noise : (n_k, n_restarts) estimated float32 rounding of the E steps
    tol : the tolerance the sweep ran with
    reg_covar : the covariance regularisation it ran with (original units)
    compile_seconds : time spent compiling for this call (0 when the program was cached)
    run_seconds : time spent running the program
    """

    k_values: np.ndarray
    seed: int
    covariance_type: str
    init_params: str
    n_samples: int
    n_features: int
    log_likelihood: np.ndarray
    final_log_likelihood: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    initial_weights: np.ndarray
    initial_means: np.ndarray
    initial_covariances: np.ndarray
    snapshot_iterations: np.ndarray
    snapshot_weights: np.ndarray
    snapshot_means: np.ndarray
    snapshot_covariances: np.ndarray
    bic: np.ndarray
    aic: np.ndarray
    failed: np.ndarray
    stuck: np.ndarray
    e_step_float64: np.ndarray
    e_step_reasons: np.ndarray
    float32_noise: np.ndarray
    tol: float
    reg_covar: float
    compile_seconds: float
    run_seconds: float

    @property
    def e_step_float64_reason(self) -> str:
        """Why E steps ran in float64, e.g. "E step in float64 because tol < 3e-05 …"."""
        return float64_reason(self.e_step_reasons, self.float32_noise, self.tol)

    @property
    def n_restarts(self) -> int:
        return int(self.log_likelihood.shape[1])

    def k_index(self, k: int) -> int:
        """Row of K in the result's arrays."""
        matches = np.flatnonzero(self.k_values == k)
        if matches.size == 0:
            raise ValueError(f"K={k} is not in this sweep's range {self.k_values.tolist()}.")
        return int(matches[0])

    def best_restart(self) -> np.ndarray:
        """(n_k,) index of the restart with the highest final log-likelihood for each K.

        Usable restarts come first, then stuck ones, then failed ones.
        """
        tier = np.where(self.failed, 0, np.where(self.stuck, 1, 2))
        best_tier = tier.max(axis=1, keepdims=True)
        finite = np.isfinite(self.final_log_likelihood)
        scores = np.where(finite & (tier == best_tier), self.final_log_likelihood, -np.inf)
        return np.argmax(scores, axis=1)

    def best_is_usable(self) -> np.ndarray:
        """(n_k,) whether each K's best restart is neither stuck nor failed."""
        rows = np.arange(len(self.k_values))
        best = self.best_restart()
        return ~self.failed[rows, best] & ~self.stuck[rows, best]

    def best_bic(self) -> np.ndarray:
        """(n_k,) BIC of the best restart of each K."""
        return self.bic[np.arange(len(self.k_values)), self.best_restart()]

    def best_aic(self) -> np.ndarray:
        """(n_k,) AIC of the best restart of each K."""
        return self.aic[np.arange(len(self.k_values)), self.best_restart()]

    def left_out_k(self) -> list[int]:
        """K values whose every restart is stuck or failed, while another K is usable.

        Model selection compares only the other K values (see :meth:`best_k`).
        """
        usable = self.best_is_usable()
        if not np.any(usable):
            return []
        return [int(k) for k in self.k_values[~usable]]

    def best_k(self, criterion: str = "bic", *, warn: bool = True) -> int:
        """The K whose best restart has the lowest BIC (or AIC).

        The K values of :meth:`left_out_k` are left out, with a
        :class:`gmm_core.diagnostics.StuckFitWarning` naming them unless ``warn`` is
        False (a caller that shows :meth:`left_out_k` itself).
        """
        scores = self.best_bic() if criterion == "bic" else self.best_aic()
        scores = np.where(np.isfinite(scores), scores, np.inf)
        left_out = self.left_out_k()
        if left_out:
            if warn:
                warnings.warn(
                    f"K = {left_out}: every restart is stuck (near-duplicate components) "
                    f"or failed, so {criterion.upper()} compared only the other K values; "
                    "try a smaller tol, another init_params or a larger reg_covar.",
                    StuckFitWarning,
                    stacklevel=2,
                )
            scores = np.where(np.isin(self.k_values, left_out), np.inf, scores)
        return int(self.k_values[int(np.argmin(scores))])

    def mixture(self, k: int, restart: int | None = None) -> FittedMixture:
        """The fitted mixture of K (best restart by default), padding removed."""
        row = self.k_index(k)
        column = int(self.best_restart()[row]) if restart is None else restart
        return FittedMixture(
            self.weights[row, column, :k],
            self.means[row, column, :k],
            self.covariances[row, column, :k],
        )


def _user_init_inputs(
    k: int,
    n_features: int,
    k_pad: int,
    prepared: PreparedData,
    covariance_type: str,
    weights_init: np.ndarray | None,
    means_init: np.ndarray | None,
    precisions_init: np.ndarray | None,
) -> dict[str, np.ndarray]:
    inputs: dict[str, np.ndarray] = {}
    if weights_init is not None:
        log_weights = np.full((k_pad,), MASKED_LOG_WEIGHT)
        log_weights[:k] = np.log(np.maximum(weights_init / weights_init.sum(), 1e-300))
        inputs["user_log_weights"] = log_weights
    if means_init is not None:
        means = np.zeros((k_pad, n_features))
        means[:k] = (means_init - prepared.shift) / prepared.scale
        inputs["user_means"] = means
    if precisions_init is not None:
        covariances = np.broadcast_to(np.eye(n_features), (k_pad, n_features, n_features)).copy()
        covariances[:k] = precisions_to_covariances(precisions_init, covariance_type, k, n_features)
        inputs["user_covariances"] = covariances / prepared.scale**2
    return inputs


def shared_start_covariance(
    data_covariance: np.ndarray, k: int, covariance_type: str
) -> np.ndarray:
    """The covariance every component starts from with ``means_init_only``: data cov / K.

    Its diagonal for "diag" and its mean variance times I for "spherical", so the
    start is a valid parameter of ``covariance_type``.
    """
    covariance = np.asarray(data_covariance, np.float64) / k
    if covariance_type == "diag":
        return np.diag(np.diag(covariance))
    if covariance_type == "spherical":
        return np.trace(covariance) / covariance.shape[0] * np.eye(covariance.shape[0])
    return covariance


def _shared_start_inputs(
    k: int, k_pad: int, prepared: PreparedData, covariance_type: str, reg_covar: float
) -> dict[str, np.ndarray]:
    """Equal weights and the shared start covariance (internal units), padded to k_pad."""
    n_features = prepared.data_covariance.shape[0]
    log_weights = np.full((k_pad,), MASKED_LOG_WEIGHT)
    log_weights[:k] = -math.log(k)
    covariances = np.broadcast_to(np.eye(n_features), (k_pad, n_features, n_features)).copy()
    shared = shared_start_covariance(prepared.data_covariance, k, covariance_type)
    covariances[:k] = shared + reg_covar / prepared.scale**2 * np.eye(n_features)
    return {"user_log_weights": log_weights, "user_covariances": covariances}


def precisions_to_covariances(
    precisions: np.ndarray, covariance_type: str, k: int, n_features: int
) -> np.ndarray:
    """scikit-learn-shaped precisions -> (k, D, D) covariance matrices."""
    precisions = np.asarray(precisions, np.float64)
    expected = {
        "full": (k, n_features, n_features),
        "tied": (n_features, n_features),
        "diag": (k, n_features),
        "spherical": (k,),
    }[covariance_type]
    if precisions.shape != expected:
        raise ValueError(
            f"precisions_init for covariance_type={covariance_type!r} must have shape "
            f"{expected}; got {precisions.shape}."
        )
    if covariance_type == "full":
        return np.linalg.inv(precisions)
    if covariance_type == "tied":
        return np.broadcast_to(np.linalg.inv(precisions), (k, n_features, n_features)).copy()
    if covariance_type == "diag":
        return np.stack([np.diag(1.0 / p) for p in precisions])
    return (1.0 / precisions)[:, None, None] * np.eye(n_features)


def sweep(
    X: object,
    k_min: int,
    k_max: int,
    n_restarts: int,
    *,
    seed: int = 0,
    init_params: str = "k-means++",
    covariance_type: str = "full",
    max_iter: int = 100,
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    snapshots: int = 0,
    dtype: str = "float32",
    chunk_size: int | None = None,
    mesh_shape: tuple[int, int] | None = None,
    progress: Callable[[SweepProgress], None] | None = None,
    restarts_per_call: int | None = None,
    weights_init: object = None,
    means_init: object = None,
    precisions_init: object = None,
    means_init_only: bool = False,
    timeout: float | None = None,
) -> SweepResult:
    """Fit a Gaussian mixture for every K in ``k_min..k_max`` times ``n_restarts`` restarts.

    Parameters
    ----------
    X : (n_samples, n_features) array-like of numbers
    k_min, k_max : the K range, inclusive
    n_restarts : random restarts per K
    seed : restart r of K uses ``fold_in(fold_in(key(seed), K), r)``
    init_params : "kmeans", "k-means++", "random", "random_from_data" or "standard_normal"
    covariance_type : "full", "tied", "diag" or "spherical"
    max_iter, tol, reg_covar : as scikit-learn's GaussianMixture
    snapshots : how many parameter snapshots to keep (≤ 64, log-spaced iterations, 0 first)
    dtype : "float32" (fast) or "float64" for the E step; statistics are always float64
    chunk_size : points per E-step chunk (default: chosen from the number of points)
    mesh_shape : (fit shards, point shards) over ``jax.devices()``; by default restarts
        are spread over the devices first and the remaining factor shards the points
    progress : called with a :class:`SweepProgress` after each slice of restarts; when
        given, the sweep runs in about 8 slices (the same compiled program each time)
    restarts_per_call : restarts per slice (rounded up to a multiple of the fit shards)
    weights_init, means_init, precisions_init : user-given starting values in
        scikit-learn's shapes; only when ``k_min == k_max``. As in scikit-learn,
        ``means_init`` alone replaces only the means: ``init_params`` still draws the
        weights and covariances.
    means_init_only : start from ``means_init`` alone (the teaching start of the app's
        placed means): equal weights 1/K and one shared covariance, the data covariance
        divided by K (its diagonal for "diag", its mean variance for "spherical"), plus
        ``reg_covar``. ``init_params`` and the seed then play no part, so every restart
        is the same fit. Needs ``means_init`` and neither ``weights_init`` nor
        ``precisions_init``. The means are run-time inputs: moving them reuses the
        compiled program.
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
    TimeoutError
        When ``timeout`` seconds pass before the results are ready.
    """
    data = check.as_data_matrix(X)
    n_restarts = check.check_positive_int(n_restarts, "n_restarts")
    max_iter = check.check_positive_int(max_iter, "max_iter")
    tol = check.check_non_negative(tol, "tol")
    reg_covar = check.check_non_negative(reg_covar, "reg_covar")
    init_params = check.check_init_params(init_params)
    covariance_type = check.check_covariance_type(covariance_type)
    if dtype not in ("float32", "float64"):
        raise ValueError(f"Unknown dtype {dtype!r}; choose 'float32' or 'float64'.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}.")
    if snapshots < 0:
        raise ValueError(f"snapshots must be non-negative; got {snapshots!r}.")
    user_given = (weights_init, means_init, precisions_init)
    if any(value is not None for value in user_given) and k_min != k_max:
        raise ValueError("weights_init, means_init and precisions_init need k_min == k_max.")
    if means_init_only and (means_init is None or weights_init is not None):
        raise ValueError("means_init_only needs means_init and no weights_init.")
    if means_init_only and precisions_init is not None:
        raise ValueError("means_init_only takes no precisions_init: the start is shared.")
    if chunk_size is not None:
        chunk_size = check.check_positive_int(chunk_size, "chunk_size")
    if timeout is not None:
        timeout = check.check_non_negative(timeout, "timeout")

    n_devices = len(jax.devices())
    if distributed.is_multi_process():
        mesh_shape = distributed.process_mesh_devices().shape
    elif mesh_shape is None:
        mesh_shape = choose_mesh_shape(n_devices, n_restarts)
    fit_shards, point_shards = mesh_shape
    if fit_shards < 1 or point_shards < 1 or fit_shards * point_shards > n_devices:
        raise ValueError(f"mesh_shape {mesh_shape} needs more than the {n_devices} devices.")
    mesh_shape = (int(fit_shards), int(point_shards))

    k_min, k_max = check.check_k_order(k_min, k_max)
    k_pad = bucket_components(k_max)
    n_k_slots = bucket_components(k_max - k_min + 1)
    prepared = prepare_points(data, dtype, chunk_size, point_shards, n_k_slots * n_restarts * k_pad)
    n_samples, n_features = prepared.n_samples, data.shape[1]
    check.check_enough_points(k_max, n_samples)
    k_values = np.arange(k_min, k_max + 1)
    per_call = _restarts_per_call(n_restarts, fit_shards, restarts_per_call, progress)
    n_calls = int(math.ceil(n_restarts / per_call))
    slot_k = np.full((n_k_slots,), k_max, np.int32)
    slot_k[: len(k_values)] = k_values
    fit_k = np.tile(slot_k, per_call)

    snapshot_at = snapshot_iterations(max_iter, snapshots)
    n_snapshots = min(snapshots, MAX_SNAPSHOTS)
    padded_snapshots = np.full((n_snapshots,), max_iter, np.int32)
    padded_snapshots[: len(snapshot_at)] = snapshot_at
    inputs: dict[str, Any] = {
        "max_iter": np.int32(max_iter),
        "snapshot_iterations": padded_snapshots,
        "point_chunks": prepared.point_chunks,
        "mask_chunks": prepared.mask_chunks,
        "shard_counts": prepared.shard_counts,
        "n_valid": np.float64(n_samples),
        "fit_k": fit_k,
        "fit_restart": np.repeat(np.arange(per_call, dtype=np.int32), n_k_slots),
        "seed": np.int64(seed),
        "init_index": np.int32(INIT_METHODS.index(init_params)),
        "tol": np.float64(tol),
        "reg_covar": np.float64(reg_covar / prepared.scale**2),
        "data_covariance": prepared.data_covariance,
        "shift": prepared.shift,
        "scale": np.float64(prepared.scale),
        "feature_bounds": feature_bounds(prepared.reach, covariance_type),
    }
    inputs.update(
        _user_init_inputs(
            k_max,
            n_features,
            k_pad,
            prepared,
            covariance_type,
            None if weights_init is None else np.asarray(weights_init, np.float64),
            None if means_init is None else np.asarray(means_init, np.float64),
            precisions_init,
        )
    )
    user_init = tuple(value is not None for value in user_given)
    if means_init_only:
        inputs.update(_shared_start_inputs(k_max, k_pad, prepared, covariance_type, reg_covar))
        user_init = (True, True, True)
    config = ProgramConfig(
        n_chunks=prepared.point_chunks.shape[0],
        chunk_size=prepared.point_chunks.shape[1],
        n_features=n_features,
        k_pad=k_pad,
        n_fits=len(fit_k),
        trace_length=bucket_iterations(max_iter),
        init_params=NO_INIT if user_init == (True, True, True) else _program_init(init_params),
        covariance_type=covariance_type,
        compute_dtype=dtype,
        n_snapshots=n_snapshots,
        user_init=user_init,
        mesh_shape=mesh_shape,
        pool_size=min(POOL_SIZE, bucket_points(n_samples)),
    )
    pieces = []
    compile_seconds = 0.0
    started = time.perf_counter()
    deadline = None if timeout is None else started + timeout
    with jax.enable_x64(True):
        for call in range(n_calls):
            first_restart = call * per_call
            restarts = np.arange(first_restart, first_restart + per_call, dtype=np.int32)
            inputs["fit_restart"] = np.repeat(restarts, n_k_slots)
            call_inputs = _placed(inputs, mesh_shape)
            program, seconds = PROGRAMS.get(config, call_inputs)
            compile_seconds += seconds
            outputs = wait_until_ready(program(call_inputs), deadline, timeout)
            if distributed.is_multi_process():
                outputs = distributed.gather_outputs(outputs)
            pieces.append(jax.device_get(outputs))
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
    return _assemble(
        outputs,
        prepared,
        config._replace(init_params=init_params),
        k_values,
        n_restarts,
        seed,
        max_iter,
        snapshot_at,
        compile_seconds,
        run_seconds,
        tol,
        reg_covar,
    )


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
    return outputs


def _assemble(
    outputs: dict[str, Any],
    prepared: PreparedData,
    config: ProgramConfig,
    k_values: np.ndarray,
    n_restarts: int,
    seed: int,
    max_iter: int,
    snapshot_at: tuple[int, ...],
    compile_seconds: float,
    run_seconds: float,
    tol: float = 0.0,
    reg_covar: float = 1e-6,
) -> SweepResult:
    n_k = len(k_values)
    n_slots = bucket_components(n_k)

    def grid(array: np.ndarray) -> np.ndarray:
        array = np.asarray(array)
        shaped = array.reshape((array.shape[0] // n_slots, n_slots) + array.shape[1:])
        return np.swapaxes(shaped[:n_restarts, :n_k], 0, 1)

    scale, shift = prepared.scale, prepared.shift
    n_features = config.n_features

    def to_original(params: MixtureParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        log_weights = grid(params.log_weights)
        weights = np.where(log_weights > 0.5 * MASKED_LOG_WEIGHT, np.exp(log_weights), 0.0)
        # Initial weights are scikit-learn's mass / n (see gmm_core.init); shown normalised.
        weights = weights / np.maximum(weights.sum(axis=-1, keepdims=True), 1e-300)
        means = grid(params.means) * scale + shift
        covariances = grid(params.covariances) * scale**2
        return weights, means, covariances

    log_scale = n_features * math.log(scale)
    weights, means, covariances = to_original(outputs["final"])
    initial_weights, initial_means, initial_covariances = to_original(outputs["initial"])
    snap_weights, snap_means, snap_covariances = (
        array[:, :, : len(snapshot_at)] for array in to_original(outputs["snapshots"])
    )
    final_log_likelihood = grid(outputs["final_log_likelihood"]) - log_scale
    total = final_log_likelihood * prepared.n_samples
    criterion_args = (k_values[:, None], n_features, prepared.n_samples, config.covariance_type)
    return SweepResult(
        k_values=k_values,
        seed=seed,
        covariance_type=config.covariance_type,
        init_params=config.init_params,
        n_samples=prepared.n_samples,
        n_features=n_features,
        log_likelihood=grid(outputs["log_likelihood"])[..., :max_iter] - log_scale,
        final_log_likelihood=final_log_likelihood,
        n_iter=grid(outputs["n_iter"]).astype(int),
        converged=grid(outputs["converged"]).astype(bool),
        weights=weights,
        means=means,
        covariances=covariances,
        initial_weights=initial_weights,
        initial_means=initial_means,
        initial_covariances=initial_covariances,
        snapshot_iterations=np.asarray(snapshot_at, int),
        snapshot_weights=snap_weights,
        snapshot_means=snap_means,
        snapshot_covariances=snap_covariances,
        bic=np.asarray(bic(total, *criterion_args)),
        aic=np.asarray(aic(total, *criterion_args)),
        failed=grid(outputs["failed"]).astype(bool),
        stuck=stuck_fits(weights, means, covariances) & ~grid(outputs["failed"]).astype(bool),
        e_step_float64=grid(outputs["e_step_reasons"]) > 0,
        e_step_reasons=grid(outputs["e_step_reasons"]).astype(int),
        float32_noise=grid(outputs["float32_noise"]).astype(np.float64),
        tol=float(tol),
        reg_covar=float(reg_covar),
        compile_seconds=compile_seconds,
        run_seconds=run_seconds,
    )
