"""The library's speed as a user meets it: one CPU device per core, workloads (a)-(c).

The benchmark (``python -m gmm_core.bench``) prints the full table. These tests run its
workload (a) (2,000 points in 2-D, K = 1..6, 8 restarts, 100 iterations) in a fresh
interpreter with no ``XLA_FLAGS`` and ``use_cpu_cores()`` called, beside scikit-learn's
``GaussianMixture`` on the same data, and the benchmark's own command for (b) and (c);
they print the times. The bounds are loose: a test fails only when gmm_core is many
times slower than the benchmark's figures (tests share the CPU, so the figures printed
here differ from an idle machine's, in either direction).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json
import jax
from gmm_core.cpu_devices import use_cpu_cores
use_cpu_cores()  # first: one CPU device per core, as the benchmark asks for
from gmm_core import bench

workload = bench.WORKLOADS["a"]
X = bench.blobs(workload.n_samples, workload.n_features)
compile_seconds, ours = bench.time_gmm_core(workload, X, repeats=3)
theirs = bench.time_sklearn(workload, X)
print(json.dumps({"devices": len(jax.devices()), "compile": compile_seconds,
                  "ours": ours, "theirs": theirs}))
"""


def _user_env() -> dict[str, str]:
    """This environment without the device settings: what a user's shell gives."""
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES")}
    return {**env, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}


@pytest.mark.slow
def test_workload_a_is_fast_with_a_device_per_core(
    record_property: Callable[[str, object], None],
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=_user_env(), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    ours, theirs = figures["ours"], figures["theirs"]
    text = (
        f"(a) with use_cpu_cores() ({figures['devices']} CPU devices): gmm_core "
        f"{ours:.3f} s (best of 3 warm, compile {figures['compile']:.1f} s), "
        f"scikit-learn {theirs:.2f} s: {theirs / ours:.1f}×"
    )
    print(f"\n{text}")
    record_property("figure", text)
    assert figures["devices"] == len(os.sched_getaffinity(0))
    assert ours < 1.0, text
    assert theirs / ours > 5.0, text


@pytest.mark.slow
def test_workloads_b_and_c_beside_scikit_learn(
    record_property: Callable[[str, object], None],
) -> None:
    """The benchmark's own command for (b) and (c), as a user runs it (one warm run each)."""
    done = subprocess.run(
        [sys.executable, "-m", "gmm_core.bench", "b", "c", "--repeats", "1"],
        env=_user_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith(("(  b)", "(  c)"))]
    assert len(rows) == 2, done.stdout
    for row in rows:
        text = f"python -m gmm_core.bench b c --repeats 1: {' '.join(row.split())}"
        print(f"\n{text}")
        record_property("figure", text)
        ratio = float(row.rsplit("|", 1)[1].strip().rstrip("×"))
        assert ratio > 5.0, row
