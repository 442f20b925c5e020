"""`python -m gmm_app.prewarm` (run by `make run` after install) fills the workers' cache."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.subprocesses import ROOT, run_python

WORKER_SCRIPT = """
from gmm_app import datasets, sweep_workers
from gmm_app.app_settings import default_settings
from gmm_app.fit_flow import call_options
defaults = default_settings()
points = datasets.draw_synthetic(defaults.data_key)[0]
pool = sweep_workers.WorkerPool(1)
try:
    options, _ = call_options(*points.shape, defaults.fit_key)
    result = sweep_workers.run_sweep(points, options, 5.0, progress=lambda _: None, pool=pool)
finally:
    pool.close()
print(result.compile_seconds)
"""


def _run(arguments: list[str], cache: Path) -> str:
    return run_python(arguments, {"GMM_COMPILATION_CACHE": str(cache)})


@pytest.mark.slow
def test_a_prewarmed_cache_spares_the_first_worker_sweep_the_compiler(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    cache = tmp_path / "cache"
    said = _run(["-m", "gmm_app.prewarm"], cache)
    compiled = float(re.search(r"compiled in ([\d.]+) s", said).group(1))
    assert str(cache) in said and any(cache.iterdir())
    loaded = float(_run(["-c", WORKER_SCRIPT], cache).split()[-1])
    figure = f"prewarm compiled {compiled:.1f} s; the first worker sweep then took {loaded:.1f} s"
    print(figure)
    record_property("figure", figure)
    assert loaded < 0.5 * compiled


def test_prewarm_does_nothing_when_the_cache_is_off() -> None:
    said = run_python(["-m", "gmm_app.prewarm"], {"GMM_COMPILATION_CACHE": ""}, timeout=120)
    assert "cache is off" in said


@pytest.mark.slow
def test_make_run_prewarms_once_before_serving() -> None:
    plan = subprocess.run(
        ["make", "-n", "run", f"VENV={ROOT / '.no-venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert plan.index("gmm_app.prewarm") < plan.index("gmm_app.serve"), plan


def test_a_quick_sweep_runs_its_restarts_in_one_padded_slice() -> None:
    from gmm_app.app_settings import default_settings
    from gmm_app.fit_flow import QUICK_SLICE, call_options

    fit = default_settings().fit_key
    quick, seconds = call_options(2_000, 2, fit)
    assert seconds < 1.0 and quick["restarts_per_call"] == QUICK_SLICE
    slow, seconds = call_options(200_000, 12, fit.replace(k_max=12, n_restarts=32))
    assert seconds > 1.0 and "restarts_per_call" not in slow  # about 8 slices, with progress
