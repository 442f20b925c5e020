"""Every legal sweep shape finishes: a grid of shapes, each in its own process with a timeout.

A hang (as batched LAPACK calls caused on jaxlib 0.10.2) fails its case instead of
stalling the suite. The grid covers D up to 64, K ranges up to the app's maximum (12),
1, 2 and 8 restarts, 1 and 2 devices, the four covariance types and both E-step
dtypes: each D runs once per device count, and the other axes cycle so that every
value of every axis meets both device counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gmm_core import COVARIANCE_TYPES

ROOT = Path(__file__).resolve().parents[2]
DIMENSIONS = (1, 2, 3, 8, 12, 16, 24, 32, 64)
APP_MAX_K = 12
#: (k_min, k_max, restarts) for one device, cycled; two devices always run the app's
#: largest default grid (K = 1..12, 8 restarts), the shape of the reported hang.
ONE_DEVICE_SHAPES = ((12, 12, 2), (1, APP_MAX_K, 8), (6, APP_MAX_K, 1), (1, 4, 2))
CASE_TIMEOUT_SECONDS = 240

CASE_SCRIPT = """
import json, sys
import numpy as np
import gmm_core
case = json.loads(sys.argv[1])
X = np.random.default_rng(case["dim"]).normal(size=(case["n"], case["dim"]))
result = gmm_core.sweep(
    X, case["k_min"], case["k_max"], case["restarts"], covariance_type=case["covariance"],
    dtype=case["dtype"], max_iter=3, seed=0,
)
assert np.all(np.isfinite(result.final_log_likelihood)), "non-finite log-likelihood"
print(json.dumps({"compile": result.compile_seconds, "run": result.run_seconds}))
"""


def grid_cases() -> list[dict[str, object]]:
    cases = []
    for index, dim in enumerate(DIMENSIONS):
        for devices in (1, 2):
            number = 2 * index + devices - 1
            k_min, k_max, restarts = (
                ONE_DEVICE_SHAPES[index % len(ONE_DEVICE_SHAPES)]
                if devices == 1
                else (1, APP_MAX_K, 8)
            )
            cases.append(
                {
                    "dim": dim,
                    "devices": devices,
                    "k_min": k_min,
                    "k_max": k_max,
                    "restarts": restarts,
                    "covariance": COVARIANCE_TYPES[(number // 2 + devices) % 4],
                    "dtype": ("float32", "float64")[(number // 4 + devices) % 2],
                    "n": 200,
                }
            )
    return cases


def run_case(case: dict[str, object]) -> tuple[dict[str, object], str, float]:
    """Run one case in a fresh process; returns (case, outcome, seconds)."""
    env = dict(
        os.environ,
        XLA_FLAGS=f"--xla_force_host_platform_device_count={case['devices']}",
        GMM_COMPILATION_CACHE="",
        PYTHONPATH=str(ROOT),
    )
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", CASE_SCRIPT, json.dumps(case)],
            env=env,
            capture_output=True,
            text=True,
            timeout=CASE_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return case, f"hung: no result in {CASE_TIMEOUT_SECONDS} s", time.perf_counter() - started
    outcome = "ok" if done.returncode == 0 else f"failed: {done.stderr.strip()[-400:]}"
    return case, outcome, time.perf_counter() - started


@pytest.mark.slow
def test_every_shape_of_the_grid_finishes(record_property) -> None:
    cases = grid_cases()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(run_case, cases))
    problems = [f"{case}: {outcome}" for case, outcome, _ in outcomes if outcome != "ok"]
    slowest = max(seconds for _, _, seconds in outcomes)
    record_property(
        "figure",
        f"{len(cases)} shapes in their own processes, {time.perf_counter() - started:.0f} s "
        f"in all, slowest case {slowest:.0f} s",
    )
    assert not problems, "\n".join(problems)


def test_the_grid_covers_every_value_of_every_axis() -> None:
    cases = grid_cases()
    for devices in (1, 2):
        mine = [case for case in cases if case["devices"] == devices]
        assert {case["dim"] for case in mine} == set(DIMENSIONS)
        assert {case["covariance"] for case in mine} == set(COVARIANCE_TYPES)
        assert {case["dtype"] for case in mine} == {"float32", "float64"}
    assert {case["restarts"] for case in cases} == {1, 2, 8}
    assert max(case["k_max"] for case in cases) == APP_MAX_K
