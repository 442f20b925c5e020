"""gmm_core's sweep as a library user calls it: no flags, workloads of ``gmm_core.bench``.

Run from the repository root: ``python docs/measure_library_default.py a b c`` (JAX's
default: one CPU device) and again with ``--devices 0`` (one CPU device per core, as the
app asks for with :func:`gmm_core.cpu_devices.use_cpu_cores`). Prints per workload the
compile seconds, the best warm wall seconds of ``--repeats`` runs, and the process
CPU seconds of that run.
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

from gmm_core.bench import WORKLOADS, Workload, blobs, run_workload
from gmm_core.cpu_devices import use_cpu_cores


def timed(workload: Workload, X: np.ndarray, seed: int) -> tuple[float, float, float]:
    """(wall s, CPU s, compile s) of one sweep."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run_workload(workload, X, seed)
    return time.perf_counter() - wall, time.process_time() - cpu, result.compile_seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workloads", nargs="*", default=["a", "b", "c"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--devices", type=int, help="CPU devices to ask for; 0: one per core")
    args = parser.parse_args()
    if args.devices is not None:
        use_cpu_cores(args.devices or None)
    print(f"devices: {len(jax.devices())}")
    for name in args.workloads:
        workload = WORKLOADS[name]
        X = blobs(workload.n_samples, workload.n_features)
        compile_seconds = timed(workload, X, seed=0)[2]
        runs = sorted(timed(workload, X, seed=1)[:2] for _ in range(args.repeats))
        walls = ", ".join(f"{wall:.3f}" for wall, _ in runs)
        print(
            f"({name}) compile {compile_seconds:6.2f} s | warm wall s [{walls}] "
            f"| CPU s of best {runs[0][1]:.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
