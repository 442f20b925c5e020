"""Sweeps on killable worker processes: a hung sweep is abandoned, other requests go on."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sweep_targets import HANG_MARKER

import gmm_core
from gmm_app import sweep_workers
from gmm_app.sweep_workers import SweepAbandoned, WorkerPool
from gmm_core.sweep import SweepProgress
from tests.support.subprocesses import run_python

OPTIONS = dict(k_min=1, k_max=3, n_restarts=2, seed=0, max_iter=20)


@pytest.fixture
def points() -> np.ndarray:
    X, _ = gmm_core.PRESETS["four_blobs"].sample(n=300, seed=0)
    return X


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> WorkerPool:
    """Two workers for the module, sharing one persistent compilation cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GMM_COMPILATION_CACHE", str(tmp_path_factory.mktemp("jax_cache")))
        workers = WorkerPool(2, target="sweep_targets:sweep_or_hang", compile_allowance=0)
    yield workers
    workers.close()


def test_a_sweep_on_a_worker_matches_one_in_this_process(
    pool: WorkerPool, points: np.ndarray
) -> None:
    progress: list[SweepProgress] = []
    remote = pool.run(points, OPTIONS, deadline_after=120, progress=progress.append)
    local = gmm_core.sweep(points, **OPTIONS)
    np.testing.assert_allclose(remote.final_log_likelihood, local.final_log_likelihood, rtol=1e-6)
    assert progress and progress[-1].restarts_done == OPTIONS["n_restarts"]


def test_a_hung_sweep_is_abandoned_while_another_request_finishes(
    pool: WorkerPool, points: np.ndarray, record_property
) -> None:
    hung = points.copy()
    hung[0, 0] = HANG_MARKER
    outcome: dict[str, object] = {}
    abandoned_before = pool.abandoned

    def run_hung() -> None:
        started = time.perf_counter()
        try:
            pool.run(hung, OPTIONS, deadline_after=8)
        except SweepAbandoned as error:
            outcome["error"] = error
        outcome["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=run_hung)
    thread.start()
    result = pool.run(points, OPTIONS, deadline_after=120)  # the other worker serves it
    assert thread.is_alive() or "error" in outcome
    thread.join(timeout=60)
    assert isinstance(outcome.get("error"), SweepAbandoned)
    assert 8 <= outcome["seconds"] < 30
    assert np.all(np.isfinite(result.final_log_likelihood))
    assert pool.abandoned == abandoned_before + 1
    again = pool.run(points, OPTIONS, deadline_after=120)  # the replaced worker serves again
    np.testing.assert_allclose(again.final_log_likelihood, result.final_log_likelihood, rtol=1e-6)
    record_property(
        "figure", f"hung sweep abandoned after {outcome['seconds']:.1f} s (deadline 8 s)"
    )


def test_an_abandoned_sweep_says_which_settings_to_lower(
    pool: WorkerPool, points: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweep_workers, "DEADLINE_MARGIN_SECONDS", 3.0)
    hung = points.copy()
    hung[0, 0] = HANG_MARKER
    with pytest.raises(SweepAbandoned, match="Lower the K range, the restarts per K"):
        sweep_workers.run_sweep(hung, OPTIONS, estimated_seconds=0.5, pool=pool)


def test_value_errors_come_back_as_value_errors(pool: WorkerPool, points: np.ndarray) -> None:
    with pytest.raises(ValueError, match="tol"):
        pool.run(points, {**OPTIONS, "tol": -1.0}, deadline_after=60)


def test_the_deadline_is_three_times_the_estimate_plus_a_margin() -> None:
    assert sweep_workers.deadline_seconds(10.0) == pytest.approx(
        3 * 10.0 + sweep_workers.DEADLINE_MARGIN_SECONDS
    )
    assert sweep_workers.deadline_seconds(-1.0) == sweep_workers.DEADLINE_MARGIN_SECONDS


def test_the_library_sweep_raises_timeout_error_instead_of_waiting() -> None:
    # About 0.2 s of work: a program of a few milliseconds can finish before the first
    # look at its outputs when another process holds the CPU, and then it is returned.
    points, _ = gmm_core.PRESETS["four_blobs"].sample(n=5000, seed=0)
    options = dict(k_min=1, k_max=4, n_restarts=4, seed=0, max_iter=200, tol=0.0)
    finished = gmm_core.sweep(points, **options, timeout=600)  # compiles, generous deadline
    with pytest.raises(TimeoutError, match="did not finish within its timeout"):
        gmm_core.sweep(points, **options, timeout=finished.run_seconds / 50)
    again = gmm_core.sweep(points, **options, timeout=600)
    np.testing.assert_array_equal(again.final_log_likelihood, finished.final_log_likelihood)


class Rerun(Exception):
    """Stands in for the exception Streamlit raises from an element call on a rerun."""


def test_an_interrupted_request_is_cancelled_and_frees_its_worker(
    pool: WorkerPool, points: np.ndarray
) -> None:
    def interrupt(_: SweepProgress) -> None:
        raise Rerun

    abandoned_before = pool.abandoned
    for _ in range(3):  # more interruptions than workers: each worker must come back
        with pytest.raises(Rerun):
            pool.run(points, OPTIONS, deadline_after=120, progress=interrupt)
    result = pool.run(points, OPTIONS, deadline_after=120)
    assert np.all(np.isfinite(result.final_log_likelihood))
    assert pool.abandoned == abandoned_before


def test_a_staggered_pool_takes_its_later_workers_only_once_they_are_ready(
    points: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GMM_COMPILATION_CACHE", str(tmp_path))
    staggered = WorkerPool(2, stagger_seconds=2.0)
    try:
        assert staggered.workers[1].pid is None and staggered.idle_count() == 1
        deadline = time.monotonic() + 60
        while not staggered.workers[1].alive():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        started = time.monotonic()
        assert staggered.idle_count() == 1  # started, still importing: not offered yet
        while staggered.idle_count() < 2:
            assert time.monotonic() < started + 60, "the second worker never became ready"
            time.sleep(0.05)
        result = staggered.run(points, OPTIONS, deadline_after=120)
        assert np.all(np.isfinite(result.final_log_likelihood))
    finally:
        staggered.close()


def test_closing_a_staggered_pool_leaves_no_worker_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GMM_COMPILATION_CACHE", str(tmp_path))
    staggered = WorkerPool(3, stagger_seconds=0.5)
    time.sleep(0.7)  # the second worker is starting
    staggered.close()
    time.sleep(1.0)
    assert not any(worker.alive() for worker in staggered.workers)


def test_importing_the_worker_module_does_not_start_jax() -> None:
    said = run_python(
        ["-c", "import sys, gmm_app.sweep_workers; print('jax' in sys.modules)"], timeout=120
    )
    assert said.split()[-1] == "False"  # the server's launcher starts the pool before JAX
