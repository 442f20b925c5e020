"""The sweep: shapes, masking, keys, snapshots, device counts and compilations."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gmm_core
from gmm_core import PRESETS, sweep
from gmm_core.density import predict_labels
from gmm_core.sweep import bucket_components, bucket_points, snapshot_iterations

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    return PRESETS["four_blobs"].sample(n=2000, seed=0)


@pytest.fixture(scope="module")
def result(blobs: tuple[np.ndarray, np.ndarray]) -> gmm_core.SweepResult:
    return sweep(blobs[0], 1, 6, 5, seed=3, snapshots=16)


def test_shapes_and_padding(result: gmm_core.SweepResult) -> None:
    n_k, n_restarts, k_pad = 6, 5, bucket_components(6)
    assert result.k_values.tolist() == [1, 2, 3, 4, 5, 6]
    assert result.log_likelihood.shape == (n_k, n_restarts, 100)
    assert result.n_iter.shape == result.converged.shape == (n_k, n_restarts)
    assert result.final.weights.shape == (n_k, n_restarts, k_pad)
    assert result.final.means.shape == (n_k, n_restarts, k_pad, 2)
    assert result.final.covariances.shape == (n_k, n_restarts, k_pad, 2, 2)
    assert result.bic.shape == result.aic.shape == (n_k, n_restarts)
    for row, k in enumerate(result.k_values):
        assert np.all(result.final.weights[row, :, k:] == 0), (
            "padded components must have no weight"
        )
        np.testing.assert_allclose(result.final.weights[row, :, :k].sum(-1), 1.0, atol=1e-6)
        assert np.all(result.final.weights[row, :, :k] > 0)


def test_trace_is_held_after_convergence(result: gmm_core.SweepResult) -> None:
    for row in range(len(result.k_values)):
        for restart in range(result.n_restarts):
            n_iter = result.n_iter[row, restart]
            trace = result.log_likelihood[row, restart]
            assert np.all(trace[n_iter - 1 :] == trace[n_iter - 1])
            if result.converged[row, restart]:
                assert abs(trace[n_iter - 1] - trace[n_iter - 2]) < 1e-3
                assert n_iter < 100


def test_bic_picks_true_k_on_four_blobs(result: gmm_core.SweepResult) -> None:
    assert result.best_k() == 4
    best = result.mixture(4)
    assert best.means.shape == (4, 2)
    matched = gmm_core.match_components(PRESETS["four_blobs"].means, best.means)
    assert np.max(matched.cost) < 0.2


def test_bic_matches_its_definition(result: gmm_core.SweepResult) -> None:
    p = np.array([gmm_core.n_parameters(int(k), 2, "full") for k in result.k_values])[:, None]
    total = result.final_log_likelihood * result.n_samples
    np.testing.assert_allclose(result.bic, -2 * total + p * np.log(result.n_samples))
    np.testing.assert_allclose(result.aic, -2 * total + 2 * p)


def test_snapshots_follow_the_iterations(result: gmm_core.SweepResult) -> None:
    iterations = result.snapshot_iterations
    assert iterations[0] == 0 and len(iterations) <= 16
    assert np.all(np.diff(iterations) > 0)
    np.testing.assert_allclose(result.snapshots.means[:, :, 0], result.initial.means)
    np.testing.assert_allclose(result.snapshots.means[:, :, -1], result.final.means, atol=1e-9)
    assert result.snapshots.covariances.shape[2] == len(iterations)


def test_a_fit_settings_record_and_its_fields_give_the_same_sweep(
    blobs: tuple[np.ndarray, np.ndarray],
) -> None:
    settings = gmm_core.FitSettings(2, 3, 2, seed=5, max_iter=20, snapshots=3)
    by_record = sweep(blobs[0], settings)
    by_fields = sweep(blobs[0], 2, 3, 2, seed=5, max_iter=20, snapshots=3)
    assert by_record.settings is settings and by_fields.settings == settings
    np.testing.assert_array_equal(by_record.final.means, by_fields.final.means)
    assert sweep(blobs[0], settings, seed=6).settings == settings.replace(seed=6)
    with pytest.raises(ValueError, match="n_restarts"):
        sweep(blobs[0], 2, 3)
    with pytest.raises(ValueError, match="not beside it"):
        sweep(blobs[0], settings, 4)


@pytest.mark.slow
def test_restart_keys_do_not_depend_on_the_range(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    wide = sweep(blobs[0], 1, 6, 4, seed=11)
    narrow = sweep(blobs[0], 3, 4, 2, seed=11)
    for k in (3, 4):
        np.testing.assert_allclose(
            narrow.final_log_likelihood[narrow.k_index(k)],
            wide.final_log_likelihood[wide.k_index(k), :2],
            rtol=1e-5,
        )


def test_different_seeds_give_different_fits(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    first = sweep(blobs[0], 5, 6, 3, seed=1)
    second = sweep(blobs[0], 5, 6, 3, seed=2)
    assert not np.allclose(first.initial.means, second.initial.means)


@pytest.mark.parametrize("init_params", gmm_core.INIT_METHODS)
@pytest.mark.parametrize("covariance_type", gmm_core.COVARIANCE_TYPES)
def test_every_init_and_covariance_type_fits(
    blobs: tuple[np.ndarray, np.ndarray], init_params: str, covariance_type: str
) -> None:
    X, y = blobs
    result = sweep(
        X[:600], 4, 4, 3, seed=0, init_params=init_params, covariance_type=covariance_type
    )
    assert np.all(np.isfinite(result.final_log_likelihood))
    assert np.all(np.isfinite(result.final.covariances))
    best = result.mixture(4)
    labels = predict_labels(X[:600], best.weights, best.means, best.covariances)
    if init_params in ("kmeans", "k-means++", "random_from_data"):
        assert gmm_core.adjusted_rand_index(y[:600], labels) > 0.9
    # random responsibilities start every mean near the data mean; EM may stop early there.
    assert np.all(np.diff(result.log_likelihood, axis=-1) > -1e-5)


def test_buckets_are_monotone_and_cover() -> None:
    for n in [1, 100, 256, 257, 2000, 4097, 100_000, 1_000_000]:
        assert bucket_points(n) >= n
        assert bucket_points(n) <= (max(256, 2 * n) if n <= 4096 else 1.13 * n)
    for k in range(1, 100):
        assert bucket_components(k) >= k
    assert snapshot_iterations(100, 64)[0] == 0
    assert len(snapshot_iterations(100, 64)) == 64
    assert snapshot_iterations(3, 64) == (0, 1, 2, 3)


COUNT_SCRIPT = """
import numpy as np, gmm_core
from gmm_core import sweep, compilation_count
rng = np.random.default_rng(0)
X = rng.normal(size=(1900, 2))
sweep(X, 1, 6, 4, seed=0)
first = compilation_count()
sweep(X, 1, 6, 4, seed=1)                              # another seed
sweep(rng.normal(size=(1900, 2)) * 3 + 1, 1, 6, 4)     # other data values
sweep(X, 2, 6, 4, seed=2)                              # K range inside its bucket
sweep(X, 1, 5, 4, seed=2)
sweep(X[:1800], 1, 6, 4, seed=3)                       # points inside their bucket
sweep(X, 1, 6, 4, seed=4, tol=1e-4, reg_covar=1e-5, max_iter=80)
print(first, compilation_count())
sweep(X, 1, 6, 4, covariance_type="diag")              # a new structure compiles
print(compilation_count())
"""


def _run(script: str, devices: int) -> str:
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_no_recompilation_within_a_bucket() -> None:
    lines = _run(COUNT_SCRIPT, devices=1).split("\n")
    first, after = map(int, lines[0].split())
    assert first == 1
    assert after == 1, "seed, data, K range, N, tol, reg_covar or max_iter changes recompiled"
    assert int(lines[1]) == 2


DEVICE_SCRIPT = """
import json, jax, numpy as np
from gmm_core import PRESETS, sweep
from gmm_core.density import predict_labels
X, _ = PRESETS["overlapping"].sample(n=1500, seed=4)
r = sweep(X, 1, 5, 6, seed=9, init_params="{init}")
print(json.dumps({{"devices": len(jax.devices()), "ll": r.final_log_likelihood.tolist(),
    "means": r.final.means.tolist(), "n_iter": r.n_iter.tolist()}}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("init_params", ["k-means++", "random"])
def test_same_results_on_one_and_four_devices(init_params: str) -> None:
    script = DEVICE_SCRIPT.format(init=init_params)
    one = json.loads(_run(script, devices=1))
    four = json.loads(_run(script, devices=4))
    assert (one["devices"], four["devices"]) == (1, 4)
    np.testing.assert_allclose(one["ll"], four["ll"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(one["means"], four["means"], rtol=1e-4, atol=1e-4)
    assert one["n_iter"] == four["n_iter"]


INIT_COUNT_SCRIPT = """
import gmm_core, numpy as np
X = np.random.default_rng(0).normal(size=(900, 2))
for method in gmm_core.INIT_METHODS:
    r = gmm_core.sweep(X, 1, 4, 3, seed=1, init_params=method, max_iter=20)
    assert r.settings.init_params == method
print(gmm_core.compilation_count())
"""


def test_every_init_method_shares_one_program() -> None:
    assert int(_run(INIT_COUNT_SCRIPT, devices=1).split()[-1]) == 1


@pytest.mark.slow
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_traced_init_method_gives_the_static_programs_fits(
    covariance_type: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """float64: the one program's fits are bit for bit those of one program per method."""
    sweep_module = importlib.import_module("gmm_core.sweep")  # the name is also a function
    X, _ = PRESETS["overlapping"].sample(n=700, seed=1)
    options = dict(seed=7, dtype="float64", covariance_type=covariance_type, max_iter=30)

    def fields(result: gmm_core.SweepResult) -> dict[str, np.ndarray]:
        initial = {f"initial {name}": value for name, value in result.initial.as_dict().items()}
        return {
            **initial,
            **result.final.as_dict(),
            "final_log_likelihood": result.final_log_likelihood,
            "n_iter": result.n_iter,
        }

    for method in gmm_core.INIT_METHODS:
        traced = sweep(X, 1, 4, 3, init_params=method, **options)
        with monkeypatch.context() as patch:
            patch.setattr(sweep_module, "TRACE_INIT_METHOD", False)
            static = sweep(X, 1, 4, 3, init_params=method, **options)
        expected = fields(static)
        for field, value in fields(traced).items():
            np.testing.assert_array_equal(value, expected[field], err_msg=f"{method} {field}")
