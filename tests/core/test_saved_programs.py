"""Compiled programs saved whole: a second process loads instead of tracing and compiling."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.support.subprocesses import run_python

SWEEP = """
import hashlib, time
import numpy as np
from gmm_core.compilation_cache import enable_compilation_cache
enable_compilation_cache()
from gmm_core import sweep
from gmm_core.program import PROGRAMS
X = np.random.default_rng(3).normal(size=(600, 2)) + np.repeat([[0, 0], [6, 0]], 300, axis=0)
started = time.perf_counter()
result = sweep(X, 1, 3, 4, seed=5)
seconds = time.perf_counter() - started
digest = hashlib.sha256(np.ascontiguousarray(result.final_log_likelihood).tobytes()).hexdigest()
print(PROGRAMS.compilations, PROGRAMS.loads, digest, f"{seconds:.2f}")
"""


def _sweep(cache: Path) -> tuple[int, int, str, float]:
    compilations, loads, digest, seconds = run_python(
        ["-c", SWEEP], {"GMM_COMPILATION_CACHE": str(cache)}
    ).split()[-4:]
    return int(compilations), int(loads), digest, float(seconds)


def test_a_restarted_process_loads_the_saved_program_and_gets_the_same_fits(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    cache = tmp_path / "cache"
    first = _sweep(cache)
    saved = list((cache / "gmm_programs").glob("*.pickle"))
    second = _sweep(cache)
    record_property(
        "figure",
        f"first sweep in a fresh process: compiled {first[3]:.2f} s; "
        f"after a restart, loaded whole {second[3]:.2f} s",
    )
    assert first[:2] == (1, 0) and len(saved) == 1
    assert second[:2] == (0, 1)  # loaded: neither traced nor compiled
    assert second[2] == first[2]  # the same fits, bit for bit


def test_a_damaged_saved_program_is_compiled_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _sweep(cache)
    (saved,) = (cache / "gmm_programs").glob("*.pickle")
    saved.write_bytes(b"not a program")
    again = _sweep(cache)
    assert again[:2] == (1, 0) and again[2] == first[2]
    assert saved.read_bytes() != b"not a program"  # replaced by the new compile
