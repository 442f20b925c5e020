"""The XLA settings the sweep compiles with on CPU: faster to compile, the same fits."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import jax
import numpy as np
import pytest
from jax.experimental.compilation_cache import compilation_cache

import gmm_core
from gmm_core import PRESETS, program
from gmm_core.program import PROGRAMS


@pytest.fixture
def compiled_here() -> Iterator[None]:
    """Every program compiled by XLA in this test: none held or read from JAX's
    persistent cache (turned back on afterwards)."""
    was_on = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    compilation_cache.reset_cache()
    PROGRAMS.clear()
    try:
        yield
    finally:
        PROGRAMS.clear()
        jax.config.update("jax_enable_compilation_cache", was_on)
        compilation_cache.reset_cache()


def _fresh_sweep(points: np.ndarray, dtype: str) -> gmm_core.SweepResult:
    """2,000 points, K = 1..6, 8 restarts, 100 iterations, 64 snapshots: the app's default
    view's shape, compiled afresh."""
    PROGRAMS.clear()
    return gmm_core.sweep(points, 1, 6, 8, seed=3, snapshots=64, dtype=dtype)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.usefixtures("compiled_here")
def test_the_cpu_compiler_options_compile_faster_and_fit_the_same(
    dtype: str,
    monkeypatch: pytest.MonkeyPatch,
    record_property: Callable[[str, object], None],
) -> None:
    points = PRESETS["four_blobs"].sample(n=2000, seed=0)[0]
    tuned = _fresh_sweep(points, dtype)
    monkeypatch.setattr(program, "CPU_COMPILER_OPTIONS", {})
    plain = _fresh_sweep(points, dtype)
    text = (
        f"2,000 × 2 sweep, K = 1..6, 8 restarts, {dtype} E step: compiled (tracing "
        f"included) in {tuned.compile_seconds:.2f} s with CPU_COMPILER_OPTIONS, "
        f"{plain.compile_seconds:.2f} s with XLA's defaults"
    )
    record_property("figure", text)
    rtol = 1e-9 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(tuned.log_likelihood, plain.log_likelihood, rtol=rtol)
    np.testing.assert_allclose(tuned.final.means, plain.final.means, rtol=rtol, atol=rtol)
    assert tuned.compile_seconds < plain.compile_seconds, text
