"""What running sweeps on worker processes costs: latency per warm sweep and memory.

Run from the repository root: ``python docs/measure_sweep_workers.py``. It times the
app's default sweep (four_blobs, 2,000 points, K = 1..6, 8 restarts, 64 snapshots)
warm with a progress callback, as the app runs it, in this process and on a worker
(median of 10 each), and prints the resident
memory of one idle worker after that sweep.
"""

from __future__ import annotations

import statistics
import time

import psutil

import gmm_core
from gmm_app.sweep_workers import WorkerPool
from gmm_core.compilation_cache import enable_compilation_cache
from gmm_core.cpu_devices import use_cpu_cores

OPTIONS = dict(k_min=1, k_max=6, n_restarts=8, seed=0, snapshots=64)


def median_seconds(run, repeats: int = 10) -> float:
    run()  # compile or load
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    use_cpu_cores()
    enable_compilation_cache()
    X, _ = gmm_core.PRESETS["four_blobs"].sample(n=2000, seed=0)
    local = median_seconds(lambda: gmm_core.sweep(X, progress=lambda _: None, **OPTIONS))
    pool = WorkerPool(1)
    try:
        remote = median_seconds(lambda: pool.run(X, OPTIONS, deadline_after=300))
        rss = psutil.Process(pool.workers[0].pid).memory_info().rss
    finally:
        pool.close()
    print(f"warm default sweep, in process: {local * 1e3:.1f} ms (median of 10)")
    print(f"warm default sweep, on a worker: {remote * 1e3:.1f} ms (median of 10)")
    print(
        f"cost per sweep: {(remote - local) * 1e3:+.1f} ms; one worker's memory: "
        f"{rss / 2**20:.0f} MiB resident"
    )


if __name__ == "__main__":
    main()
