"""Compiled programs saved whole: a second process loads instead of tracing and compiling."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.support.subprocesses import run_python

SWEEP = """
import hashlib, os, time
import numpy as np
from gmm_core.compilation_cache import enable_compilation_cache
enable_compilation_cache()
if os.environ.get("SAVE_EVERY_PROGRAM"):  # how saving worked before programs were told apart
    from gmm_core import saved_programs
    saved_programs.jax_cache_hits = lambda: 0
from gmm_core import sweep
from gmm_core.program import PROGRAMS
X = np.random.default_rng(3).normal(size=(600, 2)) + np.repeat([[0, 0], [6, 0]], 300, axis=0)
started = time.perf_counter()
result = sweep(X, 1, 3, 4, seed=5)
seconds = time.perf_counter() - started
digest = hashlib.sha256(np.ascontiguousarray(result.final_log_likelihood).tobytes()).hexdigest()
print(PROGRAMS.compilations, PROGRAMS.loads, digest, f"{seconds:.2f}")
"""


def _sweep(cache: Path, save_every_program: bool = False) -> tuple[int, int, str, float]:
    env = {"GMM_COMPILATION_CACHE": str(cache)}
    if save_every_program:
        env["SAVE_EVERY_PROGRAM"] = "1"
    compilations, loads, digest, seconds = run_python(["-c", SWEEP], env).split()[-4:]
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
    assert not saved.exists()  # dropped; JAX's cache held the compile, so nothing is saved


def _only_in_jaxs_cache(cache: Path) -> tuple[int, int, str, float]:
    """Sweep once into ``cache``, then delete the saved program: JAX's cache alone holds it."""
    first = _sweep(cache)
    for saved in (cache / "gmm_programs").glob("*.pickle"):
        saved.unlink()
    return first


def test_a_program_read_back_from_jaxs_cache_is_not_saved_and_later_restarts_still_fit(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    first = _only_in_jaxs_cache(cache)
    from_jax_cache = _sweep(cache)  # compiled from JAX's cache: serialises without kernels
    assert from_jax_cache[:2] == (1, 0)
    assert not list((cache / "gmm_programs").glob("*.pickle"))
    again = _sweep(cache)
    assert again[:2] == (1, 0) and again[2] == first[2]


def test_a_saved_program_that_fails_at_its_first_call_is_dropped_and_compiled_again(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    first = _only_in_jaxs_cache(cache)
    _sweep(cache, save_every_program=True)  # saves the program JAX read from its cache
    (broken,) = (cache / "gmm_programs").glob("*.pickle")
    healed = _sweep(cache)
    assert healed[:2] == (1, 1)  # loaded, failed at its first call, compiled
    assert healed[2] == first[2]
    assert not broken.exists()
