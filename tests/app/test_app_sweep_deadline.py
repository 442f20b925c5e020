"""A sweep that hangs in its worker is stopped with a clear message; the app goes on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from sweep_targets import HANG_SEED

from gmm_app import sweep_workers
from gmm_app.progress import FINAL_STATUS_ICONS
from tests.support.apptest import chart_specs

APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture
def hanging_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sweep_workers.WorkerPool:
    monkeypatch.setenv("GMM_COMPILATION_CACHE", str(tmp_path / "jax_cache"))
    pool = sweep_workers.WorkerPool(1, target="sweep_targets:sweep_or_hang_on_seed")
    monkeypatch.setattr(sweep_workers, "shared_pool", lambda: pool)
    monkeypatch.setattr(sweep_workers, "DEADLINE_MARGIN_SECONDS", 6.0)
    yield pool
    pool.close()


def run(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=240)
    at.query_params = query
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_hung_sweep_is_stopped_with_advice_and_the_settings_survive(
    hanging_pool: sweep_workers.WorkerPool,
) -> None:
    hung = run({"init_seed": str(HANG_SEED), "noise": "1.5", "restarts": "3"})
    errors = " ".join(element.value for element in hung.error).replace("\\", "")
    assert "stopped" in errors and "Lower the K range, the restarts per K" in errors
    (status,) = [box for box in hung.expander if box.label == "The sweep was stopped"]
    assert status.icon == FINAL_STATUS_ICONS["error"] == ":material/error:"
    assert hanging_pool.abandoned == 1
    assert hung.number_input(key="init_seed").value == HANG_SEED
    assert hung.slider(key="noise").value == pytest.approx(1.5)
    assert hung.slider(key="restarts").value == 3
    assert not chart_specs(hung)
    # The next visitor's fit runs on the replaced worker.
    served = run({"init_seed": "7", "restarts": "3"})
    assert not served.error
    spec = json.loads(chart_specs(served)[0])
    assert spec["data"], "no chart drawn after the hung sweep was stopped"
