"""The first visitor finds the default sweep ready, and simultaneous visitors share one sweep."""

from __future__ import annotations

import threading
import time

import pytest
from support.apptest import last_sweep, make_app, run_ok

import gmm_core
from gmm_app import fit_flow, sweep_workers
from gmm_app.app_settings import default_settings
from gmm_app.sweep_cache import SweepCache


@pytest.mark.slow
def test_the_server_warms_the_default_sweep_so_the_first_visit_does_not_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sweep_workers, "configured_workers", lambda: 1)
    monkeypatch.setattr(sweep_workers, "shared_pool", lambda: None)  # sweep in this process
    monkeypatch.setattr(fit_flow, "_WARMING", [])
    fit_flow.SWEEPS.clear()
    warming = fit_flow.warm_default_sweep()
    assert warming is not None and fit_flow.warm_default_sweep() is warming  # once per server
    warming.join(timeout=300)
    defaults = default_settings()
    assert ("synthetic", defaults.data_key, defaults.fit_key) in fit_flow.SWEEPS
    at = run_ok(make_app())
    run = last_sweep(at)
    assert run is not None and not run.fresh, "the first visit fitted again"


def test_simultaneous_requests_for_one_sweep_share_a_single_run() -> None:
    X, _ = gmm_core.PRESETS["four_blobs"].sample(n=300, seed=0)
    cache = SweepCache(4, 1 << 30)
    calls = []

    def compute() -> gmm_core.SweepResult:
        calls.append(threading.current_thread().name)
        time.sleep(0.5)  # long enough for the others to arrive while it runs
        return gmm_core.sweep(X, 1, 2, 2, seed=0, max_iter=5)

    outcomes: list[tuple[gmm_core.SweepResult, bool]] = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(cache.get_or_compute("key", compute)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(calls) == 1
    assert sorted(fresh for _, fresh in outcomes) == [False, False, False, True]
    assert len({id(result) for result, _ in outcomes}) == 1


def test_a_failed_run_lets_the_waiting_request_compute_its_own() -> None:
    cache = SweepCache(4, 1 << 30)
    attempts = []

    def failing() -> gmm_core.SweepResult:
        attempts.append("failed")
        time.sleep(0.3)
        raise ValueError("no")

    first = threading.Thread(
        target=lambda: pytest.raises(ValueError, cache.get_or_compute, "k", failing)
    )
    first.start()
    time.sleep(0.1)
    X, _ = gmm_core.PRESETS["four_blobs"].sample(n=300, seed=0)
    result, fresh = cache.get_or_compute("k", lambda: gmm_core.sweep(X, 1, 2, 2, max_iter=5))
    first.join(timeout=60)
    assert fresh and attempts == ["failed"] and "k" in cache
