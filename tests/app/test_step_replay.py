"""The Step and Panels tabs' iterates: the sweep's own, stored or replayed, and bounded work."""

from __future__ import annotations

import time

import numpy as np
import pytest

import gmm_core
from gmm_app import em_steps, panels_view, stepper, sweep_workers


def _long_fit_sweep(reg_covar: float, covariance_type: str) -> tuple[np.ndarray, object]:
    """Two restarts of K = 3 that run past the 8 snapshots kept (0, 1, 2, 3, 6, 12, 22, 40)."""
    spec = gmm_core.PRESETS["unequal_weights"]
    X, _ = gmm_core.make_dataset(spec.centers, spec.covariances, spec.weights, 600, 0)
    result = gmm_core.sweep(
        X,
        3,
        3,
        2,
        seed=0,
        init_params="random",
        max_iter=40,
        tol=1e-6,
        reg_covar=reg_covar,
        covariance_type=covariance_type,
        snapshots=8,
    )
    return X, result


@pytest.mark.parametrize(
    ("reg_covar", "covariance_type"),
    [(1e-6, "full"), pytest.param(1e-1, "diag", marks=pytest.mark.slow)],
)
def test_the_replayed_walk_is_the_sweeps_own_fit(reg_covar: float, covariance_type: str) -> None:
    X, result = _long_fit_sweep(reg_covar, covariance_type)
    stored = result.snapshot_iterations.tolist()
    assert stored == [0, 1, 2, 3, 6, 12, 22, 40]
    for restart in range(2):
        n_iter = int(result.n_iter[0, restart])
        assert n_iter > 3  # the snapshots skip iterations of this run: it must be replayed
        assert em_steps.stored_walk(result, 3, restart) is None
        walk = stepper.fit_walk(X, result, 3, restart)
        assert walk is not None
        assert walk.n_iter == n_iter
        # The same parameters as the sweep at every iteration it kept, and at the end.
        kept = [i for i in stored if i <= n_iter]
        for name in ("weights", "means", "covariances"):
            np.testing.assert_allclose(
                getattr(walk, name)[kept],
                getattr(result.snapshots, name)[0, restart, : len(kept), :3],
                rtol=1e-9,
                atol=1e-12,
            )
            np.testing.assert_allclose(
                getattr(walk, name)[-1], getattr(result.final, name)[0, restart, :3], atol=1e-12
            )
        # The same log-likelihood after every E step, and it never decreases.
        np.testing.assert_allclose(
            walk.log_likelihood[:n_iter], result.log_likelihood[0, restart, :n_iter], atol=1e-12
        )
        assert walk.log_likelihood[-1] == pytest.approx(result.final_log_likelihood[0, restart])
        assert np.all(np.diff(walk.log_likelihood) >= -1e-9)
    # A sweep that kept every iteration (the replay itself) is read as stored.
    replay = gmm_core.sweep(X, **em_steps.replay_options(result, 3, 1))
    again = em_steps.stored_walk(replay, 3, 0)
    assert again is not None and again.n_iter == walk.n_iter
    np.testing.assert_array_equal(again.covariances, walk.covariances)
    assert walk.n_positions == 2 * walk.n_iter + 1
    assert em_steps.describe(0) == (0, "start")
    assert em_steps.describe(5) == (3, "E step") and em_steps.describe(6) == (3, "M step")


def _long_walk(n_iter: int, k: int, n_features: int) -> em_steps.Walk:
    """A made-up walk of ``n_iter`` iterations (the figures only read it)."""
    rng = np.random.default_rng(0)
    means = rng.normal(scale=3.0, size=(n_iter + 1, k, n_features))
    covariances = np.broadcast_to(np.eye(n_features), (n_iter + 1, k, n_features, n_features))
    weights = np.full((n_iter + 1, k), 1.0 / k)
    return em_steps.Walk(weights, means, covariances, np.linspace(-30.0, -20.0, n_iter + 1))


def test_a_large_upload_costs_the_server_a_bounded_step() -> None:
    """200,000 × 16 points and a 1,000-iteration fit: each step and the panels colour at most
    COLOURED_POINTS points, whatever N; the fit's iterates come from the sweep."""
    rng = np.random.default_rng(1)
    points = rng.normal(size=(200_000, 16))
    walk = _long_walk(1000, 3, 16)
    axes = np.eye(16)[:2]
    projection = (lambda m: m @ axes.T, lambda c: axes @ c @ axes.T)
    started = time.perf_counter()
    shown, note = stepper.coloured_sample(points)
    for position in (1, 999, 1999, 2000):
        inputs = stepper.half_step(shown, walk, position, projection)
    _, _, resp = panels_view.panel_states(shown, walk, [0, 1, 2, 5, 20, 1000])
    seconds = time.perf_counter() - started
    assert shown.shape == (stepper.COLOURED_POINTS, 16)
    assert note == "Colours drawn for 2,000 of 200,000 points."
    assert inputs["points"].shape == (stepper.COLOURED_POINTS, 2)
    assert resp.shape == (6, stepper.COLOURED_POINTS, 3)
    assert seconds < 2.0, seconds


def test_a_replay_runs_on_a_worker_within_a_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fit past its snapshots is sent to the sweep workers (one fit, every iteration kept);
    a replay stopped at its deadline leaves a warning, not a traceback."""
    X, result = _long_fit_sweep(1e-6, "full")
    calls = []

    def stopped(points: np.ndarray, options: dict, estimated_seconds: float) -> None:
        calls.append((points.shape, options, estimated_seconds))
        raise sweep_workers.SweepAbandoned("The sweep was stopped after 9 s.")

    monkeypatch.setattr(sweep_workers, "run_sweep", stopped)
    stepper._replayed.clear()  # a replay cached by another test would answer instead
    assert stepper.fit_walk(X, result, 3, 1) is None  # and a warning on the page
    ((shape, options, estimate),) = calls
    assert shape == X.shape and 0 < estimate < 60
    n_iter = int(result.n_iter[0, 1])
    assert (options["k_min"], options["k_max"], options["n_restarts"]) == (3, 3, 1)
    assert options["max_iter"] == n_iter and options["snapshots"] > n_iter
    np.testing.assert_array_equal(options["means_init"], result.initial.means[0, 1, :3])


def test_a_start_that_failed_colours_every_component_equally() -> None:
    """reg_covar=0 can start a fit on a covariance that is not positive definite."""
    walk = _long_walk(2, 3, 2)
    covariances = walk.covariances.copy()
    covariances[0, 1] = np.zeros((2, 2))
    broken = em_steps.Walk(walk.weights, walk.means, covariances, walk.log_likelihood)
    points = np.random.default_rng(2).normal(size=(50, 2))
    np.testing.assert_array_equal(
        stepper.responsibilities(points, broken, 0), np.full((50, 3), 1 / 3)
    )
    _, _, resp = panels_view.panel_states(points, broken, [0, 1])
    np.testing.assert_allclose(resp[1].sum(axis=1), 1.0)
    assert resp[1].std() > 0.1  # the valid iteration colours by its own responsibilities
