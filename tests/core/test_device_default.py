"""CPU devices: ``import gmm_core`` configures nothing; the app asks JAX for one per core."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.support.subprocesses import ROOT

CORES = len(os.sched_getaffinity(0))

SCRIPT = """
import json, os, sys
before = dict(os.environ)
if sys.argv[1] == "jax-first":
    import jax
    jax.devices()
import gmm_core, jax
from gmm_core.cpu_devices import use_cpu_cores
if sys.argv[2] != "none":
    use_cpu_cores(None if sys.argv[2] == "auto" else int(sys.argv[2]))
devices = len(jax.devices())
print(json.dumps({"devices": devices, "environment_kept": dict(os.environ) == before,
                  "flags": os.environ.get("XLA_FLAGS")}))
"""


def _devices(ask: str, order: str = "gmm-first", **env: str) -> dict:
    """Run :data:`SCRIPT` in a fresh process without the shell's device settings."""
    clean = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES")}
    clean.update(PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu", **env)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, order, ask], env=clean, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_gmm_core_leaves_the_environment_and_jax_alone() -> None:
    assert _devices("none") == {"devices": 1, "environment_kept": True, "flags": None}
    flags = "--xla_cpu_enable_fast_math=false"
    said = _devices("none", XLA_FLAGS=flags)
    assert said == {"devices": 1, "environment_kept": True, "flags": flags}


def test_use_cpu_cores_asks_for_one_device_per_core_or_a_count() -> None:
    assert _devices("auto") == {"devices": CORES, "environment_kept": True, "flags": None}
    assert _devices("3")["devices"] == 3


def test_a_count_the_user_chose_is_kept() -> None:
    assert _devices("auto", JAX_NUM_CPU_DEVICES="3")["devices"] == 3
    flags = "--xla_force_host_platform_device_count=3"
    assert _devices("auto", XLA_FLAGS=flags) == {
        "devices": 3,
        "environment_kept": True,
        "flags": flags,
    }


def test_nothing_changes_once_jax_has_started() -> None:
    assert _devices("3", order="jax-first")["devices"] == 1


def device_count(points: np.ndarray, progress: object = None, **options: object) -> int:
    """A worker target: the number of JAX devices the worker process has."""
    import jax

    return jax.device_count()


@pytest.mark.skipif(CORES < 2, reason="one core: one device either way")
def test_each_sweep_worker_asks_for_its_own_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    from gmm_app.sweep_workers import WorkerPool

    monkeypatch.delenv("XLA_FLAGS", raising=False)
    monkeypatch.delenv("JAX_NUM_CPU_DEVICES", raising=False)
    monkeypatch.setenv("GMM_COMPILATION_CACHE", "")
    pool = WorkerPool(1, target=f"{__name__}:device_count")
    try:
        assert pool.run(np.zeros((4, 2)), {}, deadline_after=60) == CORES
    finally:
        pool.close()
