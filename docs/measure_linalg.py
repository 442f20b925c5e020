"""gmm_core's hand-written Cholesky / triangular inverse against LAPACK, inside the sweep.

Run from the repository root: ``python docs/measure_linalg.py`` (all workloads) or
``python docs/measure_linalg.py D32 --repeats 3``. In one process with one CPU device
per core and no persistent cache, it compiles the sweep twice per workload, once with
:mod:`gmm_core.linalg` and once with ``jnp.linalg.cholesky`` +
``jax.scipy.linalg.solve_triangular`` (LAPACK custom calls), then alternates warm runs
of the two and prints each one's compile seconds, best warm seconds and the largest
relative difference of the final log-likelihoods. Every fit runs ``max_iter`` iterations
(``tol=0``). On a shared machine take the best of several repeats.
"""

from __future__ import annotations

import argparse
import time

from gmm_core.cpu_devices import use_cpu_cores

use_cpu_cores()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.scipy.linalg  # noqa: E402
import numpy as np  # noqa: E402

from gmm_core import linalg, program, sweep  # noqa: E402
from gmm_core.bench import blobs  # noqa: E402


def lapack_triangular_inverse(factors: jax.Array) -> jax.Array:
    """(..., D, D) L⁻¹ by LAPACK's triangular solve."""
    identity = jnp.broadcast_to(jnp.eye(factors.shape[-1], dtype=factors.dtype), factors.shape)
    return jax.scipy.linalg.solve_triangular(factors, identity, lower=True)


WAYS = {
    "hand-written": (linalg.cholesky, linalg.lower_triangular_inverse),
    "LAPACK": (jnp.linalg.cholesky, lapack_triangular_inverse),
}
#: name: (points, D, K min, K max, restarts, iterations); covariance "full"
WORKLOADS = {
    "D2": (2_000, 2, 1, 6, 8, 100),
    "D10": (20_000, 10, 1, 8, 4, 50),
    "D32": (20_000, 32, 16, 16, 2, 50),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"devices: {len(jax.devices())}")
    for name in args.workloads:
        n, d, k_min, k_max, restarts, max_iter = WORKLOADS[name]
        X = blobs(n, d)
        caches = {way: program._ProgramCache(4) for way in WAYS}
        compile_seconds, best, final = {}, dict.fromkeys(WAYS, float("inf")), {}
        for repeat in range(args.repeats + 1):
            for way, (cholesky, inverse) in WAYS.items():
                linalg.cholesky, linalg.lower_triangular_inverse = cholesky, inverse
                program.PROGRAMS = caches[way]  # run_program looks it up at each call
                started = time.perf_counter()
                result = sweep(X, k_min, k_max, restarts, seed=1, max_iter=max_iter, tol=0.0)
                if repeat == 0:
                    compile_seconds[way] = result.compile_seconds
                else:
                    best[way] = min(best[way], time.perf_counter() - started)
                final[way] = result.final_log_likelihood
        hand, lapack = final.values()
        gap = float(np.max(np.abs(hand - lapack) / np.abs(hand)))
        print(
            f"{name} ({n:,} × {d}, K {k_min}..{k_max}, {restarts} restarts, {max_iter} it): "
            + "; ".join(
                f"{way} compile {compile_seconds[way]:.1f} s, warm {best[way]:.3f} s"
                for way in WAYS
            )
            + f"; largest relative log-likelihood gap {gap:.1e}",
            flush=True,
        )


if __name__ == "__main__":
    main()
