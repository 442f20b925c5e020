"""Sweeps on killable worker processes: a hung sweep is abandoned, other requests go on."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sweep_targets import HANG_MARKER, RAISE_MARKER

import gmm_core
from gmm_app import sweep_workers
from gmm_app.sweep_workers import (
    PoolBusy,
    SweepAbandoned,
    SweepCancelled,
    WorkerError,
    WorkerLost,
    WorkerPool,
    failure_message,
)
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


def timed_runs(pool: WorkerPool, points: np.ndarray, count: int = 2) -> list[float]:
    """Seconds each of ``count`` requests took, one after the other (each must succeed)."""
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        result = pool.run(points, OPTIONS, deadline_after=120)
        seconds.append(time.perf_counter() - started)
        assert np.all(np.isfinite(result.final_log_likelihood))
    return seconds


def kill_every_worker(pool: WorkerPool) -> None:
    """``SIGKILL`` every worker process, as the kernel's OOM killer would, and wait for it."""
    processes = [worker.pid for worker in pool.workers if worker.alive()]
    for pid in processes:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10  # each is dead, or already replaced by a new process
    while any(worker.alive() and worker.pid in processes for worker in pool.workers):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def hold(pool: WorkerPool, points: np.ndarray, **keywords: object) -> tuple[threading.Thread, dict]:
    """Start a request that hangs after its first progress report, in a thread; once it
    has reported, return the thread and the dict its error will land in."""
    hung = points.copy()
    hung[0, 0] = HANG_MARKER
    reported = threading.Event()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            pool.run(
                hung, OPTIONS, deadline_after=300, progress=lambda _: reported.set(), **keywords
            )
        except Exception as error:  # noqa: BLE001 - the test looks at it
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert reported.wait(120), "the held sweep never started"
    return thread, outcome


@pytest.mark.slow
def test_workers_killed_between_requests_are_replaced(
    pool: WorkerPool, points: np.ndarray, record_property
) -> None:
    timed_runs(pool, points, count=1)
    kill_every_worker(pool)
    seconds = timed_runs(pool, points)
    assert max(seconds) < 90, seconds
    record_property(
        "figure", "after killing idle workers: " + ", ".join(f"{s:.1f} s" for s in seconds)
    )


@pytest.mark.slow
def test_a_worker_killed_during_a_request_ends_it_with_a_clear_message(
    pool: WorkerPool, points: np.ndarray, caplog: pytest.LogCaptureFixture, record_property
) -> None:
    caplog.set_level(logging.ERROR, logger="gmm_app.sweep_workers")
    thread, outcome = hold(pool, points)
    kill_every_worker(pool)
    thread.join(timeout=30)
    error = outcome.get("error")
    assert isinstance(error, WorkerLost), error
    assert "killed (SIGKILL)" in str(error) and error.out_of_memory
    assert "lack of memory" in failure_message(error)
    assert any("lost" in record.getMessage() for record in caplog.records)
    seconds = timed_runs(pool, points)  # the next view draws, and so does the one after
    assert max(seconds) < 90, seconds
    record_property(
        "figure", "after killing busy workers: " + ", ".join(f"{s:.1f} s" for s in seconds)
    )


def test_a_worker_that_raises_names_the_error_and_logs_its_traceback(
    pool: WorkerPool, points: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="gmm_app.sweep_workers")
    broken = points.copy()
    broken[0, 0] = RAISE_MARKER
    with pytest.raises(WorkerError, match="ZeroDivisionError: division by zero") as caught:
        pool.run(broken, OPTIONS, deadline_after=60)
    assert "in divide_by_zero" in caught.value.traceback
    message = failure_message(caught.value)
    assert "ZeroDivisionError" in message and "memory" not in message
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Traceback" in logged and "in divide_by_zero" in logged
    assert timed_runs(pool, points, count=1)  # the same worker serves the next request


@pytest.mark.slow
def test_one_session_holding_a_sweep_leaves_the_others_served_and_its_next_sweep_replaces_it(
    pool: WorkerPool, points: np.ndarray
) -> None:
    thread, outcome = hold(pool, points, owner="a")
    started = time.perf_counter()
    other = pool.run(points, OPTIONS, deadline_after=120, owner="b")
    assert np.all(np.isfinite(other.final_log_likelihood)) and time.perf_counter() - started < 90
    again = pool.run(points, OPTIONS, deadline_after=120, owner="a")  # cancels its held sweep
    assert np.all(np.isfinite(again.final_log_likelihood))
    thread.join(timeout=10)
    assert isinstance(outcome.get("error"), SweepCancelled), outcome
    # The held sweep never reports again: its worker is replaced after the grace period.
    deadline = time.monotonic() + sweep_workers.CANCEL_GRACE_SECONDS + 30
    while pool.idle_count() < pool.size:
        assert time.monotonic() < deadline, "the cancelled sweep's worker never came back"
        time.sleep(0.1)


def test_a_full_queue_and_a_long_wait_say_when_to_try_again(
    pool: WorkerPool, points: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = [pool._idle.get(timeout=120) for _ in range(pool.size)]  # every worker busy
    try:
        monkeypatch.setattr(pool, "max_waiting", 0)
        with pytest.raises(PoolBusy, match=r"the server is busy: .* Try again in about \d+ s"):
            pool.run(points, OPTIONS, deadline_after=60)
        monkeypatch.setattr(pool, "max_waiting", 4)
        monkeypatch.setattr(pool, "queue_timeout", 1.0)
        beats: list[float] = []
        started = time.perf_counter()
        with pytest.raises(PoolBusy, match=r"no sweep worker became free within 1 s"):
            pool.run(points, OPTIONS, deadline_after=60, heartbeat=beats.append)
        assert 1.0 <= time.perf_counter() - started < 10 and beats
    finally:
        for worker in taken:
            pool._idle.put(worker)
    assert timed_runs(pool, points, count=1)


def test_no_request_holds_a_worker_past_the_ceiling() -> None:
    longest = sweep_workers.max_estimate_seconds()
    ceiling = sweep_workers.MAX_REQUEST_SECONDS - sweep_workers.COMPILE_ALLOWANCE_SECONDS
    assert sweep_workers.deadline_seconds(longest) == pytest.approx(ceiling)
    assert sweep_workers.deadline_seconds(600.0) == pytest.approx(ceiling)


def test_failures_are_worded_by_their_cause() -> None:
    assert "ran out of memory (MemoryError: " in failure_message(MemoryError())
    oom = WorkerError("MemoryError", "", "Traceback ...")
    assert "ran out of memory" in failure_message(oom)
    xla = RuntimeError("RESOURCE_EXHAUSTED: Out of memory allocating 8 GB")
    assert "ran out of memory" in failure_message(xla)
    bug = failure_message(RuntimeError("INTERNAL: a compiler bug"))
    assert bug.startswith("the sweep failed with RuntimeError: INTERNAL") and "memory" not in bug
    crash = WorkerLost(1)
    assert "stopped (exit code 1)" in str(crash) and not crash.out_of_memory
    assert "memory" not in failure_message(crash)


def test_a_worker_that_cannot_start_ends_its_request_with_a_message(
    points: np.ndarray, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_memory(*args: object, **keywords: object) -> None:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(sweep_workers.subprocess, "Popen", no_memory)
    starved = WorkerPool(1)
    try:
        with pytest.raises(WorkerLost, match="worker process stopped"):
            starved.run(points, OPTIONS, deadline_after=60)
        assert starved.idle_count() == 1  # given back, to be started by the next request
        assert "could not start a sweep worker" in caplog.text
    finally:
        starved.close()
