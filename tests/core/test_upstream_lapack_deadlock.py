"""The jaxlib deadlock that once froze the app must not come back with the pinned jaxlib.

On CPU, jaxlib 0.10.2 and earlier ran batched LAPACK custom calls through
``ParallelBatchMap`` on XLA's intra-op pool; two such calls at once (two independent
calls in one program, or one call on each of two devices) waited for each other's
batch tasks and the process hung with its CPUs idle. Each case runs in its own process
and must finish within :data:`TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

TIMEOUT_SECONDS = 120

TWO_CALLS_IN_ONE_PROGRAM = """
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
A = jnp.broadcast_to(jnp.eye(32) * 2.0 + 0.01, (64, 32, 32))

@jax.jit
def run(A, B):
    def body(i, ab):
        a, b = ab
        La, Lb = jnp.linalg.cholesky(a), jnp.linalg.cholesky(b)  # two independent batched calls
        return a + 1e-6 * La @ La.mT, b + 1e-6 * Lb @ Lb.mT
    return jax.lax.fori_loop(0, 20, body, (A, B))

jax.block_until_ready(run(A, 1.5 * A))
print("finished")
"""

ONE_CALL_ON_EACH_OF_TWO_DEVICES = """
import jax, jax.numpy as jnp, numpy as np
jax.config.update("jax_num_cpu_devices", 2)
jax.config.update("jax_enable_x64", True)
from jax.sharding import Mesh, PartitionSpec as P
mesh = Mesh(np.array(jax.devices()), ("d",))
A = jnp.broadcast_to(jnp.eye(32) * 2.0 + 0.01, (128, 32, 32))
EYE = jnp.broadcast_to(jnp.eye(32), (64, 32, 32))

@jax.jit
@jax.shard_map(mesh=mesh, in_specs=P("d"), out_specs=P("d"))
def run(a):
    def body(i, a):
        L = jnp.linalg.cholesky(a)  # a batched potrf and trsm on each device at once
        inverse = jax.scipy.linalg.solve_triangular(L, EYE, lower=True)
        return a + 1e-6 * L @ L.mT + 1e-9 * inverse
    return jax.lax.fori_loop(0, 20, body, a)

jax.block_until_ready(run(A))
print("finished")
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "script", [TWO_CALLS_IN_ONE_PROGRAM, ONE_CALL_ON_EACH_OF_TWO_DEVICES], ids=["one", "two"]
)
def test_concurrent_batched_lapack_calls_finish(script: str) -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung for {TIMEOUT_SECONDS} s: the jaxlib LAPACK deadlock is back")
    assert done.returncode == 0 and "finished" in done.stdout, done.stderr[-1000:]
