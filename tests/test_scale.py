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
