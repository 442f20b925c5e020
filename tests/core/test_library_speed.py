"""The library's speed as a user meets it: ``import gmm_core``, no flags, workload (a).

The benchmark (``python -m gmm_core.bench``) prints the full table; this test runs its
workload (a) (2,000 points in 2-D, K = 1..6, 8 restarts, 100 iterations) in a fresh
interpreter with no ``XLA_FLAGS`` and no ``GMM_CPU_DEVICES``, beside scikit-learn's
``GaussianMixture`` on the same data, and prints both times. The bounds are loose: the
test fails only when the default is many times slower than the benchmark's figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from gmm_core.cpu_devices import DEVICES_VARIABLE, cpu_core_count

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json
import gmm_core  # first: the library's default device setup, as a user gets it
import jax
from gmm_core import bench

workload = bench.WORKLOADS["a"]
X = bench.blobs(workload.n_samples, workload.n_features)
compile_seconds, ours = bench.time_gmm_core(workload, X, repeats=3)
theirs = bench.time_sklearn(workload, X)
print(json.dumps({"devices": len(jax.devices()), "compile": compile_seconds,
                  "ours": ours, "theirs": theirs}))
"""


def test_workload_a_is_fast_with_the_library_defaults(
    record_property: Callable[[str, object], None],
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", DEVICES_VARIABLE)}
    env.update(PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    ours, theirs = figures["ours"], figures["theirs"]
    text = (
        f"(a) with the library's defaults ({figures['devices']} CPU devices): gmm_core "
        f"{ours:.3f} s (best of 3 warm, compile {figures['compile']:.1f} s), "
        f"scikit-learn {theirs:.2f} s: {theirs / ours:.1f}×"
    )
    print(f"\n{text}")
    record_property("figure", text)
    assert figures["devices"] == max(cpu_core_count(), 1)
    assert ours < 1.0, text
    assert theirs / ours > 5.0, text
