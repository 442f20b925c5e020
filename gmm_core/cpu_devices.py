"""One JAX CPU device per core, asked for explicitly by the app and the benchmark.

XLA runs one CPU device's element-wise work on one thread, so a sweep whose mesh
(:mod:`gmm_core.device_mesh`) spans a device per core runs its restarts on every core;
results do not depend on the device count. ``import gmm_core`` configures nothing: a
program that wants the devices calls :func:`use_cpu_cores` before JAX starts.

Must not import streamlit, plotly, gmm_figures or gmm_app (``tests/test_layers.py``).
"""

from __future__ import annotations

import contextlib
import os

import jax

_XLA_DEVICE_COUNT = "--xla_force_host_platform_device_count="


def use_cpu_cores(n: int | None = None) -> None:
    """Ask JAX for ``n`` CPU devices (default: one per core this process may run on).

    Sets JAX's ``jax_num_cpu_devices``, which only takes effect before JAX starts its
    backend (the first array or ``jax.devices()`` call); afterwards JAX keeps the devices
    it has and this does nothing. With ``n`` None, a count the user already chose
    (``JAX_NUM_CPU_DEVICES``, or the device-count flag in ``XLA_FLAGS``) is kept. Nothing
    is inherited by child processes: each calls this itself.
    """
    if n is None:
        chosen = jax.config.jax_num_cpu_devices >= 0
        if chosen or _XLA_DEVICE_COUNT in os.environ.get("XLA_FLAGS", ""):
            return
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with contextlib.suppress(RuntimeError):  # JAX has started: its devices stay as they are
        jax.config.update("jax_num_cpu_devices", max(int(n or 1), 1))
