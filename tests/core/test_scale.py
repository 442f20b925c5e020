"""Data sharded over a mesh of fits × points: results do not depend on the layout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.support.subprocesses import run_python

ROOT = Path(__file__).resolve().parents[2]

LAYOUT_SCRIPT = """
import json, jax, numpy as np
from gmm_core import sweep
rng = np.random.default_rng(0)
centres = np.array([[-4.0, -4.0], [4.0, 4.0], [-4.0, 4.0], [4.0, -4.0]])
X = np.concatenate([c + rng.normal(size=(10_001, 2)) for c in centres])  # above the pool size
n = len(jax.devices())
shapes = {"auto": None, "points": (1, n), "fits": (n, 1)}
if n >= 4:
    shapes["mixed"] = (2, n // 2)
out = {}
for name, shape in shapes.items():
    r = sweep(X, 1, 4, 2, seed=5, mesh_shape=shape, max_iter=25, chunk_size=1024)
    out[name] = {"ll": r.final_log_likelihood.tolist(), "means": r.final.means.tolist(),
                 "n_iter": r.n_iter.tolist()}
print(json.dumps(out))
"""


def _run(devices: int) -> dict:
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", LAYOUT_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def single_device() -> dict:
    return _run(1)["auto"]


@pytest.mark.slow
@pytest.mark.parametrize("devices", [2, 4, 8])
def test_points_sharded_over_devices_agree(devices: int, single_device: dict) -> None:
    layouts = _run(devices)
    assert "points" in layouts and "fits" in layouts
    for name, result in layouts.items():
        np.testing.assert_allclose(
            result["ll"], single_device["ll"], rtol=1e-5, atol=1e-5, err_msg=name
        )
        np.testing.assert_allclose(
            result["means"], single_device["means"], rtol=1e-4, atol=1e-4, err_msg=name
        )
        assert result["n_iter"] == single_device["n_iter"], name


HOST_SCRIPT = """
import json, sys
import numpy as np
rank, n_processes, port = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
import gmm_core.distributed
if n_processes > 1:
    gmm_core.distributed.initialize(f"127.0.0.1:{port}", n_processes, rank)
from gmm_core import sweep
rng = np.random.default_rng(0)
centres = np.array([[-4.0, -4.0], [4.0, 4.0], [-4.0, 4.0], [4.0, -4.0]])
X = np.concatenate([c + rng.normal(size=(1001, 2)) for c in centres])
rng.shuffle(X)
share = np.array_split(X, n_processes)[rank]
r = sweep(share, 1, 4, 3, seed=5, max_iter=40)
print(json.dumps({"ll": r.final_log_likelihood.tolist(), "means": r.final.means.tolist(),
                  "n": r.n_samples, "local": len(share)}))
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_processes_on_loopback_agree_with_one() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), XLA_FLAGS="")
    port = str(_free_port())
    command = [sys.executable, "-c", HOST_SCRIPT]
    processes = [
        subprocess.Popen(
            [*command, str(rank), "2", port],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(2)
    ]
    try:
        outputs = [process.communicate(timeout=300) for process in processes]
    finally:
        for process in processes:
            process.kill()
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr[-3000:]
    hosts = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]
    single = subprocess.run(
        [*command, "0", "1", "0"], env=env, capture_output=True, text=True, timeout=300
    )
    assert single.returncode == 0, single.stderr[-3000:]
    alone = json.loads(single.stdout.strip().splitlines()[-1])

    assert [h["local"] for h in hosts] == [2002, 2002] and alone["n"] == hosts[0]["n"] == 4004
    np.testing.assert_allclose(hosts[0]["ll"], hosts[1]["ll"], rtol=0, atol=0)
    np.testing.assert_allclose(hosts[0]["ll"], alone["ll"], rtol=1e-5)
    np.testing.assert_allclose(hosts[0]["means"], alone["means"], rtol=1e-4, atol=1e-4)


CACHE_SCRIPT = """
import sys, time
from gmm_core.compilation_cache import enable_compilation_cache
enable_compilation_cache(sys.argv[1])
import numpy as np
from gmm_core import sweep
X = np.random.default_rng(0).normal(size=(1500, 2))
started = time.perf_counter()
result = sweep(X, 1, 4, 4, seed=0)
print(time.perf_counter() - started, result.compile_seconds)
"""


