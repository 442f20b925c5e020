"""Data sharded over a mesh of fits × points: results do not depend on the layout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

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
    out[name] = {"ll": r.final_log_likelihood.tolist(), "means": r.means.tolist(),
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
print(json.dumps({"ll": r.final_log_likelihood.tolist(), "means": r.means.tolist(),
                  "n": r.n_samples, "local": len(share)}))
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
