"""A sweep that hangs, raises or loses its worker ends with a clear message; the app goes on."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from sweep_targets import HANG_SEED, KILL_SEED, RAISE_SEED

from gmm_app import sweep_workers
from gmm_app.progress import FINAL_STATUS_ICONS
from tests.support.apptest import chart_specs

APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture(scope="module")
def one_worker() -> sweep_workers.WorkerPool:
    """One worker for the module (on the test run's compilation cache)."""
    pool = sweep_workers.WorkerPool(1, target="sweep_targets:sweep_or_hang_on_seed")
    yield pool
    pool.close()


@pytest.fixture
def hanging_pool(
    one_worker: sweep_workers.WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> sweep_workers.WorkerPool:
    """The app's pool: one worker whose sweep hangs, raises or dies for the test seeds."""
    monkeypatch.setattr(sweep_workers, "shared_pool", lambda: one_worker)
    monkeypatch.setattr(sweep_workers, "DEADLINE_MARGIN_SECONDS", 6.0)
    return one_worker


def run(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=240)
    at.query_params = query
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_hung_sweep_is_stopped_with_advice_and_the_settings_survive(
    hanging_pool: sweep_workers.WorkerPool,
) -> None:
    abandoned = hanging_pool.abandoned
    hung = run({"init_seed": str(HANG_SEED), "noise": "1.5", "restarts": "3"})
    errors = " ".join(element.value for element in hung.error).replace("\\", "")
    assert "stopped" in errors and "Lower the K range, the restarts per K" in errors
    (status,) = [box for box in hung.expander if box.label == "The sweep was stopped"]
    assert status.icon == FINAL_STATUS_ICONS["error"] == ":material/error:"
    assert hanging_pool.abandoned == abandoned + 1
    assert hung.number_input(key="init_seed").value == HANG_SEED
    assert hung.slider(key="noise").value == pytest.approx(1.5)
    assert hung.slider(key="restarts").value == 3
    assert not chart_specs(hung)
    # The next visitor's fit runs on the replaced worker.
    served = run({"init_seed": "7", "restarts": "3"})
    assert not served.error
    spec = json.loads(chart_specs(served)[0])
    assert spec["data"], "no chart drawn after the hung sweep was stopped"


def errors(at: AppTest) -> str:
    return " ".join(element.value for element in at.error).replace("\\", "")


def drawn_within(seconds: float, seed: int) -> float:
    """Seconds until the page of ``seed`` draws its chart (which must take under ``seconds``)."""
    started = time.perf_counter()
    served = run({"init_seed": str(seed), "restarts": "3"})
    took = time.perf_counter() - started
    assert not served.error and json.loads(chart_specs(served)[0])["data"]
    assert took < seconds, took
    return took


def test_a_sweep_that_raises_is_named_on_the_page_and_logged(
    hanging_pool: sweep_workers.WorkerPool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="gmm_app.sweep_workers")
    failed = run({"init_seed": str(RAISE_SEED), "restarts": "3"})
    message = errors(failed)
    assert "ZeroDivisionError" in message and "memory" not in message, message
    assert not chart_specs(failed)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Traceback" in logged and "in divide_by_zero" in logged
    drawn_within(90, seed=9)


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_is_named_on_the_page_and_the_next_views_draw(
    hanging_pool: sweep_workers.WorkerPool, record_property
) -> None:
    killed = run({"init_seed": str(KILL_SEED), "restarts": "3"})
    message = errors(killed)
    assert "killed (SIGKILL)" in message and "lack of memory" in message, message
    assert not chart_specs(killed)
    first, second = drawn_within(90, seed=11), drawn_within(90, seed=12)
    record_property(
        "figure", f"after a worker was killed: drawn in {first:.1f} s, then {second:.1f} s"
    )