@pytest.mark.slow
def test_persistent_cache_skips_compilation_after_a_restart(
    tmp_path: Path, record_property
) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    timings = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", CACHE_SCRIPT, str(tmp_path / "cache")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        timings.append([float(v) for v in done.stdout.split()])
    (cold_first_fit, cold_compile), (warm_first_fit, warm_compile) = timings
    record_property(
        "figure",
        f"first fit: cold cache {cold_first_fit:.2f} s (compile {cold_compile:.2f} s), "
        f"warm cache {warm_first_fit:.2f} s (compile {warm_compile:.2f} s)",
    )
    assert any((tmp_path / "cache").iterdir()), "nothing was written to the cache"
    assert warm_compile < 0.5 * cold_compile


def test_progress_reports_slices_and_changes_nothing() -> None:
    from gmm_core import sweep

    X = np.random.default_rng(1).normal(size=(1200, 2))
    whole = sweep(X, 1, 3, 5, seed=2)
    reports = []
    sliced = sweep(X, 1, 3, 5, seed=2, progress=reports.append, restarts_per_call=2)
    assert [r.restarts_done for r in reports] == [2, 4, 5]
    assert reports[-1].fraction == 1.0 and reports[-1].remaining_seconds == 0.0
    assert all(r.remaining_seconds >= 0 for r in reports)
    # Slices batch the fits differently, so float32 sums may round differently.
    np.testing.assert_allclose(whole.final_log_likelihood, sliced.final_log_likelihood, rtol=1e-6)
    np.testing.assert_array_equal(whole.n_iter, sliced.n_iter)


def test_a_slice_larger_than_the_restarts_is_padded_and_serves_every_count() -> None:
    from gmm_core import compilation_count, sweep

    X = np.random.default_rng(1).normal(size=(1200, 2))
    whole = sweep(X, 1, 3, 5, seed=2)
    reports = []
    padded = sweep(X, 1, 3, 5, seed=2, progress=reports.append, restarts_per_call=8)
    assert [r.restarts_done for r in reports] == [5]  # one call, the padding dropped
    assert padded.final_log_likelihood.shape == whole.final_log_likelihood.shape == (3, 5)
    np.testing.assert_allclose(whole.final_log_likelihood, padded.final_log_likelihood, rtol=1e-6)
    np.testing.assert_array_equal(whole.n_iter, padded.n_iter)
    compiled = compilation_count()
    for n_restarts in (1, 3, 8):
        assert sweep(X, 1, 3, n_restarts, seed=2, restarts_per_call=8).n_restarts == n_restarts
    assert compilation_count() == compiled  # one program for every count up to 8


def test_with_little_memory_free_every_restart_count_still_shares_one_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gmm_core import buckets, compilation_count, sweep

    monkeypatch.setattr(buckets, "available_memory_bytes", lambda: 60 * 2**20)
    X = np.random.default_rng(1).normal(size=(1200, 2))
    sweep(X, 1, 3, 1, seed=2, restarts_per_call=8)
    compiled = compilation_count()
    for n_restarts in (3, 5, 8):  # the E step's chunk follows the fits of one call
        sweep(X, 1, 3, n_restarts, seed=2, restarts_per_call=8)
    assert compilation_count() == compiled


TWO_DEVICE_COUNTS = """
import numpy as np
from gmm_core import compilation_count, sweep
import jax
X = np.random.default_rng(1).normal(size=(1200, 2))
for n_restarts in (1, 3, 8):
    sweep(X, 1, 3, n_restarts, seed=2, restarts_per_call=8)
print(len(jax.devices()), compilation_count())
"""


def test_on_two_devices_one_restart_shares_the_slices_program() -> None:
    # One restart alone would get a mesh of (1 fit shard, 2 point shards), the others (2, 1).
    flags = "--xla_force_host_platform_device_count=2"
    said = run_python(["-c", TWO_DEVICE_COUNTS], {"XLA_FLAGS": flags}, timeout=300)
    assert said.split()[-2:] == ["2", "1"]


def test_estimates_grow_with_the_work() -> None:
    from gmm_core import FitSettings
    from gmm_core.budget import estimate_sweep

    small = estimate_sweep(2_000, 2, FitSettings(1, 6, 8))
    large = estimate_sweep(1_000_000, 2, FitSettings(1, 6, 8))
    assert 0 < small.seconds < 1 and not small.needs_confirmation
    assert large.seconds > 100 * small.seconds and large.needs_confirmation
    assert large.peak_bytes > small.peak_bytes > 0
