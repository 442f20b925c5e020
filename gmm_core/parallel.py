"""How a sweep is laid out over devices: a mesh of fits × points.

Fits (restart, K) are split over the ``fits`` axis and need no communication. Points
are split over the ``points`` axis; each device sums the sufficient statistics of
its own points and ``psum`` adds them up. Every quantity that depends on the data
layout is computed from *global* indices (chunk numbers, sampled point indices), so
results do not depend on how many devices share the work.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import os
import warnings

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


DEVICE_COUNT_FLAG = "--xla_force_host_platform_device_count"
#: Environment variable read by ``import gmm_core``: "auto" (default, one CPU device per
#: core), a number of CPU devices, or 1 / 0 / "off" to leave JAX's device setup alone.
DEVICES_VARIABLE = "GMM_CPU_DEVICES"


def cpu_core_count() -> int:
    """Cores this process may run on (its CPU affinity where the system reports it)."""
    n_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(int(n_cores or 1), 1)


def requested_device_count(flags: str) -> int | None:
    """The CPU device count ``flags`` (an ``XLA_FLAGS`` value) sets, or None."""
    for flag in flags.split():
        if flag.startswith(DEVICE_COUNT_FLAG + "="):
            return int(flag.split("=", 1)[1])
    return None


def use_every_cpu_core() -> int:
    """Expose each CPU core as a JAX device, so restarts run on all cores in parallel.

    XLA runs one device's element-wise work on one thread; with a device per core the
    sweep's fits are split over the cores (results do not change, see the module
    docstring). This sets ``XLA_FLAGS`` and so only takes effect when called before
    JAX starts its backend (the first array or ``jax.devices()`` call). A device count
    the user already chose in ``XLA_FLAGS`` is kept.

    Returns
    -------
    The number of CPU devices asked for.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    chosen = requested_device_count(flags)
    if chosen is not None:
        return chosen
    n_cores = cpu_core_count()
    os.environ["XLA_FLAGS"] = f"{flags} {DEVICE_COUNT_FLAG}={n_cores}".strip()
    return n_cores


def jax_backend_started() -> bool:
    """Whether JAX has created its devices (then ``XLA_FLAGS`` no longer has effect).

    Asks JAX's ``xla_bridge``; if that private function is gone, answers True, so
    nothing is changed behind the user's back.
    """
    try:
        from jax._src import xla_bridge

        return bool(xla_bridge.backends_are_initialized())
    except (ImportError, AttributeError):
        return True


def default_device_setup() -> int | None:
    """What ``import gmm_core`` does: one CPU device per core, unless told otherwise.

    Sets the device-count flag in ``XLA_FLAGS`` (see :func:`use_every_cpu_core`) only
    when all of these hold: :data:`DEVICES_VARIABLE` is unset or "auto" (a number
    N > 1 asks for N devices instead), ``XLA_FLAGS`` has no device count yet, and JAX
    has not started its backend. The flag only adds host (CPU) devices; child
    processes inherit it through the environment.

    Returns
    -------
    The device count set, or None when nothing was changed.
    """
    setting = os.environ.get(DEVICES_VARIABLE, "auto").strip().lower()
    if setting in ("0", "1", "off", "false", "no"):
        return None
    if setting in ("", "auto"):
        wanted = cpu_core_count()
    elif setting.isdigit():
        wanted = int(setting)
    else:
        warnings.warn(
            f"{DEVICES_VARIABLE}={setting!r} is not 'auto', a number of CPU devices or 1 "
            "(off); JAX's device setup is left as it is.",
            stacklevel=3,
        )
        return None
    flags = os.environ.get("XLA_FLAGS", "")
    if wanted <= 1 or requested_device_count(flags) is not None or jax_backend_started():
        return None
    os.environ["XLA_FLAGS"] = f"{flags} {DEVICE_COUNT_FLAG}={wanted}".strip()
    return wanted
