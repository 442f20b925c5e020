"""The XLA settings the sweep compiles with on CPU: faster to compile, the same fits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import gmm_core
from gmm_core import PRESETS, program, saved_programs
from gmm_core.program import PROGRAMS


def _fresh_sweep(points: np.ndarray, dtype: str) -> gmm_core.SweepResult:
    """The default view's sweep, compiled here (no program held, loaded or saved)."""
    PROGRAMS.clear()
    return gmm_core.sweep(points, 1, 6, 8, seed=3, max_iter=40, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_cpu_compiler_options_compile_faster_and_fit_the_same(
    dtype: str,
    monkeypatch: pytest.MonkeyPatch,
    record_property: Callable[[str, object], None],
) -> None:
    points = PRESETS["four_blobs"].sample(n=2000, seed=0)[0]
    monkeypatch.setattr(saved_programs, "load", lambda key: None)
    monkeypatch.setattr(saved_programs, "save", lambda key, compiled: None)
    tuned = _fresh_sweep(points, dtype)
    monkeypatch.setattr(program, "CPU_COMPILER_OPTIONS", {})
    plain = _fresh_sweep(points, dtype)
    PROGRAMS.clear()
    text = (
        f"default view's sweep, {dtype} E step: compiled in {tuned.compile_seconds:.2f} s "
        f"with CPU_COMPILER_OPTIONS, {plain.compile_seconds:.2f} s with XLA's defaults"
    )
    record_property("figure", text)
    rtol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(tuned.log_likelihood, plain.log_likelihood, rtol=rtol)
    np.testing.assert_allclose(tuned.means, plain.means, rtol=rtol, atol=rtol)
    assert tuned.compile_seconds < plain.compile_seconds, text


def test_a_jaxlib_without_one_of_the_settings_compiles_with_xlas_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    points = PRESETS["four_blobs"].sample(n=300, seed=1)[0]
    monkeypatch.setattr(saved_programs, "load", lambda key: None)
    monkeypatch.setattr(saved_programs, "save", lambda key, compiled: None)
    unknown = {**program.CPU_COMPILER_OPTIONS, "xla_no_such_setting_anywhere": True}
    monkeypatch.setattr(program, "CPU_COMPILER_OPTIONS", unknown)
    PROGRAMS.clear()
    try:
        result = gmm_core.sweep(points, 1, 3, 2, seed=0, max_iter=20)
    finally:
        PROGRAMS.clear()
    assert np.all(np.isfinite(result.final_log_likelihood))
