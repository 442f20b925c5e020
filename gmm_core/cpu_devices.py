"""One JAX CPU device per core by default, so a sweep's fits run on every core.

XLA runs one CPU device's element-wise work on one thread. :func:`default_device_setup`
(what ``import gmm_core`` does) and :func:`use_every_cpu_core` set
``--xla_force_host_platform_device_count`` before JAX starts, so that the sweep's mesh
(:mod:`gmm_core.device_mesh`) spreads restarts over the cores.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import os
import warnings

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
