"""JAX's persistent compilation cache: a restarted process reads the sweep program back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.subprocesses import run_python

SWEEP = """
import hashlib, json, sys
import jax
import numpy as np
from gmm_core import program, sweep
from gmm_core.compilation_cache import enable_compilation_cache

enable_compilation_cache(sys.argv[1])
events = []
jax.monitoring.register_event_listener(lambda event, **_: events.append(event))
compile_lowered = program._compile_lowered
during_sweep_program = []

def counting(lowered):
    start = len(events)
    compiled = compile_lowered(lowered)
    during_sweep_program.extend(events[start:])
    return compiled

program._compile_lowered = counting
X = np.random.default_rng(3).normal(size=(600, 2)) + np.repeat([[0, 0], [6, 0]], 300, axis=0)
result = sweep(X, 1, 3, 4, seed=5)
digest = hashlib.sha256(np.ascontiguousarray(result.final_log_likelihood).tobytes()).hexdigest()
print(json.dumps({
    "hits": during_sweep_program.count("/jax/compilation_cache/cache_hits"),
    "misses": during_sweep_program.count("/jax/compilation_cache/cache_misses"),
    "digest": digest,
}))
"""


def _sweep(cache: Path) -> dict:
    return json.loads(run_python(["-c", SWEEP, str(cache)]).strip().splitlines()[-1])


@pytest.mark.slow
def test_a_second_process_reads_the_sweep_program_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _sweep(cache)
    assert (first["hits"], first["misses"]) == (0, 1)  # compiled by XLA, then written
    assert any(cache.iterdir())
    second = _sweep(cache)
    assert (second["hits"], second["misses"]) == (1, 0)  # read back, not compiled
    assert second["digest"] == first["digest"]  # the same fits, bit for bit
